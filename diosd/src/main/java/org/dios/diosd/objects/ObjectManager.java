package org.dios.diosd.objects;

import java.util.HashMap;

import org.dios.abi.Abi;


/**
 * The name tables and the life cycle of objects and references. One instance
 * per daemon, used only by the conductor thread, so nothing here locks.
 *
 * <p>Anonymous objects never touch a name table (seed section 3.5.5): they
 * cost an id and a reference-table slot.
 *
 * <p>Names are scoped by groups (BRIEF section 3): every name is bound in one
 * table. Each uid has a <em>default group</em> ({@link #userGroup}), made at
 * its first task and kept by the daemon: a task that connects by itself
 * belongs to it (first) and creates and looks up there, so a deterministic
 * name one user binds is invisible to every other user. The <em>public</em>
 * table is shared by every task that connects by itself, whatever its uid,
 * and is reached only on request (D_CREATE_PUBLIC, D_LOOKUP_PUBLIC). Each
 * {@link GroupObject} has its own table; the <em>well-known</em> table (the
 * console, executables: names the daemon makes) resolves for every task. A
 * lookup tries the caller's groups in order, then the well-known names: a
 * task that belongs only to its uid's group (nearly all) pays one hash lookup.
 */
public final class ObjectManager {
    private final HashMap<Name, DObject> names = new HashMap<>();
    /** Names every task resolves whatever its groups: the console and executables. */
    private final HashMap<Name, DObject> wellKnown = new HashMap<>();
    /** Each uid's default group, made at its first use and never freed (not counted as an object). */
    private final HashMap<Integer, GroupObject> userGroups = new HashMap<>();
    private final NameGenerator nameGenerator = new NameGenerator();
    public final Stats stats;
    private long nextObjectId = 1;
    /**
     * Live objects of each type, oldest first: a doubly linked list through
     * the objects themselves (DObject.prevLive/nextLive), so adopting and
     * freeing cost a few stores and no allocation, and listings and per-type
     * counts need no scan of the reference tables.
     */
    private final DObject[] first = new DObject[Abi.D_OBJ_LAST];
    private final DObject[] last = new DObject[Abi.D_OBJ_LAST];
    /** Completes parked calls when an object's state changes (set by the dispatcher). */
    public Completer waker;
    /** Per-user quotas: objects, names and bytes are charged to their creator's uid. */
    public final Quotas quotas;

    public ObjectManager(Stats stats) {
        this(stats, Quotas.unlimited());
    }

    public ObjectManager(Stats stats, Quotas quotas) {
        this.stats = stats;
        this.quotas = quotas;
    }

    /**
     * Charges a new object, made by a task of a (null: not charged), to the
     * quotas checked before it was made ({@link #quotaCheck}): one object, and
     * bytes of a kind (0: none). Its name, if it gets one, is charged by bind.
     */
    public void charge(DObject o, Quotas.Account a, int bytesKind, long bytes) {
        if (a == null) return;
        o.account = a;
        quotas.force(a, Quotas.OBJECTS, 1);
        if (o.type == Abi.D_OBJ_FIFO) quotas.force(a, Quotas.FIFOS, 1);
        if (o.type == Abi.D_OBJ_BLOB) quotas.force(a, Quotas.BLOBS, 1);
        if (bytes > 0) {
            o.quotaBytesKind = bytesKind;
            o.quotaBytes = bytes;
            quotas.force(a, bytesKind, bytes);
        }
    }

    /**
     * 0 if account a may make one more object of type, named or not, of
     * bytes of bytesKind; else the quota's -EDQUOT.
     */
    public int quotaCheck(Quotas.Account a, int type, boolean named, int bytesKind, long bytes) {
        if (!quotas.allows(a, Quotas.OBJECTS, 1)) return quotas.refuse(Quotas.OBJECTS);
        if (named && !quotas.allows(a, Quotas.NAMES, 1)) return quotas.refuse(Quotas.NAMES);
        if (type == Abi.D_OBJ_FIFO && !quotas.allows(a, Quotas.FIFOS, 1)) return quotas.refuse(Quotas.FIFOS);
        if (type == Abi.D_OBJ_BLOB && !quotas.allows(a, Quotas.BLOBS, 1)) return quotas.refuse(Quotas.BLOBS);
        if (bytes > 0 && !quotas.allows(a, bytesKind, bytes)) return quotas.refuse(bytesKind);
        return 0;
    }

    /** o's bytes grow from its charge to bytes (a blob's file): 0, or -EDQUOT and nothing changes. */
    public int chargeBytes(DObject o, int bytesKind, long bytes) {
        if (o.account == null || bytes <= o.quotaBytes) return 0;
        int rc = quotas.charge(o.account, bytesKind, bytes - o.quotaBytes);
        if (rc < 0) return rc;
        o.quotaBytesKind = bytesKind;
        o.quotaBytes = bytes;
        return 0;
    }

    /** Gives back what o was charged (it is freed); once. */
    private void releaseQuota(DObject o) {
        Quotas.Account a = o.account;
        if (a == null) return;
        o.account = null;
        quotas.release(a, Quotas.OBJECTS, 1);
        if (o.type == Abi.D_OBJ_FIFO) quotas.release(a, Quotas.FIFOS, 1);
        if (o.type == Abi.D_OBJ_BLOB) quotas.release(a, Quotas.BLOBS, 1);
        if (o.quotaBytes > 0) quotas.release(a, o.quotaBytesKind, o.quotaBytes);
        o.quotaBytes = 0;
    }

    public long newObjectId() {
        return nextObjectId++;
    }

    /** The object bound to name in the public group (durable blobs live there), or null. */
    public DObject resolve(Name name) {
        return names.get(name);
    }

    /**
     * The object name resolves to for task s: its groups in order, then the
     * well-known names. A session in no group at all (the start-up warm-up)
     * has the public group as its default, and looks there first.
     */
    public DObject resolve(Name name, TaskSession s) {
        DObject o;
        if (s.defaultGroup == null && s.publicMember && (o = names.get(name)) != null) return o;
        for (GroupObject g : s.groups) {
            if (!g.isZombie() && (o = g.names.get(name)) != null) return o;
        }
        return wellKnown.get(name);
    }

    /** The object name resolves to in the public group (D_LOOKUP_PUBLIC), then the well-known names. */
    public DObject resolvePublic(Name name) {
        DObject o = names.get(name);
        return o != null ? o : wellKnown.get(name);
    }

    /** The table a task's names go to by default: its first group's (its uid's, unless dios_run chose), or the public one. */
    public HashMap<Name, DObject> defaultTable(TaskSession s) {
        return s.defaultGroup == null ? names : s.defaultGroup.names;
    }

    /** The public group's table (D_CREATE_PUBLIC, D_LOOKUP_PUBLIC). */
    public HashMap<Name, DObject> publicTable() {
        return names;
    }

    /**
     * uid's default group, made at the first call: the daemon holds its one
     * count for good, so it never dies and is no object of the listings or
     * counts (its names are: {@link #someNames}).
     */
    public GroupObject userGroup(int uid) {
        GroupObject g = userGroups.get(uid);
        if (g == null) {
            g = new GroupObject(newObjectId(), 0);
            userGroups.put(uid, g);
        }
        return g;
    }

    /**
     * A task that connected by itself joins its uid's default group, first of
     * its groups, and makes it its default: where its names go and are looked
     * up. Its count is given back with the task's other groups when it ends.
     */
    public void joinUserGroup(TaskSession s) {
        GroupObject own = userGroup(s.uid);
        if (!s.groups.contains(own) && own.tryRetain()) s.groups.add(0, own);
        s.defaultGroup = s.groups.get(0);
    }

    /** Binds o under a well-known name (the console, executables); false if taken. */
    public boolean bindWellKnown(Name n, DObject o) {
        return bind(n, o, wellKnown);
    }

    public DObject resolveWellKnown(Name n) {
        return wellKnown.get(n);
    }

    /** Names bound in every table: the public group, the well-known names, every uid's and every group's. */
    public int nameCount() {
        return (int) stats.names;
    }

    /** Binds a fresh random name to o in the public group. */
    public Name bindRandom(DObject o) {
        return bindRandom(o, names);
    }

    /** Binds a fresh random name to o in table. */
    public Name bindRandom(DObject o, HashMap<Name, DObject> table) {
        Name n;
        do {
            n = nameGenerator.next();
        } while (table.containsKey(n) || wellKnown.containsKey(n));
        bind(n, o, table);
        return n;
    }

    /** Binds name to o in the public group; false if it is already bound there. */
    public boolean bind(Name n, DObject o) {
        return bind(n, o, names);
    }

    public boolean bind(Name n, DObject o, HashMap<Name, DObject> table) {
        if (table.putIfAbsent(n, o) != null) return false;
        o.name = n;
        o.table = table;
        stats.names++;
        quotas.force(o.account, Quotas.NAMES, 1); // checked by the create (quotaCheck)
        return true;
    }

    void unbind(DObject o) {
        if (o.name != null && o.table != null && o.table.remove(o.name, o)) {
            stats.names--;
            quotas.release(o.account, Quotas.NAMES, 1);
        }
        o.table = null;
    }

    /** A group died: its names no longer resolve (their objects live on, unnamed). */
    private void unbindAll(DObject group) {
        HashMap<Name, DObject> names = group.scopedNames();
        for (DObject o : names.values()) {
            o.name = null;
            o.table = null;
            stats.names--;
            quotas.release(o.account, Quotas.NAMES, 1);
        }
        names.clear();
    }

    /** Registers a newly made object (count 1, for the reference the caller adds next). */
    public void adopt(DObject o) {
        stats.objects++;
        stats.objectsByType[o.type]++;
        DObject tail = last[o.type];
        o.prevLive = tail;
        o.nextLive = null;
        if (tail == null) first[o.type] = o;
        else tail.nextLive = o;
        last[o.type] = o;
        o.listed = true;
    }

    private void unlist(DObject o) {
        if (!o.listed) return;
        o.listed = false;
        if (o.prevLive == null) first[o.type] = o.nextLive;
        else o.prevLive.nextLive = o.nextLive;
        if (o.nextLive == null) last[o.type] = o.prevLive;
        else o.nextLive.prevLive = o.prevLive;
        o.prevLive = o.nextLive = null;
        stats.objectsByType[o.type]--;
    }

    /** The oldest live object of a D_OBJ_* type (follow {@link DObject#nextLive}), or null. */
    public DObject firstOfType(int type) {
        return first[type];
    }

    /**
     * Bytes written into FIFOs so far: the writers' tails of live FIFOs plus
     * those of freed ones (hints, read from the control pages; see FifoObject).
     */
    public long fifoBytesWritten() {
        long n = stats.fifoBytesRetired;
        for (DObject o = first[Abi.D_OBJ_FIFO]; o != null; o = o.nextLive) {
            if (!o.isFreed()) n += ((FifoObject) o).bytesWrittenHint(); // a zombie's were retired when it was freed
        }
        return n;
    }

    /** Up to limit bound names with their objects: public, well known, then each group's (arbitrary order within); stops early. */
    public java.util.List<java.util.Map.Entry<Name, DObject>> someNames(int limit) {
        java.util.List<java.util.Map.Entry<Name, DObject>> out = new java.util.ArrayList<>(Math.min(limit, (int) stats.names));
        java.util.ArrayList<HashMap<Name, DObject>> tables = new java.util.ArrayList<>();
        tables.add(names);
        tables.add(wellKnown);
        for (GroupObject g : userGroups.values()) tables.add(g.names);
        for (DObject g = first[Abi.D_OBJ_GROUP]; g != null; g = g.nextLive) tables.add(g.scopedNames());
        for (HashMap<Name, DObject> t : tables) {
            for (var e : t.entrySet()) {
                if (out.size() >= limit) return out;
                out.add(java.util.Map.entry(e.getKey(), e.getValue()));
            }
        }
        return out;
    }

    /** Visits every live object of a type, oldest (lowest id) first. */
    public void forEachOfType(int type, java.util.function.Consumer<DObject> f) {
        for (DObject o = first[type]; o != null; o = o.nextLive) f.accept(o);
    }

    /**
     * Adds a reference to o in task s for an object whose count already
     * includes it (fresh objects, or after {@link DObject#tryRetain()}).
     * Returns the reference id, or 0 if the task's table is full (the count is
     * then given back).
     */
    public long addReference(TaskSession s, DObject o, int perms) {
        Reference r = new Reference(o, perms);
        long id = s.refs.add(r);
        if (id == 0) {
            dropCount(o);
            return 0;
        }
        r.id = id;
        s.hold(o);
        stats.refs++;
        o.referenceAdded(r);
        return id;
    }

    /**
     * Removes reference r from task s with its buffers. Returns the segment
     * ids the task should unmap (it holds no other reference to the object
     * and was sent them): none, or up to two.
     */
    public long[] removeReference(TaskSession s, Reference r) {
        if (s.refs.remove(r.id) == null) return DObject.NO_SEGMENTS;
        r.live = false;
        stats.refs--;
        DObject o = r.object;
        if (r.buffers > 0) {
            java.util.ArrayList<Buffer> gone = new java.util.ArrayList<>(r.buffers);
            s.buffers.forEach(b -> {
                if (b.ref == r) gone.add(b);
            });
            r.buffers = 0;
            // Removed first, then told: a release may hand a buffer to a call waiting in this very task.
            for (Buffer b : gone) {
                s.buffers.remove(b.id);
                stats.buffers--;
            }
            for (Buffer b : gone) o.released(s, b, waker);
        }
        long[] unmap = DObject.NO_SEGMENTS;
        if (s.unhold(o) == 0) {
            long[] segs = o.segmentIds(s);
            long[] sent = new long[segs.length];
            int n = 0;
            for (long seg : segs) if (s.delivered.remove(seg) != null) sent[n++] = seg;
            if (n > 0) unmap = java.util.Arrays.copyOf(sent, n);
        }
        if (waker != null) o.referenceRemoved(r, waker);
        dropCount(o);
        return unmap;
    }

    private void dropCount(DObject o) {
        if (o.release()) {
            unbind(o);
            if (o.scopedNames() != null) unbindAll(o);
            o.free(stats);
            releaseQuota(o);
            stats.objects--;
            unlist(o);
        }
    }

    /** Kills o for every holder: unbound, resources freed; references stay and see -EIDRM. */
    public void zombify(DObject o) {
        if (o.isZombie()) return;
        o.markZombie();
        if (waker != null) o.zombified(waker);
        unbind(o);
        if (o.scopedNames() != null) unbindAll(o);
        o.free(stats);
        releaseQuota(o);
        // A durable blob's name held a count (its pin): unbound now, so that count goes too.
        if (o.unpin()) dropCount(o);
    }

    /** Gives back one count of o taken without a reference (group membership, pending delegations). */
    public void releaseCount(DObject o) {
        dropCount(o);
    }

    /** Releases everything task s holds (it exited, crashed or was disconnected). */
    public void releaseAll(TaskSession s) {
        java.util.ArrayList<Reference> all = new java.util.ArrayList<>(s.refs.size());
        s.refs.forEach(all::add);
        for (Reference r : all) removeReference(s, r);
        s.delivered.clear();
    }
}

package org.dios.diosd.objects;


/**
 * A DIOS object: metadata common to every type plus a reference count.
 *
 * <p>Reference counting follows the seed (section 3.5.4): the count starts at
 * one for the creating reference, {@link #tryRetain()} is increment-not-zero
 * (a dying object cannot be resurrected by a racing lookup), and the object is
 * freed when {@link #release()} drops the count to zero. A zombie keeps its
 * metadata but every operation on it fails with -EIDRM.
 */
public abstract class DObject implements ObjectDriver {
    public final long id;
    public final int type;
    /** Task id of the creator. */
    public final long ownerTask;
    Name name;
    /** The name table name is bound in (ObjectManager), or null. */
    java.util.HashMap<Name, DObject> table;
    private int refCount = 1;
    /*
     * How many references each task holds, to know when a task's last one
     * goes (it may then unmap the object's segment).  Nearly every object is
     * held by one task, so that task's count lives here; a map appears only
     * for objects shared by several tasks.  (A per-task map of objects cost
     * a cache miss per call once a task held a million references.)
     */
    private long soloTask = -1;
    private int soloCount;
    private java.util.HashMap<Long, int[]> otherHolders;
    private boolean zombie;
    private boolean freed;
    /** Calls parked on this object (lazily pruned: completed ones are dropped when next seen). */
    private java.util.ArrayList<ParkedCall.Wait> waiters;
    private int pruneAt = 16;
    /** Neighbours in ObjectManager's list of live objects of this type (in id order). */
    public DObject prevLive, nextLive;
    boolean listed;
    /** The uid whose quotas this object is charged to (Quotas), or null: not charged. */
    Quotas.Account account;
    /** Bytes charged to account under quotaBytesKind (MEMORY_BYTES or BLOB_BYTES), 0 if none. */
    long quotaBytes;
    int quotaBytesKind;

    protected DObject(long id, int type, long ownerTask) {
        this.id = id;
        this.type = type;
        this.ownerTask = ownerTask;
    }

    public Name name() {
        return name;
    }

    public int refCount() {
        return refCount;
    }

    public boolean isZombie() {
        return zombie;
    }

    public boolean isFreed() {
        return freed;
    }

    /** Counts one more reference of task. Each task's count lives in exactly one place. */
    void hold(long task) {
        if (soloTask == task) {
            soloCount++;
            return;
        }
        int[] c = otherHolders == null ? null : otherHolders.get(task);
        if (c != null) {
            c[0]++;
        } else if (soloCount == 0) {
            soloTask = task;
            soloCount = 1;
        } else {
            if (otherHolders == null) otherHolders = new java.util.HashMap<>();
            otherHolders.put(task, new int[] {1});
        }
    }

    /** Returns the references task still holds after dropping one. */
    int unhold(long task) {
        if (soloTask == task && soloCount > 0) return --soloCount;
        if (otherHolders == null) return 0;
        int[] c = otherHolders.get(task);
        if (c == null) return 0;
        if (--c[0] == 0) {
            otherHolders.remove(task);
            return 0;
        }
        return c[0];
    }

    /** Increment-not-zero: false if the object is already going away. */
    public boolean tryRetain() {
        if (refCount == 0 || freed) return false;
        refCount++;
        return true;
    }

    /** Drops one reference; returns true if that was the last and the object must be freed. */
    boolean release() {
        if (refCount <= 0) throw new IllegalStateException("release of object " + id + " with count " + refCount);
        return --refCount == 0;
    }

    void markZombie() {
        zombie = true;
    }

    /** Frees type-specific resources. Called once, when the count reaches zero or at zombification. */
    void free(Stats stats) {
        if (!freed) {
            freed = true;
            freeResources(stats);
        }
    }

    protected abstract void freeResources(Stats stats);

    /** A reference to this object was added (ObjectManager.addReference). */
    void referenceAdded(Reference r) {
    }

    /**
     * A delegation to a task that has not registered yet was added (delta 1)
     * or ended (delta -1: turned into a reference, with d null, or dropped).
     * It counts as a reference would: a FIFO end it could take is not gone.
     */
    public void pendingChanged(int perms, int delta, Completer c) {
    }

    /** A reference to this object was removed; the object may still be live. */
    void referenceRemoved(Reference r, Completer c) {
    }

    /** The object was zombified; complete what waits on it. */
    void zombified(Completer c) {
        wakeWaiters(c);
    }

    /** Registers a parked call (not a select) waiting through its reference, to be re-checked by {@link #wakeWaiters}. */
    void addWaiter(ParkedCall pc) {
        addWaiter(new ParkedCall.Wait(pc));
    }

    /** Registers w (a select registers once per object: ParkedCall.register). */
    void addWaiter(ParkedCall.Wait w) {
        if (waiters == null) waiters = new java.util.ArrayList<>(2);
        if (waiters.size() >= pruneAt) {
            waiters.removeIf(x -> x.call().done);
            pruneAt = Math.max(16, waiters.size() * 2);
        }
        waiters.add(w);
        waitersChanged();
    }

    /**
     * Completes every waiter that can complete now; work is proportional to
     * this object's waiters, never to all parked calls.
     */
    void wakeWaiters(Completer c) {
        if (waiters == null || waiters.isEmpty()) return;
        java.util.ArrayList<ParkedCall.Wait> ws = waiters;
        waiters = null; // completions may register new waiters meanwhile
        java.util.ArrayList<ParkedCall.Wait> keep = null;
        long checks = 0;
        for (ParkedCall.Wait w : ws) {
            if (w.call().done) continue;
            checks += w.count();
            if (!w.tryComplete(c)) {
                if (keep == null) keep = new java.util.ArrayList<>(ws.size());
                keep.add(w);
            }
        }
        if (keep != null) {
            if (waiters != null) keep.addAll(waiters);
            waiters = keep;
        }
        c.waitersChecked(checks);
        waitersChanged();
    }

    /**
     * pc (done) no longer waits here: drop its registrations now, with any
     * other completed ones, instead of lazily (a timed-out call). Types
     * that keep calls of their own elsewhere (the console's reads) drop them too;
     * types whose waiters queue behind one another (exclusive writers) let
     * the next one go with c.
     */
    void withdraw(ParkedCall pc, Completer c) {
        if (waiters == null) return;
        waiters.removeIf(w -> w.call() == pc || w.call().done);
        pruneAt = Math.max(16, waiters.size() * 2);
        waitersChanged();
    }

    /** Registrations of parked calls on this object, completed ones not yet pruned included (tests, diagnostics). */
    public int waiterRegistrations() {
        return waiters == null ? 0 : waiters.size();
    }

    /** True if a call still waits on this object (one not completed yet). */
    final boolean anyLiveWaiter() {
        if (waiters == null) return false;
        for (ParkedCall.Wait w : waiters) if (!w.call().done) return true;
        return false;
    }

    /** Live waiters, for types that publish who waits (FIFO control page). */
    final void forEachLiveWaiter(java.util.function.Consumer<ParkedCall.Wait> f) {
        if (waiters == null) return;
        for (ParkedCall.Wait w : waiters) if (!w.call().done) f.accept(w);
    }

    /** Called after the waiter list changed. */
    void waitersChanged() {
    }

    /** Segments a task may have mapped (for D_CQE_F_UNMAP when its last reference goes). */
    long[] segmentIds(TaskSession s) {
        return NO_SEGMENTS;
    }

    static final long[] NO_SEGMENTS = new long[0];

    /** The type's name from the type table ("fifo", "shmem" ...). */
    public String typeName() {
        return ObjectType.name(type);
    }
}

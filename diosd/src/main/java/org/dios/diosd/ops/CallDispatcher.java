package org.dios.diosd.ops;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;

import org.dios.abi.ExeFdMessageDescriptor;
import org.dios.abi.RunArgsDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.log.Log;
import org.dios.diosd.objects.BlobStore;
import org.dios.diosd.objects.Buffer;
import org.dios.diosd.objects.Call;
import org.dios.diosd.objects.Completer;
import org.dios.diosd.objects.ConsoleObject;
import org.dios.diosd.objects.CreateRequest;
import org.dios.diosd.objects.DObject;
import org.dios.diosd.objects.Deadlines;
import org.dios.diosd.objects.ExeObject;
import org.dios.diosd.objects.GroupObject;
import org.dios.diosd.objects.Limits;
import org.dios.diosd.objects.Name;
import org.dios.diosd.objects.ObjectDriver;
import org.dios.diosd.objects.ObjectManager;
import org.dios.diosd.objects.ObjectType;
import org.dios.diosd.objects.ParkedCall;
import org.dios.diosd.objects.Quotas;
import org.dios.diosd.objects.Reference;
import org.dios.diosd.objects.Stats;
import org.dios.diosd.objects.TaskSession;
import org.dios.diosd.sys.LibC;
import org.dios.diosd.sys.UnixSocket;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.dios.abi.Abi.*;

/**
 * Decodes one submission from a task's ring, checks it, hands it to the
 * object's driver, and encodes its completion. The op comes from the op table
 * ({@link Op}): an unknown op gets -ENOSYS, flags the op does not accept
 * -EINVAL. What an operation does to an object is its driver's
 * ({@link ObjectDriver}): the dispatcher never asks an object's class.
 *
 * <p>Every field is read from shared memory exactly once into a local and
 * checked before use: the task can rewrite its ring at any moment.
 *
 * <p>A call that must wait (a console read with no input, dios_wait on a
 * running task, a select with nothing ready, a spawn) is <em>parked</em>: it
 * gets no completion now, and the object it waits on completes it later
 * through the {@link Completer} this dispatcher is. The daemon never blocks.
 */
public final class CallDispatcher implements Completer {
    /** execute()'s answer for a call parked for later (no completion now). */
    public static final int PARKED = Call.PARKED;

    /** Select registrations one task's parked selects may hold (-ENOMEM beyond). */
    static final int MAX_SELECT_REGISTRATIONS = 4 * DIOS_MAX_SELECT_REFS;

    /** Starts a task for dios_run (the task launcher); answers PARKED or -errno. */
    @FunctionalInterface
    public interface TaskSpawner {
        /** env: the child's environment as the parent sent it (D_RUN_ENV), or null (an older shim sent none). */
        int spawn(TaskSession parent, long userData, ExeObject exe, String[] argv, String[] env, Reference[] refs,
                  GroupObject[] groups, boolean seccompKill);
    }

    private final ObjectManager objects;
    private final Stats stats;
    private final CallStats perCall;
    private final Limits limits;
    private final TaskSpawner tasks;
    /** The call being served (one, reused: serving a call allocates nothing here). */
    private final Call call;
    /** Parked calls with a deadline (D_TIMEOUT), earliest first. */
    private final Deadlines deadlines = new Deadlines();
    /** Set for a NOTIFY that asked for no completion. */
    private boolean noCqe;
    /** Blob files and the journal; null in a daemon without a state directory (unit tests): no blobs. */
    private BlobStore blobs;

    /**
     * tasks starts the processes of dios_run; tty watches a task's terminal
     * while console calls wait on it.
     */
    public CallDispatcher(ObjectManager objects, Stats stats, Limits limits, TaskSpawner tasks, Call.TtyWatcher tty) {
        this.objects = objects;
        this.stats = stats;
        this.perCall = new CallStats();
        this.limits = limits;
        this.tasks = tasks;
        this.call = new Call(objects, stats, limits, tty, deadlines);
        objects.waker = this;
    }

    /** Per op: calls, errors by errno, service times; ring drain sizes (the conductor's loop and trace add theirs). */
    public CallStats callStats() {
        return perCall;
    }

    /** val[i] of the completion {@link #execute} wrote last (for CallTrace). */
    public long resultValue(int i) {
        return call.val[i];
    }

    /** Enables D_OBJ_BLOB; called once the store's durable blobs are attached. */
    public void blobs(BlobStore store) {
        this.blobs = store;
    }

    /** True if some parked call has a deadline; then {@link #nextDeadline()} says when the first is. */
    public boolean hasDeadlines() {
        return !deadlines.isEmpty();
    }

    /** The earliest deadline of a parked call (System.nanoTime() scale); only if {@link #hasDeadlines()}. */
    public long nextDeadline() {
        return deadlines.next();
    }

    /** Completes the parked calls whose deadline is at or before now with -ETIMEDOUT; returns how many. */
    public int expireDeadlines(long now) {
        return deadlines.expire(now, this);
    }

    /** True if s may park one more call (--max-parked-calls); the launcher asks before a spawn. */
    public boolean mayPark(TaskSession s) {
        return s.mayPark(limits.maxParked());
    }

    /**
     * Runs the SQE at sqeOff in s's region and writes its completion at the
     * task's cq_tail. Returns the call's result, or {@link #PARKED} if it was
     * parked (no completion yet).
     */
    public int execute(TaskSession s, long sqeOff) {
        MemorySegment r = s.region;
        int opcode = r.get(JAVA_BYTE, sqeOff + SqeDescriptor.OPCODE_OFFSET) & 0xff;
        long userData = r.get(JAVA_LONG, sqeOff + SqeDescriptor.USER_DATA_OFFSET);
        Call c = call;
        c.reset(s, userData, opcode);
        // Decided from this entry alone, first: a NO_CQE notify never gets a completion,
        // whatever else is wrong with it (the shim does not wait for one, and a stray
        // completion would make it drop its connection).
        int sqeFlags = r.get(JAVA_BYTE, sqeOff + SqeDescriptor.SQE_FLAGS_OFFSET) & 0xff;
        Op op = Op.of(opcode);
        noCqe = op != null && op.noCqe() && sqeFlags == D_SQE_NO_CQE;
        int res;
        if (r.get(JAVA_SHORT, sqeOff + SqeDescriptor.RSVD0_OFFSET) != 0) {
            res = -DIOS_EINVAL; // a reserved field of the first cache line
        } else {
            res = dispatch(c, op, r, sqeOff, sqeFlags);
        }
        stats.calls++;
        int slot = CallStats.slot(opcode);
        perCall.called(slot);
        if (res == PARKED) {
            if (!op.mayPark()) throw new IllegalStateException(op.name() + " parked, but the op table says it never parks");
            return res;
        }
        if (res < 0) perCall.failed(slot, res);
        if (res == -DIOS_ENOMEM) c.explainNoMemory();
        if (res == -DIOS_EDQUOT) c.explainQuota(objects.quotas);
        if (noCqe) return res; // the sender does not wait for it
        s.writeCqe(userData, res, c.cqeFlags, c.val);
        if (res < 0 && Log.enabled(Log.Level.DEBUG)) {
            Log.debug(s + " " + Op.name(opcode) + " -> " + res);
        }
        return res;
    }

    /*
     * Reserved fields of the SQE's first cache line must be zero: rsvd0, and
     * timeout_ns unless D_TIMEOUT is given (dispatch). The second line (name,
     * rsvd3) is read, and its reserved words checked, only by the ops that
     * carry a name, so a null call moves one line, not two.
     */

    private static boolean nameLineReservedZero(MemorySegment r, long off) {
        for (int i = 0; i < 4; i++) if (r.get(JAVA_LONG, off + SqeDescriptor.RSVD3_OFFSET + 8L * i) != 0) return false;
        return true;
    }

    private int dispatch(Call c, Op op, MemorySegment r, long off, int sqeFlags) {
        if ((sqeFlags & D_SQE_NO_CQE) != 0 && (op == null || !op.noCqe())) return -DIOS_EINVAL;
        if (op == null) return -DIOS_ENOSYS;
        long flags = r.get(JAVA_LONG, off + SqeDescriptor.FLAGS_OFFSET);
        if ((flags & ~op.flags()) != 0) return -DIOS_EINVAL; // D_TIMEOUT only where the op may wait
        long timeout = r.get(JAVA_LONG, off + SqeDescriptor.TIMEOUT_NS_OFFSET);
        if ((flags & D_TIMEOUT) != 0) {
            c.timeout(timeout);
        } else if (timeout != 0) {
            return -DIOS_EINVAL; // reserved unless D_TIMEOUT
        }
        c.flags = flags;
        return op.handler().serve(this, c, r, off, sqeFlags);
    }

    /** Completes a parked call, counting an error result like {@link #execute} does for immediate ones. */
    @Override
    public void complete(TaskSession s, ParkedCall pc, int res, int flags, long[] v) {
        if (res < 0 && !pc.done && !s.dead) perCall.failed(CallStats.slot(pc.op), res);
        s.completeParked(pc, res, flags, v);
    }

    /** The task's terminal changed: its console driver serves what waits on it. True while something still waits. */
    public boolean ttyEvent(TaskSession s, ConsoleObject console) {
        return console.ttyEvent(s, stats, this);
    }

    // ---- create / lookup / delete ------------------------------------------------

    int create(Call c, MemorySegment r, long off, int sqeFlags) {
        TaskSession s = c.task;
        long flags = c.flags;
        int type = r.get(JAVA_INT, off + SqeDescriptor.OBJ_TYPE_OFFSET);
        ObjectType t = ObjectType.of(type);
        if (t != null && t.fromPath()) {
            // The file's message is taken first, whatever else is wrong with the entry, so the next
            // executable's message stays paired with its own entry.
            int fd = (sqeFlags & D_SQE_FD) != 0 ? takeExeFile(s, c.userData) : -DIOS_EINVAL;
            if (fd < 0) return fd;
            if (sqeFlags != (D_SQE_ARGS | D_SQE_FD) || (flags & ~(D_NONBLOCK | D_CREATE_NAMED)) != 0
                    || r.get(JAVA_LONG, off + SqeDescriptor.REF2_OFFSET) != 0) {
                LibC.close(fd);
                return -DIOS_EINVAL;
            }
            return createFromPath(c, t, r.get(JAVA_LONG, off + SqeDescriptor.BUF_OFFSET),
                    r.get(JAVA_LONG, off + SqeDescriptor.LEN_OFFSET), (flags & D_CREATE_NAMED) != 0, fd);
        }
        if ((sqeFlags & ~D_SQE_ARG) != 0) return -DIOS_EINVAL;
        long arg = r.get(JAVA_LONG, off + SqeDescriptor.LEN_OFFSET);
        boolean hasArg = (sqeFlags & D_SQE_ARG) != 0;
        boolean named = (flags & D_CREATE_NAMED) != 0;
        boolean given = (flags & D_CREATE_NAME_GIVEN) != 0;
        if (given && !named) return -DIOS_EINVAL;

        Name givenName = null;
        if (given) {
            if (!nameLineReservedZero(r, off)) return -DIOS_EINVAL;
            givenName = Name.read(r, off + SqeDescriptor.NAME_OFFSET);
            if (givenName.isZero()) return -DIOS_EINVAL;
        }
        // Where a name goes: the group given (ref2), the public group (asked for), else the task's default group.
        long groupRef = r.get(JAVA_LONG, off + SqeDescriptor.REF2_OFFSET);
        HashMap<Name, DObject> table;
        if ((flags & D_CREATE_PUBLIC) != 0) {
            if (groupRef != 0 || !named) return -DIOS_EINVAL; // one place for the name, and a name to place
            if (!s.publicMember) return -DIOS_EACCES; // dios_run gave it groups of its own, not the public one
            table = objects.publicTable();
        } else if (groupRef != 0) {
            Reference gr = s.refs.get(groupRef);
            if (gr == null) return -DIOS_EBADF;
            GroupObject g = gr.object.asGroup();
            if (g == null) return -DIOS_EINVAL;
            if (g.isZombie()) return -DIOS_EIDRM;
            if (!gr.can(D_PERM_WRITE) || !s.groups.contains(g)) return -DIOS_EACCES;
            if (!named) return -DIOS_EINVAL; // a group is only where a name goes
            table = g.names;
        } else {
            table = objects.defaultTable(s);
        }
        if (given && (table.containsKey(givenName) || objects.resolveWellKnown(givenName) != null)) return -DIOS_EEXIST;
        // D_OBJ_NONE, D_OBJ_TASK (made by dios_run) and unknown types have no factory.
        if (t == null || t.factory() == null) return -DIOS_EINVAL;
        // Per-user quotas, before the factory makes anything (a blob's file, a memfd later).
        Quotas.Account acct = objects.quotas.account(s.uid);
        int bytesKind = type == D_OBJ_BLOB ? Quotas.BLOB_BYTES : Quotas.MEMORY_BYTES;
        long bytes = quotaBytes(type, hasArg, arg);
        int q = objects.quotaCheck(acct, type, named, bytesKind, bytes);
        if (q < 0) return q;
        CreateRequest req = new CreateRequest(c, type, hasArg, arg, named, givenName, table, null, blobs);
        DObject o = t.factory().create(req);
        if (o == null) return req.error;
        objects.adopt(o);
        objects.charge(o, acct, bytesKind, bytes);
        int perms = D_PERM_READ | D_PERM_WRITE | D_PERM_DELETE;
        if (named && o.beingCreated()) {
            // A durable blob: its name is taken at once (a second CREATE of it: -EEXIST; a LOOKUP: -ENOENT),
            // its file and journal entry made off the conductor; the call parks until then (BlobStore.createNamed).
            Name n = given ? givenName : objects.bindRandom(o, table);
            if (given) objects.bind(givenName, o, table); // checked above; single-threaded, so still free
            return o.createNamed(c, n, perms);
        }
        long ref = objects.addReference(s, o, perms);
        if (ref == 0) return -DIOS_ENOMEM;
        o.created(s);
        if (named) {
            Name n;
            if (given) {
                objects.bind(givenName, o, table); // checked above; single-threaded, so still free
                n = givenName;
            } else {
                n = objects.bindRandom(o, table);
            }
            int rc = o.named(n);
            if (rc < 0) {
                objects.removeReference(s, s.refs.get(ref));
                return rc;
            }
            nameVals(c, n);
        }
        c.val[0] = ref;
        return 0;
    }

    /**
     * Bytes a create of type with argument arg is charged: the size of a
     * PRIVMEM or SHMEM object, the initial length of a blob (it is charged its
     * file's growth later); 0 for other types and for an argument the factory
     * refuses with -EINVAL anyway.
     */
    private static long quotaBytes(int type, boolean hasArg, long arg) {
        if (!hasArg || arg <= 0 || arg > DIOS_MAX_OBJECT_SIZE) return 0;
        return type == D_OBJ_PRIVMEM || type == D_OBJ_SHMEM || type == D_OBJ_BLOB ? arg : 0;
    }

    /**
     * CREATE of a type made from a path (an executable): an absolute path in
     * the args area. The object is well known, found or made, and the
     * reference read-only, as a lookup of it gives.
     */
    private int createFromPath(Call c, ObjectType t, long argOff, long len, boolean named, int fd) {
        if (len <= 0 || len >= DIOS_EXE_PATH_MAX || argOff < 0 || argOff > DIOS_ARGS_BYTES - len) {
            LibC.close(fd);
            return -DIOS_EINVAL;
        }
        TaskSession s = c.task;
        byte[] b = new byte[(int) len];
        MemorySegment.copy(s.region, JAVA_BYTE, DIOS_REGION_ARGS_OFFSET + argOff, b, 0, b.length);
        boolean nul = false;
        for (byte ch : b) nul |= ch == 0;
        String path = new String(b, java.nio.charset.StandardCharsets.UTF_8);
        if (nul || !path.startsWith("/")) {
            LibC.close(fd);
            return -DIOS_EINVAL;
        }
        // Nothing here resolves or opens the path: it is hashed into the name, and the
        // file is the task's own open (ExeObject; the spawner checks the two agree).
        CreateRequest req = new CreateRequest(c, t.code(), false, 0, named, null, null, path, blobs);
        req.exeFd = fd;
        DObject o = t.factory().create(req);
        if (o == null) return req.error;
        long ref = objects.addReference(s, o, D_PERM_READ);
        if (ref == 0) return -DIOS_ENOMEM;
        c.val[0] = ref;
        if (named) nameVals(c, o.name());
        return 0;
    }

    /** The DIOS_MSG_EXE_FD message read for a CREATE with D_SQE_FD. */
    private final MemorySegment exeMessage = java.lang.foreign.Arena.ofAuto().allocate(2L * ExeFdMessageDescriptor.SIZE, 8);
    /** Messages one CREATE reads at most, dropping those of entries never published. */
    static final int EXE_MESSAGES_PER_CREATE = 16;

    /**
     * CREATE D_OBJ_EXE with D_SQE_FD: the file the task opened waits on its
     * control socket (the shim sends it before it publishes the entry, under
     * its call lock, so messages come in the order of the entries). Reads with
     * non-blocking recvmsg calls, socket reads and never a file system call,
     * until the message carrying this entry's user_data; a message before it
     * (its entry never published: a submission that failed after sending it)
     * is dropped, fds closed, at most EXE_MESSAGES_PER_CREATE of them. Returns
     * the fd (the daemon's, close-on-exec) or -errno: -EINVAL when no message
     * of this entry came, -ENOMEM when the daemon had no descriptor left for it.
     */
    private int takeExeFile(TaskSession s, long userData) {
        if (s.sock < 0) return -DIOS_EINVAL;
        int[] fds = new int[2];
        boolean[] trunc = new boolean[1];
        for (int i = 0; i < EXE_MESSAGES_PER_CREATE; i++) {
            exeMessage.fill((byte) 0);
            long n = UnixSocket.recvWithFds(s.sock, exeMessage, fds, trunc);
            if (n < 0) break; // nothing more (-EAGAIN), or the socket failed
            // (the buffer is twice the message, so a truncation is of the fds: the daemon had none left)
            boolean ours = n == ExeFdMessageDescriptor.SIZE
                    && exeMessage.get(JAVA_INT, ExeFdMessageDescriptor.MAGIC_OFFSET) == DIOS_MSG_EXE_FD
                    && exeMessage.get(JAVA_INT, ExeFdMessageDescriptor.RSVD_OFFSET) == 0
                    && exeMessage.get(JAVA_LONG, ExeFdMessageDescriptor.USER_DATA_OFFSET) == userData;
            if (ours && !trunc[0] && fds[0] >= 0 && fds[1] < 0) return fds[0];
            for (int fd : fds) LibC.close(fd);
            if (ours) return trunc[0] ? -DIOS_ENOMEM : -DIOS_EINVAL;
        }
        return -DIOS_EINVAL;
    }

    /** CREATE with D_CREATE_NAMED: the name's 32 bytes in val[1..4]. */
    private static void nameVals(Call c, Name n) {
        c.val[1] = n.w0();
        c.val[2] = n.w1();
        c.val[3] = n.w2();
        c.val[4] = n.w3();
    }

    int lookup(Call c, MemorySegment r, long off) {
        TaskSession s = c.task;
        long capacity = r.get(JAVA_LONG, off + SqeDescriptor.LEN_OFFSET);
        if (capacity == 0) return -DIOS_EINVAL;
        if (!nameLineReservedZero(r, off)) return -DIOS_EINVAL;
        Name n = Name.read(r, off + SqeDescriptor.NAME_OFFSET);
        boolean inPublic = (c.flags & D_LOOKUP_PUBLIC) != 0;
        if (inPublic && !s.publicMember) return -DIOS_EACCES;
        DObject o = inPublic ? objects.resolvePublic(n) : objects.resolve(n, s);
        if (o == null || o.isZombie() || o.beingCreated()) return -DIOS_ENOENT;
        if (o.privateTo(s)) return -DIOS_EACCES;
        if (s.refs.size() >= s.refs.capacity()) return -DIOS_ENOMEM;
        if (!o.tryRetain()) return -DIOS_ENOENT; // increment-not-zero: it is going away
        long ref = objects.addReference(s, o, o.lookupPerms((c.flags & D_LOOKUP_READONLY) != 0));
        if (ref == 0) return -DIOS_ENOMEM;
        c.val[0] = ref;
        c.val[1] = 1;
        return 0;
    }

    int delete(Call c, long refId) {
        TaskSession s = c.task;
        Reference ref = s.refs.get(refId);
        if (ref == null) return -DIOS_EBADF;
        if ((c.flags & D_DELETE_ZOMBIFY) != 0) {
            if (!ref.can(D_PERM_DELETE)) return -DIOS_EACCES;
            int rc = ref.object.zombifyParked(c, ref); // a durable blob: its DELETE is journaled off the conductor
            if (rc != 0) return rc;
            rc = ref.object.prepareZombify();
            if (rc < 0) return rc;
            objects.zombify(ref.object);
        }
        // val[0..5]: the segments to unmap (a blob may have had several mapping generations)
        long[] unmap = objects.removeReference(s, ref);
        if (unmap.length > 0) {
            c.cqeFlags |= D_CQE_F_UNMAP;
            for (int i = 0; i < unmap.length && i < c.val.length; i++) c.val[i] = unmap[i];
        }
        return 0;
    }

    // ---- I/O -----------------------------------------------------------------------

    int acquire(Call c, long refId, long len, boolean write) {
        Reference ref = c.task.refs.get(refId);
        if (ref == null) return -DIOS_EBADF;
        if (ref.object.isZombie()) return -DIOS_EIDRM;
        if (!ref.can(write ? D_PERM_WRITE : D_PERM_READ)) return -DIOS_EACCES;
        if ((c.flags & D_ACQUIRE_EXCLUSIVE) != 0 && !ref.object.exclusiveWrites()) return -DIOS_EINVAL;
        return ref.object.acquire(c, ref, len, write);
    }

    int bufferOp(Call c, long refId, long bufId, long len, boolean write, boolean release) {
        TaskSession s = c.task;
        Reference ref = s.refs.get(refId);
        if (ref == null) return -DIOS_EBADF;
        Buffer b = s.buffers.get(bufId);
        if (b == null || b.ref != ref || b.write != write) return -DIOS_EINVAL;
        if (release) {
            s.buffers.remove(bufId);
            ref.buffers--;
            stats.buffers--;
            ref.object.released(s, b, this);
            return 0; // releasing is clean-up, allowed on zombies too
        }
        if (ref.object.isZombie()) return -DIOS_EIDRM;
        return ref.object.commit(c, b, len, write);
    }

    /** An end moved tail or head in place and saw a D_FIFO_NOTIFY_* bit: the object re-checks what waits on it. */
    int notifyRef(Call c, long refId, int sqeFlags) {
        if ((sqeFlags & ~D_SQE_NO_CQE) != 0) return -DIOS_EINVAL;
        Reference ref = c.task.refs.get(refId);
        if (ref == null) return -DIOS_EBADF;
        return ref.object.notify(this, ref);
    }

    // ---- select ---------------------------------------------------------------------

    /**
     * dios_select: the first ready reference, else park on every object named.
     * The reference array is read once from the task's args area (copied:
     * the task may reuse that space as soon as it sees sq_head pass).
     *
     * <p>Repeats are folded first: a reference named again, or another
     * reference to the same object whose readiness is asked the same way
     * ({@link ObjectDriver#selectClass}), adds nothing, so the call holds and
     * registers only distinct waits (the first index of each), and an object
     * is registered on once per select. Registration costs O(count); a
     * wake-up costs O(distinct waits on the object that changed), never a
     * scan of every array entry (an array of 4,096 copies of one FIFO
     * reference is one wait).
     */
    int select(Call c, long count, long argOff) {
        TaskSession s = c.task;
        if (count <= 0) return -DIOS_EINVAL;
        if (count > DIOS_MAX_SELECT_REFS) return -DIOS_E2BIG;
        if (argOff < 0 || (argOff & 7) != 0 || argOff > DIOS_ARGS_BYTES - count * 8) return -DIOS_EINVAL;
        int n = (int) count;
        Reference[] all = new Reference[n];
        long base = DIOS_REGION_ARGS_OFFSET + argOff;
        for (int i = 0; i < n; i++) {
            Reference r = s.refs.get(s.region.get(JAVA_LONG, base + 8L * i));
            if (r == null) return -DIOS_EBADF;
            all[i] = r;
        }
        // The distinct waits, in the caller's order (firsts), and grouped by object (byObject).
        int[] firsts = new int[n];
        int distinct = 0;
        HashMap<DObject, int[]> byObject = new HashMap<>();
        for (int i = 0; i < n; i++) {
            Reference r = all[i];
            int[] seen = byObject.get(r.object); // [count, index, index...]
            boolean repeat = false;
            if (seen != null) {
                int cls = r.object.selectClass(r);
                for (int k = 1; k <= seen[0] && !repeat; k++) {
                    Reference q = all[seen[k]];
                    repeat = q == r || r.object.selectClass(q) == cls;
                }
            }
            if (repeat) continue;
            if (seen == null || seen[0] + 1 == seen.length) {
                int[] grown = new int[seen == null ? 3 : seen.length * 2];
                if (seen != null) System.arraycopy(seen, 0, grown, 0, seen.length);
                seen = grown;
                byObject.put(r.object, seen);
            }
            seen[++seen[0]] = i;
            firsts[distinct++] = i;
        }
        for (int k = 0; k < distinct; k++) {
            Reference r = all[firsts[k]];
            if (r.object.readyFor(r, s)) {
                ParkedCall.selected(r, firsts[k], c.val);
                return 0;
            }
        }
        if (c.nonBlocking()) return -DIOS_EAGAIN;
        if (!c.mayPark()) return -DIOS_ENOMEM;
        // Parked selects of one task may hold at most this many distinct waits: a task
        // that parks 128 selects over 4,096 references each costs memory, not more.
        int registered = 0;
        for (ParkedCall p : s.parked) if (p.refs != null) registered += p.refs.length;
        if (registered + distinct > MAX_SELECT_REGISTRATIONS) {
            return c.limitHit(D_DETAIL_MAX_SELECT, MAX_SELECT_REGISTRATIONS);
        }
        Reference[] refs = new Reference[distinct];
        int[] at = new int[distinct];
        int m = 0;
        boolean console = false;
        for (int k = 0; k < distinct; k++) {
            Reference r = all[firsts[k]];
            int[] seen = byObject.get(r.object);
            if (seen[1] != firsts[k]) continue; // this object's waits were placed with its first
            for (int j = 1; j <= seen[0]; j++) {
                refs[m] = all[seen[j]];
                at[m++] = seen[j];
            }
            console |= r.object.watchesTerminal();
        }
        ParkedCall pc = new ParkedCall(s, c.userData, c.op, c.flags, null, 0, refs, at);
        pc.register();
        // The other half of the FIFO Dekker pair: waiter bits are set; re-check.
        java.lang.invoke.VarHandle.fullFence();
        for (int k = 0; k < distinct; k++) {
            Reference r = all[firsts[k]];
            if (r.object.readyFor(r, s)) {
                pc.done = true; // its registrations are dropped lazily
                ParkedCall.selected(r, firsts[k], c.val);
                return 0;
            }
        }
        c.parked(pc);
        if (console) c.watchTerminal();
        return PARKED;
    }

    /** Counts waiting references re-checked by objects after a change (dios_waiter_checks_total). */
    @Override
    public void waitersChecked(long n) {
        stats.waiterChecks += n;
    }

    // ---- tasks: run, copy, delegated ------------------------------------------------

    /**
     * dios_run: checks the spec in the args area (struct dios_run_args, the
     * delegated references, the groups, the argv block), then hands the
     * spawn to the task launcher, which parks the call until the process runs.
     */
    int run(Call c, MemorySegment r, long off, int sqeFlags) {
        TaskSession s = c.task;
        if (sqeFlags != 0) return -DIOS_EINVAL;
        // D_RUN_ENV: ref2 = bytes of the environment block after argv; else ref2 must be 0
        boolean withEnv = (c.flags & D_RUN_ENV) != 0;
        long envBytes = r.get(JAVA_LONG, off + SqeDescriptor.REF2_OFFSET);
        if (withEnv ? envBytes < 0 : envBytes != 0) return -DIOS_EINVAL;
        if (envBytes > DIOS_RUN_MAX_ENV_BYTES) return -DIOS_E2BIG;
        Reference exeRef = s.refs.get(r.get(JAVA_LONG, off + SqeDescriptor.REF_OFFSET));
        if (exeRef == null) return -DIOS_EBADF;
        if (exeRef.object.isZombie()) return -DIOS_EIDRM;
        ExeObject exe = exeRef.object.asExecutable();
        if (exe == null) return -DIOS_ENOEXEC;
        if (!exeRef.can(D_PERM_READ)) return -DIOS_EACCES;
        long len = r.get(JAVA_LONG, off + SqeDescriptor.LEN_OFFSET);
        long argOff = r.get(JAVA_LONG, off + SqeDescriptor.BUF_OFFSET);
        if (argOff < 0 || (argOff & 7) != 0 || argOff >= DIOS_ARGS_BYTES || len < RunArgsDescriptor.SIZE
                || len > DIOS_ARGS_BYTES - argOff) return -DIOS_EINVAL;
        // Each field read once into a local: the task may rewrite its args area meanwhile.
        long base = DIOS_REGION_ARGS_OFFSET + argOff;
        long argc = Integer.toUnsignedLong(r.get(JAVA_INT, base + RunArgsDescriptor.ARGC_OFFSET));
        long nrefs = Integer.toUnsignedLong(r.get(JAVA_INT, base + RunArgsDescriptor.REF_COUNT_OFFSET));
        long ngroups = Integer.toUnsignedLong(r.get(JAVA_INT, base + RunArgsDescriptor.GROUP_COUNT_OFFSET));
        long argvBytes = Integer.toUnsignedLong(r.get(JAVA_INT, base + RunArgsDescriptor.ARGV_BYTES_OFFSET));
        if (nrefs > DIOS_RUN_MAX_REFS || ngroups > DIOS_RUN_MAX_GROUPS || argvBytes > DIOS_RUN_MAX_ARGV_BYTES) return -DIOS_E2BIG;
        if (argc == 0 || argc > argvBytes || RunArgsDescriptor.SIZE + 8 * (nrefs + ngroups) + argvBytes + envBytes != len) {
            return -DIOS_EINVAL;
        }
        long p = base + RunArgsDescriptor.SIZE;
        Reference[] refs = new Reference[(int) nrefs];
        int rc = c.delegableRefs(p, refs);
        if (rc < 0) return rc;
        p += 8 * nrefs;
        GroupObject[] groups = ngroups == 0 ? null : new GroupObject[(int) ngroups];
        for (int i = 0; i < ngroups; i++, p += 8) {
            Reference g = s.refs.get(r.get(JAVA_LONG, p));
            if (g == null) return -DIOS_EBADF;
            GroupObject go = g.object.asGroup();
            if (go == null) return -DIOS_EINVAL;
            if (go.isZombie()) return -DIOS_EIDRM;
            if (!s.groups.contains(go)) return -DIOS_EACCES; // only a subset of the parent's own groups
            groups[i] = go;
        }
        byte[] block = new byte[(int) argvBytes];
        MemorySegment.copy(r, JAVA_BYTE, p, block, 0, block.length);
        String[] argv = strings(block);
        if (argv == null || argv.length != argc) return -DIOS_EINVAL;
        String[] env = null; // no D_RUN_ENV (an older shim): the launcher's minimal environment
        if (withEnv) {
            byte[] eblock = new byte[(int) envBytes];
            MemorySegment.copy(r, JAVA_BYTE, p + argvBytes, eblock, 0, eblock.length);
            env = strings(eblock);
            if (env == null) return -DIOS_EINVAL;
            for (String e : env) if (e.isEmpty()) return -DIOS_EINVAL;
        }
        return tasks.spawn(s, c.userData, exe, argv, env, refs, groups, (c.flags & D_RUN_SECCOMP_KILL) != 0);
    }

    /** The NUL-terminated strings of a block (a copy: the task cannot change it meanwhile); null if it does not end in a NUL. */
    static String[] strings(byte[] block) {
        if (block.length == 0) return new String[0];
        if (block[block.length - 1] != 0) return null;
        java.util.ArrayList<String> out = new java.util.ArrayList<>();
        int start = 0;
        for (int i = 0; i < block.length; i++) {
            if (block[i] != 0) continue;
            out.add(new String(block, start, i - start, java.nio.charset.StandardCharsets.UTF_8));
            start = i + 1;
        }
        return out.toArray(new String[0]);
    }

    /**
     * dios_copy: delegates references to the object a target reference names,
     * with the same or fewer permissions. What delegation means (and whether
     * the target can take it) is the target's driver's.
     */
    int copy(Call c, long targetRef, long count, long argOff) {
        if (count <= 0) return -DIOS_EINVAL;
        if (count > DIOS_MAX_COPY_REFS) return -DIOS_E2BIG;
        if (argOff < 0 || (argOff & 7) != 0 || argOff > DIOS_ARGS_BYTES - count * 8) return -DIOS_EINVAL;
        Reference tr = c.task.refs.get(targetRef);
        if (tr == null) return -DIOS_EBADF;
        return tr.object.delegateFrom(c, tr, DIOS_REGION_ARGS_OFFSET + argOff, (int) count,
                (c.flags & D_COPY_READONLY) != 0);
    }

    /** dios_delegated: up to DIOS_DELEGATED_BATCH references from this task's inbox, in order. */
    int delegated(Call c, long capacity) {
        if (capacity <= 0) return -DIOS_EINVAL;
        TaskSession s = c.task;
        int n = (int) Math.min(capacity, DIOS_DELEGATED_BATCH);
        int k = 0;
        while (k < n && !s.inbox.isEmpty()) {
            long id = s.inbox.poll();
            if (s.refs.get(id) != null) c.val[k++] = id; // released meanwhile: skipped
        }
        return 0;
    }

    // ---- information -------------------------------------------------------------

    int refInfo(Call c, long refId) {
        Reference ref = c.task.refs.get(refId);
        if (ref == null) return -DIOS_EBADF;
        DObject o = ref.object;
        int state = 0;
        if (o.name() != null && !o.isZombie()) state |= D_REF_STATE_NAMED;
        if (o.isZombie()) state |= D_REF_STATE_ZOMBIE;
        else state |= o.readiness();
        long[] val = c.val;
        val[5] = o.endOf(ref);
        val[0] = o.type;
        val[1] = ref.perms;
        val[2] = o.size();
        val[3] = state;
        val[4] = o.id;
        return 0;
    }

    int daemonStats(Call c) {
        long[] val = c.val;
        val[0] = stats.tasks;
        val[1] = stats.objects;
        val[2] = stats.names;
        val[3] = stats.refs;
        val[4] = stats.buffers;
        val[5] = stats.segments;
        return 0;
    }
}

package org.dios.diosd.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.dios.abi.Abi;
import org.dios.abi.CqeDescriptor;
import org.dios.abi.RunArgsDescriptor;
import org.dios.abi.SegmentMessageDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.Log;
import org.dios.diosd.sys.LibC;
import org.dios.diosd.sys.UnixSocket;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.dios.abi.Abi.*;

/**
 * Decodes one submission from a task's ring, runs it, and encodes its
 * completion. One switch; the default answers an unknown op with -ENOSYS.
 *
 * <p>Every field is read from shared memory exactly once into a local and
 * checked before use: the task can rewrite its ring at any moment.
 *
 * <p>A call that must wait (a FIFO acquire with no data or space, a console
 * read with no input, a select with nothing ready) is <em>parked</em>: it
 * gets no completion now, and the object it waits on completes it later
 * through {@link #tryComplete}. The daemon never blocks.
 */
public final class CallDispatcher {
    /** Thrown when serving a call shows the task must be disconnected. */
    public static final class Disconnect extends RuntimeException {
        public Disconnect(String reason) {
            super(reason, null, false, false);
        }
    }

    /** Select registrations one task's parked selects may hold (-ENOMEM beyond). */
    static final int MAX_SELECT_REGISTRATIONS = 4 * DIOS_MAX_SELECT_REFS;

    /** dispatch() result of a call parked for later (no completion now). */
    public static final int PARKED = Integer.MIN_VALUE;

    /** Calls one task may have parked at once (--max-parked-calls); a call that would park beyond gets -ENOMEM. */
    int maxParked = DriverConductor.Config.DEFAULT_MAX_PARKED;

    /**
     * True if s may park one more call. Otherwise the caller answers -ENOMEM
     * (a per-task limit, like references and buffers), and the daemon says
     * so once per task.
     */
    boolean mayPark(TaskSession s) {
        if (s.parked.size() < maxParked) return true;
        if (!s.warnedParked) {
            s.warnedParked = true;
            Log.warn(s + ": a call that must wait was refused with -ENOMEM: " + s.parked.size()
                    + " calls wait already (--max-parked-calls " + maxParked + ")");
        }
        return false;
    }

    private final ObjectManager objects;
    private final Stats stats;
    private final CallStats perCall;
    private long userData;
    /** Terminal interest for the conductor's epoll: set by console calls. */
    TtyWatcher ttyWatcher = s -> { };

    /** Starts a task for dios_run (the conductor's); answers PARKED or -errno. */
    public interface TaskSpawner {
        int spawn(TaskSession parent, long userData, ExeObject exe, String[] argv, Reference[] refs, GroupObject[] groups,
                  boolean seccompKill);
    }
    TaskSpawner tasks = (p, u, e, a, r, g, k) -> -DIOS_ENOSYS;
    /** PRIVMEM bytes one task may hold (diosd --max-task-memory); creates beyond it fail with -ENOMEM. */
    private long maxTaskMemory = DriverConductor.Config.DEFAULT_MAX_TASK_MEMORY;

    /** Sets the per-task PRIVMEM limit, in bytes. */
    public void maxTaskMemory(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("max task memory must be positive: " + bytes);
        maxTaskMemory = bytes;
    }

    /** The conductor watches a task's terminal while console calls wait on it. */
    public interface TtyWatcher {
        void watch(TaskSession s);
    }
    private final long[] val = new long[CqeDescriptor.VAL_COUNT];
    private final MemorySegment segMsg = Arena.global().allocate(SegmentMessageDescriptor.SIZE, 8);
    private int cqeFlags;
    /** Blob files and the journal; null in a daemon without a state directory (unit tests): no blobs. */
    private BlobStore blobs;

    public CallDispatcher(ObjectManager objects, Stats stats) {
        this.objects = objects;
        this.stats = stats;
        this.perCall = stats.perCall;
        objects.waker = this;
    }

    /** val[i] of the completion {@link #execute} wrote last (for CallTrace). */
    long resultValue(int i) {
        return val[i];
    }

    /** Enables D_OBJ_BLOB; called once the store's durable blobs are attached. */
    public void blobs(BlobStore store) {
        this.blobs = store;
    }

    /**
     * Runs the SQE at sqeOff in s's region and writes its completion at the
     * task's cq_tail. Returns the call's result, or {@link #PARKED} if it was
     * parked (no completion yet).
     */
    public int execute(TaskSession s, long sqeOff) {
        MemorySegment r = s.region;
        int opcode = r.get(JAVA_BYTE, sqeOff + SqeDescriptor.OPCODE_OFFSET) & 0xff;
        userData = r.get(JAVA_LONG, sqeOff + SqeDescriptor.USER_DATA_OFFSET);
        java.util.Arrays.fill(val, 0);
        cqeFlags = 0;
        // Decided from this entry alone, first: a NO_CQE notify never gets a completion,
        // whatever else is wrong with it (the shim does not wait for one, and a stray
        // completion would make it drop its connection).
        int sqeFlags = r.get(JAVA_BYTE, sqeOff + SqeDescriptor.SQE_FLAGS_OFFSET) & 0xff;
        noCqe = opcode == D_OP_NOTIFY && sqeFlags == D_SQE_NO_CQE;
        int res;
        if (!reservedZero(r, sqeOff)) {
            res = -DIOS_EINVAL;
        } else {
            res = dispatch(s, r, sqeOff, opcode, sqeFlags);
        }
        stats.calls++;
        int slot = CallStats.slot(opcode);
        perCall.called(slot);
        if (res == PARKED) return res;
        if (res < 0) perCall.failed(slot, res);
        if (opcode == D_OP_NOTIFY && noCqe) return res; // the sender does not wait for it
        s.writeCqe(userData, res, cqeFlags, val);
        if (res < 0 && Log.enabled(Log.Level.DEBUG)) {
            Log.debug(s + " " + opName(opcode) + " -> " + res);
        }
        return res;
    }

    /**
     * Reserved fields of the SQE's first cache line must be zero. The second
     * line (name, rsvd3) is read, and its reserved words checked, only by the
     * ops that carry a name, so a null call moves one line, not two.
     */
    private static boolean reservedZero(MemorySegment r, long off) {
        return r.get(JAVA_SHORT, off + SqeDescriptor.RSVD0_OFFSET) == 0
                && r.get(JAVA_LONG, off + SqeDescriptor.RSVD2_OFFSET) == 0;
    }

    private static boolean nameLineReservedZero(MemorySegment r, long off) {
        for (int i = 0; i < 4; i++) if (r.get(JAVA_LONG, off + SqeDescriptor.RSVD3_OFFSET + 8L * i) != 0) return false;
        return true;
    }

    private boolean noCqe;

    private int dispatch(TaskSession s, MemorySegment r, long off, int opcode, int sqeFlags) {
        long flags = r.get(JAVA_LONG, off + SqeDescriptor.FLAGS_OFFSET);
        if (opcode == D_OP_NOTIFY && sqeFlags != 0 && sqeFlags != D_SQE_NO_CQE) return -DIOS_EINVAL;
        if ((sqeFlags & D_SQE_NO_CQE) != 0 && opcode != D_OP_NOTIFY) return -DIOS_EINVAL;
        return switch (opcode) {
            case D_OP_NOP -> (flags & ~D_NONBLOCK) != 0 ? -DIOS_EINVAL : 0;
            case D_OP_CREATE -> create(s, r, off, flags, sqeFlags);
            case D_OP_LOOKUP -> lookup(s, r, off, flags);
            case D_OP_DELETE -> delete(s, r.get(JAVA_LONG, off + SqeDescriptor.REF_OFFSET), flags);
            case D_OP_ACQUIRE_READ, D_OP_ACQUIRE_WRITE -> acquire(s, r.get(JAVA_LONG, off + SqeDescriptor.REF_OFFSET),
                    r.get(JAVA_LONG, off + SqeDescriptor.LEN_OFFSET), flags, opcode == D_OP_ACQUIRE_WRITE);
            case D_OP_NOTIFY -> notifyFifo(s, r.get(JAVA_LONG, off + SqeDescriptor.REF_OFFSET), flags);
            case D_OP_SELECT -> select(s, r.get(JAVA_LONG, off + SqeDescriptor.LEN_OFFSET),
                    r.get(JAVA_LONG, off + SqeDescriptor.BUF_OFFSET), flags);
            case D_OP_COMMIT_READ, D_OP_RELEASE_READ, D_OP_COMMIT_WRITE, D_OP_RELEASE_WRITE -> bufferOp(s, opcode,
                    r.get(JAVA_LONG, off + SqeDescriptor.REF_OFFSET), r.get(JAVA_LONG, off + SqeDescriptor.BUF_OFFSET),
                    r.get(JAVA_LONG, off + SqeDescriptor.LEN_OFFSET), flags);
            case D_OP_REF_INFO -> refInfo(s, r.get(JAVA_LONG, off + SqeDescriptor.REF_OFFSET), flags);
            case D_OP_STATS -> daemonStats(flags);
            case D_OP_RUN -> run(s, r, off, flags, sqeFlags);
            case D_OP_COPY -> copy(s, r.get(JAVA_LONG, off + SqeDescriptor.REF2_OFFSET), r.get(JAVA_LONG, off + SqeDescriptor.LEN_OFFSET),
                    r.get(JAVA_LONG, off + SqeDescriptor.BUF_OFFSET), flags);
            case D_OP_DELEGATED -> delegated(s, r.get(JAVA_LONG, off + SqeDescriptor.LEN_OFFSET), flags);
            default -> -DIOS_ENOSYS;
        };
    }

    // ---- create / lookup / delete ------------------------------------------------

    private int create(TaskSession s, MemorySegment r, long off, long flags, int sqeFlags) {
        if ((flags & ~D_FLAGS_CREATE_MASK) != 0) return -DIOS_EINVAL;
        int type = r.get(JAVA_INT, off + SqeDescriptor.OBJ_TYPE_OFFSET);
        if (type == D_OBJ_EXE) {
            if (sqeFlags != D_SQE_ARGS || (flags & ~(D_NONBLOCK | D_CREATE_NAMED)) != 0) return -DIOS_EINVAL;
            if (r.get(JAVA_LONG, off + SqeDescriptor.REF2_OFFSET) != 0) return -DIOS_EINVAL;
            return createExe(s, r.get(JAVA_LONG, off + SqeDescriptor.BUF_OFFSET), r.get(JAVA_LONG, off + SqeDescriptor.LEN_OFFSET),
                    (flags & D_CREATE_NAMED) != 0);
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
        // Where a name goes: the group given (ref2), else the task's default group.
        long groupRef = r.get(JAVA_LONG, off + SqeDescriptor.REF2_OFFSET);
        java.util.HashMap<Name, DObject> table;
        if (groupRef != 0) {
            Reference gr = s.refs.get(groupRef);
            if (gr == null) return -DIOS_EBADF;
            if (!(gr.object instanceof GroupObject g)) return -DIOS_EINVAL;
            if (g.isZombie()) return -DIOS_EIDRM;
            if (!gr.can(D_PERM_WRITE) || !s.groups.contains(g)) return -DIOS_EACCES;
            if (!named) return -DIOS_EINVAL; // a group is only where a name goes
            table = g.names;
        } else {
            table = objects.defaultTable(s);
        }
        if (given && (table.containsKey(givenName) || objects.resolveWellKnown(givenName) != null)) return -DIOS_EEXIST;
        DObject o;
        switch (type) {
            case D_OBJ_PRIVMEM, D_OBJ_SHMEM -> {
                if (!hasArg || arg <= 0 || arg > DIOS_MAX_OBJECT_SIZE) return -DIOS_EINVAL;
                if (s.refs.size() >= s.refs.capacity()) return -DIOS_ENOMEM;
                // A task's private memory (its heap) is counted against its limit until the object is freed.
                if (type == D_OBJ_PRIVMEM && arg > maxTaskMemory - s.privmemBytes) return -DIOS_ENOMEM;
                MemoryObject m = new MemoryObject(objects.newObjectId(), type, s.taskId, arg);
                if (type == D_OBJ_PRIVMEM) m.charge(s, stats);
                o = m;
            }
            case D_OBJ_FIFO -> {
                long cap = FifoObject.capacityFor(hasArg, arg);
                if (cap < 0) return -DIOS_EINVAL;
                if (s.refs.size() >= s.refs.capacity()) return -DIOS_ENOMEM;
                long ctlSeg = objects.newObjectId();
                o = new FifoObject(objects.newObjectId(), ctlSeg, s.taskId, cap);
            }
            case D_OBJ_CONSOLE -> {
                return -DIOS_EEXIST; // there is one, under its well-known name: look it up
            }
            case D_OBJ_BLOB -> {
                // No argument: an empty blob that grows on write.
                if (hasArg && (arg < 0 || arg > DIOS_MAX_OBJECT_SIZE)) return -DIOS_EINVAL;
                if (s.refs.size() >= s.refs.capacity()) return -DIOS_ENOMEM;
                // Durable names live in the public group: the journal replays them there.
                if (named && table != objects.publicTable()) return -DIOS_EOPNOTSUPP;
                if (given && objects.resolve(givenName) != null) return -DIOS_EEXIST;
                if (blobs == null) return -DIOS_EOPNOTSUPP;
                BlobObject b = blobs.create(objects.newObjectId(), s.taskId, hasArg ? arg : 0);
                if (b == null) return blobs.error();
                o = b;
            }
            case D_OBJ_GROUP -> {
                if (hasArg) return -DIOS_EINVAL;
                if (s.refs.size() >= s.refs.capacity()) return -DIOS_ENOMEM;
                if (s.groups.size() >= DIOS_RUN_MAX_GROUPS) return -DIOS_ENOMEM;
                o = new GroupObject(objects.newObjectId(), s.taskId);
            }
            default -> {
                return -DIOS_EINVAL; // D_OBJ_NONE, D_OBJ_TASK (made by dios_run) and unknown types
            }
        }
        objects.adopt(o);
        long ref = objects.addReference(s, o, D_PERM_READ | D_PERM_WRITE | D_PERM_DELETE);
        if (ref == 0) return -DIOS_ENOMEM;
        if (o instanceof GroupObject g && g.tryRetain()) s.groups.add(g); // its creator is its first member
        if (named) {
            Name n;
            if (given) {
                objects.bind(givenName, o, table); // checked above; single-threaded, so still free
                n = givenName;
            } else {
                n = objects.bindRandom(o, table);
            }
            if (o instanceof BlobObject b) {
                // A named blob is durable: journaled before the call completes, or not created at all.
                int rc = blobs.makeDurable(b, n);
                if (rc < 0) {
                    objects.removeReference(s, s.refs.get(ref));
                    return rc;
                }
            }
            nameVals(n);
        }
        val[0] = ref;
        return 0;
    }

    /** CREATE with D_CREATE_NAMED: the name's 32 bytes in val[1..4]. */
    private void nameVals(Name n) {
        val[1] = n.w0();
        val[2] = n.w1();
        val[3] = n.w2();
        val[4] = n.w3();
    }

    private int lookup(TaskSession s, MemorySegment r, long off, long flags) {
        if ((flags & ~D_FLAGS_LOOKUP_MASK) != 0) return -DIOS_EINVAL;
        long capacity = r.get(JAVA_LONG, off + SqeDescriptor.LEN_OFFSET);
        if (capacity == 0) return -DIOS_EINVAL;
        if (!nameLineReservedZero(r, off)) return -DIOS_EINVAL;
        Name n = Name.read(r, off + SqeDescriptor.NAME_OFFSET);
        DObject o = objects.resolve(n, s);
        if (o == null || o.isZombie()) return -DIOS_ENOENT;
        if (ObjectManager.isPrivateTo(o, s)) return -DIOS_EACCES;
        if (s.refs.size() >= s.refs.capacity()) return -DIOS_ENOMEM;
        if (!o.tryRetain()) return -DIOS_ENOENT; // increment-not-zero: it is going away
        int perms = (flags & D_LOOKUP_READONLY) != 0 || o instanceof ExeObject ? D_PERM_READ : D_PERM_READ | D_PERM_WRITE;
        // A durable blob outlives every reference (and the daemon): its name is what lets anyone delete it.
        if (perms != D_PERM_READ && o instanceof BlobObject b && b.durable()) perms |= D_PERM_DELETE;
        long ref = objects.addReference(s, o, perms);
        if (ref == 0) return -DIOS_ENOMEM;
        val[0] = ref;
        val[1] = 1;
        return 0;
    }

    private int delete(TaskSession s, long refId, long flags) {
        if ((flags & ~D_FLAGS_DELETE_MASK) != 0) return -DIOS_EINVAL;
        Reference ref = s.refs.get(refId);
        if (ref == null) return -DIOS_EBADF;
        if ((flags & D_DELETE_ZOMBIFY) != 0) {
            if (!ref.can(D_PERM_DELETE)) return -DIOS_EACCES;
            if (ref.object instanceof BlobObject b && !b.isZombie()) {
                int rc = b.store.journalDelete(b); // durable before anyone sees it gone
                if (rc < 0) return rc;
            }
            objects.zombify(ref.object);
        }
        // val[0..5]: the segments to unmap (a blob may have had several mapping generations)
        long[] unmap = objects.removeReference(s, ref);
        if (unmap.length > 0) {
            cqeFlags |= D_CQE_F_UNMAP;
            for (int i = 0; i < unmap.length && i < val.length; i++) val[i] = unmap[i];
        }
        return 0;
    }

    // ---- I/O -----------------------------------------------------------------------

    private int acquire(TaskSession s, long refId, long len, long flags, boolean write) {
        if ((flags & ~D_FLAGS_IO_MASK) != 0) return -DIOS_EINVAL;
        Reference ref = s.refs.get(refId);
        if (ref == null) return -DIOS_EBADF;
        DObject o = ref.object;
        if (o.isZombie()) return -DIOS_EIDRM;
        if (!ref.can(write ? D_PERM_WRITE : D_PERM_READ)) return -DIOS_EACCES;
        if (o instanceof FifoObject f) return acquireFifo(s, ref, f, len, flags, write);
        if (o instanceof TaskObject t && !write) return readTask(s, ref, t, flags);
        if (o instanceof ConsoleObject c) return acquireConsole(s, ref, c, len, flags, write);
        SegmentSource m;
        int rc;
        if (o instanceof MemoryObject mem) {
            if (len < 0 || len > mem.size()) return -DIOS_EINVAL;
            if (len == 0) len = mem.size();
            if (s.buffers.size() >= s.buffers.capacity()) return -DIOS_ENOMEM;
            rc = mem.ensureBacking(stats);
            m = mem;
        } else if (o instanceof BlobObject blob) {
            // A read stays within the committed size; a write may reach past it (its commit grows the blob).
            if (len < 0 || len > (write ? DIOS_MAX_OBJECT_SIZE : blob.size())) return -DIOS_EINVAL;
            if (len == 0) len = blob.size();
            if (s.buffers.size() >= s.buffers.capacity()) return -DIOS_ENOMEM;
            rc = blob.store.ensureMapping(blob, len);
            m = blob;
        } else {
            return -DIOS_EOPNOTSUPP;
        }
        if (rc < 0) return rc;
        // The mapping's protection follows the reference: read-only references get read-only fds.
        boolean writable = ref.can(D_PERM_WRITE);
        int prot = writable ? D_SEG_READ | D_SEG_WRITE : D_SEG_READ;
        Integer sent = s.delivered.get(m.segmentId());
        if (sent == null || (sent & (writable ? 2 : 1)) == 0) {
            rc = sendSegment(s, m, writable, prot);
            if (rc < 0) return rc;
            s.delivered.put(m.segmentId(), (sent == null ? 0 : sent) | (writable ? 2 : 1));
            cqeFlags |= D_CQE_F_SEGMENT;
        }
        Buffer b = new Buffer(ref, write, 0, len, m.generation());
        long id = s.buffers.add(b);
        if (id == 0) return -DIOS_ENOMEM;
        b.id = id;
        ref.buffers++;
        stats.buffers++;
        stats.io(o.type, write ? Stats.IO_ACQUIRE_WRITE : Stats.IO_ACQUIRE_READ, len);
        val[0] = id;
        val[1] = m.segmentId();
        val[2] = 0;
        val[3] = len;
        val[4] = m.segmentSize();
        val[5] = prot;
        return 0;
    }

    private int sendSegment(TaskSession s, SegmentSource m, boolean writable, int prot) {
        int fd = m.fdFor(writable);
        if (fd < 0) return -DIOS_ENOMEM;
        return sendSegment(s, fd, m.segmentId(), m.segmentSize(), prot);
    }

    /**
     * Sends a SEGMENT message unless the task already has segId with this
     * protection; sets D_CQE_F_SEGMENT when it sends. Returns 1 if sent, 0 if
     * the task had it, or -errno.
     */
    private int deliver(TaskSession s, int fd, long segId, long size, int prot) {
        boolean writable = (prot & D_SEG_WRITE) != 0;
        Integer sent = s.delivered.get(segId);
        if (sent != null && (sent & (writable ? 2 : 1)) != 0) return 0;
        if (fd < 0) return -DIOS_ENOMEM;
        int rc = sendSegment(s, fd, segId, size, prot);
        if (rc < 0) return rc;
        s.delivered.put(segId, (sent == null ? 0 : sent) | (writable ? 2 : 1));
        cqeFlags |= D_CQE_F_SEGMENT;
        return 1;
    }

    private int sendSegment(TaskSession s, int fd, long segId, long size, int prot) {
        segMsg.set(JAVA_INT, SegmentMessageDescriptor.MAGIC_OFFSET, DIOS_MSG_SEGMENT);
        segMsg.set(JAVA_INT, SegmentMessageDescriptor.PROT_OFFSET, prot);
        segMsg.set(JAVA_LONG, SegmentMessageDescriptor.SEG_ID_OFFSET, segId);
        segMsg.set(JAVA_LONG, SegmentMessageDescriptor.SIZE_OFFSET, size);
        segMsg.set(JAVA_LONG, SegmentMessageDescriptor.RSVD_OFFSET, 0L);
        long n = UnixSocket.sendWithFds(s.sock, segMsg, fd);
        if (n == SegmentMessageDescriptor.SIZE) return 0;
        if (n == -LibC.EAGAIN) {
            throw new Disconnect("control socket full: the task does not read its segment messages");
        }
        throw new Disconnect("cannot send segment: " + LibC.strerror((int) -n));
    }

    private int bufferOp(TaskSession s, int opcode, long refId, long bufId, long len, long flags) {
        if ((flags & ~D_FLAGS_IO_MASK) != 0) return -DIOS_EINVAL;
        Reference ref = s.refs.get(refId);
        if (ref == null) return -DIOS_EBADF;
        Buffer b = s.buffers.get(bufId);
        boolean writeOp = opcode == D_OP_COMMIT_WRITE || opcode == D_OP_RELEASE_WRITE;
        if (b == null || b.ref != ref || b.write != writeOp) return -DIOS_EINVAL;
        boolean release = opcode == D_OP_RELEASE_READ || opcode == D_OP_RELEASE_WRITE;
        if (release) {
            s.buffers.remove(bufId);
            ref.buffers--;
            stats.buffers--;
            if (ref.object instanceof ConsoleObject && s.console != null) {
                if (b.write) s.console.writeOut = false;
                else s.console.readOut = false;
            }
            return 0; // releasing is clean-up, allowed on zombies too
        }
        DObject o = ref.object;
        if (o instanceof ConsoleObject) {
            if (release) return 0;
            return opcode == D_OP_COMMIT_WRITE ? commitConsole(s, b, len, flags) : 0;
        }
        if (o.isZombie()) return -DIOS_EIDRM;
        if (!(o instanceof SegmentSource m)) return -DIOS_EINVAL; // buffers exist only on objects that map
        if (opcode == D_OP_COMMIT_WRITE) {
            if (len < 0 || len > b.length) return -DIOS_EINVAL;
            if (o instanceof BlobObject blob) {
                int rc = blob.store.commit(blob, len); // durable before 0
                if (rc == 0) stats.io(o.type, Stats.IO_COMMIT_WRITE, len);
                return rc;
            }
            ((MemoryObject) o).generation++;
            stats.io(o.type, Stats.IO_COMMIT_WRITE, len);
            return 0;
        }
        // commit_read: valid only if no write committed since the buffer was (re-)armed.
        boolean stale = b.armedGeneration != m.generation();
        b.armedGeneration = m.generation();
        if (stale) return -DIOS_ESTALE;
        stats.io(o.type, Stats.IO_COMMIT_READ, b.length);
        return 0;
    }

    // ---- FIFOs ----------------------------------------------------------------------

    /**
     * Acquire on a FIFO: bind the end, hand over the segments, and answer
     * D_CQE_F_FIFO ("attached: go on in place"). The data path and its waits
     * are the shim's (see FifoObject); the daemon never holds this call.
     */
    private int acquireFifo(TaskSession s, Reference ref, FifoObject f, long len, long flags, boolean write) {
        if (len < 0 || (write && len > f.capacity())) return -DIOS_EINVAL;
        int rc = f.bind(ref, write);
        if (rc < 0) return rc;
        rc = f.ensureBacking(stats);
        if (rc < 0) return rc;
        int ctl = deliver(s, f.ctlFd(), f.ctlSegmentId(), DIOS_FIFO_CTL_SIZE, D_SEG_READ | D_SEG_WRITE);
        if (ctl < 0) return ctl;
        int prot = (write ? D_SEG_READ | D_SEG_WRITE : D_SEG_READ) | D_SEG_RING;
        int data = deliver(s, f.dataFd(write), f.dataSegmentId(), f.capacity(), prot);
        if (data < 0) return data;
        fifoVals(f, write, val);
        cqeFlags |= D_CQE_F_FIFO;
        return 0;
    }

    private static void fifoVals(FifoObject f, boolean write, long[] v) {
        v[0] = f.ctlSegmentId();
        v[1] = f.dataSegmentId();
        v[2] = write ? D_FIFO_END_WRITER : D_FIFO_END_READER;
        v[3] = f.capacity();
        v[4] = DIOS_FIFO_CTL_SIZE;
        v[5] = (write ? D_SEG_READ | D_SEG_WRITE : D_SEG_READ) | D_SEG_RING;
    }

    /** An end moved tail or head in place and saw a D_FIFO_NOTIFY_* bit: re-check the selects waiting on it. */
    private int notifyFifo(TaskSession s, long refId, long flags) {
        if (flags != 0) return -DIOS_EINVAL;
        Reference ref = s.refs.get(refId);
        if (ref == null) return -DIOS_EBADF;
        if (!(ref.object instanceof FifoObject f) || f.endOf(ref) == 0) return -DIOS_EINVAL;
        f.wakeWaiters(this);
        return 0;
    }

    // ---- select ---------------------------------------------------------------------

    /**
     * dios_select: the first ready reference, else park on every one of them.
     * The reference array is read once from the task's args area (copied:
     * the task may reuse that space as soon as it sees sq_head pass).
     * Registration costs O(count); a wake-up costs O(waiters of the object
     * that changed), never a scan of every reference.
     */
    private int select(TaskSession s, long count, long argOff, long flags) {
        if ((flags & ~D_NONBLOCK) != 0) return -DIOS_EINVAL;
        if (count <= 0) return -DIOS_EINVAL;
        if (count > DIOS_MAX_SELECT_REFS) return -DIOS_E2BIG;
        if (argOff < 0 || (argOff & 7) != 0 || argOff > DIOS_ARGS_BYTES - count * 8) return -DIOS_EINVAL;
        int n = (int) count;
        Reference[] refs = new Reference[n];
        long base = DIOS_REGION_ARGS_OFFSET + argOff;
        for (int i = 0; i < n; i++) {
            Reference r = s.refs.get(s.region.get(JAVA_LONG, base + 8L * i));
            if (r == null) return -DIOS_EBADF;
            refs[i] = r;
        }
        for (int i = 0; i < n; i++) {
            if (refs[i].object.readyFor(refs[i], s)) return selected(refs, i, val);
        }
        if ((flags & D_NONBLOCK) != 0) return -DIOS_EAGAIN;
        if (!mayPark(s)) return -DIOS_ENOMEM;
        // Parked selects of one task may hold at most this many registrations: a task
        // that parks 128 selects over 4,096 references each costs memory, not more.
        int registered = 0;
        for (ParkedCall p : s.parked) if (p.refs != null) registered += p.refs.length;
        if (registered + n > MAX_SELECT_REGISTRATIONS) return -DIOS_ENOMEM;
        ParkedCall pc = new ParkedCall(s, userData, D_OP_SELECT, flags, null, 0, refs);
        boolean console = false;
        for (int i = 0; i < n; i++) {
            refs[i].object.addWaiter(pc, i);
            console |= refs[i].object instanceof ConsoleObject;
        }
        // The other half of the FIFO Dekker pair: waiter bits are set; re-check.
        java.lang.invoke.VarHandle.fullFence();
        for (int i = 0; i < n; i++) {
            if (refs[i].object.readyFor(refs[i], s)) {
                pc.done = true; // its registrations are dropped lazily
                return selected(refs, i, val);
            }
        }
        s.parked.add(pc);
        if (console) ttyWatcher.watch(s);
        return PARKED;
    }

    /** Completes a parked call, counting an error result like {@link #execute} does for immediate ones. */
    void complete(TaskSession s, ParkedCall pc, int res, int flags, long[] v) {
        if (res < 0 && !pc.done && !s.dead) perCall.failed(CallStats.slot(pc.op), res);
        s.completeParked(pc, res, flags, v);
    }

    private static int selected(Reference[] refs, int i, long[] v) {
        v[0] = refs[i].id;
        v[1] = i;
        return 0;
    }

    /**
     * Called by an object for each call waiting on it after its state
     * changed: completes the call if it can go on now. Returns false if it
     * must keep waiting.
     */
    boolean tryComplete(ParkedCall.Wait w) {
        ParkedCall pc = w.call();
        if (pc.done) return true;
        TaskSession s = pc.task;
        if (s.dead) {
            pc.done = true;
            return true;
        }
        long[] v = new long[CqeDescriptor.VAL_COUNT];
        if (pc.op == D_OP_SELECT) {
            Reference r = pc.refs[w.index()];
            if (!r.object.readyFor(r, s)) return false;
            selected(pc.refs, w.index(), v);
            complete(s, pc, 0, 0, v);
            return true;
        }
        Reference r = pc.ref;
        if (!r.live) {
            complete(s, pc, -DIOS_EBADF, 0, v);
            return true;
        }
        if (r.object.isZombie()) {
            complete(s, pc, -DIOS_EIDRM, 0, v);
            return true;
        }
        if (pc.op == D_OP_ACQUIRE_READ && r.object instanceof TaskObject t && t.exited()) {
            taskExitVals(t, v);
            complete(s, pc, 0, D_CQE_F_INLINE, v);
            return true;
        }
        return false; // keeps waiting
    }

    // ---- tasks: run, copy, delegated, exit status, executables ---------------------

    /**
     * dios_run: checks the spec in the args area (struct dios_run_args, the
     * delegated references, the groups, the argv block), then hands the
     * spawn to the conductor, which parks the call until the launcher answers.
     */
    private int run(TaskSession s, MemorySegment r, long off, long flags, int sqeFlags) {
        if ((flags & ~D_FLAGS_RUN_MASK) != 0) return -DIOS_EINVAL;
        if (sqeFlags != 0) return -DIOS_EINVAL;
        if (r.get(JAVA_LONG, off + SqeDescriptor.REF2_OFFSET) != 0) return -DIOS_EINVAL;
        Reference exeRef = s.refs.get(r.get(JAVA_LONG, off + SqeDescriptor.REF_OFFSET));
        if (exeRef == null) return -DIOS_EBADF;
        if (exeRef.object.isZombie()) return -DIOS_EIDRM;
        if (!(exeRef.object instanceof ExeObject exe)) return -DIOS_ENOEXEC;
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
        if (argc == 0 || argc > argvBytes || RunArgsDescriptor.SIZE + 8 * (nrefs + ngroups) + argvBytes != len) return -DIOS_EINVAL;
        long p = base + RunArgsDescriptor.SIZE;
        Reference[] refs = new Reference[(int) nrefs];
        for (int i = 0; i < nrefs; i++, p += 8) {
            Reference d = s.refs.get(r.get(JAVA_LONG, p));
            if (d == null) return -DIOS_EBADF;
            if (d.object.isZombie()) return -DIOS_EIDRM;
            if (ObjectManager.isPrivateTo(d.object, s) || d.object.type == D_OBJ_PRIVMEM) return -DIOS_EACCES;
            refs[i] = d;
        }
        GroupObject[] groups = ngroups == 0 ? null : new GroupObject[(int) ngroups];
        for (int i = 0; i < ngroups; i++, p += 8) {
            Reference g = s.refs.get(r.get(JAVA_LONG, p));
            if (g == null) return -DIOS_EBADF;
            if (!(g.object instanceof GroupObject go)) return -DIOS_EINVAL;
            if (go.isZombie()) return -DIOS_EIDRM;
            if (!s.groups.contains(go)) return -DIOS_EACCES; // only a subset of the parent's own groups
            groups[i] = go;
        }
        byte[] block = new byte[(int) argvBytes];
        MemorySegment.copy(r, JAVA_BYTE, p, block, 0, block.length);
        if (block[block.length - 1] != 0) return -DIOS_EINVAL;
        String[] argv = new String[(int) argc];
        int k = 0, start = 0;
        for (int i = 0; i < block.length; i++) {
            if (block[i] != 0) continue;
            if (k == argv.length) return -DIOS_EINVAL; // more strings than argc
            argv[k++] = new String(block, start, i - start, java.nio.charset.StandardCharsets.UTF_8);
            start = i + 1;
        }
        if (k != argv.length) return -DIOS_EINVAL;
        return tasks.spawn(s, userData, exe, argv, refs, groups, (flags & D_RUN_SECCOMP_KILL) != 0);
    }

    /**
     * dios_copy: delegates references to a running task, with the same or
     * fewer permissions. They land in its reference table (or, before it has
     * registered, wait in its task object) and in its inbox, in order, where
     * dios_delegated takes them. All or nothing.
     */
    private int copy(TaskSession s, long targetRef, long count, long argOff, long flags) {
        if ((flags & ~D_FLAGS_COPY_MASK) != 0) return -DIOS_EINVAL;
        if (count <= 0) return -DIOS_EINVAL;
        if (count > DIOS_MAX_COPY_REFS) return -DIOS_E2BIG;
        if (argOff < 0 || (argOff & 7) != 0 || argOff > DIOS_ARGS_BYTES - count * 8) return -DIOS_EINVAL;
        Reference tr = s.refs.get(targetRef);
        if (tr == null) return -DIOS_EBADF;
        if (!(tr.object instanceof TaskObject t)) return -DIOS_EINVAL;
        if (!tr.can(D_PERM_WRITE)) return -DIOS_EACCES;
        if (t.exited() || t.isZombie() || (t.session == null && t.pending == null)) return -DIOS_ESRCH;
        int n = (int) count;
        Reference[] refs = new Reference[n];
        long base = DIOS_REGION_ARGS_OFFSET + argOff;
        for (int i = 0; i < n; i++) {
            Reference d = s.refs.get(s.region.get(JAVA_LONG, base + 8L * i));
            if (d == null) return -DIOS_EBADF;
            if (d.object.isZombie()) return -DIOS_EIDRM;
            if (d.object.type == D_OBJ_PRIVMEM) return -DIOS_EACCES;
            refs[i] = d;
        }
        boolean readonly = (flags & D_COPY_READONLY) != 0;
        TaskSession ts = t.session;
        if (ts != null && ts.refs.size() + n > ts.refs.capacity()) return -DIOS_ENOMEM;
        for (Reference d : refs) {
            int perms = readonly ? d.perms & D_PERM_READ : d.perms;
            if (!d.object.tryRetain()) continue; // cannot happen: s holds it
            if (ts != null) {
                long id = objects.addReference(ts, d.object, perms);
                if (id != 0) ts.inbox.add(id);
            } else {
                t.addPending(d.object, perms);
            }
        }
        return 0;
    }

    /** dios_delegated: up to DIOS_DELEGATED_BATCH references from this task's inbox, in order. */
    private int delegated(TaskSession s, long capacity, long flags) {
        if ((flags & ~D_NONBLOCK) != 0 || capacity <= 0) return -DIOS_EINVAL;
        int n = (int) Math.min(capacity, DIOS_DELEGATED_BATCH);
        int k = 0;
        while (k < n && !s.inbox.isEmpty()) {
            long id = s.inbox.poll();
            if (s.refs.get(id) != null) val[k++] = id; // released meanwhile: skipped
        }
        return 0;
    }

    /** Reading a task reference: its exit status once it has ended (else it waits, or -EAGAIN). */
    private int readTask(TaskSession s, Reference ref, TaskObject t, long flags) {
        if (t.exited()) {
            taskExitVals(t, val);
            cqeFlags |= D_CQE_F_INLINE;
            return 0;
        }
        if ((flags & D_NONBLOCK) != 0) return -DIOS_EAGAIN;
        if (!mayPark(s)) return -DIOS_ENOMEM;
        ParkedCall pc = new ParkedCall(s, userData, D_OP_ACQUIRE_READ, flags, ref, 0, null);
        s.parked.add(pc);
        t.addWaiter(pc, -1);
        return PARKED;
    }

    private static void taskExitVals(TaskObject t, long[] v) {
        v[0] = t.status();
        v[1] = t.pid;
        v[2] = t.taskId;
    }

    /**
     * Creates (or finds) the executable object of a path: an absolute path
     * in the args area, canonicalised here; the name is SHA-256 of the
     * canonical path. Creating an existing one gives another reference to it.
     */
    private int createExe(TaskSession s, long argOff, long len, boolean named) {
        if (len <= 0 || len >= DIOS_EXE_PATH_MAX || argOff < 0 || argOff > DIOS_ARGS_BYTES - len) return -DIOS_EINVAL;
        byte[] b = new byte[(int) len];
        MemorySegment.copy(s.region, JAVA_BYTE, DIOS_REGION_ARGS_OFFSET + argOff, b, 0, b.length);
        for (byte c : b) if (c == 0) return -DIOS_EINVAL;
        String path = new String(b, java.nio.charset.StandardCharsets.UTF_8);
        if (!path.startsWith("/")) return -DIOS_EINVAL;
        if (s.refs.size() >= s.refs.capacity()) return -DIOS_ENOMEM;
        String canonical;
        try {
            java.nio.file.Path real = java.nio.file.Path.of(path).toRealPath();
            if (!java.nio.file.Files.isRegularFile(real)) return -DIOS_EACCES;
            canonical = real.toString();
        } catch (java.nio.file.NoSuchFileException e) {
            return -DIOS_ENOENT;
        } catch (java.nio.file.InvalidPathException e) {
            return -DIOS_EINVAL;
        } catch (java.io.IOException | SecurityException e) {
            return -DIOS_EACCES;
        }
        ExeObject e = exes.exe(canonical, s.taskId);
        if (e == null) return -DIOS_EEXIST;
        long ref = objects.addReference(s, e, D_PERM_READ);
        if (ref == 0) return -DIOS_ENOMEM;
        val[0] = ref;
        if (named) nameVals(e.name());
        return 0;
    }

    /** Finds or makes executable objects (the conductor's, which also makes one per registered task). */
    public interface Exes {
        ExeObject exe(String canonicalPath, long taskId);
    }
    Exes exes = (p, t) -> null;

    // ---- the console ----------------------------------------------------------------

    private int acquireConsole(TaskSession s, Reference ref, ConsoleObject c, long len, long flags, boolean write) {
        if (len < 0 || len > DIOS_CONSOLE_BUF_BYTES) return -DIOS_EINVAL;
        if (len == 0) len = DIOS_CONSOLE_BUF_BYTES;
        if (s.buffers.size() >= s.buffers.capacity()) return -DIOS_ENOMEM;
        ConsoleObject.Session cs = c.session(s, objects);
        if (cs == null) return -DIOS_ENOMEM;
        if (write) {
            if (cs.writeOut) return -DIOS_EBUSY;
            return consoleBuffer(s, ref, cs, true, len, val);
        }
        if (cs.readOut || !cs.reads.isEmpty()) return -DIOS_EBUSY;
        long n = ConsoleObject.readInput(s, len);
        if (n > 0) return consoleBuffer(s, ref, cs, false, n, val);
        if (n != -DIOS_EAGAIN) return (int) n;
        if ((flags & D_NONBLOCK) != 0) return -DIOS_EAGAIN;
        if (!mayPark(s)) return -DIOS_ENOMEM;
        ParkedCall pc = new ParkedCall(s, userData, D_OP_ACQUIRE_READ, flags, ref, len, null);
        s.parked.add(pc);
        cs.reads.add(pc);
        ttyWatcher.watch(s);
        return PARKED;
    }

    /** A buffer over the task's console output (input) memfd, [0, len). */
    private int consoleBuffer(TaskSession s, Reference ref, ConsoleObject.Session cs, boolean write, long len, long[] v) {
        int prot = write ? D_SEG_READ | D_SEG_WRITE : D_SEG_READ;
        long seg = write ? cs.outSeg : cs.inSeg;
        int rc = deliver(s, write ? cs.outFd : cs.inRoFd, seg, DIOS_CONSOLE_BUF_BYTES, prot);
        if (rc < 0) return rc;
        Buffer b = new Buffer(ref, write, 0, len, 0);
        long id = s.buffers.add(b);
        if (id == 0) return -DIOS_ENOMEM;
        b.id = id;
        ref.buffers++;
        stats.buffers++;
        if (write) cs.writeOut = true;
        else cs.readOut = true;
        v[0] = id;
        v[1] = seg;
        v[2] = 0;
        v[3] = len;
        v[4] = DIOS_CONSOLE_BUF_BYTES;
        v[5] = prot;
        return 0;
    }

    private int commitConsole(TaskSession s, Buffer b, long len, long flags) {
        if (len < 0 || len > b.length) return -DIOS_EINVAL;
        ConsoleObject.Session cs = s.console;
        if (cs.pendingWrite != null) return -DIOS_EBUSY;
        long done = ConsoleObject.writeOutput(s, 0, len);
        if (done < 0) return (int) done;
        if (done == len) return 0;
        if ((flags & D_NONBLOCK) != 0 && done == 0) return -DIOS_EAGAIN;
        if (!mayPark(s)) return -DIOS_ENOMEM;
        ParkedCall pc = new ParkedCall(s, userData, D_OP_COMMIT_WRITE, flags, b.ref, len, null);
        s.parked.add(pc);
        cs.pendingWrite = pc;
        cs.pendingOff = done;
        cs.pendingEnd = len;
        ttyWatcher.watch(s);
        return PARKED;
    }

    /**
     * The task's terminal became readable or writable (or hung up): finish
     * a pending console write, serve parked console reads, and wake selects
     * on the console. Returns true while something still waits on it.
     */
    public boolean ttyEvent(TaskSession s, ConsoleObject console) {
        ConsoleObject.Session cs = s.console;
        long[] v = new long[CqeDescriptor.VAL_COUNT];
        if (cs != null && cs.pendingWrite != null) {
            long done = ConsoleObject.writeOutput(s, cs.pendingOff, cs.pendingEnd);
            if (done < 0 || done == cs.pendingEnd) {
                ParkedCall pc = cs.pendingWrite;
                cs.pendingWrite = null;
                complete(s, pc, done < 0 ? (int) done : 0, 0, v);
            } else {
                cs.pendingOff = done;
            }
        }
        while (cs != null && !cs.reads.isEmpty()) {
            ParkedCall pc = cs.reads.get(0);
            if (pc.done) {
                cs.reads.remove(0);
                continue;
            }
            if (!pc.ref.live) {
                cs.reads.remove(0);
                complete(s, pc, -DIOS_EBADF, 0, v);
                continue;
            }
            long n = ConsoleObject.readInput(s, pc.len);
            if (n == -DIOS_EAGAIN) break;
            cs.reads.remove(0);
            java.util.Arrays.fill(v, 0);
            int res = n > 0 ? consoleBuffer(s, pc.ref, cs, false, n, v) : (int) n;
            complete(s, pc, res, 0, v);
        }
        console.wakeWaiters(this);
        boolean[] selects = {false};
        console.forEachLiveWaiter(w -> selects[0] |= w.call().task == s);
        return selects[0] || (cs != null && (cs.pendingWrite != null || !cs.reads.isEmpty()));
    }

    // ---- information -------------------------------------------------------------

    private int refInfo(TaskSession s, long refId, long flags) {
        if (flags != 0) return -DIOS_EINVAL;
        Reference ref = s.refs.get(refId);
        if (ref == null) return -DIOS_EBADF;
        DObject o = ref.object;
        int state = 0;
        if (o.name() != null && !o.isZombie()) state |= D_REF_STATE_NAMED;
        if (o.isZombie()) state |= D_REF_STATE_ZOMBIE;
        else state |= o.readiness();
        if (o instanceof FifoObject f) val[5] = f.endOf(ref);
        val[0] = o.type;
        val[1] = ref.perms;
        val[2] = o.size();
        val[3] = state;
        val[4] = o.id;
        return 0;
    }

    private int daemonStats(long flags) {
        if (flags != 0) return -DIOS_EINVAL;
        val[0] = stats.tasks;
        val[1] = stats.objects;
        val[2] = stats.names;
        val[3] = stats.refs;
        val[4] = stats.buffers;
        val[5] = stats.segments;
        return 0;
    }
}

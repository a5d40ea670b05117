package org.dios.diosd.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.dios.abi.Abi;
import org.dios.abi.CqeDescriptor;
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
 */
public final class CallDispatcher {
    /** Thrown when serving a call shows the task must be disconnected. */
    public static final class Disconnect extends RuntimeException {
        public Disconnect(String reason) {
            super(reason, null, false, false);
        }
    }

    private final ObjectManager objects;
    private final Stats stats;
    private final long[] val = new long[CqeDescriptor.VAL_COUNT];
    private final MemorySegment segMsg = Arena.global().allocate(SegmentMessageDescriptor.SIZE, 8);
    private int cqeFlags;
    /** Blob files and the journal; null in a daemon without a state directory (unit tests): no blobs. */
    private BlobStore blobs;

    public CallDispatcher(ObjectManager objects, Stats stats) {
        this.objects = objects;
        this.stats = stats;
    }

    /** Enables D_OBJ_BLOB; called once the store's durable blobs are attached. */
    public void blobs(BlobStore store) {
        this.blobs = store;
    }

    /** Runs the SQE at sqeOff in s's region and writes its CQE at cqeOff. */
    public void execute(TaskSession s, long sqeOff, long cqeOff) {
        MemorySegment r = s.region;
        int opcode = r.get(JAVA_BYTE, sqeOff + SqeDescriptor.OPCODE_OFFSET) & 0xff;
        long userData = r.get(JAVA_LONG, sqeOff + SqeDescriptor.USER_DATA_OFFSET);
        java.util.Arrays.fill(val, 0);
        cqeFlags = 0;
        int res;
        if (!reservedZero(r, sqeOff)) {
            res = -DIOS_EINVAL;
        } else {
            res = dispatch(s, r, sqeOff, opcode);
        }
        stats.calls++;
        r.set(JAVA_LONG, cqeOff + CqeDescriptor.USER_DATA_OFFSET, userData);
        r.set(JAVA_INT, cqeOff + CqeDescriptor.RES_OFFSET, res);
        r.set(JAVA_INT, cqeOff + CqeDescriptor.FLAGS_OFFSET, cqeFlags);
        for (int i = 0; i < val.length; i++) r.set(JAVA_LONG, cqeOff + CqeDescriptor.VAL_OFFSET + 8L * i, val[i]);
        if (res < 0 && Log.enabled(Log.Level.DEBUG)) {
            Log.debug(s + " " + opName(opcode) + " -> " + res);
        }
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

    private int dispatch(TaskSession s, MemorySegment r, long off, int opcode) {
        long flags = r.get(JAVA_LONG, off + SqeDescriptor.FLAGS_OFFSET);
        return switch (opcode) {
            case D_OP_NOP -> (flags & ~D_NONBLOCK) != 0 ? -DIOS_EINVAL : 0;
            case D_OP_CREATE -> create(s, r, off, flags);
            case D_OP_LOOKUP -> lookup(s, r, off, flags);
            case D_OP_DELETE -> delete(s, r.get(JAVA_LONG, off + SqeDescriptor.REF_OFFSET), flags);
            case D_OP_ACQUIRE_READ, D_OP_ACQUIRE_WRITE -> acquire(s, r.get(JAVA_LONG, off + SqeDescriptor.REF_OFFSET),
                    r.get(JAVA_LONG, off + SqeDescriptor.LEN_OFFSET), flags, opcode == D_OP_ACQUIRE_WRITE);
            case D_OP_COMMIT_READ, D_OP_RELEASE_READ, D_OP_COMMIT_WRITE, D_OP_RELEASE_WRITE -> bufferOp(s, opcode,
                    r.get(JAVA_LONG, off + SqeDescriptor.REF_OFFSET), r.get(JAVA_LONG, off + SqeDescriptor.BUF_OFFSET),
                    r.get(JAVA_LONG, off + SqeDescriptor.LEN_OFFSET), flags);
            case D_OP_REF_INFO -> refInfo(s, r.get(JAVA_LONG, off + SqeDescriptor.REF_OFFSET), flags);
            case D_OP_STATS -> daemonStats(flags);
            case D_OP_COPY, D_OP_RUN, D_OP_SELECT -> -DIOS_ENOSYS; // FIFO and task issues
            default -> -DIOS_ENOSYS;
        };
    }

    // ---- create / lookup / delete ------------------------------------------------

    private int create(TaskSession s, MemorySegment r, long off, long flags) {
        if ((flags & ~D_FLAGS_CREATE_MASK) != 0) return -DIOS_EINVAL;
        int sqeFlags = r.get(JAVA_BYTE, off + SqeDescriptor.SQE_FLAGS_OFFSET) & 0xff;
        if ((sqeFlags & ~D_SQE_ARG) != 0) return -DIOS_EINVAL;
        int type = r.get(JAVA_INT, off + SqeDescriptor.OBJ_TYPE_OFFSET);
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
        DObject o;
        switch (type) {
            case D_OBJ_PRIVMEM, D_OBJ_SHMEM -> {
                if (!hasArg || arg <= 0 || arg > DIOS_MAX_OBJECT_SIZE) return -DIOS_EINVAL;
                if (s.refs.size() >= s.refs.capacity()) return -DIOS_ENOMEM;
                if (given && objects.resolve(givenName) != null) return -DIOS_EEXIST;
                o = new MemoryObject(objects.newObjectId(), type, s.taskId, arg);
            }
            case D_OBJ_BLOB -> {
                // No argument: an empty blob that grows on write.
                if (hasArg && (arg < 0 || arg > DIOS_MAX_OBJECT_SIZE)) return -DIOS_EINVAL;
                if (s.refs.size() >= s.refs.capacity()) return -DIOS_ENOMEM;
                if (given && objects.resolve(givenName) != null) return -DIOS_EEXIST;
                if (blobs == null) return -DIOS_EOPNOTSUPP;
                BlobObject b = blobs.create(objects.newObjectId(), s.taskId, hasArg ? arg : 0);
                if (b == null) return blobs.error();
                o = b;
            }
            case D_OBJ_FIFO, D_OBJ_CONSOLE, D_OBJ_GROUP -> {
                return -DIOS_EOPNOTSUPP; // arrive with their issues
            }
            default -> {
                return -DIOS_EINVAL; // D_OBJ_NONE, D_OBJ_TASK (made by dios_run) and unknown types
            }
        }
        objects.adopt(o);
        long ref = objects.addReference(s, o, D_PERM_READ | D_PERM_WRITE | D_PERM_DELETE);
        if (ref == 0) return -DIOS_ENOMEM;
        if (named) {
            Name n;
            if (given) {
                objects.bind(givenName, o); // checked above; single-threaded, so still free
                n = givenName;
            } else {
                n = objects.bindRandom(o);
            }
            if (o instanceof BlobObject b) {
                // A named blob is durable: journaled before the call completes, or not created at all.
                int rc = blobs.makeDurable(b, n);
                if (rc < 0) {
                    objects.removeReference(s, s.refs.get(ref));
                    return rc;
                }
            }
            val[1] = n.w0();
            val[2] = n.w1();
            val[3] = n.w2();
            val[4] = n.w3();
        }
        val[0] = ref;
        return 0;
    }

    private int lookup(TaskSession s, MemorySegment r, long off, long flags) {
        if ((flags & ~D_FLAGS_LOOKUP_MASK) != 0) return -DIOS_EINVAL;
        long capacity = r.get(JAVA_LONG, off + SqeDescriptor.LEN_OFFSET);
        if (capacity == 0) return -DIOS_EINVAL;
        if (!nameLineReservedZero(r, off)) return -DIOS_EINVAL;
        Name n = Name.read(r, off + SqeDescriptor.NAME_OFFSET);
        DObject o = objects.resolve(n);
        if (o == null || o.isZombie()) return -DIOS_ENOENT;
        if (ObjectManager.isPrivateTo(o, s)) return -DIOS_EACCES;
        if (s.refs.size() >= s.refs.capacity()) return -DIOS_ENOMEM;
        if (!o.tryRetain()) return -DIOS_ENOENT; // increment-not-zero: it is going away
        int perms = (flags & D_LOOKUP_READONLY) != 0 ? D_PERM_READ : D_PERM_READ | D_PERM_WRITE;
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
        if (objects.removeReference(s, ref, val) > 0) cqeFlags |= D_CQE_F_UNMAP;
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
        segMsg.set(JAVA_INT, SegmentMessageDescriptor.MAGIC_OFFSET, DIOS_MSG_SEGMENT);
        segMsg.set(JAVA_INT, SegmentMessageDescriptor.PROT_OFFSET, prot);
        segMsg.set(JAVA_LONG, SegmentMessageDescriptor.SEG_ID_OFFSET, m.segmentId());
        segMsg.set(JAVA_LONG, SegmentMessageDescriptor.SIZE_OFFSET, m.segmentSize());
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
            return 0; // releasing is clean-up, allowed on zombies too
        }
        DObject o = ref.object;
        if (o.isZombie()) return -DIOS_EIDRM;
        SegmentSource m = (SegmentSource) o; // buffers exist only on objects that map
        if (opcode == D_OP_COMMIT_WRITE) {
            if (len < 0 || len > b.length) return -DIOS_EINVAL;
            if (o instanceof BlobObject blob) return blob.store.commit(blob, len); // durable before 0
            ((MemoryObject) o).generation++;
            return 0;
        }
        // commit_read: valid only if no write committed since the buffer was (re-)armed.
        boolean stale = b.armedGeneration != m.generation();
        b.armedGeneration = m.generation();
        return stale ? -DIOS_ESTALE : 0;
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

package org.dios.diosd.objects;

import org.dios.abi.Abi;

/**
 * The driver of objects whose data tasks map (PRIVMEM, SHMEM, BLOB): acquire
 * hands over the segment (read-only fds for read-only references) and a
 * buffer over it; commit_write publishes a new generation, commit_read fails
 * with -ESTALE if one was published since the buffer was armed. The bytes
 * never pass through the daemon. Subclasses say how long a buffer may be,
 * how the backing is made, and what a committed write does.
 */
abstract class MappedObject extends DObject implements SegmentSource {
    protected MappedObject(long id, int type, long ownerTask) {
        super(id, type, ownerTask);
    }

    /** The longest buffer an acquire may ask for. */
    abstract long maxAcquire(boolean write);

    /** Makes the backing (and the mapping generation) ready for a buffer of len bytes. 0 or -errno. */
    abstract int ensureMapped(Stats stats, long len);

    /** A write of len bytes (checked against the buffer) is committed. 0 or -errno. */
    abstract int commitWrite(long len);

    @Override
    public final int acquire(Call c, Reference ref, long len, boolean write) {
        TaskSession s = c.task;
        if (len < 0 || len > maxAcquire(write)) return -Abi.DIOS_EINVAL;
        if (len == 0) len = size();
        if (s.buffers.size() >= s.buffers.capacity()) return -Abi.DIOS_ENOMEM;
        int rc = ensureMapped(c.stats, len);
        if (rc < 0) return rc;
        // The mapping's protection follows the reference: read-only references get read-only fds.
        boolean writable = ref.can(Abi.D_PERM_WRITE);
        int prot = writable ? Abi.D_SEG_READ | Abi.D_SEG_WRITE : Abi.D_SEG_READ;
        // Asked first so that fdFor (which may open the read-only fd) runs only for a segment the task lacks.
        if (!s.hasSegment(segmentId(), writable)) {
            rc = c.deliver(fdFor(writable), segmentId(), segmentSize(), prot);
            if (rc < 0) return rc;
        }
        long id = s.addBuffer(ref, write, len, generation(), c.stats);
        if (id == 0) return -Abi.DIOS_ENOMEM;
        c.stats.io(type, write ? Stats.IO_ACQUIRE_WRITE : Stats.IO_ACQUIRE_READ, len);
        Call.bufferVals(c.val, id, segmentId(), len, segmentSize(), prot);
        return 0;
    }

    @Override
    public final int commit(Call c, Buffer b, long len, boolean write) {
        if (write) {
            if (len < 0 || len > b.length) return -Abi.DIOS_EINVAL;
            int rc = commitWrite(len);
            if (rc == 0) c.stats.io(type, Stats.IO_COMMIT_WRITE, len);
            return rc;
        }
        // commit_read: valid only if no write committed since the buffer was (re-)armed.
        boolean stale = b.armedGeneration != generation();
        b.armedGeneration = generation();
        if (stale) return -Abi.DIOS_ESTALE;
        c.stats.io(type, Stats.IO_COMMIT_READ, b.length);
        return 0;
    }

    @Override
    public int readiness() {
        return Abi.D_REF_STATE_READABLE | Abi.D_REF_STATE_WRITABLE;
    }
}

package org.dios.diosd.objects;

import java.lang.foreign.Arena;

import org.dios.abi.Abi;
import org.dios.diosd.sys.LibC;


/**
 * PRIVMEM and SHMEM: a fixed-size memfd that tasks map. The daemon never maps
 * it and never copies its bytes.
 *
 * <p>Creation is metadata only; the memfd is made at the first acquire (as
 * Linux allocates anonymous pages at first touch). It is then sized, sealed
 * against shrink and grow (a task's ftruncate cannot make anyone fault) and
 * chmod 0400, so a task that holds only the read-only fd cannot reopen it for
 * writing through /proc/self/fd unless it owns the inode (see
 * docs/ARCHITECTURE.md, "Read-only references").
 */
public final class MemoryObject extends MappedObject {
    private final long size;
    private int rwFd = -1;
    private int roFd = -1;
    /** PRIVMEM: the task whose memory limit counts this object until it is freed, or null. */
    private TaskSession account;

    public MemoryObject(long id, int type, long ownerTask, long size) {
        super(id, type, ownerTask);
        this.size = size;
    }

    @Override
    public long size() {
        return size;
    }

    /** The segment id tasks see: the object id, never reused. */
    @Override
    public long segmentId() {
        return id;
    }

    @Override
    public long segmentSize() {
        return size;
    }

    /**
     * Counts this object's size as private memory of task s (PRIVMEM only:
     * no other task can hold it). Given back when the object is freed: its
     * last reference deleted, the task gone, or zombified.
     */
    void charge(TaskSession s, Stats stats) {
        account = s;
        s.privmemBytes += size;
        stats.privmemBytes += size;
    }

    /** Creates the backing memfd if needed. Returns 0 or -errno. */
    int ensureBacking(Stats stats) {
        if (rwFd >= 0) return 0;
        int fd = sealedMemfd("dios-" + typeName() + "-" + id, size);
        if (fd < 0) return fd;
        rwFd = fd;
        stats.segments++;
        return 0;
    }

    /**
     * A memfd of size bytes, sealed against shrink and grow (a task's
     * ftruncate can make nobody fault) and chmod 0400. Returns the fd, or
     * -ENOSPC / -ENOMEM.
     */
    static int sealedMemfd(String label, long size) {
        int fd;
        try (Arena a = Arena.ofConfined()) {
            fd = LibC.memfdCreate(a.allocateFrom(label), LibC.MFD_CLOEXEC | LibC.MFD_ALLOW_SEALING);
        }
        if (fd < 0) return -Abi.DIOS_ENOMEM;
        int r = LibC.ftruncate(fd, size);
        if (r == 0) r = LibC.fcntl(fd, LibC.F_ADD_SEALS, LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW | LibC.F_SEAL_SEAL);
        if (r == 0) r = LibC.fchmod(fd, 0400);
        if (r < 0) {
            LibC.close(fd);
            return r == -Abi.DIOS_ENOSPC ? -Abi.DIOS_ENOSPC : -Abi.DIOS_ENOMEM;
        }
        return fd;
    }

    /** A separate O_RDONLY description of rwFd: a task given it cannot map the memory writable. */
    static int readOnlyFd(int rwFd) {
        return LibC.open("/proc/self/fd/" + rwFd, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
    }

    /** fd to hand a task: read-write, or a separate O_RDONLY description. Returns fd or -errno. */
    @Override
    public int fdFor(boolean writable) {
        if (writable) return rwFd;
        if (roFd < 0) {
            int fd = readOnlyFd(rwFd);
            if (fd < 0) return fd;
            roFd = fd;
        }
        return roFd;
    }

    @Override
    long[] segmentIds(TaskSession s) {
        return rwFd >= 0 ? new long[] {segmentId()} : NO_SEGMENTS;
    }

    public boolean hasBacking() {
        return rwFd >= 0;
    }

    @Override
    protected void freeResources(Stats stats) {
        if (account != null) {
            account.privmemBytes -= size;
            stats.privmemBytes -= size;
            account = null;
        }
        if (rwFd >= 0) stats.segments--;
        LibC.close(rwFd);
        LibC.close(roFd);
        rwFd = -1;
        roFd = -1;
    }

    /** dios_create of PRIVMEM or SHMEM: size bytes (made at the first acquire); PRIVMEM counts against --max-task-memory. */
    static DObject create(CreateRequest req) {
        long arg = req.arg;
        if (!req.hasArg || arg <= 0 || arg > Abi.DIOS_MAX_OBJECT_SIZE) return req.fail(-Abi.DIOS_EINVAL);
        if (req.refsFull()) return req.fail(-Abi.DIOS_ENOMEM);
        TaskSession s = req.task;
        boolean priv = req.type == Abi.D_OBJ_PRIVMEM;
        // A task's private memory (its heap) is counted against its limit until the object is freed.
        if (priv && arg > req.call.limits.maxTaskMemory() - s.privmemBytes) {
            return req.fail(req.call.limitHit(Abi.D_DETAIL_MAX_TASK_MEMORY, req.call.limits.maxTaskMemory()));
        }
        MemoryObject m = new MemoryObject(req.objects().newObjectId(), req.type, s.taskId, arg);
        if (priv) m.charge(s, req.call.stats);
        return m;
    }

    /** PRIVMEM: only the task that made it may hold it. */
    @Override
    public boolean privateTo(TaskSession s) {
        return type == Abi.D_OBJ_PRIVMEM && ownerTask != s.taskId;
    }

    @Override
    public boolean delegable() {
        return type != Abi.D_OBJ_PRIVMEM;
    }

    @Override
    long maxAcquire(boolean write) {
        return size;
    }

    @Override
    int ensureMapped(Stats stats, long len) {
        return ensureBacking(stats);
    }

    @Override
    int commitWrite(Call c, Buffer b, long len) {
        return 0;
    }
}

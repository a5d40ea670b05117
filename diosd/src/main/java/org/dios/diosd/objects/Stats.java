package org.dios.diosd.objects;

import org.dios.abi.Abi;

/**
 * Daemon-wide counts, kept by the conductor thread and reported by D_OP_STATS.
 * Plain fields: only the conductor writes or reads them; other threads see
 * copies (DaemonSnapshot).
 */
public final class Stats {
    public long tasks;
    /** Live objects (zombies included until their last reference goes), in all and by D_OBJ_* type. */
    public long objects;
    public final long[] objectsByType = new long[Abi.D_OBJ_LAST];
    public long names;
    public long refs;
    public long buffers;
    public long segments;
    /** Bytes of all live PRIVMEM objects: the tasks' heaps (each task's share is TaskSession.privmemBytes). */
    public long privmemBytes;
    public long calls;
    public long wakeups;
    /**
     * References of parked calls that objects re-checked after a change (a
     * notify, an end going, a commit): the daemon's work for wake-ups, which
     * grows with the distinct calls waiting, not with their arrays.
     */
    public long waiterChecks;
    /**
     * Exceptions the conductor caught that no input should cause (a bug: the
     * task concerned is disconnected, or the loop goes on). Logged as
     * "internal error"; the fuzz harness and the hostile-task test fail on any.
     */
    public long internalErrors;
    /**
     * Bytes moved through objects the tasks map, by D_OBJ_* type and
     * IO_* kind: bytes handed out by acquire_read/acquire_write and
     * published by commit_read/commit_write. PRIVMEM and SHMEM count here;
     * the blob driver adds its own under D_OBJ_BLOB (the hook for blobs).
     */
    public final long[] ioBytes = new long[Abi.D_OBJ_LAST * IO_KINDS];
    public static final int IO_ACQUIRE_READ = 0, IO_ACQUIRE_WRITE = 1, IO_COMMIT_READ = 2, IO_COMMIT_WRITE = 3, IO_KINDS = 4;
    /** FIFO bytes written (the writers' tails, a hint) of FIFOs already freed. */
    public long fifoBytesRetired;

    /** Counts bytes of an IO_* kind moved through an object of a type. */
    public void io(int type, int kind, long bytes) {
        ioBytes[type * IO_KINDS + kind] += bytes;
    }
}

package org.dios.diosd.core;

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
    public long calls;
    public long wakeups;
    /** Per op: calls, errors by errno, service times; ring drain sizes. */
    public final CallStats perCall = new CallStats();
}

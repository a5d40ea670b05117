package org.dios.diosd.core;

/** Daemon-wide counts, kept by the conductor thread and reported by D_OP_STATS. */
public final class Stats {
    public long tasks;
    public long objects;
    public long names;
    public long refs;
    public long buffers;
    public long segments;
    public long calls;
    public long wakeups;
}

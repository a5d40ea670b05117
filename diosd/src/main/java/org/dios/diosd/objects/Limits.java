package org.dios.diosd.objects;

import org.dios.abi.Abi;

/**
 * Per-task limits the dispatcher and the drivers enforce, each with an exact
 * error: calls waiting in the daemon (--max-parked-calls, -ENOMEM) and bytes of
 * private memory (--max-task-memory, -ENOMEM).
 */
public record Limits(int maxParked, long maxTaskMemory) {
    /** Default of --max-task-memory: PRIVMEM bytes one task may hold. */
    public static final long DEFAULT_MAX_TASK_MEMORY = 8L << 30;
    /**
     * Calls one task may have waiting in the daemon (selects, dios_wait, console reads and
     * writes, dios_run while it spawns): half the CQ, so a full SQ's worth of calls that
     * complete at once always finds room, however many wait.
     */
    public static final int DEFAULT_MAX_PARKED = (int) (Abi.DIOS_CQ_ENTRIES - Abi.DIOS_SQ_ENTRIES);
    /** At most this many: one CQ entry always stays for calls that do not wait. */
    public static final int MAX_MAX_PARKED = (int) Abi.DIOS_CQ_ENTRIES - 1;

    public Limits {
        if (maxParked < 1 || maxParked > MAX_MAX_PARKED) {
            throw new IllegalArgumentException("maxParked must be 1.." + MAX_MAX_PARKED + ": " + maxParked);
        }
        if (maxTaskMemory <= 0) throw new IllegalArgumentException("max task memory must be positive: " + maxTaskMemory);
    }

    public static Limits defaults() {
        return new Limits(DEFAULT_MAX_PARKED, DEFAULT_MAX_TASK_MEMORY);
    }
}

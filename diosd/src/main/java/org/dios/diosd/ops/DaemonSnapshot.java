package org.dios.diosd.ops;

import org.dios.abi.Abi;
import org.dios.diosd.objects.Quotas;
import org.dios.diosd.objects.Stats;

/**
 * The daemon's counts at one moment, copied by the conductor thread for
 * other threads (the metrics endpoint) and for the operator's status.
 * Immutable: the arrays are private copies, read through the accessors.
 * Whoever receives it from the conductor ({@code DriverConductor.requestSnapshot()}) sees
 * every value, because the future that carries it is completed after the
 * copy (CompletableFuture's happens-before).
 */
public final class DaemonSnapshot {
    /** System.nanoTime() when taken, and milliseconds since the daemon's conductor was made. */
    public final long takenNanos;
    public final long uptimeMillis;
    public final long tasks;
    /** Tasks registered since start (task ids handed out). */
    public final long registrations;
    public final long objects;
    public final long names;
    public final long references;
    public final long buffers;
    public final long segments;
    /** Bytes of live PRIVMEM objects over all tasks. */
    public final long privmemBytes;
    /** Calls the daemon owes a completion (parked), over all tasks. */
    public final long parkedCalls;
    /** Completions written and not yet reaped by their tasks, over all tasks. */
    public final long completionsUnreaped;
    public final long wakeups;
    /** References of parked calls re-checked by objects after a change (Stats.waiterChecks). */
    public final long waiterChecks;
    /** Bytes written into FIFOs, from the writers' tails (a hint). */
    public final long fifoBytes;
    private final long[] objectsByType;
    private final long[] ioBytes;
    private final long[] calls;
    private final long[] errors;
    private final long[] service;
    private final long[] serviceNanos;
    private final long[] drains;
    public final long drainedEntries;
    /** The most any one task holds of what a per-task limit bounds. */
    public final TaskPeaks peaks;
    /** The limits (the daemon's flags), for "near a limit" alerts. */
    public final LimitValues limits;
    /** The per-user quotas, by Quotas kind: each quota, the most any user holds, refusals since start. */
    public final QuotaValues quotas;

    /** Per Quotas kind: the quota, the most one user holds of it, and how many creates or connections it refused. */
    public record QuotaValues(long[] limit, long[] peak, long[] refusals) {
        public static final QuotaValues NONE = new QuotaValues(new long[Quotas.KINDS], new long[Quotas.KINDS],
                new long[Quotas.KINDS]);

        /** A copy of what quotas holds now (the conductor's thread). */
        public static QuotaValues of(Quotas q) {
            long[] l = new long[Quotas.KINDS], p = new long[Quotas.KINDS], r = new long[Quotas.KINDS];
            for (int k = 0; k < Quotas.KINDS; k++) {
                l[k] = q.limit(k);
                p[k] = q.peak(k);
                r[k] = q.refusals(k);
            }
            return new QuotaValues(l, p, r);
        }
    }

    /** The most any one registered task holds: references, buffers, private memory bytes, parked calls. */
    public record TaskPeaks(long refs, long buffers, long privmemBytes, long parked) {
        public static final TaskPeaks NONE = new TaskPeaks(0, 0, 0, 0);
    }

    /** --max-tasks, --max-refs, --max-buffers, --max-task-memory, --max-parked-calls (0: unknown). */
    public record LimitValues(long tasks, long refs, long buffers, long privmemBytes, long parked) {
        public static final LimitValues NONE = new LimitValues(0, 0, 0, 0, 0);
    }

    public DaemonSnapshot(long takenNanos, long uptimeMillis, Stats s, CallStats c, long registrations, long parkedCalls,
                   long completionsUnreaped, long fifoBytes) {
        this(takenNanos, uptimeMillis, s, c, registrations, parkedCalls, completionsUnreaped, fifoBytes, TaskPeaks.NONE,
                LimitValues.NONE);
    }

    public DaemonSnapshot(long takenNanos, long uptimeMillis, Stats s, CallStats c, long registrations, long parkedCalls,
                   long completionsUnreaped, long fifoBytes, TaskPeaks peaks, LimitValues limits) {
        this(takenNanos, uptimeMillis, s, c, registrations, parkedCalls, completionsUnreaped, fifoBytes, peaks, limits,
                QuotaValues.NONE);
    }

    public DaemonSnapshot(long takenNanos, long uptimeMillis, Stats s, CallStats c, long registrations, long parkedCalls,
                   long completionsUnreaped, long fifoBytes, TaskPeaks peaks, LimitValues limits, QuotaValues quotas) {
        this.quotas = quotas;
        this.peaks = peaks;
        this.limits = limits;
        this.takenNanos = takenNanos;
        this.uptimeMillis = uptimeMillis;
        this.tasks = s.tasks;
        this.registrations = registrations;
        this.objects = s.objects;
        this.names = s.names;
        this.references = s.refs;
        this.buffers = s.buffers;
        this.segments = s.segments;
        this.privmemBytes = s.privmemBytes;
        this.parkedCalls = parkedCalls;
        this.completionsUnreaped = completionsUnreaped;
        this.wakeups = s.wakeups;
        this.waiterChecks = s.waiterChecks;
        this.fifoBytes = fifoBytes;
        this.objectsByType = s.objectsByType.clone();
        this.ioBytes = s.ioBytes.clone();
        this.calls = c.calls.clone();
        this.errors = c.errors.clone();
        this.service = c.service.clone();
        this.serviceNanos = c.serviceNanos.clone();
        this.drains = c.drains.clone();
        this.drainedEntries = c.drainedEntries;
    }

    /** All zeros: what a reader holds before the conductor's first answer. */
    public static DaemonSnapshot empty() {
        return new DaemonSnapshot(System.nanoTime(), 0, new Stats(), new CallStats(), 0, 0, 0, 0);
    }

    /** Live objects of a D_OBJ_* type. */
    public long objectsOfType(int type) {
        return type >= 0 && type < Abi.D_OBJ_LAST ? objectsByType[type] : 0;
    }

    /** Bytes of a Stats.IO_* kind moved through objects of a D_OBJ_* type. */
    public long ioBytes(int type, int kind) {
        return ioBytes[type * Stats.IO_KINDS + kind];
    }

    /** Calls of a CallStats slot (an op code, or CallStats.OPS - 1 for unknown codes). */
    public long calls(int slot) {
        return calls[slot];
    }

    public long totalCalls() {
        long n = 0;
        for (long c : calls) n += c;
        return n;
    }

    /** Errors of a slot with an errno slot (see CallStats.ERRNOS). */
    public long errors(int slot, int errno) {
        return errors[slot * CallStats.ERRNOS + errno];
    }

    /** Calls of a slot served within bucket b (not cumulative; see CallStats.SERVICE_BOUNDS_NS). */
    public long serviceBucket(int slot, int b) {
        return service[slot * CallStats.SERVICE_BUCKETS + b];
    }

    /** Calls of a slot that were timed, and their total service time. */
    public long serviceCount(int slot) {
        long n = 0;
        for (int b = 0; b < CallStats.SERVICE_BUCKETS; b++) n += service[slot * CallStats.SERVICE_BUCKETS + b];
        return n;
    }

    public long serviceNanos(int slot) {
        return serviceNanos[slot];
    }

    /** Drains that found a number of entries in bucket b (not cumulative; 1, 2, 4 ... 64, more). */
    public long drainBucket(int b) {
        return drains[b];
    }

    public long drainCount() {
        long n = 0;
        for (long d : drains) n += d;
        return n;
    }
}

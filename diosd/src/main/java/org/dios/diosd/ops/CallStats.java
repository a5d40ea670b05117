package org.dios.diosd.ops;

import org.dios.abi.Abi;

/**
 * What the calls did: per op code, how many, which errors, how long the
 * daemon spent serving them; and how many entries each drain of a ring found.
 *
 * <p>Plain {@code long} arrays indexed by op (and errno, or bucket), written
 * only by the conductor thread: a call costs one or two array increments,
 * and a timed call (metrics on) a few compares more. No other thread reads
 * them; the conductor copies them into a {@link DaemonSnapshot} when asked.
 */
public final class CallStats {
    /** One slot per op code, and a last one for codes the ABI does not know. */
    public static final int OPS = Abi.D_OP_LAST + 1;
    /** Errno slots; errno 0 is never an error, so slot 0 holds any errno of ERRNOS or more. */
    public static final int ERRNOS = 128;
    /**
     * Upper bounds (inclusive, ns) of the service-time buckets; one more,
     * unbounded, bucket follows. From about the cost of a null call's
     * dispatch to the slowest calls (a first acquire that creates, seals and
     * sends a memfd takes tens of µs).
     */
    public static final long[] SERVICE_BOUNDS_NS = {
        100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000, 10_000_000, 100_000_000,
    };
    public static final int SERVICE_BUCKETS = SERVICE_BOUNDS_NS.length + 1;
    /** Entries found by one drain: bucket k holds 2^(k-1) < n <= 2^k, so 1, 2, 4 ... 64 (the drain cap), then more. */
    public static final int DRAIN_BUCKETS = 8;

    final long[] calls = new long[OPS];
    final long[] errors = new long[OPS * ERRNOS];
    public final long[] service = new long[OPS * SERVICE_BUCKETS];
    public final long[] serviceNanos = new long[OPS];
    final long[] drains = new long[DRAIN_BUCKETS];
    public long drainedEntries;

    /** The slot of an op code (0..255, as read from an SQE). */
    public static int slot(int opcode) {
        return opcode >= 0 && opcode < Abi.D_OP_LAST ? opcode : Abi.D_OP_LAST;
    }

    /** A call consumed from a ring (its result is counted when it completes). */
    void called(int slot) {
        calls[slot]++;
    }

    /** A completion with a negative result went out for a call of this slot. */
    void failed(int slot, int res) {
        int e = -res;
        errors[slot * ERRNOS + (e > 0 && e < ERRNOS ? e : 0)]++;
    }

    /** The daemon spent nanos serving one call of this slot. */
    public void served(int slot, long nanos) {
        int b = 0;
        while (b < SERVICE_BOUNDS_NS.length && nanos > SERVICE_BOUNDS_NS[b]) b++;
        service[slot * SERVICE_BUCKETS + b]++;
        serviceNanos[slot] += nanos;
    }

    /** One drain of a ring found n > 0 entries. */
    public void drained(int n) {
        int b = 32 - Integer.numberOfLeadingZeros(n - 1);
        drains[Math.min(b, DRAIN_BUCKETS - 1)]++;
        drainedEntries += n;
    }

    /** Forgets everything (after the start-up warm-up, whose synthetic calls are nobody's). */
    public void reset() {
        java.util.Arrays.fill(calls, 0);
        java.util.Arrays.fill(errors, 0);
        java.util.Arrays.fill(service, 0);
        java.util.Arrays.fill(serviceNanos, 0);
        java.util.Arrays.fill(drains, 0);
        drainedEntries = 0;
    }

    /** Total calls of all ops. */
    public long totalCalls() {
        long n = 0;
        for (long c : calls) n += c;
        return n;
    }

    /** Name of a slot for labels: the op's name, or "unknown". */
    public static String opLabel(int slot) {
        return slot == Abi.D_OP_LAST ? "unknown" : Op.name(slot);
    }

    /** Name of an errno slot for labels: "ENOENT" and so on; "other" for slot 0. */
    public static String errnoLabel(int e) {
        return e == 0 ? "other" : Abi.errnoName(e);
    }
}

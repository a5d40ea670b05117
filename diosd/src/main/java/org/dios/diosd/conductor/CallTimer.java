package org.dios.diosd.conductor;

import org.dios.abi.SqeDescriptor;
import org.dios.diosd.objects.TaskSession;
import org.dios.diosd.ops.CallHook;
import org.dios.diosd.ops.CallStats;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * The service time of every call, for the metrics (--metrics): one clock
 * read per call (about 40 ns on this VM). A call is timed from the end of
 * the call before it, or for the first of a pass from the pass's start
 * ({@link #startAt}: doWork's clock read, or the wake-up), so its time
 * includes finding it in the ring and whatever the conductor did since
 * (publishing another task's completions).
 */
public final class CallTimer implements CallHook {
    private final CallStats perCall;
    /** Where the next call's service time starts. */
    private long from;
    private int op;

    CallTimer(CallStats perCall) {
        this.perCall = perCall;
    }

    /** A pass starts (or the conductor woke up) at now: the next call is timed from there. */
    void startAt(long now) {
        from = now;
    }

    @Override
    public void before(TaskSession s, long sqeOff) {
        op = s.region.get(JAVA_BYTE, sqeOff + SqeDescriptor.OPCODE_OFFSET) & 0xff;
    }

    @Override
    public void after(TaskSession s, long sqeOff, int res) {
        long end = System.nanoTime();
        perCall.served(CallStats.slot(op), end - from);
        from = end;
    }
}

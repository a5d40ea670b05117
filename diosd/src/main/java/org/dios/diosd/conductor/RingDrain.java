package org.dios.diosd.conductor;

import org.dios.abi.Abi;
import org.dios.diosd.objects.Disconnect;
import org.dios.diosd.objects.RingSlots;
import org.dios.diosd.objects.TaskSession;
import org.dios.diosd.ops.CallDispatcher;
import org.dios.diosd.ops.CallHook;
import org.dios.diosd.ops.CallStats;
import org.dios.diosd.trace.CallTrace;

/**
 * The drain loop: serves the submissions a task published, up to
 * {@link #CAP} a pass, and publishes their completions. One loop for every
 * case: while a client traces, each call goes through the {@link CallTrace};
 * with --metrics, through the {@link CallTimer}; otherwise through nothing
 * but the dispatcher (no clock, no hook call).
 *
 * <p>Conductor thread only.
 */
public final class RingDrain {
    /** Submissions served per drain of one task, so one busy task cannot starve the others. */
    static final int CAP = 64;

    private final CallDispatcher dispatcher;
    private final CallStats perCall;
    private final CallTrace trace;
    /** null: calls are not timed. */
    private final CallTimer timer;

    public RingDrain(CallDispatcher dispatcher, CallStats perCall, CallTrace trace, CallTimer timer) {
        this.dispatcher = dispatcher;
        this.perCall = perCall;
        this.trace = trace;
        this.timer = timer;
    }

    /**
     * Serves up to CAP submissions of s (a live task). Returns how many.
     * Throws {@link Disconnect} if the task's ring indices
     * are corrupt, or a call says the task must go.
     */
    public int drain(TaskSession s) {
        int tail = s.loadSqTail();
        int avail = tail - s.sqHead;
        if (avail == 0) return 0;
        if (avail < 0 || avail > Abi.DIOS_SQ_ENTRIES) {
            throw new Disconnect("corrupt ring: sq_tail " + Integer.toUnsignedString(tail)
                    + " is not within " + Abi.DIOS_SQ_ENTRIES + " entries after sq_head " + Integer.toUnsignedString(s.sqHead));
        }
        // cq_head is re-read only when the cached value says the CQ may be too full:
        // in the common case its cache line stays where the task wrote it. Parked
        // calls count as used: each is owed a completion, so the CQ never overflows.
        int parked = s.parked.size();
        int room = Abi.DIOS_CQ_ENTRIES - (s.cqTail - s.cachedCqHead) - parked;
        if (room < Math.min(avail, CAP)) {
            int cqHead = s.loadCqHead();
            int used = s.cqTail - cqHead;
            if (used < 0 || used > Abi.DIOS_CQ_ENTRIES) {
                throw new Disconnect("corrupt ring: cq_head " + Integer.toUnsignedString(cqHead)
                        + " is not within " + Abi.DIOS_CQ_ENTRIES + " entries before cq_tail "
                        + Integer.toUnsignedString(s.cqTail));
            }
            s.cachedCqHead = cqHead;
            room = Abi.DIOS_CQ_ENTRIES - used - parked;
        }
        int n = Math.max(0, Math.min(Math.min(avail, room), CAP));
        // Chosen once per drain: the trace (which also times, with --metrics), the timer, or none.
        CallHook hook = trace.on ? trace : timer;
        for (int i = 0; i < n && !s.dead; i++) {
            long sqeOff = RingSlots.sqeOffset(s.sqHead);
            if (hook != null) hook.before(s, sqeOff);
            int res = dispatcher.execute(s, sqeOff);
            s.sqHead++;
            if (hook != null) hook.after(s, sqeOff, res);
        }
        if (n > 0) {
            s.publish();
            perCall.drained(n);
        }
        return n;
    }
}

package org.dios.diosd.ops;

import org.dios.diosd.objects.TaskSession;

/**
 * What the drain loop ({@code conductor.RingDrain}) runs around each call while calls
 * are traced ({@code trace.CallTrace}) or timed ({@code conductor.CallTimer}). Chosen once
 * per drain; the plain loop has none, so an untraced, untimed call reads no
 * clock and runs nothing but the dispatcher.
 */
public interface CallHook {
    /** The call in the SQE at sqeOff of s is about to run. */
    void before(TaskSession s, long sqeOff);

    /** It ran: res is its result, or {@link CallDispatcher#PARKED}; s.sqHead is past it now. */
    void after(TaskSession s, long sqeOff, int res);
}

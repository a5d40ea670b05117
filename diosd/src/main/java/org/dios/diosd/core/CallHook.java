package org.dios.diosd.core;

/**
 * What the drain loop ({@link RingDrain}) runs around each call while calls
 * are traced ({@link CallTrace}) or timed ({@link CallTimer}). Chosen once
 * per drain; the plain loop has none, so an untraced, untimed call reads no
 * clock and runs nothing but the dispatcher.
 */
interface CallHook {
    /** The call in the SQE at sqeOff of s is about to run. */
    void before(TaskSession s, long sqeOff);

    /** It ran: res is its result, or {@link CallDispatcher#PARKED}; s.sqHead is past it now. */
    void after(TaskSession s, long sqeOff, int res);
}

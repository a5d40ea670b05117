package org.dios.diosd.objects;

/**
 * How an object completes a call that parked on it, once its state lets the
 * call go on. Objects see only this; the dispatcher implements it (it counts
 * the result in the per-op statistics, then the session writes the completion).
 */
@FunctionalInterface
public interface Completer {
    /** Completes pc of task s with res, D_CQE_F_* flags and the six result values. */
    void complete(TaskSession s, ParkedCall pc, int res, int flags, long[] val);

    /** An object re-checked n of its waiting references after a change (counted: dios_waiter_checks_total). */
    default void waitersChecked(long n) {
    }
}

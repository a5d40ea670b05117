package org.dios.diosd.objects;

/** Told when a parked call it watched completes (the trace records the call's resumption). */
@FunctionalInterface
public interface CallObserver {
    void resumed(TaskSession s, ParkedCall pc, int res, long[] val);
}

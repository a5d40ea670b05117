package org.dios.diosd.core;

/**
 * A call the daemon answers later: an acquire on an empty (full) FIFO, a
 * console read with no input yet, or a dios_select with nothing ready. Its
 * SQE was consumed; its completion is owed, and the task's CQ has room for it
 * (the conductor counts parked calls against the CQ, see DriverConductor.drain).
 *
 * <p>A parked call waits on one or more objects (a select on each of its
 * references). Whichever object sees it ready first completes it; the others
 * drop it lazily the next time they look at their waiters.
 */
final class ParkedCall {
    final TaskSession task;
    final long userData;
    final int op;
    final long flags;
    /** ACQUIRE_*: the reference it waits through; SELECT: null. */
    final Reference ref;
    /** ACQUIRE_WRITE on a FIFO: bytes of space wanted. */
    final long len;
    /** SELECT: the references, in the caller's order. */
    final Reference[] refs;
    boolean done;
    /** Set when it parked while tracing: its completion is traced too (CallTrace.resumed). */
    CallTrace tracedBy;
    long traceStart;

    ParkedCall(TaskSession task, long userData, int op, long flags, Reference ref, long len, Reference[] refs) {
        this.task = task;
        this.userData = userData;
        this.op = op;
        this.flags = flags;
        this.ref = ref;
        this.len = len;
        this.refs = refs;
    }

    /** One registration of a parked call on an object: for a select, which of its references. */
    record Wait(ParkedCall call, int index) {
        Reference reference() {
            return index < 0 ? call.ref : call.refs[index];
        }
    }
}

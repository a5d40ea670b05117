package org.dios.diosd.objects;

import org.dios.abi.Abi;
import org.dios.abi.CqeDescriptor;

/**
 * A call the daemon answers later: an acquire on an empty (full) FIFO, a
 * console read with no input yet, or a dios_select with nothing ready. Its
 * SQE was consumed; its completion is owed, and the task's CQ has room for it
 * (the conductor counts parked calls against the CQ, see RingDrain.drain).
 *
 * <p>A parked call waits on one or more objects (a select on each of its
 * references). Whichever object sees it ready first completes it; the others
 * drop it lazily the next time they look at their waiters.
 */
public final class ParkedCall {
    public final TaskSession task;
    final long userData;
    public final int op;
    public final long flags;
    /** ACQUIRE_*: the reference it waits through; SELECT: null. */
    public final Reference ref;
    /** ACQUIRE_WRITE on a FIFO: bytes of space wanted. */
    final long len;
    /** SELECT: the references, in the caller's order. */
    public final Reference[] refs;
    public boolean done;
    /** Set when it parked while tracing: its completion is traced too (CallTrace.resumed). */
    public CallObserver tracedBy;
    public long traceStart;
    /** D_TIMEOUT: when it gives up with -ETIMEDOUT (System.nanoTime() scale), if scheduled in {@link #deadlines}. */
    long deadline;
    /** Its place in {@link #deadlines}' heap, or -1 when not scheduled. */
    int heapIndex = -1;
    Deadlines deadlines;
    /** The SQE's len, for the completion's trace line. */
    public long traceLen;

    public ParkedCall(TaskSession task, long userData, int op, long flags, Reference ref, long len, Reference[] refs) {
        this.task = task;
        this.userData = userData;
        this.op = op;
        this.flags = flags;
        this.ref = ref;
        this.len = len;
        this.refs = refs;
    }

    /** Owed to nobody any more (its task went): done, and off the deadline heap. */
    public void drop() {
        done = true;
        unschedule();
    }

    /** Takes it off the deadline heap (it completed). */
    void unschedule() {
        if (deadlines != null) deadlines.remove(this);
    }

    /**
     * Takes it (once done) off the waiter lists of every object it waits on:
     * a select's on each of its references' objects, another call's on its
     * reference's. A timed-out call leaves nothing behind that a later event
     * could complete, and a FIFO stops asking its ends for notifies.
     */
    void withdraw(Completer c) {
        if (refs != null) {
            for (Reference r : refs) r.object.withdraw(this, c);
        } else if (ref != null) {
            ref.object.withdraw(this, c);
        }
    }

    /** A select: it waits on every one of its references. */
    public boolean isSelect() {
        return refs != null;
    }

    /** A select's answer: the reference chosen and its index in the caller's array. */
    public static void selected(Reference[] refs, int i, long[] v) {
        v[0] = refs[i].id;
        v[1] = i;
    }

    /** One registration of a parked call on an object: for a select, which of its references. */
    record Wait(ParkedCall call, int index) {
        Reference reference() {
            return index < 0 ? call.ref : call.refs[index];
        }

        /**
         * Called by an object for each call waiting on it after its state
         * changed: completes the call through c if it can go on now. Returns
         * false if it must keep waiting.
         */
        boolean tryComplete(Completer c) {
            ParkedCall pc = call;
            if (pc.done) return true;
            TaskSession s = pc.task;
            if (s.dead) {
                pc.done = true;
                return true;
            }
            long[] v = new long[CqeDescriptor.VAL_COUNT];
            if (pc.isSelect()) {
                Reference r = pc.refs[index];
                if (!r.object.readyFor(r, s)) return false;
                selected(pc.refs, index, v);
                c.complete(s, pc, 0, 0, v);
                return true;
            }
            Reference r = pc.ref;
            if (!r.live) {
                c.complete(s, pc, -Abi.DIOS_EBADF, 0, v);
                return true;
            }
            if (r.object.isZombie()) {
                c.complete(s, pc, -Abi.DIOS_EIDRM, 0, v);
                return true;
            }
            return r.object.resume(pc, c);
        }
    }
}

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
    /**
     * SELECT: the references it waits through, one per object and kind of
     * wait ({@link ObjectDriver#selectClass}), grouped by object in the order
     * each object first appears in the caller's array; {@link #at} holds each
     * one's index in that array. A select naming one reference 4,096 times
     * holds one here, and registers once on its object.
     */
    public final Reference[] refs;
    /** SELECT: refs[k]'s index in the caller's array (the first that named it). */
    final int[] at;
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

    /** A call that is not a select, waiting through ref (or, as a spawn, through nothing). */
    public ParkedCall(TaskSession task, long userData, int op, long flags, Reference ref, long len) {
        this(task, userData, op, flags, ref, len, null, null);
    }

    /** The same; refs must be null (a select is made with its indexes: the constructor below). */
    public ParkedCall(TaskSession task, long userData, int op, long flags, Reference ref, long len, Reference[] refs) {
        this(task, userData, op, flags, ref, len, refs, null);
    }

    /** A select over refs (distinct, grouped by object, see {@link #refs}) found at caller indexes at. */
    public ParkedCall(TaskSession task, long userData, int op, long flags, Reference ref, long len, Reference[] refs, int[] at) {
        this.task = task;
        this.userData = userData;
        this.op = op;
        this.flags = flags;
        this.ref = ref;
        this.len = len;
        this.refs = refs;
        this.at = at;
        if (refs != null && (at == null || at.length != refs.length)) throw new IllegalArgumentException("refs and at differ");
    }

    /**
     * A select's registrations: each object it waits on once, with the range
     * of {@link #refs} through which it waits there. The caller made refs
     * grouped by object. Returns how many registrations were made.
     */
    public int register() {
        int n = 0;
        for (int from = 0; from < refs.length; ) {
            int to = from + 1;
            while (to < refs.length && refs[to].object == refs[from].object) to++;
            refs[from].object.addWaiter(new Wait(this, from, to));
            n++;
            from = to;
        }
        return n;
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
            for (int k = 0; k < refs.length; k++) {
                if (k == 0 || refs[k].object != refs[k - 1].object) refs[k].object.withdraw(this, c);
            }
        } else if (ref != null) {
            ref.object.withdraw(this, c);
        }
    }

    /** A select: it waits on every one of its references. */
    public boolean isSelect() {
        return refs != null;
    }

    /** A select's answer: the reference chosen and its index in the caller's array. */
    public static void selected(Reference r, int index, long[] v) {
        v[0] = r.id;
        v[1] = index;
    }

    /**
     * One registration of a parked call on an object: for a select, the
     * range [from, to) of its {@link ParkedCall#refs} naming this object
     * (one per kind of wait, so a handful at most); for another call, its
     * reference (from = to = -1).
     */
    record Wait(ParkedCall call, int from, int to) {
        /** A parked call other than a select, waiting through its reference. */
        Wait(ParkedCall call) {
            this(call, -1, -1);
        }

        /** How many references it waits through here. */
        int count() {
            return from < 0 ? 1 : to - from;
        }

        /** The k-th reference it waits through here. */
        Reference reference(int k) {
            return from < 0 ? call.ref : call.refs[from + k];
        }

        /** True if it waits here through r. */
        boolean through(Reference r) {
            for (int k = 0; k < count(); k++) if (reference(k) == r) return true;
            return false;
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
                for (int k = from; k < to; k++) {
                    Reference r = pc.refs[k];
                    if (r.object.readyFor(r, s)) {
                        selected(r, pc.at[k], v);
                        c.complete(s, pc, 0, 0, v);
                        return true;
                    }
                }
                return false;
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

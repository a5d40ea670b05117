package org.dios.diosd.objects;

import org.dios.abi.Abi;
import org.dios.abi.CqeDescriptor;

/**
 * The deadlines of parked calls that asked for one (D_TIMEOUT), earliest
 * first: an indexed binary min-heap. Each scheduled {@link ParkedCall} knows
 * its place in it, so a call that completes before its deadline leaves at
 * once (O(log n)): nothing stays behind for calls that completed, and the
 * heap holds no more than the calls parked with a deadline. The conductor
 * asks {@link #next()} once per pass (one comparison) and sleeps in epoll no
 * longer than it; nothing scans the parked calls. Conductor thread only.
 */
public final class Deadlines {
    /** Timeouts above this (2^62 ns, about 146 years) never expire: now + timeout cannot overflow. */
    public static final long NEVER = 1L << 62;

    private ParkedCall[] heap = new ParkedCall[16];
    private int size;

    public boolean isEmpty() {
        return size == 0;
    }

    public int size() {
        return size;
    }

    /** The earliest deadline (System.nanoTime() scale); only when not {@link #isEmpty()}. */
    public long next() {
        return heap[0].deadline;
    }

    /** Schedules pc at pc.deadline (Call.parked: a timeout of NEVER or more is not scheduled at all). */
    void add(ParkedCall pc) {
        if (pc.heapIndex >= 0) return;
        if (size == heap.length) heap = java.util.Arrays.copyOf(heap, size * 2);
        pc.deadlines = this;
        heap[size] = pc;
        pc.heapIndex = size;
        up(size++);
    }

    /** Unschedules pc (it completed, or its task went); nothing if it is not scheduled. */
    void remove(ParkedCall pc) {
        int i = pc.heapIndex;
        if (i < 0 || pc.deadlines != this || i >= size || heap[i] != pc) return;
        pc.heapIndex = -1;
        ParkedCall last = heap[--size];
        heap[size] = null;
        if (i == size) return;
        heap[i] = last;
        last.heapIndex = i;
        down(i);
        up(last.heapIndex);
    }

    /**
     * Completes every call whose deadline is at or before now with
     * -ETIMEDOUT through c, after taking it off every waiter list it is on
     * (a select's: one per object), so no later event can find it. Returns
     * how many timed out.
     */
    public int expire(long now, Completer c) {
        int n = 0;
        while (size > 0 && heap[0].deadline - now <= 0) {
            ParkedCall pc = heap[0];
            remove(pc);
            if (pc.done) continue;
            c.complete(pc.task, pc, -Abi.DIOS_ETIMEDOUT, 0, new long[CqeDescriptor.VAL_COUNT]);
            pc.withdraw(c);
            n++;
        }
        return n;
    }

    private boolean less(int a, int b) {
        return heap[a].deadline - heap[b].deadline < 0;
    }

    private void swap(int a, int b) {
        ParkedCall x = heap[a];
        heap[a] = heap[b];
        heap[b] = x;
        heap[a].heapIndex = a;
        heap[b].heapIndex = b;
    }

    private void up(int i) {
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (!less(i, p)) return;
            swap(i, p);
            i = p;
        }
    }

    private void down(int i) {
        for (;;) {
            int l = 2 * i + 1, r = l + 1, m = i;
            if (l < size && less(l, m)) m = l;
            if (r < size && less(r, m)) m = r;
            if (m == i) return;
            swap(i, m);
            i = m;
        }
    }
}

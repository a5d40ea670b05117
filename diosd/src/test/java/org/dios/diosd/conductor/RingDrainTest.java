package org.dios.diosd.conductor;

import java.util.Arrays;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.dios.abi.RegionHeaderDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.objects.Disconnect;
import org.dios.diosd.objects.ObjectManager;
import org.dios.diosd.objects.RingSlots;
import org.dios.diosd.objects.Stats;
import org.dios.diosd.objects.SyntheticTasks;
import org.dios.diosd.objects.TaskSession;
import org.dios.diosd.ops.CallDispatcher;
import org.dios.diosd.trace.CallTrace;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.dios.abi.Abi.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The drain loop over a synthetic task, as the conductor runs it: what it
 * takes from the ring, what it publishes, when it stops, and that only a
 * timed drain reads the clock for the metrics. (The traced drain: CallTraceTest.)
 */
class RingDrainTest {
    private final Stats stats = new Stats();
    private final ObjectManager om = new ObjectManager(stats);
    private final CallDispatcher d = SyntheticTasks.dispatcher(om, stats);
    private final CallTrace trace = new CallTrace(d, d.callStats(), null, false);
    private final SyntheticTasks tasks = new SyntheticTasks();
    private final TaskSession a = tasks.session(1);
    private int tail;

    @AfterEach
    void close() {
        tasks.close();
    }

    /** Writes n NOPs to a's ring and publishes them (sq_tail). */
    private void nops(int n) {
        for (int i = 0; i < n; i++) {
            long off = RingSlots.sqeOffset(tail++);
            a.region.asSlice(off, SqeDescriptor.SIZE).fill((byte) 0);
            a.region.set(JAVA_BYTE, off + SqeDescriptor.OPCODE_OFFSET, (byte) D_OP_NOP);
        }
        TaskSession.INT.setRelease(a.region, (long) RegionHeaderDescriptor.SQ_TAIL_OFFSET, tail);
    }

    private int header(long off) {
        return a.region.get(JAVA_INT, off);
    }

    private long timed() {
        return Arrays.stream(d.callStats().service).sum();
    }

    @Test
    void thePlainDrainServesAndPublishesAndTimesNothing() {
        RingDrain ring = new RingDrain(d, d.callStats(), trace, null);
        assertEquals(0, ring.drain(a), "nothing published");
        nops(3);
        assertEquals(3, ring.drain(a));
        assertEquals(3, header(RegionHeaderDescriptor.SQ_HEAD_OFFSET));
        assertEquals(3, header(RegionHeaderDescriptor.CQ_TAIL_OFFSET));
        assertEquals(3, d.callStats().totalCalls());
        assertEquals(3, d.callStats().drainedEntries);
        assertEquals(0, timed(), "no clock without --metrics");
    }

    @Test
    void aTimedDrainTimesEachCallTheFirstFromThePassStart() {
        CallTimer timer = new CallTimer(d.callStats());
        RingDrain ring = new RingDrain(d, d.callStats(), trace, timer);
        nops(3);
        timer.startAt(System.nanoTime() - 5_000_000); // the pass started 5 ms ago
        assertEquals(3, ring.drain(a));
        assertEquals(3, timed());
        assertTrue(d.callStats().serviceNanos[D_OP_NOP] >= 5_000_000, "the first call's time runs from the pass start");
    }

    @Test
    void aTaskThatDoesNotReapGetsNoMoreThanTheCompletionRingHolds() {
        RingDrain ring = new RingDrain(d, d.callStats(), trace, null);
        for (int k = 0; k < DIOS_CQ_ENTRIES / DIOS_SQ_ENTRIES; k++) {
            nops(DIOS_SQ_ENTRIES);
            assertEquals(DIOS_SQ_ENTRIES, ring.drain(a));
        }
        nops(1);
        assertEquals(0, ring.drain(a), "the CQ is full: the entry waits");
        TaskSession.INT.setRelease(a.region, (long) RegionHeaderDescriptor.CQ_HEAD_OFFSET, a.cqTail); // reaps
        assertEquals(1, ring.drain(a));
    }

    @Test
    void aCorruptSqTailDisconnects() {
        RingDrain ring = new RingDrain(d, d.callStats(), trace, null);
        TaskSession.INT.setRelease(a.region, (long) RegionHeaderDescriptor.SQ_TAIL_OFFSET, DIOS_SQ_ENTRIES + 1);
        var e = assertThrows(Disconnect.class, () -> ring.drain(a));
        assertTrue(e.getMessage().startsWith("corrupt ring: sq_tail 65"), e.getMessage());
    }
}

package org.dios.diosd.ops;

import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.dios.abi.CqeDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.objects.ObjectManager;
import org.dios.diosd.objects.RingSlots;
import org.dios.diosd.objects.Stats;
import org.dios.diosd.objects.SyntheticTasks;
import org.dios.diosd.objects.TaskSession;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.dios.abi.Abi.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * D_TIMEOUT in the daemon: which ops take it, the timeout_ns field's check,
 * parked calls that time out (completed with -ETIMEDOUT, in deadline order,
 * taken off the task's parked calls and the deadline heap), and calls that
 * complete before their deadline (unscheduled at once). The shim's side and
 * the conductor's clock are the C tests' (t_timeout).
 */
class DeadlineTest {
    private static final long SQE = RingSlots.sqeOffset(0);
    private static final long HOUR = 3_600_000_000_000L;

    private final Stats stats = new Stats();
    private final ObjectManager om = new ObjectManager(stats);
    private final CallDispatcher d = SyntheticTasks.dispatcher(om, stats);
    private final SyntheticTasks tasks = new SyntheticTasks();
    private final TaskSession a = tasks.session(1);

    @AfterEach
    void close() {
        tasks.close();
    }

    private MemorySegment sqe(int op, long userData) {
        return SyntheticTasks.firstSqe(a, op, userData);
    }

    /** Runs the SQE in slot 0; returns the result, or PARKED. */
    private int exec() {
        return d.execute(a, SQE);
    }

    private int cqeRes(int index) {
        return a.region.get(JAVA_INT, RingSlots.cqeOffset(index) + CqeDescriptor.RES_OFFSET);
    }

    private long cqeUserData(int index) {
        return a.region.get(JAVA_LONG, RingSlots.cqeOffset(index) + CqeDescriptor.USER_DATA_OFFSET);
    }

    /** An anonymous FIFO no end of which is bound: a select on it waits. */
    private long fifo() {
        MemorySegment e = sqe(D_OP_CREATE, 1);
        e.set(JAVA_INT, SqeDescriptor.OBJ_TYPE_OFFSET, D_OBJ_FIFO);
        assertEquals(0, exec());
        return a.region.get(JAVA_LONG, RingSlots.cqeOffset(a.cqTail - 1) + CqeDescriptor.VAL_OFFSET);
    }

    /** A select on ref with flags and timeout_ns; returns the result or PARKED. */
    private int select(long ref, long userData, long flags, long timeoutNs) {
        a.region.set(JAVA_LONG, DIOS_REGION_ARGS_OFFSET, ref);
        MemorySegment e = sqe(D_OP_SELECT, userData);
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, 1);
        e.set(JAVA_LONG, SqeDescriptor.BUF_OFFSET, 0);
        e.set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, flags);
        e.set(JAVA_LONG, SqeDescriptor.TIMEOUT_NS_OFFSET, timeoutNs);
        return exec();
    }

    @Test
    void onlyCallsThatWaitTakeTheFlagAndTheFieldIsReservedWithoutIt() {
        sqe(D_OP_NOP, 1).set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, D_TIMEOUT);
        assertEquals(-DIOS_EINVAL, exec(), "nop never waits");
        long f = fifo();
        MemorySegment e = sqe(D_OP_REF_INFO, 1);
        e.set(JAVA_LONG, SqeDescriptor.REF_OFFSET, f);
        e.set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, D_TIMEOUT);
        assertEquals(-DIOS_EINVAL, exec(), "ref_info never waits");
        for (int op : new int[] {D_OP_COMMIT_READ, D_OP_RELEASE_READ, D_OP_COMMIT_WRITE, D_OP_RELEASE_WRITE, D_OP_DELETE,
                                 D_OP_CREATE, D_OP_LOOKUP, D_OP_COPY, D_OP_RUN, D_OP_DELEGATED, D_OP_STATS}) {
            sqe(op, 1).set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, D_TIMEOUT);
            assertEquals(-DIOS_EINVAL, exec(), Op.name(op) + " takes no D_TIMEOUT");
        }
        for (int op : new int[] {D_OP_SELECT, D_OP_ACQUIRE_READ, D_OP_ACQUIRE_WRITE}) {
            assertEquals(D_TIMEOUT, Op.of(op).flags() & D_TIMEOUT, Op.name(op) + " takes D_TIMEOUT");
        }
        assertEquals(-DIOS_EINVAL, select(f, 2, 0, 1), "timeout_ns without D_TIMEOUT");
        assertEquals(-DIOS_EINVAL, select(f, 2, D_NONBLOCK, 5), "timeout_ns without D_TIMEOUT");
        assertEquals(-DIOS_EAGAIN, select(f, 2, D_NONBLOCK | D_TIMEOUT, HOUR), "D_NONBLOCK does not wait at all");
        assertTrue(a.parked.isEmpty());
        assertFalse(d.hasDeadlines());
    }

    @Test
    void aTimedOutSelectCompletesOnceAndALaterEventFindsNothing() {
        long f = fifo();
        int cq = a.cqTail;
        assertEquals(CallDispatcher.PARKED, select(f, 0x51, D_TIMEOUT, 0));
        assertEquals(1, a.parked.size());
        assertTrue(d.hasDeadlines());
        assertEquals(cq, a.cqTail, "no completion while parked");
        assertEquals(0, d.expireDeadlines(System.nanoTime() - HOUR), "not due an hour ago");
        assertEquals(1, d.expireDeadlines(System.nanoTime()));
        assertEquals(cq + 1, a.cqTail);
        assertEquals(0x51, cqeUserData(cq));
        assertEquals(-DIOS_ETIMEDOUT, cqeRes(cq));
        assertTrue(a.parked.isEmpty(), "no parked call left");
        assertFalse(d.hasDeadlines(), "nothing left on the heap");
        assertEquals(0, d.expireDeadlines(System.nanoTime() + HOUR), "expires once");
        assertEquals(1, d.callStats().errors[D_OP_SELECT * CallStats.ERRNOS + DIOS_ETIMEDOUT], "counted as an error");
        // the event the select waited for (its reference goes: a select on it is ready) completes nothing now
        MemorySegment e = sqe(D_OP_DELETE, 0x52);
        e.set(JAVA_LONG, SqeDescriptor.REF_OFFSET, f);
        assertEquals(0, exec());
        assertEquals(cq + 2, a.cqTail, "only the delete's own completion");
        assertEquals(0x52, cqeUserData(cq + 1));
    }

    @Test
    void aTimedOutSelectLeavesNoRegistrationOnAnyOfItsObjects() {
        long[] f = {fifo(), fifo(), fifo()};
        for (int i = 0; i < 3; i++) a.region.set(JAVA_LONG, DIOS_REGION_ARGS_OFFSET + 8L * i, f[i]);
        MemorySegment e = sqe(D_OP_SELECT, 0x81);
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, 3);
        e.set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, D_TIMEOUT);
        e.set(JAVA_LONG, SqeDescriptor.TIMEOUT_NS_OFFSET, 1000);
        assertEquals(CallDispatcher.PARKED, exec());
        for (long ref : f) assertEquals(1, a.refs.get(ref).object.waiterRegistrations(), "registered on each");
        // a call parked without a deadline on the same objects stays registered
        assertEquals(CallDispatcher.PARKED, select(f[1], 0x82, 0, 0));
        assertEquals(1, d.expireDeadlines(System.nanoTime() + HOUR));
        assertEquals(0, a.refs.get(f[0]).object.waiterRegistrations(), "taken off at once, not lazily");
        assertEquals(1, a.refs.get(f[1]).object.waiterRegistrations(), "only the select without a deadline");
        assertEquals(0, a.refs.get(f[2]).object.waiterRegistrations());
        assertEquals(1, a.parked.size());
    }

    @Test
    void aCallThatCompletesBeforeItsDeadlineLeavesTheHeap() {
        long f = fifo();
        assertEquals(CallDispatcher.PARKED, select(f, 0x61, D_TIMEOUT, HOUR));
        assertTrue(d.hasDeadlines());
        int cq = a.cqTail;
        MemorySegment e = sqe(D_OP_DELETE, 0x62);
        e.set(JAVA_LONG, SqeDescriptor.REF_OFFSET, f);
        assertEquals(0, exec());
        assertEquals(0x61, cqeUserData(cq), "the select completed first (its reference went)");
        assertEquals(0, cqeRes(cq));
        assertTrue(a.parked.isEmpty());
        assertFalse(d.hasDeadlines(), "unscheduled when it completed, not at its deadline");
        assertEquals(0, d.expireDeadlines(System.nanoTime() + 2 * HOUR));
    }

    @Test
    void hugeTimeoutsNeverExpireAndDoNotOverflow() {
        long f = fifo();
        long[] huge = {-1L /* 2^64 - 1 */, Long.MAX_VALUE, Long.MIN_VALUE /* 2^63 */, 1L << 62};
        for (int i = 0; i < huge.length; i++) {
            assertEquals(CallDispatcher.PARKED, select(f, 0x70 + i, D_TIMEOUT, huge[i]));
        }
        assertEquals(huge.length, a.parked.size());
        assertFalse(d.hasDeadlines(), "2^62 ns and more: never scheduled");
        assertEquals(CallDispatcher.PARKED, select(f, 0x7f, D_TIMEOUT, (1L << 62) - 1));
        assertTrue(d.hasDeadlines(), "just below: scheduled");
        assertTrue(d.nextDeadline() - System.nanoTime() > 0, "the deadline did not wrap into the past");
        assertEquals(0, d.expireDeadlines(System.nanoTime()));
    }

    @Test
    void deadlinesExpireInOrderWhateverOrderTheyParkedIn() {
        long f = fifo();
        long[] hours = {3, 1, 5, 2, 4};
        for (int i = 0; i < hours.length; i++) {
            assertEquals(CallDispatcher.PARKED, select(f, 0x100 + hours[i], D_TIMEOUT, hours[i] * HOUR));
        }
        int cq = a.cqTail;
        long now = System.nanoTime();
        assertEquals(2, d.expireDeadlines(now + 2 * HOUR + HOUR / 2));
        assertEquals(0x101, cqeUserData(cq));
        assertEquals(0x102, cqeUserData(cq + 1));
        assertEquals(3, a.parked.size());
        assertEquals(3, d.expireDeadlines(now + 6 * HOUR));
        assertEquals(0x103, cqeUserData(cq + 2));
        assertEquals(0x104, cqeUserData(cq + 3));
        assertEquals(0x105, cqeUserData(cq + 4));
        for (int i = 0; i < 5; i++) assertEquals(-DIOS_ETIMEDOUT, cqeRes(cq + i));
        assertTrue(a.parked.isEmpty());
        assertFalse(d.hasDeadlines());
    }
}

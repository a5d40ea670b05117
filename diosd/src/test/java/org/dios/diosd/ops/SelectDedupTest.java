package org.dios.diosd.ops;

import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.dios.abi.CqeDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.objects.DObject;
import org.dios.diosd.objects.ObjectManager;
import org.dios.diosd.objects.RingSlots;
import org.dios.diosd.objects.Stats;
import org.dios.diosd.objects.SyntheticTasks;
import org.dios.diosd.objects.TaskSession;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.dios.abi.Abi.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * dios_select folds repeats (issue 18.4): an array naming one reference
 * 4,096 times, or several references of one kind to one object, registers
 * once on the object; a wake-up re-checks one wait per select, not one per
 * array entry (Stats.waiterChecks counts them); the answer is the first
 * index of the reference that became ready; a timeout still withdraws it.
 */
class SelectDedupTest {
    private static final long SQE = RingSlots.sqeOffset(0);
    private static final int MAX = (int) DIOS_MAX_SELECT_REFS;

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

    private long cqe(int index, long field) {
        return a.region.get(JAVA_LONG, RingSlots.cqeOffset(index) + field);
    }

    private int cqeRes(int index) {
        return a.region.get(JAVA_INT, RingSlots.cqeOffset(index) + CqeDescriptor.RES_OFFSET);
    }

    /** An anonymous FIFO no end of which is bound: a select on it waits. */
    private long fifo() {
        MemorySegment e = sqe(D_OP_CREATE, 1);
        e.set(JAVA_INT, SqeDescriptor.OBJ_TYPE_OFFSET, D_OBJ_FIFO);
        assertEquals(0, d.execute(a, SQE));
        return cqe(a.cqTail - 1, CqeDescriptor.VAL_OFFSET);
    }

    /** A select over refs (written to the args area) with flags and timeout_ns. */
    private int select(long[] refs, long userData, long flags, long timeoutNs) {
        for (int i = 0; i < refs.length; i++) a.region.set(JAVA_LONG, DIOS_REGION_ARGS_OFFSET + 8L * i, refs[i]);
        MemorySegment e = sqe(D_OP_SELECT, userData);
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, refs.length);
        e.set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, flags);
        e.set(JAVA_LONG, SqeDescriptor.TIMEOUT_NS_OFFSET, timeoutNs);
        return d.execute(a, SQE);
    }

    private int delete(long ref) {
        sqe(D_OP_DELETE, 0xde1).set(JAVA_LONG, SqeDescriptor.REF_OFFSET, ref);
        return d.execute(a, SQE);
    }

    private static long[] copies(long ref, int n) {
        long[] r = new long[n];
        java.util.Arrays.fill(r, ref);
        return r;
    }

    /** Another reference of task a to o (as a lookup would make), counted. */
    private long extraRef(DObject o, int perms) {
        assertTrue(o.tryRetain());
        return om.addReference(a, o, perms);
    }

    private DObject object(long ref) {
        return a.refs.get(ref).object;
    }

    @Test
    void fourSelectsOverFourThousandCopiesRegisterFourTimesAndAWakeUpChecksFour() {
        long f = fifo();
        long other = fifo();
        for (int k = 0; k < 4; k++) assertEquals(CallDispatcher.PARKED, select(copies(f, MAX), 0x100 + k, 0, 0));
        assertEquals(4, object(f).waiterRegistrations(), "one registration per select, not per array entry");
        for (var p : a.parked) assertEquals(1, p.refs.length, "a parked select holds one wait");
        // a fifth and more: the per-task registration budget counts distinct waits, not entries
        for (int k = 4; k < 8; k++) assertEquals(CallDispatcher.PARKED, select(copies(other, MAX), 0x100 + k, 0, 0));
        int cq = a.cqTail;
        long before = stats.waiterChecks;
        assertEquals(0, delete(f), "the reference the selects wait through goes: they are ready");
        assertEquals(4, stats.waiterChecks - before, "the wake-up re-checked one reference per select");
        assertEquals(cq + 5, a.cqTail, "four selects and the delete completed");
        for (int k = 0; k < 4; k++) {
            assertEquals(0x100 + k, cqe(cq + k, CqeDescriptor.USER_DATA_OFFSET));
            assertEquals(0, cqeRes(cq + k));
            assertEquals(f, cqe(cq + k, CqeDescriptor.VAL_OFFSET), "the reference");
            assertEquals(0, cqe(cq + k, CqeDescriptor.VAL_OFFSET + 8), "its first index in the caller's array");
        }
        assertEquals(4, a.parked.size(), "the selects on the other FIFO still wait");
    }

    @Test
    void theAnswerIsTheFirstIndexThatNamedTheReadyReference() {
        long f = fifo();
        long g = fifo();
        long[] refs = {g, g, f, g, f, f};
        assertEquals(CallDispatcher.PARKED, select(refs, 0x21, 0, 0));
        assertEquals(1, object(f).waiterRegistrations());
        assertEquals(1, object(g).waiterRegistrations());
        int cq = a.cqTail;
        assertEquals(0, delete(f));
        assertEquals(0x21, cqe(cq, CqeDescriptor.USER_DATA_OFFSET));
        assertEquals(f, cqe(cq, CqeDescriptor.VAL_OFFSET));
        assertEquals(2, cqe(cq, CqeDescriptor.VAL_OFFSET + 8), "index 2, the first f, not 4 or 5");
        // ready at once: the first ready entry in the caller's order (h's reference went; g's is still waiting)
        long h = fifo();
        long hAgain = extraRef(object(h), D_PERM_READ | D_PERM_WRITE);
        assertEquals(0, delete(h));
        // hAgain keeps the FIFO's read side: a select through it waits; one naming g and hAgain parks too
        assertEquals(-DIOS_EAGAIN, select(new long[] {g, hAgain, g}, 0x22, D_NONBLOCK, 0));
    }

    @Test
    void referencesOfOneKindToOneObjectRegisterOnceThroughTheFirst() {
        long f = fifo();
        DObject o = object(f);
        long same = extraRef(o, D_PERM_READ | D_PERM_WRITE);
        long readOnly = extraRef(o, D_PERM_READ);
        assertEquals(CallDispatcher.PARKED, select(new long[] {same, f, readOnly, f, same, readOnly}, 0x31, 0, 0));
        assertEquals(1, o.waiterRegistrations(), "one registration for the object");
        assertEquals(1, a.parked.get(0).refs.length, "all three ask for the read side: one wait, through the first");
        int cq = a.cqTail;
        assertEquals(0, delete(f), "a folded reference going does not end the wait: the first still waits");
        assertEquals(0, delete(readOnly));
        assertEquals(cq + 2, a.cqTail, "only the deletes completed");
        long before = stats.waiterChecks;
        assertEquals(0, delete(same));
        assertEquals(1, stats.waiterChecks - before);
        assertEquals(0x31, cqe(cq + 2, CqeDescriptor.USER_DATA_OFFSET));
        assertEquals(same, cqe(cq + 2, CqeDescriptor.VAL_OFFSET));
        assertEquals(0, cqe(cq + 2, CqeDescriptor.VAL_OFFSET + 8));
    }

    @Test
    void aFifoTellsTheKindsOfWaitApart() {
        long f = fifo();
        DObject o = object(f);
        long readOnly = extraRef(o, D_PERM_READ);
        long writeOnly = extraRef(o, D_PERM_WRITE);
        assertEquals(o.selectClass(a.refs.get(f)), o.selectClass(a.refs.get(readOnly)), "both would take the reader end");
        assertNotEquals(o.selectClass(a.refs.get(f)), o.selectClass(a.refs.get(writeOnly)), "one would take the writer end");
    }

    @Test
    void aTimedOutFoldedSelectLeavesNoRegistration() {
        long f = fifo();
        assertEquals(CallDispatcher.PARKED, select(copies(f, MAX), 0x41, D_TIMEOUT, 1000));
        assertEquals(CallDispatcher.PARKED, select(copies(f, 3), 0x42, 0, 0));
        assertEquals(2, object(f).waiterRegistrations());
        assertEquals(1, d.expireDeadlines(System.nanoTime() + 3_600_000_000_000L));
        assertEquals(1, object(f).waiterRegistrations(), "taken off at once; the other select stays");
        assertEquals(1, a.parked.size());
        assertEquals(-DIOS_ETIMEDOUT, cqeRes(a.cqTail - 1));
    }

    @Test
    void badEntriesAreStillRejectedWhereverTheyStand() {
        long f = fifo();
        long[] refs = copies(f, 10);
        refs[9] = 0xbad;
        assertEquals(-DIOS_EBADF, select(refs, 0x51, 0, 0));
        assertTrue(a.parked.isEmpty());
        assertEquals(0, object(f).waiterRegistrations());
    }
}

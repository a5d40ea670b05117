package org.dios.diosd.trace;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.dios.abi.CqeDescriptor;
import org.dios.abi.RegionHeaderDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.conductor.RingDrain;
import org.dios.diosd.objects.Name;
import org.dios.diosd.objects.ObjectManager;
import org.dios.diosd.objects.RingSlots;
import org.dios.diosd.objects.Stats;
import org.dios.diosd.objects.SyntheticTasks;
import org.dios.diosd.objects.TaskSession;
import org.dios.diosd.ops.CallDispatcher;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.dios.abi.Abi.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The conductor's traced drain loop over synthetic tasks: what each entry
 * says about the call (task, op, object, result, time), and that the queue
 * exists only while a client traces.
 */
class CallTraceTest {
    @TempDir
    Path tmp;

    private final Stats stats = new Stats();
    private final ObjectManager om = new ObjectManager(stats);
    private final CallDispatcher d = SyntheticTasks.dispatcher(om, stats);
    private final SyntheticTasks tasks = new SyntheticTasks();
    private final TaskSession a = tasks.session(3);
    private int tail;

    @AfterEach
    void close() {
        tasks.close();
    }

    /** The next SQE of s's ring, zeroed, with op set (published by {@link #drain}). */
    private MemorySegment next(TaskSession s, int op) {
        long off = RingSlots.sqeOffset(tail++);
        MemorySegment e = s.region.asSlice(off, SqeDescriptor.SIZE);
        e.fill((byte) 0);
        e.set(JAVA_BYTE, SqeDescriptor.OPCODE_OFFSET, (byte) op);
        return e;
    }

    /** Publishes the SQEs written so far and drains them as the conductor does; returns how many ran. */
    private int drain(RingDrain ring, TaskSession s) {
        TaskSession.INT.setRelease(s.region, (long) RegionHeaderDescriptor.SQ_TAIL_OFFSET, tail);
        return ring.drain(s);
    }

    private long cqeVal(TaskSession s, int back, int i) {
        long off = RingSlots.cqeOffset(s.cqTail - back);
        return s.region.get(JAVA_LONG, off + CqeDescriptor.VAL_OFFSET + 8L * i);
    }

    @Test
    void eachCallIsRecordedWithItsTaskOpObjectResultAndTime() throws Exception {
        Path dir = tmp.resolve("trace");
        CallTrace trace = new CallTrace(d, d.callStats(), dir, true);
        RingDrain ring = new RingDrain(d, d.callStats(), trace, null);
        assertFalse(trace.on);
        assertEquals("off", trace.state());
        long from = trace.join();
        assertTrue(trace.on);
        assertEquals("on (1 client)", trace.state());

        next(a, D_OP_NOP);
        MemorySegment c = next(a, D_OP_CREATE);
        c.set(JAVA_INT, SqeDescriptor.OBJ_TYPE_OFFSET, D_OBJ_SHMEM);
        c.set(JAVA_BYTE, SqeDescriptor.SQE_FLAGS_OFFSET, (byte) D_SQE_ARG);
        c.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, 4096L);
        MemorySegment l = next(a, D_OP_LOOKUP);
        l.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, 1L);
        Name.fromString("nobody bound this").write(l, SqeDescriptor.NAME_OFFSET);
        assertEquals(3, drain(ring, a));
        long ref = cqeVal(a, 2, 0);
        assertTrue(ref != 0);
        long objectId = a.refs.get(ref).object.id;
        next(a, D_OP_DELETE).set(JAVA_LONG, SqeDescriptor.REF_OFFSET, ref);
        next(a, D_OP_DELETE).set(JAVA_LONG, SqeDescriptor.REF_OFFSET, ref); // gone now: -EBADF
        MemorySegment bad = next(a, D_OP_CREATE);
        bad.set(JAVA_INT, SqeDescriptor.OBJ_TYPE_OFFSET, D_OBJ_FIFO);
        bad.set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, 1L << 40);
        assertEquals(3, drain(ring, a));
        assertEquals(6, a.sqHead, "the traced loop consumes the ring like the plain one");
        assertEquals(6, d.callStats().totalCalls());
        assertEquals(6, java.util.Arrays.stream(d.callStats().service).sum(), "with --metrics, each traced call is timed too");
        trace.flush(); // as the conductor does before it sleeps

        List<TraceRecord> all = TraceTail.readAll(dir);
        assertEquals(7, all.size(), all.toString());
        assertEquals(TraceRecord.START, all.get(0).kind());
        List<TraceRecord> calls = all.subList(1, 7);
        for (TraceRecord r : calls) {
            assertEquals(3, r.task());
            assertEquals(a.pid, r.pid());
            assertEquals(TraceRecord.CALL, r.kind());
            assertTrue(r.latency() > 0 && r.latency() < 10_000_000_000L, "latency " + r.latency());
            assertTrue(Math.abs(r.time() / 1_000_000 - System.currentTimeMillis()) < 60_000, "wall clock " + r.time());
        }
        assertEquals(D_OP_NOP, calls.get(0).op());
        assertEquals(0, calls.get(0).object());
        TraceRecord create = calls.get(1);
        assertEquals(D_OP_CREATE, create.op());
        assertEquals(0, create.result());
        assertEquals(D_OBJ_SHMEM, create.type());
        assertEquals(ref, create.ref(), "a create shows the reference it made");
        assertEquals(objectId, create.object());
        assertEquals(D_OP_LOOKUP, calls.get(2).op());
        assertEquals(-DIOS_ENOENT, calls.get(2).result());
        assertEquals(0, calls.get(2).object());
        TraceRecord delete = calls.get(3);
        assertEquals(D_OP_DELETE, delete.op());
        assertEquals(0, delete.result());
        assertEquals(ref, delete.ref());
        assertEquals(objectId, delete.object(), "resolved before the delete released it");
        assertEquals(D_OBJ_SHMEM, delete.type());
        assertEquals(-DIOS_EBADF, calls.get(4).result());
        assertEquals(0, calls.get(4).object());
        assertEquals(-DIOS_EINVAL, calls.get(5).result());
        assertEquals(D_OBJ_FIFO, calls.get(5).type(), "a failed create shows the type it asked for");
        assertEquals(1L << 40, calls.get(5).flags());
        assertTrue(from >= 0);

        trace.leave();
        assertFalse(trace.on);
        assertEquals("off", trace.state());
        assertFalse(Files.exists(dir), "the last client's leaving removes the queue");
    }

    @Test
    void theQueueLivesWhileAnyClientTracesAndADaemonWithoutStateCannotTrace() throws Exception {
        Path dir = tmp.resolve("trace");
        CallTrace trace = new CallTrace(d, d.callStats(), dir, false);
        assertFalse(Files.exists(dir), "nothing before the first client");
        trace.join();
        trace.join();
        assertEquals("on (2 clients)", trace.state());
        trace.leave();
        assertTrue(trace.on);
        assertTrue(Files.isDirectory(dir));
        trace.leave();
        assertFalse(trace.on);
        assertFalse(Files.exists(dir));
        trace.leave(); // one too many: harmless
        assertEquals("off", trace.state());

        CallTrace none = new CallTrace(d, d.callStats(), null, false);
        assertFalse(none.available());
        assertThrows(java.io.IOException.class, none::join);
    }
}

package org.dios.diosd.ops;

import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.dios.abi.CqeDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.admin.AdminReports;
import org.dios.diosd.conductor.DriverConductor;
import org.dios.diosd.objects.Limits;
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
 * The private memory each task holds (its heap, made of PRIVMEM objects):
 * counted at create, against diosd --max-task-memory (-ENOMEM beyond it),
 * given back when the object is freed by a delete, a zombification or the
 * task's end, and reported by the admin socket's status and tasks.
 */
class PrivmemAccountingTest {
    private static final long SQE = RingSlots.sqeOffset(0);
    private static final long MIB = 1L << 20;

    private final Stats stats = new Stats();
    private final ObjectManager om = new ObjectManager(stats);
    private CallDispatcher d = SyntheticTasks.dispatcher(om, stats);
    private final SyntheticTasks tasks = new SyntheticTasks();
    private final TaskSession a = tasks.session(1);
    private final TaskSession b = tasks.session(2);

    @AfterEach
    void close() {
        tasks.close();
    }

    private MemorySegment sqe(TaskSession s, int op) {
        return SyntheticTasks.firstSqe(s, op, 7L);
    }

    private long cqe;

    private int run(TaskSession s) {
        cqe = SyntheticTasks.nextCqeOffset(s);
        assertNotEquals(CallDispatcher.PARKED, d.execute(s, SQE));
        return s.region.get(JAVA_INT, cqe + CqeDescriptor.RES_OFFSET);
    }

    /** The new reference, or the negative errno. */
    private long create(TaskSession s, int type, long size) {
        MemorySegment e = sqe(s, D_OP_CREATE);
        e.set(JAVA_INT, SqeDescriptor.OBJ_TYPE_OFFSET, type);
        e.set(JAVA_BYTE, SqeDescriptor.SQE_FLAGS_OFFSET, (byte) D_SQE_ARG);
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, size);
        int res = run(s);
        return res < 0 ? res : s.region.get(JAVA_LONG, cqe + CqeDescriptor.VAL_OFFSET);
    }

    private int delete(TaskSession s, long ref, long flags) {
        MemorySegment e = sqe(s, D_OP_DELETE);
        e.set(JAVA_LONG, SqeDescriptor.REF_OFFSET, ref);
        e.set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, flags);
        return run(s);
    }

    @Test
    void privateMemoryIsCountedPerTaskAndLimited() {
        d = SyntheticTasks.dispatcher(om, stats, new Limits(Limits.DEFAULT_MAX_PARKED, 10 * MIB));
        long r1 = create(a, D_OBJ_PRIVMEM, 4 * MIB);
        long r2 = create(a, D_OBJ_PRIVMEM, 4 * MIB);
        assertTrue(r1 > 0 && r2 > 0);
        assertEquals(8 * MIB, a.privmemBytes);
        assertEquals(8 * MIB, stats.privmemBytes);
        assertEquals(-DIOS_ENOMEM, create(a, D_OBJ_PRIVMEM, 2 * MIB + 1), "one byte over the limit");
        // the completion says which limit, and its value (D_CQE_F_DETAIL)
        assertEquals(D_CQE_F_DETAIL, a.region.get(JAVA_INT, cqe + CqeDescriptor.FLAGS_OFFSET) & D_CQE_F_DETAIL);
        assertEquals(D_DETAIL_MAX_TASK_MEMORY, a.region.get(JAVA_LONG, cqe + CqeDescriptor.VAL_OFFSET));
        assertEquals(10 * MIB, a.region.get(JAVA_LONG, cqe + CqeDescriptor.VAL_OFFSET + 8));
        assertEquals(8 * MIB, a.privmemBytes, "a refused create counts nothing");
        assertTrue(create(a, D_OBJ_PRIVMEM, 2 * MIB) > 0, "exactly up to the limit");
        assertEquals(0, a.region.get(JAVA_INT, cqe + CqeDescriptor.FLAGS_OFFSET) & D_CQE_F_DETAIL, "no detail on success");
        assertEquals(10 * MIB, a.privmemBytes);
        assertEquals(-DIOS_ENOMEM, create(a, D_OBJ_PRIVMEM, 1));
        // another task has a limit of its own
        assertTrue(create(b, D_OBJ_PRIVMEM, 10 * MIB) > 0);
        assertEquals(10 * MIB, b.privmemBytes);
        assertEquals(20 * MIB, stats.privmemBytes);
        // shared memory is not private memory: not counted, not limited
        assertTrue(create(a, D_OBJ_SHMEM, 64 * MIB) > 0);
        assertEquals(10 * MIB, a.privmemBytes);
        // deleting gives it back, and makes room again
        assertEquals(0, delete(a, r1, 0));
        assertEquals(6 * MIB, a.privmemBytes);
        assertEquals(16 * MIB, stats.privmemBytes);
        assertTrue(create(a, D_OBJ_PRIVMEM, 4 * MIB) > 0);
        assertEquals(-DIOS_ENOMEM, create(a, D_OBJ_PRIVMEM, 1));
    }

    @Test
    void aZombifiedObjectIsGivenBackOnce() {
        d = SyntheticTasks.dispatcher(om, stats, new Limits(Limits.DEFAULT_MAX_PARKED, 8 * MIB));
        long r = create(a, D_OBJ_PRIVMEM, 8 * MIB);
        assertEquals(8 * MIB, a.privmemBytes);
        assertEquals(0, delete(a, r, D_DELETE_ZOMBIFY));
        assertEquals(0, a.privmemBytes, "its memory is freed with the zombification");
        assertEquals(0, stats.privmemBytes);
        assertEquals(-DIOS_EBADF, delete(a, r, 0), "the zombifying delete also released the reference");
        assertEquals(0, a.privmemBytes, "not given back twice");
        assertTrue(create(a, D_OBJ_PRIVMEM, 8 * MIB) > 0, "the room is there again");
    }

    @Test
    void everythingIsGivenBackWhenTheTaskGoes() {
        for (int i = 0; i < 100; i++) assertTrue(create(a, D_OBJ_PRIVMEM, MIB) > 0);
        assertTrue(create(b, D_OBJ_PRIVMEM, 3 * MIB) > 0);
        assertEquals(100 * MIB, a.privmemBytes);
        assertEquals(103 * MIB, stats.privmemBytes);
        om.releaseAll(a);
        assertEquals(0, a.privmemBytes);
        assertEquals(3 * MIB, stats.privmemBytes, "only the other task's is left");
        om.releaseAll(b);
        assertEquals(0, stats.privmemBytes);
        assertEquals(0, stats.objectsByType[D_OBJ_PRIVMEM]);
    }

    @Test
    void theDefaultLimitIsEightGibAndBadLimitsAreRefused() {
        assertEquals(8L << 30, DriverConductor.Config.defaults().maxTaskMemory());
        long r = create(a, D_OBJ_PRIVMEM, DIOS_MAX_OBJECT_SIZE);
        assertEquals(-DIOS_ENOMEM, r, "64 GiB is above the default 8 GiB");
        assertTrue(create(a, D_OBJ_PRIVMEM, 8L << 30) > 0);
        assertEquals(-DIOS_ENOMEM, create(a, D_OBJ_PRIVMEM, 1));
        assertThrows(IllegalArgumentException.class, () -> new Limits(Limits.DEFAULT_MAX_PARKED, 0));
        assertThrows(IllegalArgumentException.class, () -> new Limits(Limits.DEFAULT_MAX_PARKED, -1));
    }

    @Test
    void theAdminSocketShowsEachTasksShareAndTheTotal() {
        assertTrue(create(a, D_OBJ_PRIVMEM, 5 * MIB) > 0);
        assertTrue(create(b, D_OBJ_PRIVMEM, 2 * MIB) > 0);
        DaemonSnapshot snap = new DaemonSnapshot(System.nanoTime(), 0, stats, d.callStats(), 2, 0, 0, 0);
        var info = new AdminReports.Info("test", "/tmp/x.sock", "off", 1, 0, java.time.Instant.now());
        String status = AdminReports.answer("status", info, snap, java.util.List.of(a, b), om);
        assertTrue(status.contains("row\tprivmem_bytes\t" + 7 * MIB + "\n"), status);
        String t = AdminReports.answer("tasks", info, snap, java.util.List.of(a, b), om);
        assertTrue(t.contains("columns\ttask\tpid\tparent\tuid\trefs\tbuffers\tprivmem\t"), t);
        assertTrue(t.contains("row\t1\t1001\t-\t1000\t1\t0\t" + 5 * MIB + "\t"), t);
        assertTrue(t.contains("row\t2\t1002\t-\t1000\t1\t0\t" + 2 * MIB + "\t"), t);
    }
}

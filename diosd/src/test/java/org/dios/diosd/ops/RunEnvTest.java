package org.dios.diosd.ops;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.dios.abi.CqeDescriptor;
import org.dios.abi.RunArgsDescriptor;
import org.dios.abi.SqeDescriptor;
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
 * RUN's environment block (D_RUN_ENV, sqe.ref2 bytes after the argv block):
 * the dispatcher checks it before anything is spawned, and hands the strings
 * on exactly; without D_RUN_ENV (an older shim) the spawner gets null.
 */
class RunEnvTest {
    private static final long SQE = RingSlots.sqeOffset(0);

    private final Stats stats = new Stats();
    private final ObjectManager om = new ObjectManager(stats);
    /** What the last call that passed the checks handed the spawner; it answers -ENOSYS. */
    private String[] spawnedEnv;
    private boolean spawned;
    /** Calls that reached the spawner, never reset. */
    private int spawns;
    private final CallDispatcher d = new CallDispatcher(om, stats, Limits.defaults(), (p, u, e, argv, env, r, g, k) -> {
        spawned = true;
        spawns++;
        spawnedEnv = env;
        return -DIOS_ENOSYS;
    }, s -> { });
    private final SyntheticTasks tasks = new SyntheticTasks();
    /** The task's end and the daemon's of its control socket, which carries the executable's fd. */
    private final int[] pair = new int[2];
    private final TaskSession a;

    RunEnvTest() {
        assertEquals(0, org.dios.diosd.sys.Spawn.socketpair(org.dios.diosd.sys.LibC.AF_UNIX,
                org.dios.diosd.sys.LibC.SOCK_SEQPACKET | org.dios.diosd.sys.LibC.SOCK_CLOEXEC, pair));
        a = tasks.session(1, 4096, 1000, pair[1]);
    }

    @AfterEach
    void close() {
        tasks.close();
        org.dios.diosd.sys.LibC.close(pair[0]);
        org.dios.diosd.sys.LibC.close(pair[1]);
    }

    private int run(TaskSession s) {
        long cqe = SyntheticTasks.nextCqeOffset(s);
        assertNotEquals(CallDispatcher.PARKED, d.execute(s, SQE));
        return s.region.get(JAVA_INT, cqe + CqeDescriptor.RES_OFFSET);
    }

    private long exe() {
        byte[] path = "/bin/true".getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(path, 0, a.region, JAVA_BYTE, DIOS_REGION_ARGS_OFFSET, path.length);
        MemorySegment e = SyntheticTasks.firstSqe(a, D_OP_CREATE, 1);
        e.set(JAVA_INT, SqeDescriptor.OBJ_TYPE_OFFSET, D_OBJ_EXE);
        e.set(JAVA_BYTE, SqeDescriptor.SQE_FLAGS_OFFSET, (byte) (D_SQE_ARGS | D_SQE_FD));
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, path.length);
        // the shim's message: the file, opened by the task (any fd does: the dispatcher only keeps it)
        int f = org.dios.diosd.sys.LibC.open("/bin/true", org.dios.diosd.sys.LibC.O_RDONLY | org.dios.diosd.sys.LibC.O_CLOEXEC, 0);
        try (java.lang.foreign.Arena m = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment msg = m.allocate(org.dios.abi.ExeFdMessageDescriptor.SIZE, 8);
            msg.set(JAVA_INT, org.dios.abi.ExeFdMessageDescriptor.MAGIC_OFFSET, DIOS_MSG_EXE_FD);
            msg.set(JAVA_LONG, org.dios.abi.ExeFdMessageDescriptor.USER_DATA_OFFSET, 1L); // the entry's user_data
            assertEquals(org.dios.abi.ExeFdMessageDescriptor.SIZE, org.dios.diosd.sys.UnixSocket.sendWithFds(pair[0], msg, f));
        }
        org.dios.diosd.sys.LibC.close(f);
        long cqe = SyntheticTasks.nextCqeOffset(a);
        assertEquals(0, run(a));
        return a.region.get(JAVA_LONG, cqe + CqeDescriptor.VAL_OFFSET);
    }

    /** A RUN of exe with argv {"prog"} and envBlock after it; ref2 = declared (the block's length unless lying). */
    private int runWith(long exe, long flags, byte[] envBlock, long declared, long lenDelta) {
        long base = DIOS_REGION_ARGS_OFFSET;
        a.region.asSlice(base, DIOS_ARGS_BYTES).fill((byte) 0);
        byte[] argv = "prog\0".getBytes(StandardCharsets.UTF_8);
        a.region.set(JAVA_INT, base + RunArgsDescriptor.ARGC_OFFSET, 1);
        a.region.set(JAVA_INT, base + RunArgsDescriptor.ARGV_BYTES_OFFSET, argv.length);
        MemorySegment.copy(argv, 0, a.region, JAVA_BYTE, base + RunArgsDescriptor.SIZE, argv.length);
        MemorySegment.copy(envBlock, 0, a.region, JAVA_BYTE, base + RunArgsDescriptor.SIZE + argv.length, envBlock.length);
        MemorySegment e = SyntheticTasks.firstSqe(a, D_OP_RUN, 2);
        e.set(JAVA_LONG, SqeDescriptor.REF_OFFSET, exe);
        e.set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, flags);
        e.set(JAVA_LONG, SqeDescriptor.REF2_OFFSET, declared);
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, RunArgsDescriptor.SIZE + argv.length + envBlock.length + lenDelta);
        spawned = false;
        spawnedEnv = null;
        return run(a);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void theEnvironmentReachesTheSpawnerExactly() {
        long exe = exe();
        byte[] env = bytes("A=1\0B=two words\0EMPTY=\0");
        assertEquals(-DIOS_ENOSYS, runWith(exe, D_RUN_ENV, env, env.length, 0));
        assertTrue(spawned);
        assertArrayEquals(new String[] {"A=1", "B=two words", "EMPTY="}, spawnedEnv);
        assertEquals(-DIOS_ENOSYS, runWith(exe, D_RUN_ENV, new byte[0], 0, 0), "0 bytes: an empty environment");
        assertArrayEquals(new String[0], spawnedEnv);
        assertEquals(-DIOS_ENOSYS, runWith(exe, 0, new byte[0], 0, 0), "no D_RUN_ENV: an older shim");
        assertTrue(spawned);
        assertNull(spawnedEnv, "the launcher's minimal environment");
    }

    @Test
    void aBadEnvironmentBlockIsRefusedBeforeAnySpawn() {
        long exe = exe();
        byte[] env = bytes("A=1\0");
        assertEquals(-DIOS_EINVAL, runWith(exe, 0, env, env.length, 0), "ref2 without D_RUN_ENV");
        assertEquals(-DIOS_E2BIG, runWith(exe, D_RUN_ENV, env, DIOS_RUN_MAX_ENV_BYTES + 1L, 0), "over the bound");
        assertEquals(-DIOS_EINVAL, runWith(exe, D_RUN_ENV, env, -1L, 0), "a negative size");
        assertEquals(-DIOS_EINVAL, runWith(exe, D_RUN_ENV, env, env.length, 1), "len is not the block's size");
        assertEquals(-DIOS_EINVAL, runWith(exe, D_RUN_ENV, env, env.length - 1, 0), "ref2 and len disagree");
        assertEquals(-DIOS_EINVAL, runWith(exe, D_RUN_ENV, bytes("A=1"), 3, 0), "no NUL at the end");
        assertEquals(-DIOS_EINVAL, runWith(exe, D_RUN_ENV, bytes("A=1\0\0"), 5, 0), "an empty string");
        assertEquals(0, spawns, "nothing reached the spawner");
    }
}

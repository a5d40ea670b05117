package org.dios.client;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Spawning branded programs from Java, collecting their exit status, and a Channel to a C task. */
@ExtendWith(Daemon.class)
class TaskTest {
    @Test
    void aSpawnedTaskExitsWithItsStatus() throws Exception {
        String child = TestPrograms.child().toString();
        try (Task t = Dios.spawn(child, "--child-exit", "7")) {
            assertTrue(t.pid() > 0, "a real process");
            int st = t.waitFor();
            assertTrue(Task.exited(st), "exited normally: " + st);
            assertEquals(7, Task.exitStatus(st));
            assertEquals(7, t.exitCode());
            assertEquals(Integer.valueOf(st), t.poll(), "the status stays");
            assertSame(t.ref(), Dios.select(t.ref()), "an ended task is ready");
        }
    }

    @Test
    void anUnbrandedProgramIsEnoexec() throws Exception {
        try (Ref exe = Dios.exe(TestPrograms.unbranded().toString())) {
            DiosException e = assertThrows(DiosException.class,
                    () -> Dios.run(exe, List.of("child", "--child-exit", "0"), List.of(), 0));
            assertEquals(Errno.ENOEXEC, e.errno());
            assertEquals("dios_run", e.call());
            // the message says why and what to do: the brand, and the command that sets it
            assertTrue(e.getMessage().startsWith("dios_run: ENOEXEC ("), e.getMessage());
            assertTrue(e.getMessage().contains("lacks a DIOS brand"), e.getMessage());
            assertTrue(e.getMessage().contains("dios brand --limbo PROGRAM"), e.getMessage());
        }
        DiosException missing = assertThrows(DiosException.class, () -> Dios.exe("/nonexistent/program"));
        assertEquals(Errno.ENOENT, missing.errno());
        assertEquals("dios_exe", missing.call());
    }

    /** The exit code of child --env-is NAME VALUE run with env (null: inherited). */
    private static int envIs(Ref exe, Map<String, String> env, String name, String value) {
        try (Task t = Dios.run(exe, List.of("child", "--env-is", name, value), List.of(), 0, env)) {
            return t.exitCode();
        }
    }

    @Test
    void aTaskGetsThisProcesssEnvironmentOrExactlyTheOneGiven() throws Exception {
        String path = System.getenv("PATH");
        assertNotNull(path, "the test JVM has a PATH");
        try (Ref exe = Dios.exe(TestPrograms.child().toString())) {
            assertEquals(0, envIs(exe, null, "PATH", path), "inherited, as from ProcessBuilder");
            try (Task t = Dios.run(exe, List.of("child", "--env-is", "PATH", path), List.of(), 0)) {
                assertEquals(0, t.exitCode(), "run without env: inherited too");
            }
            Map<String, String> mine = new HashMap<>(System.getenv());
            mine.put("DIOS_JAVA_ENV", "a=b c");
            assertEquals(0, envIs(exe, mine, "DIOS_JAVA_ENV", "a=b c"), "added");
            assertEquals(0, envIs(exe, mine, "PATH", path), "and the rest kept");
            Map<String, String> only = Map.of("ONLY", "1");
            assertEquals(0, envIs(exe, only, "ONLY", "1"));
            assertEquals(1, envIs(exe, only, "PATH", path), "exactly what was given: no PATH");
            assertEquals(1, envIs(exe, Map.of(), "ONLY", "1"), "an empty environment");
            assertEquals(2, envIs(exe, Map.of(), "DIOS_SOCKET", "x"), "but the daemon's socket, always");
            DiosException big = assertThrows(DiosException.class,
                    () -> envIs(exe, Map.of("BIG", "x".repeat(17 * 1024)), "BIG", "x"));
            assertEquals(Errno.E2BIG, big.errno());
            DiosException bad = assertThrows(DiosException.class, () -> envIs(exe, Map.of("A=B", "1"), "A", "1"));
            assertEquals(Errno.EINVAL, bad.errno());
        }
    }

    @Test
    void aChannelToACTaskOverDelegatedFifos() throws Exception {
        long[] before = Daemon.stats();
        Ref toChild = Dios.createFifo(4096), fromChild = Dios.createFifo(4096);
        Task t;
        try (Ref exe = Dios.exe(TestPrograms.child().toString())) {
            t = Dios.run(exe, List.of("child", "--echo"), List.of(toChild, fromChild), 0);
        }
        try (Task task = t; Channel c = Channel.of(fromChild, toChild)) {
            for (long v = -5; v < 2000; v++) {
                c.sendRaw(new byte[] {'L'});
                c.send(v);
                assertEquals(v + 1, c.recvLong(), "the C task reads and writes the same i64");
            }
            java.util.Random rnd = new java.util.Random(3);
            for (int len : new int[] {0, 1, 7, 4095, 4096, 4097, 100_000}) {
                byte[] b = new byte[len];
                rnd.nextBytes(b);
                c.sendRaw(new byte[] {'B'});
                c.send(b);
                byte[] back = c.recvBytes();
                for (int i = 0; i < len; i++) assertEquals(b[len - 1 - i], back[i], "byte " + i + " of " + len);
                assertEquals(len, back.length);
            }
            c.closeSend();                  // end of stream: the child exits 0
            assertEquals(0, task.exitCode());
        }
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (Daemon.stats()[0] != before[0] && System.nanoTime() < deadline) Thread.sleep(10); // the task deregisters
        assertArrayEquals(before, Daemon.stats(), "task, FIFOs and references gone");
    }
}

package org.dios.diosd.admin;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.dios.diosd.conductor.DriverConductor;
import org.dios.diosd.sys.LibC;
import org.dios.diosd.sys.UnixSocket;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The admin socket served by a real conductor (in this JVM): answers, and
 * clients that misbehave never hold the conductor up. (Another uid being
 * refused needs a second user: the C test t_admin covers it.)
 */
class AdminEndpointTest {
    @TempDir
    Path dir;

    private DriverConductor conductor;
    private Thread thread;
    private int listenFd = -1, adminFd = -1;
    private String adminPath;
    private final List<Integer> open = new ArrayList<>();

    @BeforeEach
    void start() throws InterruptedException {
        listenFd = UnixSocket.listen(dir.resolve("d.sock").toString(), LibC.SOCK_SEQPACKET, 16);
        adminPath = dir.resolve("d.sock.admin").toString();
        adminFd = UnixSocket.listen(adminPath, LibC.SOCK_STREAM, 16);
        assertTrue(listenFd >= 0 && adminFd >= 0);
        AdminReports.Info info = new AdminReports.Info("test", dir.resolve("d.sock").toString(), "off", 1, LibC.getuid(),
                Instant.now());
        conductor = new DriverConductor(DriverConductor.Config.defaults().withWarmup(0), listenFd, adminFd, info);
        conductor.durableState(null); // no state directory: the conductor must not wait for one
        thread = Thread.ofPlatform().name("test-conductor").start(conductor);
        assertTrue(conductor.awaitServing());
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (int fd : open) LibC.close(fd);
        conductor.requestStop();
        thread.join(10_000);
        LibC.close(listenFd);
        LibC.close(adminFd);
    }

    /** A connected, blocking client socket. */
    private int connect() {
        int fd = LibC.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
        assertTrue(fd >= 0);
        open.add(fd);
        try (Arena a = Arena.ofConfined()) {
            byte[] p = adminPath.getBytes(StandardCharsets.UTF_8);
            MemorySegment sa = a.allocate(LibC.SOCKADDR_UN_SIZE, 8);
            sa.set(JAVA_SHORT, 0, (short) LibC.AF_UNIX);
            MemorySegment.copy(p, 0, sa, JAVA_BYTE, 2, p.length);
            assertEquals(0, LibC.connect(fd, sa, LibC.SOCKADDR_UN_SIZE));
            // a daemon that never answers fails the test instead of hanging it
            MemorySegment tv = a.allocate(16, 8);
            tv.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 15L);
            assertEquals(0, LibC.setsockopt(fd, LibC.SOL_SOCKET, 20 /* SO_RCVTIMEO */, tv, 16));
        }
        return fd;
    }

    private static void send(int fd, String text) {
        try (Arena a = Arena.ofConfined()) {
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            MemorySegment m = a.allocate(Math.max(1, b.length));
            MemorySegment.copy(b, 0, m, JAVA_BYTE, 0, b.length);
            assertEquals(b.length, LibC.write(fd, m, b.length));
        }
    }

    /** Everything until the daemon closes (a blocking read on our side). */
    private static String readAll(int fd) {
        StringBuilder out = new StringBuilder();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(65536);
            while (true) {
                long n = LibC.read(fd, buf, buf.byteSize());
                assertNotEquals(-LibC.EAGAIN, n, "no answer and no close within 15 s");
                if (n <= 0) break;
                out.append(new String(buf.asSlice(0, n).toArray(JAVA_BYTE), StandardCharsets.UTF_8));
            }
        }
        return out.toString();
    }

    /**
     * One request and its answer, as the dios tool does it: a daemon that refuses
     * (EBUSY) answers and closes at accept, possibly before our write, so a write
     * that meets the closed end (EPIPE, ECONNRESET) still reads the answer.
     */
    private String ask(String request) {
        int fd = connect();
        try (Arena a = Arena.ofConfined()) {
            byte[] b = request.getBytes(StandardCharsets.UTF_8);
            MemorySegment m = a.allocate(Math.max(1, b.length));
            MemorySegment.copy(b, 0, m, JAVA_BYTE, 0, b.length);
            long n = LibC.write(fd, m, b.length);
            assertTrue(n == b.length || n == -LibC.EPIPE || n == -LibC.ECONNRESET, "write: " + n);
        }
        return readAll(fd);
    }

    /** The conductor still serves other threads (a snapshot) within a second. */
    private void assertConductorResponsive() throws Exception {
        assertEquals(1, conductor.requestSnapshot().get(1, TimeUnit.SECONDS).objects, "the console");
    }

    @Test
    void statusAnswersAndEndsWithItsRowCount() {
        String s = ask("status\n");
        assertTrue(s.startsWith("ok\ncolumns\tkey\tvalue\n"), s);
        assertTrue(s.contains("row\tversion\ttest\n"), s);
        assertTrue(s.contains("row\tobjects.console\t1\n"), s);
        assertTrue(s.matches("(?s).*end\\t(\\d+)\\t\\1\\n$"), s);
        assertTrue(ask("names\n").contains("\t1\tconsole\n"));
        assertTrue(ask("bogus\n").startsWith("error\tEINVAL\tunknown command 'bogus'"));
    }

    @Test
    void idleClientsCannotStallTheConductorAndAreDroppedAfterTheRequestTimeout() throws Exception {
        int[] idle = new int[AdminEndpoint.MAX_CLIENTS];
        for (int i = 0; i < idle.length; i++) idle[i] = connect(); // connect, say nothing
        send(idle[0], "stat"); // half a request
        Thread.sleep(200);
        assertConductorResponsive();
        assertTrue(ask("status\n").startsWith("error\tEBUSY\t"), "beyond " + AdminEndpoint.MAX_CLIENTS + " at once: busy");
        long t0 = System.nanoTime();
        for (int fd : idle) assertEquals("", readAll(fd), "closed without an answer");
        long waited = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(waited < AdminEndpoint.REQUEST_TIMEOUT_NANOS / 1_000_000 + 1500, "dropped after " + waited + " ms");
        assertTrue(ask("status\n").startsWith("ok\n"), "served again once they are gone");
    }

    @Test
    void anOverlongRequestOrGarbageGetsAnErrorNotAHang() throws Exception {
        String s = ask("x".repeat(AdminEndpoint.MAX_REQUEST_BYTES + 100));
        assertTrue(s.startsWith("error\tEINVAL\ta request is one line"), s);
        s = ask("\u0000\u0001\u00ff\n");
        assertTrue(s.startsWith("error\tEINVAL\t") && !s.contains("\u0001"), s);
        int fd = connect();
        send(fd, "status"); // no newline, then end of input: nothing to answer
        assertEquals(0, LibC.shutdown(fd, 1)); // SHUT_WR
        assertEquals("", readAll(fd));
        assertConductorResponsive();
    }

    @Test
    void aClientThatHalfClosesAfterItsRequestStillGetsTheAnswer() {
        int fd = connect();
        send(fd, "names\n");
        assertEquals(0, LibC.shutdown(fd, 1));
        assertTrue(readAll(fd).startsWith("ok\n"));
    }

    @Test
    void oneUidBeyondItsAdminQuotaGetsEdquotAndItIsCountedInStatus() throws Exception {
        conductor.adminConnectionsPerUser(2);
        int first = connect(), second = connect(); // say nothing: each holds a slot
        Thread.sleep(100);
        assertTrue(ask("status\n").startsWith("error\tEDQUOT\tuid " + LibC.getuid() + " has 2 admin connections open already"),
                "a third connection of one uid, with 2 allowed");
        assertConductorResponsive();
        LibC.close(first);
        open.remove(Integer.valueOf(first));
        String s = "";
        for (int i = 0; i < 50; i++) { // the daemon sees the close at its next epoll wait
            s = ask("status\n");
            if (s.startsWith("ok\n")) break;
            Thread.sleep(20);
        }
        assertTrue(s.startsWith("ok\n"), "served again once one is closed: " + s);
        assertTrue(s.contains("row\tquota.admin-connections\t2\n"), s);
        assertTrue(s.matches("(?s).*row\\tquota\\.admin-connections\\.refusals\\t[1-9]\\d*\\n.*"), s);
        assertEquals("", readAll(second), "the idle one is still dropped at its request timeout");
        assertThrows(IllegalArgumentException.class, () -> conductor.adminConnectionsPerUser(0));
    }
}

package org.dios.diosd.admin;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.dios.diosd.conductor.DriverConductor;
import org.dios.diosd.objects.BlobStore;
import org.dios.diosd.sys.LibC;
import org.dios.diosd.sys.UnixSocket;
import org.dios.diosd.trace.TraceRecord;
import org.dios.diosd.trace.TraceTail;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The admin socket's {@code trace} request on a real conductor (in this
 * JVM): off by default, even while calls run; on while a tracing connection
 * lasts, through the answer timeout; off again, with the queue gone, when the
 * last one ends.
 */
class TraceAdminTest {
    @TempDir
    Path dir;

    private DriverConductor conductor;
    private Thread thread;
    private int listenFd = -1, adminFd = -1;
    private String adminPath;
    private final List<Integer> open = new ArrayList<>();

    private Path traceDir() {
        return dir.resolve("state").resolve("trace");
    }

    private void start(Path traceDir, int warmup) throws Exception {
        launch(traceDir, warmup);
        conductor.durableState(null);
        assertTrue(conductor.awaitServing());
    }

    /** Starts the conductor; it warms up, then waits for durableState. */
    private void launch(Path traceDir, int warmup) throws Exception {
        if (traceDir != null) Files.createDirectories(traceDir.getParent()); // the daemon's state directory
        listenFd = UnixSocket.listen(dir.resolve("d.sock").toString(), LibC.SOCK_SEQPACKET, 16);
        adminPath = dir.resolve("d.sock.admin").toString();
        adminFd = UnixSocket.listen(adminPath, LibC.SOCK_STREAM, 16);
        assertTrue(listenFd >= 0 && adminFd >= 0);
        AdminReports.Info info = new AdminReports.Info("test", dir.resolve("d.sock").toString(), "off", 1, LibC.getuid(),
                Instant.now(), traceDir);
        conductor = new DriverConductor(DriverConductor.Config.defaults().withWarmup(warmup), listenFd, adminFd, info);
        thread = Thread.ofPlatform().name("test-conductor").start(conductor);
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (int fd : open) LibC.close(fd);
        if (conductor != null) {
            conductor.requestStop();
            thread.join(10_000);
        }
        LibC.close(listenFd);
        LibC.close(adminFd);
    }

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
            MemorySegment tv = a.allocate(16, 8);
            tv.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 15L);
            assertEquals(0, LibC.setsockopt(fd, LibC.SOL_SOCKET, 20 /* SO_RCVTIMEO */, tv, 16));
        }
        return fd;
    }

    private static void send(int fd, String text) {
        try (Arena a = Arena.ofConfined()) {
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            MemorySegment m = a.allocate(b.length);
            MemorySegment.copy(b, 0, m, JAVA_BYTE, 0, b.length);
            assertEquals(b.length, LibC.write(fd, m, b.length));
        }
    }

    /** Reads until the daemon closes, or (stopAtEnd) until a whole answer has arrived. */
    private static String read(int fd, boolean stopAtEnd) {
        StringBuilder out = new StringBuilder();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(65536);
            while (!(stopAtEnd && (out.toString().contains("\nend\t") || out.toString().startsWith("error\t"))
                    && out.toString().endsWith("\n"))) {
                long n = LibC.read(fd, buf, buf.byteSize());
                assertNotEquals(-LibC.EAGAIN, n, "no answer within 15 s: " + out);
                if (n <= 0) break;
                out.append(new String(buf.asSlice(0, n).toArray(JAVA_BYTE), StandardCharsets.UTF_8));
            }
        }
        return out.toString();
    }

    private String ask(String request) {
        int fd = connect();
        send(fd, request);
        return read(fd, false);
    }

    private String traceState() {
        String s = ask("status\n");
        for (String line : s.split("\n")) if (line.startsWith("row\ttrace\t")) return line.substring(10);
        return fail("no trace row in " + s);
    }

    /** True while the daemon keeps fd open: a read finds nothing to read rather than the end. */
    private static boolean stillOpen(int fd) {
        int fl = LibC.fcntl(fd, LibC.F_GETFL, 0);
        assertEquals(0, LibC.fcntl(fd, LibC.F_SETFL, fl | LibC.O_NONBLOCK));
        try (Arena a = Arena.ofConfined()) {
            return LibC.read(fd, a.allocate(16), 16) == -LibC.EAGAIN;
        } finally {
            LibC.fcntl(fd, LibC.F_SETFL, fl);
        }
    }

    private void awaitTraceState(String want) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        String s;
        while (!(s = traceState()).equals(want)) {
            assertTrue(System.nanoTime() < deadline, "trace is '" + s + "', not '" + want + "'");
            Thread.sleep(20);
        }
    }

    private int startTracing(String wantState) {
        int fd = connect();
        send(fd, "trace\n");
        String answer = read(fd, true);
        assertTrue(answer.startsWith("ok\ncolumns\tkey\tvalue\nrow\tqueue\t" + traceDir() + "\nrow\tfrom\t"), answer);
        assertTrue(answer.endsWith("\nend\t2\t2\n"), answer);
        assertTrue(stillOpen(fd), "the answer does not close a tracing connection");
        assertEquals(wantState, traceState());
        return fd;
    }

    @Test
    void tracingIsOffByDefaultAndLastsExactlyAsLongAsItsConnections() throws Exception {
        start(traceDir(), 500); // the warm-up's 4,000 calls run through the conductor's drain
        assertFalse(Files.exists(traceDir()), "calls served while nobody traces write nothing");
        assertEquals("off", traceState());

        int first = startTracing("on (1 client)");
        assertTrue(Files.isDirectory(traceDir()));
        List<TraceRecord> entries = TraceTail.readAll(traceDir());
        assertEquals(1, entries.size());
        assertEquals(TraceRecord.START, entries.get(0).kind());
        int second = startTracing("on (2 clients)");
        // Tracing connections do not take the places of other requests.
        int[] idle = new int[AdminEndpoint.MAX_CLIENTS - 1];
        for (int i = 0; i < idle.length; i++) idle[i] = connect();
        assertTrue(ask("status\n").startsWith("ok\n"));

        LibC.close(second);
        open.remove((Integer) second);
        awaitTraceState("on (1 client)");
        assertTrue(Files.isDirectory(traceDir()), "one client still traces");

        // Past both timeouts a plain request has, the tracing connection is still served.
        Thread.sleep((AdminEndpoint.REQUEST_TIMEOUT_NANOS + AdminEndpoint.ANSWER_TIMEOUT_NANOS) / 1_000_000 + 1_500);
        assertTrue(stillOpen(first), "a tracing client is never dropped for being idle");
        assertEquals("on (1 client)", traceState());

        LibC.close(first);
        open.remove((Integer) first);
        awaitTraceState("off");
        assertFalse(Files.exists(traceDir()), "the last client's end removes the queue");
    }

    @Test
    void aHalfCloseEndsTheTraceAndThereIsALimit() throws Exception {
        start(traceDir(), 0);
        int fd = startTracing("on (1 client)");
        assertEquals(0, LibC.shutdown(fd, 1)); // SHUT_WR: the client said it is done
        awaitTraceState("off");
        assertEquals("", read(fd, false), "and the daemon closed its side");

        for (int i = 0; i < AdminEndpoint.MAX_TRACERS; i++) startTracing("on (" + (i + 1) + (i == 0 ? " client)" : " clients)"));
        int fifth = connect();
        send(fifth, "trace\n");
        assertTrue(read(fifth, false).startsWith("error\tEBUSY\t"));
    }

    @Test
    void aStaleTraceIsRemovedAtStartButNeverALiveOne() throws Exception {
        // A killed daemon's trace is removed once the state directory is ours...
        Files.createDirectories(traceDir());
        Files.writeString(traceDir().resolve("20260101-0000V.cq4"), "a killed daemon's");
        launch(traceDir(), 0);
        conductor.durableState(BlobStore.open(dir.resolve("state")));
        assertTrue(conductor.awaitServing());
        assertEquals("off", traceState());
        assertFalse(Files.exists(traceDir()));
        stop();
        conductor = null;
        open.clear();
        LibC.unlink(dir.resolve("d.sock").toString());
        LibC.unlink(adminPath);

        // ...but a client may ask for a trace during the warm-up, before that: its trace stays,
        // and the warm-up's synthetic calls are not in it.
        Files.createDirectories(traceDir());
        Files.writeString(traceDir().resolve("20260101-0000V.cq4"), "a killed daemon's");
        launch(traceDir(), 20_000);
        int fd = connect();
        send(fd, "trace\n");
        String answer = read(fd, true);
        conductor.durableState(BlobStore.open(dir.resolve("state")));
        assertTrue(conductor.awaitServing());
        assertTrue(answer.startsWith("ok\n"), answer);
        assertEquals("on (1 client)", traceState());
        assertTrue(Files.isDirectory(traceDir()), "the live trace survives the start-up's clean-up");
        List<TraceRecord> entries = TraceTail.readAll(traceDir());
        assertEquals(List.of(TraceRecord.START), entries.stream().map(TraceRecord::kind).toList(),
                "no warm-up call is traced");
    }

    @Test
    void aDaemonWithoutAStateDirectoryRefusesToTrace() throws Exception {
        start(null, 0);
        String s = ask("trace\n");
        assertTrue(s.startsWith("error\tEOPNOTSUPP\t"), s);
        assertEquals("off", traceState());
    }
}

package org.dios.diosd;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.dios.abi.Abi;
import org.dios.abi.HelloMessageDescriptor;
import org.dios.abi.WelcomeMessageDescriptor;
import org.dios.diosd.sys.LibC;
import org.dios.diosd.sys.NotifyListener;
import org.dios.diosd.sys.UnixSocket;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The real daemon, started as a child process the way systemd starts a
 * Type=notify service: NOTIFY_SOCKET points at a datagram socket this test
 * holds, as systemd's own would.
 */
class SystemdNotifyTest {
    @TempDir
    Path dir;

    private Process daemon;

    /** Starts diosd with NOTIFY_SOCKET set; warm-up cycles as given (its log line marks the end of warm-up). */
    private Process start(String notifySocket, int warmupCycles, String... more) throws IOException {
        return start(notifySocket, false, warmupCycles, more);
    }

    /**
     * As above; with {@code journal}, JOURNAL_STREAM names the log file, as
     * systemd names the journal stream it connects to stderr.
     */
    private Process start(String notifySocket, boolean journal, int warmupCycles, String... more) throws IOException {
        List<String> cmd = new ArrayList<>(TestJvm.diosdCommand());
        cmd.addAll(List.of("--socket", sock(), "--state-dir", dir.resolve("state").toString(),
                "--warmup-cycles", Integer.toString(warmupCycles)));
        cmd.addAll(List.of(more));
        Files.write(log(), new byte[0]);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log().toFile());
        pb.environment().put("NOTIFY_SOCKET", notifySocket);
        pb.environment().remove("JOURNAL_STREAM");
        if (journal) {
            var st = Files.readAttributes(log(), "unix:dev,ino");
            pb.environment().put("JOURNAL_STREAM", Long.toUnsignedString((Long) st.get("dev")) + ":" + st.get("ino"));
        }
        daemon = pb.start();
        return daemon;
    }

    private String sock() {
        return dir.resolve("diosd.sock").toString();
    }

    private Path log() {
        return dir.resolve("diosd.log");
    }

    private String logText() {
        return org.dios.diosd.TestJvm.logText(log());
    }

    /** Waits up to 30 s for a line of the daemon's output that matches. */
    private void awaitLine(java.util.function.Predicate<String> match, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (logText().lines().noneMatch(match)) {
            assertTrue(System.nanoTime() < deadline, () -> "no " + what + " within 30 s; output:\n" + logText());
            Thread.sleep(10);
        }
    }

    private static String mode(String path) throws IOException {
        return java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(Path.of(path), java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (daemon != null && daemon.isAlive()) {
            daemon.destroyForcibly();
            daemon.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Registers as a task over the control socket; returns the welcome's status (0 = a task id was given). */
    private static int register(String sock) throws InterruptedException {
        int fd = LibC.socket(LibC.AF_UNIX, LibC.SOCK_SEQPACKET | LibC.SOCK_CLOEXEC | LibC.SOCK_NONBLOCK, 0);
        assertTrue(fd >= 0, "socket: " + LibC.strerror(fd));
        try (Arena a = Arena.ofConfined()) {
            byte[] p = sock.getBytes(StandardCharsets.UTF_8);
            MemorySegment sa = a.allocate(LibC.SOCKADDR_UN_SIZE, 8);
            sa.set(JAVA_SHORT, 0, (short) LibC.AF_UNIX);
            MemorySegment.copy(p, 0, sa, JAVA_BYTE, 2, p.length);
            int r = LibC.connect(fd, sa, LibC.SOCKADDR_UN_SIZE);
            assertEquals(0, r, () -> "connect " + sock + ": " + LibC.strerror(r));
            MemorySegment hello = a.allocate(HelloMessageDescriptor.SIZE, 8);
            hello.set(JAVA_INT, HelloMessageDescriptor.MAGIC_OFFSET, Abi.DIOS_MSG_HELLO);
            hello.set(JAVA_INT, HelloMessageDescriptor.ABI_VERSION_OFFSET, (int) Abi.DIOS_ABI_VERSION);
            assertEquals(HelloMessageDescriptor.SIZE, LibC.write(fd, hello, HelloMessageDescriptor.SIZE));
            // The welcome carries the region and doorbell fds (SCM_RIGHTS); read() discards them.
            MemorySegment welcome = a.allocate(WelcomeMessageDescriptor.SIZE, 8);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            long n;
            while ((n = LibC.read(fd, welcome, WelcomeMessageDescriptor.SIZE)) == -LibC.EAGAIN) {
                assertTrue(System.nanoTime() < deadline, "no welcome within 30 s of the hello");
                Thread.sleep(5);
            }
            assertEquals(WelcomeMessageDescriptor.SIZE, n, "welcome size (or -errno)");
            assertEquals(Abi.DIOS_MSG_WELCOME, welcome.get(JAVA_INT, WelcomeMessageDescriptor.MAGIC_OFFSET));
            return welcome.get(JAVA_INT, WelcomeMessageDescriptor.STATUS_OFFSET);
        } finally {
            LibC.close(fd);
        }
    }

    @Test
    void readyOnceServingThenStoppingOnSigterm() throws Exception {
        String notifyPath = dir.resolve("notify").toString();
        try (NotifyListener systemd = NotifyListener.atPath(notifyPath)) {
            Process d = start(notifyPath, 20_000, "--socket-mode", "0660"); // as diosd.service starts it
            NotifyListener.Message ready = systemd.receive(Duration.ofSeconds(60), d.toHandle());
            assertNotNull(ready, () -> "no notification within 60 s (daemon " + (d.isAlive() ? "running" : "exited")
                    + "); its output:\n" + logText());

            // What must hold at the moment READY=1 arrives, before anything else happens:
            assertTrue(UnixSocket.isLive(sock(), LibC.SOCK_SEQPACKET),
                    "READY=1 arrived before the control socket accepted connections");
            String out = logText();
            assertTrue(out.contains("warmed up the call and wake-up paths"),
                    "READY=1 arrived before the conductor finished its warm-up; output so far:\n" + out);

            assertEquals(List.of("READY=1", "STATUS=listening on " + sock(), "MAINPID=" + d.pid()),
                    ready.text().lines().toList(), "the READY message");
            assertEquals(d.pid(), ready.pid(), "sent by the main process itself (systemd's NotifyAccess=main)");
            assertEquals("rw-rw----", mode(sock()), "--socket-mode 0660: the daemon's group may connect");
            assertEquals("rw-rw----", mode(sock() + Abi.DIOS_RPC_SUFFIX), "the benchmark socket follows");
            assertEquals(0, register(sock()), "a task registers once READY=1 was sent; output:\n" + logText());

            d.destroy(); // SIGTERM, as systemctl stop sends
            NotifyListener.Message stopping = systemd.receive(Duration.ofSeconds(30), d.toHandle());
            assertNotNull(stopping, () -> "no notification after SIGTERM; output:\n" + logText());
            assertEquals("STOPPING=1", stopping.text(), "the first message after READY=1");
            assertEquals(d.pid(), stopping.pid());
            assertTrue(d.waitFor(15, TimeUnit.SECONDS), "diosd did not exit within 15 s of SIGTERM");
            // A clean stop on SIGTERM exits 0 (diosd(8)), not the JVM's 128+SIGTERM.
            assertEquals(0, d.exitValue(), () -> "exit status after SIGTERM (a clean stop: 0); output:\n" + logText());
            List<String> extra = new ArrayList<>();
            for (NotifyListener.Message m; (m = systemd.receive(Duration.ZERO)) != null; ) extra.add(m.text());
            assertEquals(List.of(), extra, "messages after STOPPING=1");
        }
    }

    @Test
    void aNotifySocketNobodyListensOnIsLoggedNotFatal() throws Exception {
        String nobody = dir.resolve("no-systemd-here").toString();
        Process d = start(nobody, 0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!logText().contains("cannot send READY=1 to systemd")) {
            assertTrue(d.isAlive(), () -> "diosd exited (status " + d.exitValue() + "); output:\n" + logText());
            assertTrue(System.nanoTime() < deadline, () -> "no warning within 60 s; output:\n" + logText());
            Thread.sleep(20);
        }
        assertTrue(logText().contains("cannot send READY=1 to systemd at NOTIFY_SOCKET=" + nobody + ": "), logText());
        assertEquals(0, register(sock()), "still serving");
        assertEquals("rw-------", mode(sock()), "the default socket mode: this user only");
        assertTrue(d.isAlive());
        d.destroy();
        assertTrue(d.waitFor(15, TimeUnit.SECONDS));
        assertEquals(0, d.exitValue(), () -> "exit status after SIGTERM (a clean stop: 0); output:\n" + logText());
    }

    @Test
    void anUnusableNotifySocketIsLoggedNotFatalWithTheJournalsPriority() throws Exception {
        Process d = start("vsock:2:9999", true, 0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!UnixSocket.isLive(sock(), LibC.SOCK_SEQPACKET)) {
            assertTrue(d.isAlive(), () -> "diosd exited (status " + d.exitValue() + "); output:\n" + logText());
            assertTrue(System.nanoTime() < deadline, () -> "not listening within 60 s; output:\n" + logText());
            Thread.sleep(20);
        }
        assertEquals(0, register(sock()), "serving");
        // stderr is "the journal" here: lines carry <priority> and no time.
        assertTrue(logText().lines().anyMatch(l -> l.startsWith(
                        "<4>NOTIFY_SOCKET='vsock:2:9999' is neither an absolute path nor an abstract name")),
                "a warning with priority 4 first in its line; output:\n" + logText());
        // Logged just after the welcome is sent: wait for it.
        awaitLine(l -> l.matches("<6>task \\d+ \\(pid " + ProcessHandle.current().pid() + "\\) registered: uid \\d+, exe .*/java"),
                "the registration line, naming task, pid and exe");
        awaitLine(l -> l.matches("<6>task \\d+ \\(pid " + ProcessHandle.current().pid()
                        + "\\) closed its connection; exe .*/java, released \\d+ references"),
                "the disconnection line, naming task, pid and exe");
        d.destroy();
        assertTrue(d.waitFor(15, TimeUnit.SECONDS));
    }
}

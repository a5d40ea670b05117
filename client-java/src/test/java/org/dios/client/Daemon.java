package org.dios.client;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One real diosd for every test class of the run ({@code @ExtendWith(Daemon.class)}). One, because
 * the shim connects once per process to $DIOS_SOCKET (set by the pom) and a connection whose
 * daemon stopped stays dead. Stopped with SIGTERM at the end of the run, which must remove the
 * socket.
 */
public final class Daemon implements BeforeAllCallback {
    static final Path SOCKET = Path.of(System.getenv("DIOS_SOCKET"));
    static final Path ROOT = Path.of(System.getProperty("dios.root"));

    @Override
    public void beforeAll(ExtensionContext ctx) {
        ctx.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                .getOrComputeIfAbsent(Daemon.class, k -> start(), Running.class);
    }

    /** The daemon process, closed by JUnit (an AutoCloseable in the root store) after the last test. */
    record Running(Process process) implements AutoCloseable {
        @Override
        public void close() {
            process.destroy(); // SIGTERM: clean shutdown
            boolean stopped;
            try {
                stopped = process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopped = false;
            }
            if (!stopped) process.destroyForcibly();
            assertTrue(stopped, "diosd did not stop on SIGTERM");
            assertFalse(Files.exists(SOCKET), "socket removed at shutdown");
        }
    }

    private static Running start() {
        try {
            Files.createDirectories(SOCKET.getParent());
            Files.deleteIfExists(SOCKET);
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            String cp = System.getProperty("diosd.classes") + File.pathSeparator
                    + Files.readString(Path.of(System.getProperty("diosd.classpath.file"))).strip();
            List<String> cmd = new ArrayList<>(List.of(java));
            cmd.addAll(List.of(System.getProperty("diosd.jvm.flags").trim().split("\\s+")));
            cmd.addAll(List.of("-cp", cp, "org.dios.diosd.Main", "--socket", SOCKET.toString(),
                    "--state-dir", SOCKET.getParent().resolve("state").toString()));
            Process daemon = new ProcessBuilder(cmd)
                    .redirectErrorStream(true).redirectOutput(SOCKET.getParent().resolve("diosd.log").toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.exists(SOCKET)) {
                assertTrue(daemon.isAlive(), "diosd exited early; see " + SOCKET.getParent().resolve("diosd.log"));
                assertTrue(System.nanoTime() < deadline, "diosd did not listen within 120 s");
                Thread.sleep(50);
            }
            Running running = new Running(daemon);
            warmUp(daemon, deadline);
            return running;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("starting diosd", e);
        }
    }

    /**
     * A fresh daemon on a loaded machine may take longer than the shim's registration timeout
     * (10 s) to answer its first task, and a connection that timed out stays dead for the whole
     * process. So a throw-away C task registers first (retried until the deadline): once it got
     * through, this JVM's own first call meets a warm daemon.
     */
    private static void warmUp(Process daemon, long deadline) throws IOException, InterruptedException {
        String probe = TestPrograms.child().toString();
        for (;;) {
            Process p = new ProcessBuilder(probe, "--child-exit", "0").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) return;
            p.destroyForcibly();
            assertTrue(daemon.isAlive(), "diosd exited early; see " + SOCKET.getParent().resolve("diosd.log"));
            assertTrue(System.nanoTime() < deadline, "no task could register with diosd within 120 s");
        }
    }

    /** Daemon-wide counts, as {@link Dios#daemonStats()}: tasks, objects, names, refs, buffers, segments. */
    static long[] stats() {
        return Dios.daemonStats();
    }
}

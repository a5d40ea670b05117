package org.dios.diosd.trace;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.dios.diosd.TestJvm;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code dios trace} end to end, like strace's own tests: a real daemon, the
 * C tool (native/build/dios) with its reader ({@code diosd --trace-tail}, the
 * test JVM's classes through a launcher script in $DIOSD), and a C task that
 * does known work (native/build/metrics_workload). The trace must show each
 * call with its task, op, object and result, error included; and after
 * {@code kill -9} of the tool, the daemon must stop tracing by itself.
 */
class TraceToolTest {
    @TempDir
    Path dir;

    private static final String ROOT = System.getProperty("dios.root", "..");
    private static final Path DIOS = Path.of(ROOT, "native", "build", "dios");
    private static final Path WORKLOAD = Path.of(ROOT, "native", "build", "metrics_workload");
    private static final Pattern CALL = Pattern.compile(
            "(\\d\\d:\\d\\d:\\d\\d\\.\\d{6}) task (\\d+) \\(pid (\\d+)\\) (\\w+) type=(\\w+) flags=(0|[A-Z_|]+(\\|0x[0-9a-f]+)?|0x[0-9a-f]+)"
            + " len=(\\d+)( name=[A-Za-z0-9_-]{43})? ref=0x([0-9a-f]+) obj=(\\d+) -> (\\S+) \\d+(\\.\\d)?(ns|us|ms|s)"
            + " \\(from (\\d\\d:\\d\\d:\\d\\d\\.\\d{6})(, was parked)?\\)");
    // CALL's groups: 1 end time, 2 task, 3 pid, 4 op, 5 type, 6 flags, 8 len, 9 " name=...", 10 ref, 11 object,
    // 12 result, 15 start time

    private final List<Process> processes = new ArrayList<>();
    private Process daemon;

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private Path socket() {
        return dir.resolve("d.sock");
    }

    private Path traceDir() {
        return dir.resolve("state").resolve("trace");
    }

    private String daemonLog() {
        return TestJvm.logText(dir.resolve("diosd.log"));
    }

    private void startDaemon() throws Exception {
        List<String> cmd = new ArrayList<>(TestJvm.diosdCommand());
        cmd.addAll(List.of("--socket", socket().toString(), "--state-dir", dir.resolve("state").toString(),
                "--warmup-cycles", "2000"));
        daemon = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("diosd.log").toFile()).start();
        processes.add(daemon);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!daemonLog().contains("warmed up")) {
            assertTrue(daemon.isAlive(), () -> "diosd exited early:\n" + daemonLog());
            assertTrue(System.nanoTime() < deadline, () -> "diosd not serving within 60 s:\n" + daemonLog());
            Thread.sleep(20);
        }
    }

    /**
     * $DIOSD for the tool: the daemon's main class in a JVM like the test's
     * (dist/ is staged only after this module's tests).
     */
    /**
     * The diosd launcher the tool runs its trace reader with, written once per
     * test and put in place by a rename: rewriting it on every tool call let a
     * reader's shell read it truncated (it ran nothing and exited 0, or
     * exited 127), which looked like `dios trace` ending by itself.
     */
    private Path launcher() throws IOException {
        Path p = dir.resolve("diosd-launcher");
        if (Files.exists(p)) return p;
        StringBuilder sh = new StringBuilder("#!/bin/sh\nexec");
        for (String w : TestJvm.diosdCommand()) sh.append(" '").append(w.replace("'", "'\\''")).append('\'');
        sh.append(" \"$@\"\n");
        Path tmp = dir.resolve("diosd-launcher.tmp");
        Files.writeString(tmp, sh);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx------"));
        Files.move(tmp, p, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return p;
    }

    private ProcessBuilder tool(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(DIOS.toString(), "--socket", socket().toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("DIOSD", launcher().toString());
        return pb;
    }

    /** A running `dios trace`: its stdout lines and stderr text, collected as they come. */
    private record Tracing(Process process, List<String> lines, StringBuffer err, Thread outPump, Thread errPump) {
        /** Once the process has exited: everything it wrote has been collected (the pumps read to EOF). */
        void drained() throws InterruptedException {
            outPump.join(TimeUnit.SECONDS.toMillis(30));
            errPump.join(TimeUnit.SECONDS.toMillis(30));
        }

        String text() {
            synchronized (lines) {
                return String.join("\n", lines);
            }
        }

        List<String> matching(Predicate<String> p) {
            synchronized (lines) {
                return lines.stream().filter(p).collect(Collectors.toList());
            }
        }
    }

    private static Thread pump(InputStream in, java.util.function.Consumer<String> sink) {
        return Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) sink.accept(l);
            } catch (IOException e) {
                // the process went
            }
        });
    }

    private Tracing startTrace(String... args) throws Exception {
        List<String> a = new ArrayList<>(List.of("trace"));
        a.addAll(List.of(args));
        Process p = tool(a.toArray(String[]::new)).start();
        processes.add(p);
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        StringBuffer err = new StringBuffer();
        Thread outPump = pump(p.getInputStream(), lines::add);
        Thread errPump = pump(p.getErrorStream(), l -> err.append(l).append('\n'));
        Tracing t = new Tracing(p, lines, err, outPump, errPump);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!err.toString().contains("tracing the calls")) {
            assertTrue(p.isAlive(), () -> "dios trace exited " + p.exitValue() + ": " + err + "\n" + daemonLog());
            assertTrue(System.nanoTime() < deadline, () -> "dios trace did not start: " + err);
            Thread.sleep(10);
        }
        return t;
    }

    /** Runs the known work to its end; returns its pid. */
    private long runWorkload() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(WORKLOAD.toString()).redirectError(dir.resolve("task.err").toFile());
        pb.environment().put("DIOS_SOCKET", socket().toString());
        Process task = pb.start();
        processes.add(task);
        BufferedReader out = new BufferedReader(new InputStreamReader(task.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("ready", out.readLine(), () -> "metrics_workload failed: " + TestJvm.logText(dir.resolve("task.err")));
        try (OutputStream in = task.getOutputStream()) {
            in.write('\n');
        }
        assertTrue(task.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, task.exitValue());
        return task.pid();
    }

    private String status() throws Exception {
        Process p = tool("status", "--raw").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    private String traceState() throws Exception {
        for (String l : status().split("\n")) if (l.startsWith("trace\t")) return l.substring(6);
        return fail("no trace row in status:\n" + status());
    }

    private static long dirBytes(Path d) throws IOException {
        if (!Files.isDirectory(d)) return -1;
        try (var s = Files.list(d)) {
            return s.mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private void await(String what, java.util.concurrent.Callable<Boolean> cond, Tracing t) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!cond.call()) {
            if (!t.process().isAlive()) { // it will not come: say how the tool ended
                t.drained();
                if (cond.call()) break;
                fail(what + ", but dios trace exited " + t.process().exitValue() + "; trace so far:\n" + t.text()
                        + "\nstderr: " + t.err() + "\ndaemon:\n" + daemonLog());
            }
            assertTrue(System.nanoTime() < deadline, () -> what + " within 60 s (dios trace still runs); trace so far:\n"
                    + t.text() + "\nstderr: " + t.err() + "\ndaemon:\n" + daemonLog());
            Thread.sleep(20);
        }
    }

    @Test
    void tracesEveryCallOfATaskAndStopsWhenTheToolIsKilled() throws Exception {
        assertTrue(Files.isExecutable(DIOS) && Files.isExecutable(WORKLOAD), "build the native parts first (make native)");
        startDaemon();
        assertEquals("off", traceState());
        assertFalse(Files.exists(traceDir()), "no trace queue while nobody traces");

        Tracing t = startTrace();
        assertEquals("on (1 client)", traceState());
        long pid = runWorkload();
        String me = "(pid " + pid + ")";
        // Its last call to the daemon: the FIFO writer's attach.
        await("the workload's calls in the trace",
                () -> !t.matching(l -> l.contains(me) && l.contains(" acquire_write type=fifo ")).isEmpty(), t);

        List<String> mine = t.matching(l -> l.contains(me));
        List<Matcher> calls = new ArrayList<>();
        for (String l : mine) {
            Matcher m = CALL.matcher(l);
            assertTrue(m.matches(), "not a trace line: " + l);
            calls.add(m);
        }
        String task = calls.get(0).group(2);
        for (Matcher m : calls) assertEquals(task, m.group(2), "one task id for one process: " + m.group());
        List<String> ops = calls.stream().map(m -> m.group(4) + " " + m.group(5) + " -> " + m.group(12)).toList();
        List<String> want = new ArrayList<>(Collections.nCopies(10, "nop none -> 0"));
        want.addAll(List.of("create shmem -> 0", "create shmem -> 0", "create shmem -> 0",
                "acquire_write shmem -> 0", "commit_write shmem -> 0", "release_write shmem -> 0",
                "delete shmem -> 0", "lookup none -> -ENOENT", "create fifo -> 0", "acquire_write fifo -> 0"));
        assertEquals(want, ops, t.text());
        // Objects: the acquire names the first shmem created, the delete the third.
        assertEquals(calls.get(10).group(11), calls.get(13).group(11));
        assertEquals(calls.get(10).group(10), calls.get(13).group(10), "the reference the create returned");
        assertEquals(calls.get(12).group(11), calls.get(16).group(11));
        assertNotEquals("0", calls.get(12).group(11));
        assertEquals("0", calls.get(17).group(11), "a failed lookup resolves no object");
        // Lengths, names and flags (metrics_workload.c): three 4096-byte creates, the first one named; a
        // whole-object acquire and a commit of 1000; the lookup names what it looked for; the FIFO is named.
        for (int i = 10; i <= 12; i++) assertEquals("4096", calls.get(i).group(8), calls.get(i).group());
        assertNotNull(calls.get(10).group(9), "the named create shows the name it got: " + calls.get(10).group());
        assertEquals("D_CREATE_NAMED", calls.get(10).group(6), calls.get(10).group());
        assertNull(calls.get(11).group(9), "an anonymous create has no name: " + calls.get(11).group());
        assertEquals(calls.get(10).group(9), calls.get(13).group(9), "the acquire on the named object shows its name");
        assertEquals("0", calls.get(13).group(8), "acquire_write of the whole object asks for 0");
        assertEquals("1000", calls.get(14).group(8), "commit_write's length: " + calls.get(14).group());
        assertNotNull(calls.get(17).group(9), "the failed lookup shows the name it looked for: " + calls.get(17).group());
        assertEquals("1", calls.get(17).group(8), "the lookup's capacity");
        assertEquals("D_CREATE_NAMED", calls.get(18).group(6), calls.get(18).group());
        assertNotNull(calls.get(18).group(9));
        // Completion order: the line's time is the end, never before the line above it, and the start precedes it.
        for (int i = 0; i < calls.size(); i++) {
            assertTrue(calls.get(i).group(15).compareTo(calls.get(i).group(1)) <= 0, "start after end: " + calls.get(i).group());
            if (i > 0) {
                assertTrue(calls.get(i - 1).group(1).compareTo(calls.get(i).group(1)) <= 0,
                        "out of order:\n" + calls.get(i - 1).group() + "\n" + calls.get(i).group());
            }
        }

        // kill -9: the reader goes with the tool, and the daemon stops tracing by itself.
        List<ProcessHandle> reader = t.process().descendants().toList();
        assertFalse(reader.isEmpty(), "the reader runs as the tool's child");
        t.process().destroyForcibly(); // SIGKILL
        assertTrue(t.process().waitFor(30, TimeUnit.SECONDS));
        t.drained();
        for (ProcessHandle h : reader) {
            assertDoesNotThrow(() -> h.onExit().get(30, TimeUnit.SECONDS), "the reader outlived the tool: " + h.info());
        }
        await("tracing off after kill -9 of dios trace", () -> traceState().equals("off"), t);
        long before = dirBytes(traceDir());
        int lines = t.lines.size();
        runWorkload();
        assertEquals(before, dirBytes(traceDir()), "the queue does not grow while calls run untraced");
        assertEquals(-1, before, "and it is gone");
        assertEquals(lines, t.lines.size());
        assertTrue(daemonLog().contains("trace: off ("), daemonLog());
    }

    @Test
    void oneTaskByIdRawAndTheToolEndsWithTheDaemon() throws Exception {
        assertTrue(Files.isExecutable(DIOS) && Files.isExecutable(WORKLOAD), "build the native parts first (make native)");
        startDaemon();
        Tracing all = startTrace("--raw");
        long first = runWorkload();
        await("the first workload in the raw trace", () -> all.matching(l -> l.contains("\t" + first + "\t")).size() >= 20, all);
        String task = all.matching(l -> l.contains("\t" + first + "\t")).get(0).split("\t")[1];
        long nextTask = Long.parseLong(task) + 1;
        Tracing one = startTrace("--task", Long.toString(nextTask));
        assertEquals("on (2 clients)", traceState());
        long second = runWorkload();
        await("the second workload in the filtered trace",
                () -> one.matching(l -> l.contains("(pid " + second + ") acquire_write type=fifo")).size() == 1, one);
        assertTrue(one.matching(l -> l.contains("(pid " + first + ")")).isEmpty(), "--task shows one task only");
        assertEquals(20, one.matching(l -> l.contains(" task " + nextTask + " (pid " + second + ") ")).size(), one.text());

        assertEquals(TraceRecord.RAW_HEADER, all.text().split("\n")[0]);
        Optional<String> lookup = all.matching(l -> l.contains("\t" + second + "\tcall\tlookup\t")).stream().findFirst();
        assertTrue(lookup.isPresent(), all.text());
        String[] f = lookup.get().split("\t");
        assertEquals(15, f.length);
        assertEquals(Long.parseLong(f[0]) + Long.parseLong(f[10]), Long.parseLong(f[11]), "end_ns = time_ns + latency_ns");
        assertTrue(f[13].matches("[A-Za-z0-9_-]{43}"), "the name looked up: " + f[13]);
        assertEquals("0", f[14], "no flags");
        assertEquals(Integer.toString(-org.dios.abi.Abi.DIOS_ENOENT), f[9]);

        daemon.destroy(); // SIGTERM: a clean shutdown closes the tracing connections
        for (Tracing t : List.of(all, one)) {
            assertTrue(t.process().waitFor(30, TimeUnit.SECONDS), "dios trace still runs after the daemon stopped");
            t.drained(); // its last stderr line may still be in the pipe when it has exited
            assertEquals(1, t.process().exitValue(), t.err().toString());
            assertTrue(t.err().toString().contains("closed the trace connection"), t.err().toString());
        }
    }

    @Test
    void withoutADaemonTheToolSaysSoAndExits1() throws Exception {
        assertTrue(Files.isExecutable(DIOS), "build the native parts first (make native)");
        Process p = tool("trace").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), out);
        assertTrue(out.contains("no daemon is running at " + socket()), out);

        p = tool("trace", "--task", "x").redirectErrorStream(true).start();
        out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue(), out);
        assertTrue(out.contains("--task: expected a task id"), out);
    }
}

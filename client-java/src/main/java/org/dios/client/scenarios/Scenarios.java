package org.dios.client.scenarios;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.dios.client.Buffer;
import org.dios.client.Dios;
import org.dios.client.DiosException;
import org.dios.client.Errno;
import org.dios.client.Name;
import org.dios.client.Ref;
import org.dios.client.Task;

/**
 * The cross-language scenario suite (issue 5) through the Java client: share, fifo100, spawn,
 * errors, against the daemon at $DIOS_SOCKET. One line per scenario on stdout,
 * {@code scenario java <id> ok <detail>} or {@code scenario java <id> FAIL <reason>}; exit
 * status 0 iff all are ok. The spawn scenario runs the C runner's binary ({@code --child-exit 7}):
 * {@code --child PATH}, else $DIOS_SCENARIO_CHILD, else the C runner found beside dist/.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp dist/share/dios/java/dios-client.jar \
 *     org.dios.client.scenarios.Scenarios [--child PATH]</pre>
 */
public final class Scenarios {
    private Scenarios() {}

    static final long FIFO_BYTES = 100L << 20;

    /** A failed check: its message is the FAIL line's reason. */
    static final class Fail extends RuntimeException {
        Fail(String why) {
            super(why);
        }
    }

    private static void check(boolean ok, Supplier<String> why) {
        if (!ok) throw new Fail(why.get());
    }

    public static void main(String[] args) {
        Path child = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--child") && i + 1 < args.length) child = Path.of(args[++i]);
            else {
                System.err.println("usage: Scenarios [--child PATH]");
                System.exit(2);
            }
        }
        System.exit(run(System.out, child) == 0 ? 0 : 1);
    }

    /** Runs every scenario, printing one line each; returns how many failed. */
    public static int run(PrintStream out, Path child) {
        int failed = 0;
        failed += one(out, "share", Scenarios::share);
        failed += one(out, "fifo100", Scenarios::fifo100);
        failed += one(out, "spawn", () -> spawn(child));
        failed += one(out, "errors", Scenarios::errors);
        out.flush();
        return failed;
    }

    private static int one(PrintStream out, String id, Supplier<String> scenario) {
        String line;
        int bad;
        try {
            line = "scenario java " + id + " ok " + scenario.get();
            bad = 0;
        } catch (Fail f) {
            line = "scenario java " + id + " FAIL " + f.getMessage();
            bad = 1;
        } catch (DiosException e) {
            line = "scenario java " + id + " FAIL " + e.getMessage();
            bad = 1;
        } catch (Throwable t) {
            line = "scenario java " + id + " FAIL " + t;
            bad = 1;
        }
        out.println(line.replace('\n', ' '));
        out.flush();
        return bad;
    }

    static byte pattern(long k) {
        return (byte) ((k * 31 + 7) & 0xff);
    }

    // ---- 1. share -------------------------------------------------------------------------------

    static String share() {
        try (Ref first = Dios.createNamed(Dios.D_OBJ_SHMEM, 4096);
             Ref second = Dios.lookup(first.name(), false);
             Ref third = Dios.lookup(first.name(), true)) {
            try (Buffer b = first.acquireWrite(0)) {
                check(b.segment().byteSize() == 4096, () -> "write buffer of " + b.segment().byteSize() + " bytes");
                for (int i = 0; i < 4096; i++) b.segment().set(JAVA_BYTE, i, pattern(i));
                b.commit(4096);
            }
            for (Ref r : new Ref[] {second, third}) {
                try (Buffer b = r.acquireRead(0)) {
                    MemorySegment s = b.segment();
                    check(s.byteSize() == 4096, () -> "read buffer of " + s.byteSize() + " bytes");
                    for (int i = 0; i < 4096; i++) {
                        int at = i;
                        check(s.get(JAVA_BYTE, i) == pattern(i), () -> "byte " + at + " differs through "
                                + (r == third ? "the read-only reference" : "the second reference"));
                    }
                }
            }
            check(third.perms() == Dios.D_PERM_READ, () -> "read-only lookup has perms " + third.perms());
            return first.name().toString();
        }
    }

    // ---- 2. fifo100 -----------------------------------------------------------------------------

    static long fnv(long h, byte[] b, int n) {
        for (int i = 0; i < n; i++) {
            h ^= b[i] & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    static String fifo100() throws Fail {
        long want = 0xcbf29ce484222325L;
        for (long k = 0; k < FIFO_BYTES; k++) {
            want ^= pattern(k) & 0xff;
            want *= 0x100000001b3L;
        }
        // one reference per end: an anonymous FIFO would have nobody to look it up for the
        // second end in this process, so it gets a fresh random name (and default capacity)
        Ref w = Dios.createNamedFifo(0);
        Ref r = Dios.lookup(w.name(), false);
        byte[] chunk = new byte[64 * 1024];             // the pattern repeats every 256 bytes
        for (int i = 0; i < chunk.length; i++) chunk[i] = pattern(i);
        long t0 = System.nanoTime();
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (OutputStream out = w.outputStream()) {       // closing releases the writer end
                for (long k = 0; k < FIFO_BYTES; k += chunk.length) out.write(chunk);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, x -> Thread.ofPlatform().name("fifo100-writer").start(x));
        long got = 0, h = 0xcbf29ce484222325L;
        try (InputStream in = r.inputStream()) {
            byte[] buf = new byte[256 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                h = fnv(h, buf, n);
                got += n;
            }
            check(n == -1, () -> "no end of stream");
        } catch (DiosException e) {
            throw new Fail(e.getMessage());
        } catch (Exception e) {
            throw new Fail(e.toString());
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        try {
            writer.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new Fail("writer: " + e.getCause());
        } catch (Exception e) {
            throw new Fail("writer: " + e);
        }
        long total = got;
        check(total == FIFO_BYTES, () -> "read " + total + " bytes of " + FIFO_BYTES);
        long hh = h, ww = want;
        check(h == want, () -> String.format("FNV-1a %016x, want %016x", hh, ww));
        return String.format(Locale.ROOT, "fnv1a=%016x %.0f MiB/s", h, FIFO_BYTES / 1048576.0 / secs);
    }

    // ---- 3. spawn -------------------------------------------------------------------------------

    /** The C runner: --child, $DIOS_SCENARIO_CHILD, or beside the dist/ tree this jar is staged in. */
    static Path childProgram(Path given) {
        if (given != null) return given;
        String env = System.getenv("DIOS_SCENARIO_CHILD");
        if (env != null && !env.isEmpty()) return Path.of(env);
        List<Path> tried = new ArrayList<>();
        try {
            Path jar = Path.of(Scenarios.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path dist = jar.getParent() == null ? null : jar.getParent().getParent();   // dist/share/dios/java -> dist/share
            dist = dist == null ? null : dist.getParent() == null ? null : dist.getParent().getParent(); // -> dist
            if (dist != null) {
                Path repo = dist.getParent();
                tried.add(dist.resolve("libexec/dios/scenarios_c"));
                if (repo != null) {
                    tried.add(repo.resolve("libdlibc-shim/tests/scenarios/scenarios_c"));
                    tried.add(repo.resolve("libdlibc-shim/build/tests/scenarios_c"));
                    tried.add(repo.resolve("libdlibc-shim/build/scenarios/scenarios_c"));
                }
            }
        } catch (Exception e) {
            // no code source: only the explicit ways
        }
        for (Path p : tried) if (Files.isExecutable(p)) return p;
        throw new Fail("no child program: set DIOS_SCENARIO_CHILD (or --child) to the C runner scenarios_c; looked at "
                + tried);
    }

    static String spawn(Path given) {
        Path child = childProgram(given);
        try (Task t = Dios.spawn(child.toString(), "--child-exit", "7")) {
            long pid = t.pid();
            int st = t.waitFor();
            check(Task.exited(st), () -> "child did not exit normally: status " + st);
            check(Task.exitStatus(st) == 7, () -> "child exit status " + Task.exitStatus(st) + ", want 7");
            return "pid " + pid;
        }
    }

    // ---- 4. errors ------------------------------------------------------------------------------

    private static void expect(int errno, Runnable r) {
        try {
            r.run();
        } catch (DiosException e) {
            check(e.errno() == errno, () -> "want " + Errno.name(errno) + ", got " + e.getMessage());
            return;
        }
        throw new Fail("want " + Errno.name(errno) + ", the call succeeded");
    }

    static String errors() {
        List<String> done = new ArrayList<>();
        // EBADF: a reference used after it was deleted
        Ref gone = Dios.createAnonymous(Dios.D_OBJ_SHMEM, 64);
        gone.close();
        expect(Errno.EBADF, () -> gone.acquireRead(0).close());
        done.add("EBADF");
        // ENOENT: a fresh random name nobody bound
        expect(Errno.ENOENT, () -> Dios.lookup(Name.random(), false).close());
        done.add("ENOENT");
        // EEXIST: a given name already bound
        Name n = Name.random();
        Ref bound = Dios.createNamed(Dios.D_OBJ_SHMEM, 64, n);
        try {
            expect(Errno.EEXIST, () -> Dios.createNamed(Dios.D_OBJ_SHMEM, 64, n).close());
        } finally {
            bound.close();
        }
        done.add("EEXIST");
        // EINVAL: SHMEM of size 0
        expect(Errno.EINVAL, () -> Dios.createAnonymous(Dios.D_OBJ_SHMEM, 0).close());
        done.add("EINVAL");
        // EACCES: writing through a read-only reference
        try (Ref rw = Dios.createNamed(Dios.D_OBJ_SHMEM, 64); Ref ro = Dios.lookup(rw.name(), true)) {
            expect(Errno.EACCES, () -> ro.acquireWrite(0).close());
        }
        done.add("EACCES");
        // EAGAIN, then EPIPE: an empty FIFO whose writer end is held; then released, after draining
        Ref w = Dios.createNamedFifo(0);
        try (Ref r = Dios.lookup(w.name(), false)) {
            expect(Errno.EAGAIN, () -> r.acquireRead(0, Dios.D_NONBLOCK).close());
            done.add("EAGAIN");
            w.withWrite(1, s -> {
                s.set(JAVA_BYTE, 0, (byte) 1);
                return 1;
            });
            w.close();
            long drained = r.withRead(0, MemorySegment::byteSize);
            check(drained == 1, () -> "drained " + drained + " bytes, want 1");
            expect(Errno.EPIPE, () -> r.acquireRead(0).close());
        } finally {
            w.close();          // (closed above already: a second close does nothing)
        }
        done.add("EPIPE");
        // EIDRM: I/O through another reference after D_DELETE_ZOMBIFY
        Ref owner = Dios.createNamed(Dios.D_OBJ_SHMEM, 64);
        try (Ref other = Dios.lookup(owner.name(), false)) {
            owner.zombify();
            expect(Errno.EIDRM, () -> other.acquireRead(0).close());
        }
        done.add("EIDRM");
        // ENOEXEC: an unbranded executable
        try (Ref exe = Dios.exe("/bin/true")) {
            expect(Errno.ENOEXEC, () -> Dios.run(exe, List.of("/bin/true"), List.of(), 0).close());
        }
        done.add("ENOEXEC");
        return String.join(" ", done);
    }
}

package org.dios.client.bench;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.dios.client.Buffer;
import org.dios.client.Channel;
import org.dios.client.Dios;
import org.dios.client.DiosException;
import org.dios.client.Errno;
import org.dios.client.Name;
import org.dios.client.Ref;

/**
 * The Java client's figures beside the C shim's (perf/run runs it after the C benchmarks):
 *
 * <ul>
 * <li>{@code java_nullcall}: {@link Dios#nop()} round trips, back to back, one thread, after a
 *     warm-up (the C figure: {@code nullcall_ring_awake}). System.nanoTime around each call; its
 *     cost is included, as clock_gettime's is in C.
 * <li>{@code java_fifo_64k_throughput}, {@code _stream_}, {@code _buffer_}: 64 KiB messages
 *     through a 1 MiB FIFO between two processes (this JVM reads, a second JVM writes), the writer
 *     filling every byte of message m with m &amp; 0xff, the reader summing every byte as 64-bit
 *     words; the sum is checked (the C figure: {@code fifo_64k_throughput}, the same work). In
 *     place with {@link Ref#withWrite}/{@link Ref#withRead}; through the InputStream/OutputStream
 *     adapters (a copy each side); and with {@link Buffer}s (a shared arena each). The median of
 *     the rounds, after an unmeasured round of each.
 * </ul>
 *
 * Prints "result" and "metric" lines as the C benchmarks do (and the distribution of the null
 * call to $DIOS_PERF_SAMPLES/java_nullcall.pct). Exits non-zero only when a call fails or a sum is
 * wrong; it never judges times. {@code --quick}: a short run for the test suite.
 */
public final class ClientBench {
    private ClientBench() {}

    static final int MSG = 64 * 1024;
    static final long CAPACITY = 1 << 20;      // bench_fifo's fifo_capacity(64 KiB)
    static final String[] MODES = {"inplace", "stream", "buffer"};
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());

    public static void main(String[] args) throws Exception {
        if (args.length >= 1 && args[0].equals("--writer")) {
            writer(args[1]);
            return;
        }
        boolean quick = false;
        for (String a : args) {
            if (a.equals("--quick")) quick = true;
            else {
                System.err.println("usage: ClientBench [--quick]");
                System.exit(2);
            }
        }
        try {
            nullCall(quick);
            fifo(quick);
        } catch (DiosException | IOException | IllegalStateException e) {
            System.err.println("benchmark failed: " + e.getMessage());
            System.exit(1);
        }
    }

    // ---- null call ------------------------------------------------------------------------------

    static void nullCall(boolean quick) throws IOException {
        int warm = quick ? 20_000 : 300_000, rounds = quick ? 4 : 20, per = quick ? 1000 : 20_000;
        for (int i = 0; i < warm; i++) Dios.nop();
        long[] ns = new long[rounds * per];
        int k = 0;
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < per; i++) {
                long t0 = System.nanoTime();
                Dios.nop();
                ns[k++] = System.nanoTime() - t0;
            }
        }
        Arrays.sort(ns);
        System.out.printf(Locale.ROOT, "result name=java_nullcall unit=us p50=%.3f p99=%.3f max=%.3f n=%d%n",
                pct(ns, 0.5) / 1000.0, pct(ns, 0.99) / 1000.0, ns[ns.length - 1] / 1000.0, ns.length);
        System.out.printf(Locale.ROOT, "info name=java_nullcall timer=System.nanoTime warmup=%d rounds=%d java=%s%n",
                warm, rounds, Runtime.version());
        dump("java_nullcall", "Dios.nop() from Java (FFM), back-to-back, one thread", ns);
    }

    /** Nearest-rank percentile of sorted samples (bench_common.h's pct). */
    static long pct(long[] sorted, double p) {
        long k = (long) (p * sorted.length + 0.999999);
        k = Math.max(1, Math.min(k, sorted.length));
        return sorted[(int) k - 1];
    }

    /** The distribution file bench_common.h's series_dump writes, for perf/run's check and the plots. */
    static void dump(String name, String what, long[] sorted) throws IOException {
        String dir = System.getenv("DIOS_PERF_SAMPLES");
        if (dir == null || dir.isEmpty()) return;
        try (PrintWriter f = new PrintWriter(Files.newBufferedWriter(Path.of(dir, name + ".pct")))) {
            int n = sorted.length;
            f.printf(Locale.ROOT, "# %s: %s%n# n=%d unit=us: percentile, nearest-rank sample (microseconds)%n", name, what, n);
            for (int i = 0; i <= 198; i++) f.printf(Locale.ROOT, "%.4f %.3f%n", i * 0.5, pct(sorted, i / 200.0) / 1000.0);
            for (int k = 1; ; k++) {
                double miss = Math.pow(10.0, -k / 10.0) / 100.0;
                if (miss * n < 1.0) break;
                f.printf(Locale.ROOT, "%.4f %.3f%n", 100.0 * (1.0 - miss), pct(sorted, 1.0 - miss) / 1000.0);
            }
            f.printf(Locale.ROOT, "%.4f %.3f%n", 100.0, sorted[n - 1] / 1000.0);
        }
    }

    // ---- FIFO throughput --------------------------------------------------------------------------

    /** What the reader's sum must come to: message m is filled with the byte m & 0xff (bench_fifo's expected_sum). */
    static long expectedSum(long msgs) {
        long bytes = 0;
        for (long m = 0; m < msgs; m++) bytes += m & 0xff;
        return bytes * (MSG / 8) * 0x0101010101010101L;
    }

    static void fifo(boolean quick) throws IOException, InterruptedException {
        int rounds = quick ? 1 : 5;
        long bytes = quick ? 16L << 20 : 1L << 30, msgs = bytes / MSG, warmMsgs = quick ? 64 : 2048;
        String ctlName = "bench-java-" + ProcessHandle.current().pid() + "/ctl";
        Process child = startWriter(ctlName);
        double[][] mbs = new double[MODES.length][rounds];
        try (Channel ctl = Channel.create(ctlName)) {
            for (int mode = 0; mode < MODES.length; mode++) run(ctl, mode, warmMsgs);   // JIT, both sides
            for (int r = 0; r < rounds; r++) {
                for (int mode = 0; mode < MODES.length; mode++) mbs[mode][r] = run(ctl, mode, msgs);
            }
            ctl.send("");                                       // the end
        }
        if (!child.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) || child.exitValue() != 0) {
            throw new IllegalStateException("the writer JVM failed (exit " + (child.isAlive() ? "none" : child.exitValue()) + ")");
        }
        String[] names = {"java_fifo_64k_throughput", "java_fifo_64k_stream_throughput", "java_fifo_64k_buffer_throughput"};
        String[] apis = {"withWrite/withRead", "OutputStream/InputStream", "Buffer"};
        for (int mode = 0; mode < MODES.length; mode++) {
            Arrays.sort(mbs[mode]);
            System.out.printf(Locale.ROOT, "metric name=%s unit=MB/s value=%.0f rounds=%d bytes=%d msg=%d capacity=%d api=%s%n",
                    names[mode], mbs[mode][rounds / 2], rounds, bytes, MSG, CAPACITY, apis[mode]);
        }
        System.out.flush();
    }

    private static Process startWriter(String ctlName) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.add("--enable-native-access=ALL-UNNAMED");
        for (String p : new String[] {"dios.library", "dios.lib"}) {
            if (System.getProperty(p) != null) cmd.add("-D" + p + "=" + System.getProperty(p));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ClientBench.class.getName(), "--writer", ctlName));
        return new ProcessBuilder(cmd).inheritIO().redirectInput(ProcessBuilder.Redirect.PIPE).start();
    }

    /** One transfer of msgs messages in the given mode; returns MB/s (10^6 bytes). */
    static double run(Channel ctl, int mode, long msgs) throws IOException {
        try (Ref rd = Dios.createNamedFifo(CAPACITY)) {
            ctl.send(rd.name().toString());
            ctl.send(mode);
            ctl.send(msgs);
            long t0 = System.nanoTime();
            long[] got = {0}, sink = {0};
            switch (MODES[mode]) {
                case "inplace" -> {
                    for (;;) {
                        try {
                            rd.withRead(MSG, s -> {
                                sink[0] += sum(s);
                                got[0] += s.byteSize();
                                return null;
                            });
                        } catch (DiosException e) {
                            if (e.errno() != Errno.EPIPE) throw e;
                            break;
                        }
                    }
                }
                case "stream" -> {
                    InputStream in = rd.inputStream();
                    byte[] buf = new byte[MSG];
                    int n;
                    while ((n = in.readNBytes(buf, 0, MSG)) > 0) {
                        if (n != MSG) throw new IllegalStateException("stream: a short message of " + n + " bytes");
                        long s = 0;
                        for (int i = 0; i < MSG; i += 8) s += (long) LONGS.get(buf, i);
                        sink[0] += s;
                        got[0] += n;
                    }
                }
                default -> {
                    for (;;) {
                        Buffer b;
                        try {
                            b = rd.acquireRead(MSG);
                        } catch (DiosException e) {
                            if (e.errno() != Errno.EPIPE) throw e;
                            break;
                        }
                        try (b) {
                            sink[0] += sum(b.segment());
                            got[0] += b.segment().byteSize();
                        }
                    }
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            if (ctl.recvLong() != msgs) throw new IllegalStateException("the writer did not confirm");
            if (got[0] != msgs * MSG) {
                throw new IllegalStateException(MODES[mode] + ": moved " + got[0] + " bytes, expected " + msgs * MSG);
            }
            if (sink[0] != expectedSum(msgs)) throw new IllegalStateException(MODES[mode] + ": the reader's sum is wrong");
            return got[0] / secs / 1e6;
        }
    }

    static long sum(MemorySegment s) {
        long acc = 0, n = s.byteSize() / 8;
        for (long i = 0; i < n; i++) acc += s.getAtIndex(JAVA_LONG, i);
        return acc;
    }

    // ---- the writer JVM ---------------------------------------------------------------------------

    static void writer(String ctlName) throws IOException {
        try (Channel ctl = Channel.connect(ctlName, Duration.ofSeconds(60))) {
            byte[] buf = new byte[MSG];
            for (;;) {
                String name = ctl.recvString();
                if (name.isEmpty()) return;                     // the end
                int mode = ctl.recvInt();
                long msgs = ctl.recvLong();
                try (Ref w = Dios.lookup(Name.parse(name), false)) {
                    switch (MODES[mode]) {
                        case "inplace" -> {
                            for (long m = 0; m < msgs; m++) {
                                byte v = (byte) m;
                                w.withWrite(MSG, s -> {
                                    s.fill(v);
                                    return MSG;
                                });
                            }
                        }
                        case "stream" -> {
                            OutputStream out = w.outputStream();
                            for (long m = 0; m < msgs; m++) {
                                Arrays.fill(buf, (byte) m);
                                out.write(buf);
                            }
                            out.close();
                        }
                        default -> {
                            for (long m = 0; m < msgs; m++) {
                                try (Buffer b = w.acquireWrite(MSG)) {
                                    b.segment().fill((byte) m);
                                    b.commit(MSG);
                                }
                            }
                        }
                    }
                }
                ctl.send(msgs);
            }
        }
    }
}

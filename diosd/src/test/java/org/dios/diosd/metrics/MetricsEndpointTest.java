package org.dios.diosd.metrics;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The metrics endpoint the way node_exporter tests its collectors: a real
 * daemon with --metrics on a free loopback port, a C task
 * (native/tests/metrics_workload.c) that does known work, and the scrape
 * compared line by line with the committed
 * {@code src/test/resources/metrics.expected}: every dios_ series with its
 * value, timings masked; of the JVM and process metrics, the families only
 * (their values and label sets depend on the JVM and the machine).
 *
 * <p>Regenerate the expected file after an intended change with
 * {@code mvn -pl diosd test -Dtest=MetricsEndpointTest -Ddios.metrics.regenerate=true}
 * (after a build, so that native/build/metrics_workload exists), then read its
 * diff before committing it.
 */
class MetricsEndpointTest {
    @TempDir
    Path dir;

    private Process daemon;
    private Process task;

    private static final String ROOT = System.getProperty("dios.root", "..");
    private static final Path EXPECTED = Path.of(ROOT, "diosd", "src", "test", "resources", "metrics.expected");
    private static final Path WORKLOAD = Path.of(ROOT, "native", "build", "metrics_workload");

    /** Samples whose value depends on timing: shown as "*" (but a histogram's +Inf bucket, its count, is kept). */
    private static final Set<String> MASKED_VALUES = Set.of(
            "dios_call_duration_seconds_bucket", "dios_call_duration_seconds_sum",
            "dios_ring_drain_entries_bucket", "dios_ring_drain_entries_count",
            "dios_conductor_wakeups_total", "dios_scrape_snapshot_duration_seconds", "dios_waiter_checks_total",
            "dios_user_quota_limit"); // sized to the machine at start
    /** Label values that change with every release. */
    private static final Pattern VERSION_LABEL = Pattern.compile("version=\"[^\"]*\"");
    /** JVM families that appear only after the first GC (or with a concurrent collector): not compared. */
    private static final Set<String> LAZY_FAMILIES = Set.of("jvm_gc_pause_seconds", "jvm_gc_pause_seconds_max",
            "jvm_gc_concurrent_phase_time_seconds", "jvm_gc_concurrent_phase_time_seconds_max");
    private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? (\\S+)( \\S+)?");

    private final HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY)
            .connectTimeout(Duration.ofSeconds(10)).build();

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : new Process[] {task, daemon}) {
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private Path log() {
        return dir.resolve("diosd.log");
    }

    private String logText() {
        return org.dios.diosd.TestJvm.logText(log());
    }

    /** Starts diosd with --metrics on a free loopback port (it prints the port); returns the metrics URL. */
    private URI startDaemon(String... more) throws Exception {
        List<String> cmd = new ArrayList<>(org.dios.diosd.TestJvm.diosdCommand());
        cmd.addAll(List.of("--socket", dir.resolve("d.sock").toString(), "--state-dir", dir.resolve("state").toString(),
                "--metrics", "127.0.0.1:0"));
        cmd.addAll(List.of(more));
        daemon = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log().toFile()).start();
        Pattern p = Pattern.compile("metrics on (http://127\\.0\\.0\\.1:\\d+/metrics)");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            Matcher m = p.matcher(logText());
            if (m.find()) return URI.create(m.group(1));
            assertTrue(daemon.isAlive(), () -> "diosd exited early:\n" + logText());
            assertTrue(System.nanoTime() < deadline, () -> "no metrics address within 60 s:\n" + logText());
            Thread.sleep(20);
        }
    }

    private HttpResponse<String> request(URI uri, String method) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
        return http.send(req, HttpResponse.BodyHandlers.ofString());
    }

    private String scrape(URI uri) throws Exception {
        HttpResponse<String> r = request(uri, "GET");
        assertEquals(200, r.statusCode(), () -> "GET " + uri + ": " + r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                () -> "Content-Type " + r.headers().firstValue("Content-Type"));
        return r.body();
    }

    /** The value of an unlabelled dios_ sample in a scrape, or NaN. */
    private static double value(String scrape, String name) {
        for (String line : scrape.split("\n")) {
            if (line.startsWith(name + " ")) return Double.parseDouble(line.substring(name.length() + 1).trim());
        }
        return Double.NaN;
    }

    /**
     * A scrape as the expected file holds it: dios_ HELP, TYPE and samples
     * (timings masked, in the server's order); other families as
     * "# family NAME TYPE" (sorted), lazy ones left out.
     */
    static List<String> normalize(String scrape) {
        List<String> dios = new ArrayList<>();
        List<String> others = new ArrayList<>();
        for (String line : scrape.split("\n")) {
            if (line.isEmpty()) continue;
            if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
                String[] w = line.split(" ", 4);
                String family = w[2];
                if (family.startsWith("dios_")) {
                    dios.add(line);
                } else if (line.startsWith("# TYPE ") && !LAZY_FAMILIES.contains(family)) {
                    others.add("# family " + family + " " + w[3]);
                }
                continue;
            }
            if (line.startsWith("#")) continue;
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "not a sample line of the text format: " + line);
            String name = m.group(1);
            if (!name.startsWith("dios_")) continue;
            String labels = m.group(2) == null ? "" : VERSION_LABEL.matcher(m.group(2)).replaceAll("version=\"*\"");
            boolean inf = labels.contains("le=\"+Inf\"");
            String v = MASKED_VALUES.contains(name) && !inf ? "*" : m.group(3);
            dios.add(name + labels + " " + v);
        }
        others.sort(null);
        dios.addAll(others);
        return dios;
    }

    @Test
    void scrapeAfterKnownWorkMatchesTheExpectedFile() throws Exception {
        assertTrue(Files.isExecutable(WORKLOAD), WORKLOAD + " is missing: build the native parts (make native)");
        // The default warm-up runs: its 160,000 synthetic calls must not show.
        URI uri = startDaemon();

        ProcessBuilder pb = new ProcessBuilder(WORKLOAD.toString()).redirectError(dir.resolve("task.err").toFile());
        pb.environment().put("DIOS_SOCKET", dir.resolve("d.sock").toString());
        task = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(task.getInputStream(), StandardCharsets.UTF_8));
        String ready = out.readLine();
        assertEquals("ready", ready, () -> "metrics_workload did not get through its work: "
                + readQuietly(dir.resolve("task.err")) + "\ndaemon:\n" + logText());
        String running = scrape(uri);

        try (OutputStream in = task.getOutputStream()) {
            in.write('\n');
        }
        assertTrue(task.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, task.exitValue(), () -> readQuietly(dir.resolve("task.err")));
        // The daemon sees the exit through the task's pidfd; wait until its references are gone.
        String exited = scrape(uri);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (value(exited, "dios_tasks") != 0 || value(exited, "dios_references") != 0) {
            assertTrue(System.nanoTime() < deadline, "the task's exit was not seen within 30 s:\n" + exited);
            Thread.sleep(20);
            exited = scrape(uri);
        }

        assertCumulativeBuckets(running);
        assertCumulativeBuckets(exited);
        List<String> actual = new ArrayList<>();
        actual.add("## while the task runs");
        actual.addAll(normalize(running));
        actual.add("## after it exited");
        actual.addAll(normalize(exited));
        compareWithExpected(actual);
    }

    /**
     * What masking hides: in every dios_ histogram series the buckets never
     * decrease, and the +Inf bucket equals the count.
     */
    private static void assertCumulativeBuckets(String scrape) {
        java.util.Map<String, Double> last = new java.util.HashMap<>();
        java.util.Map<String, Double> inf = new java.util.HashMap<>();
        int buckets = 0;
        for (String line : scrape.split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (line.startsWith("#") || !m.matches() || !m.group(1).startsWith("dios_")) continue;
            String name = m.group(1), labels = m.group(2) == null ? "{}" : m.group(2);
            double v = Double.parseDouble(m.group(3));
            if (name.endsWith("_bucket")) {
                String series = name.substring(0, name.length() - 7) + labels.replaceAll(",?le=\"[^\"]*\"", "");
                Double before = last.put(series, v);
                assertTrue(before == null || before <= v, "bucket below the one before it: " + line);
                if (labels.contains("le=\"+Inf\"")) inf.put(series, v);
                buckets++;
            } else if (name.endsWith("_count")) {
                String series = name.substring(0, name.length() - 6) + labels;
                assertEquals(v, inf.get(series), "+Inf bucket vs count of " + series);
            }
        }
        assertTrue(buckets > 0, "no histogram buckets in the scrape");
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }

    private static final String HEADER = """
            # The metrics of a daemon after native/tests/metrics_workload.c did its work, as
            # MetricsEndpointTest normalizes a scrape: dios_ series with their values, "*" where
            # the value depends on timing, version="*"; other families by name and type only.
            # Lines starting with "# " before the first "##" are this header and are not compared.
            # Regenerate after an intended change (then read the diff):
            #   mvn -pl diosd test -Dtest=MetricsEndpointTest -Ddios.metrics.regenerate=true
            """;

    private static void compareWithExpected(List<String> actual) throws IOException {
        Path actualFile = Path.of(ROOT, "diosd", "target", "metrics.actual");
        Files.createDirectories(actualFile.getParent());
        Files.writeString(actualFile, HEADER + String.join("\n", actual) + "\n");
        if (Boolean.getBoolean("dios.metrics.regenerate")) {
            Files.createDirectories(EXPECTED.getParent());
            Files.writeString(EXPECTED, HEADER + String.join("\n", actual) + "\n");
            System.out.println("MetricsEndpointTest: wrote " + EXPECTED);
            return;
        }
        assertTrue(Files.exists(EXPECTED), EXPECTED + " is missing; generate it with -Ddios.metrics.regenerate=true");
        List<String> expected = new ArrayList<>();
        boolean header = true;
        for (String line : Files.readAllLines(EXPECTED)) {
            if (header && line.startsWith("# ")) continue;
            header = false;
            expected.add(line);
        }
        String diff = Diff.unified(expected, actual, 3);
        if (!diff.isEmpty()) {
            fail("the scrape differs from " + EXPECTED + " (- expected, + actual; the whole scrape is in " + actualFile
                    + ").\nIf the change is intended, regenerate: mvn -pl diosd test -Dtest=MetricsEndpointTest"
                    + " -Ddios.metrics.regenerate=true\n" + diff);
        }
    }

    @Test
    void onlyMetricsIsServedAndOnlyToGetAndHead() throws Exception {
        URI uri = startDaemon("--warmup-cycles", "0");
        for (String path : new String[] {"/", "/metric", "/metrics/x", "/favicon.ico"}) {
            HttpResponse<String> r = request(uri.resolve(path), "GET");
            assertEquals(404, r.statusCode(), path);
            assertTrue(r.body().contains("/metrics"), r.body());
        }
        HttpResponse<String> post = request(uri, "POST");
        assertEquals(405, post.statusCode());
        assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(""));
        HttpResponse<String> head = request(uri, "HEAD");
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
        assertEquals(1.0, value(scrape(uri), "dios_scrape_snapshot_success"), "the conductor answered");
        assertEquals(1.0, value(scrape(uri.resolve("/metrics?name[]=dios_tasks")), "dios_scrape_snapshot_success"),
                "a query string is ignored");
        assertTrue(daemon.isAlive());
    }
    @Test
    void halfSentRequestsDoNotStopScrapesAndAreClosed() throws Exception {
        URI uri = startDaemon("--warmup-cycles", "0");
        List<java.net.Socket> half = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                java.net.Socket sock = new java.net.Socket(uri.getHost(), uri.getPort());
                sock.getOutputStream().write(("GET /metrics HTTP/1.1\r\nHost: " + uri.getHost() + "\r\n")
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII)); // the blank line never comes
                sock.getOutputStream().flush();
                half.add(sock);
            }
            assertEquals(1.0, value(scrape(uri), "dios_scrape_snapshot_success"), "served beside 20 half-sent requests");
            // each half-sent request is closed by the server (5 s for the headers), not kept forever
            for (java.net.Socket sock : half) {
                sock.setSoTimeout(30_000);
                assertEquals(-1, sock.getInputStream().read(), "the server closed a request that never ended");
            }
        } finally {
            for (java.net.Socket sock : half) sock.close();
        }
        assertTrue(daemon.isAlive());
    }
}

package org.dios.diosd.metrics;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.DoubleSupplier;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import org.dios.abi.Abi;
import org.dios.diosd.conductor.DriverConductor;
import org.dios.diosd.log.Log;
import org.dios.diosd.objects.ObjectType;
import org.dios.diosd.objects.Quotas;
import org.dios.diosd.objects.Stats;
import org.dios.diosd.ops.CallStats;
import org.dios.diosd.ops.DaemonSnapshot;


/**
 * The Prometheus endpoint: {@code GET /metrics} on the JDK's HttpServer, in
 * the Prometheus text format (0.0.4), from a Micrometer
 * PrometheusMeterRegistry. One thread (the server's dispatcher) serves it.
 *
 * <p>Each scrape first asks the conductor for a {@link DaemonSnapshot}
 * (through its request queue; this thread never reads conductor-owned
 * state), waits at most {@link #SNAPSHOT_TIMEOUT_MS}, and then renders every
 * dios_ metric from that one snapshot, so they are consistent with each
 * other. A conductor that does not answer in time leaves the last snapshot
 * in place and {@code dios_scrape_snapshot_success 0}: a stuck daemon is
 * visible, and the scrape itself still succeeds.
 *
 * <p>Counts and gauges are Micrometer meters that read the current
 * snapshot. The two histograms (call service time by op, entries per ring
 * drain) are bucketed by the conductor in plain arrays; Micrometer's Timer
 * cannot take buckets counted elsewhere, so they are exported by a
 * collector ({@link SnapshotHistograms}) on the registry's own
 * PrometheusRegistry.
 */
public final class MetricsServer {
    /** How long a scrape waits for the conductor's snapshot. */
    static final long SNAPSHOT_TIMEOUT_MS = 1000;
    private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final String[] IO_OPS = {"acquire_read", "acquire_write", "commit_read", "commit_write"};

    static {
        // Bounds for a loopback port that every local user can reach: a client that
        // stalls mid-request or mid-response is dropped, and a crowd of idle
        // connections cannot take the daemon's file descriptors.  Read once, when
        // the JDK's server first loads; an explicit -D wins.
        setDefault("sun.net.httpserver.maxReqTime", "10");
        setDefault("sun.net.httpserver.maxRspTime", "10");
        setDefault("sun.net.httpserver.idleInterval", "30");
        setDefault("sun.net.httpserver.maxConnections", "16");
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) System.setProperty(key, value);
    }

    private final HttpServer http;
    private final PrometheusMeterRegistry registry;
    private DriverConductor conductor;
    /** The snapshot every meter reads; replaced at each scrape, before rendering. */
    private volatile DaemonSnapshot current = DaemonSnapshot.empty();
    private boolean started, stopped;
    /** One scrape renders at a time (the server has one thread anyway; this holds if that changes). */
    private final Object scrapeLock = new Object();
    private volatile double snapshotSeconds;
    private volatile double snapshotSuccess;
    private final boolean[] errorSeries = new boolean[CallStats.OPS * CallStats.ERRNOS];
    private boolean journalLagRegistered;
    private JvmGcMetrics gc;

    private MetricsServer(HttpServer http) {
        this.http = http;
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // Two of Micrometer's binder names fail `promtool check metrics` (scripts/check-prometheus):
        // process_cpu_time_ns_total ("abbreviated units") and system_cpu_count (a "_count" suffix on
        // a gauge). The first is replaced by Prometheus' own process_cpu_seconds_total (start), the
        // second is renamed system_cpus.
        registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")));
        registry.config().meterFilter(new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                return id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
            }
        });
    }

    /** process_cpu_seconds_total, the name Prometheus' client libraries give the process's CPU time. */
    private void registerProcessCpu() {
        if (!(ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os)) return;
        FunctionCounter.builder("process.cpu", os, o -> o.getProcessCpuTime() / 1e9)
                .baseUnit("seconds")
                .description("CPU time the daemon's process has used (user and system)")
                .register(registry);
    }

    /**
     * Binds the port now, so a port in use stops the daemon at start-up with
     * a clear message; nothing is served before {@link #start}. Connections
     * that arrive meanwhile wait in the backlog.
     */
    public static MetricsServer bind(InetSocketAddress address) throws IOException {
        limitConnections();
        return new MetricsServer(HttpServer.create(address, 16));
    }

    /**
     * Whoever can reach the port must not stop the scrapes: a request whose
     * headers take more than 5 s, an answer not read within 10 s and a
     * connection idle for 10 s are closed, and at most 64 connections are
     * open at once. The JDK's server reads these properties once, when its
     * first instance is made; an operator's own -D settings win.
     */
    static void limitConnections() {
        System.getProperties().putIfAbsent("sun.net.httpserver.maxReqTime", "5");
        System.getProperties().putIfAbsent("sun.net.httpserver.maxRspTime", "10");
        System.getProperties().putIfAbsent("sun.net.httpserver.idleInterval", "10");
        System.getProperties().putIfAbsent("sun.net.httpserver.maxConnections", "64");
    }

    /** Where it listens (the real port when 0 was asked for). */
    public InetSocketAddress address() {
        return http.getAddress();
    }

    /** Registers the meters and starts serving; the snapshots come from conductor. Not after {@link #stop}. */
    public synchronized void start(DriverConductor conductor, String version) {
        if (started || stopped) return;
        started = true;
        this.conductor = conductor;
        registerDaemonMeters(version);
        new JvmMemoryMetrics().bindTo(registry);
        gc = new JvmGcMetrics();
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        registerProcessCpu();
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        registry.getPrometheusRegistry().register(new SnapshotHistograms(() -> current));
        http.createContext("/", this::handle);
        // A virtual thread per exchange: one that waits for a slow or half-sent request blocks only
        // itself (the dispatcher thread ran them all, so 20 half-open requests stopped every scrape);
        // scrapes still take their snapshots one at a time (scrapeLock).
        http.setExecutor(Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("diosd-metrics-", 0).factory()));
        http.start();
    }

    /** Stops serving (at shutdown; any thread): open exchanges get at most a second. */
    public synchronized void stop() {
        if (stopped) return;
        stopped = true;
        if (!started) {
            http.stop(0); // bound, never served: just release the port
            return;
        }
        http.stop(1);
        if (gc != null) gc.close();
        registry.close();
    }

    /** dios_journal_lag_seconds, from the first scrape after the journal set its hook. */
    private void registerHookSeries() {
        if (journalLagRegistered || MetricsHooks.journalLag() == null) return;
        journalLagRegistered = true;
        Gauge.builder("dios.journal.lag", () -> {
                    DoubleSupplier s = MetricsHooks.journalLag();
                    return s == null ? Double.NaN : s.getAsDouble();
                })
                .baseUnit("seconds")
                .description("How far the durable journal is behind, as the journal reports it")
                .register(registry);
    }

    // ---- the dios_ meters ---------------------------------------------------------

    private void registerDaemonMeters(String version) {
        Gauge.builder("dios.build.info", () -> 1)
                .tags("version", version, "abi", Long.toString(Abi.DIOS_ABI_VERSION))
                .description("The daemon's version and DIOS ABI version (always 1)")
                .register(registry);
        gauge("dios.tasks", "Registered tasks", s -> s.tasks);
        for (ObjectType type : ObjectType.all()) { // every row of the type table has a series
            int t = type.code();
            Gauge.builder("dios.objects", this, m -> m.current.objectsOfType(t))
                    .tag("type", type.name())
                    .description("Live objects by type (a zombie counts until its last reference goes)")
                    .register(registry);
        }
        gauge("dios.names", "Names bound in the name table", s -> s.names);
        gauge("dios.references", "References held by tasks", s -> s.references);
        gauge("dios.buffers", "Buffers acquired and not yet released", s -> s.buffers);
        gauge("dios.segments", "Shared-memory segments (memfds) backing objects", s -> s.segments);
        Gauge.builder("dios.privmem", this, m -> m.current.privmemBytes)
                .description("Bytes of private memory objects (the tasks' heaps) over all tasks; each task's share is"
                        + " limited by --max-task-memory")
                .baseUnit("bytes").register(registry);
        gauge("dios.parked.calls", "Calls waiting in the daemon for an object to change (FIFO, console, select) or a durable commit to sync",
                s -> s.parkedCalls);
        gauge("dios.ring.completions.unreaped", "Completions in the tasks' rings that the tasks have not read yet",
                s -> s.completionsUnreaped);
        // Limits and how near the busiest task is to them: the alerting rules (dist/share/dios/prometheus)
        // divide one by the other. A per-task figure is the most any one task holds.
        gauge("dios.tasks.limit", "Registered tasks at most (--max-tasks)", s -> s.limits.tasks());
        gauge("dios.task.references.peak", "References held by the task that holds the most", s -> s.peaks.refs());
        gauge("dios.task.references.limit", "References one task may hold (--max-refs)", s -> s.limits.refs());
        gauge("dios.task.buffers.peak", "Buffers held by the task that holds the most", s -> s.peaks.buffers());
        gauge("dios.task.buffers.limit", "Buffers one task may hold at once (--max-buffers)", s -> s.limits.buffers());
        Gauge.builder("dios.task.privmem.peak", this, m -> m.current.peaks.privmemBytes())
                .description("Private memory bytes of the task that holds the most").baseUnit("bytes").register(registry);
        Gauge.builder("dios.task.privmem.limit", this, m -> m.current.limits.privmemBytes())
                .description("Private memory bytes one task may hold (--max-task-memory)").baseUnit("bytes").register(registry);
        gauge("dios.task.parked.calls.peak", "Calls waiting in the daemon for the task with the most",
                s -> s.peaks.parked());
        gauge("dios.task.parked.calls.limit", "Calls of one task that may wait in the daemon (--max-parked-calls)",
                s -> s.limits.parked());
        // Per-user quotas by kind: the quota, the most one user holds (the "quota near" alert divides them), refusals.
        for (int k = 0; k < Quotas.KINDS; k++) {
            int kind = k;
            Gauge.builder("dios.user.quota.limit", this, m -> m.current.quotas.limit()[kind]).tag("kind", Quotas.name(k))
                    .description("Per-user quota (--quota-*): what the tasks of one uid may hold").register(registry);
            Gauge.builder("dios.user.quota.peak", this, m -> m.current.quotas.peak()[kind]).tag("kind", Quotas.name(k))
                    .description("The most one uid holds of what a per-user quota bounds").register(registry);
            FunctionCounter.builder("dios.user.quota.refusals", this, m -> m.current.quotas.refusals()[kind])
                    .tag("kind", Quotas.name(k))
                    .description("Creates (-EDQUOT) and connections refused by a per-user quota").register(registry);
        }
        counter("dios.task.registrations", "Tasks registered since the daemon started", s -> s.registrations);
        counter("dios.conductor.wakeups", "Times the conductor woke from sleeping in epoll_wait", s -> s.wakeups);
        counter("dios.waiter.checks", "References of parked calls re-checked after an object changed (a select counts once per distinct wait)",
                s -> s.waiterChecks);
        for (int slot = 0; slot < CallStats.OPS - 1; slot++) {
            int op = slot;
            FunctionCounter.builder("dios.calls", this, m -> m.current.calls(op))
                    .tag("op", CallStats.opLabel(op))
                    .description("Calls taken from the tasks' submission rings, by op")
                    .register(registry);
        }
        for (ObjectType type : ObjectType.all()) {
            if (!type.ioCounted()) continue; // the types whose drivers count acquire/commit bytes
            int t = type.code();
            for (int k = 0; k < IO_OPS.length; k++) {
                int kind = k;
                FunctionCounter.builder("dios.io", this, m -> m.current.ioBytes(t, kind))
                        .baseUnit("bytes")
                        .tags("type", type.name(), "op", IO_OPS[k])
                        .description("Bytes handed out by acquire and published by commit, by object type; "
                                + "for FIFOs the bytes written (the writers' tails, a hint)")
                        .register(registry);
            }
        }
        FunctionCounter.builder("dios.io", this, m -> m.current.fifoBytes)
                .baseUnit("bytes")
                .tags("type", "fifo", "op", "commit_write")
                .description("Bytes handed out by acquire and published by commit, by object type; "
                        + "for FIFOs the bytes written (the writers' tails, a hint)")
                .register(registry);
        Gauge.builder("dios.scrape.snapshot.duration", this, m -> m.snapshotSeconds)
                .baseUnit("seconds")
                .description("How long this scrape waited for the conductor's snapshot")
                .register(registry);
        Gauge.builder("dios.scrape.snapshot.success", this, m -> m.snapshotSuccess)
                .description("1 if the conductor answered this scrape in time, else 0 (the values are the last answer's)")
                .register(registry);
    }

    private void gauge(String name, String help, java.util.function.ToLongFunction<DaemonSnapshot> f) {
        Gauge.builder(name, this, m -> f.applyAsLong(m.current)).description(help).register(registry);
    }

    private void counter(String name, String help, java.util.function.ToLongFunction<DaemonSnapshot> f) {
        FunctionCounter.builder(name, this, m -> f.applyAsLong(m.current)).description(help).register(registry);
    }

    /** Error series exist from the first error of each (op, errno): the errno space is too wide to list. */
    private void registerNewErrorSeries(DaemonSnapshot s) {
        for (int slot = 0; slot < CallStats.OPS; slot++) {
            for (int e = 0; e < CallStats.ERRNOS; e++) {
                int i = slot * CallStats.ERRNOS + e;
                if (errorSeries[i] || s.errors(slot, e) == 0) continue;
                errorSeries[i] = true;
                int op = slot, errno = e;
                FunctionCounter.builder("dios.call.errors", this, m -> m.current.errors(op, errno))
                        .tags("op", CallStats.opLabel(op), "errno", CallStats.errnoLabel(errno))
                        .description("Calls that completed with an error, by op and errno")
                        .register(registry);
            }
        }
    }

    // ---- HTTP -----------------------------------------------------------------------

    /** Waits for a fresh snapshot; on timeout keeps the last one and says so in dios_scrape_snapshot_success. */
    private DaemonSnapshot awaitSnapshot() {
        long t0 = System.nanoTime();
        DaemonSnapshot s = current;
        double ok = 0;
        try {
            s = conductor.requestSnapshot().get(SNAPSHOT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            ok = 1;
        } catch (TimeoutException e) {
            Log.warn("metrics: the conductor did not answer within " + SNAPSHOT_TIMEOUT_MS + " ms; serving its last counts");
        } catch (ExecutionException e) {
            Log.debug("metrics: no snapshot: " + e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        snapshotSeconds = (System.nanoTime() - t0) / 1e9;
        snapshotSuccess = ok;
        return s;
    }

    private void handle(HttpExchange ex) {
        try {
            String method = ex.getRequestMethod();
            if (!"/metrics".equals(ex.getRequestURI().getPath())) {
                reply(ex, 404, "not found: this server serves /metrics only\n");
                return;
            }
            if (!method.equals("GET") && !method.equals("HEAD")) {
                ex.getResponseHeaders().set("Allow", "GET, HEAD");
                reply(ex, 405, "method not allowed: GET or HEAD\n");
                return;
            }
            byte[] body;
            synchronized (scrapeLock) {
                current = awaitSnapshot();
                registerNewErrorSeries(current);
                registerHookSeries();
                ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
                registry.scrape(out, CONTENT_TYPE);
                body = out.toByteArray();
            }
            ex.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            if (method.equals("HEAD")) {
                ex.sendResponseHeaders(200, -1);
            } else {
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(body);
                }
            }
        } catch (IOException e) {
            Log.debug("metrics: scrape from " + ex.getRemoteAddress() + " failed: " + e.getMessage());
        } catch (RuntimeException e) {
            Log.error("metrics: scrape failed", e);
            try {
                reply(ex, 500, "internal error: " + e + "\n");
            } catch (IOException | RuntimeException ignored) {
                // the response had begun: the client sees a cut connection
            }
        } finally {
            ex.close();
        }
    }

    private static void reply(HttpExchange ex, int code, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(code, -1);
            return;
        }
        ex.sendResponseHeaders(code, b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }

    /** Stats.IO_* kinds, in IO_OPS order (checked at class load). */
    static {
        if (Stats.IO_ACQUIRE_READ != 0 || Stats.IO_ACQUIRE_WRITE != 1 || Stats.IO_COMMIT_READ != 2
                || Stats.IO_COMMIT_WRITE != 3) {
            throw new AssertionError("Stats.IO_* no longer match MetricsServer.IO_OPS");
        }
    }
}

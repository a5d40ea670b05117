package org.dios.diosd.conductor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.concurrent.CountDownLatch;

import org.dios.abi.Abi;
import org.dios.diosd.admin.AdminEndpoint;
import org.dios.diosd.admin.AdminReports;
import org.dios.diosd.log.Log;
import org.dios.diosd.objects.BlobStore;
import org.dios.diosd.objects.ConsoleObject;
import org.dios.diosd.objects.Disconnect;
import org.dios.diosd.objects.ExeObject;
import org.dios.diosd.objects.GroupObject;
import org.dios.diosd.objects.Limits;
import org.dios.diosd.objects.Name;
import org.dios.diosd.objects.ObjectManager;
import org.dios.diosd.objects.Quotas;
import org.dios.diosd.objects.Reference;
import org.dios.diosd.objects.Stats;
import org.dios.diosd.objects.TaskSession;
import org.dios.diosd.ops.CallDispatcher;
import org.dios.diosd.ops.CallStats;
import org.dios.diosd.ops.DaemonSnapshot;
import org.dios.diosd.sys.Epoll;
import org.dios.diosd.sys.LibC;
import org.dios.diosd.tasks.TaskLauncher;
import org.dios.diosd.tasks.TaskLimits;
import org.dios.diosd.tasks.TaskRegistry;
import org.dios.diosd.trace.CallTrace;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The daemon's one thread of work (Aeron's conductor): {@link #doWork()}
 * accepts tasks, drains the rings of active tasks and handles epoll events,
 * and returns how much it did; the idle strategy spins, then yields, then
 * parks in epoll_wait with every task asked to ring its doorbell.
 *
 * <p>A task is <em>active</em> (polled every iteration) or <em>dormant</em>
 * (NEED_WAKEUP set; only its doorbell wakes it). Tasks idle for longer than
 * the yield period go dormant one by one, so 1,000 idle tasks cost the busy
 * daemon nothing per iteration, and an idle daemon sleeps without a timeout.
 *
 * <p>The loop routes each epoll event to the part that owns its kind: the
 * {@link TaskRegistry} (connections, handshakes, sessions), the
 * {@link TaskLauncher} (dios_run), the {@link AdminEndpoint}, or itself (stop,
 * snapshot requests, doorbells). A task's ring is served by the {@link RingDrain};
 * the {@link WarmUp} runs once, before the first task.
 */
public final class DriverConductor implements Runnable {
    /** Settings, with the defaults documented in docs/ARCHITECTURE.md. */
    public record Config(int maxTasks, int maxRefs, int maxBuffers, long spinNanos, long yieldNanos,
                         long handshakeTimeoutNanos, int warmupCycles, boolean timeCalls, int maxTasksPerUser,
                         long maxTaskMemory, int maxParked) {
        /** Default of --max-task-memory (see {@link Limits}). */
        public static final long DEFAULT_MAX_TASK_MEMORY = Limits.DEFAULT_MAX_TASK_MEMORY;
        /** Default of --max-parked-calls (see {@link Limits}). */
        public static final int DEFAULT_MAX_PARKED = Limits.DEFAULT_MAX_PARKED;
        /** At most this many: one CQ entry always stays for calls that do not wait. */
        public static final int MAX_MAX_PARKED = Limits.MAX_MAX_PARKED;

        public Config {
            new Limits(maxParked, maxTaskMemory); // checks them
        }

        /** The limits the task registry and launcher enforce. */
        public TaskLimits taskLimits() {
            return new TaskLimits(maxTasks, maxTasksPerUser, maxRefs, maxBuffers, handshakeTimeoutNanos);
        }

        /** The per-task limits the dispatcher enforces. */
        public Limits limits() {
            return new Limits(maxParked, maxTaskMemory);
        }

        public static Config defaults() {
            return new Config(4096, 4096, 1024, 50_000, 1_000_000, 5_000_000_000L, 20_000, false, 2048,
                    DEFAULT_MAX_TASK_MEMORY, DEFAULT_MAX_PARKED);
        }

        /** The same settings with another number of warm-up cycles. */
        public Config withWarmup(int cycles) {
            return new Config(maxTasks, maxRefs, maxBuffers, spinNanos, yieldNanos, handshakeTimeoutNanos, cycles, timeCalls,
                    maxTasksPerUser, maxTaskMemory, maxParked);
        }

        /** The same settings, with the service time of every call measured (for the metrics) or not. */
        public Config withTimedCalls(boolean on) {
            return new Config(maxTasks, maxRefs, maxBuffers, spinNanos, yieldNanos, handshakeTimeoutNanos, warmupCycles, on,
                    maxTasksPerUser, maxTaskMemory, maxParked);
        }

        /** The same settings with another per-task PRIVMEM limit (bytes). */
        public Config withMaxTaskMemory(long bytes) {
            return new Config(maxTasks, maxRefs, maxBuffers, spinNanos, yieldNanos, handshakeTimeoutNanos, warmupCycles, timeCalls,
                    maxTasksPerUser, bytes, maxParked);
        }
    }

    /**
     * Epoll kinds: the low byte of the event data says whose event it is. The loop's own
     * are these; TaskRegistry has 1 and 3-7 (listen, pending handshakes, sessions), and
     * TaskLauncher 11 and 12 (the spawner, spawned tasks' pidfds).
     */
    private static final int K_STOP = 2, K_REQUEST = 8, K_ADMIN_LISTEN = 9, K_ADMIN = 10;
    private static final long EPOLL_CHECK_NANOS = 50_000;

    private final Config config;
    private final int stopFd;
    /** Rung by other threads that queued a snapshot request (in the epoll set, so a parked conductor wakes). */
    private final int requestFd;
    private final java.util.concurrent.ConcurrentLinkedQueue<java.util.concurrent.CompletableFuture<DaemonSnapshot>> snapshotRequests =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final long startNanos = System.nanoTime();
    private final Arena arena = Arena.ofShared();
    private final Epoll epoll;
    private final Stats stats = new Stats();
    private final ObjectManager objects;
    private final CallDispatcher dispatcher;
    private final CallStats perCall;
    /** dios trace: off unless an admin client asked; then each call of a drain goes through it. */
    private final CallTrace trace;
    /** --metrics: times every call (null: calls are not timed). */
    private final CallTimer timer;
    private final RingDrain ring;
    private final ConsoleObject console;
    /** Tasks polled every iteration (the others are dormant: only their doorbell wakes them). */
    private final ArrayList<TaskSession> active = new ArrayList<>();
    private final TaskRegistry registry;
    private final TaskLauncher launcher;
    private final MemorySegment scratch = arena.allocate(8, 8);
    private volatile boolean running = true;
    /** The durable store, opened by Main while the warm-up runs; null: none (no blobs). */
    private final java.util.concurrent.CompletableFuture<BlobStore> durable = new java.util.concurrent.CompletableFuture<>();
    private BlobStore blobs;
    private long nextEpollCheck;
    private long nextHousekeeping;

    /** The operator's socket, or null (tests that run a conductor without one). */
    private final AdminEndpoint admin;

    public DriverConductor(Config config, int listenFd) {
        this(config, listenFd, -1, null);
    }

    /**
     * adminFd: the listening admin socket (non-blocking SOCK_STREAM), or -1;
     * info: what its status answer tells about the daemon.
     */
    public DriverConductor(Config config, int listenFd, int adminFd, AdminReports.Info info) {
        this(config, listenFd, adminFd, info, Quotas.unlimited());
    }

    /** quotas: the per-user quotas objects and pending connections are charged to. */
    public DriverConductor(Config config, int listenFd, int adminFd, AdminReports.Info info, Quotas quotas) {
        this.config = config;
        this.objects = new ObjectManager(stats, quotas);
        // The dispatcher starts tasks through the launcher and has terminals watched by the
        // registry, both made below with the dispatcher (they complete the calls it parks).
        this.dispatcher = new CallDispatcher(objects, stats, config.limits(), this::spawn, this::watchTty);
        this.perCall = dispatcher.callStats();
        this.trace = new CallTrace(dispatcher, perCall, info == null ? null : info.traceDir(), config.timeCalls());
        this.timer = config.timeCalls() ? new CallTimer(perCall) : null;
        this.ring = new RingDrain(dispatcher, perCall, trace, timer);
        // The console: one object under its well-known name, held by the daemon itself.
        console = new ConsoleObject(objects.newObjectId());
        objects.adopt(console);
        objects.bindWellKnown(Name.fromString(Abi.DIOS_CONSOLE_NAME_STRING), console);
        this.epoll = new Epoll(arena, 256);
        this.stopFd = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
        if (stopFd < 0) throw new IllegalStateException("eventfd: " + LibC.strerror(stopFd));
        this.requestFd = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
        if (requestFd < 0) throw new IllegalStateException("eventfd: " + LibC.strerror(requestFd));
        this.registry = new TaskRegistry(config.taskLimits(), listenFd, epoll, arena, stats, objects, dispatcher, console, active);
        this.launcher = new TaskLauncher(config.taskLimits(), epoll, arena, objects, dispatcher, registry);
        check(epoll.add(stopFd, LibC.EPOLLIN, K_STOP), "epoll add stop");
        check(epoll.add(requestFd, LibC.EPOLLIN, K_REQUEST), "epoll add request");
        if (adminFd >= 0) {
            check(epoll.add(adminFd, LibC.EPOLLIN, K_ADMIN_LISTEN), "epoll add admin");
            admin = new AdminEndpoint(adminFd, K_ADMIN_LISTEN, epoll, K_ADMIN, arena, trace,
                    request -> answerAdmin(request, info));
        } else {
            admin = null;
        }
    }

    /** One admin request's answer (on the conductor, which owns everything it reads). */
    private String answerAdmin(String request, AdminReports.Info info) {
        return AdminReports.answer(request, info, snapshot(), registry.slots(), objects, trace.state(), admin.quota());
    }

    /** --quota-admin-connections: admin connections of one uid at once (before run; no admin socket: ignored). */
    public void adminConnectionsPerUser(int n) {
        if (admin != null) admin.maxPerUid(n);
    }

    /** dios_run, after the dispatcher checked it: the launcher's. */
    private int spawn(TaskSession parent, long userData, ExeObject exe, String[] argv, String[] env, Reference[] refs,
                      GroupObject[] groups, boolean seccompKill) {
        return launcher.spawn(parent, userData, exe, argv, env, refs, groups, seccompKill);
    }

    /** Console calls wait on a task's terminal: the registry watches it in epoll. */
    private void watchTty(TaskSession s) {
        registry.watchTty(s);
    }

    private static void check(int rc, String what) {
        if (rc < 0) throw new IllegalStateException(what + ": " + LibC.strerror(rc));
    }

    public Stats stats() {
        return stats;
    }

    /** Asks the loop to stop; safe from any thread (a shutdown hook). Wakes a parked conductor. */
    public void requestStop() {
        running = false;
        ring(stopFd);
    }

    private static void ring(int eventFd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocate(JAVA_LONG);
            one.set(JAVA_LONG, 0, 1L);
            LibC.write(eventFd, one, 8);
        }
    }

    /**
     * Asks the conductor for a copy of its counts; safe from any thread. The
     * conductor takes it within one loop iteration (it polls epoll at least
     * every 50 µs while busy, and a parked conductor is woken), so the
     * caller never reads conductor-owned state itself. The future fails if
     * the conductor stops first.
     */
    public java.util.concurrent.CompletableFuture<DaemonSnapshot> requestSnapshot() {
        var f = new java.util.concurrent.CompletableFuture<DaemonSnapshot>();
        snapshotRequests.add(f);
        if (shutDown) {
            failRequests(); // raced with shutdown: nobody else will answer it
        } else {
            ring(requestFd);
        }
        return f;
    }

    private void serveRequests() {
        LibC.read(requestFd, scratch, 8); // reset the eventfd counter
        if (snapshotRequests.isEmpty()) return;
        DaemonSnapshot snap = snapshot();
        java.util.concurrent.CompletableFuture<DaemonSnapshot> f;
        while ((f = snapshotRequests.poll()) != null) f.complete(snap);
    }

    private void failRequests() {
        java.util.concurrent.CompletableFuture<DaemonSnapshot> f;
        while ((f = snapshotRequests.poll()) != null) f.completeExceptionally(new IllegalStateException("diosd is stopping"));
    }

    /** The counts now (conductor thread only). O(tasks + FIFOs). */
    DaemonSnapshot snapshot() {
        long parked = 0, unreaped = 0;
        long peakRefs = 0, peakBuffers = 0, peakPrivmem = 0, peakParked = 0;
        for (TaskSession s : registry.slots()) {
            if (s == null || s.dead) continue;
            parked += s.parked.size();
            if (!s.quiet) { // the warm-up's synthetic task is nobody's
                peakRefs = Math.max(peakRefs, s.refs.size());
                peakBuffers = Math.max(peakBuffers, s.buffers.size());
                peakPrivmem = Math.max(peakPrivmem, s.privmemBytes);
                peakParked = Math.max(peakParked, s.parked.size());
            }
            int used = s.cqTail - s.loadCqHead(); // the task's cq_head: clamp what it claims
            if (used > 0) unreaped += Math.min(used, Abi.DIOS_CQ_ENTRIES);
        }
        long now = System.nanoTime();
        return new DaemonSnapshot(now, (now - startNanos) / 1_000_000, stats, perCall, registry.tasksStarted(), parked, unreaped,
                objects.fifoBytesWritten(), new DaemonSnapshot.TaskPeaks(peakRefs, peakBuffers, peakPrivmem, peakParked),
                new DaemonSnapshot.LimitValues(config.maxTasks(), config.maxRefs(), config.maxBuffers(), config.maxTaskMemory(),
                        config.maxParked()), DaemonSnapshot.QuotaValues.of(objects.quotas));
    }

    private volatile Throwable failure;
    private final CountDownLatch started = new CountDownLatch(1);
    private volatile boolean serving;

    /**
     * Blocks until the loop serves tasks (warm-up done) or the conductor has
     * stopped. Returns true only in the first case: the moment to tell
     * systemd READY=1.
     */
    public boolean awaitServing() throws InterruptedException {
        started.await();
        return serving;
    }

    /**
     * Hands over the opened state directory (or null: none, or it failed and
     * the daemon is stopping). The conductor attaches it after its warm-up and
     * before serving the first task, so durable names resolve from the first call.
     */
    public void durableState(BlobStore store) {
        durable.complete(store);
    }

    /** What stopped the conductor abnormally, or null. */
    public Throwable failure() {
        return failure;
    }

    @Override
    public void run() {
        try {
            // No task is served before the durable state is attached (durable names must resolve
            // from the first call): connections wait in the listen backlog until then.
            registry.stopAccepting();
            new WarmUp(config.warmupCycles(), registry, epoll, active, perCall,
                    () -> handleEvents(epoll.poll(0)), () -> running).run();
            attachDurable(durable.join());
            registry.startAccepting();
            serving = running;
            started.countDown();
            loop();
        } catch (Throwable t) {
            failure = t;
            Log.error("conductor stopped by", t);
        } finally {
            serving = false;
            started.countDown();
            shutdown();
        }
    }

    /** The durable state (or null: none), attached before the first task is served. */
    private void attachDurable(BlobStore store) {
        if (store != null && running) {
            store.attach(objects, stats, () -> ring(requestFd)); // the sync thread's "commits synced"
            dispatcher.blobs(store);
            blobs = store;
            trace.removeStale(); // the state directory's lock is ours now
        } else if (store != null) {
            store.close(); // stopped during start-up
        }
    }

    /**
     * For in-process harnesses (the ring fuzz test): serve from the caller's
     * thread instead of {@link #run()}, with no warm-up. The caller then turns
     * the loop itself with {@link #doWork()} and ends with {@link #stopInline()}.
     * The listening socket is in the epoll set since the constructor.
     */
    void serveInline(BlobStore store) {
        attachDurable(store);
        serving = running;
    }

    /** Ends an inline conductor: what run() does on its way out. */
    void stopInline() {
        running = false;
        shutdown();
    }

    /** The objects (conductor thread only): harnesses reach durable blobs through it. */
    ObjectManager objects() {
        return objects;
    }

    private void loop() {
        long idleSince = 0;
        while (running) {
            int work;
            try {
                work = doWork();
            } catch (RuntimeException e) {
                stats.internalErrors++;
                Log.error("conductor: internal error: unexpected exception (continuing)", e);
                work = 1;
            }
            if (work > 0) {
                idleSince = 0;
                continue;
            }
            if (active.isEmpty()) {
                // No ring to poll: anything that can arrive comes through epoll. Sleep now,
                // instead of spinning and yielding around epoll_wait(0) for a millisecond.
                if (park()) idleSince = 0;
                continue;
            }
            long now = System.nanoTime();
            if (idleSince == 0) idleSince = now;
            long idleFor = now - idleSince;
            if (idleFor < config.spinNanos()) {
                Thread.onSpinWait();
            } else if (idleFor < config.yieldNanos()) {
                Thread.yield();
            } else if (park()) {
                idleSince = 0;
            }
        }
    }

    /** One duty cycle. Returns the amount of work done (0 = idle). */
    int doWork() {
        int work = 0;
        long now = System.nanoTime();
        if (timer != null) timer.startAt(now);
        if (now - nextEpollCheck >= 0 || active.isEmpty()) {
            work += handleEvents(epoll.poll(0));
            nextEpollCheck = now + EPOLL_CHECK_NANOS;
            if (timer != null) timer.startAt(System.nanoTime()); // not the epoll check: the calls' own time
        }
        for (int i = 0; i < active.size(); i++) {
            TaskSession s = active.get(i);
            int n = drain(s);
            if (n > 0) {
                s.lastWorkNanos = now;
                work += n;
            } else if (now - s.lastWorkNanos > config.yieldNanos() && !s.dead) {
                if (s.requestWakeup()) {
                    s.active = false;
                    active.remove(i--);
                }
            }
        }
        // Calls parked with D_TIMEOUT: one comparison per pass; the heap is looked into only when one is due.
        if (dispatcher.hasDeadlines() && now - dispatcher.nextDeadline() >= 0) {
            work += dispatcher.expireDeadlines(now);
        }
        if (now - nextHousekeeping >= 0) {
            registry.expireHandshakes(now);
            registry.resumeAccepting(now);
            if (admin != null) admin.expire(now);
            nextHousekeeping = now + 100_000_000L;
        }
        return work;
    }

    /**
     * Idle: asks every active task to ring its doorbell, then sleeps in
     * epoll_wait until something happens. Returns true if it slept.
     */
    private boolean park() {
        if (trace.on) trace.flush(); // the trace's last calls, before a sleep of any length
        for (int i = 0; i < active.size(); i++) {
            TaskSession s = active.get(i);
            if (s.requestWakeup()) {
                s.active = false;
                active.remove(i--);
            }
        }
        if (!active.isEmpty()) return false;
        // Deadlines (handshakes, admin clients, a listening socket paused at EMFILE) need a look every
        // 100 ms; otherwise sleep until woken, or until the first parked call's deadline (D_TIMEOUT),
        // rounded up to epoll's milliseconds.
        boolean deadlines = registry.hasPending() || registry.acceptPaused()
                || (admin != null && (admin.hasClients() || admin.acceptPaused()));
        int timeoutMs = deadlines ? 100 : -1;
        if (dispatcher.hasDeadlines()) {
            long wait = dispatcher.nextDeadline() - System.nanoTime();
            int ms = wait <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, (wait + 999_999) / 1_000_000);
            timeoutMs = timeoutMs < 0 ? ms : Math.min(timeoutMs, ms);
        }
        int n = epoll.poll(timeoutMs);
        stats.wakeups++;
        if (timer != null) timer.startAt(System.nanoTime()); // a doorbell's calls are timed from the wake-up
        handleEvents(n);
        return true;
    }

    private int handleEvents(int n) {
        for (int i = 0; i < n; i++) {
            long data = epoll.eventData(i);
            int mask = epoll.eventMask(i);
            int kind = (int) (data & 0xff);
            switch (kind) {
                case TaskRegistry.K_LISTEN -> registry.acceptAll();
                case K_STOP -> running = false;
                case K_REQUEST -> {
                    serveRequests();
                    if (blobs != null) blobs.finishSyncs(dispatcher); // durable commits the sync thread finished
                }
                case K_ADMIN_LISTEN -> admin.accept(System.nanoTime());
                case K_ADMIN -> admin.event((int) (data >>> 8), mask, System.nanoTime());
                case TaskRegistry.K_PENDING -> registry.handshake((int) (data >>> 8), mask);
                case TaskLauncher.K_SPAWNED -> launcher.spawnsDone();
                case TaskLauncher.K_CHILD -> launcher.childExited((int) (data >>> 8));
                case TaskRegistry.K_DOORBELL -> {
                    TaskSession s = registry.sessionFor(data);
                    if (s != null) wake(s);
                }
                case TaskRegistry.K_SOCKET, TaskRegistry.K_PIDFD, TaskRegistry.K_TTY -> {
                    TaskSession s = registry.sessionFor(data);
                    if (s != null) registry.sessionEvent(s, kind, mask);
                }
                default -> Log.warn("epoll: unknown event data " + Long.toHexString(data));
            }
        }
        return n;
    }

    /** A dormant task rang its doorbell: it is polled again, and served now. */
    private void wake(TaskSession s) {
        LibC.read(s.doorbell, scratch, 8); // reset the eventfd counter
        if (!s.active) {
            s.clearWakeup();
            s.active = true;
            s.lastWorkNanos = System.nanoTime();
            active.add(s);
        }
        drain(s);
    }

    /** Serves up to RingDrain.CAP submissions of s. Returns how many. */
    private int drain(TaskSession s) {
        if (s.dead) return 0;
        try {
            return ring.drain(s);
        } catch (Disconnect d) {
            registry.disconnect(s, d.getMessage());
            return 1;
        } catch (RuntimeException e) {
            stats.internalErrors++;
            Log.error(s + ": internal error while serving a call", e);
            registry.disconnect(s, "internal error (see previous line)");
            return 1;
        }
    }

    /**
     * Enables dios_run: launcher is the path of dios-launch, socketPath the
     * daemon's socket (spawned tasks get it as DIOS_SOCKET, for tasks they
     * fork). Call before {@link #run()}.
     */
    public void tasks(String launcher, String socketPath) {
        this.launcher.enable(launcher, socketPath);
    }

    private volatile boolean shutDown;

    private void shutdown() {
        if (shutDown) return;
        shutDown = true;
        Log.info("shutting down: " + stats.tasks + " tasks connected");
        registry.shutdown();
        launcher.shutdown(); // spawned tasks run on; they see -ENOTCONN
        if (blobs != null) blobs.close(); // waits (bounded) for commits still syncing; releases the state lock
        if (admin != null) admin.closeAll();
        trace.close();
        epoll.close();
        LibC.close(stopFd);
        // requestFd stays open: a thread that saw shutDown still false may be ringing it
        // now, and must not write into an fd number something else has reused.
        failRequests();
    }
}

package org.dios.diosd.tasks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;

import org.dios.abi.Abi;
import org.dios.abi.CqeDescriptor;
import org.dios.abi.HelloMessageDescriptor;
import org.dios.abi.RegionHeaderDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.abi.WelcomeMessageDescriptor;
import org.dios.diosd.log.Log;
import org.dios.diosd.log.LogThrottle;
import org.dios.diosd.objects.Argv;
import org.dios.diosd.objects.ConsoleObject;
import org.dios.diosd.objects.ExeObject;
import org.dios.diosd.objects.GroupObject;
import org.dios.diosd.objects.Name;
import org.dios.diosd.objects.ObjectManager;
import org.dios.diosd.objects.ParkedCall;
import org.dios.diosd.objects.Quotas;
import org.dios.diosd.objects.Stats;
import org.dios.diosd.objects.TaskObject;
import org.dios.diosd.objects.TaskSession;
import org.dios.diosd.ops.CallDispatcher;
import org.dios.diosd.sys.Epoll;
import org.dios.diosd.sys.LibC;
import org.dios.diosd.sys.ListenPause;
import org.dios.diosd.sys.UnixSocket;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The tasks the daemon knows: connections accepted and waiting for their
 * hello (and the daemon ends of spawned tasks' socket pairs), the handshake,
 * registration (a region, a doorbell, a session in a slot) and teardown; and
 * the counts the limits are checked against (--max-tasks, --max-tasks-per-user).
 *
 * <p>Its epoll kinds: {@link #K_LISTEN}, {@link #K_PENDING}, and the session
 * kinds {@link #K_DOORBELL}, {@link #K_SOCKET}, {@link #K_PIDFD} and
 * {@link #K_TTY}, whose data names a session by slot and generation
 * ({@link #sessionFor}). A doorbell wakes the loop's drain; the others come
 * to {@link #sessionEvent}. Conductor thread only.
 */
public final class TaskRegistry {
    /** Epoll kinds (the low byte of the event data; the loop's and the launcher's are other values). */
    public static final int K_LISTEN = 1, K_PENDING = 3, K_DOORBELL = 4, K_SOCKET = 5, K_PIDFD = 6, K_TTY = 7;

    private final TaskLimits config;
    private final int listenFd;
    private final Epoll epoll;
    private final Stats stats;
    private final ObjectManager objects;
    private final CallDispatcher dispatcher;
    private final ConsoleObject console;
    /** The loop's polled tasks: a task starts active; teardown takes it out. */
    private final ArrayList<TaskSession> active;
    private final ArrayList<TaskSession> slots = new ArrayList<>();
    private final ArrayList<Integer> freeSlots = new ArrayList<>();
    private final int[] slotGenerations = new int[1 << 20];
    private final HashMap<Integer, Long> pending = new HashMap<>(); // fd -> handshake deadline
    /** fd -> the peer's quota account (--quota-pending-connections), for connections that have one. */
    private final HashMap<Integer, Quotas.Account> pendingAccount = new HashMap<>();
    private final LogThrottle quotaLog = new LogThrottle(Log.Level.WARN, 10_000_000_000L);
    private final ListenPause listenPause;
    private final LogThrottle acceptLog = new LogThrottle(Log.Level.WARN, 10_000_000_000L);
    private final LogThrottle silentLog = new LogThrottle(Log.Level.WARN, 10_000_000_000L);
    /** Daemon ends of spawned tasks' socket pairs that have not registered yet. */
    private final HashMap<Integer, TaskObject> spawnedBySock = new HashMap<>();
    private final HashMap<TaskObject, Integer> sockOfSpawned = new HashMap<>();
    private final SecureRandom tagRandom = new SecureRandom();
    private final MemorySegment scratch;
    private final MemorySegment welcome;
    private long nextTaskId = 1;
    /** Tasks per uid: registered ones and spawned ones from dios_run until they exit. */
    private final HashMap<Integer, int[]> tasksPerUid = new HashMap<>();
    /** Spawned tasks whose process runs (registered or not), for the global limit. */
    private int spawnedRunning;
    /** Sessions of spawned tasks (counted in spawnedRunning already). */
    private int registeredSpawned;

    /**
     * listenFd: the daemon's listening socket, watched from now on (see
     * {@link #stopAccepting}); active: the loop's list of polled tasks.
     */
    public TaskRegistry(TaskLimits config, int listenFd, Epoll epoll, Arena arena, Stats stats, ObjectManager objects,
                 CallDispatcher dispatcher, ConsoleObject console, ArrayList<TaskSession> active) {
        this.config = config;
        this.listenFd = listenFd;
        this.epoll = epoll;
        this.stats = stats;
        this.objects = objects;
        this.dispatcher = dispatcher;
        this.console = console;
        this.active = active;
        this.scratch = arena.allocate(64, 8);
        this.welcome = arena.allocate(WelcomeMessageDescriptor.SIZE, 8);
        this.listenPause = new ListenPause(epoll, listenFd, K_LISTEN);
        startAccepting();
    }

    private static void check(int rc, String what) {
        if (rc < 0) throw new IllegalStateException(what + ": " + LibC.strerror(rc));
    }

    /** Connections wait in the listen backlog until {@link #startAccepting}. */
    public void stopAccepting() {
        check(epoll.remove(listenFd), "epoll remove listen");
    }

    public void startAccepting() {
        check(epoll.add(listenFd, LibC.EPOLLIN, K_LISTEN), "epoll add listen");
    }

    /** Every slot, with null for free ones (conductor thread only). */
    public List<TaskSession> slots() {
        return slots;
    }

    /** Task ids handed out so far. */
    public long tasksStarted() {
        return nextTaskId - 1;
    }

    /** The id of a task being spawned (a registered one gets its own at registration). */
    long newTaskId() {
        return nextTaskId++;
    }

    /** True while connections wait for their hello (their deadlines need a look). */
    public boolean hasPending() {
        return !pending.isEmpty();
    }

    // ---- sessions in epoll ------------------------------------------------------------

    /** The live session an event of a session kind names, or null (gone, or its slot reused). */
    public TaskSession sessionFor(long data) {
        int slot = (int) ((data >>> 8) & 0xffffff);
        int gen = (int) (data >>> 32);
        if (slot >= slots.size()) return null;
        TaskSession s = slots.get(slot);
        return s != null && s.generation == gen && !s.dead ? s : null;
    }

    public static long sessionData(int kind, TaskSession s) {
        return kind | ((long) s.slot << 8) | ((long) s.generation << 32);
    }

    /** A K_SOCKET, K_PIDFD or K_TTY event of a live session. */
    public void sessionEvent(TaskSession s, int kind, int mask) {
        switch (kind) {
            case K_PIDFD -> disconnect(s, "exited");
            case K_TTY -> dispatcher.ttyEvent(s, console);
            case K_SOCKET -> {
                if ((mask & (LibC.EPOLLHUP | LibC.EPOLLRDHUP | LibC.EPOLLERR)) != 0) {
                    disconnect(s, "closed its connection");
                } else {
                    disconnect(s, "protocol violation: sent data after registration");
                }
            }
            default -> { }
        }
    }

    /**
     * Console calls wait on a task's terminal: watch it in epoll (edge
     * triggered, so input nobody asked for never keeps the daemon awake).
     */
    public void watchTty(TaskSession s) {
        int fd = s.ttyFd >= 0 ? s.ttyFd : s.errFd; // without a terminal: the stderr console output waits for
        if (s.ttyWatched || fd < 0) return;
        int ev = LibC.EPOLLIN | LibC.EPOLLOUT | LibC.EPOLLRDHUP | LibC.EPOLLET;
        if (epoll.add(fd, ev, sessionData(K_TTY, s)) == 0) s.ttyWatched = true;
    }

    /**
     * A session with no process or socket, over the caller's region and
     * doorbell, in a new slot (the start-up warm-up's; it is not logged).
     * {@link #disconnect} ends it like any other.
     */
    public TaskSession synthetic(int doorbell, Arena arena, MemorySegment region) {
        int slot = slots.size();
        slots.add(null);
        TaskSession s = new TaskSession(0, slot, ++slotGenerations[slot], 0, 0, 0, -1, doorbell, -1, arena,
                region, config.maxRefs(), config.maxBuffers(), 1, "(warm-up)");
        slots.set(slot, s);
        stats.tasks++;
        s.quiet = true;
        return s;
    }

    // ---- the limits ------------------------------------------------------------------

    /** --max-tasks reached: registered tasks and spawned ones still running. */
    boolean atTaskLimit() {
        return stats.tasks - registeredSpawned + spawnedRunning >= config.maxTasks();
    }

    /** --max-tasks-per-user reached for uid. */
    boolean atUserLimit(int uid) {
        return userTasks(uid) >= config.maxTasksPerUser();
    }

    private int userTasks(int uid) {
        int[] c = tasksPerUid.get(uid);
        return c == null ? 0 : c[0];
    }

    private void countUser(int uid, int delta) {
        int[] c = tasksPerUid.computeIfAbsent(uid, k -> new int[1]);
        c[0] += delta;
        if (c[0] <= 0) tasksPerUid.remove(uid);
    }

    // ---- spawned tasks (the launcher's) ----------------------------------------------

    /**
     * dios_run made t (its owner set) and a socket pair: sock, the daemon's
     * end, waits for t's hello once t runs ({@link #awaitHello}); t counts
     * against the limits until {@link #spawnEnded}.
     */
    void spawning(TaskObject t, int sock) {
        spawnedBySock.put(sock, t);
        sockOfSpawned.put(t, sock);
        spawnedRunning++;
        countUser(t.ownerUid, 1);
    }

    /** t's process runs: its socket is watched for its hello. */
    void awaitHello(TaskObject t) {
        Integer sock = sockOfSpawned.get(t);
        if (sock != null && epoll.add(sock, LibC.EPOLLIN | LibC.EPOLLRDHUP, K_PENDING | ((long) sock << 8)) < 0) {
            dropPending(sock);
        }
    }

    /** t will never register (its spawn failed, or it exited first): its socket is closed. */
    void dropSpawned(TaskObject t) {
        Integer sock = sockOfSpawned.get(t);
        if (sock != null) dropPending(sock);
    }

    /** t's process is gone: it no longer counts. */
    void spawnEnded(TaskObject t) {
        spawnedRunning--;
        countUser(t.ownerUid, -1);
    }

    // ---- registration ---------------------------------------------------------------

    public void acceptAll() {
        while (true) {
            int fd = LibC.accept4(listenFd, LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC);
            if (fd == -LibC.EAGAIN) return;
            if (fd < 0) {
                long now = System.nanoTime();
                if (ListenPause.exhausted(fd)) {
                    listenPause.pause(now);
                    acceptLog.log("accept: " + LibC.strerror(fd) + ": new tasks wait in the socket's backlog;"
                            + " accepting again in " + ListenPause.PAUSE_NANOS / 1_000_000 + " ms", now);
                } else {
                    acceptLog.log("accept: " + LibC.strerror(fd), now);
                }
                return;
            }
            // Each connection waiting for its hello holds a descriptor: at most --quota-pending-connections of one uid.
            UnixSocket.PeerCred cred = UnixSocket.peerCred(fd);
            Quotas.Account acct = cred == null ? null : objects.quotas.account(cred.uid());
            if (objects.quotas.charge(acct, Quotas.PENDING, 1) < 0) {
                quotaLog.log("accept: uid " + cred.uid() + " (pid " + cred.pid() + ") has "
                        + objects.quotas.limit(Quotas.PENDING) + " connections without a hello already"
                        + " (--quota-pending-connections); closed", System.nanoTime());
                LibC.close(fd);
                continue;
            }
            if (epoll.add(fd, LibC.EPOLLIN | LibC.EPOLLRDHUP, K_PENDING | ((long) fd << 8)) < 0) {
                objects.quotas.release(acct, Quotas.PENDING, 1);
                LibC.close(fd);
                continue;
            }
            if (acct != null) pendingAccount.put(fd, acct);
            pending.put(fd, System.nanoTime() + config.handshakeTimeoutNanos());
        }
    }

    /** True while the listening socket is out of epoll (descriptors ran out): the loop must come back for it. */
    public boolean acceptPaused() {
        return listenPause.paused();
    }

    /** Watches the listening socket again once its pause is over (housekeeping). */
    public void resumeAccepting(long now) {
        listenPause.resumeIfDue(now);
    }

    /** Times accepting paused because descriptors ran out. */
    public long acceptPauses() {
        return listenPause.pauses();
    }

    public void expireHandshakes(long now) {
        for (Iterator<java.util.Map.Entry<Integer, Long>> it = pending.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (now - e.getValue() > 0) {
                silentLog.log("connection fd " + e.getKey() + " sent no hello in time; closed", now);
                epoll.remove(e.getKey());
                LibC.close(e.getKey());
                it.remove();
                objects.quotas.release(pendingAccount.remove(e.getKey()), Quotas.PENDING, 1);
            }
        }
    }

    /** fd no longer waits for its hello: its pending-connection quota is given back. */
    private void unpend(int fd) {
        pending.remove(fd);
        objects.quotas.release(pendingAccount.remove(fd), Quotas.PENDING, 1);
    }

    private void dropPending(int fd) {
        unpend(fd);
        TaskObject t = spawnedBySock.remove(fd);
        if (t != null) sockOfSpawned.remove(t); // its process still runs; K_CHILD ends it
        epoll.remove(fd);
        LibC.close(fd);
    }

    public void handshake(int fd, int mask) {
        TaskObject spawned = spawnedBySock.get(fd);
        if (spawned == null && !pending.containsKey(fd)) return;
        int[] fds = new int[4];
        boolean[] trunc = new boolean[1];
        long n = UnixSocket.recvWithFds(fd, scratch.asSlice(0, 64), fds, trunc);
        if (n == -LibC.EAGAIN) {
            if ((mask & (LibC.EPOLLHUP | LibC.EPOLLRDHUP)) != 0) dropPending(fd);
            return;
        }
        if (n <= 0) { // closed without a word: a liveness probe (another diosd checking the socket)
            closeAll(fds);
            dropPending(fd);
            return;
        }
        // A spawned task's socket pair was made by the daemon: SO_PEERCRED would name the daemon.
        UnixSocket.PeerCred cred = spawned != null ? new UnixSocket.PeerCred(spawned.pid, spawned.ownerUid, spawned.ownerGid)
                : UnixSocket.peerCred(fd);
        long helloFlags = scratch.get(JAVA_LONG, HelloMessageDescriptor.FLAGS_OFFSET);
        boolean wantsTty = (helloFlags & Abi.D_HELLO_F_TTY) != 0;
        boolean wantsStdio = (helloFlags & Abi.D_HELLO_F_STDIO) != 0;
        int nfds = 0;
        while (nfds < fds.length && fds[nfds] >= 0) nfds++;
        if (n != HelloMessageDescriptor.SIZE || cred == null || trunc[0]
                || scratch.get(JAVA_INT, HelloMessageDescriptor.MAGIC_OFFSET) != Abi.DIOS_MSG_HELLO
                || (helloFlags & ~(long) (Abi.D_HELLO_F_TTY | Abi.D_HELLO_F_STDIO)) != 0
                || nfds != (wantsTty ? 1 : 0) + (wantsStdio ? 3 : 0)) {
            Log.warn("connection " + (cred == null ? "" : "from pid " + cred.pid() + " ") + "sent no valid hello ("
                    + n + " bytes, flags 0x" + Long.toHexString(helloFlags) + ", " + nfds + " fds" + (trunc[0] ? ", truncated" : "")
                    + "); closed");
            closeAll(fds);
            dropPending(fd);
            return;
        }
        int tty = wantsTty ? fds[0] : -1;
        if (spawned != null && spawned.ttyFd >= 0) {
            // The parent's terminal is its console unless it brought its own (a Pure task cannot open one).
            if (tty < 0) tty = spawned.ttyFd;
            else LibC.close(spawned.ttyFd);
            spawned.ttyFd = -1;
        }
        int[] stdio = {-1, -1, -1};
        if (wantsStdio) System.arraycopy(fds, wantsTty ? 1 : 0, stdio, 0, 3);
        if (tty >= 0 && !isTerminal(tty)) {
            Log.warn("pid " + cred.pid() + " passed an fd that is not a terminal as its console; ignored");
            LibC.close(tty);
            tty = -1;
        }
        int version = scratch.get(JAVA_INT, HelloMessageDescriptor.ABI_VERSION_OFFSET);
        if (version != Abi.DIOS_ABI_VERSION) {
            Log.warn("pid " + cred.pid() + " speaks DIOS ABI " + version + ", this daemon speaks "
                    + Abi.DIOS_ABI_VERSION + "; refused");
            sendWelcome(fd, -Abi.DIOS_EPROTO, 0);
            LibC.close(tty);
            closeAll(stdio);
            dropPending(fd);
            return;
        }
        if (spawned == null) {
            String full = atTaskLimit() ? "--max-tasks" : atUserLimit(cred.uid()) ? "--max-tasks-per-user" : null;
            if (full != null) {
                Log.warn("pid " + cred.pid() + " refused: too many tasks (" + full + ")");
                sendWelcome(fd, -Abi.DIOS_EAGAIN, 0);
                LibC.close(tty);
                closeAll(stdio);
                dropPending(fd);
                return;
            }
        }
        unpend(fd);
        if (spawned != null) {
            spawnedBySock.remove(fd);
            sockOfSpawned.remove(spawned);
        }
        register(fd, cred, tty, stdio, spawned);
    }

    private static void closeAll(int[] fds) {
        for (int fd : fds) LibC.close(fd);
    }

    /** A terminal device (by its /dev path): the only console fd we accept. It is made non-blocking. */
    private static boolean isTerminal(int fd) {
        String target = LibC.readlink("/proc/self/fd/" + fd);
        if (target == null || !(target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console"))) {
            return false;
        }
        int fl = LibC.fcntl(fd, LibC.F_GETFL, 0);
        return fl >= 0 && LibC.fcntl(fd, LibC.F_SETFL, fl | LibC.O_NONBLOCK) == 0;
    }

    private long sendWelcome(int fd, int status, long taskId, int... fds) {
        welcome.fill((byte) 0);
        welcome.set(JAVA_INT, WelcomeMessageDescriptor.MAGIC_OFFSET, Abi.DIOS_MSG_WELCOME);
        welcome.set(JAVA_INT, WelcomeMessageDescriptor.ABI_VERSION_OFFSET, (int) Abi.DIOS_ABI_VERSION);
        welcome.set(JAVA_INT, WelcomeMessageDescriptor.STATUS_OFFSET, status);
        welcome.set(JAVA_INT, WelcomeMessageDescriptor.REGION_SIZE_OFFSET, status == 0 ? Abi.DIOS_REGION_SIZE : 0);
        welcome.set(JAVA_LONG, WelcomeMessageDescriptor.TASK_ID_OFFSET, taskId);
        return UnixSocket.sendWithFds(fd, welcome, fds);
    }

    private void register(int sock, UnixSocket.PeerCred cred, int tty, int[] stdio, TaskObject spawned) {
        // A spawned task's process is watched through the pidfd its spawn opened (K_CHILD).
        int pidfd = spawned != null ? -1 : UnixSocket.peerPidfd(sock, cred.pid());
        if (pidfd < 0 && spawned == null) {
            closeAll(stdio);
            LibC.close(tty);
            Log.warn("pid " + cred.pid() + ": no pidfd (" + LibC.strerror(pidfd) + "); refused");
            epoll.remove(sock);
            LibC.close(sock);
            return;
        }
        int regionFd;
        try (Arena a = Arena.ofConfined()) {
            regionFd = LibC.memfdCreate(a.allocateFrom("dios-task-region"), LibC.MFD_CLOEXEC | LibC.MFD_ALLOW_SEALING);
        }
        int doorbell = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
        long addr = -1;
        if (regionFd >= 0 && doorbell >= 0
                && LibC.ftruncate(regionFd, Abi.DIOS_REGION_SIZE) == 0
                // Sealed: a task's ftruncate must never make the daemon fault (SIGBUS).
                && LibC.fcntl(regionFd, LibC.F_ADD_SEALS, LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW | LibC.F_SEAL_SEAL) == 0) {
            addr = LibC.mmap(Abi.DIOS_REGION_SIZE, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, regionFd, 0);
        }
        if (addr < 0) {
            Log.error("pid " + cred.pid() + ": cannot set up a task region; refused");
            sendWelcome(sock, -Abi.DIOS_ENOMEM, 0);
            LibC.close(tty);
            closeAll(stdio);
            LibC.close(regionFd);
            LibC.close(doorbell);
            LibC.close(pidfd);
            epoll.remove(sock);
            LibC.close(sock);
            return;
        }
        final long mapped = addr;
        Arena sessionArena = Arena.ofConfined(); // only the conductor thread touches a region
        MemorySegment region = MemorySegment.ofAddress(addr)
                .reinterpret(Abi.DIOS_REGION_SIZE, sessionArena, seg -> LibC.munmap(mapped, Abi.DIOS_REGION_SIZE));

        int slot;
        if (!freeSlots.isEmpty()) {
            slot = freeSlots.remove(freeSlots.size() - 1);
        } else {
            slot = slots.size();
            slots.add(null);
        }
        int gen = ++slotGenerations[slot];
        long taskId = spawned != null ? spawned.taskId : nextTaskId++;
        // A spawned task runs the executable object its parent named (the spawn opened and
        // checked it): no /proc walk on the spawn path. Others are named by what they run.
        String exe = spawned != null && spawned.exe != null ? spawned.exe.path : LibC.readlink("/proc/" + cred.pid() + "/exe");
        long tag = 1 + tagRandom.nextInt(0xffff);
        TaskSession s = new TaskSession(taskId, slot, gen, cred.pid(), cred.uid(), cred.gid(), sock, doorbell, pidfd,
                sessionArena, region, config.maxRefs(), config.maxBuffers(), tag, exe == null ? "?" : exe);
        s.ttyFd = tty;
        System.arraycopy(stdio, 0, s.stdio, 0, 3);
        if (spawned != null) {
            s.parentTask = spawned.parentTask;
            s.pure = spawned.pure;
            s.pureKill = spawned.pureKill;
            s.argv = spawned.argv == null ? "" : spawned.argv;
        } else {
            s.argv = Argv.ofProcess(cred.pid());
        }
        // A spawned task without a terminal writes its console output (its panics) to the stderr
        // it inherited, as a Unix child would, not into the daemon's log.
        if (spawned != null && tty < 0) s.errFd = ConsoleObject.stderrOutput(s, stdio[2]);
        slots.set(slot, s);
        stats.tasks++;

        TaskObject self;
        if (spawned != null) {
            // Everything its parent chose is waiting in its task object: its groups, its
            // executable, and the references delegated to it, which get ids now, in order.
            self = spawned;
            self.tryRetain();
            registeredSpawned++;
            s.publicMember = self.publicMember;
            if (self.groups != null) s.groups.addAll(self.groups);
            self.groups = null;
            s.exeObject = self.exe;
            self.exe = null;
            if (self.pending != null) {
                for (TaskObject.Pending p : self.pending) {
                    p.object().pendingChanged(p.perms(), -1, null); // a reference from now on
                    long id = objects.addReference(s, p.object(), p.perms());
                    if (id != 0) s.inbox.add(id);
                }
                self.pending = null;
            }
        } else {
            self = new TaskObject(objects.newObjectId(), taskId, cred.pid());
            objects.adopt(self);
            self.ownerUid = cred.uid();
            self.ownerGid = cred.gid();
            countUser(cred.uid(), 1);
            if (exe != null) s.exeObject = ExeObject.forPath(objects, exe, taskId);
        }
        s.defaultGroup = s.groups.isEmpty() ? null : s.groups.get(0);
        if (spawned == null) objects.joinUserGroup(s); // its uid's group: where its names go and are looked up
        self.session = s;
        s.taskObject = self;
        s.selfRef = objects.addReference(s, self, Abi.D_PERM_READ);

        region.set(JAVA_INT, RegionHeaderDescriptor.MAGIC_OFFSET, (int) Abi.DIOS_REGION_MAGIC);
        region.set(JAVA_INT, RegionHeaderDescriptor.REGION_SIZE_OFFSET, Abi.DIOS_REGION_SIZE);
        region.set(JAVA_INT, RegionHeaderDescriptor.SQ_OFFSET_OFFSET, Abi.DIOS_REGION_SQ_OFFSET);
        region.set(JAVA_INT, RegionHeaderDescriptor.SQ_ENTRIES_OFFSET, Abi.DIOS_SQ_ENTRIES);
        region.set(JAVA_INT, RegionHeaderDescriptor.SQE_SIZE_OFFSET, SqeDescriptor.SIZE);
        region.set(JAVA_INT, RegionHeaderDescriptor.CQ_OFFSET_OFFSET, Abi.DIOS_REGION_CQ_OFFSET);
        region.set(JAVA_INT, RegionHeaderDescriptor.CQ_ENTRIES_OFFSET, Abi.DIOS_CQ_ENTRIES);
        region.set(JAVA_INT, RegionHeaderDescriptor.CQE_SIZE_OFFSET, CqeDescriptor.SIZE);
        region.set(JAVA_LONG, RegionHeaderDescriptor.TASK_ID_OFFSET, taskId);
        region.set(JAVA_LONG, RegionHeaderDescriptor.SELF_REF_OFFSET, s.selfRef);
        region.set(JAVA_LONG, RegionHeaderDescriptor.PID_OFFSET, cred.pid());
        // The executable object's name is SHA-256 of the same path: computed once, at its creation.
        Name exeName = s.exeObject != null && s.exeObject.name() != null ? s.exeObject.name() : exe != null ? Name.fromString(exe) : null;
        if (exeName != null) exeName.write(region, RegionHeaderDescriptor.SELF_EXE_OFFSET);
        // Published last: a reader that sees the version sees everything above.
        TaskSession.INT.setRelease(region, (long) RegionHeaderDescriptor.ABI_VERSION_OFFSET, (int) Abi.DIOS_ABI_VERSION);

        long sent = sendWelcome(sock, 0, taskId, regionFd, doorbell);
        LibC.close(regionFd); // the mapping and the task's copy keep it alive
        if (sent != WelcomeMessageDescriptor.SIZE
                // Hang-up only: what a task sends from now on (DIOS_MSG_EXE_FD) is read by the
                // CREATE entry it goes with, and a message waiting for its entry must not wake the loop.
                || epoll.modify(sock, LibC.EPOLLRDHUP, sessionData(K_SOCKET, s)) < 0
                || epoll.add(doorbell, LibC.EPOLLIN, sessionData(K_DOORBELL, s)) < 0
                || (pidfd >= 0 && epoll.add(pidfd, LibC.EPOLLIN, sessionData(K_PIDFD, s)) < 0)) {
            disconnect(s, "registration failed");
            return;
        }
        s.active = true;
        s.lastWorkNanos = System.nanoTime();
        active.add(s);
        // A spawned task's start was logged with its spawn: its registration is a detail.
        String line = s + " registered: uid " + cred.uid() + ", exe " + s.exe + (tty >= 0 ? ", console on its terminal" : "");
        if (spawned == null) Log.info(line);
        else if (Log.enabled(Log.Level.DEBUG)) Log.debug(line);
    }

    /** Tears a task down: every reference and buffer released, fds closed, region unmapped. */
    public void disconnect(TaskSession s, String reason) {
        if (s.dead) return;
        s.dead = true;
        int refs = s.refCount();
        epoll.remove(s.doorbell);
        epoll.remove(s.sock);
        epoll.remove(s.pidfd);
        // Its parked calls are owed to nobody now; then its references go (ends of FIFOs
        // it held are gone: their peers see end of stream), and its task object is ready.
        for (ParkedCall pc : s.parked) pc.drop();
        s.parked.clear();
        objects.releaseAll(s);
        s.inbox.clear();
        for (GroupObject g : s.groups) objects.releaseCount(g);
        s.groups.clear();
        if (s.exeObject != null) objects.releaseCount(s.exeObject);
        s.exeObject = null;
        closeAll(s.stdio);
        java.util.Arrays.fill(s.stdio, -1);
        TaskObject t = s.taskObject;
        if (t != null) {
            t.session = null;
            if (t.spawned) {
                registeredSpawned--; // its exit status comes with K_CHILD (the process may outlive its connection)
            } else {
                t.exited(-1, dispatcher);
                countUser(t.ownerUid, -1);
            }
        }
        if (s.ttyFd >= 0) {
            if (s.ttyWatched) epoll.remove(s.ttyFd);
            LibC.close(s.ttyFd);
            s.ttyFd = -1;
        } else if (s.errFd >= 0 && s.ttyWatched) {
            epoll.remove(s.errFd);
        }
        LibC.close(s.errFd);
        s.errFd = -1;
        if (s.console != null) s.console.close(stats);
        LibC.close(s.doorbell);
        LibC.close(s.sock);
        LibC.close(s.pidfd);
        if (s.active) active.remove(s);
        s.active = false;
        slots.set(s.slot, null);
        freeSlots.add(s.slot);
        stats.tasks--;
        s.arena.close(); // munmap; any stray access now throws instead of faulting
        String line = s + " " + reason + "; exe " + s.exe + ", released " + refs + " references";
        // A spawned task's end is logged once, with its exit status (childExited), unless something went wrong.
        if (s.quiet) return;
        if (t != null && t.spawned && reason.equals("closed its connection")) {
            if (Log.enabled(Log.Level.DEBUG)) Log.debug(line);
        } else {
            Log.info(line);
        }
    }

    /** Shutdown: every task is told and torn down; connections that never registered are closed. */
    public void shutdown() {
        for (TaskSession s : new ArrayList<>(slots)) {
            if (s != null && !s.dead) {
                s.announceShutdown();
                disconnect(s, "disconnected at shutdown");
            }
        }
        for (int fd : pending.keySet()) LibC.close(fd);
        pending.clear();
        pendingAccount.clear();
        for (int fd : spawnedBySock.keySet()) LibC.close(fd);
        spawnedBySock.clear();
    }
}

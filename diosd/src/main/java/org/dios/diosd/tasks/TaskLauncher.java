package org.dios.diosd.tasks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;

import org.dios.abi.Abi;
import org.dios.abi.CqeDescriptor;
import org.dios.diosd.log.Log;
import org.dios.diosd.objects.Argv;
import org.dios.diosd.objects.ExeObject;
import org.dios.diosd.objects.GroupObject;
import org.dios.diosd.objects.ObjectManager;
import org.dios.diosd.objects.ParkedCall;
import org.dios.diosd.objects.Reference;
import org.dios.diosd.objects.TaskObject;
import org.dios.diosd.objects.TaskSession;
import org.dios.diosd.ops.CallDispatcher;
import org.dios.diosd.sys.Epoll;
import org.dios.diosd.sys.LibC;


/**
 * dios_run from start to end: {@link #spawn} makes the task object and its
 * socket pair and hands the spawn to the {@link Spawner} thread, the parent's
 * call parked; {@link #spawnsDone} answers the parent and watches the child's
 * pidfd; {@link #childExited} gives its exit status to the task object and
 * lets go of everything it held. The child's socket waits for its hello in
 * the {@link TaskRegistry}, which registers it like any task.
 *
 * <p>Its epoll kinds: {@link #K_SPAWNED} (the spawner finished jobs) and
 * {@link #K_CHILD} (a spawned task's process ended). Conductor thread only.
 */
public final class TaskLauncher {
    /** Epoll kinds (the low byte of the event data; the loop's and the registry's are other values). */
    public static final int K_SPAWNED = 11, K_CHILD = 12;

    private final TaskLimits config;
    private final Epoll epoll;
    private final ObjectManager objects;
    private final CallDispatcher dispatcher;
    private final TaskRegistry registry;
    private final MemorySegment scratch;
    /** Starts processes off this thread; null until {@link #enable} (then dios_run is -ENOSYS). */
    private Spawner spawner;
    private int spawnedFd = -1;
    /** The daemon's socket path, which spawned tasks get as DIOS_SOCKET (for tasks they fork). */
    private String socketPath;
    /** pidfds of spawned tasks still running. */
    private final HashMap<Integer, TaskObject> childByPidfd = new HashMap<>();

    public TaskLauncher(TaskLimits config, Epoll epoll, Arena arena, ObjectManager objects, CallDispatcher dispatcher,
                 TaskRegistry registry) {
        this.config = config;
        this.epoll = epoll;
        this.objects = objects;
        this.dispatcher = dispatcher;
        this.registry = registry;
        this.scratch = arena.allocate(8, 8);
    }

    private static void check(int rc, String what) {
        if (rc < 0) throw new IllegalStateException(what + ": " + LibC.strerror(rc));
    }

    /**
     * Enables dios_run: launcher is the path of dios-launch, socketPath the
     * daemon's socket (spawned tasks get it as DIOS_SOCKET, for tasks they
     * fork). Before the conductor runs.
     */
    public void enable(String launcher, String socketPath) {
        this.socketPath = socketPath;
        spawnedFd = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
        check(spawnedFd, "eventfd");
        check(epoll.add(spawnedFd, LibC.EPOLLIN, K_SPAWNED), "epoll add spawner");
        spawner = new Spawner(launcher, spawnedFd);
        spawner.start();
    }

    /**
     * The environment of a spawned task: the one its parent sent (its own
     * environ, or what it gave dios_run_env), or for a parent whose shim sends
     * none (no D_RUN_ENV: an older shim) a few of the daemon's variables. Any
     * DIOS_FD, DIOS_SOCKET and DIOS_PURE in it are dropped: the daemon sets the
     * first two (the child's connection, the daemon's socket) and the launcher
     * the third (Pure DIOS tasks only).
     */
    String[] taskEnv(String[] given) {
        ArrayList<String> env = new ArrayList<>();
        if (given != null) {
            for (String e : given) {
                int eq = e.indexOf('=');
                String k = eq < 0 ? e : e.substring(0, eq);
                if (k.equals(Abi.DIOS_ENV_FD) || k.equals(Abi.DIOS_ENV_SOCKET) || k.equals(Abi.DIOS_ENV_PURE)) continue;
                env.add(e);
            }
        } else {
            for (String k : new String[] {"PATH", "HOME", "LANG", "LC_ALL", "TERM", "TZ", "TMPDIR"}) {
                String v = System.getenv(k);
                if (v != null) env.add(k + "=" + v);
            }
            if (System.getenv("PATH") == null) env.add("PATH=/usr/local/bin:/usr/bin:/bin");
        }
        env.add(Abi.DIOS_ENV_FD + "=" + Abi.DIOS_SPAWN_SOCKET_FD);
        if (socketPath != null) env.add(Abi.DIOS_ENV_SOCKET + "=" + socketPath);
        return env.toArray(new String[0]);
    }

    /**
     * dios_run, after the dispatcher checked the call: makes the task object
     * and the socket pair, holds what the parent delegates, and hands the
     * spawn to the spawner thread. The parent's call is parked until the
     * launcher answers (spawnsDone). env: the environment the parent sent,
     * or null (see {@link #taskEnv}). A Pure DIOS parent's child runs Pure
     * DIOS too, whatever its brand, and a denied call kills it if it kills
     * the parent, whatever the call's seccompKill (confinement composes:
     * a child is never looser than its parent). Returns PARKED or -errno.
     */
    public int spawn(TaskSession parent, long userData, ExeObject exe, String[] argv, String[] env, Reference[] refs,
              GroupObject[] groups, boolean seccompKill) {
        if (spawner == null) {
            Log.warn(parent + ": dios_run, but this daemon has no task launcher (dios-launch not found)");
            return -Abi.DIOS_ENOSYS;
        }
        if (registry.atTaskLimit() || registry.atUserLimit(parent.uid)) {
            Log.warn(parent + ": dios_run refused: too many tasks for uid " + parent.uid
                    + " (--max-tasks-per-user " + config.maxTasksPerUser() + ", --max-tasks " + config.maxTasks() + ")");
            return -Abi.DIOS_EAGAIN;
        }
        if (parent.refs.size() >= parent.refs.capacity()) return -Abi.DIOS_ENOMEM;
        if (!dispatcher.mayPark(parent)) return -Abi.DIOS_ENOMEM; // the call waits while the spawner works
        // The program: this user's own open of the file (dios_exe), or, for a task running the
        // program itself, its running image (/proc/PID/exe, opened by the spawner). Never the
        // path, never another user's open (issue 18.1, 18.9); nothing here touches the file system.
        int file = -1, selfPid = 0, selfPidfd = -1;
        int own = exe.fileFor(parent.uid);
        if (own >= 0) {
            file = LibC.fcntl(own, org.dios.diosd.sys.Spawn.F_DUPFD_CLOEXEC, 10);
            if (file < 0) return -Abi.DIOS_ENOMEM;
        } else if (parent.exeObject == exe && parent.pid > 0) {
            selfPid = parent.pid;
            if (parent.pidfd >= 0) {
                selfPidfd = LibC.fcntl(parent.pidfd, org.dios.diosd.sys.Spawn.F_DUPFD_CLOEXEC, 10);
                if (selfPidfd < 0) return -Abi.DIOS_ENOMEM;
            }
        } else {
            return -Abi.DIOS_EACCES; // no task of this user opened it: dios_exe first
        }
        int[] pair = new int[2];
        if (org.dios.diosd.sys.Spawn.socketpair(LibC.AF_UNIX, LibC.SOCK_SEQPACKET | LibC.SOCK_CLOEXEC, pair) < 0) {
            LibC.close(file);
            LibC.close(selfPidfd);
            return -Abi.DIOS_ENOMEM;
        }
        int fl = LibC.fcntl(pair[0], LibC.F_GETFL, 0);
        LibC.fcntl(pair[0], LibC.F_SETFL, fl | LibC.O_NONBLOCK);
        int[] stdio = new int[3];
        for (int i = 0; i < 3; i++) {
            int src = parent.stdio[i];
            // A parent that sent no stdio (it had closed one of fds 0-2) gives /dev/null, never the
            // daemon's own fds: a task must not write into the daemon's log or read its stdin.
            stdio[i] = src >= 0 ? LibC.fcntl(src, org.dios.diosd.sys.Spawn.F_DUPFD_CLOEXEC, 10)
                    : LibC.open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0);
        }
        if (stdio[0] < 0 || stdio[1] < 0 || stdio[2] < 0) {
            for (int fd : stdio) LibC.close(fd);
            LibC.close(file);
            LibC.close(selfPidfd);
            LibC.close(pair[0]);
            LibC.close(pair[1]);
            return -Abi.DIOS_ENOMEM;
        }
        long taskId = registry.newTaskId();
        TaskObject t = new TaskObject(objects.newObjectId(), taskId, 0);
        objects.adopt(t); // this count stands for the running process: dropped when it exits
        t.spawned = true;
        t.parentTask = parent.taskId;
        t.argv = Argv.text(argv);
        t.ownerUid = parent.uid;
        t.ownerGid = parent.gid;
        t.pending = new ArrayList<>(refs.length);
        for (Reference r : refs) {
            if (r.object.tryRetain()) t.addPending(r.object, r.perms);
        }
        t.groups = new ArrayList<>();
        if (groups == null) {
            t.publicMember = parent.publicMember;
            for (GroupObject g : parent.groups) if (g.tryRetain()) t.groups.add(g);
        } else {
            t.publicMember = false;
            for (GroupObject g : groups) if (g.tryRetain()) t.groups.add(g);
        }
        if (exe.tryRetain()) t.exe = exe;
        if (parent.ttyFd >= 0) t.ttyFd = LibC.fcntl(parent.ttyFd, org.dios.diosd.sys.Spawn.F_DUPFD_CLOEXEC, 10);
        ParkedCall pc = new ParkedCall(parent, userData, Abi.D_OP_RUN, 0, null, 0, null);
        parent.parked.add(pc);
        t.runCall = pc;
        registry.spawning(t, pair[0]);
        spawner.submit(new Spawner.Job(t, exe.path, file, selfPid, selfPidfd, argv, taskEnv(env),
                seccompKill || parent.pureKill, parent.pure,
                parent.uid, parent.gid, pair[1], stdio));
        return CallDispatcher.PARKED;
    }

    /** The spawner finished jobs: answer the parents, watch the children. */
    public void spawnsDone() {
        LibC.read(spawnedFd, scratch, 8); // reset the eventfd counter
        Spawner.Job j;
        while ((j = spawner.poll()) != null) spawnDone(j);
    }

    private void spawnDone(Spawner.Job j) {
        TaskObject t = j.task;
        ParkedCall pc = t.runCall;
        t.runCall = null;
        boolean parentWaits = pc != null && !pc.done && !pc.task.dead;
        long[] v = new long[CqeDescriptor.VAL_COUNT];
        if (j.error < 0) {
            registry.dropSpawned(t);
            forgetSpawned(t);
            if (parentWaits) {
                Log.info(pc.task + ": dios_run of " + j.exePath + " failed: " + LibC.strerror(j.error));
                dispatcher.complete(pc.task, pc, j.error, 0, v);
            }
            return;
        }
        t.pid = j.pid;
        t.pidfd = j.pidfd;
        // What the tasks it spawns inherit (set before its hello can be read: awaitHello below).
        t.pure = j.policy.startsWith("pure");
        t.pureKill = t.pure && j.seccompKill;
        childByPidfd.put(j.pidfd, t);
        if (epoll.add(j.pidfd, LibC.EPOLLIN, K_CHILD | ((long) j.pidfd << 8)) < 0) {
            Log.error("epoll: cannot watch task " + t.taskId + " (pid " + j.pid + "); its exit will not be seen");
        }
        registry.awaitHello(t);
        if (parentWaits) {
            TaskSession parent = pc.task;
            long ref = t.tryRetain() ? objects.addReference(parent, t, Abi.D_PERM_READ | Abi.D_PERM_WRITE | Abi.D_PERM_DELETE) : 0;
            v[0] = ref;
            v[1] = j.pid;
            v[2] = t.taskId;
            dispatcher.complete(parent, pc, ref == 0 ? -Abi.DIOS_ENOMEM : 0, 0, v);
            Log.info("task " + t.taskId + " (pid " + j.pid + ") spawned by " + parent + ": " + j.exePath
                    + " (" + j.policy + (j.parentPure && !j.brand.equals("pure") ? ", its brand " + j.brand + ", from a Pure DIOS parent" : "")
                    + (t.pureKill ? ", seccomp kills" : "") + "; queued "
                    + (j.startedAt - j.queuedAt) / 1000 + " us, spawn " + (j.doneAt - j.startedAt) / 1000 + " us (posix_spawn " + j.spawnNanos / 1000 + " us), answered "
                    + (System.nanoTime() - j.doneAt) / 1000 + " us after)");
        } else {
            Log.info("task " + t.taskId + " (pid " + j.pid + ") spawned for a task that is gone: " + j.exePath);
        }
    }

    /** Gives back what a spawned task held before it registered, and its count for the process. */
    private void forgetSpawned(TaskObject t) {
        if (t.pending != null) {
            for (TaskObject.Pending p : t.pending) {
                p.object().pendingChanged(p.perms(), -1, dispatcher);
                objects.releaseCount(p.object());
            }
        }
        t.pending = null;
        if (t.groups != null) for (GroupObject g : t.groups) objects.releaseCount(g);
        t.groups = null;
        if (t.exe != null) objects.releaseCount(t.exe);
        t.exe = null;
        LibC.close(t.ttyFd);
        t.ttyFd = -1;
        registry.spawnEnded(t);
        objects.releaseCount(t);
    }

    /** A spawned task's process ended: its status, then everything it held goes. */
    public void childExited(int pidfd) {
        TaskObject t = childByPidfd.remove(pidfd);
        if (t == null) return;
        int status = org.dios.diosd.sys.Spawn.reap(pidfd, false);
        if (status < 0) status = -1;
        epoll.remove(pidfd);
        LibC.close(pidfd);
        t.pidfd = -1;
        if (t.session != null && !t.session.dead) registry.disconnect(t.session, "exited (" + describeStatus(status) + ")");
        else Log.info("task " + t.taskId + " (pid " + t.pid + ") exited (" + describeStatus(status) + ")");
        registry.dropSpawned(t); // never registered
        t.exited(status, dispatcher);
        forgetSpawned(t);
    }

    static String describeStatus(int st) {
        if (st < 0) return "status unknown";
        if ((st & 0x7f) == 0) return "exit " + ((st >> 8) & 0xff);
        return "killed by signal " + (st & 0x7f) + ((st & 0x80) != 0 ? ", core dumped" : "");
    }

    /** Shutdown: the spawned tasks run on (they see -ENOTCONN); the spawner threads stop. */
    public void shutdown() {
        for (int fd : childByPidfd.keySet()) LibC.close(fd);
        childByPidfd.clear();
        if (spawner != null) spawner.stop();
    }
}

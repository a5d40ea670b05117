package org.dios.diosd.tasks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;

import org.dios.abi.Abi;
import org.dios.diosd.log.Log;
import org.dios.diosd.objects.TaskObject;
import org.dios.diosd.sys.LibC;
import org.dios.diosd.sys.Spawn;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Starts task processes off the conductor thread, so dios_run never blocks
 * the loop: the conductor queues a {@link Job}; this thread opens the
 * executable, checks its ELF brand on the open fd, and posix_spawns the
 * native launcher (dios-launch) with the task's stdio, its connected socket,
 * the executable's fd and a status pipe. The launcher confines the task by
 * its policy (its brand's, or Pure DIOS for a Pure parent's child: {@link
 * #policyFor}) and execs it from that same fd; the pipe closes at exec (or
 * carries the errno of what failed first). The finished job goes back to the
 * conductor through a queue and an eventfd in its epoll set.
 */
final class Spawner implements Runnable {
    /** One spawn. Inputs are set by the conductor, outputs by the spawner thread. */
    static final class Job {
        final TaskObject task;
        final String exePath;
        final String[] argv;
        final String[] env;
        /** Pure DIOS with a denied call killing the task (the call's flag, or the parent's mode). */
        final boolean seccompKill;
        /** The parent runs Pure DIOS: so does the child, whatever its brand. */
        final boolean parentPure;
        final int uid, gid;
        /** The child's end of its socket pair and its stdio (owned by the job: closed after the spawn). */
        final int childSock;
        final int[] stdio;
        /** Outputs: pid and pidfd, or error (a negative errno). */
        int pid, pidfd = -1, error;
        /** The policy it runs under (with ", direct" for a spawn without the launcher), and its brand's. */
        String policy, brand;
        /** When the conductor queued it, the spawner took it, and the spawn returned (System.nanoTime). */
        long queuedAt = System.nanoTime(), startedAt, doneAt, spawnNanos;

        Job(TaskObject task, String exePath, String[] argv, String[] env, boolean seccompKill, boolean parentPure,
            int uid, int gid, int childSock, int[] stdio) {
            this.task = task;
            this.exePath = exePath;
            this.argv = argv;
            this.env = env;
            this.seccompKill = seccompKill;
            this.parentPure = parentPure;
            this.uid = uid;
            this.gid = gid;
            this.childSock = childSock;
            this.stdio = stdio;
        }
    }

    /** dios-launch's own environment: none of the task's (that goes in --env). */
    private static final String[] LAUNCHER_ENV = {};

    private final String launcher;
    private final int selfUid = LibC.getuid(), selfGid = (int) LibC.syscall(104 /* getgid */, 0, 0, 0, 0, 0, 0);
    private final LinkedBlockingQueue<Job> in = new LinkedBlockingQueue<>();
    private final ConcurrentLinkedQueue<Job> out = new ConcurrentLinkedQueue<>();
    private final int doneFd;
    private volatile boolean running = true;
    /** Spawns in flight at once: a posix_spawn holds its thread until the exec, about 0.3-1 ms. */
    static final int THREADS = 2;
    private final Thread[] threads = new Thread[THREADS];

    /** launcher: path of dios-launch; doneFd: the eventfd rung when a job is done. */
    Spawner(String launcher, int doneFd) {
        this.launcher = launcher;
        this.doneFd = doneFd;
    }

    void start() {
        for (int i = 0; i < THREADS; i++) threads[i] = Thread.ofPlatform().name("diosd-spawner-" + i).daemon(true).start(this);
    }

    void submit(Job j) {
        in.add(j);
    }

    /** The next finished job, or null. */
    Job poll() {
        return out.poll();
    }

    void stop() {
        running = false;
        for (Thread t : threads) if (t != null) t.interrupt();
    }

    /** Rounds of {@link #warmUp} per thread: enough for C1 to compile the spawn path. */
    static final int WARMUP_ROUNDS = 3000;

    /**
     * Runs a spawn's preparation (open and read a file, dup fds, the file
     * actions and argument arrays) without spawning, so the first tasks are
     * not started by interpreted code.
     */
    private static void warmUp() {
        String[] argv = {"warm", "up", "a", "spawn"};
        String[] env = {"DIOS_FD=3", "PATH=/usr/bin:/bin", "HOME=/"};
        try (Arena a = Arena.ofConfined()) {
            MemorySegment hdr = a.allocate(64);
            for (int i = 0; i < WARMUP_ROUNDS; i++) {
                int fd = LibC.open("/proc/self/exe", LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
                if (fd < 0) return;
                policyOf(hdr, LibC.read(fd, hdr, 64));
                int[] map = new int[4];
                for (int k = 0; k < map.length; k++) map[k] = LibC.fcntl(fd, Spawn.F_DUPFD_CLOEXEC, 10);
                Spawn.warm(argv, env, map);
                for (int k : map) LibC.close(k);
                LibC.close(fd);
            }
        } catch (RuntimeException e) {
            Log.warn("spawner warm-up: " + e); // only slower first spawns
        }
    }

    @Override
    public void run() {
        warmUp();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocate(JAVA_LONG);
            one.set(JAVA_LONG, 0, 1L);
            while (running) {
                Job j;
                try {
                    j = in.take();
                } catch (InterruptedException e) {
                    return;
                }
                try {
                    j.startedAt = System.nanoTime();
                    spawn(j);
                    j.doneAt = System.nanoTime();
                } catch (RuntimeException e) {
                    Log.error("spawner: unexpected failure starting " + j.exePath, e);
                    if (j.error == 0 && j.pid <= 0) j.error = -Abi.DIOS_ENOMEM;
                } finally {
                    LibC.close(j.childSock);
                    for (int fd : j.stdio) LibC.close(fd);
                }
                out.add(j);
                LibC.write(doneFd, one, 8);
            }
        }
    }

    /** The policy dios-launch applies for an ELF brand, or null if the header carries none. */
    static String policyOf(MemorySegment hdr, long n) {
        if (n < 16 || hdr.get(JAVA_BYTE, 0) != 0x7f || hdr.get(JAVA_BYTE, 1) != 'E' || hdr.get(JAVA_BYTE, 2) != 'L'
                || hdr.get(JAVA_BYTE, 3) != 'F') return null;
        if ((hdr.get(JAVA_BYTE, 7) & 0xff) != Abi.DIOS_ELF_OSABI) return null;
        return switch (hdr.get(JAVA_BYTE, 8) & 0xff) {
            case Abi.DIOS_BRAND_PURE -> "pure";
            case Abi.DIOS_BRAND_LIMBO -> "limbo";
            case Abi.DIOS_BRAND_LEGACY_LIMBO -> "legacy";
            default -> null;
        };
    }

    /**
     * The policy a task runs under: the stricter of its brand's and its
     * parent's. A Pure DIOS parent's child runs Pure whatever its brand (a
     * Limbo program then gets -ENOSYS, or dies, at its first denied call);
     * otherwise the brand decides, as for a task whose parent connected by
     * itself. brand: {@link #policyOf}'s answer (not null).
     */
    static String policyFor(String brand, boolean parentPure) {
        return parentPure ? "pure" : brand;
    }

    /**
     * A Limbo or Legacy Limbo task of the daemon's own user, whose parent is
     * not Pure DIOS, needs nothing the launcher does between fork and exec
     * (no filter, no uid switch): posix_spawn it directly, one exec instead
     * of two. Its brand was read from the file just before; a program swapped
     * in between by its own user would run unconfined, as any Limbo task
     * does, and as that user could run it anyway. A Pure parent's child never
     * comes here (its policy is pure), so no swap can take a child out from
     * under its parent's filter: the launcher checks the brand on the same fd
     * it execs.
     */
    private void spawnDirect(Job j) {
        j.policy += ", direct";
        int[] map = {-1, -1, -1, -1};
        try {
            int[] src = {j.stdio[0], j.stdio[1], j.stdio[2], j.childSock};
            for (int i = 0; i < src.length; i++) {
                map[i] = LibC.fcntl(src[i], Spawn.F_DUPFD_CLOEXEC, 10);
                if (map[i] < 0) {
                    j.error = -Abi.DIOS_ENOMEM;
                    return;
                }
            }
            long t0 = System.nanoTime();
            int pid = Spawn.spawn(j.exePath, j.argv, j.env, map, true);
            j.spawnNanos = System.nanoTime() - t0;
            if (pid < 0) {
                j.error = pid == -Abi.DIOS_ENOENT || pid == -Abi.DIOS_EACCES || pid == -Abi.DIOS_ENOEXEC ? pid : -Abi.DIOS_EAGAIN;
                return;
            }
            j.pid = pid;
            j.pidfd = LibC.pidfdOpen(pid);
            if (j.pidfd < 0) { // cannot watch it: do not leave it running unwatched
                LibC.syscall(62 /* kill */, pid, 9, 0, 0, 0, 0);
                LibC.syscall(61 /* wait4 */, pid, 0, 0, 0, 0, 0);
                j.pid = 0;
                j.error = -Abi.DIOS_ENOMEM;
            }
        } finally {
            for (int fd : map) LibC.close(fd);
        }
    }

    private void spawn(Job j) {
        int exe = LibC.open(j.exePath, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
        if (exe < 0) {
            j.error = exe == -LibC.ENOENT ? -Abi.DIOS_ENOENT : -Abi.DIOS_EACCES;
            return;
        }
        int[] pipe = {-1, -1};
        int[] map = {-1, -1, -1, -1, -1, -1};
        try (Arena a = Arena.ofConfined()) {
            MemorySegment hdr = a.allocate(64);
            long n = LibC.read(exe, hdr, 64);
            j.brand = policyOf(hdr, n);
            if (j.brand == null) {
                j.error = -Abi.DIOS_ENOEXEC;
                return;
            }
            j.policy = policyFor(j.brand, j.parentPure);
            if (!j.policy.equals("pure") && j.uid == selfUid && j.gid == selfGid && Spawn.canCloseFrom()) {
                spawnDirect(j);
                return;
            }
            if (Spawn.pipe2(LibC.O_CLOEXEC, pipe) < 0) {
                j.error = -Abi.DIOS_ENOMEM;
                return;
            }
            // Sources above the targets 0..5, so no dup2 of the file actions overwrites a later source.
            int[] src = {j.stdio[0], j.stdio[1], j.stdio[2], j.childSock, exe, pipe[1]};
            for (int i = 0; i < src.length; i++) {
                map[i] = LibC.fcntl(src[i], Spawn.F_DUPFD_CLOEXEC, 10);
                if (map[i] < 0) {
                    j.error = -Abi.DIOS_ENOMEM;
                    return;
                }
            }
            java.util.ArrayList<String> args = new java.util.ArrayList<>(j.argv.length + 10);
            args.add(launcher);
            args.add("--policy");
            args.add(j.policy);
            if (!j.brand.equals(j.policy)) { // stricter than the brand asks: the launcher checks the brand it was told
                args.add("--brand");
                args.add(j.brand);
            }
            if (j.seccompKill) args.add("--seccomp-kill");
            args.add("--uid");
            args.add(Integer.toString(j.uid));
            args.add("--gid");
            args.add(Integer.toString(j.gid));
            // The task's environment as arguments: the launcher, which may run as root until it
            // switches to the task's ids, must not act on the task's LD_PRELOAD and the like.
            args.add("--env");
            args.add(Integer.toString(j.env.length));
            java.util.Collections.addAll(args, j.env);
            args.add("--");
            java.util.Collections.addAll(args, j.argv);
            // closefrom too, where libc has it: no fd of the daemon's reaches even the launcher
            // (which closes everything above 5 first thing anyway).
            int pid = Spawn.spawn(launcher, args.toArray(new String[0]), LAUNCHER_ENV, map, Spawn.canCloseFrom());
            for (int i = 0; i < map.length; i++) {
                LibC.close(map[i]);
                map[i] = -1;
            }
            LibC.close(pipe[1]);
            pipe[1] = -1;
            if (pid < 0) {
                Log.warn("cannot start " + launcher + ": " + LibC.strerror(pid));
                j.error = pid == -LibC.ENOENT ? -Abi.DIOS_ENOSYS : -Abi.DIOS_EAGAIN;
                return;
            }
            j.pid = pid;
            j.pidfd = LibC.pidfdOpen(pid);
            // EOF: the task was exec'd; four bytes: the errno of what the launcher could not do.
            MemorySegment err = a.allocate(JAVA_INT);
            long r;
            do {
                r = LibC.read(pipe[0], err, 4);
            } while (r == -LibC.EINTR);
            if (r == 4 || j.pidfd < 0) {
                int e = r == 4 ? err.get(JAVA_INT, 0) : -j.pidfd;
                j.error = e == Abi.DIOS_ENOEXEC ? -Abi.DIOS_ENOEXEC
                        : e == Abi.DIOS_EPERM ? -Abi.DIOS_EPERM
                        : e == Abi.DIOS_EACCES ? -Abi.DIOS_EACCES
                        : e == Abi.DIOS_ENOENT ? -Abi.DIOS_ENOENT
                        : -Abi.DIOS_ENOMEM;
                if (j.pidfd >= 0) {
                    Spawn.reap(j.pidfd, true); // it exits at once (127)
                    LibC.close(j.pidfd);
                    j.pidfd = -1;
                }
                j.pid = 0;
            }
        } finally {
            LibC.close(exe);
            LibC.close(pipe[0]);
            LibC.close(pipe[1]);
            for (int fd : map) LibC.close(fd);
        }
    }
}

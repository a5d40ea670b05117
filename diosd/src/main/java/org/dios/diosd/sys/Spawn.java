package org.dios.diosd.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Process calls for the task launcher, through FFM: socketpair, pipe2,
 * posix_spawn with file actions and a clean signal state, and waitid on a
 * pidfd. (posix_spawn is glibc's vfork-based one: the JVM's page tables are
 * not copied, so a spawn costs well under a millisecond.)
 */
public final class Spawn {
    private Spawn() {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");

    private static MethodHandle fn(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name)), fd, CAPTURE);
    }

    private static MethodHandle plain(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name)), fd);
    }

    private static final MethodHandle SOCKETPAIR = fn("socketpair", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle PIPE2 = fn("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    // posix_spawn* return an error number (not -1/errno)
    private static final MethodHandle FA_INIT = plain("posix_spawn_file_actions_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle FA_DUP2 = plain("posix_spawn_file_actions_adddup2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle FA_DESTROY = plain("posix_spawn_file_actions_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    /** glibc 2.34+: close every fd from a number up in the child; null if this libc has none. */
    private static final MethodHandle FA_CLOSEFROM = LIBC.find("posix_spawn_file_actions_addclosefrom_np")
            .map(a -> LINKER.downcallHandle(a, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT))).orElse(null);
    private static final MethodHandle AT_INIT = plain("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle AT_FLAGS = plain("posix_spawnattr_setflags", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT));
    private static final MethodHandle AT_MASK = plain("posix_spawnattr_setsigmask", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle AT_DEF = plain("posix_spawnattr_setsigdefault", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle AT_DESTROY = plain("posix_spawnattr_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle SIGEMPTY = plain("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle SIGFILL = plain("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle SPAWN = plain("posix_spawn",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));

    public static final int F_DUPFD_CLOEXEC = 1030;
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;
    private static final long SYS_WAITID = 247, SYS_PIDFD_SEND_SIGNAL = 424;
    private static final int P_PIDFD = 3, WEXITED = 4, WNOHANG = 1;
    private static final int CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3;

    private static RuntimeException wrap(Throwable t) {
        if (t instanceof RuntimeException re) return re;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    /** socketpair(2) into out[0..1]: 0 or -errno. */
    public static int socketpair(int domain, int type, int[] out) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment c = a.allocate(CAPTURE_LAYOUT);
            MemorySegment fds = a.allocate(8, 4);
            int r = (int) SOCKETPAIR.invokeExact(c, domain, type, 0, fds);
            if (r < 0) return -(int) ERRNO.get(c, 0L);
            out[0] = fds.get(JAVA_INT, 0);
            out[1] = fds.get(JAVA_INT, 4);
            return 0;
        } catch (Throwable t) { throw wrap(t); }
    }

    /** pipe2(2) into out[0] (read end) and out[1] (write end): 0 or -errno. */
    public static int pipe2(int flags, int[] out) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment c = a.allocate(CAPTURE_LAYOUT);
            MemorySegment fds = a.allocate(8, 4);
            int r = (int) PIPE2.invokeExact(c, fds, flags);
            if (r < 0) return -(int) ERRNO.get(c, 0L);
            out[0] = fds.get(JAVA_INT, 0);
            out[1] = fds.get(JAVA_INT, 4);
            return 0;
        } catch (Throwable t) { throw wrap(t); }
    }

    /**
     * posix_spawn(path, argv, envp) with fds dup2'd: the child gets
     * fdMap[i] as fd i (every source must be a CLOEXEC fd numbered above
     * fdMap.length, so no dup2 overwrites a later source), all signals at
     * their default and none blocked (the JVM blocks and handles several).
     * Returns the pid, or -errno.
     */
    public static int spawn(String path, String[] argv, String[] envp, int[] fdMap) {
        return spawn(path, argv, envp, fdMap, false);
    }

    /** Can {@link #spawn} close every fd above the mapped ones in the child (closefrom)? */
    public static boolean canCloseFrom() {
        return FA_CLOSEFROM != null;
    }

    /**
     * As {@link #spawn(String, String[], String[], int[])}; with closeRest,
     * every fd numbered fdMap.length or above is closed in the child too
     * (needs {@link #canCloseFrom()}). glibc reports a failed exec as the
     * result (its posix_spawn waits for the exec), so -ENOENT, -EACCES,
     * -ENOEXEC come back here.
     */
    public static int spawn(String path, String[] argv, String[] envp, int[] fdMap, boolean closeRest) {
        return spawn0(path, argv, envp, fdMap, closeRest, false);
    }

    /**
     * Runs everything {@link #spawn} does except the posix_spawn call itself
     * (file actions, attributes, signal sets, the argv and envp arrays), so
     * the JIT compiles that path before the first task is spawned: run
     * interpreted, its dozen downcalls cost about a millisecond per spawn.
     */
    public static void warm(String[] argv, String[] envp, int[] fdMap) {
        spawn0("/", argv, envp, fdMap, canCloseFrom(), true);
    }

    private static int spawn0(String path, String[] argv, String[] envp, int[] fdMap, boolean closeRest, boolean dry) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fa = a.allocate(256, 16); // posix_spawn_file_actions_t is 80 bytes in glibc
            MemorySegment at = a.allocate(512, 16); // posix_spawnattr_t is 336
            MemorySegment empty = a.allocate(128, 8), full = a.allocate(128, 8);
            int rc = (int) FA_INIT.invokeExact(fa);
            if (rc != 0) return -rc;
            rc = (int) AT_INIT.invokeExact(at);
            if (rc != 0) {
                int ignored = (int) FA_DESTROY.invokeExact(fa);
                return -rc;
            }
            try {
                for (int i = 0; i < fdMap.length && rc == 0; i++) rc = (int) FA_DUP2.invokeExact(fa, fdMap[i], i);
                if (rc == 0 && closeRest) {
                    if (FA_CLOSEFROM == null) return -38; // ENOSYS
                    rc = (int) FA_CLOSEFROM.invokeExact(fa, fdMap.length);
                }
                int e1 = (int) SIGEMPTY.invokeExact(empty), e2 = (int) SIGFILL.invokeExact(full);
                if (rc == 0) rc = (int) AT_MASK.invokeExact(at, empty);
                if (rc == 0) rc = (int) AT_DEF.invokeExact(at, full);
                if (rc == 0) rc = (int) AT_FLAGS.invokeExact(at, (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));
                if (rc != 0) return -rc;
                MemorySegment pid = a.allocate(JAVA_INT);
                MemorySegment p = a.allocateFrom(path), av = strings(a, argv), ev = strings(a, envp);
                if (dry) return 0;
                rc = (int) SPAWN.invokeExact(pid, p, fa, at, av, ev);
                return rc != 0 ? -rc : pid.get(JAVA_INT, 0);
            } finally {
                int d1 = (int) FA_DESTROY.invokeExact(fa);
                int d2 = (int) AT_DESTROY.invokeExact(at);
            }
        } catch (Throwable t) { throw wrap(t); }
    }

    private static MemorySegment strings(Arena a, String[] s) {
        MemorySegment arr = a.allocate(8L * (s.length + 1), 8);
        for (int i = 0; i < s.length; i++) arr.setAtIndex(ADDRESS, i, a.allocateFrom(s[i]));
        arr.setAtIndex(ADDRESS, s.length, MemorySegment.NULL);
        return arr;
    }

    /** No status yet: the process is still running (see {@link #reap}). */
    public static final int STILL_RUNNING = Integer.MIN_VALUE;

    /**
     * waitid(P_PIDFD, pidfd, WEXITED [| WNOHANG]): the child's wait status
     * in waitpid(2)'s encoding, {@link #STILL_RUNNING}, or -errno - 1000
     * (never confused with a status: statuses are >= 0).
     */
    public static int reap(int pidfd, boolean block) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment info = a.allocate(128, 8);
            long r = LibC.syscall(SYS_WAITID, P_PIDFD, pidfd, info.address(), WEXITED | (block ? 0 : WNOHANG), 0, 0);
            if (r < 0) return (int) r - 1000;
            int pid = info.get(JAVA_INT, 16);
            if (pid == 0) return STILL_RUNNING;
            int code = info.get(JAVA_INT, 8), st = info.get(JAVA_INT, 24);
            return switch (code) {
                case CLD_EXITED -> (st & 0xff) << 8;
                case CLD_KILLED -> st & 0x7f;
                case CLD_DUMPED -> (st & 0x7f) | 0x80;
                default -> STILL_RUNNING;
            };
        }
    }

    /** pidfd_send_signal(2): 0 or -errno. */
    public static int signal(int pidfd, int sig) {
        return (int) LibC.syscall(SYS_PIDFD_SEND_SIGNAL, pidfd, sig, 0, 0, 0, 0);
    }
}

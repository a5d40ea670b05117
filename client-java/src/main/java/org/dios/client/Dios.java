package org.dios.client;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * DIOS from Java: the calls of dios.h through FFM into libdlibc, so Java, C and Rust share one
 * implementation of the protocol. Every method may throw {@link DiosException} (the call's name
 * and errno). Thread-safe: the shim takes calls from many threads at once.
 */
public final class Dios {
    private Dios() {}

    public static final int D_OBJ_PRIVMEM = 1;
    public static final int D_OBJ_SHMEM = 2;
    /** Shared-memory stream, one writer end, one reader end: {@link #createFifo}. */
    public static final int D_OBJ_FIFO = 3;
    /** Durable byte object: size 0 = empty; a write may reach past the end and its commit grows it. */
    public static final int D_OBJ_BLOB = 4;
    public static final int D_OBJ_CONSOLE = 5;
    public static final int D_OBJ_TASK = 6;
    public static final int D_OBJ_GROUP = 7;
    public static final int D_OBJ_EXE = 8;
    /** Any call: EAGAIN instead of waiting. */
    public static final long D_NONBLOCK = 1L;
    public static final long D_CREATE_NAME_GIVEN = 1L << 8;
    /** create: the name goes to the public group, seen by every user (default: the caller's uid's group). */
    public static final long D_CREATE_PUBLIC = 1L << 10;
    public static final long D_LOOKUP_READONLY = 1L << 12;
    /** lookup: in the public group ({@link #D_CREATE_PUBLIC}) instead of the task's own groups. */
    public static final long D_LOOKUP_PUBLIC = 1L << 13;
    public static final long D_COPY_READONLY = 1L << 12;
    public static final long D_DELETE_ZOMBIFY = 1L << 16;
    public static final long D_RUN_SECCOMP_KILL = 1L << 20;
    /**
     * acquire_write of a memory object or blob: an exclusive write buffer; every other writer waits
     * until it is released ({@link Ref#acquireWriteExclusive}, {@link Ref#withExclusiveWrite}).
     */
    public static final long D_ACQUIRE_EXCLUSIVE = 1L << 24;
    public static final int D_PERM_READ = 1, D_PERM_WRITE = 2, D_PERM_DELETE = 4;
    public static final int D_REF_STATE_NAMED = 1, D_REF_STATE_ZOMBIE = 2, D_REF_STATE_READABLE = 4,
            D_REF_STATE_WRITABLE = 8;
    /**
     * The per-task limits a daemon names when it refuses a call with ENOMEM (dios_abi.h's
     * D_DETAIL_* table); {@link DiosException#detail()} says which, with its value and flag.
     */
    public static final int D_DETAIL_MAX_REFS = 1, D_DETAIL_MAX_BUFFERS = 2, D_DETAIL_MAX_PARKED = 3,
            D_DETAIL_MAX_TASK_MEMORY = 4, D_DETAIL_MAX_SELECT = 5, D_DETAIL_MAX_GROUPS = 6;
    /** Per-user quotas of the daemon (EDQUOT; diosd --quota-*). */
    public static final int D_DETAIL_QUOTA_OBJECTS = 7, D_DETAIL_QUOTA_NAMES = 8, D_DETAIL_QUOTA_MEMORY = 9,
            D_DETAIL_QUOTA_FIFOS = 10, D_DETAIL_QUOTA_BLOBS = 11, D_DETAIL_QUOTA_BLOB_BYTES = 12;
    /** dios_create(D_OBJ_FIFO) with no capacity. */
    public static final long DIOS_FIFO_DEFAULT_CAPACITY = 256 * 1024;
    /** Most references one dios_select takes. */
    public static final int DIOS_MAX_SELECT_REFS = 4096;
    /** The console's well-known name is the deterministic name of this string. */
    static final String DIOS_CONSOLE_NAME_STRING = "dios:console";

    /** Where libdlibc was loaded from (see the class comment of the loader, and README). */
    public static String library() {
        return Native.WHERE;
    }

    /**
     * After the daemon died (every call fails with ENOTCONN), registers this process again as a
     * new task once a daemon listens (dios_reconnect). The new task holds no references: look
     * durable objects up again by name; every {@link Ref} of the dead registration keeps failing
     * with ENOTCONN. Returns at once while the connection is up. Throws a {@link DiosException}
     * with its {@link DiosException#detail() detail}: ENOTCONN (no daemon yet: retry), EBUSY
     * (another thread's call on the dead connection has not returned), EPERM (a Pure DIOS task
     * cannot open a socket), EAGAIN (the daemon's task limit).
     */
    public static void reconnect() {
        try {
            Native.check("dios_reconnect", (int) Native.RECONNECT.invokeExact());
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * libdlibc's text about the calling thread's last failed call (dios_last_error_detail); a
     * {@link DiosException} already carries it for ENOTCONN and ENOMEM ({@link
     * DiosException#detail()}). Read it right after the call, on the same thread.
     */
    public static String lastErrorDetail() {
        return Native.lastErrorDetail();
    }

    /** The null call. */
    public static void nop() {
        try {
            Native.check("dios_nop", (int) Native.NOP.invokeExact(0L));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    // ---- create, lookup -------------------------------------------------------------------------

    /** Creates an anonymous object of size bytes: D_OBJ_SHMEM, D_OBJ_PRIVMEM or D_OBJ_BLOB (a scratch file). */
    public static Ref createAnonymous(int type, long size) {
        return create(type, size, null, false);
    }

    /** Creates an object under a fresh random name ({@link Ref#name()}); a named blob is durable. */
    public static Ref createNamed(int type, long size) {
        return create(type, size, null, true);
    }

    /** Creates an object bound to the given name (EEXIST if bound); a named blob is durable. */
    public static Ref createNamed(int type, long size, Name name) {
        return create(type, size, name, true);
    }

    /**
     * An anonymous FIFO of the default capacity. One reference is one end (the first acquire
     * decides which): an anonymous FIFO suits a peer it is delegated to ({@link #run}); within
     * one process use {@link #createNamedFifo} and a lookup, or {@link Channel#pair()}.
     */
    public static Ref createFifo() {
        return create(D_OBJ_FIFO, 0, null, false);
    }

    /** An anonymous FIFO of capacity bytes (0: the default; rounded up to 4 KiB). */
    public static Ref createFifo(long capacity) {
        return create(D_OBJ_FIFO, capacity, null, false);
    }

    /** A FIFO under a fresh random name (capacity 0: the default); {@link #lookup} gives the other end. */
    public static Ref createNamedFifo(long capacity) {
        return create(D_OBJ_FIFO, capacity, null, true);
    }

    /** A FIFO bound to the given name (capacity 0: the default). */
    public static Ref createNamedFifo(long capacity, Name name) {
        return create(D_OBJ_FIFO, capacity, name, true);
    }

    private static Ref create(int type, long size, Name given, boolean named) {
        try (Arena a = Arena.ofConfined()) {
            // a FIFO's capacity 0 means the default: no argument at all
            MemorySegment sz = type == D_OBJ_FIFO && size == 0 ? MemorySegment.NULL : a.allocateFrom(JAVA_LONG, size);
            MemorySegment name = named ? (given != null ? given.copyTo(a) : a.allocate(Layouts.NAME)) : MemorySegment.NULL;
            MemorySegment out = a.allocate(ADDRESS);
            long flags = given != null ? D_CREATE_NAME_GIVEN : 0;
            Native.check("dios_create", (int) Native.CREATE.invokeExact(flags, type, sz, name, out, 0L));
            Name n = named ? new Name(name.toArray(JAVA_BYTE)) : null;
            return new Ref(out.get(ADDRESS, 0), n);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Resolves a name; readOnly gives a reference that may only read. */
    public static Ref lookup(Name name, boolean readOnly) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment refs = a.allocate(ADDRESS);
            MemorySegment count = a.allocateFrom(JAVA_LONG, 1L);
            Native.check("dios_lookup", (int) Native.LOOKUP.invokeExact(readOnly ? D_LOOKUP_READONLY : 0L,
                    name.copyTo(a), refs, count));
            return new Ref(refs.get(ADDRESS, 0), name);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** A reference to the console (D_OBJ_CONSOLE), by its well-known name: streams write to the terminal. */
    public static Ref console() {
        return lookup(Name.fromString(DIOS_CONSOLE_NAME_STRING), false);
    }

    // ---- select ---------------------------------------------------------------------------------

    /**
     * Waits until one of refs is ready and returns it (the same Ref object): a FIFO reader end with
     * data or end of stream, a writer end with space or no reader, a task that has ended; memory
     * objects are always ready. The first ready one in order wins. Parked in the daemon: other
     * threads' calls go on meanwhile.
     */
    public static Ref select(Ref... refs) {
        return select(0, refs);
    }

    /** As {@link #select(Ref...)}. */
    public static Ref select(Collection<Ref> refs) {
        return select(0, refs.toArray(Ref[]::new));
    }

    /** The first ready reference, or null at once if none is (D_NONBLOCK). */
    public static Ref selectNow(Ref... refs) {
        try {
            return select(D_NONBLOCK, refs);
        } catch (DiosException e) {
            if (e.errno() == Errno.EAGAIN) return null;
            throw e;
        }
    }

    /**
     * As {@link #select(Ref...)}, waiting at most timeout (dios_select_timeout): null if none is
     * ready by then. The daemon keeps the deadline; a select that timed out leaves nothing waiting,
     * and what becomes ready later is there for the next select. A negative or zero timeout does not
     * wait; one of more than about 146 years never expires.
     */
    public static Ref select(Duration timeout, Ref... refs) {
        try {
            return select(0, refs, Native.timeoutNanos(timeout), true);
        } catch (DiosException e) {
            if (e.errno() == Errno.ETIMEDOUT) return null;
            throw e;
        }
    }

    private static Ref select(long flags, Ref[] refs) {
        return select(flags, refs, 0, false);
    }

    private static Ref select(long flags, Ref[] refs, long timeoutNs, boolean timed) {
        String call = timed ? "dios_select_timeout" : "dios_select";
        if (refs.length == 0) throw new DiosException(call, Errno.EINVAL);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment arr = a.allocate(ADDRESS, refs.length);
            for (int i = 0; i < refs.length; i++) {
                if (refs[i].isClosed()) throw new DiosException(call, Errno.EBADF);
                arr.setAtIndex(ADDRESS, i, refs[i].handle());
            }
            MemorySegment ready = a.allocate(ADDRESS);
            int rc = timed ? (int) Native.SELECT_TIMEOUT.invokeExact(flags, arr, (long) refs.length, ready, timeoutNs)
                    : (int) Native.SELECT.invokeExact(flags, arr, (long) refs.length, ready);
            Native.check(call, rc);
            long r = ready.get(ADDRESS, 0).address();
            for (Ref ref : refs) if (ref.handle().address() == r) return ref;
            throw new DiosException("dios_select", Errno.EPROTO);   // the shim returned a reference we did not give
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    // ---- tasks ----------------------------------------------------------------------------------

    /**
     * The executable object of a program file (dios_exe): what {@link #run} starts. The file is
     * opened here, with this process's permissions, and tasks run exactly that open file (ENOENT
     * once it is no longer at its path: call this again).
     */
    public static Ref exe(String path) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            Native.check("dios_exe", (int) Native.EXE.invokeExact(a.allocateFrom(path), out));
            return new Ref(out.get(ADDRESS, 0), null);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * Spawns a task (dios_run): the executable object exe with argv (argv[0] included), holding
     * the delegate references (it takes them with dios_delegated, in this order), in this task's
     * groups, with this process's environment. Only DIOS-branded programs run (`dios brand`):
     * ENOEXEC otherwise, whose message says how to brand one. flags: 0 or
     * {@link #D_RUN_SECCOMP_KILL}.
     */
    public static Task run(Ref exe, List<String> argv, List<Ref> delegate, long flags) {
        return run(exe, argv, delegate, flags, null);
    }

    /** What an ENOEXEC from dios_run means, and what to do (the brand is the usual cause). */
    static final String BRAND_HINT = "the program lacks a DIOS brand (or is not an ELF executable, or the"
            + " reference is not an executable object):"
            + " dios_run starts only branded programs; brand it with `dios brand --limbo PROGRAM`"
            + " (`--pure` for a Pure DIOS task; `dios brand --show PROGRAM` shows its brand)";

    /**
     * As {@link #run(Ref, List, List, long)}, with the task's environment: env null gives it this
     * process's environment (as the shim's environ holds it), as {@link ProcessBuilder} does;
     * otherwise exactly env's variables (an empty map: none), to which the daemon adds
     * DIOS_SOCKET (dios_run_env). Like ProcessBuilder's, start from
     * {@code new HashMap<>(System.getenv())} to change a few. At most
     * DIOS_RUN_MAX_ENV_BYTES (16 KiB) of "NAME=value\0" strings: E2BIG beyond.
     */
    public static Task run(Ref exe, List<String> argv, List<Ref> delegate, long flags, Map<String, String> env) {
        if (argv.isEmpty()) throw new DiosException("dios_run", Errno.EINVAL);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment envp = MemorySegment.NULL;
            if (env != null) {
                envp = a.allocate(ADDRESS, env.size() + 1L);
                int i = 0;
                for (Map.Entry<String, String> e : env.entrySet()) {
                    if (e.getKey().isEmpty() || e.getKey().indexOf('=') >= 0 || e.getKey().indexOf('\0') >= 0
                            || e.getValue().indexOf('\0') >= 0) {
                        throw new DiosException("dios_run_env", Errno.EINVAL);
                    }
                    envp.setAtIndex(ADDRESS, i++, a.allocateFrom(e.getKey() + "=" + e.getValue()));
                }
                envp.setAtIndex(ADDRESS, i, MemorySegment.NULL);
            }
            MemorySegment args = a.allocate(ADDRESS, argv.size() + 1L);
            for (int i = 0; i < argv.size(); i++) args.setAtIndex(ADDRESS, i, a.allocateFrom(argv.get(i)));
            args.setAtIndex(ADDRESS, argv.size(), MemorySegment.NULL);
            MemorySegment refs = delegate.isEmpty() ? MemorySegment.NULL : a.allocate(ADDRESS, delegate.size());
            for (int i = 0; i < delegate.size(); i++) refs.setAtIndex(ADDRESS, i, delegate.get(i).handle());
            MemorySegment spec = a.allocate(Layouts.TASK_SPEC);
            spec.set(JAVA_INT, Layouts.TASK_SPEC_ARGC, argv.size());
            spec.set(ADDRESS, Layouts.TASK_SPEC_ARGV, args);
            spec.set(ADDRESS, Layouts.TASK_SPEC_REFS, refs);
            spec.set(JAVA_LONG, Layouts.TASK_SPEC_REF_COUNT, delegate.size());
            spec.set(ADDRESS, Layouts.TASK_SPEC_GROUPS, MemorySegment.NULL);
            spec.set(JAVA_LONG, Layouts.TASK_SPEC_GROUP_COUNT, 0L);
            MemorySegment out = a.allocate(ADDRESS);
            int rc = (int) Native.RUN_ENV.invokeExact(flags, exe.handle(), spec, envp, out);
            if (rc == -Errno.ENOEXEC) throw new DiosException("dios_run", Errno.ENOEXEC, BRAND_HINT);
            Native.check("dios_run", rc);
            return new Task(new Ref(out.get(ADDRESS, 0), null));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Spawns the program at path with arguments args (argv[0] is path): dios_exe, then dios_run. */
    public static Task spawn(String path, String... args) {
        List<String> argv = new ArrayList<>(args.length + 1);
        argv.add(path);
        argv.addAll(Arrays.asList(args));
        try (Ref exe = exe(path)) {
            return run(exe, argv, List.of(), 0);
        }
    }

    /** Delegates refs to a task (dios_copy), read-only if asked. All or nothing. */
    public static void copy(Task target, boolean readOnly, Ref... refs) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment arr = a.allocate(ADDRESS, Math.max(1, refs.length));
            for (int i = 0; i < refs.length; i++) arr.setAtIndex(ADDRESS, i, refs[i].handle());
            Native.check("dios_copy", (int) Native.COPY.invokeExact(readOnly ? D_COPY_READONLY : 0L, arr,
                    (long) refs.length, target.ref().handle()));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The references delegated to this task (by its parent's dios_run, then dios_copy), in order; empty if none. */
    public static List<Ref> delegated() {
        List<Ref> all = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment arr = a.allocate(ADDRESS, 64);
            MemorySegment count = a.allocate(JAVA_LONG);
            for (;;) {
                count.set(JAVA_LONG, 0, 64L);
                Native.check("dios_delegated", (int) Native.DELEGATED.invokeExact(0L, arr, count));
                long n = count.get(JAVA_LONG, 0);
                for (int i = 0; i < n; i++) all.add(new Ref(arr.getAtIndex(ADDRESS, i), null));
                if (n < 64) return all;
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    // ---- diagnostics ----------------------------------------------------------------------------

    /** Daemon-wide counts: tasks, objects, names, refs, buffers, segments. */
    public static long[] daemonStats() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(Layouts.DAEMON_STATS);
            Native.check("dios_daemon_stats", (int) Native.STATS.invokeExact(out));
            return out.toArray(JAVA_LONG);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}

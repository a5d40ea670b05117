package org.dios.client;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Downcall handles into libdlibc, and where the library was found.
 *
 * <p>Search order (the first that applies wins):
 * <ol>
 * <li>{@code -Ddios.library=PATH} (or the older spelling {@code -Ddios.lib}): that file, or an error;
 * <li>{@code $DIOS_LIB}: that file, or an error;
 * <li>the {@code dist/} tree this jar was staged in:
 *     {@code dist/share/dios/java/dios-client.jar -> dist/lib/libdlibc.so};
 * <li>{@code System.loadLibrary("dlibc")}: {@code -Djava.library.path};
 * <li>the dynamic linker's own search ({@code LD_LIBRARY_PATH}, {@code ld.so.cache}) for
 *     {@code libdlibc.so.1} and {@code libdlibc.so};
 * <li>the standard library directories ({@code /usr/local/lib}, {@code /usr/lib}, their
 *     multiarch subdirectories, {@code /lib}).
 * </ol>
 * A path given explicitly (1, 2) that does not exist is an error at once, never a
 * silent fall-through to another copy of the library.
 */
final class Native {
    private Native() {}

    private static final Linker LINKER = Linker.nativeLinker();
    /** Where libdlibc was loaded from (a path, or how the system found it). */
    static final String WHERE;
    static final SymbolLookup LIB;

    static {
        String[] where = new String[1];
        LIB = load(where);
        WHERE = where[0];
    }

    /** Where a jar staged in dist/ finds the library: dist/share/dios/java/X.jar -> dist/lib/libdlibc.so. */
    static Path distLibrary(Path jar) {
        Path java = jar.toAbsolutePath().getParent();            // dist/share/dios/java
        Path dios = java == null ? null : java.getParent();
        Path share = dios == null ? null : dios.getParent();
        Path dist = share == null ? null : share.getParent();
        if (dist == null || !java.getFileName().toString().equals("java") || !dios.getFileName().toString().equals("dios")
                || !share.getFileName().toString().equals("share")) {
            return null;                                          // not staged in a dist/ (or install) tree
        }
        return dist.resolve("lib").resolve("libdlibc.so");
    }

    private static Path ownJar() {
        try {
            var src = Native.class.getProtectionDomain().getCodeSource();
            if (src == null || src.getLocation() == null) return null;
            Path p = Path.of(src.getLocation().toURI());
            return Files.isRegularFile(p) ? p : null;             // a directory (target/classes): no dist/ tree
        } catch (Exception e) {
            return null;
        }
    }

    private static SymbolLookup load(String[] where) {
        List<String> tried = new ArrayList<>();
        for (String prop : new String[] {"dios.library", "dios.lib"}) {
            String v = System.getProperty(prop);
            if (v != null && !v.isEmpty()) return explicit(Path.of(v), "-D" + prop, where);
        }
        String env = System.getenv("DIOS_LIB");
        if (env != null && !env.isEmpty()) return explicit(Path.of(env), "$DIOS_LIB", where);

        Path jar = ownJar();
        Path dist = jar == null ? null : distLibrary(jar);
        if (dist != null) {
            tried.add(dist + " (next to " + jar.getFileName() + " in its dist/ tree)");
            if (Files.isRegularFile(dist)) {
                where[0] = dist.toString();
                return SymbolLookup.libraryLookup(dist, Arena.global());
            }
        } else {
            tried.add("no dist/ tree: " + (jar == null ? "the classes are not in a jar" : jar + " is not in a share/dios/java directory"));
        }

        tried.add("System.loadLibrary(\"dlibc\") (java.library.path=" + System.getProperty("java.library.path") + ")");
        try {
            System.loadLibrary("dlibc");
            SymbolLookup l = SymbolLookup.loaderLookup();
            if (l.find("dios_nop").isPresent()) {
                where[0] = "System.loadLibrary(\"dlibc\") from java.library.path";
                return l;
            }
        } catch (UnsatisfiedLinkError | SecurityException notThere) {
            // next
        }
        for (String name : new String[] {"libdlibc.so.1", "libdlibc.so"}) {
            tried.add(name + " (dynamic linker search: LD_LIBRARY_PATH, ld.so.cache)");
            try {
                SymbolLookup l = SymbolLookup.libraryLookup(name, Arena.global());
                where[0] = name + " via the dynamic linker";
                return l;
            } catch (IllegalArgumentException notFound) {
                // next
            }
        }
        for (String dir : new String[] {"/usr/local/lib", "/usr/local/lib64", "/usr/lib", "/usr/lib64",
                "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib", "/lib64"}) {
            Path p = Path.of(dir, "libdlibc.so");
            tried.add(p.toString());
            if (Files.isRegularFile(p)) {
                where[0] = p.toString();
                return SymbolLookup.libraryLookup(p, Arena.global());
            }
        }
        throw new UnsatisfiedLinkError("dios-client: libdlibc.so not found. Looked in, in order:\n  - "
                + String.join("\n  - ", tried)
                + "\nWhat to do: build and stage it (`make dist` in the diosd checkout gives dist/lib/libdlibc.so),"
                + " then run with -Ddios.library=/path/to/dist/lib/libdlibc.so, or set DIOS_LIB to that path,"
                + " or use the jar staged at dist/share/dios/java/dios-client.jar (it finds dist/lib by itself),"
                + " or install the library (make install) into a standard library directory.");
    }

    private static SymbolLookup explicit(Path p, String how, String[] where) {
        if (!Files.isRegularFile(p)) {
            throw new UnsatisfiedLinkError("dios-client: " + how + " names " + p + ", which is not a file."
                    + " Point it at libdlibc.so (after `make dist`: dist/lib/libdlibc.so), or unset it to let the"
                    + " client search dist/ and the system library path.");
        }
        try {
            SymbolLookup l = SymbolLookup.libraryLookup(p, Arena.global());
            where[0] = p + " (" + how + ")";
            return l;
        } catch (IllegalArgumentException e) {
            throw new UnsatisfiedLinkError("dios-client: " + how + " names " + p + ", which could not be loaded"
                    + " as a shared library: " + e.getMessage());
        }
    }

    static MethodHandle fn(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIB.find(name).orElseThrow(
                () -> new UnsatisfiedLinkError("libdlibc (" + WHERE + ") has no " + name
                        + ": it is older than this jar; rebuild it (make dist)")), fd);
    }

    /** A C library function, or empty when this libc does not have it (e.g. strerrorname_np before glibc 2.32). */
    static Optional<MethodHandle> libc(String name, FunctionDescriptor fd) {
        return LINKER.defaultLookup().find(name).map(a -> LINKER.downcallHandle(a, fd));
    }

    // Calls that may wait a long time (a FIFO acquire, select, wait, run) must not be critical:
    // these are ordinary downcalls.  The short ones could use Linker.Option.critical, but the
    // shim may block briefly on its mutexes, so none is marked critical.
    static final MethodHandle NOP = fn("dios_nop", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
    static final MethodHandle CREATE = fn("dios_create",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
    static final MethodHandle LOOKUP = fn("dios_lookup", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle COPY = fn("dios_copy", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
    static final MethodHandle DELEGATED = fn("dios_delegated", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    static final MethodHandle DELETE = fn("dios_delete", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS));
    static final MethodHandle RUN = fn("dios_run", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle RUN_ENV = fn("dios_run_env",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle EXE = fn("dios_exe", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle WAIT = fn("dios_wait", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    static final MethodHandle SELECT = fn("dios_select", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
    static final MethodHandle ACQUIRE_READ = fn("dios_acquire_read",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
    static final MethodHandle COMMIT_READ = fn("dios_commit_read", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    static final MethodHandle RELEASE_READ = fn("dios_release_read", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    static final MethodHandle ACQUIRE_WRITE = fn("dios_acquire_write",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
    static final MethodHandle COMMIT_WRITE = fn("dios_commit_write",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
    static final MethodHandle RELEASE_WRITE = fn("dios_release_write", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    // the calls that wait, with a deadline (the last argument: uint64_t timeout_ns)
    static final MethodHandle WAIT_TIMEOUT = fn("dios_wait_timeout",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
    static final MethodHandle SELECT_TIMEOUT = fn("dios_select_timeout",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));
    static final MethodHandle ACQUIRE_READ_TIMEOUT = fn("dios_acquire_read_timeout",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));
    static final MethodHandle ACQUIRE_WRITE_TIMEOUT = fn("dios_acquire_write_timeout",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));

    /**
     * A timeout as the shim's uint64_t timeout_ns: a negative Duration is 0 (do not wait), one too
     * long for a long of nanoseconds is Long.MAX_VALUE (the shim and daemon treat 2^62 ns and more
     * as never).
     */
    static long timeoutNanos(java.time.Duration d) {
        if (d.isNegative()) return 0;
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
    static final MethodHandle NAME_FROM_STRING = fn("dios_name_from_string", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle NAMETOSTR = fn("dios_nametostr", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle STRTONAME = fn("dios_strtoname", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle STRERROR = fn("dios_strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    static final MethodHandle STATS = fn("dios_daemon_stats", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle REF_INFO = fn("dios_ref_info", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle SELF = fn("dios_self", FunctionDescriptor.of(ADDRESS));
    static final MethodHandle SELF_EXE = fn("dios_self_exe", FunctionDescriptor.of(ADDRESS));

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    static final MethodHandle LAST_ERROR_DETAIL = fn("dios_last_error_detail", FunctionDescriptor.of(ADDRESS));
    static final MethodHandle RECONNECT = fn("dios_reconnect", FunctionDescriptor.of(JAVA_INT));

    /** rc, or a DiosException naming call and the errno when rc is negative. */
    static int check(String call, int rc) {
        if (rc < 0) throw failure(call, -rc);
        return rc;
    }

    /**
     * The exception for call's failure with errno, read on the thread that made the call, right
     * after it: ENOTCONN and ENOMEM carry libdlibc's detail (the socket; the limit), and so
     * does every failure of dios_reconnect.
     */
    static DiosException failure(String call, int errno) {
        boolean detailed = errno == Errno.ENOTCONN || errno == Errno.ENOMEM || call.equals("dios_reconnect");
        return new DiosException(call, errno, detailed ? lastErrorDetail() : "");
    }

    /** libdlibc's dios_last_error_detail() of this carrier thread. */
    static String lastErrorDetail() {
        try {
            MemorySegment p = (MemorySegment) LAST_ERROR_DETAIL.invokeExact();
            return p.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}

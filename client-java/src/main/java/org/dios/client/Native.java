package org.dios.client;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Downcall handles into libdlibc. The library is found, in order, at
 * {@code -Ddios.lib=PATH}, {@code $DIOS_LIB}, {@code lib/libdlibc.so} of the
 * dist/ tree this jar sits in, then the system's library path.
 */
final class Native {
    private Native() {}

    static final SymbolLookup LIB = load();
    private static final Linker LINKER = Linker.nativeLinker();

    private static SymbolLookup load() {
        List<String> tried = new ArrayList<>();
        List<Path> candidates = new ArrayList<>();
        String prop = System.getProperty("dios.lib");
        if (prop != null) candidates.add(Path.of(prop));
        String env = System.getenv("DIOS_LIB");
        if (env != null) candidates.add(Path.of(env));
        try {
            Path jar = Path.of(Native.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            // dist/share/dios/java/dios-client.jar -> dist/lib/libdlibc.so
            Path dist = jar.getParent() == null ? null : jar.getParent().getParent();
            if (dist != null && dist.getParent() != null && dist.getParent().getParent() != null) {
                candidates.add(dist.getParent().getParent().resolve("lib").resolve("libdlibc.so"));
            }
        } catch (URISyntaxException | SecurityException | NullPointerException ignored) {
            // no code source location: fall through to the system path
        }
        for (Path p : candidates) {
            tried.add(p.toString());
            if (Files.isRegularFile(p)) return SymbolLookup.libraryLookup(p, Arena.global());
        }
        for (String name : new String[] {"libdlibc.so.1", "libdlibc.so"}) {
            tried.add(name + " (system library path)");
            try {
                return SymbolLookup.libraryLookup(name, Arena.global());
            } catch (IllegalArgumentException notFound) {
                // next
            }
        }
        throw new UnsatisfiedLinkError("libdlibc.so not found; tried " + String.join(", ", tried)
                + ". Build it (make dist) and pass -Ddios.lib=/path/to/dist/lib/libdlibc.so or set DIOS_LIB.");
    }

    static MethodHandle fn(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIB.find(name).orElseThrow(
                () -> new UnsatisfiedLinkError("libdlibc has no " + name + ": is it older than this jar?")), fd);
    }

    static final MethodHandle NOP = fn("dios_nop", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
    static final MethodHandle CREATE = fn("dios_create",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
    static final MethodHandle LOOKUP = fn("dios_lookup", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle DELETE = fn("dios_delete", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS));
    static final MethodHandle ACQUIRE_READ = fn("dios_acquire_read",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
    static final MethodHandle COMMIT_READ = fn("dios_commit_read", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    static final MethodHandle RELEASE_READ = fn("dios_release_read", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    static final MethodHandle ACQUIRE_WRITE = fn("dios_acquire_write",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
    static final MethodHandle COMMIT_WRITE = fn("dios_commit_write",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
    static final MethodHandle RELEASE_WRITE = fn("dios_release_write", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    static final MethodHandle NAME_FROM_STRING = fn("dios_name_from_string", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle NAMETOSTR = fn("dios_nametostr", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle STRTONAME = fn("dios_strtoname", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle STRERROR = fn("dios_strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    static final MethodHandle STATS = fn("dios_daemon_stats", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle REF_INFO = fn("dios_ref_info", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    static int check(String call, int rc) {
        if (rc < 0) {
            String text;
            try {
                text = ((MemorySegment) STRERROR.invokeExact(rc)).reinterpret(256).getString(0);
            } catch (Throwable t) {
                text = "error";
            }
            throw new DiosException(call, rc, text);
        }
        return rc;
    }
}

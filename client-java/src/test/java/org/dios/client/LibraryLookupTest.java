package org.dios.client;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Where the client finds libdlibc.so, and what it says when it cannot: each case in a fresh JVM. */
@ExtendWith(Daemon.class)
class LibraryLookupTest {
    record Run(int status, String out) {}

    static final Path CLASSES = Path.of(System.getProperty("user.dir"), "target", "classes");
    static final Path LIB = Path.of(System.getProperty("dios.lib"));

    /** java [flags] -cp cp org.dios.client.Main, with env changes (null value: removed). */
    static Run main(String cp, List<String> flags, Map<String, String> env) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(flags);
        cmd.addAll(List.of("-cp", cp, "org.dios.client.Main"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("DIOS_LIB");
        pb.environment().remove("LD_LIBRARY_PATH");
        env.forEach((k, v) -> {
            if (v == null) pb.environment().remove(k);
            else pb.environment().put(k, v);
        });
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM hangs");
        return new Run(p.exitValue(), out);
    }

    @Test
    void anExplicitPathIsUsed() throws Exception {
        Run r = main(CLASSES.toString(), List.of("-Ddios.library=" + LIB), Map.of());
        assertEquals(0, r.status(), r.out());
        assertTrue(r.out().contains("libdlibc from " + LIB + " (-Ddios.library)"), r.out());
        assertTrue(r.out().contains("daemon reachable"), r.out());
        Run e = main(CLASSES.toString(), List.of(), Map.of("DIOS_LIB", LIB.toString()));
        assertTrue(e.out().contains("libdlibc from " + LIB + " ($DIOS_LIB)"), e.out());
    }

    @Test
    void anExplicitPathThatIsNotThereIsAnErrorNotAFallBack() throws Exception {
        Run r = main(CLASSES.toString(), List.of("-Ddios.library=/nonexistent/libdlibc.so"), Map.of());
        assertEquals(2, r.status(), r.out());
        assertTrue(r.out().contains("-Ddios.library names /nonexistent/libdlibc.so, which is not a file"), r.out());
        Run e = main(CLASSES.toString(), List.of(), Map.of("DIOS_LIB", "/nonexistent/lib.so"));
        assertEquals(2, e.status(), e.out());
        assertTrue(e.out().contains("$DIOS_LIB names /nonexistent/lib.so"), e.out());
    }

    @Test
    void missingEverywhereSaysWhereItLookedAndWhatToDo() throws Exception {
        assumeFalse(Stream.of("/usr/local/lib", "/usr/lib", "/usr/lib/x86_64-linux-gnu", "/lib")
                .anyMatch(d -> Files.exists(Path.of(d, "libdlibc.so"))), "libdlibc is installed on this machine");
        Run r = main(CLASSES.toString(), List.of("-Djava.library.path=/nonexistent"), Map.of());
        assertEquals(2, r.status(), r.out());
        String m = r.out();
        assertTrue(m.contains("libdlibc.so not found"), m);
        assertTrue(m.contains("no dist/ tree: the classes are not in a jar"), m);
        assertTrue(m.contains("System.loadLibrary(\"dlibc\") (java.library.path=/nonexistent)"), m);
        assertTrue(m.contains("libdlibc.so.1 (dynamic linker search"), m);
        assertTrue(m.contains("/usr/local/lib/libdlibc.so"), m);
        assertTrue(m.contains("-Ddios.library=") && m.contains("DIOS_LIB") && m.contains("make dist"), m);
    }

    @Test
    void aJarStagedInDistFindsDistLib(@TempDir Path tmp) throws Exception {
        Path jar = tmp.resolve("dist/share/dios/java/dios-client.jar");
        Files.createDirectories(jar.getParent());
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)); Stream<Path> all = Files.walk(CLASSES)) {
            for (Path p : all.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(CLASSES.relativize(p).toString().replace('\\', '/')));
                Files.copy(p, out);
                out.closeEntry();
            }
        }
        Path lib = tmp.resolve("dist/lib/libdlibc.so");
        Files.createDirectories(lib.getParent());
        Files.copy(LIB, lib);
        Run r = main(jar.toString(), List.of(), Map.of());
        assertEquals(0, r.status(), r.out());
        assertTrue(r.out().contains("libdlibc from " + lib), r.out());
        // the same jar without dist/lib: not found, and the message names the dist/ path it tried
        Files.delete(lib);
        assumeFalse(Files.exists(Path.of("/usr/local/lib/libdlibc.so")) || Files.exists(Path.of("/usr/lib/libdlibc.so")));
        Run missing = main(jar.toString(), List.of("-Djava.library.path=/nonexistent"), Map.of());
        assertEquals(2, missing.status(), missing.out());
        assertTrue(missing.out().contains(lib + " (next to dios-client.jar in its dist/ tree)"), missing.out());
    }
}

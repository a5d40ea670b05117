package org.dios.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The C child of the task tests (src/test/c/child.c), compiled against the freshly built shim and branded. */
final class TestPrograms {
    private TestPrograms() {}

    private static Path child, unbranded;

    static Path dir() throws IOException {
        Path d = Path.of(System.getProperty("user.dir"), "target", "test-programs");
        Files.createDirectories(d);
        return d;
    }

    static synchronized Path child() throws IOException, InterruptedException {
        if (child == null) {
            Path root = Daemon.ROOT;
            Path lib = Path.of(System.getProperty("dios.lib")).getParent();
            Path out = dir().resolve("child");
            run(List.of("cc", "-O2", "-Wall", "-Werror", "-I" + root.resolve("libdlibc-shim/include"),
                    "-I" + root.resolve("native/include"), "-o", out.toString(),
                    Path.of(System.getProperty("user.dir"), "src/test/c/child.c").toString(),
                    "-L" + lib, "-Wl,-rpath," + lib, "-ldlibc"));
            Path plain = dir().resolve("child-unbranded");
            Files.copy(out, plain, StandardCopyOption.REPLACE_EXISTING);
            run(List.of(root.resolve("native/build/dios").toString(), "brand", "--limbo", out.toString()));
            unbranded = plain;
            child = out;
        }
        return child;
    }

    static synchronized Path unbranded() throws IOException, InterruptedException {
        child();
        return unbranded;
    }

    static void run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + cmd);
        }
        assertEquals(0, p.exitValue(), cmd + ":\n" + out);
    }
}

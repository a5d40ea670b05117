package org.dios.diosd;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How tests start the daemon as a child process: this JVM's java, the JVM
 * flags Surefire gave this JVM (Chronicle's --add-opens; see dios.jvm.flags in
 * the root pom) and this JVM's class path (the daemon's classes and runtime
 * jars), then the daemon's main class.
 */
public final class TestJvm {
    private TestJvm() {}

    /** A child daemon's output so far, for assertions and failure messages. */
    public static String logText(Path log) {
        try {
            return java.nio.file.Files.readString(log);
        } catch (java.io.IOException e) {
            return "(no log: " + e + ")";
        }
    }

    public static List<String> diosdCommand() {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String flags = System.getProperty("dios.jvm.flags", "--enable-native-access=ALL-UNNAMED");
        for (String f : flags.trim().split("\\s+")) if (!f.isEmpty()) cmd.add(f);
        cmd.addAll(List.of("-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        return cmd;
    }
}

package org.dios.diosd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Holds the daemon's sources to the architecture docs/ARCHITECTURE.md draws:
 * packages in layers, each using only the layers below it (no back
 * references); the dispatcher never asks an object's class; no switch on op
 * codes outside the op table.
 */
class ArchitectureTest {
    /** Bottom to top: a package may use its own and those before it. The root package (Main) may use all. */
    static final List<String> LAYERS = List.of(
            "org.dios.abi",
            "org.dios.diosd.log",
            "org.dios.diosd.sys",
            "org.dios.diosd.journal",
            "org.dios.diosd.objects",
            "org.dios.diosd.ops",
            "org.dios.diosd.tasks",
            "org.dios.diosd.trace",
            "org.dios.diosd.admin",
            "org.dios.diosd.conductor",
            "org.dios.diosd.metrics",
            "org.dios.diosd.rpc",
            "org.dios.diosd");

    private static final Pattern PACKAGE = Pattern.compile("^package ([a-z.]+);", Pattern.MULTILINE);
    private static final Pattern USE = Pattern.compile("\\b(org\\.dios\\.(?:abi|diosd(?:\\.[a-z]+)?))\\.[A-Z]");

    private static Map<Path, String> sources() throws IOException {
        Path root = Path.of(System.getProperty("dios.root", ".."), "diosd", "src", "main", "java");
        Map<Path, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".java")).toList()) out.put(root.relativize(p), Files.readString(p));
        }
        assertFalse(out.isEmpty(), "no sources under " + root);
        return out;
    }

    @Test
    void packagesUseOnlyTheLayersBelowThem() throws IOException {
        List<String> problems = new ArrayList<>();
        TreeSet<String> seen = new TreeSet<>();
        for (var e : sources().entrySet()) {
            String text = e.getValue();
            Matcher pm = PACKAGE.matcher(text);
            assertTrue(pm.find(), e.getKey() + " has no package line");
            String pkg = pm.group(1);
            seen.add(pkg);
            int rank = LAYERS.indexOf(pkg);
            if (rank < 0) {
                problems.add(e.getKey() + ": package " + pkg + " is in no layer (add it to LAYERS and docs/ARCHITECTURE.md)");
                continue;
            }
            Matcher m = USE.matcher(text);
            TreeSet<String> used = new TreeSet<>();
            while (m.find()) used.add(m.group(1));
            for (String u : used) {
                int r = LAYERS.indexOf(u);
                if (r > rank) problems.add(e.getKey() + " (" + pkg + ") uses " + u + ", a layer above it");
            }
        }
        for (String layer : LAYERS) if (!seen.contains(layer)) problems.add("layer " + layer + " has no sources");
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void theDispatcherNeverAsksAnObjectsClass() throws IOException {
        for (var e : sources().entrySet()) {
            if (!e.getKey().toString().startsWith("org/dios/diosd/ops/")) continue;
            Matcher m = Pattern.compile("instanceof\\s+\\w+").matcher(e.getValue());
            assertFalse(m.find(), e.getKey() + ": " + (m.hitEnd() ? "" : m.group()) + " (ask the driver instead)");
        }
    }

    @Test
    void onlyTheOpTableSwitchesOnOpCodes() throws IOException {
        Pattern caseOp = Pattern.compile("case\\s+(?:Abi\\.)?D_OP_[A-Z_]+");
        for (var e : sources().entrySet()) {
            if (e.getKey().toString().endsWith("ops/Op.java")) continue;
            Matcher m = caseOp.matcher(e.getValue());
            assertFalse(m.find(), e.getKey() + ": " + (m.hitEnd() ? "" : m.group()) + " (put the op's property in the op table)");
        }
    }
}

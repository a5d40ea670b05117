package org.dios.abi;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.dios.diosd.objects.Name;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Holds the Java mirror of the ABI to {@code native/include/dios/dios_abi.h}.
 *
 * <p>{@code native/build/abi_dump} is compiled against the header and prints
 * every sizeof, offsetof, numeric and string constant it defines. Every one of
 * them must have a Java twin with the same value, and every Java constant must
 * come from the header: a constant added on one side only fails here.
 */
class AbiLayoutTest {
    private static final Map<String, Class<?>> STRUCTS = Map.of(
            "dios_sqe", SqeDescriptor.class,
            "dios_cqe", CqeDescriptor.class,
            "dios_region_header", RegionHeaderDescriptor.class,
            "dios_msg_hello", HelloMessageDescriptor.class,
            "dios_msg_welcome", WelcomeMessageDescriptor.class,
            "dios_msg_segment", SegmentMessageDescriptor.class,
            "dios_msg_exe_fd", ExeFdMessageDescriptor.class,
            "dios_fifo_ctl", FifoCtlDescriptor.class,
            "dios_run_args", RunArgsDescriptor.class,
            "dios_task_exit", TaskExitDescriptor.class);

    private static final Map<String, String> dump = new LinkedHashMap<>();

    @BeforeAll
    static void runAbiDump() throws IOException, InterruptedException {
        String root = System.getProperty("dios.root", "..");
        Path tool = Path.of(root, "native", "build", "abi_dump");
        assertTrue(Files.isExecutable(tool), tool + " is missing: the native build (make native) makes it");
        Process p = new ProcessBuilder(tool.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "abi_dump failed:\n" + out);
        for (String line : out.split("\n")) {
            if (line.isBlank()) continue;
            int eq = line.indexOf('=');
            assertTrue(eq > 0, "unparsable abi_dump line: " + line);
            dump.put(line.substring(0, eq), line.substring(eq + 1));
        }
        assertFalse(dump.isEmpty());
    }

    private static long javaNumber(Class<?> c, String field) {
        try {
            Field f = c.getField(field);
            Object v = f.get(null);
            return ((Number) v).longValue();
        } catch (NoSuchFieldException e) {
            return Long.MIN_VALUE;
        } catch (IllegalAccessException e) {
            throw new AssertionError(e);
        }
    }

    private static List<Field> constants(Class<?> c) {
        List<Field> out = new ArrayList<>();
        for (Field f : c.getDeclaredFields()) {
            int m = f.getModifiers();
            if (Modifier.isPublic(m) && Modifier.isStatic(m) && Modifier.isFinal(m)) out.add(f);
        }
        return out;
    }

    @Test
    void everyStructSizeAndOffsetMatches() {
        List<String> problems = new ArrayList<>();
        for (var e : STRUCTS.entrySet()) {
            String struct = e.getKey();
            Class<?> java = e.getValue();
            String size = dump.get("sizeof." + struct);
            if (size == null) problems.add("abi_dump prints no sizeof." + struct);
            else if (Long.parseLong(size) != javaNumber(java, "SIZE"))
                problems.add(java.getSimpleName() + ".SIZE=" + javaNumber(java, "SIZE") + " but C says " + size);
            TreeSet<String> cFields = new TreeSet<>();
            for (var d : dump.entrySet()) {
                String prefix = "offsetof." + struct + ".";
                if (!d.getKey().startsWith(prefix)) continue;
                String field = d.getKey().substring(prefix.length());
                cFields.add(field);
                String javaName = field.toUpperCase() + "_OFFSET";
                long j = javaNumber(java, javaName);
                if (j == Long.MIN_VALUE) problems.add(java.getSimpleName() + " lacks " + javaName + " (C offset " + d.getValue() + ")");
                else if (j != Long.parseLong(d.getValue()))
                    problems.add(java.getSimpleName() + "." + javaName + "=" + j + " but C says " + d.getValue());
            }
            if (cFields.isEmpty()) problems.add("abi_dump prints no offsets of " + struct);
            for (Field f : constants(java)) {
                if (!f.getName().endsWith("_OFFSET")) continue;
                String cField = f.getName().substring(0, f.getName().length() - "_OFFSET".length()).toLowerCase();
                if (!cFields.contains(cField)) problems.add(java.getSimpleName() + "." + f.getName() + " has no field in C " + struct);
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void everyConstantMatchesBothWays() throws IllegalAccessException {
        List<String> problems = new ArrayList<>();
        TreeSet<String> cConsts = new TreeSet<>();
        for (var d : dump.entrySet()) {
            if (!d.getKey().startsWith("const.")) continue;
            String name = d.getKey().substring("const.".length());
            cConsts.add(name);
            long j = javaNumber(Abi.class, name);
            long c = Long.parseUnsignedLong(d.getValue());
            if (j == Long.MIN_VALUE) problems.add("Abi lacks " + name + " = " + d.getValue());
            else if (j != c) problems.add("Abi." + name + "=" + j + " but C says " + d.getValue());
        }
        for (var d : dump.entrySet()) {
            if (!d.getKey().startsWith("str.")) continue;
            String name = d.getKey().substring("str.".length());
            cConsts.add(name);
            try {
                Object v = Abi.class.getField(name).get(null);
                if (!d.getValue().equals(v)) problems.add("Abi." + name + "=\"" + v + "\" but C says \"" + d.getValue() + "\"");
            } catch (NoSuchFieldException e) {
                problems.add("Abi lacks string " + name + " = \"" + d.getValue() + "\"");
            }
        }
        for (Field f : constants(Abi.class)) {
            if (!cConsts.contains(f.getName())) problems.add("Abi." + f.getName() + " is not in dios_abi.h (or abi_dump omits it)");
        }
        assertTrue(cConsts.size() > 80, "abi_dump printed only " + cConsts.size() + " constants");
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void deterministicNamesMatchTheShim() {
        Map<String, String> inputs = Map.of("empty", "", "abc", "abc", "dios", "dios", "bin_true", "/bin/true");
        int checked = 0;
        for (var e : inputs.entrySet()) {
            String text = dump.get("name." + e.getKey());
            assertNotNull(text, "abi_dump prints no name." + e.getKey());
            assertEquals(Name.fromString(e.getValue()).text(), text, "SHA-256 name of \"" + e.getValue() + "\"");
            checked++;
        }
        assertEquals(4, checked);
    }
}

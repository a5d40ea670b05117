package org.dios.client;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.StructLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Holds the client's copies of dios_abi.h and dios.h to the headers, through what
 * {@code native/build/abi_dump} (compiled against them) prints:
 *
 * <ul>
 *   <li>every static final {@code D_*} / {@code DIOS_*} constant of any class of this module
 *       (public or not) has the value of the C constant of the same name;
 *   <li>every constant of the groups the client's API offers ({@link #CLIENT_GROUPS}) has a twin
 *       in {@link Dios}, unless {@link #NOT_MIRRORED} says why not;
 *   <li>every struct layout of {@link Layouts} has the size, field names, offsets and field sizes
 *       of its C struct, and every struct of dios.h is either laid out there or listed in
 *       {@link #STRUCTS_NOT_MIRRORED}.
 * </ul>
 *
 * Each test reports every mismatch it finds at once. The errno numbers are ErrnoTest's.
 */
class AbiMirrorTest {
    /** The D_ prefixes of constants a client passes or reads back: each needs a twin in Dios. */
    static final List<String> CLIENT_GROUPS = List.of(
            "D_OBJ_", "D_PERM_", "D_REF_STATE_",
            "D_NONBLOCK", "D_CREATE_", "D_LOOKUP_", "D_DELETE_", "D_COPY_", "D_RUN_", "D_ACQUIRE_", "D_DETAIL_");

    /** Constants of those groups that Dios deliberately lacks, and why. */
    static final Map<String, String> NOT_MIRRORED = Map.of(
            "D_OBJ_NONE", "no object has it: dios_ref_info never reports it",
            "D_OBJ_LAST", "enum sentinel: its value moves whenever a type is added",
            "D_DETAIL_LAST", "table sentinel: its value moves whenever a limit is added",
            "D_CREATE_NAMED", "the shim sets it itself when a name is asked for",
            "D_RUN_ENV", "the shim sets it itself: every dios_run carries the child's environment");

    /** dios.h structs the client has no call for, and why. */
    static final Map<String, String> STRUCTS_NOT_MIRRORED = Map.of(
            "dios_heap_stats", "dios_heap_stats: libdlibc's malloc, which a JVM does not use",
            "dios_call", "dios_batch: not offered by the Java client");

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
        assertTrue(dump.keySet().stream().anyMatch(k -> k.startsWith("api.sizeof.")),
                tool + " prints no api.* lines (dios.h): rebuild it (make -C native)");
    }

    /** The C value of a D_/DIOS_ name: a Long, a String, or null if the headers define no such constant. */
    private static Object cValue(String name) {
        for (String kind : new String[] {"const.", "api.const."}) {
            String v = dump.get(kind + name);
            if (v != null) return Long.parseUnsignedLong(v);
        }
        for (String kind : new String[] {"str.", "api.str."}) {
            String v = dump.get(kind + name);
            if (v != null) return v;
        }
        return null;
    }

    /** Every class this module compiles (target/classes), nested ones included, none initialised. */
    private static List<Class<?>> moduleClasses() throws IOException, URISyntaxException, ClassNotFoundException {
        Path classes = Path.of(Dios.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<Class<?>> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(classes)) {
            for (Path f : s.filter(f -> f.toString().endsWith(".class")).sorted().toList()) {
                String rel = classes.relativize(f).toString();
                if (rel.endsWith("module-info.class") || rel.endsWith("package-info.class")) continue;
                String name = rel.substring(0, rel.length() - ".class".length()).replace('/', '.');
                out.add(Class.forName(name, false, AbiMirrorTest.class.getClassLoader()));
            }
        }
        assertTrue(out.contains(Dios.class) && out.contains(Layouts.class), "found no client classes in " + classes);
        return out;
    }

    private static boolean isConstant(Field f) {
        int m = f.getModifiers();
        return Modifier.isStatic(m) && Modifier.isFinal(m) && f.getName().matches("(D|DIOS)_[A-Z0-9_]+")
                && (f.getType().isPrimitive() || f.getType() == String.class);
    }

    @Test
    void everyAbiConstantOfTheClientHasItsHeaderValue() throws Exception {
        List<String> problems = new ArrayList<>();
        int checked = 0;
        for (Class<?> c : moduleClasses()) {
            for (Field f : c.getDeclaredFields()) {
                if (!isConstant(f)) continue;
                f.setAccessible(true);
                Object java = f.get(null);
                Object cv = cValue(f.getName());
                String where = c.getSimpleName() + "." + f.getName();
                checked++;
                if (cv == null) {
                    problems.add(where + " = " + java + ": no such constant in dios_abi.h or dios.h");
                } else if (cv instanceof String s) {
                    if (!s.equals(java)) problems.add(where + " = \"" + java + "\" but C says \"" + s + "\"");
                } else if (!(java instanceof Number n)) {
                    problems.add(where + " = \"" + java + "\" but C says " + cv + " (a number)");
                } else if (n.longValue() != (Long) cv) {
                    problems.add(where + " = " + n + " but C says " + cv);
                }
            }
        }
        assertTrue(checked >= 25, "checked only " + checked + " constants: the class scan is broken");
        assertTrue(problems.isEmpty(), problems.size() + " client constant(s) differ from the headers:\n  "
                + String.join("\n  ", problems));
    }

    @Test
    void everyConstantOfTheClientGroupsHasATwinInDios() {
        List<String> problems = new ArrayList<>();
        Set<String> inDios = new TreeSet<>();
        for (Field f : Dios.class.getDeclaredFields()) {
            if (isConstant(f) && Modifier.isPublic(f.getModifiers())) inDios.add(f.getName());
        }
        Set<String> cGroup = new TreeSet<>();
        for (String k : dump.keySet()) {
            if (!k.startsWith("const.")) continue;
            String name = k.substring("const.".length());
            if (CLIENT_GROUPS.stream().anyMatch(name::startsWith)) cGroup.add(name);
        }
        for (String name : cGroup) {
            if (!inDios.contains(name) && !NOT_MIRRORED.containsKey(name)) {
                problems.add(name + " = " + dump.get("const." + name)
                        + ": in dios_abi.h but not in Dios (add it, or list it in NOT_MIRRORED with the reason)");
            }
        }
        for (String name : NOT_MIRRORED.keySet()) {
            if (!cGroup.contains(name)) problems.add(name + ": listed in NOT_MIRRORED but no longer in dios_abi.h's client groups");
            if (inDios.contains(name)) problems.add(name + ": both in Dios and in NOT_MIRRORED");
        }
        assertTrue(cGroup.size() >= 20, "found only " + cGroup + " in abi_dump");
        assertTrue(problems.isEmpty(), problems.size() + " public constant(s) of the header lack a Java twin:\n  "
                + String.join("\n  ", problems));
    }

    @Test
    void everyLayoutMatchesItsCStructBothWays() throws IllegalAccessException {
        List<String> problems = new ArrayList<>();
        Map<String, StructLayout> java = new TreeMap<>();
        for (Field f : Layouts.class.getDeclaredFields()) {
            if (!Modifier.isStatic(f.getModifiers()) || f.getType() != StructLayout.class) continue;
            f.setAccessible(true);
            StructLayout s = (StructLayout) f.get(null);
            String tag = s.name().orElse(null);
            if (tag == null) problems.add("Layouts." + f.getName() + " has no name (the C struct tag)");
            else java.put(tag, s);
        }
        Set<String> cStructs = new TreeSet<>();
        for (String k : dump.keySet()) {
            if (k.startsWith("api.sizeof.")) cStructs.add(k.substring("api.sizeof.".length()));
        }
        for (String st : cStructs) {
            if (!java.containsKey(st) && !STRUCTS_NOT_MIRRORED.containsKey(st)) {
                problems.add("struct " + st + " of dios.h: no layout in Layouts (add one, or list it in STRUCTS_NOT_MIRRORED)");
            }
        }
        for (String st : STRUCTS_NOT_MIRRORED.keySet()) {
            if (!cStructs.contains(st)) problems.add(st + ": listed in STRUCTS_NOT_MIRRORED but dios.h has no such struct");
            if (java.containsKey(st)) problems.add(st + ": both laid out in Layouts and in STRUCTS_NOT_MIRRORED");
        }
        for (var e : java.entrySet()) {
            String st = e.getKey();
            StructLayout s = e.getValue();
            String size = dump.get("api.sizeof." + st);
            if (size == null) {
                problems.add("Layouts " + st + ": dios.h has no struct " + st);
                continue;
            }
            if (Long.parseLong(size) != s.byteSize()) problems.add(st + ": Java size " + s.byteSize() + ", C sizeof " + size);
            Set<String> javaFields = new TreeSet<>();
            for (MemoryLayout m : s.memberLayouts()) {
                if (m instanceof PaddingLayout) continue;
                String f = m.name().orElse(null);
                if (f == null) {
                    problems.add(st + ": a member without a name: " + m);
                    continue;
                }
                javaFields.add(f);
                String off = dump.get("api.offsetof." + st + "." + f);
                if (off == null) {
                    problems.add(st + "." + f + ": in Layouts, not in C");
                    continue;
                }
                long jOff = s.byteOffset(PathElement.groupElement(f));
                if (Long.parseLong(off) != jOff) problems.add(st + "." + f + ": Java offset " + jOff + ", C offsetof " + off);
                String fsize = dump.get("api.fieldsize." + st + "." + f);
                if (Long.parseLong(fsize) != m.byteSize())
                    problems.add(st + "." + f + ": Java size " + m.byteSize() + ", C sizeof " + fsize);
            }
            String prefix = "api.offsetof." + st + ".";
            for (String k : dump.keySet()) {
                if (k.startsWith(prefix) && !javaFields.contains(k.substring(prefix.length())))
                    problems.add(st + "." + k.substring(prefix.length()) + ": in C (offset " + dump.get(k) + "), not in Layouts");
            }
        }
        assertTrue(java.size() >= 5, "found only " + java.keySet() + " in Layouts");
        assertTrue(problems.isEmpty(), problems.size() + " layout mismatch(es) with dios.h:\n  " + String.join("\n  ", problems));
    }
}

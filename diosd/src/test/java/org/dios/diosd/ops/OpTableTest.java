package org.dios.diosd.ops;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import org.dios.abi.Abi;
import org.dios.diosd.objects.ObjectType;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Holds the op table and the type table to the ABI: every D_OP_* and D_OBJ_*
 * code of dios_abi.h (through Abi, which AbiLayoutTest holds to the header)
 * has exactly one row, named after the constant, and the op table's batch
 * column says what the shim's dios_batch accepts.
 */
class OpTableTest {
    private static List<Field> abiInts(String prefix) throws IllegalAccessException {
        List<Field> out = new ArrayList<>();
        for (Field f : Abi.class.getFields()) {
            if (!Modifier.isStatic(f.getModifiers()) || !f.getName().startsWith(prefix) || f.getName().endsWith("_LAST")) continue;
            out.add(f);
        }
        return out;
    }

    @Test
    void everyOpOfTheAbiHasOneRowNamedAfterIt() throws IllegalAccessException {
        List<String> problems = new ArrayList<>();
        int count = 0;
        for (Field f : abiInts("D_OP_")) {
            int code = f.getInt(null);
            String want = f.getName().substring("D_OP_".length()).toLowerCase(Locale.ROOT);
            Op op = Op.of(code);
            count++;
            if (op == null) problems.add(f.getName() + " has no row");
            else if (op.code() != code || !op.name().equals(want)) problems.add(f.getName() + " row says " + op);
            else if (op.handler() == null) problems.add(f.getName() + " has no handler");
        }
        assertEquals(Abi.D_OP_LAST, count, "ops 0 .. D_OP_LAST-1");
        for (int code = Abi.D_OP_LAST; code < 256; code++) assertNull(Op.of(code), "no row for unknown op " + code);
        assertEquals("op200", Op.name(200));
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void theFlagsEachOpAcceptsAreTheHeadersMasks() {
        assertEquals(Abi.D_FLAGS_CREATE_MASK, Op.of(Abi.D_OP_CREATE).flags());
        assertEquals(Abi.D_FLAGS_LOOKUP_MASK, Op.of(Abi.D_OP_LOOKUP).flags());
        assertEquals(Abi.D_FLAGS_DELETE_MASK, Op.of(Abi.D_OP_DELETE).flags());
        assertEquals(Abi.D_FLAGS_COPY_MASK, Op.of(Abi.D_OP_COPY).flags());
        assertEquals(Abi.D_FLAGS_RUN_MASK, Op.of(Abi.D_OP_RUN).flags());
        for (int op : new int[] {Abi.D_OP_COMMIT_READ, Abi.D_OP_RELEASE_READ, Abi.D_OP_COMMIT_WRITE, Abi.D_OP_RELEASE_WRITE}) {
            assertEquals(Abi.D_FLAGS_IO_MASK, Op.of(op).flags(), Op.name(op));
        }
        // The calls that wait take D_TIMEOUT; no other op does. acquire_write also takes D_ACQUIRE_EXCLUSIVE.
        for (int op : new int[] {Abi.D_OP_SELECT, Abi.D_OP_ACQUIRE_READ}) {
            assertEquals(Abi.D_FLAGS_WAIT_MASK, Op.of(op).flags(), Op.name(op));
        }
        assertEquals(Abi.D_FLAGS_ACQUIRE_WRITE_MASK, Op.of(Abi.D_OP_ACQUIRE_WRITE).flags());
        assertEquals(Abi.D_FLAGS_WAIT_MASK | Abi.D_ACQUIRE_EXCLUSIVE, Abi.D_FLAGS_ACQUIRE_WRITE_MASK);
        for (int code = 0; code < Abi.D_OP_LAST; code++) {
            boolean waits = code == Abi.D_OP_SELECT || code == Abi.D_OP_ACQUIRE_READ || code == Abi.D_OP_ACQUIRE_WRITE;
            assertEquals(waits, (Op.of(code).flags() & Abi.D_TIMEOUT) != 0, Op.name(code));
        }
        // Only NOTIFY may ask for no completion (D_SQE_NO_CQE).
        for (int code = 0; code < Abi.D_OP_LAST; code++) assertEquals(code == Abi.D_OP_NOTIFY, Op.of(code).noCqe(), Op.name(code));
    }

    /** The shim's batchable() switch lists exactly the ops whose row says batchable. */
    @Test
    void theBatchColumnIsWhatTheShimBatches() throws IOException {
        Path src = Path.of(System.getProperty("dios.root", ".."), "libdlibc-shim", "src");
        String body = null;
        try (Stream<Path> files = Files.list(src)) {
            for (Path p : files.filter(p -> p.toString().endsWith(".c")).toList()) {
                String text = Files.readString(p);
                Matcher m = Pattern.compile("static int batchable\\(uint32_t op\\)\\s*\\{(.*?)\\n\\}", Pattern.DOTALL).matcher(text);
                if (m.find()) body = m.group(1);
            }
        }
        assertNotNull(body, "no batchable(uint32_t op) function in " + src);
        TreeSet<String> shim = new TreeSet<>();
        Matcher c = Pattern.compile("case (D_OP_[A-Z_]+):").matcher(body);
        while (c.find()) shim.add(c.group(1));
        TreeSet<String> table = new TreeSet<>();
        for (int code = 0; code < Abi.D_OP_LAST; code++) {
            if (Op.of(code).batchable()) table.add("D_OP_" + Op.name(code).toUpperCase(Locale.ROOT));
        }
        assertEquals(shim, table);
    }

    @Test
    void everyObjectTypeOfTheAbiHasOneRowNamedAfterIt() throws IllegalAccessException {
        List<String> problems = new ArrayList<>();
        for (Field f : abiInts("D_OBJ_")) {
            int code = f.getInt(null);
            ObjectType t = ObjectType.of(code);
            if (code == Abi.D_OBJ_NONE) {
                if (t != null) problems.add("D_OBJ_NONE has a row");
                continue;
            }
            String want = f.getName().substring("D_OBJ_".length()).toLowerCase(Locale.ROOT);
            if (t == null) problems.add(f.getName() + " has no row");
            else if (t.code() != code || !t.name().equals(want)) problems.add(f.getName() + " row says " + t);
        }
        assertEquals(Abi.D_OBJ_LAST - 1, ObjectType.all().size());
        assertEquals("type99", ObjectType.name(99));
        assertNull(ObjectType.of(-1));
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }
}

package org.dios.diosd.objects;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.dios.abi.Abi;


/**
 * The type table: one row per D_OBJ_* code, with the type's name (as listings,
 * traces and metric labels show it), the factory dios_create calls, and
 * whether the dispatcher's I/O byte counters cover it. Adding a type is a row
 * here and a driver class (see docs/ARCHITECTURE.md, "Adding an object type").
 */
public record ObjectType(int code, String name, Factory factory, boolean fromPath, boolean ioCounted) {
    /** Makes an object for dios_create, or refuses with {@link CreateRequest#fail}. */
    @FunctionalInterface
    public interface Factory {
        DObject create(CreateRequest req);
    }

    private static final ObjectType[] TABLE = new ObjectType[Abi.D_OBJ_LAST];
    private static final List<ObjectType> ALL;

    static {
        row(Abi.D_OBJ_PRIVMEM, "privmem", MemoryObject::create, false, true);
        row(Abi.D_OBJ_SHMEM, "shmem", MemoryObject::create, false, true);
        row(Abi.D_OBJ_FIFO, "fifo", FifoObject::create, false, false);
        row(Abi.D_OBJ_BLOB, "blob", BlobObject::create, false, true);
        // There is one console, under its well-known name: look it up.
        row(Abi.D_OBJ_CONSOLE, "console", req -> req.fail(-Abi.DIOS_EEXIST), false, false);
        row(Abi.D_OBJ_TASK, "task", null, false, false); // made by dios_run
        row(Abi.D_OBJ_GROUP, "group", GroupObject::create, false, false);
        row(Abi.D_OBJ_EXE, "exe", ExeObject::create, true, false);
        List<ObjectType> all = new ArrayList<>();
        for (ObjectType t : TABLE) if (t != null) all.add(t);
        ALL = Collections.unmodifiableList(all);
    }

    private static void row(int code, String name, Factory factory, boolean fromPath, boolean ioCounted) {
        TABLE[code] = new ObjectType(code, name, factory, fromPath, ioCounted);
    }

    /** The row of a D_OBJ_* code, or null (D_OBJ_NONE, or a code the ABI does not define). */
    public static ObjectType of(int code) {
        return code >= 0 && code < TABLE.length ? TABLE[code] : null;
    }

    /** Every type, in D_OBJ_* order. */
    public static List<ObjectType> all() {
        return ALL;
    }

    /** Lower-case name of a D_OBJ_* code, as listings and metric labels show it. */
    public static String name(int code) {
        ObjectType t = of(code);
        return t != null ? t.name : "type" + code;
    }
}

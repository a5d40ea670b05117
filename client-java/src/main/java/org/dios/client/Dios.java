package org.dios.client;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * DIOS from Java: the calls of dios.h through FFM into libdlibc, so Java,
 * C and Rust share one implementation of the protocol. Thread-safe: the
 * shim serialises calls.
 */
public final class Dios {
    private Dios() {}

    public static final int D_OBJ_PRIVMEM = 1;
    public static final int D_OBJ_SHMEM = 2;
    /** Durable byte object: size 0 = empty; a write may reach past the end and its commit grows it. */
    public static final int D_OBJ_BLOB = 4;
    public static final long D_CREATE_NAME_GIVEN = 1L << 8;
    public static final long D_LOOKUP_READONLY = 1L << 12;
    public static final long D_DELETE_ZOMBIFY = 1L << 16;
    public static final int D_PERM_READ = 1, D_PERM_WRITE = 2, D_PERM_DELETE = 4;

    /** The null call. */
    public static void nop() {
        try {
            Native.check("dios_nop", (int) Native.NOP.invokeExact(0L));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Creates an anonymous object of size bytes: D_OBJ_SHMEM, D_OBJ_PRIVMEM or D_OBJ_BLOB (a scratch file). */
    public static Ref createAnonymous(int type, long size) {
        return create(type, size, null, false);
    }

    /** Creates an object under a fresh random name ({@link Ref#name()}); a named blob is durable. */
    public static Ref createNamed(int type, long size) {
        return create(type, size, null, true);
    }

    /** Creates an object bound to the given name; a named blob is durable (it survives daemon restarts). */
    public static Ref createNamed(int type, long size, Name name) {
        return create(type, size, name, true);
    }

    private static Ref create(int type, long size, Name given, boolean named) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sz = a.allocateFrom(JAVA_LONG, size);
            MemorySegment name = named ? (given != null ? given.copyTo(a) : a.allocate(32)) : MemorySegment.NULL;
            MemorySegment out = a.allocate(ADDRESS);
            long flags = given != null ? D_CREATE_NAME_GIVEN : 0;
            Native.check("dios_create", (int) Native.CREATE.invokeExact(flags, type, sz, name, out, 0L));
            Name n = named ? new Name(name.toArray(JAVA_BYTE)) : null;
            return new Ref(out.get(ADDRESS, 0), n);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Resolves a name; readOnly gives a reference that may only read. */
    public static Ref lookup(Name name, boolean readOnly) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment refs = a.allocate(ADDRESS);
            MemorySegment count = a.allocateFrom(JAVA_LONG, 1L);
            Native.check("dios_lookup", (int) Native.LOOKUP.invokeExact(readOnly ? D_LOOKUP_READONLY : 0L,
                    name.copyTo(a), refs, count));
            return new Ref(refs.get(ADDRESS, 0), name);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Daemon-wide counts: tasks, objects, names, refs, buffers, segments. */
    public static long[] daemonStats() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(48, 8);
            Native.check("dios_daemon_stats", (int) Native.STATS.invokeExact(out));
            return out.toArray(JAVA_LONG);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}

package org.dios.client;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A reference this process holds. {@link #close()} deletes it (dios_delete);
 * the object is freed when its last reference anywhere goes.
 */
public final class Ref implements AutoCloseable {
    private MemorySegment handle;
    private final Name name;

    Ref(MemorySegment handle, Name name) {
        this.handle = handle;
        this.name = name;
    }

    /** The name this reference was created or looked up with, or null for an anonymous object. */
    public Name name() {
        return name;
    }

    MemorySegment handle() {
        if (handle == null) throw new IllegalStateException("reference already closed");
        return handle;
    }

    /** Object type (D_OBJ_*), from dios_ref_info. */
    public int type() {
        return (int) info(0, JAVA_INT);
    }

    /** D_PERM_* bits, from dios_ref_info. */
    public int perms() {
        return (int) info(4, JAVA_INT);
    }

    /** Object size in bytes, from dios_ref_info. */
    public long size() {
        return info(24, JAVA_LONG);
    }

    /** One field of dios_ref_info_t (type at 0, perms at 4, size at 24; 40 bytes in all). */
    private long info(long offset, java.lang.foreign.ValueLayout layout) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(40, 8);
            Native.check("dios_ref_info", (int) Native.REF_INFO.invokeExact(handle(), out));
            return layout == JAVA_INT ? out.get(JAVA_INT, offset) : out.get(JAVA_LONG, offset);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Maps the object for reading (zero-copy). len 0 = whole object. */
    public Buffer acquireRead(long len) {
        return acquire(len, false);
    }

    /** Maps the object for writing (zero-copy). len 0 = whole object. */
    public Buffer acquireWrite(long len) {
        return acquire(len, true);
    }

    private Buffer acquire(long len, boolean write) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            int rc = write ? (int) Native.ACQUIRE_WRITE.invokeExact(0L, handle(), len, out)
                    : (int) Native.ACQUIRE_READ.invokeExact(0L, handle(), len, out);
            Native.check(write ? "dios_acquire_write" : "dios_acquire_read", rc);
            MemorySegment iov = out.get(ADDRESS, 0).reinterpret(16);
            return new Buffer(this, iov, write);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    @Override
    public void close() {
        delete(0L);
    }

    /**
     * Kills the object for every holder (D_DELETE_ZOMBIFY; needs D_PERM_DELETE) and
     * releases this reference. The way a named blob, which outlives all its
     * references, is deleted.
     */
    public void zombify() {
        delete(Dios.D_DELETE_ZOMBIFY);
    }

    private void delete(long flags) {
        if (handle == null) return;
        int rc;
        try {
            rc = (int) Native.DELETE.invokeExact(flags, handle);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        if (rc != -13) handle = null; // -EACCES (zombify without D_PERM_DELETE) releases nothing
        Native.check("dios_delete", rc);
    }
}

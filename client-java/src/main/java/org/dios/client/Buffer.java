package org.dios.client;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * An acquired I/O buffer: {@link #segment()} is the object's own mapped
 * memory (no copy). The segment belongs to an arena that {@link #close()}
 * closes, so after release any access throws IllegalStateException instead
 * of touching memory that may be unmapped.
 */
public final class Buffer implements AutoCloseable {
    private final Ref ref;
    private final MemorySegment iov;
    private final boolean write;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment data;
    private boolean released;

    Buffer(Ref ref, MemorySegment iov, boolean write) {
        this.ref = ref;
        this.iov = iov;
        this.write = write;
        long addr = iov.get(JAVA_LONG, 0);
        long len = iov.get(JAVA_LONG, 8);
        this.data = MemorySegment.ofAddress(addr).reinterpret(len, arena, null);
    }

    /** The mapped bytes. Read-only buffers of read-only references are mapped PROT_READ. */
    public MemorySegment segment() {
        return data;
    }

    /** commit_write of the first len bytes. */
    public void commit(long len) {
        if (!write) throw new IllegalStateException("commit(len) is for write buffers; use validate()");
        try {
            Native.check("dios_commit_write", (int) Native.COMMIT_WRITE.invokeExact(0L, ref.handle(), len, iov));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** commit_read: false if a write was committed since the acquire (-ESTALE), true otherwise. */
    public boolean validate() {
        if (write) throw new IllegalStateException("validate() is for read buffers");
        try {
            int rc = (int) Native.COMMIT_READ.invokeExact(0L, ref.handle(), iov);
            if (rc == -116) return false;
            Native.check("dios_commit_read", rc);
            return true;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Releases the buffer; the segment becomes unusable. */
    @Override
    public void close() {
        if (released) return;
        released = true;
        arena.close();
        try {
            int rc = write ? (int) Native.RELEASE_WRITE.invokeExact(0L, ref.handle(), iov)
                    : (int) Native.RELEASE_READ.invokeExact(0L, ref.handle(), iov);
            Native.check(write ? "dios_release_write" : "dios_release_read", rc);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}

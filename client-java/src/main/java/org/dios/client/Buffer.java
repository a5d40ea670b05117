package org.dios.client;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * An acquired I/O buffer: {@link #segment()} is the object's own mapped memory (no copy). The
 * segment belongs to a shared arena that {@link #close()} closes, so after release any access,
 * from any thread, throws IllegalStateException instead of touching memory that may be unmapped.
 * Closing the reference releases its buffers the same way. Thread-safe.
 *
 * <p>The segment of a write buffer is shared with every task that maps the object: atomic
 * operations on it ({@code ValueLayout.JAVA_LONG.varHandle().compareAndSet(segment, 0L, offset,
 * expected, next)} on an aligned offset) are seen by them at once, as with any shared mapping.
 *
 * <p>Releasing costs a JVM handshake with every thread (closing a shared arena: tens of µs on a
 * busy machine); for buffers acquired and released in a loop, {@link Ref#withRead}/{@link
 * Ref#withWrite} avoid it.
 */
public final class Buffer implements AutoCloseable {
    private final Ref ref;
    private final MemorySegment iov;
    private final boolean write;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment data;
    private boolean released;        // guarded by this

    Buffer(Ref ref, MemorySegment iov, boolean write) {
        this.ref = ref;
        this.iov = iov;
        this.write = write;
        this.data = MemorySegment.ofAddress(iov.get(JAVA_LONG, Layouts.IOVEC_BUF))
                .reinterpret(iov.get(JAVA_LONG, Layouts.IOVEC_LEN), arena, null);
    }

    /** The mapped bytes. Buffers of read-only references are mapped PROT_READ: writing them faults. */
    public MemorySegment segment() {
        return data;
    }

    /** True once released (by {@link #close()} or by closing the reference). */
    public synchronized boolean isReleased() {
        return released;
    }

    /** commit_write of the first len bytes: publishes them (a FIFO: once per buffer). */
    public synchronized void commit(long len) {
        if (!write) throw new IllegalStateException("commit(len) is for write buffers; use validate()");
        if (released) throw new DiosException("dios_commit_write", Errno.EFAULT);
        boolean counted = ref.enter("dios_commit_write");
        try {
            Native.check("dios_commit_write", ref.commitWriteIov(len, iov));
        } finally {
            if (counted) ref.exit();
        }
    }

    /**
     * commit_read: false (-ESTALE) if a write was committed, or was in progress (a write buffer
     * out, committed or not, until its release), since the acquire or the last validate; true
     * otherwise: what was read meanwhile is one consistent state. Either way the buffer is
     * re-armed for the next read.
     */
    public synchronized boolean validate() {
        if (write) throw new IllegalStateException("validate() is for read buffers");
        if (released) throw new DiosException("dios_commit_read", Errno.EFAULT);
        boolean counted = ref.enter("dios_commit_read");
        try {
            int rc = (int) Native.COMMIT_READ.invokeExact(0L, ref.handle(), iov);
            if (rc == -Errno.ESTALE) return false;
            Native.check("dios_commit_read", rc);
            return true;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            if (counted) ref.exit();
        }
    }

    /** Releases the buffer; the segment becomes unusable. A second close does nothing. */
    @Override
    public synchronized void close() {
        if (released) return;
        released = true;
        ref.forget(this);
        arena.close();
        boolean counted;
        try {
            counted = ref.enter(write ? "dios_release_write" : "dios_release_read");
        } catch (DiosException closing) {
            return;     // the reference is being closed: its delete releases this buffer
        }
        if (!counted) return;   // deleted: released with it
        try {
            Native.check(write ? "dios_release_write" : "dios_release_read", ref.releaseIov(write, iov));
        } finally {
            ref.exit();
        }
    }

    /** The reference is closing (or the acquire lost a race with its close): the segment dies, no call. */
    synchronized void invalidate() {
        if (released) return;
        released = true;
        arena.close();
    }
}

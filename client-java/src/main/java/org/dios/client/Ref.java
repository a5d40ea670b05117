package org.dios.client;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.ToLongFunction;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A reference this process holds. {@link #close()} deletes it (dios_delete); the object is
 * freed when its last reference anywhere goes. Thread-safe.
 *
 * <p><b>Closing.</b> After {@code close()} every call through the reference fails with
 * {@link Errno#EBADF}, as in C, and every {@link Buffer} acquired through it is released: its
 * segment throws {@code IllegalStateException} from then on. A thread that is inside a call on
 * the reference (a FIFO acquire waiting for data, a {@link #withRead} callback, a stream's copy)
 * keeps the reference alive until it returns, and the last one out performs the dios_delete: a
 * close never unmaps memory that another thread is reading, and never waits for one.
 *
 * <p><b>Zero-copy access.</b> {@link #acquireRead}/{@link #acquireWrite} give a {@link Buffer}
 * whose segment is the object's mapped memory, usable from any thread until released.
 * {@link #withRead}/{@link #withWrite} run a callback over the mapped memory and release at once:
 * cheaper (the segment is confined to the calling thread), the way to go in loops.
 */
public final class Ref implements AutoCloseable {
    private static final long CLOSED = 1L << 62;   // no new users; delete when the last one leaves
    private static final long ZOMBIFY = 1L << 61;  // the delete is a zombify
    private static final long DELETED = 1L << 60;  // dios_delete has returned
    private static final long USERS = 0xffff_ffffL;

    private final MemorySegment handle;
    private final Name name;
    /** CLOSED | ZOMBIFY | DELETED | count of threads inside a call on this reference. */
    private final AtomicLong state = new AtomicLong();
    /** Public buffers not yet released: close releases them. */
    private final Set<Buffer> buffers = ConcurrentHashMap.newKeySet();

    Ref(MemorySegment handle, Name name) {
        this.handle = handle;
        this.name = name;
    }

    /** The name this reference was created or looked up with, or null for an anonymous object. */
    public Name name() {
        return name;
    }

    MemorySegment handle() {
        return handle;
    }

    /** True once {@link #close()} or {@link #zombify()} was called. */
    public boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    // ---- users: threads inside a call (see the class comment) ---------------------------------

    /** Threads inside a call on this reference now (for tests). */
    int users() {
        return (int) (state.get() & USERS);
    }

    /**
     * Counts the caller in, or returns false when the reference is closed and deleted (the caller
     * then makes its call anyway: the shim answers EBADF for a deleted reference, like C's). Throws
     * EBADF itself while a close waits for the last user, so nothing new starts then.
     */
    boolean enter(String call) {
        for (;;) {
            long s = state.get();
            if ((s & DELETED) != 0) return false;
            if ((s & CLOSED) != 0) throw new DiosException(call, Errno.EBADF);
            if (state.compareAndSet(s, s + 1)) return true;
        }
    }

    /** The caller leaves; the last one out of a closed reference deletes it. */
    void exit() {
        long s = state.decrementAndGet();
        if ((s & USERS) == 0 && (s & CLOSED) != 0) {
            int rc = delete((s & ZOMBIFY) != 0);
            if (rc < 0 && rc != -Errno.EBADF) {
                // a deferred delete has nobody to tell; the reference is gone either way
                System.getLogger("org.dios.client").log(System.Logger.Level.DEBUG,
                        "deferred dios_delete failed: " + Errno.name(-rc));
            }
        }
    }

    private int delete(boolean zombify) {
        int rc;
        try {
            rc = (int) Native.DELETE.invokeExact(zombify ? Dios.D_DELETE_ZOMBIFY : 0L, handle);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        state.getAndUpdate(x -> x | DELETED);
        return rc;
    }

    /** Releases this reference (dios_delete): see the class comment. A second close does nothing. */
    @Override
    public void close() {
        close(0);
    }

    /**
     * Kills the object for every holder (D_DELETE_ZOMBIFY; needs D_PERM_DELETE) and releases this
     * reference. The way a named blob, which outlives all its references, is deleted. Without
     * D_PERM_DELETE it throws EACCES and the reference stays open.
     */
    public void zombify() {
        if ((perms() & Dios.D_PERM_DELETE) == 0) throw new DiosException("dios_delete", Errno.EACCES);
        close(ZOMBIFY);
    }

    private void close(long flags) {
        long s;
        do {
            s = state.get();
            if ((s & CLOSED) != 0) return;
        } while (!state.compareAndSet(s, (s | CLOSED | flags) + 1));   // the closer is a user too
        try {
            for (Buffer b : buffers) b.invalidate();
            buffers.clear();
        } finally {
            long left = state.decrementAndGet();
            if ((left & USERS) == 0) {
                // nobody else inside: delete now, and report its failure
                int rc = delete((left & ZOMBIFY) != 0);
                Native.check("dios_delete", rc);
            }
        }
    }

    // ---- attributes -----------------------------------------------------------------------------

    /** dios_ref_info: {type, perms, state, size}. */
    private long[] info() {
        boolean counted = enter("dios_ref_info");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(Layouts.REF_INFO);
            Native.check("dios_ref_info", (int) Native.REF_INFO.invokeExact(handle, out));
            return new long[] {out.get(JAVA_INT, Layouts.REF_INFO_TYPE), out.get(JAVA_INT, Layouts.REF_INFO_PERMS),
                    out.get(JAVA_INT, Layouts.REF_INFO_STATE), out.get(JAVA_LONG, Layouts.REF_INFO_SIZE)};
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            if (counted) exit();
        }
    }

    /** Object type (D_OBJ_*), from dios_ref_info. */
    public int type() {
        return (int) info()[0];
    }

    /** D_PERM_* bits, from dios_ref_info. */
    public int perms() {
        return (int) info()[1];
    }

    /** D_REF_STATE_* bits (named, zombie, readable, writable), from dios_ref_info. */
    public int state() {
        return (int) info()[2];
    }

    /** Size in bytes (memory objects, a blob's committed size), a FIFO's capacity, a task's pid. */
    public long size() {
        return info()[3];
    }

    // ---- buffers --------------------------------------------------------------------------------

    /** Maps the object (or takes a FIFO's committed bytes) for reading, zero-copy. len 0 = all. */
    public Buffer acquireRead(long len) {
        return acquire(len, false, 0);
    }

    /** Maps the object (or a FIFO's free space) for writing, zero-copy. len 0 = all. */
    public Buffer acquireWrite(long len) {
        return acquire(len, true, 0);
    }

    /** As {@link #acquireRead(long)}; with {@link Dios#D_NONBLOCK} EAGAIN instead of waiting. */
    public Buffer acquireRead(long len, long flags) {
        return acquire(len, false, flags);
    }

    /**
     * As {@link #acquireWrite(long)}; with {@link Dios#D_NONBLOCK} EAGAIN instead of waiting, with
     * {@link Dios#D_ACQUIRE_EXCLUSIVE} an exclusive buffer (memory objects and blobs).
     */
    public Buffer acquireWrite(long len, long flags) {
        return acquire(len, true, flags);
    }

    /**
     * As {@link #acquireRead(long)}, waiting at most timeout (dios_acquire_read_timeout): null if
     * there is still nothing to read then (a FIFO with no data, also before its writer has bound its
     * end; a console with no input; a task that runs). No buffer is out then, and what arrives later
     * goes to the next acquire. A negative or zero timeout does not wait.
     */
    public Buffer acquireRead(long len, Duration timeout) {
        return acquireTimed(len, false, timeout);
    }

    /** As {@link #acquireWrite(long)}, waiting at most timeout for a FIFO's space: null if there is none then. */
    public Buffer acquireWrite(long len, Duration timeout) {
        return acquireTimed(len, true, timeout);
    }

    private Buffer acquireTimed(long len, boolean write, Duration timeout) {
        try {
            return acquire(len, write, 0, Native.timeoutNanos(timeout), true);
        } catch (DiosException e) {
            if (e.errno() == Errno.ETIMEDOUT) return null;
            throw e;
        }
    }

    /**
     * An exclusive write buffer of a memory object or blob (the seed's MUTEX write consistency):
     * waits until no other write buffer of the object is out, then keeps every other writer
     * waiting until it is closed. A read-modify-write through it is exact when every writer of the
     * object uses it. Other objects: DiosException EINVAL.
     */
    public Buffer acquireWriteExclusive(long len) {
        return acquire(len, true, Dios.D_ACQUIRE_EXCLUSIVE);
    }

    private Buffer acquire(long len, boolean write, long flags) {
        return acquire(len, write, flags, 0, false);
    }

    private Buffer acquire(long len, boolean write, long flags, long timeoutNs, boolean timed) {
        String call = (write ? "dios_acquire_write" : "dios_acquire_read") + (timed ? "_timeout" : "");
        boolean counted = enter(call);
        try {
            MemorySegment iov = timed ? acquireIovTimed(call, write, len, timeoutNs) : acquireIov(call, write, len, flags);
            Buffer b = new Buffer(this, iov, write);
            buffers.add(b);
            if (isClosed()) {
                // closed while we waited: release it here (the delete waits for us), report EBADF
                buffers.remove(b);
                b.invalidate();
                releaseIov(write, iov);
                throw new DiosException(call, Errno.EBADF);
            }
            return b;
        } finally {
            if (counted) exit();
        }
    }

    void forget(Buffer b) {
        buffers.remove(b);
    }

    /** The shim's iovec {buf, len} of a fresh acquire. */
    MemorySegment acquireIov(String call, boolean write, long len, long flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            int rc = write ? (int) Native.ACQUIRE_WRITE.invokeExact(flags, handle, len, out)
                    : (int) Native.ACQUIRE_READ.invokeExact(flags, handle, len, out);
            Native.check(call, rc);
            return out.get(ADDRESS, 0).reinterpret(Layouts.IOVEC.byteSize());
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** As acquireIov, with a deadline (the *_timeout calls). */
    private MemorySegment acquireIovTimed(String call, boolean write, long len, long timeoutNs) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            int rc = write ? (int) Native.ACQUIRE_WRITE_TIMEOUT.invokeExact(0L, handle, len, out, timeoutNs)
                    : (int) Native.ACQUIRE_READ_TIMEOUT.invokeExact(0L, handle, len, out, timeoutNs);
            Native.check(call, rc);
            return out.get(ADDRESS, 0).reinterpret(Layouts.IOVEC.byteSize());
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    int releaseIov(boolean write, MemorySegment iov) {
        try {
            return write ? (int) Native.RELEASE_WRITE.invokeExact(0L, handle, iov)
                    : (int) Native.RELEASE_READ.invokeExact(0L, handle, iov);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    int commitWriteIov(long len, MemorySegment iov) {
        try {
            return (int) Native.COMMIT_WRITE.invokeExact(0L, handle, len, iov);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * Reads in place: acquires up to len bytes (0 = all; a FIFO waits for at least one), runs f
     * over them and releases. The segment is confined to this thread and dead once f returns.
     * At a FIFO's end of stream: DiosException EPIPE.
     */
    public <T> T withRead(long len, Function<MemorySegment, T> f) {
        boolean counted = enter("dios_acquire_read");
        try {
            MemorySegment iov = acquireIov("dios_acquire_read", false, len, 0);
            T r;
            try (Arena a = Arena.ofConfined()) {
                r = f.apply(MemorySegment.ofAddress(iov.get(JAVA_LONG, Layouts.IOVEC_BUF))
                        .reinterpret(iov.get(JAVA_LONG, Layouts.IOVEC_LEN), a, null));
            } finally {
                releaseIov(false, iov);
            }
            return r;
        } finally {
            if (counted) exit();
        }
    }

    /**
     * Writes in place: acquires len bytes (0 = all the object, or all a FIFO's free space), runs f
     * over them, commits the first n bytes, n being what f returns (0 commits nothing), and
     * releases. The segment is confined to this thread and dead once f returns. Returns n.
     */
    public long withWrite(long len, ToLongFunction<MemorySegment> f) {
        return withWrite(len, 0, f);
    }

    /**
     * As {@link #withWrite}, through an exclusive buffer ({@link #acquireWriteExclusive}): an exact
     * read-modify-write of a memory object or blob, f reading and writing the segment, with no
     * other writer in between.
     */
    public long withExclusiveWrite(long len, ToLongFunction<MemorySegment> f) {
        return withWrite(len, Dios.D_ACQUIRE_EXCLUSIVE, f);
    }

    private long withWrite(long len, long flags, ToLongFunction<MemorySegment> f) {
        boolean counted = enter("dios_acquire_write");
        try {
            MemorySegment iov = acquireIov("dios_acquire_write", true, len, flags);
            try {
                long n;
                try (Arena a = Arena.ofConfined()) {
                    n = f.applyAsLong(MemorySegment.ofAddress(iov.get(JAVA_LONG, Layouts.IOVEC_BUF))
                        .reinterpret(iov.get(JAVA_LONG, Layouts.IOVEC_LEN), a, null));
                }
                if (n > 0) Native.check("dios_commit_write", commitWriteIov(n, iov));
                return n;
            } finally {
                releaseIov(true, iov);
            }
        } finally {
            if (counted) exit();
        }
    }

    // ---- FIFO streams ---------------------------------------------------------------------------

    /**
     * This FIFO reference as an InputStream, binding it as the reader end now. Closing the stream
     * closes this reference. read() returns -1 at end of stream: the writer end is gone and all
     * was read. The console ({@link Dios#console()}) reads what is typed. Other objects:
     * IllegalArgumentException.
     */
    public FifoInputStream inputStream() {
        return new FifoInputStream(this);
    }

    /**
     * This FIFO reference as an OutputStream, binding it as the writer end now. Closing the stream
     * closes this reference: the reader then sees end of stream. The console ({@link
     * Dios#console()}) writes to the task's terminal, or the daemon's log without one.
     */
    public FifoOutputStream outputStream() {
        return new FifoOutputStream(this);
    }

    @Override
    public String toString() {
        return "Ref[" + (name != null ? name : "anonymous") + (isClosed() ? ", closed" : "") + "]";
    }
}

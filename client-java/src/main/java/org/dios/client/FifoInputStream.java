package org.dios.client;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

import static org.dios.client.DiosIOException.check;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The reader end of a FIFO (or the console's input) as an InputStream, built on acquire_read/release_read: each read
 * takes up to the bytes asked for, copies them out of the mapped FIFO and releases their space.
 * {@link #read()} returns -1 at end of stream (the writer end is gone and everything was read:
 * the call's -EPIPE). Other failures throw {@link DiosIOException} with the errno.
 *
 * <p>Creating the stream binds its reference as the reader end (a FIFO's first acquire does),
 * so that closing it is seen by the writer even if it never read.
 *
 * <p>Thread-safe: reads are serialised (one buffer per end at a time). Single-byte reads cost
 * a full acquire/release each: wrap the stream in a BufferedInputStream for those. Closing the
 * stream closes its reference; it does not wake a thread blocked in read on it (that read
 * returns when data or end of stream arrives).
 */
public final class FifoInputStream extends InputStream {
    private final Ref ref;
    private final ReentrantLock lock = new ReentrantLock();
    private final MemorySegment out = Arena.ofAuto().allocate(ADDRESS);   // the acquire's iovec pointer
    private boolean eof;                // guarded by lock
    private volatile boolean closed;
    /** Bytes the binding acquire found (an iovec still held), served before the next acquire; null when none. */
    private MemorySegment pending;      // guarded by lock
    private long pendingPos;            // guarded by lock
    private final int maxRead;
    static final int DIOS_CONSOLE_BUF_BYTES = 65536;

    /**
     * Binds ref as the FIFO's reader end at once (a non-blocking acquire), so that closing the
     * stream is end of stream for the writer even if nothing was read. Bytes already there are
     * kept for the first read.
     */
    FifoInputStream(Ref ref) {
        this.ref = ref;
        int type = ref.type();
        if (type == Dios.D_OBJ_CONSOLE) {
            maxRead = DIOS_CONSOLE_BUF_BYTES;              // what was typed, at most a console buffer at a time
            return;
        }
        if (type != Dios.D_OBJ_FIFO) throw new IllegalArgumentException("not a FIFO or the console: type " + type);
        maxRead = Integer.MAX_VALUE;
        boolean counted = ref.enter("dios_acquire_read");
        try {
            int rc = (int) Native.ACQUIRE_READ.invokeExact(Dios.D_NONBLOCK, ref.handle(), 0L, out);
            if (rc == 0) pending = out.get(ADDRESS, 0).reinterpret(Layouts.IOVEC.byteSize());
            else if (rc == -Errno.EPIPE) eof = true;
            else if (rc != -Errno.EAGAIN) Native.check("dios_acquire_read", rc);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            if (counted) ref.exit();
        }
    }

    /** The FIFO reference this stream reads. */
    public Ref ref() {
        return ref;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) return 0;
        lock.lock();
        try {
            if (closed) throw new IOException("stream closed");
            if (eof) return -1;
            boolean counted = DiosIOException.enter(ref, "dios_acquire_read");
            try {
                if (pending != null) {
                    // the bytes the binding acquire found: hand them out, release once all are read
                    long avail = pending.get(JAVA_LONG, Layouts.IOVEC_LEN) - pendingPos;
                    int n = (int) Math.min(avail, len);
                    MemorySegment.copy(MemorySegment.ofAddress(pending.get(JAVA_LONG, Layouts.IOVEC_BUF) + pendingPos)
                            .reinterpret(n), JAVA_BYTE, 0, b, off, n);
                    pendingPos += n;
                    if (pendingPos == pending.get(JAVA_LONG, Layouts.IOVEC_LEN)) {
                        MemorySegment iov = pending;
                        pending = null;
                        check("dios_release_read", (int) Native.RELEASE_READ.invokeExact(0L, ref.handle(), iov));
                    }
                    return n;
                }
                int rc = (int) Native.ACQUIRE_READ.invokeExact(0L, ref.handle(), (long) Math.min(len, maxRead), out);
                if (rc == -Errno.EPIPE) {
                    eof = true;
                    return -1;
                }
                check("dios_acquire_read", rc);
                MemorySegment iov = out.get(ADDRESS, 0).reinterpret(Layouts.IOVEC.byteSize());
                int n = (int) iov.get(JAVA_LONG, Layouts.IOVEC_LEN);     // <= len
                MemorySegment.copy(MemorySegment.ofAddress(iov.get(JAVA_LONG, Layouts.IOVEC_BUF)).reinterpret(n),
                        JAVA_BYTE, 0, b, off, n);
                check("dios_release_read", (int) Native.RELEASE_READ.invokeExact(0L, ref.handle(), iov));
                return n;
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            } finally {
                if (counted) ref.exit();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Bytes that could be read without blocking are not known without taking them: 0. */
    @Override
    public int available() {
        return 0;
    }

    /** Closes the reference (the reader end): the writer then gets EPIPE. */
    @Override
    public void close() throws IOException {
        closed = true;
        DiosIOException.close(ref);
    }
}

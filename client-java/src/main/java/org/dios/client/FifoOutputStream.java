package org.dios.client;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

import static org.dios.client.DiosIOException.check;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The writer end of a FIFO (or the console's output) as an OutputStream, built on acquire_write/commit_write/release_write:
 * each write takes the FIFO's free space (waiting while there is none), copies in as much as
 * fits, commits it and goes on until all is written. Every write is committed when it returns,
 * so {@link #flush()} has nothing to do. Once the reader end is gone a write throws
 * {@link DiosIOException} with errno EPIPE.
 *
 * <p>Creating the stream binds its reference as the writer end (a FIFO's first acquire does),
 * so that closing it is end of stream for the reader even if it never wrote.
 *
 * <p>Thread-safe: writes are serialised, and the bytes of one write call are never interleaved
 * with another's. Single-byte writes cost a full acquire/commit/release each: wrap the stream in
 * a BufferedOutputStream for those. Closing the stream closes its reference: the reader sees end
 * of stream once it has read everything.
 */
public final class FifoOutputStream extends OutputStream {
    private final Ref ref;
    private final ReentrantLock lock = new ReentrantLock();
    private final MemorySegment out = Arena.ofAuto().allocate(ADDRESS);
    private volatile boolean closed;

    /**
     * Binds ref as the FIFO's writer end at once (a non-blocking acquire of one byte, released
     * uncommitted), so that closing the stream is end of stream for the reader even if nothing
     * was written.
     */
    FifoOutputStream(Ref ref) {
        this.ref = ref;
        int type = ref.type();
        if (type == Dios.D_OBJ_CONSOLE) return;         // the console: nothing to bind
        if (type != Dios.D_OBJ_FIFO) throw new IllegalArgumentException("not a FIFO or the console: type " + type);
        boolean counted = ref.enter("dios_acquire_write");
        try {
            int rc = (int) Native.ACQUIRE_WRITE.invokeExact(Dios.D_NONBLOCK, ref.handle(), 1L, out);
            if (rc == 0) Native.check("dios_release_write", (int) Native.RELEASE_WRITE.invokeExact(0L, ref.handle(),
                    out.get(ADDRESS, 0).reinterpret(Layouts.IOVEC.byteSize())));
            else if (rc != -Errno.EAGAIN && rc != -Errno.EPIPE) Native.check("dios_acquire_write", rc);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            if (counted) ref.exit();
        }
    }

    /** The FIFO reference this stream writes. */
    public Ref ref() {
        return ref;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        write(null, b, off, len);
    }

    /**
     * Writes head (may be null) then b[off, off+len) as one sequence: a frame header and its body
     * go out in one commit when the FIFO has room for both.
     */
    void write(byte[] head, byte[] b, int off, int len) throws IOException {
        int headLen = head == null ? 0 : head.length;
        long total = (long) headLen + len;
        if (total == 0) return;
        lock.lock();
        try {
            if (closed) throw new IOException("stream closed");
            boolean counted = DiosIOException.enter(ref, "dios_acquire_write");
            try {
                long done = 0;
                while (done < total) {
                    // len 0: all the free space there is (at least one byte), waiting for some;
                    // the console: an output buffer (64 KiB)
                    check("dios_acquire_write", (int) Native.ACQUIRE_WRITE.invokeExact(0L, ref.handle(), 0L, out));
                    MemorySegment iov = out.get(ADDRESS, 0).reinterpret(Layouts.IOVEC.byteSize());
                    long n = Math.min(iov.get(JAVA_LONG, Layouts.IOVEC_LEN), total - done);
                    MemorySegment dst = MemorySegment.ofAddress(iov.get(JAVA_LONG, Layouts.IOVEC_BUF)).reinterpret(n);
                    long at = 0;
                    if (done < headLen) {                       // the rest of the head first
                        int h = (int) Math.min(headLen - done, n);
                        MemorySegment.copy(head, (int) done, dst, JAVA_BYTE, 0, h);
                        at = h;
                    }
                    if (at < n) {
                        int from = (int) (done + at - headLen);
                        MemorySegment.copy(b, off + from, dst, JAVA_BYTE, at, (int) (n - at));
                    }
                    int rc = (int) Native.COMMIT_WRITE.invokeExact(0L, ref.handle(), n, iov);
                    int rr = (int) Native.RELEASE_WRITE.invokeExact(0L, ref.handle(), iov);
                    check("dios_commit_write", rc);
                    check("dios_release_write", rr);
                    done += n;
                }
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

    /** Closes the reference (the writer end): the reader sees end of stream after the last byte. */
    @Override
    public void close() throws IOException {
        closed = true;
        DiosIOException.close(ref);
    }
}

package org.dios.client;

import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A bidirectional channel from two FIFOs (the seed's {@code Channel}, as in the Rust crate):
 * {@code send}/{@code recv} of ints, longs, byte arrays and strings as length-prefixed frames.
 *
 * <p><b>Wire format</b> (the same in every language): each message is one frame, a 4-byte
 * little-endian unsigned length n followed by n payload bytes. Payloads: an int is 4 bytes and
 * a long 8 bytes, little-endian two's complement; a byte array is its bytes; a string its UTF-8
 * bytes. There is no type tag: a receiver asks for the type it expects and a frame of the
 * wrong length for it (an int frame that is not 4 bytes) fails with EPROTO after the whole
 * frame was consumed, so the channel stays in step.
 *
 * <p><b>Making one.</b> {@link #pair()} gives both ends, for two threads. By name: {@link
 * #create(String)} makes the FIFOs {@code name + "/up"} (the connector writes, the creator
 * reads) and {@code name + "/down"} (the creator writes), names from {@link Name#fromString};
 * {@link #connect(String, Duration)} looks them up, from any task and any language. {@link
 * #of(Ref, Ref)} wraps two FIFO references you have (e.g. delegated to a spawned task).
 *
 * <p>Thread-safe: sends are serialised, receives are serialised, and a frame is never split
 * between two threads. {@link #close()} closes both ends: the peer's receive then ends with
 * EOFException, its send with EPIPE.
 */
public final class Channel implements AutoCloseable {
    /** Largest frame a receiver accepts (a Java array's limit); the receive buffer grows with the data. */
    public static final int MAX_FRAME = Integer.MAX_VALUE - 8;
    private static final int GROW = 1 << 20;

    private final FifoInputStream in;
    private final FifoOutputStream out;
    private final ReentrantLock recvLock = new ReentrantLock();

    private Channel(Ref in, Ref out) {
        this.in = in.inputStream();
        this.out = out.outputStream();
    }

    /** A channel that receives from the FIFO reference in and sends into out. Closing it closes both. */
    public static Channel of(Ref in, Ref out) {
        return new Channel(in, out);
    }

    /** Both ends of a new channel in this process (e.g. for two threads), FIFOs of the default capacity. */
    public static Channel[] pair() {
        return pair(0);
    }

    /** Both ends of a new channel in this process; capacity of each FIFO in bytes (0: the default). */
    public static Channel[] pair(long capacity) {
        // A reference is one end of a FIFO: each FIFO needs two, so it gets a (random) name to look up.
        Ref ab = Dios.createNamedFifo(capacity);
        Ref ba = null, abIn = null;
        try {
            abIn = Dios.lookup(ab.name(), false);
            ba = Dios.createNamedFifo(capacity);
            Ref baIn = Dios.lookup(ba.name(), false);
            return new Channel[] {new Channel(baIn, ab), new Channel(abIn, ba)};
        } catch (RuntimeException e) {
            closeQuietly(ab, abIn, ba);
            throw e;
        }
    }

    /** The name of the FIFO that carries connector -> creator. */
    public static Name upName(String name) {
        return Name.fromString(name + "/up");
    }

    /** The name of the FIFO that carries creator -> connector. */
    public static Name downName(String name) {
        return Name.fromString(name + "/down");
    }

    /** Creates the named channel's FIFOs (EEXIST if bound) and returns the creator's end. */
    public static Channel create(String name) {
        return create(name, 0);
    }

    /** As {@link #create(String)}, with FIFOs of capacity bytes (0: the default). */
    public static Channel create(String name, long capacity) {
        Ref up = Dios.createNamedFifo(capacity, upName(name));
        try {
            return new Channel(up, Dios.createNamedFifo(capacity, downName(name)));
        } catch (RuntimeException e) {
            closeQuietly(up);
            throw e;
        }
    }

    /**
     * Connects to a channel another task (or thread) made with {@link #create(String)}, waiting
     * up to timeout for its names to appear; DiosException ENOENT if they did not.
     */
    public static Channel connect(String name, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = 1;
        for (;;) {
            Ref up = null;
            try {
                up = Dios.lookup(upName(name), false);
                return new Channel(Dios.lookup(downName(name), false), up);
            } catch (DiosException e) {
                closeQuietly(up);
                if (e.errno() != Errno.ENOENT || System.nanoTime() - deadline >= 0) throw e;
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new DiosException("dios_lookup", Errno.ENOENT);
            }
            pause = Math.min(pause * 2, 50);
        }
    }

    // ---- send -----------------------------------------------------------------------------------

    private void frame(byte[] b, int off, int len) throws IOException {
        byte[] head = new byte[4];
        putLE(head, 0, len, 4);
        out.write(head, b, off, len);     // one write call: never interleaved with another send
    }

    public void send(int v) throws IOException {
        byte[] b = new byte[4];
        putLE(b, 0, v, 4);
        frame(b, 0, 4);
    }

    public void send(long v) throws IOException {
        byte[] b = new byte[8];
        putLE(b, 0, v, 8);
        frame(b, 0, 8);
    }

    public void send(byte[] b) throws IOException {
        frame(b, 0, b.length);
    }

    public void send(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        frame(b, off, len);
    }

    public void send(String s) throws IOException {
        send(s.getBytes(StandardCharsets.UTF_8));
    }

    // ---- receive --------------------------------------------------------------------------------

    /** The next frame's payload. EOFException if the peer closed before a frame began or within one. */
    public byte[] recvBytes() throws IOException {
        recvLock.lock();
        try {
            byte[] head = new byte[4];
            int got = readFully(head, 0, 4);
            if (got == 0) throw new EOFException("channel closed by the peer");
            if (got < 4) throw new EOFException("channel closed by the peer within a frame header");
            long len = getLE(head, 0, 4) & 0xffff_ffffL;
            if (len > MAX_FRAME) {
                throw new DiosIOException(new DiosException("channel_recv", Errno.E2BIG));
            }
            // grow with the data, so a bogus length costs no more memory than the bytes really sent
            byte[] buf = new byte[(int) Math.min(len, GROW)];
            int have = 0;
            while (have < len) {
                if (have == buf.length) buf = Arrays.copyOf(buf, (int) Math.min(len, (long) buf.length * 2));
                int n = in.read(buf, have, buf.length - have);
                if (n < 0) throw new EOFException("channel closed by the peer within a frame (" + have + " of " + len + " bytes)");
                have += n;
            }
            return buf;
        } finally {
            recvLock.unlock();
        }
    }

    public int recvInt() throws IOException {
        return (int) getLE(expect(4, "recvInt"), 0, 4);
    }

    public long recvLong() throws IOException {
        return getLE(expect(8, "recvLong"), 0, 8);
    }

    public String recvString() throws IOException {
        return new String(recvBytes(), StandardCharsets.UTF_8);
    }

    private byte[] expect(int len, String what) throws IOException {
        byte[] b = recvBytes();
        if (b.length != len) throw new DiosIOException(new DiosException("channel_" + what, Errno.EPROTO));
        return b;
    }

    private int readFully(byte[] b, int off, int len) throws IOException {
        int have = 0;
        while (have < len) {
            int n = in.read(b, off + have, len - have);
            if (n < 0) break;
            have += n;
        }
        return have;
    }

    // ---- ends -----------------------------------------------------------------------------------

    /** Closes the sending end only: the peer's receives see end of stream once drained. */
    public void closeSend() throws IOException {
        out.close();
    }

    /** The FIFO reference this channel receives from. */
    public Ref in() {
        return in.ref();
    }

    /** The FIFO reference this channel sends into. */
    public Ref out() {
        return out.ref();
    }

    /** Closes both ends (sending first). */
    @Override
    public void close() throws IOException {
        try {
            out.close();
        } finally {
            in.close();
        }
    }

    private static void closeQuietly(Ref... refs) {
        for (Ref r : refs) {
            if (r == null) continue;
            try {
                r.close();
            } catch (RuntimeException ignored) {
                // already failing
            }
        }
    }

    private static void putLE(byte[] b, int at, long v, int n) {
        for (int i = 0; i < n; i++) b[at + i] = (byte) (v >>> (8 * i));
    }

    private static long getLE(byte[] b, int at, int n) {
        long v = 0;
        for (int i = 0; i < n; i++) v |= (b[at + i] & 0xffL) << (8 * i);
        return n == 4 ? (int) v : v;
    }
}

package org.dios.client;

import java.io.IOException;
import java.io.StreamCorruptedException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A bidirectional channel from two FIFOs (the seed's {@code Channel}, as in the Rust crate):
 * {@code send}/{@code recv} of ints, longs, booleans, doubles, byte arrays and strings.
 *
 * <p><b>Wire format</b>: the Rust crate's ({@code dios::wire}), so a Java task and a Rust (or C)
 * task can talk. Values are written back to back with no frame or type tag; the receiver asks
 * for the type it expects. An int is 4 bytes and a long 8, little-endian two's complement
 * (Rust {@code i32}/{@code i64}); a boolean one byte, 0 or 1; a double its IEEE-754 bits as 8
 * little-endian bytes; a byte array and a string a {@code u64} little-endian count then the
 * bytes (UTF-8 for a string: Rust {@code Vec<u8>}, {@code String}). {@link #sendRaw}/{@link
 * #recvExact} move bytes with no count (Rust {@code send_bytes}/{@code recv_exact}).
 * A received boolean that is not 0 or 1, a string that is not UTF-8, or a count beyond a Java
 * array throws {@link StreamCorruptedException} (Rust's {@code InvalidData}); a count is never
 * trusted ahead of the bytes: the buffer grows as they arrive.
 *
 * <p><b>Making one.</b> {@link #pair()} gives both ends, for two threads. By name: {@link
 * #create(String)} makes the FIFOs {@code name + "/up"} (the connector writes, the creator
 * reads) and {@code name + "/down"} (the creator writes), names from {@link Name#fromString};
 * {@link #connect(String, Duration)} looks them up, from any task and any language. {@link
 * #of(Ref, Ref)} wraps two FIFO references you have: a task spawned with {@link Dios#run} and
 * the delegated references {@code [down, up]} (the order the Rust crate's {@code spawn_task}
 * uses: the child reads the first and writes the second) talks to {@code Channel.of(up, down)}.
 *
 * <p>Thread-safe: sends are serialised, receives are serialised, and a value is never split
 * between two threads. {@link #close()} closes both ends. When the peer is gone and everything
 * it sent was received, a receive fails with {@link DiosIOException} errno EPIPE, as in Rust;
 * so does a send once nobody can read it.
 */
public final class Channel implements AutoCloseable {
    /** Largest byte array or string a receiver accepts (a Java array's limit). */
    public static final int MAX_ARRAY = Integer.MAX_VALUE - 8;
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

    /** One write call: a value's bytes are never interleaved with another send's. */
    private void write(byte[] head, byte[] b, int off, int len) throws IOException {
        out.write(head, b, off, len);
    }

    /** An int: 4 bytes, little-endian (Rust i32). */
    public void send(int v) throws IOException {
        byte[] b = new byte[4];
        putLE(b, v, 4);
        write(null, b, 0, 4);
    }

    /** A long: 8 bytes, little-endian (Rust i64). */
    public void send(long v) throws IOException {
        byte[] b = new byte[8];
        putLE(b, v, 8);
        write(null, b, 0, 8);
    }

    /** A boolean: one byte, 0 or 1 (Rust bool). */
    public void send(boolean v) throws IOException {
        write(null, new byte[] {(byte) (v ? 1 : 0)}, 0, 1);
    }

    /** A double: its IEEE-754 bits, 8 bytes little-endian (Rust f64). */
    public void send(double v) throws IOException {
        send(Double.doubleToRawLongBits(v));
    }

    /** A byte array: a u64 count, then the bytes (Rust Vec&lt;u8&gt;). */
    public void send(byte[] b) throws IOException {
        send(b, 0, b.length);
    }

    /** Bytes b[off, off+len) as a byte array: a u64 count, then the bytes. */
    public void send(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        byte[] head = new byte[8];
        putLE(head, len, 8);
        write(head, b, off, len);
    }

    /** A string: a u64 count of its UTF-8 bytes, then them (Rust String). */
    public void send(String s) throws IOException {
        send(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Raw bytes with no count: the receiver must know how many (Rust send_bytes). */
    public void sendRaw(byte[] b) throws IOException {
        write(null, b, 0, b.length);
    }

    // ---- receive --------------------------------------------------------------------------------

    public int recvInt() throws IOException {
        byte[] b = new byte[4];
        recvExact(b);
        return (int) getLE(b, 4);
    }

    public long recvLong() throws IOException {
        byte[] b = new byte[8];
        recvExact(b);
        return getLE(b, 8);
    }

    public boolean recvBoolean() throws IOException {
        byte[] b = new byte[1];
        recvExact(b);
        if (b[0] != 0 && b[0] != 1) throw new StreamCorruptedException("dios: received a bool that is neither 0 nor 1");
        return b[0] == 1;
    }

    public double recvDouble() throws IOException {
        return Double.longBitsToDouble(recvLong());
    }

    /** A byte array (a u64 count, then the bytes). */
    public byte[] recvBytes() throws IOException {
        recvLock.lock();
        try {
            byte[] c = new byte[8];
            readFully(c, 0, 8);
            long len = getLE(c, 8);
            if (len < 0 || len > MAX_ARRAY) {
                throw new StreamCorruptedException("dios: received a length beyond a Java array: " + Long.toUnsignedString(len));
            }
            // grow with the data, so a bogus count costs no more memory than the bytes really sent
            byte[] buf = new byte[(int) Math.min(len, GROW)];
            int have = 0;
            while (have < len) {
                if (have == buf.length) buf = Arrays.copyOf(buf, (int) Math.min(len, (long) buf.length * 2));
                int n = in.read(buf, have, buf.length - have);
                if (n < 0) throw endOfStream();
                have += n;
            }
            return buf;
        } finally {
            recvLock.unlock();
        }
    }

    /** A string (a u64 count of UTF-8 bytes, then them); StreamCorruptedException if not UTF-8. */
    public String recvString() throws IOException {
        byte[] b = recvBytes();
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new StreamCorruptedException("dios: received a string that is not UTF-8");
        }
    }

    /** Exactly b.length raw bytes (Rust recv_exact). */
    public void recvExact(byte[] b) throws IOException {
        recvLock.lock();
        try {
            readFully(b, 0, b.length);
        } finally {
            recvLock.unlock();
        }
    }

    private void readFully(byte[] b, int off, int len) throws IOException {
        int have = 0;
        while (have < len) {
            int n = in.read(b, off + have, len - have);
            if (n < 0) throw endOfStream();
            have += n;
        }
    }

    /** The peer is gone and all it sent was read: EPIPE, as the Rust crate says it. */
    private static DiosIOException endOfStream() {
        return new DiosIOException(new DiosException("dios_acquire_read", Errno.EPIPE));
    }

    // ---- ends -----------------------------------------------------------------------------------

    /** Closes the sending end only: once the peer has received everything, its receives fail with EPIPE. */
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

    private static void putLE(byte[] b, long v, int n) {
        for (int i = 0; i < n; i++) b[i] = (byte) (v >>> (8 * i));
    }

    private static long getLE(byte[] b, int n) {
        long v = 0;
        for (int i = 0; i < n; i++) v |= (b[i] & 0xffL) << (8 * i);
        return n == 4 ? (int) v : v;
    }
}

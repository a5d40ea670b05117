package org.dios.client;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.*;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** FIFOs as InputStream/OutputStream: every byte arrives, in order, then end of stream. */
@ExtendWith(Daemon.class)
class StreamTest {
    /** FNV-1a 64 over a byte range, continued from h. */
    static long fnv(long h, byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            h ^= b[i] & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    static final long FNV0 = 0xcbf29ce484222325L;

    /** Byte k of a test stream: not periodic in any FIFO's capacity. */
    static byte pattern(long k) {
        return (byte) (k * 31 + 7 + (k >>> 13));
    }

    /** A writer thread sends total bytes in random-sized writes; the reader reads in random-sized reads. */
    static void stream(long capacity, long total, long seed) throws Exception {
        Ref w = Dios.createNamedFifo(capacity);
        Ref r = Dios.lookup(w.name(), false);
        long cap = w.size();
        assertEquals(capacity == 0 ? Dios.DIOS_FIFO_DEFAULT_CAPACITY : capacity, cap);
        CompletableFuture<Long> writer = CompletableFuture.supplyAsync(() -> {
            Random rnd = new Random(seed);
            long h = FNV0;
            try (OutputStream out = w.outputStream()) {
                long k = 0;
                byte[] buf = new byte[(int) Math.min(3 * cap, 1 << 20)];
                while (k < total) {
                    int n = (int) Math.min(1 + rnd.nextInt(buf.length), total - k);
                    for (int i = 0; i < n; i++) buf[i] = pattern(k + i);
                    out.write(buf, 0, n);
                    h = fnv(h, buf, 0, n);
                    k += n;
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return h;
        });
        Random rnd = new Random(seed + 1);
        long h = FNV0, got = 0, wrong = 0;
        try (InputStream in = r.inputStream()) {
            byte[] buf = new byte[(int) Math.min(2 * cap + 100, 1 << 20)];
            for (;;) {
                int n = in.read(buf, 0, 1 + rnd.nextInt(buf.length));
                if (n < 0) break;
                assertTrue(n > 0);
                for (int i = 0; i < n; i++) if (buf[i] != pattern(got + i)) wrong++;
                h = fnv(h, buf, 0, n);
                got += n;
            }
            assertEquals(-1, in.read(), "end of stream stays");
            assertEquals(-1, in.read(buf, 0, 10));
        }
        long wrote = writer.get(120, TimeUnit.SECONDS);     // (a failed writer first: its reason, not ours)
        assertEquals(total, got, "bytes read == bytes written");
        assertEquals(0, wrong, "every byte where it belongs");
        assertEquals(wrote, h, "checksums agree");
    }

    @Test
    void bytesReadEqualBytesWrittenAcrossManyWrapArounds() throws Exception {
        long[] before = Daemon.stats();
        stream(8192, 24L << 20, 1);          // 3,072 laps of an 8 KiB FIFO, unaligned pieces
        stream(0, 48L << 20, 2);             // the default 256 KiB
        assertArrayEquals(before, Daemon.stats(), "FIFOs and their references gone");
    }

    @Test
    void endOfStreamComesAfterTheLastByteWhenTheWriterCloses() throws Exception {
        try (Ref w = Dios.createNamedFifo(4096); Ref r = Dios.lookup(w.name(), false)) {
            OutputStream out = w.outputStream();
            InputStream in = r.inputStream();
            out.write("abc".getBytes());
            out.close();
            assertTrue(w.isClosed(), "closing the stream closes its reference");
            assertEquals('a', in.read());
            assertArrayEquals("bc".getBytes(), in.readNBytes(10));
            assertEquals(-1, in.read());
        }
    }

    @Test
    void writingAfterTheReaderIsGoneIsEpipe() throws Exception {
        try (Ref w = Dios.createNamedFifo(4096); Ref r = Dios.lookup(w.name(), false)) {
            OutputStream out = w.outputStream();
            InputStream in = r.inputStream();
            out.write(1);
            assertEquals(1, in.read());
            in.close();
            DiosIOException e = assertThrows(DiosIOException.class, () -> out.write(new byte[10]));
            assertEquals(Errno.EPIPE, e.errno());
            assertEquals("dios_acquire_write", e.call());
            assertInstanceOf(DiosException.class, e.getCause());
        }
    }

    @Test
    void aWriteLargerThanTheFifoIsSplitAndAWaitingWriterResumes() throws Exception {
        try (Ref w = Dios.createNamedFifo(4096); Ref r = Dios.lookup(w.name(), false)) {
            byte[] big = new byte[1 << 20];
            new Random(5).nextBytes(big);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try (OutputStream out = w.outputStream()) {
                    out.write(big);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            byte[] back;
            try (InputStream in = new BufferedInputStream(r.inputStream())) {
                back = in.readAllBytes();
            }
            writer.get(60, TimeUnit.SECONDS);
            assertArrayEquals(big, back);
        }
    }

    @Test
    void singleBytesThroughBufferedStreams() throws Exception {
        try (Ref w = Dios.createNamedFifo(0); Ref r = Dios.lookup(w.name(), false)) {
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try (OutputStream out = new BufferedOutputStream(w.outputStream(), 512)) {
                    for (int i = 0; i < 100_000; i++) out.write(pattern(i));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            int k = 0, b;
            try (InputStream in = r.inputStream()) {
                while ((b = in.read()) >= 0) {
                    assertEquals(pattern(k) & 0xff, b);
                    k++;
                }
            }
            writer.get(60, TimeUnit.SECONDS);
            assertEquals(100_000, k);
        }
    }

    @Test
    void zeroCopyFifoTransfersWithScopedAccess() throws Exception {
        long total = 16L << 20;
        Ref w = Dios.createNamedFifo(1 << 16);
        try (Ref r = Dios.lookup(w.name(), false)) {
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                long k = 0;
                while (k < total) {
                    long at = k;
                    k += w.withWrite(Math.min(20000, total - k), s -> {
                        for (long i = 0; i < s.byteSize(); i++) s.set(JAVA_BYTE, i, pattern(at + i));
                        return s.byteSize();
                    });
                }
                w.close();
            });
            long got = 0, wrong = 0;
            for (;;) {
                long at = got;
                long[] n = new long[1];
                try {
                    wrong += r.withRead(0, s -> {
                        n[0] = s.byteSize();
                        long bad = 0;
                        for (long i = 0; i < s.byteSize(); i++) if (s.get(JAVA_BYTE, i) != pattern(at + i)) bad++;
                        return bad;
                    });
                } catch (DiosException e) {
                    assertEquals(Errno.EPIPE, e.errno(), "end of stream");
                    break;
                }
                got += n[0];
            }
            writer.get(60, TimeUnit.SECONDS);
            assertEquals(total, got);
            assertEquals(0, wrong);
        } finally {
            w.close();      // (the writer closed it: a second close does nothing)
        }
    }

    @Test
    void manyStreamsAtOnceFromManyThreads() throws Exception {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            long seed = 100 + i;
            all.add(CompletableFuture.runAsync(() -> {
                try {
                    stream(16384, 8L << 20, seed);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, r -> Thread.ofPlatform().start(r)));
        }
        for (CompletableFuture<Void> f : all) {
            try {
                f.get(300, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                fail("a stream failed", e.getCause());
            }
        }
    }

    @Test
    void aBlockedReadReturnsAfterItsStreamIsClosedFromElsewhereOnceDataComes() throws Exception {
        // close() does not wake a blocked read (documented), but neither crashes nor loses the delete
        long[] before = Daemon.stats();
        Ref w = Dios.createNamedFifo(4096);
        Ref r = Dios.lookup(w.name(), false);
        InputStream in = r.inputStream();
        CompletableFuture<Integer> reader = CompletableFuture.supplyAsync(() -> {
            try {
                return in.read();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, x -> Thread.ofPlatform().start(x));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (r.users() == 0) {     // the read has begun (it may or may not be parked in the shim yet)
            assertTrue(System.nanoTime() < deadline, "the reader never started");
            Thread.sleep(1);
        }
        in.close();
        assertTrue(r.isClosed());
        w.withWrite(1, s -> {
            s.set(JAVA_BYTE, 0, (byte) 5);
            return 1;
        });
        int v = reader.get(60, TimeUnit.SECONDS);
        assertTrue(v == 5, "the read in flight got its byte");
        w.close();
        assertArrayEquals(before, Daemon.stats(), "the reader's reference was deleted when its read returned");
    }

    @Test
    void closingAnUnusedWriterStreamIsEndOfStream() throws Exception {
        // the stream binds its end when made: closing it ends the stream even though nothing was written
        try (Ref w = Dios.createNamedFifo(4096); Ref r = Dios.lookup(w.name(), false)) {
            InputStream in = r.inputStream();
            w.outputStream().close();
            assertEquals(-1, in.read());
        }
        // and the reader's end: an unused reader stream closed is EPIPE for the writer
        try (Ref w = Dios.createNamedFifo(4096); Ref r = Dios.lookup(w.name(), false)) {
            OutputStream out = w.outputStream();
            r.inputStream().close();
            assertEquals(Errno.EPIPE, assertThrows(DiosIOException.class, () -> out.write(1)).errno());
        }
    }

    @Test
    void bytesWrittenBeforeTheReaderStreamWasMadeAreRead() throws Exception {
        try (Ref w = Dios.createNamedFifo(4096); Ref r = Dios.lookup(w.name(), false)) {
            OutputStream out = w.outputStream();
            out.write("early".getBytes());
            InputStream in = r.inputStream();   // its binding acquire finds them: kept for the reads
            out.write(" late".getBytes());
            out.close();
            assertEquals('e', in.read());
            assertArrayEquals("arly late".getBytes(), in.readAllBytes());
        }
    }

    @Test
    void theConsoleWithoutATerminalWritesToTheDaemonLog() throws Exception {
        String line = "console line from java " + System.nanoTime();
        try (Ref c = Dios.console()) {
            assertEquals(Dios.D_OBJ_CONSOLE, c.type());
            OutputStream out = c.outputStream();
            out.write((line + "\n").getBytes());
        }
        java.nio.file.Path log = Daemon.SOCKET.getParent().resolve("diosd.log");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!java.nio.file.Files.readString(log).contains(line)) {
            assertTrue(System.nanoTime() < deadline, "the line never reached " + log);
            Thread.sleep(20);
        }
        try (Ref c = Dios.console()) {
            assertEquals(-1, c.inputStream().read(), "no terminal: end of input");
        }
        try (Ref m = Dios.createAnonymous(Dios.D_OBJ_SHMEM, 64)) {
            assertThrows(IllegalArgumentException.class, m::inputStream);
        }
    }
}

package org.dios.client;

import static org.junit.jupiter.api.Assertions.*;

import java.io.InputStream;
import java.io.StreamCorruptedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The bidirectional Channel: typed values both ways, the Rust crate's wire format, end of stream, names. */
@ExtendWith(Daemon.class)
class ChannelTest {
    @Test
    void valuesOfEveryKindGoBothWays() throws Exception {
        long[] before = Daemon.stats();
        Channel[] p = Channel.pair(8192);
        try (Channel a = p[0]; Channel b = p[1]) {
            byte[] big = new byte[3 << 20];   // far larger than the FIFO: streamed through it
            new Random(7).nextBytes(big);
            CompletableFuture<Void> echo = CompletableFuture.runAsync(() -> {
                try {
                    b.send(b.recvInt() + 1);
                    b.send(b.recvLong() * 2);
                    b.send(b.recvString() + "!");
                    byte[] x = b.recvBytes();
                    b.send(x.length);
                    b.send(x);
                    b.send(b.recvBytes().length);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            a.send(41);
            assertEquals(42, a.recvInt());
            a.send(Long.MIN_VALUE / 4);
            assertEquals(Long.MIN_VALUE / 2, a.recvLong());
            a.send("ἀρχή ✓");
            assertEquals("ἀρχή ✓!", a.recvString());
            a.send(big);
            assertEquals(big.length, a.recvInt());
            assertArrayEquals(big, a.recvBytes());
            a.send(new byte[0]);
            assertEquals(0, a.recvInt());
            echo.get(60, TimeUnit.SECONDS);
        }
        assertArrayEquals(before, Daemon.stats(), "both FIFOs, their names and all four references gone");
    }

    @Test
    void theWireFormatIsTheRustCratesValuesBackToBack() throws Exception {
        try (Ref w = Dios.createNamedFifo(4096); Ref r = Dios.lookup(w.name(), false);
             Ref unused = Dios.createNamedFifo(4096)) {
            Channel c = Channel.of(Dios.lookup(unused.name(), false), w);
            c.send(0x01020304);
            c.send(-2L);
            c.send("hé");
            c.send(new byte[] {9, 8, 7});
            c.send(true);
            c.send(1.5);
            c.sendRaw(new byte[] {42});
            c.close();
            InputStream in = r.inputStream();
            byte[] raw = in.readAllBytes();
            byte[] want = {
                4, 3, 2, 1,                                     // i32
                -2, -1, -1, -1, -1, -1, -1, -1,                 // i64
                3, 0, 0, 0, 0, 0, 0, 0, 'h', (byte) 0xc3, (byte) 0xa9,   // String: u64 count, UTF-8
                3, 0, 0, 0, 0, 0, 0, 0, 9, 8, 7,                // Vec<u8>: u64 count, bytes
                1,                                              // bool
                0, 0, 0, 0, 0, 0, (byte) 0xf8, 0x3f,            // f64 1.5
                42};                                            // raw
            assertArrayEquals(want, raw, Arrays.toString(raw));
        }
    }

    @Test
    void malformedValuesAreRefusedAsCorruptData() throws Exception {
        Channel[] p = Channel.pair();
        try (Channel a = p[0]; Channel b = p[1]) {
            a.sendRaw(new byte[] {2});
            assertThrows(StreamCorruptedException.class, b::recvBoolean);
            a.send(new byte[] {(byte) 0xff, (byte) 0xfe});
            assertThrows(StreamCorruptedException.class, b::recvString);
            a.sendRaw(new byte[] {-1, -1, -1, -1, -1, -1, -1, 0x7f});   // a count of 2^63 - 1
            assertThrows(StreamCorruptedException.class, b::recvBytes);
            a.send(5);
            assertEquals(5, b.recvInt(), "the channel goes on after each");
        }
    }

    @Test
    void aCountLargerThanWhatComesCostsOnlyWhatCame() throws Exception {
        Channel[] p = Channel.pair();
        Channel a = p[0], b = p[1];
        a.sendRaw(new byte[] {0, 0, 0, 0x40, 0, 0, 0, 0});      // claims 1 GiB
        a.sendRaw(new byte[1000]);
        a.close();
        DiosIOException e = assertThrows(DiosIOException.class, b::recvBytes);
        assertEquals(Errno.EPIPE, e.errno(), "the peer ended within the value");
        b.close();
    }

    @Test
    void receivingAfterThePeerClosedIsEpipeAsInRust() throws Exception {
        Channel[] p = Channel.pair();
        Channel a = p[0], b = p[1];
        a.send("last");
        a.close();
        assertEquals("last", b.recvString());
        DiosIOException end = assertThrows(DiosIOException.class, b::recvBytes);
        assertEquals(Errno.EPIPE, end.errno());
        assertEquals(Errno.EPIPE, assertThrows(DiosIOException.class, b::recvInt).errno(), "and stays so");
        DiosIOException e = assertThrows(DiosIOException.class, () -> b.send(1));
        assertEquals(Errno.EPIPE, e.errno(), "the peer's receiving end is gone");
        b.close();
    }

    @Test
    void aPeerFindsTheChannelByName() throws Exception {
        String name = "java-test/channel/" + System.nanoTime();
        CompletableFuture<Long> peer = CompletableFuture.supplyAsync(() -> {
            try (Channel c = Channel.connect(name, Duration.ofSeconds(60))) {
                long sum = 0;
                for (int i = 0; i < 1000; i++) sum += c.recvLong();
                c.send(sum);
                return sum;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, r -> Thread.ofPlatform().start(r));
        Thread.sleep(50);  // usually the peer looks first and has to wait for the names (either order works)
        try (Channel c = Channel.create(name)) {
            assertEquals(Channel.upName(name), c.in().name());
            for (long i = 1; i <= 1000; i++) c.send(i);
            assertEquals(500500L, c.recvLong());
            DiosException e = assertThrows(DiosException.class, () -> Channel.create(name));
            assertEquals(Errno.EEXIST, e.errno(), "the name is bound while the channel lives");
        }
        assertEquals(500500L, peer.get(60, TimeUnit.SECONDS));
    }

    @Test
    void connectingToANameNobodyCreatedGivesUpWithEnoent() {
        DiosException e = assertThrows(DiosException.class,
                () -> Channel.connect("java-test/nobody/" + System.nanoTime(), Duration.ofMillis(200)));
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("dios_lookup", e.call());
    }

    @Test
    void valuesFromManySendingThreadsNeverInterleave() throws Exception {
        Channel[] p = Channel.pair(4096);
        try (Channel a = p[0]; Channel b = p[1]) {
            int threads = 6, each = 300;
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                ts.add(Thread.ofPlatform().start(() -> {
                    Random rnd = new Random(id);
                    try {
                        for (int i = 0; i < each; i++) {
                            byte[] m = new byte[8 + rnd.nextInt(9000)];   // some larger than the FIFO
                            Arrays.fill(m, (byte) id);
                            m[1] = (byte) i;
                            m[2] = (byte) (i >> 8);
                            a.send(m);
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            Set<String> seen = new HashSet<>();
            for (int k = 0; k < threads * each; k++) {
                byte[] m = b.recvBytes();
                byte id = m[0];
                for (int i = 3; i < m.length; i++) assertEquals(id, m[i], "an array holds one sender's bytes only");
                assertTrue(seen.add(id + "/" + ((m[1] & 0xff) | (m[2] & 0xff) << 8)), "no array twice");
            }
            for (Thread t : ts) t.join();
            assertEquals(threads * each, seen.size());
        }
    }
}

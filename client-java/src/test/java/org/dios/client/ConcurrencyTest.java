package org.dios.client;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Many Java threads on one process's connection at once: the shim serialises, the client's own state holds. */
@ExtendWith(Daemon.class)
class ConcurrencyTest {
    static long checksum(MemorySegment s, long len) {
        long h = 0xcbf29ce484222325L;
        for (long i = 0; i < len; i++) {
            h ^= s.get(JAVA_BYTE, i) & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    private static void runAll(int threads, java.util.function.IntConsumer body) throws InterruptedException {
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                    body.accept(id);
                } catch (Throwable x) {
                    errors.add(x);
                }
            }));
        }
        go.countDown();
        for (Thread t : ts) t.join(TimeUnit.MINUTES.toMillis(4));
        for (Thread t : ts) assertFalse(t.isAlive(), "a thread hangs");
        if (!errors.isEmpty()) {
            AssertionError e = new AssertionError(errors.size() + " thread(s) failed");
            errors.forEach(e::addSuppressed);
            throw e;
        }
    }

    @Test
    void eightThreadsCreateWriteReadAndDeleteWithChecksums() throws Exception {
        long[] before = Daemon.stats();
        AtomicLong objects = new AtomicLong();
        runAll(8, id -> {
            Random rnd = new Random(id);
            for (int k = 0; k < 300; k++) {
                int size = 64 + rnd.nextInt(64 * 1024);
                long seed = rnd.nextLong();
                long wrote;
                try (Ref w = Dios.createNamed(Dios.D_OBJ_SHMEM, size)) {
                    if ((k & 1) == 0) {
                        try (Buffer b = w.acquireWrite(0)) {
                            Random fill = new Random(seed);
                            for (int i = 0; i < size; i++) b.segment().set(JAVA_BYTE, i, (byte) fill.nextInt());
                            b.commit(size);
                            wrote = checksum(b.segment(), size);
                        }
                    } else {
                        long[] c = new long[1];
                        w.withWrite(0, s -> {
                            Random fill = new Random(seed);
                            for (int i = 0; i < size; i++) s.set(JAVA_BYTE, i, (byte) fill.nextInt());
                            c[0] = checksum(s, size);
                            return size;
                        });
                        wrote = c[0];
                    }
                    try (Ref r = Dios.lookup(w.name(), true)) {
                        assertEquals(size, r.size());
                        long read = (k & 2) == 0 ? r.withRead(0, s -> checksum(s, size)) : readWithBuffer(r, size);
                        assertEquals(wrote, read, "thread " + id + " object " + k);
                    }
                }
                objects.incrementAndGet();
            }
        });
        assertEquals(8 * 300, objects.get());
        assertArrayEquals(before, Daemon.stats(), "every object, name, reference, buffer and segment gone");
    }

    private static long readWithBuffer(Ref r, long size) {
        try (Buffer b = r.acquireRead(0)) {
            long c = checksum(b.segment(), size);
            assertTrue(b.validate());
            return c;
        }
    }

    @Test
    void closingAReferenceWhileOtherThreadsUseItIsSafe() throws Exception {
        long[] before = Daemon.stats();
        for (int round = 0; round < 20; round++) {
            Ref shared = Dios.createAnonymous(Dios.D_OBJ_SHMEM, 1 << 16);
            CountDownLatch started = new CountDownLatch(4);
            Thread closer = Thread.ofPlatform().start(() -> {
                try {
                    started.await();
                } catch (InterruptedException e) {
                    return;
                }
                shared.close();
            });
            runAll(4, id -> {
                started.countDown();
                for (int i = 0; ; i++) {
                    try {
                        switch ((i + id) % 3) {
                            case 0 -> shared.withWrite(0, s -> {
                                s.set(JAVA_LONG, 8 * id, s.get(JAVA_LONG, 8 * id) + 1);
                                return 8;
                            });
                            case 1 -> shared.withRead(0, s -> s.get(JAVA_LONG, 0));
                            default -> {
                                try (Buffer b = shared.acquireRead(0)) {
                                    b.segment().get(JAVA_LONG, 8);
                                }
                            }
                        }
                    } catch (DiosException e) {
                        assertEquals(Errno.EBADF, e.errno(), "only: the reference is closed");
                        return;
                    } catch (IllegalStateException e) {
                        // a Buffer released by the close while in use: its segment is dead, no crash
                        assertTrue(shared.isClosed(), "only a close kills a live segment");
                    }
                }
            });
            closer.join();
        }
        assertArrayEquals(before, Daemon.stats(), "every reference deleted once, no buffer left");
    }
}

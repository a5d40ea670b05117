package org.dios.client;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** What closing references and releasing buffers does to the Java objects, and to the daemon's counts. */
@ExtendWith(Daemon.class)
class RefLifecycleTest {
    @Test
    void closingTheReferenceReleasesItsBuffers() {
        long[] before = Daemon.stats();
        Ref r = Dios.createAnonymous(Dios.D_OBJ_SHMEM, 8192);
        Buffer w = r.acquireWrite(0);
        Buffer rd = r.acquireRead(0);
        w.segment().set(JAVA_LONG, 0, 42L);
        assertEquals(42L, rd.segment().get(JAVA_LONG, 0), "two buffers of one object map the same memory");
        assertEquals(before[4] + 2, Daemon.stats()[4], "two buffers out");
        r.close();
        assertTrue(r.isClosed());
        assertTrue(w.isReleased() && rd.isReleased());
        assertThrows(IllegalStateException.class, () -> w.segment().get(JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> rd.segment().get(JAVA_BYTE, 0));
        w.close(); // nothing left to release
        rd.close();
        assertArrayEquals(before, Daemon.stats(), "reference, object, buffers and segment gone");
    }

    @Test
    void aClosedReferenceAnswersEbadf() {
        Ref r = Dios.createAnonymous(Dios.D_OBJ_SHMEM, 64);
        r.close();
        r.close(); // a second close does nothing
        DiosException e = assertThrows(DiosException.class, () -> r.acquireRead(0));
        assertEquals(Errno.EBADF, e.errno());
        assertEquals("dios_acquire_read", e.call());
        assertEquals(Errno.EBADF, assertThrows(DiosException.class, r::size).errno());
        assertEquals(Errno.EBADF, assertThrows(DiosException.class, () -> r.withWrite(0, s -> 0)).errno());
    }

    @Test
    void bufferOpsAfterReleaseAreRefusedWithoutTouchingTheShim() {
        try (Ref r = Dios.createAnonymous(Dios.D_OBJ_SHMEM, 64)) {
            Buffer b = r.acquireWrite(0);
            b.close();
            DiosException e = assertThrows(DiosException.class, () -> b.commit(1));
            assertEquals(Errno.EFAULT, e.errno(), "as C: the buffer was released");
            Buffer again = r.acquireWrite(0); // may reuse the shim's record: the stale Buffer must not reach it
            assertThrows(DiosException.class, () -> b.commit(1));
            again.segment().set(JAVA_BYTE, 0, (byte) 7);
            again.commit(1);
            again.close();
        }
    }

    @Test
    void releaseWhileAnotherThreadReadsTheSegmentIsAnExceptionNotACrash() throws Exception {
        try (Ref r = Dios.createAnonymous(Dios.D_OBJ_SHMEM, 1 << 20)) {
            Buffer b = r.acquireRead(0);
            MemorySegment seg = b.segment();
            AtomicReference<Throwable> seen = new AtomicReference<>();
            CountDownLatch reading = new CountDownLatch(1);
            Thread t = Thread.ofPlatform().start(() -> {
                long sum = 0;
                try {
                    for (long i = 0; ; i = (i + 8) & ((1 << 20) - 8)) {
                        sum += seg.get(JAVA_LONG, i);
                        if (i == 0) reading.countDown();
                    }
                } catch (Throwable x) {
                    seen.set(x);
                }
                if (sum == 42) System.out.print(""); // keep the loop
            });
            assertTrue(reading.await(60, java.util.concurrent.TimeUnit.SECONDS));
            b.close();
            t.join(60_000);
            assertFalse(t.isAlive());
            assertInstanceOf(IllegalStateException.class, seen.get());
        }
    }

    @Test
    void scopedAccessWritesAndReadsInPlaceAndItsSegmentDiesAfter() throws Exception {
        try (Ref r = Dios.createAnonymous(Dios.D_OBJ_SHMEM, 4096)) {
            MemorySegment[] leaked = new MemorySegment[1];
            long n = r.withWrite(0, s -> {
                for (int i = 0; i < 4096; i++) s.set(JAVA_BYTE, i, (byte) (i * 31 + 7));
                leaked[0] = s;
                return 4096;
            });
            assertEquals(4096, n);
            assertThrows(IllegalStateException.class, () -> leaked[0].get(JAVA_BYTE, 0));
            long bad = r.withRead(0, s -> {
                long wrong = 0;
                for (int i = 0; i < 4096; i++) if (s.get(JAVA_BYTE, i) != (byte) (i * 31 + 7)) wrong++;
                return wrong;
            });
            assertEquals(0, bad);
            // confined to the thread that acquired: another thread cannot touch it
            AtomicReference<Throwable> other = new AtomicReference<>();
            r.withRead(0, s -> {
                Thread t = Thread.ofPlatform().start(() -> {
                    try {
                        s.get(JAVA_BYTE, 0);
                    } catch (Throwable x) {
                        other.set(x);
                    }
                });
                try {
                    t.join();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return null;
            });
            assertInstanceOf(WrongThreadException.class, other.get());
        }
    }

    @Test
    void closingFromInsideAnAccessWaitsForItToEnd() {
        long[] before = Daemon.stats();
        Ref r = Dios.createAnonymous(Dios.D_OBJ_SHMEM, 4096);
        long v = r.withWrite(0, s -> {
            r.close();                                   // the delete waits until this access ends
            s.set(JAVA_LONG, 0, 99L);                    // still mapped
            assertTrue(r.isClosed());
            return 0;
        });
        assertEquals(0, v);
        assertArrayEquals(before, Daemon.stats(), "deleted once the access ended");
    }

    @Test
    void zombifyWithoutDeletePermissionLeavesTheReferenceOpen() {
        try (Ref owner = Dios.createNamed(Dios.D_OBJ_SHMEM, 64); Ref other = Dios.lookup(owner.name(), false)) {
            DiosException e = assertThrows(DiosException.class, other::zombify);
            assertEquals(Errno.EACCES, e.errno());
            assertFalse(other.isClosed());
            assertEquals(64, other.size());
            owner.zombify();
            DiosException z = assertThrows(DiosException.class, () -> other.acquireRead(0));
            assertEquals(Errno.EIDRM, z.errno());
        }
    }
}

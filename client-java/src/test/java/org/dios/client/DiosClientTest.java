package org.dios.client;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Java client against a real daemon: names, zero-copy buffers, errors with their errno. */
@ExtendWith(Daemon.class)
class DiosClientTest {
    /** ENOMEM says which limit: the message and detail() name --max-refs and its value. */
    @Test
    void enomemNamesTheLimit() {
        java.util.List<Ref> held = new java.util.ArrayList<>();
        DiosException e = null;
        try {
            while (e == null) {
                try {
                    held.add(Dios.createAnonymous(Dios.D_OBJ_SHMEM, 4096));
                } catch (DiosException x) {
                    e = x;
                }
                assertTrue(held.size() <= 1 << 20, "no limit after " + held.size() + " references");
            }
        } finally {
            for (Ref r : held) r.close();
        }
        assertEquals(Errno.ENOMEM, e.errno(), e.getMessage());
        assertTrue(e.detail().contains("--max-refs"), e.detail());
        assertTrue(e.getMessage().endsWith(e.detail()), e.getMessage());
        // the limit's value: at least the references it held, plus the task's own
        assertTrue(e.detail().matches(".*\\((\\d+)\\).*"), e.detail());
        long limit = Long.parseLong(e.detail().replaceAll(".*\\((\\d+)\\).*", "$1"));
        assertTrue(limit > held.size() && limit <= held.size() + 16, limit + " vs " + held.size() + " held");
        Dios.createAnonymous(Dios.D_OBJ_SHMEM, 4096).close(); // room again
    }

    /** While the daemon is up, reconnect does nothing: references stay usable. */
    @Test
    void reconnectWhileUpKeepsReferences() {
        try (Ref r = Dios.createAnonymous(Dios.D_OBJ_SHMEM, 4096)) {
            Dios.reconnect();
            assertEquals(Dios.D_OBJ_SHMEM, r.type());
        }
    }

    @Test
    void bytesWrittenThroughOneReferenceAreReadThroughAnother() {
        Name name = Name.fromString("java-test/" + System.nanoTime());
        byte[] msg = "hello from java".getBytes();
        try (Ref w = Dios.createNamed(Dios.D_OBJ_SHMEM, 4096, name)) {
            assertEquals(name, w.name());
            try (Buffer b = w.acquireWrite(0)) {
                assertEquals(4096, b.segment().byteSize());
                MemorySegment.copy(msg, 0, b.segment(), JAVA_BYTE, 0, msg.length);
                b.commit(msg.length);
            }
            try (Ref r = Dios.lookup(name, true); Buffer b = r.acquireRead(msg.length)) {
                assertEquals(Dios.D_PERM_READ, r.perms());
                assertArrayEquals(msg, b.segment().asSlice(0, msg.length).toArray(JAVA_BYTE));
                assertTrue(b.validate(), "no write since the acquire");
            }
        }
    }

    @Test
    void releasedBufferSegmentIsUnusable() {
        try (Ref r = Dios.createAnonymous(Dios.D_OBJ_PRIVMEM, 64)) {
            Buffer b = r.acquireWrite(0);
            MemorySegment seg = b.segment();
            seg.set(JAVA_BYTE, 0, (byte) 1);
            b.close();
            assertThrows(IllegalStateException.class, () -> seg.get(JAVA_BYTE, 0));
        }
    }

    @Test
    void staleReadIsReported() {
        try (Ref r = Dios.createAnonymous(Dios.D_OBJ_SHMEM, 128); Buffer rd = r.acquireRead(0)) {
            Buffer wr = r.acquireWrite(0);
            wr.commit(1);
            assertFalse(rd.validate(), "commit_read after a committed write is -ESTALE");
            assertFalse(rd.validate(), "the write buffer is still out: a write in progress");
            wr.close();
            assertFalse(rd.validate(), "armed while the write was out");
            assertTrue(rd.validate(), "re-armed with no writer out");
        }
    }

    @Test
    void anExclusiveWriteKeepsOtherWritersOut() {
        try (Ref r = Dios.createNamed(Dios.D_OBJ_SHMEM, 64, Name.fromString("java-excl/" + System.nanoTime()));
             Ref other = Dios.lookup(r.name(), false); Buffer rd = other.acquireRead(8)) {
            try (Buffer x = r.acquireWriteExclusive(8)) {
                DiosException e = assertThrows(DiosException.class, () -> other.acquireWrite(8, Dios.D_NONBLOCK));
                assertEquals(Errno.EAGAIN, e.errno());
                e = assertThrows(DiosException.class,
                        () -> other.acquireWrite(8, Dios.D_NONBLOCK | Dios.D_ACQUIRE_EXCLUSIVE));
                assertEquals(Errno.EAGAIN, e.errno());
                assertFalse(rd.validate(), "a write is in progress");
                assertEquals(Dios.D_REF_STATE_READABLE, r.state() & (Dios.D_REF_STATE_READABLE | Dios.D_REF_STATE_WRITABLE));
                x.commit(8);
            }
            // a plain writer out: an exclusive one must wait, a plain one need not
            try (Buffer p = r.acquireWrite(8, Dios.D_NONBLOCK); Buffer p2 = other.acquireWrite(8, Dios.D_NONBLOCK)) {
                DiosException e = assertThrows(DiosException.class,
                        () -> other.acquireWrite(8, Dios.D_NONBLOCK | Dios.D_ACQUIRE_EXCLUSIVE));
                assertEquals(Errno.EAGAIN, e.errno());
            }
            DiosException e = assertThrows(DiosException.class, () -> r.acquireRead(8, Dios.D_ACQUIRE_EXCLUSIVE));
            assertEquals(Errno.EINVAL, e.errno(), "reads cannot be exclusive");
        }
    }

    /** Two threads count with exclusive read-modify-writes (buffers, not references, hold it): none is lost. */
    @Test
    void exclusiveReadModifyWriteIsExact() throws Exception {
        int perThread = 2000;
        for (int type : new int[] {Dios.D_OBJ_SHMEM, Dios.D_OBJ_BLOB}) {
            try (Ref r = Dios.createAnonymous(type, 8)) {
                r.withWrite(8, seg -> { seg.set(JAVA_LONG, 0, 0L); return 8; });
                Thread[] ts = new Thread[2];
                Throwable[] err = new Throwable[2];
                for (int t = 0; t < 2; t++) {
                    int i = t;
                    ts[t] = new Thread(() -> {
                        try {
                            for (int k = 0; k < perThread; k++) {
                                r.withExclusiveWrite(8, seg -> {
                                    long v = seg.get(JAVA_LONG, 0);
                                    Thread.yield();
                                    seg.set(JAVA_LONG, 0, v + 1);
                                    return 8;
                                });
                            }
                        } catch (Throwable x) {
                            err[i] = x;
                        }
                    });
                    ts[t].start();
                }
                for (Thread t : ts) t.join(60_000);
                for (Throwable x : err) if (x != null) throw new AssertionError(x);
                assertEquals(2L * perThread, (long) r.withRead(8, seg -> seg.get(JAVA_LONG, 0)), "object type " + type);
            }
        }
    }

    /** Compare-and-swap on the mapped segment, through two write buffers of two references. */
    @Test
    void compareAndSwapOnTheMappingIsExact() throws Exception {
        java.lang.invoke.VarHandle h = JAVA_LONG.varHandle();
        int perThread = 100_000;
        try (Ref r = Dios.createNamed(Dios.D_OBJ_SHMEM, 64, Name.fromString("java-cas/" + System.nanoTime()));
             Ref other = Dios.lookup(r.name(), false); Buffer a = r.acquireWrite(0); Buffer b = other.acquireWrite(0)) {
            Thread[] ts = new Thread[2];
            for (int t = 0; t < 2; t++) {
                MemorySegment seg = (t == 0 ? a : b).segment();
                ts[t] = new Thread(() -> {
                    for (int k = 0; k < perThread; k++) {
                        long v;
                        do {
                            v = (long) h.getVolatile(seg, 8L);
                        } while (!h.compareAndSet(seg, 8L, v, v + 1));
                    }
                });
                ts[t].start();
            }
            for (Thread t : ts) t.join(60_000);
            assertEquals(2L * perThread, (long) h.getVolatile(a.segment(), 8L));
            assertThrows(IllegalArgumentException.class, () -> h.compareAndSet(a.segment(), 4L, 0L, 1L), "unaligned");
        }
    }

    @Test
    void errorsCarryCallAndErrno() {
        DiosException e = assertThrows(DiosException.class, () -> Dios.lookup(Name.fromString("no such name " + System.nanoTime()), false));
        assertEquals("dios_lookup", e.call());
        assertEquals(2, e.errno()); // ENOENT
        DiosException w;
        try (Ref r = Dios.createNamed(Dios.D_OBJ_SHMEM, 64); Ref ro = Dios.lookup(r.name(), true)) {
            w = assertThrows(DiosException.class, () -> ro.acquireWrite(0));
        }
        assertEquals("dios_acquire_write", w.call());
        assertEquals(13, w.errno()); // EACCES
        DiosException inv = assertThrows(DiosException.class, () -> Dios.createAnonymous(Dios.D_OBJ_SHMEM, 0));
        assertEquals(22, inv.errno()); // EINVAL
        assertThrows(DiosException.class, () -> Name.parse("too short"));
    }

    @Test
    void objectsAreFreedWhenTheirReferencesClose() {
        long[] before = Dios.daemonStats();
        for (int i = 0; i < 100; i++) {
            try (Ref r = Dios.createNamed(Dios.D_OBJ_SHMEM, 4096); Buffer b = r.acquireWrite(0)) {
                b.segment().set(JAVA_BYTE, 0, (byte) i);
            }
        }
        long[] after = Dios.daemonStats();
        assertArrayEquals(before, after, "objects, names, refs, buffers and segments back to where they were");
    }

    @Test
    void threadsShareTheConnection() throws InterruptedException {
        Thread[] ts = new Thread[4];
        Throwable[] err = new Throwable[1];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = Thread.ofPlatform().start(() -> {
                try {
                    for (int k = 0; k < 2000; k++) {
                        Dios.nop();
                        try (Ref r = Dios.createAnonymous(Dios.D_OBJ_SHMEM, 64)) {
                            assertEquals(64, r.size());
                        }
                    }
                } catch (Throwable t) {
                    err[0] = t;
                }
            });
        }
        for (Thread t : ts) t.join();
        assertNull(err[0], () -> "a thread failed: " + err[0]);
    }

    @Test
    void blobGrowsOnCommitAndResolvesByName() {
        Name name = Name.fromString("java-test/blob/" + System.nanoTime()); // the state directory outlives runs
        byte[] msg = "durable bytes from java".getBytes();
        try (Ref w = Dios.createNamed(Dios.D_OBJ_BLOB, 0, name)) {
            assertEquals(Dios.D_OBJ_BLOB, w.type());
            assertEquals(0, w.size());
            try (Buffer b = w.acquireWrite(msg.length)) {
                assertEquals(msg.length, b.segment().byteSize());
                MemorySegment.copy(msg, 0, b.segment(), JAVA_BYTE, 0, msg.length);
                b.commit(msg.length);
            }
            assertEquals(msg.length, w.size(), "the commit grew the blob");
        }
        try (Ref r = Dios.lookup(name, true); Buffer b = r.acquireRead(0)) {
            assertEquals(msg.length, r.size(), "a named blob outlives its references");
            assertArrayEquals(msg, b.segment().toArray(JAVA_BYTE));
            DiosException e = assertThrows(DiosException.class, () -> r.acquireWrite(1));
            assertEquals(13, e.errno(), "read-only: EACCES");
        }
        Ref d = Dios.lookup(name, false);
        assertEquals(Dios.D_PERM_READ | Dios.D_PERM_WRITE | Dios.D_PERM_DELETE, d.perms());
        d.zombify();
        DiosException e = assertThrows(DiosException.class, () -> Dios.lookup(name, false));
        assertEquals(2, e.errno(), "zombified: ENOENT");
    }
}

package org.dios.diosd.objects;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.dios.abi.Abi;

import static org.junit.jupiter.api.Assertions.*;

class ObjectManagerTest {
    private final Stats stats = new Stats();
    private final ObjectManager om = new ObjectManager(stats);
    private final SyntheticTasks tasks = new SyntheticTasks();

    @AfterEach
    void close() {
        tasks.close();
    }

    private MemoryObject shmem(TaskSession owner) {
        MemoryObject m = new MemoryObject(om.newObjectId(), Abi.D_OBJ_SHMEM, owner.taskId, 4096);
        om.adopt(m);
        return m;
    }

    @Test
    void namesResolveUntilTheLastReferenceGoes() {
        TaskSession a = tasks.session(1);
        TaskSession b = tasks.session(2);
        MemoryObject m = shmem(a);
        long ra = om.addReference(a, m, Abi.D_PERM_READ | Abi.D_PERM_WRITE);
        Name n = Name.fromString("shared");
        assertTrue(om.bind(n, m));
        assertFalse(om.bind(n, shmem(a)), "a bound name cannot be bound again");
        assertSame(m, om.resolve(n));

        assertTrue(m.tryRetain());
        long rb = om.addReference(b, m, Abi.D_PERM_READ);
        assertEquals(2, m.refCount());

        om.removeReference(a, a.refs.get(ra));
        assertSame(m, om.resolve(n), "still referenced by b");
        assertFalse(m.isFreed());

        om.removeReference(b, b.refs.get(rb));
        assertNull(om.resolve(n), "last reference gone: name unbound");
        assertTrue(m.isFreed());
        assertFalse(m.tryRetain(), "increment-not-zero: a freed object cannot be resurrected");
    }

    @Test
    void statsReturnToBaselineAfterReleaseAll() {
        TaskSession a = tasks.session(1);
        long objects0 = stats.objects, refs0 = stats.refs, names0 = stats.names;
        for (int i = 0; i < 100; i++) {
            MemoryObject m = shmem(a);
            om.addReference(a, m, Abi.D_PERM_READ);
            if (i % 2 == 0) om.bindRandom(m);
        }
        assertEquals(objects0 + 100, stats.objects);
        assertEquals(names0 + 50, stats.names);
        om.releaseAll(a);
        assertEquals(objects0, stats.objects);
        assertEquals(refs0, stats.refs);
        assertEquals(names0, stats.names);
        assertEquals(0, a.refs.size());
    }

    @Test
    void zombieKeepsReferencesButLosesItsName() {
        TaskSession a = tasks.session(1);
        MemoryObject m = shmem(a);
        long r = om.addReference(a, m, Abi.D_PERM_READ | Abi.D_PERM_DELETE);
        Name n = om.bindRandom(m);
        om.zombify(m);
        assertTrue(m.isZombie());
        assertNull(om.resolve(n));
        assertNotNull(a.refs.get(r), "references to a zombie stay valid");
        om.removeReference(a, a.refs.get(r));
        assertEquals(0, stats.objects);
    }

    @Test
    void eachTaskKnowsWhenItsLastReferenceToAnObjectGoes() {
        // Interleaved holds of three tasks, including the solo holder dropping to zero
        // while others still hold, checked against a plain per-task count.
        MemoryObject m = shmem(tasks.session(1));
        java.util.Map<Long, Integer> model = new java.util.HashMap<>();
        java.util.Random rnd = new java.util.Random(42);
        for (int i = 0; i < 10_000; i++) {
            long task = 1 + rnd.nextInt(3);
            int held = model.getOrDefault(task, 0);
            if (held > 0 && rnd.nextBoolean()) {
                assertEquals(held - 1, m.unhold(task), "task " + task + " after dropping one of " + held);
                model.put(task, held - 1);
            } else {
                m.hold(task);
                model.put(task, held + 1);
            }
        }
        for (long task = 1; task <= 3; task++) {
            for (int k = model.getOrDefault(task, 0); k > 0; k--) assertEquals(k - 1, m.unhold(task));
            assertEquals(0, m.unhold(task), "nothing left to drop");
        }
    }

    @Test
    void privateMemoryIsPrivateToItsCreator() {
        TaskSession a = tasks.session(1);
        TaskSession b = tasks.session(2);
        MemoryObject p = new MemoryObject(om.newObjectId(), Abi.D_OBJ_PRIVMEM, a.taskId, 64);
        assertFalse(p.privateTo(a));
        assertTrue(p.privateTo(b));
        assertFalse(shmem(a).privateTo(b));
    }

    @Test
    void fullReferenceTableGivesTheCountBack() {
        TaskSession a = tasks.session(1, 16);
        for (int i = 0; i < 16; i++) assertNotEquals(0, om.addReference(a, shmem(a), Abi.D_PERM_READ));
        MemoryObject extra = shmem(a);
        assertEquals(0, om.addReference(a, extra, Abi.D_PERM_READ));
        assertTrue(extra.isFreed(), "the object whose reference could not be added is freed, not leaked");
    }

    private java.util.List<Long> ids(int type) {
        java.util.List<Long> l = new java.util.ArrayList<>();
        om.forEachOfType(type, o -> l.add(o.id));
        return l;
    }

    @Test
    void liveObjectsAreListedByTypeInIdOrderUntilTheirLastReferenceGoes() {
        TaskSession a = tasks.session(1);
        long[] refs = new long[6];
        MemoryObject[] objs = new MemoryObject[6];
        for (int i = 0; i < 6; i++) {
            objs[i] = i % 2 == 0 ? shmem(a) : new MemoryObject(om.newObjectId(), Abi.D_OBJ_PRIVMEM, a.taskId, 64);
            if (i % 2 == 1) om.adopt(objs[i]);
            refs[i] = om.addReference(a, objs[i], Abi.D_PERM_READ | Abi.D_PERM_DELETE);
        }
        assertEquals(java.util.List.of(objs[0].id, objs[2].id, objs[4].id), ids(Abi.D_OBJ_SHMEM));
        assertEquals(java.util.List.of(objs[1].id, objs[3].id, objs[5].id), ids(Abi.D_OBJ_PRIVMEM));
        assertEquals(3, stats.objectsByType[Abi.D_OBJ_SHMEM]);
        assertEquals(3, stats.objectsByType[Abi.D_OBJ_PRIVMEM]);

        // unlinked from the middle, the head and the tail
        om.removeReference(a, a.refs.get(refs[2]));
        om.removeReference(a, a.refs.get(refs[1]));
        om.removeReference(a, a.refs.get(refs[5]));
        assertEquals(java.util.List.of(objs[0].id, objs[4].id), ids(Abi.D_OBJ_SHMEM));
        assertEquals(java.util.List.of(objs[3].id), ids(Abi.D_OBJ_PRIVMEM));

        // a zombie is still an object (its references see -EIDRM) until the last one goes
        om.zombify(objs[0]);
        assertEquals(java.util.List.of(objs[0].id, objs[4].id), ids(Abi.D_OBJ_SHMEM));
        om.releaseAll(a);
        assertEquals(java.util.List.of(), ids(Abi.D_OBJ_SHMEM));
        assertEquals(java.util.List.of(), ids(Abi.D_OBJ_PRIVMEM));
        for (long n : stats.objectsByType) assertEquals(0, n);
        assertEquals(0, stats.objects);

        MemoryObject again = shmem(a);
        assertEquals(java.util.List.of(again.id), ids(Abi.D_OBJ_SHMEM), "an emptied list takes new objects");
    }

    @Test
    void fifoBytesAreTheWritersTailsNeverGoingBackNorCountedTwice() {
        TaskSession a = tasks.session(1);
        FifoObject f = new FifoObject(om.newObjectId(), om.newObjectId(), a.taskId, Abi.DIOS_FIFO_ALIGN);
        om.adopt(f);
        long r = om.addReference(a, f, Abi.D_PERM_READ | Abi.D_PERM_WRITE | Abi.D_PERM_DELETE);
        assertEquals(0, om.fifoBytesWritten(), "no end attached: no control page, nothing written");
        assertEquals(0, f.ensureBacking(stats));
        // the writer end's view of the control page, as a task maps it
        long addr = org.dios.diosd.sys.LibC.mmap(Abi.DIOS_FIFO_CTL_SIZE,
                org.dios.diosd.sys.LibC.PROT_READ | org.dios.diosd.sys.LibC.PROT_WRITE,
                org.dios.diosd.sys.LibC.MAP_SHARED, f.ctlFd(), 0);
        assertTrue(addr > 0);
        java.lang.foreign.MemorySegment ctl = java.lang.foreign.MemorySegment.ofAddress(addr).reinterpret(Abi.DIOS_FIFO_CTL_SIZE);
        try {
            ctl.set(java.lang.foreign.ValueLayout.JAVA_LONG, org.dios.abi.FifoCtlDescriptor.TAIL_OFFSET, 100L);
            assertEquals(100, om.fifoBytesWritten());
            ctl.set(java.lang.foreign.ValueLayout.JAVA_LONG, org.dios.abi.FifoCtlDescriptor.TAIL_OFFSET, 40L);
            assertEquals(100, om.fifoBytesWritten(), "a tail moved backwards (a confused task) does not reset the counter");
            ctl.set(java.lang.foreign.ValueLayout.JAVA_LONG, org.dios.abi.FifoCtlDescriptor.TAIL_OFFSET, 250L);
            assertEquals(250, om.fifoBytesWritten());

            FifoObject g = new FifoObject(om.newObjectId(), om.newObjectId(), a.taskId, Abi.DIOS_FIFO_ALIGN);
            om.adopt(g);
            om.addReference(a, g, Abi.D_PERM_READ | Abi.D_PERM_WRITE);
            om.zombify(f); // freed now (control page unmapped by the daemon), still listed
            assertEquals(250, om.fifoBytesWritten(), "a zombie's bytes are kept once, not twice");
            om.removeReference(a, a.refs.get(r));
            assertEquals(250, om.fifoBytesWritten(), "and kept after the FIFO is gone");
        } finally {
            org.dios.diosd.sys.LibC.munmap(addr, Abi.DIOS_FIFO_CTL_SIZE);
        }
    }
}

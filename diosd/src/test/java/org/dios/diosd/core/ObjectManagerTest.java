package org.dios.diosd.core;

import static org.junit.jupiter.api.Assertions.*;

import org.dios.abi.Abi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

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
        assertFalse(ObjectManager.isPrivateTo(p, a));
        assertTrue(ObjectManager.isPrivateTo(p, b));
        assertFalse(ObjectManager.isPrivateTo(shmem(a), b));
    }

    @Test
    void fullReferenceTableGivesTheCountBack() {
        TaskSession a = tasks.session(1, 16);
        for (int i = 0; i < 16; i++) assertNotEquals(0, om.addReference(a, shmem(a), Abi.D_PERM_READ));
        MemoryObject extra = shmem(a);
        assertEquals(0, om.addReference(a, extra, Abi.D_PERM_READ));
        assertTrue(extra.isFreed(), "the object whose reference could not be added is freed, not leaked");
    }
}

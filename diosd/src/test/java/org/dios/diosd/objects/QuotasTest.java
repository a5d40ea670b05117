package org.dios.diosd.objects;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.dios.abi.Abi;
import org.dios.diosd.journal.JournalRecord;

import static org.junit.jupiter.api.Assertions.*;

/** The per-user quota table and how ObjectManager charges and gives back objects and names. */
class QuotasTest {
    private static final int DAEMON_UID = 4242;
    private final Stats stats = new Stats();
    private final SyntheticTasks tasks = new SyntheticTasks();

    @AfterEach
    void close() {
        tasks.close();
    }

    private static Quotas quotas(long objects, long names, long memory) {
        long[] l = Quotas.sized(20_000, 1L << 30, 8L << 30, 1L << 40);
        l[Quotas.OBJECTS] = objects;
        l[Quotas.NAMES] = names;
        l[Quotas.MEMORY_BYTES] = memory;
        return new Quotas(l, DAEMON_UID);
    }

    @Test
    void aChargeStopsExactlyAtTheQuotaWithEdquotAndChargesNothingThen() {
        Quotas q = quotas(3, 3, 1000);
        Quotas.Account a = q.account(1000);
        for (int i = 0; i < 3; i++) assertEquals(0, q.charge(a, Quotas.OBJECTS, 1));
        assertEquals(-Abi.DIOS_EDQUOT, q.charge(a, Quotas.OBJECTS, 1));
        assertEquals(3, a.used(Quotas.OBJECTS), "a refused charge takes nothing");
        assertEquals(1, q.refusals(Quotas.OBJECTS));
        assertEquals(Quotas.OBJECTS, q.lastRefused());
        assertEquals(-Abi.DIOS_EDQUOT, q.charge(a, Quotas.MEMORY_BYTES, 1001));
        assertEquals(Quotas.MEMORY_BYTES, q.lastRefused());
        assertEquals(0, q.charge(a, Quotas.MEMORY_BYTES, 1000));
        // Another user's account is its own.
        assertEquals(0, q.charge(q.account(1001), Quotas.OBJECTS, 3));
        q.release(a, Quotas.OBJECTS, 1);
        assertEquals(0, q.charge(a, Quotas.OBJECTS, 1), "room again once one is given back");
        assertThrows(IllegalStateException.class, () -> q.release(q.account(1001), Quotas.NAMES, 1));
    }

    @Test
    void theDaemonsOwnUidIsNeverCharged() {
        Quotas q = quotas(1, 1, 1);
        assertNull(q.account(DAEMON_UID));
        assertEquals(0, q.charge(null, Quotas.OBJECTS, 1_000_000));
        assertEquals(0, q.accounts());
    }

    @Test
    void objectsAndNamesAreGivenBackWhenFreedAndTheAccountGoes() {
        Quotas q = quotas(2, 1, 10_000);
        ObjectManager om = new ObjectManager(stats, q);
        TaskSession s = tasks.session(1);
        Quotas.Account a = q.account(1000);
        assertEquals(0, om.quotaCheck(a, Abi.D_OBJ_SHMEM, true, Quotas.MEMORY_BYTES, 4096));
        MemoryObject m = new MemoryObject(om.newObjectId(), Abi.D_OBJ_SHMEM, s.taskId, 4096);
        om.adopt(m);
        om.charge(m, a, Quotas.MEMORY_BYTES, 4096);
        long ref = om.addReference(s, m, Abi.D_PERM_READ | Abi.D_PERM_WRITE);
        assertTrue(om.bind(Name.fromString("q1"), m));
        assertEquals(1, a.used(Quotas.OBJECTS));
        assertEquals(1, a.used(Quotas.NAMES));
        assertEquals(4096, a.used(Quotas.MEMORY_BYTES));
        // The name quota (1) is full; the object quota (2) is not; memory has 5904 left.
        assertEquals(-Abi.DIOS_EDQUOT, om.quotaCheck(a, Abi.D_OBJ_SHMEM, true, Quotas.MEMORY_BYTES, 16));
        assertEquals(0, om.quotaCheck(a, Abi.D_OBJ_SHMEM, false, Quotas.MEMORY_BYTES, 16));
        assertEquals(-Abi.DIOS_EDQUOT, om.quotaCheck(a, Abi.D_OBJ_SHMEM, false, Quotas.MEMORY_BYTES, 6000));
        assertEquals(1, q.refusals(Quotas.NAMES));
        assertEquals(1, q.refusals(Quotas.MEMORY_BYTES));

        om.removeReference(s, s.refs.get(ref));
        assertEquals(0, a.used(Quotas.OBJECTS));
        assertEquals(0, a.used(Quotas.NAMES));
        assertEquals(0, a.used(Quotas.MEMORY_BYTES));
        assertEquals(0, q.accounts(), "an account holding nothing is dropped");
    }

    @Test
    void aZombieGivesBackOnceNotAgainWhenItsLastReferenceGoes() {
        Quotas q = quotas(5, 5, 1L << 20);
        ObjectManager om = new ObjectManager(stats, q);
        TaskSession s = tasks.session(1);
        Quotas.Account a = q.account(1000);
        MemoryObject m = new MemoryObject(om.newObjectId(), Abi.D_OBJ_SHMEM, s.taskId, 100);
        om.adopt(m);
        om.charge(m, a, Quotas.MEMORY_BYTES, 100);
        long ref = om.addReference(s, m, Abi.D_PERM_READ | Abi.D_PERM_WRITE);
        om.bind(Name.fromString("z"), m);
        // Another user's object keeps its own charges.
        Quotas.Account b = q.account(1001);
        MemoryObject other = new MemoryObject(om.newObjectId(), Abi.D_OBJ_SHMEM, s.taskId, 7);
        om.adopt(other);
        om.charge(other, b, Quotas.MEMORY_BYTES, 7);
        om.addReference(s, other, Abi.D_PERM_READ);

        om.zombify(m);
        assertEquals(0, a.used(Quotas.OBJECTS));
        assertEquals(0, a.used(Quotas.NAMES));
        assertEquals(0, a.used(Quotas.MEMORY_BYTES));
        om.removeReference(s, s.refs.get(ref)); // would throw on a second release below zero
        assertEquals(1, b.used(Quotas.OBJECTS));
        assertEquals(7, b.used(Quotas.MEMORY_BYTES));
    }

    @Test
    void fifosAndBlobsCountAsTheirOwnKindBesidesObjects() {
        Quotas q = quotas(1_000_000, 10, 1L << 20);
        ObjectManager om = new ObjectManager(stats, q);
        Quotas.Account a = q.account(1000);
        long[] l = Quotas.sized(20_000, 1L << 30, 8L << 30, 1L << 40);
        for (int i = 0; i < l[Quotas.FIFOS]; i++) {
            FifoObject f = new FifoObject(om.newObjectId(), om.newObjectId(), 1, 4096);
            om.adopt(f);
            om.charge(f, a, Quotas.MEMORY_BYTES, 0);
        }
        assertEquals(l[Quotas.FIFOS], a.used(Quotas.FIFOS));
        assertEquals(-Abi.DIOS_EDQUOT, om.quotaCheck(q.account(1000), Abi.D_OBJ_FIFO, false, Quotas.MEMORY_BYTES, 0));
        assertEquals(1, q.refusals(Quotas.FIFOS));
    }

    @Test
    void defaultsAreSizedToTheDaemon() {
        // The red team's daemon: 20,000 descriptors, a 128 MiB heap.
        long[] l = Quotas.sized(20_000, 128L << 20, 16L << 30, 100L << 30);
        assertEquals(2500, l[Quotas.OBJECTS], "min(128 MiB / 4 / 1 KiB = 32768, 20000 / 4 / 2 fds an object)");
        assertEquals(l[Quotas.OBJECTS], l[Quotas.NAMES]);
        assertEquals(8L << 30, l[Quotas.MEMORY_BYTES]);
        assertEquals(1666, l[Quotas.FIFOS], "a quarter of the fds, three a FIFO");
        assertEquals(2500, l[Quotas.BLOBS]);
        assertEquals(25L << 30, l[Quotas.BLOB_BYTES]);
        assertEquals(1250, l[Quotas.PENDING]);
        // Four users at their object quota hold at most the whole heap budget (at 1 KiB an object).
        long[] big = Quotas.sized(1 << 20, 128L << 20, 16L << 30, 100L << 30);
        assertEquals(32768, big[Quotas.OBJECTS]);
        assertTrue(Quotas.SHARE * big[Quotas.OBJECTS] * Quotas.OBJECT_HEAP_COST <= 128L << 20);
        assertThrows(IllegalArgumentException.class, () -> new Quotas(new long[Quotas.KINDS], 0));
    }

    @Test
    void theJournalRecordsABlobsCreatorAndAnOldRecordHasNone() throws Exception {
        byte[] name = new byte[32];
        name[0] = 7;
        JournalRecord r = JournalRecord.create(5, name, 10, "0000000000000005.blob", 1, 65534, false);
        JournalRecord back = JournalRecord.decode(r.encode());
        assertEquals(65534, back.creatorUid());
        assertEquals(65534, back.withSize(99).creatorUid(), "a size change keeps the creator");
        assertEquals(0, JournalRecord.decode(JournalRecord.create(6, name, 0, "0000000000000006.blob", 1, 0, true)
                .encode()).creatorUid(), "root is recorded as root");
        assertEquals(-1, JournalRecord.create(7, name, 0, "0000000000000007.blob", 1).creatorUid(),
                "a record without a creator (as before) charges no one");
    }
}

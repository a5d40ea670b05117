package org.dios.diosd.objects;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.dios.abi.Abi;
import org.dios.diosd.journal.Journal;
import org.dios.diosd.journal.JournalRecord;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Durable blob commits off the conductor (issue 18.4): a commit_write on a
 * durable blob parks, its fdatasync and journal append run on the sync
 * thread, and the conductor finishes it (size, sequence word, completion)
 * in order; a reader never validates across a commit still syncing; a task
 * that dies meanwhile is owed nothing and leaves nothing behind; shutdown
 * waits for the syncs in flight. The C tests (t_red_blobsync, t_blob,
 * t_blob_disk_full) drive the same through a daemon.
 */
class BlobSyncTest {
    @TempDir
    Path state;

    private Stats stats;
    private ObjectManager om;
    private BlobStore store;
    private final SyntheticTasks tasks = new SyntheticTasks();
    private TaskSession task;
    private Call call;
    /** Completions made through the completer: res of each, in order. */
    private final List<Integer> results = new ArrayList<>();
    private final Completer completer = (s, pc, res, f, v) -> {
        if (!pc.done && !s.dead) results.add(res);
        s.completeParked(pc, res, f, v);
    };

    @BeforeEach
    void open() throws IOException {
        run();
        task = tasks.session(1);
    }

    @AfterEach
    void close() {
        if (store != null) store.close();
        tasks.close();
    }

    /** A "daemon run": the store opened (journal replayed) and attached. */
    private void run() throws IOException {
        if (store != null) store.close();
        stats = new Stats();
        om = new ObjectManager(stats);
        store = BlobStore.open(state);
        store.attach(om, stats);
        call = new Call(om, stats, Limits.defaults(), s -> { }, new Deadlines());
    }

    private BlobObject named(String name) {
        BlobObject b = store.create(om.newObjectId(), 1, 0);
        assertNotNull(b);
        om.adopt(b);
        Name n = Name.fromString(name);
        assertTrue(om.bind(n, b));
        assertEquals(0, store.makeDurable(b, n));
        return b;
    }

    /** A write buffer of len bytes on b through a new reference of the task (its segment counted as sent). */
    private Buffer writeBuffer(BlobObject b, long len) {
        assertTrue(b.tryRetain());
        Reference r = task.refs.get(om.addReference(task, b, Abi.D_PERM_READ | Abi.D_PERM_WRITE));
        assertEquals(0, store.ensureMapping(b, len));
        task.delivered.put(b.segmentId(), 3); // the daemon would have sent it: no socket here
        call.reset(task, 7, Abi.D_OP_ACQUIRE_WRITE);
        assertEquals(0, b.acquire(call, r, len, true));
        return task.buffers.get(call.val[0]);
    }

    private int commit(BlobObject b, Buffer buf, long len, long userData) {
        call.reset(task, userData, Abi.D_OP_COMMIT_WRITE);
        return b.commit(call, buf, len, true);
    }

    /** Turns the conductor's loop until n commits finished (bounded: 10 s). */
    private void finish(int n) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int done = 0;
        while (done < n) {
            done += store.finishSyncs(completer);
            if (done < n) {
                assertTrue(System.nanoTime() - end < 0, "the sync thread finished " + done + " of " + n + " in 10 s");
                Thread.sleep(1);
            }
        }
    }

    @Test
    void aDurableCommitParksAndCompletesOnlyOnceSynced() throws Exception {
        BlobObject b = named("b");
        Buffer w = writeBuffer(b, 5000);
        long seqOut = b.seq();
        assertEquals(1, seqOut & 1, "odd while the write buffer is out");
        assertEquals(Call.PARKED, commit(b, w, 5000, 0x11));
        assertEquals(1, task.parked.size(), "parked until durable");
        assertEquals(0, b.size(), "not visible before it is durable");
        // the writer's buffer goes while the commit still syncs: the word stays odd
        task.buffers.remove(w.id);
        b.released(task, w, completer);
        assertEquals(1, b.seq() & 1, "no reader validates across a commit that is not durable yet");
        finish(1);
        assertEquals(List.of(0), results);
        assertTrue(task.parked.isEmpty());
        assertEquals(5000, b.size());
        assertEquals(0, b.seq() & 1, "even once completed");
        assertEquals(seqOut + 1 + 2, b.seq(), "one commit counted, and the write's end");
        assertEquals(0, store.syncsInFlight());
        run(); // restart: the journaled size
        assertEquals(5000, ((BlobObject) om.resolve(Name.fromString("b"))).size());
    }

    @Test
    void commitsOfOneBlobCompleteInOrderAndSizesOnlyGrow() throws Exception {
        BlobObject b = named("order");
        Buffer w = writeBuffer(b, 100_000);
        long[] lens = {100_000, 10, 70_000, 100_000};
        for (int i = 0; i < lens.length; i++) assertEquals(Call.PARKED, commit(b, w, lens[i], 0x20 + i));
        finish(lens.length);
        assertEquals(List.of(0, 0, 0, 0), results);
        long tail = task.cqTail;
        for (int i = 0; i < lens.length; i++) {
            long ud = task.region.get(java.lang.foreign.ValueLayout.JAVA_LONG,
                    RingSlots.cqeOffset((int) (tail - lens.length + i)) + org.dios.abi.CqeDescriptor.USER_DATA_OFFSET);
            assertEquals(0x20 + i, ud, "completion " + i + " in submission order");
        }
        assertEquals(100_000, b.size());
    }

    @Test
    void aTaskThatDiesWhileItsCommitSyncsIsOwedNothingAndLeavesNothing() throws Exception {
        BlobObject b = named("dies");
        Buffer w = writeBuffer(b, 4096);
        assertEquals(Call.PARKED, commit(b, w, 4096, 0x31));
        int cq = task.cqTail;
        // the registry's way: parked calls dropped, references released, the session dead
        for (ParkedCall pc : new ArrayList<>(task.parked)) pc.drop();
        task.parked.clear();
        task.dead = true;
        om.releaseAll(task);
        finish(1);
        assertTrue(results.isEmpty(), "no completion for a dead task");
        assertEquals(cq, task.cqTail);
        assertEquals(4096, b.size(), "the commit reached the disk and the journal: its size holds");
        assertEquals(0, b.seq() & 1, "no write left in progress");
        assertEquals(0, store.syncsInFlight());
    }

    @Test
    void aBlobZombifiedWhileItsCommitSyncsKeepsItsFdUntilThenAndTheJournalStaysClean() throws Exception {
        BlobObject b = named("zombie");
        Buffer w = writeBuffer(b, 4096);
        assertEquals(Call.PARKED, commit(b, w, 4096, 0x51));
        assertEquals(0, store.journalDelete(b));
        om.zombify(b);
        assertTrue(b.isFreed(), "freed: the name held its only other count");
        finish(1);
        assertEquals(1, results.size());
        int rc = results.get(0);
        assertTrue(rc == 0 || rc == -Abi.DIOS_EIDRM, "synced before the deletion, or told it lost the race: " + rc);
        assertEquals(-1, b.rwFd, "the fd closed once its last sync finished");
        assertEquals(0, store.syncsInFlight());
        store.close();
        store = null;
        // no entry of the blob after its DELETE (a SIZE there would read as damage at replay)
        try (Journal j = Journal.open(state.resolve("journal"))) {
            Journal.Replay r = j.replay();
            assertTrue(r.problems().isEmpty(), r.problems().toString());
            boolean deleted = false;
            for (JournalRecord e : r.records()) {
                if (e.blobId != b.blobId()) continue;
                assertFalse(deleted, "an entry after the DELETE: kind " + e.kind);
                deleted = e.kind == JournalRecord.DELETE;
            }
            assertTrue(deleted);
        }
        run();
        assertNull(om.resolve(Name.fromString("zombie")));
    }

    @Test
    void shutdownWaitsForTheCommitsStillSyncing() throws Exception {
        BlobObject b = named("shutdown");
        Buffer w = writeBuffer(b, 8192);
        assertEquals(Call.PARKED, commit(b, w, 8192, 0x41));
        store.close(); // before finishSyncs: the sync itself must be on disk
        store = null;
        run();
        assertEquals(8192, ((BlobObject) om.resolve(Name.fromString("shutdown"))).size());
    }

    /** dios_delete(D_DELETE_ZOMBIFY) through a new reference r of the task; returns the dispatcher's first step. */
    private int zombify(BlobObject b, Reference r, long userData) {
        call.reset(task, userData, Abi.D_OP_DELETE);
        call.flags = Abi.D_DELETE_ZOMBIFY;
        return b.zombifyParked(call, r);
    }

    private Reference ref(BlobObject b) {
        assertTrue(b.tryRetain());
        return task.refs.get(om.addReference(task, b, Abi.D_PERM_READ | Abi.D_PERM_WRITE | Abi.D_PERM_DELETE));
    }

    @Test
    void aDurableZombifyParksAndTakesEffectOnlyOnceItsDeleteIsJournaled() throws Exception {
        BlobObject b = named("zap");
        Reference r = ref(b);
        assertEquals(Call.PARKED, zombify(b, r, 0x61));
        assertEquals(1, task.parked.size(), "parked until the DELETE is on disk");
        assertFalse(b.isZombie(), "nothing changed before the journal has it");
        assertSame(b, om.resolve(Name.fromString("zap")), "still found meanwhile");
        assertTrue(r.live);
        finish(1);
        assertEquals(List.of(0), results);
        assertTrue(task.parked.isEmpty());
        assertTrue(b.isZombie());
        assertNull(om.resolve(Name.fromString("zap")), "its name is unbound");
        assertFalse(r.live, "the caller's reference is gone, as an unparked zombify drops it");
        assertTrue(b.isFreed());
        run(); // restart: the deletion was journaled
        assertNull(om.resolve(Name.fromString("zap")));
    }

    @Test
    void aZombifyWhoseJournalFailsAnswersEioAndChangesNothing() throws Exception {
        BlobObject b = named("keep");
        Reference r = ref(b);
        store.journal().close(); // every append fails from now on, as on a failed disk
        assertEquals(Call.PARKED, zombify(b, r, 0x62));
        finish(1);
        assertEquals(List.of(-Abi.DIOS_EIO), results);
        assertFalse(b.isZombie());
        assertSame(b, om.resolve(Name.fromString("keep")));
        assertTrue(r.live, "the reference is kept");
        assertFalse(b.deletionJournaled);
    }

    @Test
    void twoZombifiesOfOneBlobJournalOneDeleteAndBothComplete() throws Exception {
        BlobObject b = named("twice");
        Reference r1 = ref(b);
        Reference r2 = ref(b);
        assertEquals(Call.PARKED, zombify(b, r1, 0x63));
        assertEquals(Call.PARKED, zombify(b, r2, 0x64));
        finish(2);
        assertEquals(List.of(0, 0), results);
        assertFalse(r1.live);
        assertFalse(r2.live);
        assertTrue(b.isFreed());
        store.close();
        store = null;
        try (Journal j = Journal.open(state.resolve("journal"))) {
            Journal.Replay rp = j.replay();
            assertTrue(rp.problems().isEmpty(), rp.problems().toString());
            long deletes = rp.records().stream().filter(e -> e.blobId == b.blobId() && e.kind == JournalRecord.DELETE).count();
            assertEquals(1, deletes, "one DELETE: a second would read as damage at replay");
        }
        run();
    }

    @Test
    void aTaskThatDiesWhileItsZombifyIsJournaledIsOwedNothingAndTheDeletionHolds() throws Exception {
        BlobObject b = named("gone");
        Reference r = ref(b);
        assertEquals(Call.PARKED, zombify(b, r, 0x65));
        int cq = task.cqTail;
        for (ParkedCall pc : new ArrayList<>(task.parked)) pc.drop();
        task.parked.clear();
        task.dead = true;
        om.releaseAll(task);
        finish(1);
        assertTrue(results.isEmpty(), "no completion for a dead task");
        assertEquals(cq, task.cqTail);
        assertTrue(b.isZombie(), "journaled, so applied: the journal and the name table agree");
        assertNull(om.resolve(Name.fromString("gone")));
        assertTrue(b.isFreed());
    }

    @Test
    void aCommitQueuedBehindAZombifyIsRefusedAndTheJournalStaysClean() throws Exception {
        BlobObject b = named("late");
        Buffer w = writeBuffer(b, 4096);
        Reference r = ref(b);
        assertEquals(Call.PARKED, zombify(b, r, 0x66));
        assertEquals(Call.PARKED, commit(b, w, 4096, 0x67));
        finish(2);
        assertEquals(List.of(0, -Abi.DIOS_EIDRM), results, "in order: the zombify, then the commit that came too late");
        store.close();
        store = null;
        try (Journal j = Journal.open(state.resolve("journal"))) {
            assertTrue(j.replay().problems().isEmpty());
        }
        run();
        assertNull(om.resolve(Name.fromString("late")));
    }

    @Test
    void theConductorNeverWaitsForASlowSync() throws Exception {
        CountDownLatch disk = new CountDownLatch(1);
        List<String> order = new ArrayList<>();
        BlobSyncer syncer = new BlobSyncer(() -> { });
        try {
            BlobSyncer.Job slow = new BlobSyncer.Job() {
                @Override
                public int sync() {
                    try {
                        return disk.await(10, TimeUnit.SECONDS) ? 0 : -Abi.DIOS_ETIMEDOUT;
                    } catch (InterruptedException e) {
                        return -Abi.DIOS_EIO;
                    }
                }

                @Override
                public void done(int rc, Completer c) {
                    order.add("slow " + rc);
                }
            };
            BlobSyncer.Job quick = new BlobSyncer.Job() {
                @Override
                public int sync() {
                    return -Abi.DIOS_EIO;
                }

                @Override
                public void done(int rc, Completer c) {
                    order.add("quick " + rc);
                }
            };
            assertTrue(syncer.submit(slow));
            assertTrue(syncer.submit(quick));
            long t0 = System.nanoTime();
            assertEquals(0, syncer.finish(completer), "nothing synced yet, and finish does not wait for it");
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "finish returned while the disk is stuck");
            assertEquals(2, syncer.inFlight());
            disk.countDown();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            int n = 0;
            while (n < 2 && System.nanoTime() - end < 0) {
                n += syncer.finish(completer);
                Thread.sleep(1);
            }
            assertEquals(List.of("slow 0", "quick " + -Abi.DIOS_EIO), order, "in submission order, errors passed on");
        } finally {
            assertTrue(syncer.close(10_000));
        }
        assertFalse(syncer.submit(new BlobSyncer.Job() {
            @Override
            public int sync() {
                return 0;
            }

            @Override
            public void done(int rc, Completer c) {
            }
        }), "closed: no new work");
    }
}

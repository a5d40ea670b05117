package org.dios.diosd.objects;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.dios.abi.Abi;
import org.dios.abi.CqeDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.journal.Journal;
import org.dios.diosd.journal.JournalRecord;
import org.dios.diosd.ops.CallDispatcher;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.*;

/**
 * CREATE of a named (durable) blob off the conductor (issue 18.4): the
 * conductor checks the call and takes the name at once, then parks it; the
 * sync thread makes the file, syncs it and the directory and journals
 * CREATE; the conductor then completes the call with the reference and the
 * name. Meanwhile the name is taken (-EEXIST) and not found (-ENOENT). A
 * failed disk answers -EIO and leaves no name, file or quota charge; a task
 * that dies meanwhile leaves nothing either. Driven through the dispatcher
 * with real SQEs, as the conductor does.
 */
class BlobCreateSyncTest {
    private static final long SQE = RingSlots.sqeOffset(0);
    private static final long NAMED_GIVEN = Abi.D_CREATE_NAMED | Abi.D_CREATE_NAME_GIVEN;

    @TempDir
    Path state;

    private Stats stats;
    private ObjectManager om;
    private CallDispatcher d;
    private BlobStore store;
    private final SyntheticTasks tasks = new SyntheticTasks();
    private TaskSession task;

    @BeforeEach
    void open() throws IOException {
        run();
    }

    @AfterEach
    void close() {
        if (store != null) store.close();
        tasks.close();
    }

    /** A "daemon run": the store opened (journal replayed) and attached, a fresh task. */
    private void run() throws IOException {
        if (store != null) store.close();
        stats = new Stats();
        om = new ObjectManager(stats);
        d = SyntheticTasks.dispatcher(om, stats);
        store = BlobStore.open(state);
        store.attach(om, stats);
        d.blobs(store);
        task = tasks.session(1);
    }

    /** Runs a CREATE of a blob of size bytes named n (given) with userData; returns the dispatcher's answer. */
    private int startCreate(Name n, long size, long userData) {
        MemorySegment e = SyntheticTasks.firstSqe(task, Abi.D_OP_CREATE, userData);
        e.set(JAVA_INT, SqeDescriptor.OBJ_TYPE_OFFSET, Abi.D_OBJ_BLOB);
        e.set(JAVA_BYTE, SqeDescriptor.SQE_FLAGS_OFFSET, (byte) Abi.D_SQE_ARG);
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, size);
        e.set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, NAMED_GIVEN);
        n.write(e, SqeDescriptor.NAME_OFFSET);
        return d.execute(task, SQE);
    }

    private int lookup(Name n) {
        MemorySegment e = SyntheticTasks.firstSqe(task, Abi.D_OP_LOOKUP, 0x77);
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, 1);
        n.write(e, SqeDescriptor.NAME_OFFSET);
        long cqe = SyntheticTasks.nextCqeOffset(task);
        assertNotEquals(CallDispatcher.PARKED, d.execute(task, SQE));
        return task.region.get(JAVA_INT, cqe + CqeDescriptor.RES_OFFSET);
    }

    /** The idx-th completion from the end (0: the last). */
    private long cqe(int fromEnd) {
        return RingSlots.cqeOffset(task.cqTail - 1 - fromEnd);
    }

    private void finishAll() throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (store.syncsInFlight() > 0) {
            store.finishSyncs(d);
            assertTrue(System.nanoTime() - end < 0, "the sync thread finished nothing in 10 s");
            Thread.sleep(1);
        }
    }

    private long blobFiles() throws IOException {
        try (Stream<Path> s = Files.list(state.resolve("blobs"))) {
            return s.count();
        }
    }

    @Test
    void aNamedCreateParksTakesItsNameAtOnceAndCompletesWithTheReferenceOnceJournaled() throws Exception {
        Name n = Name.fromString("made/off/the/conductor");
        long objects0 = stats.objects;
        assertEquals(CallDispatcher.PARKED, startCreate(n, 4096, 0x81));
        assertEquals(1, task.parked.size());
        finishAll();
        assertTrue(task.parked.isEmpty());
        long c = cqe(0);
        assertEquals(0x81, task.region.get(JAVA_LONG, c + CqeDescriptor.USER_DATA_OFFSET));
        assertEquals(0, task.region.get(JAVA_INT, c + CqeDescriptor.RES_OFFSET));
        long ref = task.region.get(JAVA_LONG, c + CqeDescriptor.VAL_OFFSET);
        Reference r = task.refs.get(ref);
        assertNotNull(r, "the completion carries the creator's reference");
        assertEquals(n.w0(), task.region.get(JAVA_LONG, c + CqeDescriptor.VAL_OFFSET + 8));
        assertEquals(n.w3(), task.region.get(JAVA_LONG, c + CqeDescriptor.VAL_OFFSET + 32));
        BlobObject b = (BlobObject) r.object;
        assertTrue(b.durable());
        assertFalse(b.creating);
        assertEquals(4096, b.size());
        assertEquals(objects0 + 1, stats.objects);
        assertEquals(0, lookup(n), "found once made");
        run(); // restart: the journal has it
        assertEquals(4096, ((BlobObject) om.resolve(n)).size());
    }

    @Test
    void theNameIsTakenAndUnfoundWhileTheSyncThreadWorks() throws Exception {
        Name n = Name.fromString("reserved");
        // Hold the sync thread on a job of our own, so the create surely waits behind it.
        java.util.concurrent.CountDownLatch disk = new java.util.concurrent.CountDownLatch(1);
        assertTrue(storeSyncer().submit(new BlobSyncer.Job() {
            @Override
            public int sync() {
                try {
                    disk.await(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return 0;
            }

            @Override
            public void done(int rc, Completer c) {
            }
        }));
        try {
            assertEquals(CallDispatcher.PARKED, startCreate(n, 10, 0x91));
            long cq = SyntheticTasks.nextCqeOffset(task);
            assertNotEquals(CallDispatcher.PARKED, startCreate(n, 1, 0x92));
            assertEquals(-Abi.DIOS_EEXIST, task.region.get(JAVA_INT, cq + CqeDescriptor.RES_OFFSET));
            assertEquals(-Abi.DIOS_ENOENT, lookup(n));
            assertEquals(0, blobFiles(), "no file made on the conductor");
        } finally {
            disk.countDown();
        }
        finishAll();
        assertEquals(0, task.region.get(JAVA_INT, cqe(0) + CqeDescriptor.RES_OFFSET));
        assertEquals(0x91, task.region.get(JAVA_LONG, cqe(0) + CqeDescriptor.USER_DATA_OFFSET));
        assertEquals(1, blobFiles());
        assertEquals(0, lookup(n));
    }

    private BlobSyncer storeSyncer() {
        return store.syncer();
    }

    @Test
    void aCreateWhoseJournalFailsAnswersEioAndLeavesNoNameFileOrCharge() throws Exception {
        Name n = Name.fromString("never");
        long objects0 = stats.objects, names0 = stats.names;
        Quotas.Account acct = om.quotas.account(task.uid);
        long blobs0 = acct.used(Quotas.BLOBS), nameq0 = acct.used(Quotas.NAMES), objq0 = acct.used(Quotas.OBJECTS);
        store.journal().close(); // every append fails from now on, as on a failed disk
        assertEquals(CallDispatcher.PARKED, startCreate(n, 4096, 0xa1));
        finishAll();
        assertEquals(-Abi.DIOS_EIO, task.region.get(JAVA_INT, cqe(0) + CqeDescriptor.RES_OFFSET));
        assertTrue(task.parked.isEmpty());
        assertEquals(0, task.refs.size(), "no reference");
        assertEquals(objects0, stats.objects);
        assertEquals(names0, stats.names);
        assertNull(om.resolve(n), "the name is free again");
        assertEquals(blobs0, acct.used(Quotas.BLOBS));
        assertEquals(nameq0, acct.used(Quotas.NAMES));
        assertEquals(objq0, acct.used(Quotas.OBJECTS));
        assertEquals(0, acct.used(Quotas.BLOB_BYTES));
        assertEquals(0, blobFiles(), "its file is removed");
    }

    @Test
    void aTaskThatDiesWhileItsCreateSyncsLeavesNothingBehind() throws Exception {
        Name n = Name.fromString("orphan");
        long objects0 = stats.objects;
        Quotas.Account acct = om.quotas.account(task.uid);
        assertEquals(CallDispatcher.PARKED, startCreate(n, 4096, 0xb1));
        int cq = task.cqTail;
        for (ParkedCall pc : new java.util.ArrayList<>(task.parked)) pc.drop();
        task.parked.clear();
        task.dead = true;
        om.releaseAll(task);
        finishAll(); // the create, then its undoing (DELETE journaled)
        assertEquals(cq, task.cqTail, "no completion for a dead task");
        assertEquals(objects0, stats.objects);
        assertNull(om.resolve(n));
        assertEquals(0, acct.used(Quotas.BLOBS));
        assertEquals(0, acct.used(Quotas.NAMES));
        assertEquals(0, acct.used(Quotas.BLOB_BYTES));
        assertEquals(0, blobFiles());
        store.close();
        store = null;
        try (Journal j = Journal.open(state.resolve("journal"))) {
            Journal.Replay r = j.replay();
            assertTrue(r.problems().isEmpty(), r.problems().toString());
            assertEquals(JournalRecord.DELETE, r.records().get(r.records().size() - 1).kind, "created, then deleted");
        }
        run();
        assertNull(om.resolve(n), "not back after a restart");
    }

    @Test
    void createsAndZombifiesCompleteInTheOrderTheyCame() throws Exception {
        Name a = Name.fromString("first"), b = Name.fromString("second");
        assertEquals(CallDispatcher.PARKED, startCreate(a, 0, 0xc1));
        finishAll();
        long refA = task.region.get(JAVA_LONG, cqe(0) + CqeDescriptor.VAL_OFFSET);
        MemorySegment e = SyntheticTasks.firstSqe(task, Abi.D_OP_DELETE, 0xc2);
        e.set(JAVA_LONG, SqeDescriptor.REF_OFFSET, refA);
        e.set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, Abi.D_DELETE_ZOMBIFY);
        assertEquals(CallDispatcher.PARKED, d.execute(task, SQE));
        assertEquals(CallDispatcher.PARKED, startCreate(b, 0, 0xc3));
        finishAll();
        assertEquals(0xc2, task.region.get(JAVA_LONG, cqe(1) + CqeDescriptor.USER_DATA_OFFSET));
        assertEquals(0xc3, task.region.get(JAVA_LONG, cqe(0) + CqeDescriptor.USER_DATA_OFFSET));
        assertEquals(0, task.region.get(JAVA_INT, cqe(1) + CqeDescriptor.RES_OFFSET));
        assertEquals(0, task.region.get(JAVA_INT, cqe(0) + CqeDescriptor.RES_OFFSET));
        assertEquals(-Abi.DIOS_ENOENT, lookup(a));
        assertEquals(0, lookup(b));
    }
}

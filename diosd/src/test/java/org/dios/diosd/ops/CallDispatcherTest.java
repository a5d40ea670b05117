package org.dios.diosd.ops;

import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.dios.abi.CqeDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.objects.BlobStore;
import org.dios.diosd.objects.Name;
import org.dios.diosd.objects.ObjectManager;
import org.dios.diosd.objects.RingSlots;
import org.dios.diosd.objects.Stats;
import org.dios.diosd.objects.SyntheticTasks;
import org.dios.diosd.objects.TaskSession;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.dios.abi.Abi.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Drives the dispatcher through real SQEs in a native region, the way the
 * conductor does, and checks each completion's exact result. (Calls that send
 * fds, the acquires, are covered by the C tests against a running daemon.)
 */
class CallDispatcherTest {
    private static final long SQE = RingSlots.sqeOffset(0);

    private final Stats stats = new Stats();
    private final ObjectManager om = new ObjectManager(stats);
    private final CallDispatcher d = SyntheticTasks.dispatcher(om, stats);
    private final SyntheticTasks tasks = new SyntheticTasks();
    private final TaskSession a = tasks.session(1);
    private final TaskSession b = tasks.session(2);

    @AfterEach
    void close() {
        tasks.close();
    }

    /** A fresh, zeroed SQE for op. */
    private MemorySegment sqe(TaskSession s, int op) {
        return SyntheticTasks.firstSqe(s, op, 0xabcdefL);
    }

    /** Where the last completion was written (the task's cq_tail before the call). */
    private long cqe;

    /** The blob store attached, if any: calls parked on its sync thread are finished through it. */
    private BlobStore blobs;

    private int run(TaskSession s) {
        cqe = SyntheticTasks.nextCqeOffset(s);
        if (d.execute(s, SQE) == CallDispatcher.PARKED) {
            // only a durable blob's create or zombify parks here: it completes once the sync thread is done
            assertNotNull(blobs, "parked without a blob store");
            try {
                SyntheticTasks.finishDurable(blobs, d, s);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
        assertEquals(0xabcdefL, s.region.get(JAVA_LONG, cqe + CqeDescriptor.USER_DATA_OFFSET), "user_data echoed");
        return s.region.get(JAVA_INT, cqe + CqeDescriptor.RES_OFFSET);
    }

    private long val(TaskSession s, int i) {
        return s.region.get(JAVA_LONG, cqe + CqeDescriptor.VAL_OFFSET + 8L * i);
    }

    private long create(TaskSession s, int type, long size, long flags, Name given) {
        MemorySegment e = sqe(s, D_OP_CREATE);
        e.set(JAVA_INT, SqeDescriptor.OBJ_TYPE_OFFSET, type);
        e.set(JAVA_BYTE, SqeDescriptor.SQE_FLAGS_OFFSET, (byte) D_SQE_ARG);
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, size);
        e.set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, flags);
        if (given != null) given.write(e, SqeDescriptor.NAME_OFFSET);
        int res = run(s);
        return res < 0 ? res : val(s, 0);
    }

    private int lookup(TaskSession s, Name n, long flags) {
        MemorySegment e = sqe(s, D_OP_LOOKUP);
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, 1);
        e.set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, flags);
        n.write(e, SqeDescriptor.NAME_OFFSET);
        return run(s);
    }

    private int onRef(TaskSession s, int op, long ref, long flags) {
        MemorySegment e = sqe(s, op);
        e.set(JAVA_LONG, SqeDescriptor.REF_OFFSET, ref);
        e.set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, flags);
        return run(s);
    }

    @Test
    void nopUnknownOpAndReservedFields() {
        sqe(a, D_OP_NOP);
        assertEquals(0, run(a));
        sqe(a, D_OP_LAST);
        assertEquals(-DIOS_ENOSYS, run(a));
        sqe(a, 0xff);
        assertEquals(-DIOS_ENOSYS, run(a));
        sqe(a, D_OP_NOP).set(JAVA_LONG, SqeDescriptor.TIMEOUT_NS_OFFSET, 1L);
        assertEquals(-DIOS_EINVAL, run(a), "non-zero reserved field");
        sqe(a, D_OP_NOP).set(JAVA_BYTE, SqeDescriptor.RSVD0_OFFSET, (byte) 1);
        assertEquals(-DIOS_EINVAL, run(a), "non-zero reserved field");
        MemorySegment l = sqe(a, D_OP_LOOKUP);
        l.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, 1);
        l.set(JAVA_LONG, SqeDescriptor.RSVD3_OFFSET + 24, 1L);
        assertEquals(-DIOS_EINVAL, run(a), "non-zero reserved field in the name line of a lookup");
        sqe(a, D_OP_NOP).set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, 1L << 40);
        assertEquals(-DIOS_EINVAL, run(a), "unknown flag");
    }

    /**
     * Found by RingFuzzTest: whether a NO_CQE notify got a completion
     * depended on the call before it (a field left over from it), when its
     * reserved fields were not zero. The shim never waits for one: a stray
     * completion makes it drop the connection. Now it never gets one.
     */
    @Test
    void notifyWithoutCompletionNeverGetsOneWhateverCameBefore() {
        sqe(a, D_OP_NOP);
        assertEquals(0, run(a));
        int cqTail = a.cqTail;
        MemorySegment e = sqe(a, D_OP_NOTIFY);
        e.set(JAVA_BYTE, SqeDescriptor.SQE_FLAGS_OFFSET, (byte) D_SQE_NO_CQE);
        e.set(JAVA_LONG, SqeDescriptor.TIMEOUT_NS_OFFSET, 1L);
        assertNotEquals(CallDispatcher.PARKED, d.execute(a, SQE));
        assertEquals(cqTail, a.cqTail, "no completion for a NO_CQE notify with a bad reserved field");
        e.set(JAVA_LONG, SqeDescriptor.TIMEOUT_NS_OFFSET, 0L);
        e.set(JAVA_LONG, SqeDescriptor.REF_OFFSET, 0x1234L);
        assertNotEquals(CallDispatcher.PARKED, d.execute(a, SQE));
        assertEquals(cqTail, a.cqTail, "nor for one with a bad reference");
        // and the call after it is answered as usual
        sqe(a, D_OP_NOP).set(JAVA_LONG, SqeDescriptor.TIMEOUT_NS_OFFSET, 1L);
        assertEquals(-DIOS_EINVAL, run(a));
        assertEquals(cqTail + 1, a.cqTail);
    }

    @Test
    void createChecksTypeSizeAndFlags() {
        assertTrue(create(a, D_OBJ_SHMEM, 4096, 0, null) > 0);
        assertTrue(create(a, D_OBJ_PRIVMEM, 1, 0, null) > 0);
        assertEquals(-DIOS_EINVAL, create(a, D_OBJ_SHMEM, 0, 0, null));
        assertEquals(-DIOS_EINVAL, create(a, D_OBJ_SHMEM, -1, 0, null));
        assertEquals(-DIOS_EINVAL, create(a, D_OBJ_SHMEM, DIOS_MAX_OBJECT_SIZE + 1, 0, null));
        assertEquals(-DIOS_EINVAL, create(a, 99, 4096, 0, null));
        assertEquals(-DIOS_EINVAL, create(a, D_OBJ_NONE, 4096, 0, null));
        assertEquals(-DIOS_EINVAL, create(a, D_OBJ_TASK, 4096, 0, null));
        assertEquals(-DIOS_EINVAL, create(a, D_OBJ_GROUP, 4096, 0, null), "a group takes no argument");
        assertEquals(-DIOS_EEXIST, create(a, D_OBJ_CONSOLE, 0, 0, null), "one console, by its name");
        assertTrue(create(a, D_OBJ_FIFO, 4096, 0, null) > 0);
        assertEquals(-DIOS_EINVAL, create(a, D_OBJ_FIFO, 0, 0, null));
        assertEquals(-DIOS_EINVAL, create(a, D_OBJ_FIFO, DIOS_FIFO_MAX_CAPACITY + 1, 0, null));
        assertEquals(-DIOS_EINVAL, create(a, D_OBJ_SHMEM, 4096, 1L << 40, null));
        assertEquals(-DIOS_EINVAL, create(a, D_OBJ_SHMEM, 4096, D_CREATE_NAME_GIVEN, Name.fromString("x")),
                "NAME_GIVEN needs NAMED");
        // no size argument at all (arg == NULL)
        MemorySegment e = sqe(a, D_OP_CREATE);
        e.set(JAVA_INT, SqeDescriptor.OBJ_TYPE_OFFSET, D_OBJ_SHMEM);
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, 4096);
        assertEquals(-DIOS_EINVAL, run(a));
    }

    @Test
    void anonymousCreateSkipsTheNameTable() {
        long names0 = stats.names;
        create(a, D_OBJ_SHMEM, 4096, 0, null);
        assertEquals(names0, stats.names);
        create(a, D_OBJ_SHMEM, 4096, D_CREATE_NAMED, null);
        assertEquals(names0 + 1, stats.names);
        Name n = new Name(val(a, 1), val(a, 2), val(a, 3), val(a, 4));
        assertFalse(n.isZero(), "a random name is returned");
        assertEquals(0, lookup(b, n, 0));
    }

    @Test
    void givenNamesBindOnceAndResolve() {
        Name n = Name.fromString("given");
        long ref = create(a, D_OBJ_SHMEM, 4096, D_CREATE_NAMED | D_CREATE_NAME_GIVEN, n);
        assertTrue(ref > 0);
        assertEquals(-DIOS_EEXIST, create(b, D_OBJ_SHMEM, 4096, D_CREATE_NAMED | D_CREATE_NAME_GIVEN, n));
        assertEquals(0, lookup(b, n, 0));
        long rb = val(b, 0);
        assertEquals(1, val(b, 1));
        assertEquals(0, onRef(b, D_OP_REF_INFO, rb, 0));
        assertEquals(D_OBJ_SHMEM, val(b, 0));
        assertEquals(D_PERM_READ | D_PERM_WRITE, val(b, 1), "lookups get read and write, not delete");
        assertEquals(4096, val(b, 2));
        assertEquals(D_REF_STATE_NAMED, val(b, 3) & D_REF_STATE_NAMED);
        assertEquals(0, lookup(b, n, D_LOOKUP_READONLY));
        onRef(b, D_OP_REF_INFO, val(b, 0), 0);
        assertEquals(D_PERM_READ, val(b, 1));
    }

    @Test
    void lookupErrors() {
        assertEquals(-DIOS_ENOENT, lookup(a, Name.fromString("nobody"), 0));
        assertEquals(-DIOS_EINVAL, lookup(a, Name.fromString("nobody"), 1L << 20));
        MemorySegment e = sqe(a, D_OP_LOOKUP);
        Name.fromString("x").write(e, SqeDescriptor.NAME_OFFSET);
        assertEquals(-DIOS_EINVAL, run(a), "capacity 0");
        Name p = Name.fromString("private");
        assertTrue(create(a, D_OBJ_PRIVMEM, 64, D_CREATE_NAMED | D_CREATE_NAME_GIVEN, p) > 0);
        assertEquals(-DIOS_EACCES, lookup(b, p, 0), "another task's private memory");
        assertEquals(0, lookup(a, p, 0), "its creator may look it up");
    }

    @Test
    void deleteReleasesAndFreesAtTheLastReference() {
        Name n = Name.fromString("del");
        long objects0 = stats.objects, refs0 = stats.refs, names0 = stats.names;
        long ra = create(a, D_OBJ_SHMEM, 4096, D_CREATE_NAMED | D_CREATE_NAME_GIVEN, n);
        lookup(b, n, 0);
        long rb = val(b, 0);
        assertEquals(0, onRef(a, D_OP_DELETE, ra, 0));
        assertEquals(-DIOS_EBADF, onRef(a, D_OP_DELETE, ra, 0), "second delete of the same reference");
        assertEquals(0, lookup(a, n, 0), "still alive through b");
        assertEquals(0, onRef(a, D_OP_DELETE, val(a, 0), 0));
        assertEquals(0, onRef(b, D_OP_DELETE, rb, 0));
        assertEquals(-DIOS_ENOENT, lookup(a, n, 0), "freed with its last reference");
        assertEquals(objects0, stats.objects);
        assertEquals(refs0, stats.refs);
        assertEquals(names0, stats.names);
    }

    @Test
    void referencesMeanNothingInAnotherTask() {
        long ra = create(a, D_OBJ_SHMEM, 4096, 0, null);
        assertEquals(-DIOS_EBADF, onRef(b, D_OP_REF_INFO, ra, 0));
        assertEquals(-DIOS_EBADF, onRef(b, D_OP_DELETE, ra, 0));
        assertEquals(-DIOS_EBADF, onRef(a, D_OP_REF_INFO, 0x12345, 0));
        assertEquals(-DIOS_EBADF, onRef(a, D_OP_ACQUIRE_READ, 0, 0));
        assertEquals(0, onRef(a, D_OP_REF_INFO, ra, 0), "the owner still holds it");
    }

    @Test
    void zombifyNeedsDeleteAndKillsTheObjectForEveryHolder() {
        Name n = Name.fromString("zombie");
        long ra = create(a, D_OBJ_SHMEM, 4096, D_CREATE_NAMED | D_CREATE_NAME_GIVEN, n);
        lookup(b, n, 0);
        long rb = val(b, 0);
        assertEquals(-DIOS_EACCES, onRef(b, D_OP_DELETE, rb, D_DELETE_ZOMBIFY), "lookups may not zombify");
        assertEquals(0, onRef(a, D_OP_DELETE, ra, D_DELETE_ZOMBIFY));
        assertEquals(-DIOS_ENOENT, lookup(a, n, 0), "a zombie's name no longer resolves");
        assertEquals(0, onRef(b, D_OP_REF_INFO, rb, 0), "metadata stays");
        assertEquals(D_REF_STATE_ZOMBIE, val(b, 3) & D_REF_STATE_ZOMBIE);
        assertEquals(-DIOS_EIDRM, onRef(b, D_OP_ACQUIRE_READ, rb, 0));
        assertEquals(-DIOS_EIDRM, onRef(b, D_OP_ACQUIRE_WRITE, rb, 0));
        assertEquals(0, onRef(b, D_OP_DELETE, rb, 0), "releasing a zombie reference works");
        assertEquals(0, stats.objects);
    }

    @Test
    void exclusiveIsAWriteFlagOfMappedObjectsOnly() {
        long shm = create(a, D_OBJ_SHMEM, 4096, 0, null);
        assertEquals(-DIOS_EINVAL, onRef(a, D_OP_ACQUIRE_READ, shm, D_ACQUIRE_EXCLUSIVE), "reads cannot be exclusive");
        assertEquals(-DIOS_EINVAL, onRef(a, D_OP_COMMIT_WRITE, shm, D_ACQUIRE_EXCLUSIVE), "nor commits");
        long fifo = create(a, D_OBJ_FIFO, 4096, 0, null);
        assertEquals(-DIOS_EINVAL, onRef(a, D_OP_ACQUIRE_WRITE, fifo, D_ACQUIRE_EXCLUSIVE), "a FIFO has one writer end already");
        assertEquals(0, stats.buffers, "nothing was acquired");
    }

    @Test
    void bufferOpsWithoutAcquireAreRejected() {
        long ra = create(a, D_OBJ_SHMEM, 4096, 0, null);
        for (int op : new int[] {D_OP_COMMIT_READ, D_OP_RELEASE_READ, D_OP_COMMIT_WRITE, D_OP_RELEASE_WRITE}) {
            MemorySegment e = sqe(a, op);
            e.set(JAVA_LONG, SqeDescriptor.REF_OFFSET, ra);
            e.set(JAVA_LONG, SqeDescriptor.BUF_OFFSET, 0x777);
            assertEquals(-DIOS_EINVAL, run(a), "buffer never acquired: " + Op.name(op));
        }
    }

    @Test
    void statsAndEmptyTaskCalls() {
        create(a, D_OBJ_SHMEM, 4096, D_CREATE_NAMED, null);
        sqe(a, D_OP_STATS);
        assertEquals(0, run(a));
        assertEquals(stats.objects, val(a, 1));
        assertEquals(1, val(a, 2));
        assertEquals(stats.refs, val(a, 3));
        sqe(a, D_OP_COPY);
        assertEquals(-DIOS_EINVAL, run(a), "copy of no references");
        sqe(a, D_OP_RUN);
        assertEquals(-DIOS_EBADF, run(a), "run without an executable reference");
        sqe(a, D_OP_DELEGATED);
        assertEquals(-DIOS_EINVAL, run(a), "delegated with no room");
        // select checks its count and the place of its array before reading anything
        MemorySegment e = sqe(a, D_OP_SELECT);
        assertEquals(-DIOS_EINVAL, run(a), "count 0");
        e = sqe(a, D_OP_SELECT);
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, DIOS_MAX_SELECT_REFS + 1);
        assertEquals(-DIOS_E2BIG, run(a), "count above the maximum");
        e = sqe(a, D_OP_SELECT);
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, 2);
        e.set(JAVA_LONG, SqeDescriptor.BUF_OFFSET, DIOS_ARGS_BYTES - 8);
        assertEquals(-DIOS_EINVAL, run(a), "array past the args area");
        e = sqe(a, D_OP_SELECT);
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, 1);
        e.set(JAVA_LONG, SqeDescriptor.BUF_OFFSET, 4);
        assertEquals(-DIOS_EINVAL, run(a), "misaligned array");
        e = sqe(a, D_OP_SELECT);
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, 1);
        a.region.set(JAVA_LONG, DIOS_REGION_ARGS_OFFSET, 12345L);
        assertEquals(-DIOS_EBADF, run(a), "not a reference");
    }

    /**
     * A zombify of a durable blob through ref: it parks while the sync
     * thread journals DELETE, then the conductor's loop (finishSyncs)
     * completes it. Returns its result (bounded: 10 s).
     */
    private int zombifyDurable(BlobStore store, TaskSession s, long ref) throws InterruptedException {
        MemorySegment e = sqe(s, D_OP_DELETE);
        e.set(JAVA_LONG, SqeDescriptor.REF_OFFSET, ref);
        e.set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, D_DELETE_ZOMBIFY);
        cqe = SyntheticTasks.nextCqeOffset(s);
        assertEquals(CallDispatcher.PARKED, d.execute(s, SQE), "parked while DELETE is journaled");
        long end = System.nanoTime() + 10_000_000_000L;
        while (store.finishSyncs(d) == 0) {
            assertTrue(System.nanoTime() - end < 0, "the sync thread journaled nothing in 10 s");
            Thread.sleep(1);
        }
        assertEquals(0xabcdefL, s.region.get(JAVA_LONG, cqe + CqeDescriptor.USER_DATA_OFFSET), "user_data echoed");
        return s.region.get(JAVA_INT, cqe + CqeDescriptor.RES_OFFSET);
    }

    @Test
    void blobsNeedAStateDirectory() {
        assertEquals(-DIOS_EOPNOTSUPP, create(a, D_OBJ_BLOB, 4096, 0, null), "no store attached");
    }

    @Test
    void blobCreateLookupAndZombify(@org.junit.jupiter.api.io.TempDir java.nio.file.Path state) throws Exception {
        try (BlobStore store = BlobStore.open(state)) {
            store.attach(om, stats);
            d.blobs(store);
            blobs = store;
            assertEquals(-DIOS_EINVAL, create(a, D_OBJ_BLOB, -1, 0, null));
            assertEquals(-DIOS_EINVAL, create(a, D_OBJ_BLOB, DIOS_MAX_OBJECT_SIZE + 1, 0, null));
            // no size argument (arg == NULL): an empty blob
            MemorySegment e = sqe(a, D_OP_CREATE);
            e.set(JAVA_INT, SqeDescriptor.OBJ_TYPE_OFFSET, D_OBJ_BLOB);
            assertEquals(0, run(a));
            long anon = val(a, 0);
            assertEquals(0, onRef(a, D_OP_REF_INFO, anon, 0));
            assertEquals(D_OBJ_BLOB, val(a, 0));
            assertEquals(0, val(a, 2), "empty");
            assertEquals(D_PERM_READ | D_PERM_WRITE | D_PERM_DELETE, val(a, 1));

            Name n = Name.fromString("blob");
            long objects0 = stats.objects;
            long ra = create(a, D_OBJ_BLOB, 123, D_CREATE_NAMED | D_CREATE_NAME_GIVEN, n);
            assertTrue(ra > 0);
            assertEquals(-DIOS_EEXIST, create(b, D_OBJ_BLOB, 1, D_CREATE_NAMED | D_CREATE_NAME_GIVEN, n));
            assertEquals(0, onRef(a, D_OP_REF_INFO, ra, 0));
            assertEquals(123, val(a, 2));
            assertEquals(D_REF_STATE_NAMED, val(a, 3) & D_REF_STATE_NAMED);
            assertEquals(0, onRef(a, D_OP_DELETE, ra, 0));
            assertEquals(objects0 + 1, stats.objects, "the name holds a durable blob without references");

            assertEquals(0, lookup(b, n, D_LOOKUP_READONLY));
            long ro = val(b, 0);
            assertEquals(0, onRef(b, D_OP_REF_INFO, ro, 0));
            assertEquals(D_PERM_READ, val(b, 1));
            assertEquals(-DIOS_EACCES, onRef(b, D_OP_DELETE, ro, D_DELETE_ZOMBIFY));
            assertEquals(0, lookup(b, n, 0));
            long rw = val(b, 0);
            assertEquals(0, onRef(b, D_OP_REF_INFO, rw, 0));
            assertEquals(D_PERM_READ | D_PERM_WRITE | D_PERM_DELETE, val(b, 1),
                    "a durable blob outlives its creator's reference: the name lets one delete it");
            assertEquals(0, zombifyDurable(store, b, rw));
            assertEquals(-DIOS_EBADF, onRef(b, D_OP_REF_INFO, rw, 0), "the zombify dropped its reference");
            assertEquals(-DIOS_ENOENT, lookup(a, n, 0));
            assertEquals(-DIOS_EIDRM, onRef(b, D_OP_ACQUIRE_READ, ro, 0));
            assertEquals(objects0 + 1, stats.objects, "the read-only reference still holds the zombie");
            assertEquals(0, onRef(b, D_OP_DELETE, ro, 0));
            assertEquals(objects0, stats.objects);
        }
    }

    private long errors(int op, int errno) {
        return d.callStats().errors[op * CallStats.ERRNOS + errno];
    }

    @Test
    void everyCallIsCountedByOpAndEveryErrorByOpAndErrno() {
        for (int i = 0; i < 3; i++) {
            sqe(a, D_OP_NOP);
            assertEquals(0, run(a));
        }
        long ref = create(a, D_OBJ_SHMEM, 4096, 0, null);
        assertTrue(ref > 0);
        assertEquals(-DIOS_ENOENT, lookup(a, Name.fromString("nobody bound this"), 0));
        assertEquals(-DIOS_ENOENT, lookup(a, Name.fromString("nor this"), 0));
        assertEquals(-DIOS_EBADF, onRef(a, D_OP_DELETE, ref + 1, 0));
        assertEquals(0, onRef(a, D_OP_DELETE, ref, 0));
        sqe(a, 0xff);
        assertEquals(-DIOS_ENOSYS, run(a));
        sqe(a, D_OP_NOP).set(JAVA_LONG, SqeDescriptor.TIMEOUT_NS_OFFSET, 1L);
        assertEquals(-DIOS_EINVAL, run(a), "non-zero reserved field");

        CallStats c = d.callStats();
        assertEquals(4, c.calls[D_OP_NOP]);
        assertEquals(1, c.calls[D_OP_CREATE]);
        assertEquals(2, c.calls[D_OP_LOOKUP]);
        assertEquals(2, c.calls[D_OP_DELETE]);
        assertEquals(1, c.calls[CallStats.OPS - 1], "an op code the ABI does not know");
        assertEquals(10, c.totalCalls());
        assertEquals(2, errors(D_OP_LOOKUP, DIOS_ENOENT));
        assertEquals(1, errors(D_OP_DELETE, DIOS_EBADF));
        assertEquals(1, errors(CallStats.OPS - 1, DIOS_ENOSYS));
        assertEquals(1, errors(D_OP_NOP, DIOS_EINVAL));
        long all = 0;
        for (long e : c.errors) all += e;
        assertEquals(5, all, "successes are not errors");
        assertEquals("unknown", CallStats.opLabel(CallStats.OPS - 1));
        assertEquals("ENOENT", CallStats.errnoLabel(DIOS_ENOENT));
    }

    @Test
    void serviceTimesAndDrainSizesLandInTheirBuckets() {
        CallStats c = new CallStats();
        c.served(D_OP_NOP, 1);       // <= 100 ns
        c.served(D_OP_NOP, 100);     // <= 100 ns (bounds are inclusive, as Prometheus' le)
        c.served(D_OP_NOP, 101);     // <= 250 ns
        c.served(D_OP_NOP, 5_000_000_000L); // beyond the last bound
        int b = CallStats.SERVICE_BUCKETS;
        assertEquals(2, c.service[D_OP_NOP * b]);
        assertEquals(1, c.service[D_OP_NOP * b + 1]);
        assertEquals(1, c.service[D_OP_NOP * b + b - 1]);
        assertEquals(5_000_000_202L, c.serviceNanos[D_OP_NOP]);
        for (int n : new int[] {1, 2, 3, 4, 5, 64, 65}) c.drained(n);
        assertArrayEquals(new long[] {1, 1, 2, 1, 0, 0, 1, 1}, c.drains);
        assertEquals(144, c.drainedEntries);
        c.reset();
        assertEquals(0, c.drainedEntries);
        assertEquals(0, c.service[D_OP_NOP * b]);
    }
}

package org.dios.perf;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import org.dios.abi.Abi;
import org.dios.abi.CqeDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.objects.Name;
import org.dios.diosd.objects.ObjectManager;
import org.dios.diosd.objects.RingSlots;
import org.dios.diosd.objects.Stats;
import org.dios.diosd.objects.SyntheticTasks;
import org.dios.diosd.objects.TaskSession;
import org.dios.diosd.ops.CallDispatcher;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The daemon's ring codec with no transport: {@link CallDispatcher#execute}
 * decodes an SQE from a task's region, runs the call and encodes its CQE, as
 * the conductor does for each entry it drains (CallDispatcherTest drives it
 * the same way).  What a round trip costs beyond this is the transport:
 * cache-line transfers between the cores, wake-ups, the shim.
 *
 * <p>Each benchmark leaves the task's tables as it found them (a call that
 * adds a reference is paired with the delete that removes it), so the
 * tables never fill.  Each method returns the sum of the calls' results,
 * which is 0 when every call succeeded.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
// Long warm-up: the first calls run FFM accessors and the DRBG of random names
// interpreted (milliseconds, then microseconds per call for some seconds).
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-XX:+UseSerialGC"})
public class RingCodecBench {
    private static final long SLOT_NOP = RingSlots.sqeOffset(0);
    private static final long SLOT_LOOKUP = RingSlots.sqeOffset(1);
    private static final long SLOT_CREATE_ANON = RingSlots.sqeOffset(2);
    private static final long SLOT_CREATE_NAMED = RingSlots.sqeOffset(3);
    private static final long SLOT_REF_INFO = RingSlots.sqeOffset(4);
    private static final long SLOT_DELETE = RingSlots.sqeOffset(5);

    private SyntheticTasks tasks;
    private TaskSession task;
    private MemorySegment region;
    private CallDispatcher dispatcher;

    @Setup
    public void setup() {
        Stats stats = new Stats();
        ObjectManager objects = new ObjectManager(stats);
        dispatcher = SyntheticTasks.dispatcher(objects, stats);
        tasks = new SyntheticTasks();
        task = tasks.session(1);
        region = SyntheticTasks.region(task);

        sqe(SLOT_NOP, Abi.D_OP_NOP);

        sqe(SLOT_CREATE_ANON, Abi.D_OP_CREATE);
        region.set(JAVA_INT, SLOT_CREATE_ANON + SqeDescriptor.OBJ_TYPE_OFFSET, Abi.D_OBJ_SHMEM);
        region.set(JAVA_BYTE, SLOT_CREATE_ANON + SqeDescriptor.SQE_FLAGS_OFFSET, (byte) Abi.D_SQE_ARG);
        region.set(JAVA_LONG, SLOT_CREATE_ANON + SqeDescriptor.LEN_OFFSET, 4096L);

        MemorySegment.copy(region, SLOT_CREATE_ANON, region, SLOT_CREATE_NAMED, SqeDescriptor.SIZE);
        region.set(JAVA_LONG, SLOT_CREATE_NAMED + SqeDescriptor.FLAGS_OFFSET, Abi.D_CREATE_NAMED);

        // one named object that stays, for lookup and ref_info
        Name name = Name.fromString("perf-jmh ring codec");
        sqe(SLOT_LOOKUP, Abi.D_OP_CREATE);
        region.set(JAVA_INT, SLOT_LOOKUP + SqeDescriptor.OBJ_TYPE_OFFSET, Abi.D_OBJ_SHMEM);
        region.set(JAVA_BYTE, SLOT_LOOKUP + SqeDescriptor.SQE_FLAGS_OFFSET, (byte) Abi.D_SQE_ARG);
        region.set(JAVA_LONG, SLOT_LOOKUP + SqeDescriptor.LEN_OFFSET, 4096L);
        region.set(JAVA_LONG, SLOT_LOOKUP + SqeDescriptor.FLAGS_OFFSET, Abi.D_CREATE_NAMED | Abi.D_CREATE_NAME_GIVEN);
        name.write(region, SLOT_LOOKUP + SqeDescriptor.NAME_OFFSET);
        long cqe = call(SLOT_LOOKUP);
        check(res(cqe), "create the named object");
        long ref = region.get(JAVA_LONG, cqe + CqeDescriptor.VAL_OFFSET);

        sqe(SLOT_LOOKUP, Abi.D_OP_LOOKUP);
        region.set(JAVA_LONG, SLOT_LOOKUP + SqeDescriptor.LEN_OFFSET, 1L);
        name.write(region, SLOT_LOOKUP + SqeDescriptor.NAME_OFFSET);

        sqe(SLOT_REF_INFO, Abi.D_OP_REF_INFO);
        region.set(JAVA_LONG, SLOT_REF_INFO + SqeDescriptor.REF_OFFSET, ref);

        sqe(SLOT_DELETE, Abi.D_OP_DELETE);
    }

    @TearDown
    public void tearDown() {
        tasks.close();
    }

    /** A zeroed SQE for op at off, as the shim writes one. */
    private void sqe(long off, int op) {
        region.asSlice(off, SqeDescriptor.SIZE).fill((byte) 0);
        region.set(JAVA_BYTE, off + SqeDescriptor.OPCODE_OFFSET, (byte) op);
        region.set(JAVA_LONG, off + SqeDescriptor.USER_DATA_OFFSET, 0x5eedL);
    }

    /** Runs the SQE at off; returns where its completion was written. */
    private long call(long off) {
        long cqe = SyntheticTasks.nextCqeOffset(task);
        if (dispatcher.execute(task, off) == CallDispatcher.PARKED) throw new IllegalStateException("call parked");
        return cqe;
    }

    private int res(long cqe) {
        return region.get(JAVA_INT, cqe + CqeDescriptor.RES_OFFSET);
    }

    private static void check(int res, String what) {
        if (res != 0) throw new IllegalStateException(what + " returned " + res);
    }

    /** Deletes the reference the call whose completion is at cqe returned. */
    private int deleteReturnedRef(long cqe) {
        region.set(JAVA_LONG, SLOT_DELETE + SqeDescriptor.REF_OFFSET, region.get(JAVA_LONG, cqe + CqeDescriptor.VAL_OFFSET));
        return res(call(SLOT_DELETE));
    }

    /** D_OP_NOP: decode, check the reserved fields and flags, encode the CQE. */
    @Benchmark
    public int nop() {
        return res(call(SLOT_NOP));
    }

    /** D_OP_REF_INFO on a held reference: a handle-table read and the object's attributes. */
    @Benchmark
    public int refInfo() {
        return res(call(SLOT_REF_INFO));
    }

    /** D_OP_LOOKUP of a name in a one-name table, then the delete of the reference it made. */
    @Benchmark
    public int lookupThenDelete() {
        long cqe = call(SLOT_LOOKUP);
        return res(cqe) + deleteReturnedRef(cqe);
    }

    /** Anonymous SHMEM create (metadata only, no name), then its delete. */
    @Benchmark
    public int createAnonymousThenDelete() {
        long cqe = call(SLOT_CREATE_ANON);
        return res(cqe) + deleteReturnedRef(cqe);
    }

    /** Named SHMEM create (a random name from the CSPRNG, bound), then its delete (unbound). */
    @Benchmark
    public int createNamedThenDelete() {
        long cqe = call(SLOT_CREATE_NAMED);
        return res(cqe) + deleteReturnedRef(cqe);
    }
}

package org.dios.perf;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import org.dios.diosd.objects.HandleTable;

/**
 * A task's reference table: the check every call on a reference pays
 * ({@link HandleTable#get}), and the add/remove pair of every create or
 * lookup and its delete.  {@code live} entries are held throughout; get
 * walks them in a shuffled order, so a large table pays its cache misses.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-XX:+UseSerialGC"})
public class HandleTableBench {
    @Param({"64", "4096", "1000000"})
    public int live;

    private HandleTable<Object> table;
    private long[] ids;
    private int next;
    private final Object value = new Object();

    @Setup
    public void setup() {
        table = new HandleTable<>(HandleTable.MAX_CAPACITY, 0x1234);
        ids = new long[live];
        for (int i = 0; i < live; i++) ids[i] = table.add(new Object());
        Shuffle.shuffle(ids, 42);
    }

    /** A live id's entry (the id's tag, index and generation checked). */
    @Benchmark
    public Object get() {
        long id = ids[next];
        if (++next == ids.length) next = 0;
        return table.get(id);
    }

    /** Add an entry and remove it again: the slot comes back from the free list. */
    @Benchmark
    public Object addThenRemove() {
        return table.remove(table.add(value));
    }
}

package org.dios.perf;

import java.util.SplittableRandom;
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

import org.dios.abi.Abi;
import org.dios.diosd.objects.DObject;
import org.dios.diosd.objects.MemoryObject;
import org.dios.diosd.objects.Name;
import org.dios.diosd.objects.ObjectManager;
import org.dios.diosd.objects.Stats;

/**
 * The daemon's name table: {@link ObjectManager#resolve} with 1,000 and
 * 1,000,000 bound names (BRIEF section 6: lookup p50 still at most 2 us with
 * a million names; this is the table's share of it).  Each bound name has
 * its own SHMEM object, as bench_scale creates them.  The probes are
 * separate Name instances, as a lookup reads a fresh one from the SQE, and
 * are visited in a shuffled order.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-XX:+UseSerialGC"})
public class NameTableBench {
    @Param({"1000", "1000000"})
    public int names;

    private ObjectManager objects;
    private Name[] hits;
    private Name[] misses;
    private int nextHit;
    private int nextMiss;

    @Setup
    public void setup() {
        objects = new ObjectManager(new Stats());
        SplittableRandom r = new SplittableRandom(7);
        hits = new Name[names];
        for (int i = 0; i < names; i++) {
            Name n = new Name(r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong());
            MemoryObject o = new MemoryObject(objects.newObjectId(), Abi.D_OBJ_SHMEM, 1, 4096);
            objects.adopt(o);
            if (!objects.bind(n, o)) throw new IllegalStateException("name bound twice");
            hits[i] = new Name(n.w0(), n.w1(), n.w2(), n.w3());
        }
        Shuffle.shuffle(hits, 11);
        misses = new Name[4096];
        for (int i = 0; i < misses.length; i++) misses[i] = new Name(r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong());
    }

    /** A bound name (found). */
    @Benchmark
    public DObject resolveHit() {
        Name n = hits[nextHit];
        if (++nextHit == hits.length) nextHit = 0;
        return objects.resolve(n);
    }

    /** An unbound name (-ENOENT). */
    @Benchmark
    public DObject resolveMiss() {
        Name n = misses[nextMiss];
        nextMiss = (nextMiss + 1) & (misses.length - 1);
        return objects.resolve(n);
    }
}

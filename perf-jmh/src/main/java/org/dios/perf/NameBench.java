package org.dios.perf;

import java.lang.foreign.Arena;
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

import org.dios.abi.SqeDescriptor;
import org.dios.diosd.objects.Name;

/**
 * {@link Name}: what the name table pays per probe (hashCode, equals of two
 * equal instances), decoding a name from an SQE in native memory, and the
 * deterministic name (SHA-256 of a string) the daemon computes for
 * well-known objects.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-XX:+UseSerialGC"})
public class NameBench {
    private Name a;
    private Name b;
    private Arena arena;
    private MemorySegment sqe;
    private String text;

    @Setup
    public void setup() {
        a = Name.fromString("perf-jmh name");
        b = new Name(a.w0(), a.w1(), a.w2(), a.w3());
        arena = Arena.ofConfined();
        sqe = arena.allocate(SqeDescriptor.SIZE, 64);   // one SQE, cache-line aligned as in the ring
        a.write(sqe, SqeDescriptor.NAME_OFFSET);
        text = "/usr/local/bin/some-dios-executable";
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public int hash() {
        return a.hashCode();
    }

    @Benchmark
    public boolean equalsEqual() {
        return a.equals(b);
    }

    /** Name.read at an SQE's name offset: four unaligned long loads and a record. */
    @Benchmark
    public Name readFromSegment() {
        return Name.read(sqe, SqeDescriptor.NAME_OFFSET);
    }

    /** D_NAME_DETERMINISTIC_STRING: SHA-256 of the UTF-8 bytes. */
    @Benchmark
    public Name fromString() {
        return Name.fromString(text);
    }
}

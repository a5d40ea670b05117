package org.dios.diosd.conductor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ring decoder under a coverage-guided fuzzer (Jazzer): every input is a
 * program of hostile submissions run against a real conductor in this JVM
 * (see {@link RingFuzzHarness} for the ops and what must hold).
 *
 * <p>{@code mvn test} (CI) runs the committed inputs in
 * {@code src/test/resources/org/dios/diosd/conductor/RingFuzzTestInputs/ring/}
 * and a fixed set of pseudo-random ones: deterministic and a few seconds.
 * A campaign: {@code scripts/fuzz-ring SECONDS} (Jazzer's own driver on
 * {@link RingFuzzTarget}), or through JUnit, which adds what it finds to that
 * directory and its corpus to {@code diosd/.cifuzz-corpus/}:
 * <pre>
 *   JAZZER_FUZZ=1 mvn -o -pl diosd test -Dtest='RingFuzzTest#ring' -Djazzer.max_duration=1h \
 *       -Ddios.jazzer.hooks=true -Djunit.jupiter.execution.timeout.mode=disabled
 * </pre>
 * (without the last flag JUnit interrupts the test after 300 s, which also
 * closes the journal's file channel under the in-process daemon).
 * docs/RELIABILITY.md, "Fuzzing", has the figures.
 */
class RingFuzzTest {
    private static RingFuzzHarness harness;

    static synchronized RingFuzzHarness harness() {
        if (harness == null || harness.owner != Thread.currentThread()) {
            try {
                harness = new RingFuzzHarness(); // sessions are confined to one thread: a new thread gets its own
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return harness;
    }

    @FuzzTest(maxDuration = "10m")
    void ring(byte[] input) {
        harness().run(input);
    }

    /** Pseudo-random programs from a fixed seed: the same invariants on inputs nobody chose, in every run. */
    @Test
    void randomPrograms() {
        RingFuzzHarness h = harness();
        long entries0 = h.entries, disc0 = h.disconnects;
        SplittableRandom r = new SplittableRandom(0x5eed_d105L);
        int n = Integer.getInteger("dios.fuzz.random", 300);
        for (int i = 0; i < n; i++) {
            byte[] b = new byte[64 + r.nextInt(2048)];
            r.nextBytes(b);
            h.run(b);
        }
        assertTrue(h.entries - entries0 > 10L * n, "the programs submitted entries: " + (h.entries - entries0));
        assertTrue(h.disconnects > disc0, "some programs got their task disconnected");
    }

    @AfterAll
    static synchronized void report() throws IOException {
        if (harness == null) return;
        System.out.printf("RingFuzzTest: %d inputs, %d entries submitted, %d completions, %d tasks registered, %d disconnected%n",
                harness.inputs, harness.entries, harness.completions, harness.registrations, harness.disconnects);
        if (harness.owner == Thread.currentThread()) harness.close();
        harness = null;
    }
}

package org.dios.diosd.conductor;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The same fuzz target as {@link RingFuzzTest#ring}, for Jazzer's own driver
 * (com.code_intelligence.jazzer.Jazzer) outside JUnit: long campaigns with no
 * test timeout, and libFuzzer's corpus tools (-merge=1 to minimise the
 * committed seeds). scripts/fuzz-ring runs it.
 */
public final class RingFuzzTarget {
    private static RingFuzzHarness harness;

    private RingFuzzTarget() {
    }

    public static void fuzzerInitialize() {
        try {
            harness = new RingFuzzHarness();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> System.err.printf(
                "RingFuzzTarget: %d inputs, %d entries submitted, %d completions, %d tasks registered, %d disconnected%n",
                harness.inputs, harness.entries, harness.completions, harness.registrations, harness.disconnects)));
    }

    public static void fuzzerTestOneInput(byte[] data) {
        harness.run(data);
    }
}

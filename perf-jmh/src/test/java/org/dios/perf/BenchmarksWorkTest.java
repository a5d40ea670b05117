package org.dios.perf;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Calls every benchmark method a few times outside JMH, with the smallest
 * parameters, and checks what it returns: the build proves the benchmarks
 * still work against the daemon's code without running them as benchmarks.
 */
class BenchmarksWorkTest {
    @Test
    void ringCodecCallsSucceed() {
        RingCodecBench b = new RingCodecBench();
        b.setup();
        try {
            for (int i = 0; i < 300; i++) { // more than the CQ's entries: the ring wraps
                assertEquals(0, b.nop());
                assertEquals(0, b.refInfo());
                assertEquals(0, b.lookupThenDelete());
                assertEquals(0, b.createAnonymousThenDelete());
                assertEquals(0, b.createNamedThenDelete());
            }
        } finally {
            b.tearDown();
        }
    }

    @Test
    void handleTableFindsItsEntries() {
        HandleTableBench b = new HandleTableBench();
        b.live = 64;
        b.setup();
        for (int i = 0; i < 200; i++) {
            assertNotNull(b.get());
            assertNotNull(b.addThenRemove());
        }
    }

    @Test
    void nameTableResolvesHitsOnly() {
        NameTableBench b = new NameTableBench();
        b.names = 1000;
        b.setup();
        for (int i = 0; i < 2500; i++) {
            assertNotNull(b.resolveHit());
            assertNull(b.resolveMiss());
        }
    }

    @Test
    void nameOperations() {
        NameBench b = new NameBench();
        b.setup();
        try {
            assertTrue(b.equalsEqual());
            assertEquals(b.readFromSegment(), b.readFromSegment());
            assertEquals(b.fromString(), b.fromString());
            assertEquals(b.hash(), b.readFromSegment().hashCode());
        } finally {
            b.tearDown();
        }
    }
}

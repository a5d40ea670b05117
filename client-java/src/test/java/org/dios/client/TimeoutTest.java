package org.dios.client;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The java.time.Duration overloads of the calls that wait: null once the deadline has passed
 * (never sooner), no buffer out, and what arrives later goes to the next call.
 */
@ExtendWith(Daemon.class)
class TimeoutTest {
    private static final Duration SLACK = Duration.ofSeconds(5);

    /** f's answer, after checking it took at least d (and not absurdly longer). */
    private static <T> T timed(Duration d, Supplier<T> f) {
        long t0 = System.nanoTime();
        T v = f.get();
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertTrue(took.compareTo(d) >= 0 && took.compareTo(d.plus(SLACK)) < 0, "took " + took + " for " + d);
        return v;
    }

    @Test
    void fifoAcquiresAndSelectGiveUpAtTheirDeadline() {
        Ref w = Dios.createNamedFifo(4096);
        Ref r = Dios.lookup(w.name(), false);
        try {
            Duration d = Duration.ofMillis(150);
            // a reader whose writer has not bound its end yet
            assertNull(timed(d, () -> r.acquireRead(0, d)));
            assertEquals(Errno.EAGAIN, assertThrows(DiosException.class, () -> r.acquireRead(0, Dios.D_NONBLOCK)).errno(),
                    "no buffer is out after the timeout (else EBUSY)");
            assertNull(timed(Duration.ZERO, () -> r.acquireRead(0, Duration.ZERO)));
            assertNull(timed(Duration.ZERO, () -> r.acquireRead(0, Duration.ofSeconds(-1))), "negative: do not wait");
            assertNull(timed(d, () -> Dios.select(d, r)));
            // the write that comes later goes to the next calls
            w.withWrite(1, s -> {
                s.set(JAVA_BYTE, 0, (byte) 42);
                return 1;
            });
            assertSame(r, Dios.select(Duration.ofSeconds(Long.MAX_VALUE), r), "a huge timeout does not overflow");
            try (Buffer b = r.acquireRead(0, Duration.ofMinutes(1))) {
                assertNotNull(b);
                assertEquals(42, b.segment().get(JAVA_BYTE, 0));
            }
            // a writer on a full FIFO
            w.withWrite(4096, s -> 4096);
            assertNull(timed(d, () -> w.acquireWrite(1, d)));
            r.withRead(100, s -> 0);
            try (Buffer b = w.acquireWrite(100, Duration.ofMinutes(1))) {
                assertNotNull(b, "the space the reader freed");
                assertEquals(100, b.segment().byteSize());
            }
        } finally {
            w.close();
            r.close();
        }
    }

    @Test
    void waitForGivesUpWhileTheTaskRuns() throws Exception {
        Ref toChild = Dios.createFifo(4096), fromChild = Dios.createFifo(4096);
        Task t;
        try (Ref exe = Dios.exe(TestPrograms.child().toString())) {
            t = Dios.run(exe, List.of("child", "--echo"), List.of(toChild, fromChild), 0);
        }
        try (Task task = t; Channel c = Channel.of(fromChild, toChild)) {
            Duration d = Duration.ofMillis(150);
            assertNull(timed(d, () -> task.waitFor(d)), "still running");
            assertNull(timed(d, () -> Dios.select(d, task.ref())));
            c.closeSend();                  // end of stream: the child exits 0
            Integer st = task.waitFor(Duration.ofDays(365 * 1000));
            assertNotNull(st);
            assertTrue(Task.exited(st));
            assertEquals(0, Task.exitStatus(st));
        }
    }
}

package org.dios.diosd.conductor;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.dios.diosd.sys.LibC;
import org.dios.diosd.sys.UnixSocket;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Tasks wait in the listen backlog while the conductor warms up, and a shim
 * gives up on its welcome after 10 s: the warm-up must end by time, not only
 * by cycles, or a daemon starting on a busy machine refuses its first tasks.
 * (t_crash_daemon found this: 20,000 cycles took 10.7 s on a loaded 2-core VM.)
 */
class WarmupLimitTest {
    @TempDir
    Path dir;

    @Test
    void theLargestWarmUpStillEndsAndServes() throws Exception {
        String path = dir.resolve("d.sock").toString();
        int listenFd = UnixSocket.listen(path, LibC.SOCK_SEQPACKET, 16);
        assertTrue(listenFd >= 0, "listen: " + LibC.strerror(listenFd));
        // the most --warmup-cycles allows: minutes of work at ~30 us a cycle without the time limit
        DriverConductor c = new DriverConductor(DriverConductor.Config.defaults().withWarmup(10_000_000), listenFd);
        c.durableState(null);
        Thread t = Thread.ofPlatform().name("test-conductor").start(c);
        try {
            // a bound on a hang only: the limit is WarmUp.MAX_NANOS (2 s)
            boolean serving = assertTimeoutPreemptively(Duration.ofSeconds(60), c::awaitServing,
                    "the conductor still warms up after 60 s: the warm-up has no time limit");
            assertTrue(serving);
            assertEquals(0, c.requestSnapshot().get(10, TimeUnit.SECONDS).tasks, "the warm-up task is gone");
        } finally {
            c.requestStop();
            t.join(10_000);
            LibC.close(listenFd);
        }
        assertFalse(t.isAlive());
    }
}

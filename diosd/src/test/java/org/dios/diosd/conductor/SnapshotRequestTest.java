package org.dios.diosd.conductor;

import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.dios.abi.Abi;
import org.dios.diosd.ops.DaemonSnapshot;
import org.dios.diosd.sys.LibC;
import org.dios.diosd.sys.UnixSocket;

import static org.junit.jupiter.api.Assertions.*;

/** Other threads get the conductor's counts only through snapshots it takes on its own thread. */
class SnapshotRequestTest {
    @TempDir
    Path dir;

    @Test
    void snapshotsComeFromTheConductorAndFailOnceItStopped() throws Exception {
        String path = dir.resolve("d.sock").toString();
        int listenFd = UnixSocket.listen(path, LibC.SOCK_SEQPACKET, 16);
        assertTrue(listenFd >= 0, "listen: " + LibC.strerror(listenFd));
        // a short warm-up: its synthetic calls must not show in the counts
        DriverConductor c = new DriverConductor(DriverConductor.Config.defaults().withTimedCalls(true).withWarmup(200), listenFd);
        c.durableState(null); // no state directory: the conductor must not wait for one
        Thread t = Thread.ofPlatform().name("test-conductor").start(c);
        try {
            assertTrue(c.awaitServing());
            // the conductor is parked in epoll_wait (no task): the request must wake it
            Thread.sleep(50);
            DaemonSnapshot s = c.requestSnapshot().get(10, TimeUnit.SECONDS);
            assertEquals(0, s.tasks, "the warm-up task is gone");
            assertEquals(0, s.totalCalls(), "the warm-up's calls are forgotten");
            assertEquals(0, s.drainCount());
            assertEquals(1, s.objects, "the console");
            assertEquals(1, s.objectsOfType(Abi.D_OBJ_CONSOLE));
            assertEquals(1, s.names, "the console's name");
            assertEquals(0, s.registrations);

            // many threads at once: every request is answered
            var futures = new java.util.ArrayList<java.util.concurrent.CompletableFuture<DaemonSnapshot>>();
            for (int i = 0; i < 8; i++) {
                var holder = new java.util.concurrent.CompletableFuture<java.util.concurrent.CompletableFuture<DaemonSnapshot>>();
                Thread.ofPlatform().start(() -> holder.complete(c.requestSnapshot()));
                futures.add(holder.get(10, TimeUnit.SECONDS));
            }
            for (var f : futures) assertEquals(1, f.get(10, TimeUnit.SECONDS).objects);
        } finally {
            c.requestStop();
            t.join(10_000);
            LibC.close(listenFd);
        }
        assertFalse(t.isAlive());
        var late = c.requestSnapshot();
        ExecutionException e = assertThrows(ExecutionException.class, () -> late.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("stopping"), e.getCause().toString());
    }
}

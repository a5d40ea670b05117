package org.dios.client;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** dios_select from Java: the ready reference comes back as the same Ref object. */
@ExtendWith(Daemon.class)
class SelectTest {
    private static void put(Ref w, byte v) {
        w.withWrite(1, s -> {
            s.set(JAVA_BYTE, 0, v);
            return 1;
        });
    }

    @Test
    void selectReturnsTheReferenceThatHasData() throws Exception {
        Ref[] w = new Ref[3], r = new Ref[3];
        for (int i = 0; i < 3; i++) {
            w[i] = Dios.createNamedFifo(4096);
            r[i] = Dios.lookup(w[i].name(), false);
        }
        try {
            // bind the reader ends (the first acquire does); nothing is there yet
            for (Ref x : r) assertEquals(Errno.EAGAIN, assertThrows(DiosException.class, () -> x.acquireRead(0, Dios.D_NONBLOCK)).errno());
            assertNull(Dios.selectNow(r), "no data anywhere");
            put(w[1], (byte) 11);
            assertSame(r[1], Dios.select(r));
            assertSame(r[1], Dios.select(r), "still ready until read");
            assertEquals(11, (byte) r[1].withRead(0, s -> s.get(JAVA_BYTE, 0)));
            // a select that waits: the data comes from another thread
            CompletableFuture<Ref> waiting = CompletableFuture.supplyAsync(() -> Dios.select(r),
                    x -> Thread.ofPlatform().start(x));
            put(w[2], (byte) 22);
            assertSame(r[2], waiting.get(60, TimeUnit.SECONDS));
            // end of stream is ready too: the writer end, once bound (its first acquire), goes
            w[0].withWrite(1, s -> 0);
            w[0].close();
            assertSame(r[0], Dios.select(r[0], r[1]));
        } finally {
            for (int i = 0; i < 3; i++) {
                w[i].close();
                r[i].close();
            }
        }
    }

    @Test
    void selectOverAClosedReferenceIsEbadfAndOverNothingEinval() {
        Ref x = Dios.createAnonymous(Dios.D_OBJ_SHMEM, 64);
        assertSame(x, Dios.select(x), "memory is always ready");
        x.close();
        assertEquals(Errno.EBADF, assertThrows(DiosException.class, () -> Dios.select(x)).errno());
        assertEquals(Errno.EINVAL, assertThrows(DiosException.class, () -> Dios.select()).errno());
    }
}

package org.dios.diosd.log;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** A flood of one kind of line becomes one line per interval that counts the rest. */
class LogThrottleTest {
    private static final long S = 1_000_000_000L;

    @Test
    void oneLinePerIntervalAndTheNextCountsTheOnesLeftOut() {
        LogThrottle t = new LogThrottle(Log.Level.DEBUG, 10 * S);
        long t0 = 5 * S;
        assertEquals("accept: EMFILE", t.log("accept: EMFILE", t0));
        for (int i = 1; i <= 20_000; i++) assertNull(t.log("accept: EMFILE", t0 + i * 100_000L));
        assertEquals(20_000, t.left());
        assertNull(t.log("accept: EMFILE", t0 + 10 * S - 1), "still inside the interval");
        assertEquals("accept: EMFILE (20001 more like it not logged in the last 10 s)", t.log("accept: EMFILE", t0 + 10 * S));
        assertEquals(0, t.left());
        assertEquals("quiet again", t.log("quiet again", t0 + 30 * S), "nothing left out: no count");
    }

    @Test
    void theFirstLineAlwaysGoesOutWhateverTheClockSays() {
        assertEquals("x", new LogThrottle(Log.Level.DEBUG, S).log("x", Long.MIN_VALUE));
        assertThrows(IllegalArgumentException.class, () -> new LogThrottle(Log.Level.DEBUG, 0));
    }
}

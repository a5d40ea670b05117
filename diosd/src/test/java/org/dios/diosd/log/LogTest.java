package org.dios.diosd.log;

import java.time.LocalTime;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The two line formats, and when the journal one is chosen. */
class LogTest {
    private static final LocalTime T = LocalTime.of(9, 5, 7, 123_000_000);

    @Test
    void journalLinesCarryTheSdDaemonPriorityAndNoTime() {
        assertEquals("<3>boom", Log.line(Log.Format.JOURNAL, Log.Level.ERROR, T, "boom"));
        assertEquals("<4>careful", Log.line(Log.Format.JOURNAL, Log.Level.WARN, T, "careful"));
        assertEquals("<6>task 1 (pid 42) registered", Log.line(Log.Format.JOURNAL, Log.Level.INFO, T, "task 1 (pid 42) registered"));
        assertEquals("<7>nop -> 0", Log.line(Log.Format.JOURNAL, Log.Level.DEBUG, T, "nop -> 0"));
    }

    @Test
    void everyLineOfAMultiLineMessageKeepsItsPriorityInTheJournal() {
        // journald reads each line as its own entry: a stack trace must not drop to the default priority.
        assertEquals("<3>failed: x\n<3>\tat a.b(C.java:1)",
                Log.line(Log.Format.JOURNAL, Log.Level.ERROR, T, "failed: x\n\tat a.b(C.java:1)"));
    }

    @Test
    void plainLinesCarryTimeAndLevel() {
        assertEquals("09:05:07.123 warn diosd: careful", Log.line(Log.Format.PLAIN, Log.Level.WARN, T, "careful"));
    }

    @Test
    void journalStreamMustNameThisVeryStream() {
        assertTrue(Log.journalStreamIs("2049:123456", 2049, 123456));
        assertFalse(Log.journalStreamIs("2049:123456", 2049, 123457), "another inode: stderr was redirected");
        assertFalse(Log.journalStreamIs("2050:123456", 2049, 123456));
        assertFalse(Log.journalStreamIs("", 0, 0));
        assertFalse(Log.journalStreamIs("garbage", 0, 0));
        assertFalse(Log.journalStreamIs(":1", 0, 1));
        assertFalse(Log.journalStreamIs("1:x", 1, 0));
        // st_dev above 2^63 (as a signed Java long) still compares equal
        assertTrue(Log.journalStreamIs("18446744073709551615:7", -1L, 7));
    }
}

package org.dios.diosd.trace;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The reader's messages to the operator's terminal carry no control characters (issue 18.8). */
class TraceTailShownTest {
    @Test
    void controlCharactersPrintEscaped() {
        assertEquals("/s/trace\\x1b]0;FORGED\\x07 \\x9b2J \\x7f\\x0a", TraceTail.shown("/s/trace\u001b]0;FORGED\u0007 \u009b2J \u007f\n"));
        assertEquals("/var/lib/dios/trace é", TraceTail.shown("/var/lib/dios/trace é"), "printable text stays as it is");
        assertEquals("null", TraceTail.shown(null));
    }
}

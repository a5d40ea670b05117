package org.dios.diosd;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Command-line options whose values are checked before the daemon starts. */
class MainOptionsTest {
    @Test
    void socketModeDefaultsToOwnerOnlyAndTakesOctal() throws Exception {
        assertEquals(0600, Main.parse(new String[] {"--socket", "/tmp/x/diosd.sock"}).socketMode());
        assertEquals(0660, Main.parse(new String[] {"--socket", "/tmp/x/diosd.sock", "--socket-mode", "0660"}).socketMode());
        assertEquals(0666, Main.parse(new String[] {"--socket", "/tmp/x/diosd.sock", "--socket-mode", "666"}).socketMode());
    }

    @Test
    void socketModeRefusesExecuteBitsAnOwnerWithoutWriteAndNonOctal() {
        for (String bad : new String[] {"0755", "0770", "0400", "0060", "0860", "rw", "", "-0600", "10600"}) {
            Main.StartupException e = assertThrows(Main.StartupException.class,
                    () -> Main.socketMode(bad), "--socket-mode " + bad);
            assertEquals(2, e.exitCode, "a usage error");
            assertTrue(e.getMessage().startsWith("--socket-mode: "), e.getMessage());
        }
    }
}

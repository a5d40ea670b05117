package org.dios.client;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.dios.client.scenarios.Scenarios;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Java scenario runner against the test daemon, with the test child as the spawned program. */
@ExtendWith(Daemon.class)
class ScenariosTest {
    @Test
    void everyScenarioIsOkInOrder() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int failed = Scenarios.run(new PrintStream(buf, true, StandardCharsets.UTF_8), TestPrograms.child());
        List<String> lines = buf.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(0, failed, String.join("\n", lines));
        assertEquals(4, lines.size(), String.join("\n", lines));
        String[] ids = {"share", "fifo100", "spawn", "errors"};
        for (int i = 0; i < 4; i++) {
            assertTrue(lines.get(i).startsWith("scenario java " + ids[i] + " ok "), lines.get(i));
        }
        assertTrue(lines.get(0).matches("scenario java share ok [A-Za-z0-9_-]{43}"), lines.get(0));
        assertTrue(lines.get(1).matches("scenario java fifo100 ok fnv1a=[0-9a-f]{16} \\d+ MiB/s"), lines.get(1));
        assertTrue(lines.get(2).matches("scenario java spawn ok pid \\d+"), lines.get(2));
        assertEquals("scenario java errors ok EBADF ENOENT EEXIST EINVAL EACCES EAGAIN EPIPE EIDRM ENOEXEC", lines.get(3));
    }

    @Test
    void aMissingChildIsAFailLineNotACrash() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        int failed = Scenarios.run(out, java.nio.file.Path.of("/nonexistent/scenarios_c"));
        List<String> lines = buf.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(1, failed, String.join("\n", lines));
        assertTrue(lines.get(2).startsWith("scenario java spawn FAIL dios_exe: ENOENT"), lines.get(2));
    }
}

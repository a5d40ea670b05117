package org.dios.diosd.sys;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/** The sd_notify datagram protocol: address forms, and messages as a listener receives them. */
class NotifyTest {
    private static byte[] bytes(int... b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) r[i] = (byte) b[i];
        return r;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = new byte[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void pathAddressIsFamilyPathAndNul() {
        byte[] want = concat(concat(bytes(1, 0), "/run/systemd/notify".getBytes(StandardCharsets.US_ASCII)), bytes(0));
        assertArrayEquals(want, Notify.address("/run/systemd/notify"));
    }

    @Test
    void abstractAddressTurnsTheAtIntoALeadingNulAndHasNoTerminator() {
        // systemd's test suite and `systemd-notify` under a container manager use names like this.
        byte[] want = concat(bytes(1, 0, 0), "org/freedesktop/systemd1/notify/42".getBytes(StandardCharsets.US_ASCII));
        byte[] got = Notify.address("@org/freedesktop/systemd1/notify/42");
        assertArrayEquals(want, got);
        assertEquals(2 + 1 + 34, got.length, "the address length ends the name");
    }

    @Test
    void longestAddressesFitAndOneMoreByteIsRefused() {
        String path107 = "/" + "p".repeat(106);
        assertEquals(2 + 108, Notify.address(path107).length);
        String abstract108 = "@" + "a".repeat(107);
        assertEquals(2 + 108, Notify.address(abstract108).length);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Notify.address(path107 + "p"));
        assertTrue(e.getMessage().contains("longer than an AF_UNIX address"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Notify.address(abstract108 + "a"));
    }

    @Test
    void otherFormsAreRefusedWithTheReason() {
        for (String bad : new String[] {"run/notify", "vsock:2:1234", ""}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Notify.address(bad), bad);
            assertTrue(e.getMessage().contains("NOTIFY_SOCKET"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Notify.address("/run/a\0b"));
    }

    @Test
    void messageReachesAnAbstractListenerWithOurPid() throws Exception {
        String name = "dios-notify-test/" + ProcessHandle.current().pid() + "/" + System.nanoTime();
        try (NotifyListener l = NotifyListener.atAbstractName(name)) {
            Notify n = Notify.to("@" + name);
            String state = "READY=1\nSTATUS=test";
            assertEquals(state.length(), n.send(state));
            NotifyListener.Message m = l.receive(Duration.ofSeconds(10));
            assertNotNull(m, "nothing received at @" + name);
            assertEquals(state, m.text());
            assertEquals(ProcessHandle.current().pid(), m.pid());
        }
    }

    @Test
    void messageReachesAPathListener(@TempDir Path dir) throws Exception {
        String path = dir.resolve("notify").toString();
        try (NotifyListener l = NotifyListener.atPath(path)) {
            assertEquals(10, Notify.to(path).send("STOPPING=1"));
            NotifyListener.Message m = l.receive(Duration.ofSeconds(10));
            assertNotNull(m, "nothing received at " + path);
            assertEquals("STOPPING=1", m.text());
        }
    }

    @Test
    void sendingToNobodyReturnsTheErrnoAndNeverThrows(@TempDir Path dir) {
        assertEquals(-LibC.ENOENT, Notify.to(dir.resolve("nobody").toString()).send("READY=1"));
        assertEquals(-LibC.ECONNREFUSED, Notify.to("@dios-notify-test/nobody/" + System.nanoTime()).send("READY=1"));
    }
}

package org.dios.diosd;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

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

    private static Main.Options parse(String... args) throws Main.StartupException {
        String[] all = new String[args.length + 2];
        all[0] = "--socket";
        all[1] = "/tmp/x/diosd.sock";
        System.arraycopy(args, 0, all, 2, args.length);
        return Main.parse(all);
    }

    @Test
    void metricsAreOffByDefaultAndTimeCallsOnlyWhenOn() throws Exception {
        Main.Options off = parse();
        assertNull(off.metrics());
        assertFalse(off.config().timeCalls(), "no clock reads per call without metrics");
        Main.Options on = parse("--metrics", "127.0.0.1:9469");
        assertEquals(9469, on.metrics().getPort());
        assertTrue(on.metrics().getAddress().isLoopbackAddress());
        assertTrue(on.config().timeCalls());
        assertEquals(0, parse("--metrics", "[::1]:0").metrics().getPort(), "0: any free port");
        assertTrue(parse("--metrics", "localhost:9469").metrics().getAddress().isLoopbackAddress());
    }

    @Test
    void metricsRefuseNonLoopbackUnlessAllowed() throws Exception {
        for (String host : new String[] {"0.0.0.0:9469", "[::]:9469", "192.0.2.1:9469"}) {
            Main.StartupException e = assertThrows(Main.StartupException.class, () -> parse("--metrics", host), host);
            assertEquals(2, e.exitCode);
            assertTrue(e.getMessage().contains("not a loopback address") && e.getMessage().contains("--metrics-allow-non-loopback"),
                    e.getMessage());
        }
        assertEquals(9469, parse("--metrics", "0.0.0.0:9469", "--metrics-allow-non-loopback").metrics().getPort());
        assertEquals(9469, parse("--metrics-allow-non-loopback", "--metrics", "0.0.0.0:9469").metrics().getPort(),
                "in either order");
    }

    @Test
    void limitsHaveTheirDocumentedDefaultsAndRanges() throws Exception {
        var c = parse().config();
        assertEquals(4096, c.maxRefs());
        assertEquals(1024, c.maxBuffers());
        assertEquals(64, c.maxParked(), "half the CQ");
        assertEquals(2048, c.maxTasksPerUser());
        assertEquals(4096, c.maxTasks());
        assertEquals(2, parse("--max-parked-calls", "2").config().maxParked());
        assertEquals(127, parse("--max-parked-calls", "127").config().maxParked());
        for (String bad : new String[] {"0", "128", "-1", "x"}) {
            Main.StartupException e = assertThrows(Main.StartupException.class, () -> parse("--max-parked-calls", bad), bad);
            assertEquals(2, e.exitCode, bad);
        }
    }

    @Test
    void metricsAddressMustBeHostColonPort() {
        for (String bad : new String[] {"9469", ":9469", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:65536", "127.0.0.1:-1",
                "::1:9469", "[::1:9469", "[]:9469", "example.org:9469", "[localhost]:9469"}) {
            Main.StartupException e = assertThrows(Main.StartupException.class, () -> parse("--metrics", bad), bad);
            assertEquals(2, e.exitCode, bad);
            assertTrue(e.getMessage().startsWith("--metrics"), e.getMessage());
        }
    }

    @Test
    void maxTaskMemoryTakesBytesOrASuffixAndDefaultsToEightGib() throws Exception {
        assertEquals(8L << 30, parse().config().maxTaskMemory());
        assertEquals(1L << 30, parse("--max-task-memory", "1G").config().maxTaskMemory());
        assertEquals(64L << 20, parse("--max-task-memory", "64m").config().maxTaskMemory());
        assertEquals(512L << 10, parse("--max-task-memory", "512K").config().maxTaskMemory());
        assertEquals(2L << 40, parse("--max-task-memory", "2T").config().maxTaskMemory());
        assertEquals(123456789L, parse("--max-task-memory", "123456789").config().maxTaskMemory());
        for (String bad : new String[] {"", "G", "1.5G", "-1", "0", "4095", "1P", "x", "99999999999T"}) {
            Main.StartupException e = assertThrows(Main.StartupException.class, () -> parse("--max-task-memory", bad), bad);
            assertEquals(2, e.exitCode);
            assertTrue(e.getMessage().startsWith("--max-task-memory: "), e.getMessage());
        }
    }

    @Test
    void quotaFlagsOverrideTheSizedDefaultsAndRefuseZero() throws Exception {
        Main.Options o = parse("--quota-objects", "40", "--quota-memory", "1M", "--quota-blob-bytes", "2G",
                "--quota-pending-connections", "4", "--quota-rpc-connections", "9", "--quota-admin-connections", "2");
        assertEquals(40, o.quotas()[org.dios.diosd.objects.Quotas.OBJECTS]);
        assertEquals(1L << 20, o.quotas()[org.dios.diosd.objects.Quotas.MEMORY_BYTES]);
        assertEquals(2L << 30, o.quotas()[org.dios.diosd.objects.Quotas.BLOB_BYTES]);
        assertEquals(4, o.quotas()[org.dios.diosd.objects.Quotas.PENDING]);
        assertEquals(0, o.quotas()[org.dios.diosd.objects.Quotas.FIFOS], "0: sized to the machine at start");
        assertEquals(9, o.rpcPerUser());
        assertEquals(128, parse().rpcPerUser());
        assertEquals(2, o.adminPerUser());
        assertEquals(8, parse().adminPerUser(), "default: every admin slot, 4 requests and 4 tracers");
        for (String flag : new String[] {"--quota-objects", "--quota-names", "--quota-fifos", "--quota-blobs",
                "--quota-pending-connections", "--quota-rpc-connections", "--quota-admin-connections", "--quota-memory",
                "--quota-blob-bytes"}) {
            Main.StartupException e = assertThrows(Main.StartupException.class, () -> parse(flag, "0"), flag);
            assertEquals(2, e.exitCode, flag + ": a usage error");
        }
    }

    @Test
    void theSizedQuotasTakeTheGivenOnesAndAreAllPositive() throws Exception {
        org.dios.diosd.objects.Quotas q = Main.quotas(parse("--state-dir", "/tmp", "--quota-fifos", "7"));
        assertEquals(7, q.limit(org.dios.diosd.objects.Quotas.FIFOS));
        for (int k = 0; k < org.dios.diosd.objects.Quotas.KINDS; k++) assertTrue(q.limit(k) > 0);
        assertTrue(Main.openFilesLimit() > 0);
        assertTrue(Main.memTotal() > 0);
    }
}

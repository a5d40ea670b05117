package org.dios.diosd.trace;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import net.openhft.chronicle.core.time.SetTimeProvider;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.dios.abi.Abi;

import static org.junit.jupiter.api.Assertions.*;

/** The trace queue's writer on its own: nothing without a client, exact entries, and its bounds. */
class TracerTest {
    @TempDir
    Path tmp;

    private static long cycleFiles(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(SingleChronicleQueue.SUFFIX)).count();
        }
    }

    @Test
    void aClosedTracerWritesNothingAndMakesNoFiles() throws Exception {
        Path dir = tmp.resolve("trace");
        Tracer t = new Tracer(dir);
        for (int i = 0; i < 1000; i++) t.record(TraceRecord.CALL, System.nanoTime(), 1, 2, Abi.D_OP_NOP, 0, 0, 0, 0, 0, 5);
        assertFalse(Files.exists(dir), "no queue, no directory while nobody traces");
        assertEquals(0, t.written());
        t.close();
        assertFalse(Files.exists(dir));
    }

    @Test
    void entriesReadBackFieldForFieldAndCloseRemovesTheQueue() throws Exception {
        Path dir = tmp.resolve("trace");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("junk"), "left by a killed daemon");
        Tracer t = new Tracer(dir);
        t.open();
        assertFalse(Files.exists(dir.resolve("junk")), "open starts from an empty directory");
        long start = t.start(7);
        long now = System.nanoTime();
        org.dios.diosd.objects.Name name = org.dios.diosd.objects.Name.fromString("TracerTest");
        t.record(TraceRecord.CALL, now, 3, 1234, Abi.D_OP_CREATE, Abi.D_OBJ_SHMEM, Abi.D_CREATE_NAMED, 0x5199000000000001L,
                17, 0, 1200, 4096, name);
        t.record(TraceRecord.CALL, now + 5, 3, 1234, Abi.D_OP_LOOKUP, 0, 0, 0, 0, -Abi.DIOS_ENOENT, 900);
        t.record(TraceRecord.PARKED, now + 9, 4, 99, Abi.D_OP_SELECT, 0, 0, 0, 0, 0, 2500);
        assertEquals(1, TraceTail.readAll(dir).size(), "calls wait in the batch");
        t.flush();
        List<TraceRecord> all = TraceTail.readAll(dir);
        assertEquals(4, all.size(), all.toString());
        assertEquals(TraceRecord.START, all.get(0).kind());
        assertEquals(7, all.get(0).task());
        TraceRecord c = all.get(1);
        assertEquals(new TraceRecord(t.wallNanos(now), 3, 1234, TraceRecord.CALL, Abi.D_OP_CREATE, Abi.D_OBJ_SHMEM,
                Abi.D_CREATE_NAMED, 0x5199000000000001L, 17, 0, 1200, 4096, name), c);
        long wallMs = c.time() / 1_000_000;
        assertTrue(Math.abs(wallMs - System.currentTimeMillis()) < 60_000, "wall clock: " + Instant.ofEpochMilli(wallMs));
        assertTrue(c.line(ZoneOffset.UTC).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{6} task 3 \\(pid 1234\\) create type=shmem"
                + " flags=D_CREATE_NAMED len=4096 name=" + name.text() + " ref=0x5199000000000001 obj=17 -> 0 1\\.2us"
                + " \\(from \\d\\d:\\d\\d:\\d\\d\\.\\d{6}\\)"), c.line(ZoneOffset.UTC));
        assertTrue(all.get(2).line(ZoneOffset.UTC).contains(" lookup type=none flags=0 len=0 ref=0x0 obj=0 -> -ENOENT 900ns (from "));
        assertTrue(all.get(3).line(ZoneOffset.UTC).contains(" select type=none flags=0 len=0 ref=0x0 obj=0 -> parked 2.5us (from "));
        assertEquals(c.time() + "\t3\t1234\tcall\tcreate\tshmem\t0x" + Long.toHexString(Abi.D_CREATE_NAMED)
                + "\t0x5199000000000001\t17\t0\t1200\t" + (c.time() + 1200) + "\t4096\t" + name.text() + "\tD_CREATE_NAMED",
                c.raw());
        assertNull(all.get(2).name(), "no name recorded: none read back");
        assertEquals(TraceRecord.RAW_HEADER.split("\t").length, c.raw().split("\t").length);
        assertTrue(start >= 0);
        assertEquals(4, t.written());

        t.close();
        assertFalse(Files.exists(dir), "closing removes the trace: it lives only while someone traces");
        t.record(TraceRecord.CALL, now, 3, 1234, Abi.D_OP_NOP, 0, 0, 0, 0, 0, 1);
        assertFalse(Files.exists(dir), "and a closed tracer writes nothing");
    }

    @Test
    void durationsAndTimesPrintShortAndFixedWidth() {
        long[] ns = {0, 999, 1_000, 1_249, 1_250, 9_949, 9_950, 10_000, 999_499, 1_000_000, 12_345_678, 999_999_999,
                1_000_000_000, 65_432_100_000L};
        String[] want = {"0ns", "999ns", "1.0us", "1.2us", "1.3us", "9.9us", "10.0us", "10us", "999us", "1.0ms", "12ms",
                "1000ms", "1.0s", "65.4s"};
        for (int i = 0; i < ns.length; i++) {
            StringBuilder b = new StringBuilder();
            TraceRecord.duration(b, ns[i]);
            assertEquals(want[i], b.toString(), ns[i] + " ns");
        }
        long t = Instant.parse("2026-03-04T05:06:07.000042999Z").toEpochMilli() * 1_000_000 + 42_999;
        TraceRecord r = new TraceRecord(t, 1, 2, TraceRecord.CALL, Abi.D_OP_NOP, 0, 0, 0, 0, 0, 7);
        assertEquals("05:06:07.000043 task 1 (pid 2) nop type=none flags=0 len=0 ref=0x0 obj=0 -> 0 7ns (from 05:06:07.000042)",
                r.line(ZoneOffset.UTC), "the line's time is the end (42.999 us + 7 ns), the start follows");
    }

    @Test
    void aParkedCallsCompletionIsPrintedAtItsEndWithItsStartSoTimesNeverGoBack() {
        long t0 = Instant.parse("2026-03-04T05:06:07Z").toEpochMilli() * 1_000_000;
        TraceRecord.Lines lines = new TraceRecord.Lines(ZoneOffset.UTC);
        // In queue (completion) order: a select parks at 07.000001; a nop at 08.5; the select completes at 09.
        String parked = lines.format(new TraceRecord(t0 + 1_000, 4, 99, TraceRecord.PARKED, Abi.D_OP_SELECT, 0, 0, 0, 0, 0,
                2_500, 3, null));
        String nop = lines.format(new TraceRecord(t0 + 1_500_000_000L, 5, 100, TraceRecord.CALL, Abi.D_OP_NOP, 0, 0, 0, 0, 0,
                1_000));
        String resumed = lines.format(new TraceRecord(t0 + 1_000, 4, 99, TraceRecord.RESUMED, Abi.D_OP_SELECT, Abi.D_OBJ_FIFO,
                0, 0x51, 20011, 0, 2_000_000_000L - 1_000, 3, null));
        assertEquals("05:06:07.000003 task 4 (pid 99) select type=none flags=0 len=3 ref=0x0 obj=0 -> parked 2.5us"
                + " (from 05:06:07.000001)", parked);
        assertEquals("05:06:08.500001 task 5 (pid 100) nop type=none flags=0 len=0 ref=0x0 obj=0 -> 0 1.0us"
                + " (from 05:06:08.500000)", nop);
        assertEquals("05:06:09.000000 task 4 (pid 99) select type=fifo flags=0 len=3 ref=0x51 obj=20011 -> 0 2.0s"
                + " (from 05:06:07.000001, was parked)", resumed);
        List<String> inOrder = List.of(parked, nop, resumed);
        for (int i = 1; i < inOrder.size(); i++) {
            assertTrue(inOrder.get(i - 1).substring(0, 15).compareTo(inOrder.get(i).substring(0, 15)) <= 0,
                    "lines in completion order have non-decreasing times: " + inOrder);
        }
    }

    @Test
    void flagsAreShownByTheirNamesInTheHeaderFromTheOpsOwnFlags() {
        assertEquals("0", FlagNames.of(Abi.D_OP_NOP, 0));
        assertEquals("D_CREATE_NAME_GIVEN|D_CREATE_NAMED", FlagNames.of(Abi.D_OP_CREATE, Abi.D_CREATE_NAME_GIVEN | Abi.D_CREATE_NAMED),
                "an alias (D_NAME_DETERMINISTIC_STRING) loses to the op's own name");
        assertEquals("D_NONBLOCK|D_LOOKUP_READONLY", FlagNames.of(Abi.D_OP_LOOKUP, Abi.D_NONBLOCK | Abi.D_LOOKUP_READONLY));
        assertEquals("D_COPY_READONLY", FlagNames.of(Abi.D_OP_COPY, Abi.D_COPY_READONLY), "bit 12 is named by the op");
        assertEquals("D_DELETE_ZOMBIFY", FlagNames.of(Abi.D_OP_DELETE, Abi.D_DELETE_ZOMBIFY));
        assertEquals("D_RUN_SECCOMP_KILL", FlagNames.of(Abi.D_OP_RUN, Abi.D_RUN_SECCOMP_KILL));
        assertEquals("D_NONBLOCK|0x10000000000", FlagNames.of(Abi.D_OP_CREATE, Abi.D_NONBLOCK | (1L << 40)),
                "a bit the op does not accept stays hex");
        assertEquals("0x1000", FlagNames.of(Abi.D_OP_DELETE, Abi.D_LOOKUP_READONLY), "another op's flag is not named");
        assertEquals("0x1", FlagNames.of(200, 1), "an unknown op: hex");
    }

    @Test
    void overItsBudgetACycleDropsCallsAndTheNextOneSaysHowMany() throws Exception {
        Path dir = tmp.resolve("trace");
        SetTimeProvider clock = new SetTimeProvider(Instant.parse("2026-03-04T05:00:10Z"));
        Tracer t = new Tracer(dir, 10 * TraceRecord.BYTES, clock); // ten entries per cycle
        t.open();
        t.start(1);
        for (int i = 0; i < 25; i++) t.record(TraceRecord.CALL, System.nanoTime(), 1, 1, Abi.D_OP_NOP, 0, 0, 0, 0, 0, i);
        assertEquals(10, t.written(), "the start entry and nine calls fill the budget");
        assertEquals(16, t.droppedTotal());
        clock.advanceMillis(5 * 60_000); // the next cycle
        t.record(TraceRecord.CALL, System.nanoTime(), 1, 1, Abi.D_OP_NOP, 0, 0, 0, 0, 0, 99);
        t.flush();
        List<TraceRecord> all = TraceTail.readAll(dir);
        assertEquals(12, all.size());
        TraceRecord dropped = all.get(10);
        assertEquals(TraceRecord.DROPPED, dropped.kind());
        assertEquals(16, dropped.task());
        assertTrue(dropped.line(ZoneOffset.UTC).contains("--- dropped 16 calls"), dropped.line(ZoneOffset.UTC));
        assertEquals(99, all.get(11).latency());
        t.close();
    }

    @Test
    void aBatchGoesOutWhenFullOrOld() throws Exception {
        Path dir = tmp.resolve("trace");
        Tracer t = new Tracer(dir);
        t.open();
        t.start(1);
        long now = System.nanoTime();
        for (int i = 0; i < Tracer.BATCH - 1; i++) t.record(TraceRecord.CALL, now, 1, 1, Abi.D_OP_NOP, 0, 0, 0, 0, 0, 5);
        assertEquals(1, TraceTail.readAll(dir).size());
        t.record(TraceRecord.CALL, now, 1, 1, Abi.D_OP_NOP, 0, 0, 0, 0, 0, 5);
        assertEquals(1 + Tracer.BATCH, TraceTail.readAll(dir).size(), "a full batch is one append");
        t.record(TraceRecord.CALL, now, 1, 1, Abi.D_OP_NOP, 0, 0, 0, 0, 0, 5);
        assertEquals(1 + Tracer.BATCH, TraceTail.readAll(dir).size());
        t.record(TraceRecord.CALL, now + Tracer.FLUSH_NANOS, 1, 1, Abi.D_OP_NOP, 0, 0, 0, 0, 0, 5);
        assertEquals(3 + Tracer.BATCH, TraceTail.readAll(dir).size(), "a call ending a millisecond after the batch began flushes it");
        t.close();
    }

    @Test
    void onlyTheNewestCycleFilesAreKept() throws Exception {
        Path dir = tmp.resolve("trace");
        SetTimeProvider clock = new SetTimeProvider(Instant.parse("2026-03-04T05:00:10Z"));
        Tracer t = new Tracer(dir, Tracer.MAX_CYCLE_BYTES, clock);
        t.open();
        t.start(1);
        for (int cycle = 0; cycle < 5; cycle++) {
            for (int i = 0; i < 3; i++) t.record(TraceRecord.CALL, System.nanoTime(), 1, 1, Abi.D_OP_NOP, 0, 0, 0, 0, 0, i);
            t.flush();
            assertTrue(cycleFiles(dir) <= Tracer.KEEP_CYCLES, "cycle " + cycle + ": " + cycleFiles(dir) + " files");
            clock.advanceMillis(TimeUnit.MINUTES.toMillis(Tracer.CYCLE_MINUTES));
        }
        assertEquals(Tracer.KEEP_CYCLES, cycleFiles(dir));
        t.close();
        assertFalse(Files.exists(dir));
    }
}

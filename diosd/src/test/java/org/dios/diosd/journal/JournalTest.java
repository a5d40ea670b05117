package org.dios.diosd.journal;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/** The journal on disk: replay, durability of appends across a killed writer, and every kind of damage. */
class JournalTest {
    @TempDir
    Path tmp;

    static byte[] name(int seed) {
        byte[] n = new byte[32];
        for (int i = 0; i < 32; i++) n[i] = (byte) (seed * 31 + i + 1);
        return n;
    }

    static List<JournalRecord> sample(int n) {
        List<JournalRecord> l = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            l.add(switch (i % 3) {
                case 1 -> JournalRecord.create(i, name(i), i * 100L, String.format("%016x.blob", i), 1_700_000_000_000L + i);
                case 2 -> JournalRecord.size(i - 1, i * 1000L);
                default -> JournalRecord.delete(i - 2, JournalRecord.REASON_ZOMBIFIED);
            });
        }
        return l;
    }

    private Path dir() {
        return tmp.resolve("journal");
    }

    private void write(List<JournalRecord> recs) throws IOException {
        try (Journal j = Journal.open(dir())) {
            assertFalse(j.broken());
            for (JournalRecord r : recs) j.append(r);
            assertEquals(recs.size(), j.appended());
        }
    }

    private Path cycleFile() throws IOException {
        try (Stream<Path> s = Files.list(dir())) {
            List<Path> l = s.filter(p -> p.toString().endsWith(".cq4")).toList();
            assertEquals(1, l.size(), "one cycle file: " + l);
            return l.get(0);
        }
    }

    /** Offset of the last record's magic in the cycle file. */
    private static long lastMagic(Path f) throws IOException {
        byte[] all = Files.readAllBytes(f);
        byte[] m = {0x44, 0x4a, 0x52, 0x31}; // "DJR1" little-endian
        for (int i = all.length - 4; i >= 0; i--) {
            if (all[i] == m[0] && all[i + 1] == m[1] && all[i + 2] == m[2] && all[i + 3] == m[3]) return i;
        }
        return -1;
    }

    @Test
    void recordsRoundTripAndRejectDamage() throws Exception {
        for (JournalRecord r : sample(9)) {
            byte[] a = r.encode();
            assertEquals(r, JournalRecord.decode(a));
            for (int i = 0; i < a.length; i++) {
                byte[] b = a.clone();
                b[i] ^= 0x10;
                assertThrows(JournalRecord.Damaged.class, () -> JournalRecord.decode(b), "flipped byte " + i);
            }
            for (int cut = 0; cut < a.length; cut++) {
                byte[] b = java.util.Arrays.copyOf(a, cut);
                assertThrows(JournalRecord.Damaged.class, () -> JournalRecord.decode(b), "cut at " + cut);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> JournalRecord.create(1, name(1), 1, "../etc/passwd", 0));
        assertThrows(IllegalArgumentException.class, () -> JournalRecord.create(1, new byte[32], 1, "a.blob", 0));
        assertThrows(IllegalArgumentException.class, () -> JournalRecord.size(0, 1));
        assertThrows(IllegalArgumentException.class, () -> JournalRecord.size(1, -1));
        assertThrows(IllegalArgumentException.class, () -> JournalRecord.size(1, (1L << 36) + 1));
    }

    @Test
    void replaysWhatWasAppended() throws IOException {
        List<JournalRecord> recs = sample(30);
        write(recs.subList(0, 10));
        write(recs.subList(10, 30)); // a second run appends after the first
        try (Journal j = Journal.open(dir())) {
            assertEquals(recs, j.replay().records());
            assertEquals(List.of(), j.replay().problems());
            assertEquals(30, j.replay().entries());
        }
    }

    @Test
    void appendsFromAnotherThreadThanTheOpener() throws Exception {
        // Start-up opens the journal on the main thread; the conductor thread appends.
        try (Journal j = Journal.open(dir())) {
            j.append(sample(1).get(0));
            Thread t = new Thread(() -> {
                try {
                    j.append(sample(2).get(1));
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            t.start();
            t.join();
        }
        try (Journal j = Journal.open(dir())) {
            assertEquals(sample(2), j.replay().records());
        }
    }

    /** Run in a child JVM: appends two records, starts a third and dies in the middle of it. */
    public static void main(String[] args) throws IOException {
        Path d = Path.of(args[0]);
        try (Journal j = Journal.open(d)) {
            for (JournalRecord r : sample(2)) j.append(r);
        }
        SingleChronicleQueue q = SingleChronicleQueueBuilder.binary(d).build();
        ExcerptAppender ap = q.createAppender();
        DocumentContext dc = ap.writingDocument();
        byte[] a = sample(3).get(2).encode();
        dc.wire().bytes().write(a, 0, a.length / 2);
        System.out.println("halting mid-write");
        System.out.flush();
        Runtime.getRuntime().halt(9);
    }

    @Test
    void writerKilledMidEntry() throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--") || a.startsWith("-D")).toList());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), JournalTest.class.getName(),
                dir().toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(9, p.exitValue(), out);
        assertTrue(out.contains("halting mid-write"), out);

        try (Journal j = Journal.open(dir())) {
            assertFalse(j.broken());
            assertEquals(sample(2), j.replay().records(), "the two finished entries survive");
            assertEquals(1, j.replay().problems().size(), j.replay().problems().toString());
            assertTrue(j.replay().problems().get(0).contains("left incomplete"), j.replay().problems().get(0));
            j.append(sample(3).get(2)); // the dead writer's lock is recovered
            // the owner rewrites after any problem, so no leftover of the torn entry stays behind
            j.rewrite(sample(3), null);
        }
        try (Journal j = Journal.open(dir())) {
            assertEquals(sample(3), j.replay().records());
            assertEquals(List.of(), j.replay().problems(), "the torn entry was overwritten");
        }
    }

    @Test
    void truncatedLastEntryIsSkippedWithAReason() throws IOException {
        write(sample(3));
        Path f = cycleFile();
        long at = lastMagic(f);
        assertTrue(at > 0);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(at + 20); // in the middle of the third record
        }
        try (Journal j = Journal.open(dir())) {
            assertFalse(j.broken());
            assertEquals(sample(2), j.replay().records());
            List<String> problems = j.replay().problems();
            assertEquals(2, problems.size(), problems.toString());
            assertTrue(problems.stream().anyMatch(s -> s.contains("entry 3") && s.contains("damaged")), problems.toString());
            assertTrue(problems.stream().anyMatch(s -> s.contains("truncated")), problems.toString());
            j.rewrite(j.replay().records(), null);
            j.append(sample(3).get(2));
        }
        try (Journal j = Journal.open(dir())) {
            assertEquals(sample(3), j.replay().records());
            assertEquals(List.of(), j.replay().problems());
        }
        assertFalse(Files.exists(tmp.resolve("journal.old")));
        assertFalse(Files.exists(tmp.resolve("journal.new")));
    }

    @Test
    void destroyedHeaderIsRecoveredByARewrite() throws IOException {
        write(sample(3));
        for (long cut : new long[] {0, 100, 200}) {
            Path f = cycleFile();
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.setLength(cut);
            }
            try (Journal j = Journal.open(dir())) {
                assertFalse(j.replay().problems().isEmpty(), "cut " + cut);
                if (j.broken()) {
                    assertThrows(IOException.class, () -> j.append(sample(1).get(0)));
                }
                j.rewrite(sample(3), "journal.damaged-" + cut);
                j.append(JournalRecord.create(7, name(7), 1, "0000000000000007.blob", 1));
            }
            assertTrue(Files.isDirectory(tmp.resolve("journal.damaged-" + cut)));
            List<JournalRecord> want = new ArrayList<>(sample(3));
            want.add(JournalRecord.create(7, name(7), 1, "0000000000000007.blob", 1));
            try (Journal j = Journal.open(dir())) {
                assertEquals(want, j.replay().records(), "cut " + cut);
                assertEquals(List.of(), j.replay().problems());
            }
            try (Journal j = Journal.open(dir())) {
                j.rewrite(sample(3), null); // back to three entries for the next cut
            }
        }
    }

    @Test
    void interruptedRewriteIsFinishedOrDiscarded() throws IOException {
        write(sample(2));
        // crash after the new journal was written but before it replaced the old one
        Files.createDirectories(tmp.resolve("journal.new"));
        Files.writeString(tmp.resolve("journal.new").resolve("junk"), "half-written");
        try (Journal j = Journal.open(dir())) {
            assertEquals(sample(2), j.replay().records());
            assertEquals(List.of(), j.replay().problems());
        }
        assertFalse(Files.exists(tmp.resolve("journal.new")));
        // crash after the old journal was moved away: the new one is whole and takes its place
        Files.move(dir(), tmp.resolve("journal.new"));
        try (Journal j = Journal.open(dir())) {
            assertEquals(sample(2), j.replay().records());
            assertEquals(1, j.replay().problems().size());
            assertTrue(j.replay().problems().get(0).contains("rewrite"));
        }
    }

    @Test
    void writePositionIsTheEndOfTheLastEntryInTheCycleFile() throws IOException {
        // The disk-full reserve (DELETE_RESERVE) is measured from it.
        try (Journal j = Journal.open(dir())) {
            for (JournalRecord r : sample(5)) {
                j.append(r);
                long magic = lastMagic(cycleFile());
                long end = magic + r.encode().length;
                long pos = j.writePosition();
                assertTrue(pos >= end && pos <= end + 3, "position " + pos + ", entry ends at " + end);
            }
        }
    }

    @Test
    void thisJvmHasTheFlagsChronicleNeeds() {
        assertNull(Journal.missingJvmAccess(), "Surefire's argLine carries the --add-opens/--add-exports flags");
    }
}

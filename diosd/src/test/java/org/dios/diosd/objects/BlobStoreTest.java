package org.dios.diosd.objects;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.dios.abi.Abi;
import org.dios.diosd.journal.Journal;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The durable store across restarts: each "daemon run" opens the state
 * directory, attaches it to a fresh ObjectManager, does what a task's calls
 * would do (the dispatcher's sequence), and closes it without any clean-up,
 * as kill -9 would.
 */
class BlobStoreTest {
    @TempDir
    Path state;

    private BlobStore store;
    private ObjectManager om;
    private Stats stats;

    @AfterEach
    void closeStore() {
        if (store != null) store.close();
        BlobStore.compactMinEntries = 1024;
    }

    private void run() throws IOException {
        if (store != null) store.close();
        stats = new Stats();
        om = new ObjectManager(stats);
        store = BlobStore.open(state);
        store.attach(om, stats);
    }

    /** create + bind + makeDurable, as CallDispatcher.create does for a named blob (the creator's count stays). */
    private BlobObject named(String name, long size) {
        BlobObject b = store.create(om.newObjectId(), 1, size);
        assertNotNull(b, "create: " + store.error());
        om.adopt(b);
        Name n = Name.fromString(name);
        assertTrue(om.bind(n, b));
        assertEquals(0, store.makeDurable(b, n));
        return b;
    }

    private Path file(BlobObject b) {
        return state.resolve("blobs").resolve(b.fileName());
    }

    /** What a task writes through its mapping (the daemon never does). */
    private static void writeThroughMapping(Path f, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(data), 0);
        }
    }

    private static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 7 + seed);
        return b;
    }

    private BlobObject resolve(String name) {
        DObject o = om.resolve(Name.fromString(name));
        return o instanceof BlobObject b ? b : null;
    }

    private int files(String dir) throws IOException {
        Path d = state.resolve(dir);
        if (!Files.isDirectory(d)) return 0;
        try (Stream<Path> s = Files.list(d)) {
            return (int) s.count();
        }
    }

    @Test
    void capacityIsAPowerOfTwoOfAtLeast64KiB() {
        assertEquals(BlobStore.MIN_CAPACITY, BlobStore.capacityFor(0));
        assertEquals(BlobStore.MIN_CAPACITY, BlobStore.capacityFor(65536));
        assertEquals(131072, BlobStore.capacityFor(65537));
        assertEquals(1L << 20, BlobStore.capacityFor(1L << 20));
        assertEquals(Abi.DIOS_MAX_OBJECT_SIZE, BlobStore.capacityFor(Abi.DIOS_MAX_OBJECT_SIZE));
        assertEquals(Abi.DIOS_MAX_OBJECT_SIZE, BlobStore.capacityFor(Abi.DIOS_MAX_OBJECT_SIZE - 1));
    }

    @Test
    void namedBlobsSurviveRestartsWithTheirCommittedBytes() throws IOException {
        run();
        BlobObject a = named("a", 0);
        assertEquals(0, store.ensureMapping(a, 5000));
        assertEquals(BlobStore.MIN_CAPACITY, a.capacity());
        long firstSegment = a.segmentId();
        writeThroughMapping(file(a), pattern(5000, 1));
        assertEquals(0, store.commit(a, 5000));
        assertEquals(5000, a.size());
        // growth to a new capacity: a new mapping generation
        assertEquals(0, store.ensureMapping(a, 100_000));
        assertEquals(131072, a.capacity());
        assertNotEquals(firstSegment, a.segmentId());
        writeThroughMapping(file(a), pattern(100_000, 2));
        // ... never committed: the durable size stays 5000
        BlobObject z = named("zombie", 10);
        assertEquals(0, store.journalDelete(z));
        om.zombify(z);
        assertFalse(Files.exists(file(z)), "a zombified blob's file goes at once");
        BlobObject anon = store.create(om.newObjectId(), 1, 64); // anonymous: never journaled
        om.adopt(anon);
        assertTrue(Files.exists(file(anon)));
        Path anonFile = file(anon);
        assertEquals(3, stats.objects);

        run(); // kill -9 and start again: nothing above was released
        BlobObject a2 = resolve("a");
        assertNotNull(a2);
        assertEquals(5000, a2.size());
        assertTrue(a2.durable());
        assertEquals(5000, Files.size(file(a2)), "the uncommitted growth is cut off");
        assertArrayEquals(pattern(5000, 2), Files.readAllBytes(file(a2)), "the bytes are the file's");
        assertNull(resolve("zombie"));
        assertFalse(Files.exists(anonFile), "an anonymous blob's file is removed at start-up");
        assertEquals(1, stats.objects);
        assertEquals(1, stats.names);
        assertEquals(1, a2.refCount(), "the name's pin is the only count");

        // a lookup's count and the pin: zombify frees it once the last reference goes
        assertTrue(a2.tryRetain());
        assertEquals(0, store.journalDelete(a2));
        om.zombify(a2);
        assertEquals(1, stats.objects, "still held by the looked-up reference");
        assertEquals(1, a2.refCount());
        run();
        assertNull(resolve("a"));
        assertEquals(0, stats.objects);
        assertEquals(0, files("blobs"));
    }

    @Test
    void commitRepairsAFileATaskShrank() throws IOException {
        run();
        BlobObject a = named("a", 0);
        assertEquals(0, store.ensureMapping(a, 1000));
        writeThroughMapping(file(a), pattern(1000, 3));
        assertEquals(0, store.commit(a, 1000));
        try (RandomAccessFile raf = new RandomAccessFile(file(a).toFile(), "rw")) {
            raf.setLength(10); // what a task holding a write reference can do
        }
        assertEquals(0, store.commit(a, 1000));
        assertEquals(a.capacity(), Files.size(file(a)), "grown back: other tasks' mappings are whole again");
        assertEquals(0, store.ensureMapping(a, 0));
    }

    @Test
    void aLostDataFileDropsTheNameWithAReason() throws IOException {
        run();
        BlobObject a = named("a", 10);
        named("b", 20);
        Path fa = file(a);
        run();
        Files.delete(fa);
        run();
        assertNull(resolve("a"));
        assertNotNull(resolve("b"));
        store.close();
        store = null;
        try (Journal j = Journal.open(state.resolve("journal"))) {
            assertEquals(List.of(), j.replay().problems(), "the journal was rewritten without it");
            assertEquals(1, j.replay().records().size());
        }
    }

    @Test
    void aTruncatedJournalKeepsWhatItCanAndTheOrphanedFile() throws IOException {
        run();
        named("a", 10);
        BlobObject b = named("b", 20);
        String bFile = b.fileName();
        store.close();
        store = null;
        Path cq4;
        try (Stream<Path> s = Files.list(state.resolve("journal"))) {
            cq4 = s.filter(p -> p.toString().endsWith(".cq4")).findFirst().orElseThrow();
        }
        byte[] all = Files.readAllBytes(cq4);
        int at = -1;
        for (int i = 0; i + 4 <= all.length; i++) {
            if (all[i] == 'D' && all[i + 1] == 'J' && all[i + 2] == 'R' && all[i + 3] == '1') at = i;
        }
        assertTrue(at > 0);
        try (RandomAccessFile raf = new RandomAccessFile(cq4.toFile(), "rw")) {
            raf.setLength(at + 30);
        }
        run();
        assertNotNull(resolve("a"));
        assertNull(resolve("b"));
        assertTrue(Files.exists(state.resolve("lost+found").resolve(bFile)), "kept for inspection");
        try (Stream<Path> s = Files.list(state)) {
            assertEquals(1, s.filter(p -> p.getFileName().toString().startsWith("journal.damaged-")).count());
        }
        // and the blob ids move on: a new blob never reuses the lost file's name
        BlobObject c = named("c", 1);
        assertNotEquals(bFile, c.fileName());
    }

    @Test
    void aJournalOfMostlyDeadEntriesIsCompacted() throws IOException {
        BlobStore.compactMinEntries = 8;
        run();
        for (int i = 0; i < 10; i++) {
            BlobObject x = named("x" + i, 1);
            assertEquals(0, store.journalDelete(x));
            om.zombify(x);
        }
        named("kept", 3);
        run();
        assertNotNull(resolve("kept"));
        store.close();
        store = null;
        try (Journal j = Journal.open(state.resolve("journal"))) {
            assertEquals(1, j.replay().records().size(), "21 entries compacted to the one live blob");
        }
    }

    @Test
    void oneDaemonPerStateDirectory() throws IOException {
        run();
        IOException e = assertThrows(IOException.class, () -> BlobStore.open(state));
        assertTrue(e.getMessage().contains("in use by another diosd"), e.getMessage());
        store.close();
        store = null;
        run(); // released by close
    }
}

package org.dios.diosd.journal;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

import org.dios.diosd.log.Log;
import org.dios.diosd.sys.LibC;


/**
 * The daemon's durable journal: a Chronicle Queue of {@link JournalRecord}s,
 * appended by the conductor (creations, deletions) and the blob sync thread
 * (sizes), and replayed at start-up.
 *
 * <p><b>Durability.</b> {@link #append} returns only after the entry is on
 * stable storage: Chronicle writes it into its memory-mapped cycle file, and
 * the journal then calls {@code fdatasync} on that file (and, the first time it
 * writes to a new cycle file, {@code fsync} on the queue's metadata file and
 * directory so the file itself survives a power cut).
 *
 * <p><b>Damage.</b> {@link #open} never stops silently. Each entry is checked
 * by its CRC; a damaged one is skipped with a line in {@link Replay#problems()}.
 * An entry the previous daemon left half-written (killed in the middle of an
 * append) is found by looking at the header word after the last intact entry.
 * A cycle file that Chronicle had to grow back on open had been truncated. If
 * Chronicle cannot read its own structures at all, the entries read so far are
 * kept and the journal is marked {@link #broken()}. The owner then calls
 * {@link #rewrite} with the live state, which replaces the damaged queue by a
 * fresh one (the old one is kept beside it for inspection).
 *
 * <p>Not thread-safe: opened on one thread (start-up), then appended to by
 * one thread at a time: BlobStore holds its journal lock around every append
 * and the close, and {@link #append} hands Chronicle's appender over when the
 * thread changes.
 */
public final class Journal implements AutoCloseable {
    static {
        configureChronicle();
    }

    /**
     * Sets Chronicle's switches before any of its classes initialise (unless
     * already given on the command line): no analytics (the module is also
     * excluded from the build), no banner on stdout, no disk-space monitor thread.
     */
    public static void configureChronicle() {
        defaultProperty("chronicle.analytics.disable", "true");
        defaultProperty("chronicle.announcer.disable", "true");
        defaultProperty("chronicle.disk.monitor.disable", "true");
    }

    private static void defaultProperty(String key, String value) {
        if (System.getProperty(key) == null) System.setProperty(key, value);
    }

    /** What {@link #open} read. */
    public record Replay(List<JournalRecord> records, List<String> problems, long entries) {}

    /** Chronicle's header word: bit 31 = not yet complete, bit 30 = metadata, low 30 bits = length. */
    private static final int HEADER_NOT_COMPLETE = 0x8000_0000;
    private static final int HEADER_LENGTH_MASK = 0x3fff_ffff;
    /** Chronicle preallocates each cycle file in blocks of this size (sparse). */
    private static final long BLOCK_SIZE = 1L << 20;

    private final Path dir;
    private final Replay replay;
    private SingleChronicleQueue queue;
    private ExcerptAppender appender;
    private Thread appenderThread;
    /** The cycle file being appended to: an fd to fdatasync it, and how much of it has disk blocks. */
    private int syncFd = -1;
    private File syncedFile;
    private long allocated;
    private boolean newFile;
    private boolean warnedNoSpace;
    private boolean broken;
    private long appended;

    private Journal(Path dir, SingleChronicleQueue queue, ExcerptAppender appender, Replay replay, boolean broken) {
        this.dir = dir;
        this.queue = queue;
        this.appender = appender;
        this.appenderThread = Thread.currentThread();
        this.replay = replay;
        this.broken = broken;
    }

    public Path directory() {
        return dir;
    }

    public Replay replay() {
        return replay;
    }

    /** True if Chronicle could not read or append to the queue: {@link #rewrite} must run before {@link #append}. */
    public boolean broken() {
        return broken;
    }

    /** Entries appended since open. */
    public long appended() {
        return appended;
    }

    /** The JVM flags Chronicle Queue needs on JDK 25 that this JVM lacks, or null if it has them all. */
    public static String missingJvmAccess() {
        Module me = Journal.class.getModule();
        Module base = Object.class.getModule();
        List<String> missing = new ArrayList<>();
        if (!base.isOpen("java.lang", me)) missing.add("--add-opens java.base/java.lang=ALL-UNNAMED");
        if (!base.isOpen("java.lang.reflect", me)) missing.add("--add-opens java.base/java.lang.reflect=ALL-UNNAMED");
        if (!base.isExported("sun.nio.ch", me)) missing.add("--add-exports java.base/sun.nio.ch=ALL-UNNAMED");
        if (!base.isExported("jdk.internal.ref", me)) missing.add("--add-exports java.base/jdk.internal.ref=ALL-UNNAMED");
        return missing.isEmpty() ? null : String.join(" ", missing);
    }

    private static SingleChronicleQueue build(Path dir) {
        return SingleChronicleQueueBuilder.binary(dir).blockSize(BLOCK_SIZE).build();
    }

    /**
     * Opens (creating if needed) the journal in dir and reads every entry.
     * Throws only when the directory cannot be used at all (permissions, the
     * JVM flags); damage is reported in {@link Replay#problems()}.
     */
    public static Journal open(Path dir) throws IOException {
        String missing = missingJvmAccess();
        if (missing != null) {
            throw new IOException("Chronicle Queue needs JVM flags this JVM was started without (" + missing
                    + "); without them it falls back to read-only. Start diosd through its launcher (bin/diosd).");
        }
        List<String> problems = new ArrayList<>();
        finishRewrite(dir, problems);
        if (!Files.isDirectory(dir)) {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        if (!Files.isWritable(dir)) throw new IOException("journal directory " + dir + " is not writable");
        TreeMap<String, Long> before = cycleFileSizes(dir);
        // An empty cycle file holds nothing, and Chronicle waits about 20 s on one (as if
        // another process were still creating it) before giving up: remove it first.
        for (var e : before.entrySet()) {
            if (e.getValue() == 0) {
                Files.delete(dir.resolve(e.getKey()));
                problems.add("cycle file " + e.getKey() + " was empty (truncated to 0 bytes): every entry it held"
                        + " is lost; removed");
            }
        }
        before.values().removeIf(v -> v == 0);

        List<JournalRecord> records = new ArrayList<>();
        long entries = 0;
        boolean broken = false;
        SingleChronicleQueue q = null;
        ExcerptAppender ap = null;
        File lastFile = null;
        long lastEnd = -1;
        try {
            q = build(dir);
            try (ExcerptTailer t = q.createTailer()) {
                while (true) {
                    try (DocumentContext dc = t.readingDocument()) {
                        if (!dc.isPresent()) break;
                        entries++;
                        Bytes<?> b = dc.wire().bytes();
                        lastFile = t.currentFile();
                        lastEnd = b.readLimit();
                        long n = b.readRemaining();
                        String where = "entry " + entries + " (index 0x" + Long.toHexString(dc.index()) + ")";
                        if (n > JournalRecord.MAX_ENCODED) {
                            problems.add(where + " has " + n + " bytes, more than any journal entry; skipped");
                            continue;
                        }
                        byte[] a = new byte[(int) n];
                        b.read(a);
                        try {
                            records.add(JournalRecord.decode(a));
                        } catch (JournalRecord.Damaged d) {
                            problems.add(where + " is damaged (" + d.getMessage() + "); skipped");
                        }
                    }
                }
            }
            String torn = tornTail(lastFile, lastEnd);
            if (torn != null) problems.add(torn);
            // A queue that cannot append is useless; Chronicle also forces open a write lock
            // left by a dead daemon here (and logs it).
            ap = q.createAppender();
            // Chronicle writes its table store through a mapping too: blocks before any store.
            allocateFile(dir.resolve(SingleChronicleQueue.QUEUE_METADATA_FILE));
        } catch (RuntimeException | IOException e) {
            broken = true;
            problems.add("Chronicle cannot read the journal past entry " + entries + ": " + e);
            if (ap != null) ap.close();
            ap = null;
            if (q != null) closeQuietly(q);
            q = null;
        }
        // Chronicle creates every cycle file at least BLOCK_SIZE long (sparse), and grows one back
        // when it finds it shorter: a shorter file had been truncated behind its back.
        TreeMap<String, Long> after = cycleFileSizes(dir);
        before.forEach((name, size) -> {
            Long now = after.get(name);
            if (size < BLOCK_SIZE || (now != null && now > size)) {
                problems.add("cycle file " + name + " was " + size + " bytes, shorter than Chronicle leaves its"
                        + " files: it was truncated, and any entry past byte " + size + " is lost");
            }
        });
        return new Journal(dir, q, ap, new Replay(List.copyOf(records), List.copyOf(problems), entries), broken);
    }

    /**
     * Looks past the last intact entry for one a writer started and never
     * finished. Chronicle reserves the entry's header word (zero, or with the
     * not-complete bit) and writes the length only when the entry is done, so a
     * writer killed in between leaves a header that reads as "end of queue"
     * followed by bytes that are not all zero. Complete headers there are
     * Chronicle's own metadata (index blocks) and are stepped over.
     */
    private static String tornTail(File file, long end) throws IOException {
        if (file == null || end < 0) return null;
        try (FileChannel ch = FileChannel.open(file.toPath(), StandardOpenOption.READ)) {
            ByteBuffer w = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            long pos = (end + 3) & ~3L;
            for (int step = 0; step < 64; step++) {
                w.clear();
                if (ch.read(w, pos) < 4) return null; // end of file
                int h = w.getInt(0);
                if ((h & HEADER_NOT_COMPLETE) != 0 || (h == 0 && !allZero(ch, pos + 4, JournalRecord.MAX_ENCODED))) {
                    return "an entry at byte " + pos + " of " + file.getName() + " was left incomplete (the daemon"
                            + " died while writing it, so its call never completed); discarded";
                }
                if (h == 0) return null; // clean end
                pos = (pos + 4 + (h & HEADER_LENGTH_MASK) + 3) & ~3L;
            }
            return null;
        }
    }

    private static boolean allZero(FileChannel ch, long pos, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        ch.read(b, pos);
        for (int i = 0; i < b.position(); i++) if (b.get(i) != 0) return false;
        return true;
    }

    private static TreeMap<String, Long> cycleFileSizes(Path dir) throws IOException {
        TreeMap<String, Long> m = new TreeMap<>();
        if (!Files.isDirectory(dir)) return m;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String n = p.getFileName().toString();
                if (n.endsWith(SingleChronicleQueue.SUFFIX) && Files.isRegularFile(p)) m.put(n, Files.size(p));
            }
        }
        return m;
    }

    /** The disk had no room: the entry was not written. */
    public static final class NoSpace extends IOException {
        NoSpace(String msg) {
            super(msg);
        }
    }

    /**
     * Appends r and returns once it is on stable storage. Throws {@link NoSpace}
     * (nothing written) when the disk is full, IOException for other failures.
     */
    public void append(JournalRecord r) throws IOException {
        if (queue == null || broken) throw new IOException("the journal is " + (broken ? "damaged" : "closed"));
        if (appender == null) {
            appender = queue.createAppender();
        } else if (appenderThread != Thread.currentThread()) {
            appender.singleThreadedCheckReset(); // handed from the start-up thread to the conductor
        }
        appenderThread = Thread.currentThread();
        File f = appender.currentFile();
        if (f != null) {
            try {
                allocate(f); // before the write: see allocate
            } catch (NoSpace e) {
                // The disk is full, but blocks allocated earlier may still hold this entry. Keep
                // the last ones for deletions: they are how space is freed.
                long room = allocated - writePosition();
                if (room < (r.kind == JournalRecord.DELETE ? DELETE_RESERVE / 16 : DELETE_RESERVE)) throw e;
            }
        }
        try {
            write(appender, r);
        } catch (IOException e) {
            broken = true; // Chronicle's state after a failed write is unknown: a restart recovers it
            throw e;
        }
        sync();
        appended++;
    }

    /** Allocated journal bytes that only deletions may use once the disk is full. */
    static final long DELETE_RESERVE = 64 * 1024;

    /** Where the next entry goes in the current cycle file (a file offset), or Long.MAX_VALUE if unknown. */
    long writePosition() {
        try {
            var w = appender.wire();
            return w == null ? Long.MAX_VALUE : w.bytes().writePosition();
        } catch (RuntimeException e) {
            return Long.MAX_VALUE;
        }
    }

    private static void write(ExcerptAppender ap, JournalRecord r) throws IOException {
        byte[] a = r.encode();
        try (DocumentContext dc = ap.writingDocument()) {
            try {
                dc.wire().bytes().write(a);
            } catch (RuntimeException e) {
                dc.rollbackOnClose();
                throw e;
            }
        } catch (RuntimeException | InternalError e) {
            // InternalError: HotSpot's report of a SIGBUS in a memory-mapped store (disk full in a
            // hole that allocate() could not cover, e.g. a cycle file created by this very write).
            throw new IOException("journal append failed: " + e, e);
        }
    }

    /**
     * Gives every byte of cycle file f a disk block before Chronicle writes
     * into it. Chronicle writes through a mapping of a sparse file; on a full
     * disk, a store into a hole would raise SIGBUS in the daemon. Chronicle
     * grows the file a quarter block ahead of its writes, so allocating the
     * whole current length before each append covers the next one.
     */
    private void allocate(File f) throws IOException {
        if (!f.equals(syncedFile)) {
            LibC.close(syncFd);
            syncFd = -1;
            syncedFile = null;
            int fd = LibC.open(f.getPath(), LibC.O_RDWR | LibC.O_CLOEXEC, 0);
            if (fd < 0) throw new IOException("cannot open " + f + ": " + LibC.strerror(fd));
            syncFd = fd;
            syncedFile = f;
            allocated = 0;
            newFile = true;
        }
        long size = LibC.lseek(syncFd, 0, LibC.SEEK_END);
        if (size < 0) throw new IOException("lseek " + f + ": " + LibC.strerror((int) size));
        if (size > allocated) {
            allocateFile(syncFd, f.getPath(), size);
            allocated = size;
            warnedNoSpace = false;
        }
    }

    private static void allocateFile(int fd, String path, long size) throws IOException {
        int rc = LibC.fallocate(fd, 0, 0, size);
        if (rc == -LibC.ENOSPC || rc == -LibC.EDQUOT) {
            throw new NoSpace("no space left to allocate " + path + " (" + size + " bytes)");
        }
        if (rc < 0 && rc != -LibC.EOPNOTSUPP) throw new IOException("fallocate " + path + ": " + LibC.strerror(rc));
    }

    private static void allocateFile(Path p) throws IOException {
        int fd = LibC.open(p.toString(), LibC.O_RDWR | LibC.O_CLOEXEC, 0);
        if (fd < 0) throw new IOException("cannot open " + p + ": " + LibC.strerror(fd));
        try {
            allocateFile(fd, p.toString(), Files.size(p));
        } finally {
            LibC.close(fd);
        }
    }

    private void sync() throws IOException {
        File f = appender.currentFile();
        if (f == null) throw new IOException("journal append left no cycle file");
        try {
            allocate(f); // a new cycle file (first entry, or a daily roll), or one Chronicle grew
        } catch (NoSpace e) {
            // This entry is written (its blocks were allocated before, or by the write itself);
            // later ones use what is left and then fail with -ENOSPC before writing.
            if (!warnedNoSpace) {
                Log.warn("journal: " + e.getMessage() + "; durable changes fail with -ENOSPC once the "
                        + (allocated - writePosition()) + " bytes left are used (the last "
                        + DELETE_RESERVE + " for deletions)");
            }
            warnedNoSpace = true;
        }
        if (newFile) {
            forceFile(dir.resolve(SingleChronicleQueue.QUEUE_METADATA_FILE));
            fsyncDirectory(dir); // the new cycle file's directory entry
            newFile = false;
        }
        int rc = LibC.fdatasync(syncFd); // the mapped pages Chronicle wrote
        if (rc < 0) throw new IOException("fdatasync " + f + ": " + LibC.strerror(rc));
    }

    /**
     * Replaces the journal by a fresh one holding exactly records (a snapshot of
     * the live state), durably: the new queue is written and synced in
     * {@code <dir>.new}, the old one is moved to keepOldAs (a sibling name, kept
     * for inspection) or removed when keepOldAs is null, and the new one takes
     * its place. A crash at any point leaves either the old or the new journal
     * whole; {@link #open} finishes or discards a half-done rewrite.
     */
    public void rewrite(List<JournalRecord> records, String keepOldAs) throws IOException {
        closeQueue();
        Path parent = dir.toAbsolutePath().getParent();
        Path fresh = sibling(dir, ".new");
        Path old = keepOldAs != null ? parent.resolve(keepOldAs) : sibling(dir, ".old");
        deleteTree(fresh);
        Files.createDirectory(fresh, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        SingleChronicleQueue q = build(fresh);
        try (ExcerptAppender ap = q.createAppender()) {
            for (JournalRecord r : records) write(ap, r);
        } finally {
            closeQuietly(q);
        }
        try (Stream<Path> s = Files.list(fresh)) {
            for (Path p : (Iterable<Path>) s::iterator) if (Files.isRegularFile(p)) forceFile(p);
        }
        fsyncDirectory(fresh);
        if (Files.exists(dir)) {
            deleteTree(old);
            Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(fresh, dir, StandardCopyOption.ATOMIC_MOVE);
        fsyncDirectory(parent);
        if (keepOldAs == null) deleteTree(old);
        queue = build(dir);
        appender = queue.createAppender();
        appenderThread = Thread.currentThread();
        allocateFile(dir.resolve(SingleChronicleQueue.QUEUE_METADATA_FILE));
        broken = false;
    }

    /** A rewrite interrupted by a crash: use the new journal if the old one was already moved away. */
    private static void finishRewrite(Path dir, List<String> problems) throws IOException {
        Path fresh = sibling(dir, ".new");
        Path old = sibling(dir, ".old");
        if (Files.isDirectory(fresh)) {
            if (Files.exists(dir)) {
                deleteTree(fresh); // the rewrite had not replaced anything yet
            } else {
                Files.move(fresh, dir, StandardCopyOption.ATOMIC_MOVE);
                fsyncDirectory(dir.toAbsolutePath().getParent());
                problems.add("finished a journal rewrite that a crash interrupted");
            }
        }
        if (Files.exists(old) && Files.exists(dir)) deleteTree(old);
    }

    private static Path sibling(Path dir, String suffix) {
        Path abs = dir.toAbsolutePath();
        return abs.resolveSibling(abs.getFileName() + suffix);
    }

    static void forceFile(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    /** fsync of a directory, so the entries created or renamed in it are durable. */
    public static void fsyncDirectory(Path d) throws IOException {
        try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }

    private void closeQueue() {
        if (appender != null) {
            if (appenderThread != Thread.currentThread()) appender.singleThreadedCheckReset();
            appender.close();
        }
        appender = null;
        LibC.close(syncFd); // nothing is pending: every append synced before returning
        syncFd = -1;
        syncedFile = null;
        if (queue != null) closeQuietly(queue);
        queue = null;
    }

    private static void closeQuietly(SingleChronicleQueue q) {
        try {
            q.close();
        } catch (RuntimeException e) {
            Log.warn("journal: closing the queue: " + e);
        }
    }

    @Override
    public void close() {
        closeQueue();
    }
}

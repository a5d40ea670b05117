package org.dios.diosd.objects;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.stream.Stream;

import org.dios.abi.Abi;
import org.dios.diosd.journal.Journal;
import org.dios.diosd.journal.JournalRecord;
import org.dios.diosd.log.Log;
import org.dios.diosd.sys.LibC;


/**
 * The durable half of the daemon: the state directory's blob files and the
 * journal of their names and sizes.
 *
 * <pre>
 *   STATE/diosd.lock           held (fcntl lock) while a daemon uses STATE
 *   STATE/journal/             Chronicle Queue of JournalRecords (CREATE, SIZE, DELETE)
 *   STATE/blobs/&lt;id&gt;.blob      the data of blob &lt;id&gt; (16 hex digits), mode 0600
 *   STATE/lost+found/          blob files found without a journal entry after the journal was damaged
 * </pre>
 *
 * <p>{@link #open} runs at start-up, before tasks are served: it replays the
 * journal into the set of live durable blobs, makes each file's length its
 * committed size (dropping uncommitted growth, restoring a file shrunk behind
 * the daemon's back), removes blob files nothing refers to (anonymous blobs of
 * an earlier run, or blobs whose creation never completed) and, when the
 * journal was damaged or mostly dead entries, rewrites it from the live set.
 * {@link #attach} then binds their names on the conductor thread, which does
 * everything else.
 */
public final class BlobStore implements AutoCloseable {
    /** Smallest file (and mapping) size of a blob that has been acquired. */
    public static final long MIN_CAPACITY = 64 * 1024;
    /** A journal with more entries than this, and over twice the live ones, is compacted at start-up. */
    public static int compactMinEntries = 1024; // tests lower it

    private final Path stateDir;
    private final Path blobDir;
    private final Journal journal;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final List<JournalRecord> live;
    private long nextBlobId;
    private ObjectManager objects;
    private Stats stats;
    private int error;
    /** The I/O thread durable commits sync on (attach starts it). */
    private BlobSyncer syncer;
    /**
     * Held around every journal append: the conductor's (creations,
     * deletions) and the sync thread's (sizes). It also orders a size after
     * a deletion: the sync thread journals no SIZE once DELETE is in.
     */
    private final Object journalLock = new Object();
    /** How long shutdown waits for commits still syncing. */
    static final long SHUTDOWN_SYNC_WAIT_MS = 10_000;

    private BlobStore(Path stateDir, Path blobDir, Journal journal, FileChannel lockChannel, FileLock lock,
                      List<JournalRecord> live, long nextBlobId) {
        this.stateDir = stateDir;
        this.blobDir = blobDir;
        this.journal = journal;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.live = live;
        this.nextBlobId = nextBlobId;
    }

    public Path stateDir() {
        return stateDir;
    }

    /** Durable blobs found at start-up. */
    public int liveAtStart() {
        return live.size();
    }

    static String fileName(long blobId) {
        return String.format("%016x.blob", blobId);
    }

    private static long idOf(String fileName) {
        if (fileName.length() != 21 || !fileName.endsWith(".blob")) return -1;
        try {
            return Long.parseUnsignedLong(fileName.substring(0, 16), 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** File length for a blob of len bytes: the next power of two, at least MIN_CAPACITY. */
    static long capacityFor(long len) {
        if (len <= MIN_CAPACITY) return MIN_CAPACITY;
        long c = Long.highestOneBit(len);
        return c == len ? c : c << 1;
    }

    /** The state directory's lock, held: {@link #lock} takes it, {@link #open(StateLock)} uses it. */
    public record StateLock(Path stateDir, FileChannel channel, FileLock lock) {
        /** Lets go of the lock (a start that failed after taking it). */
        public void release() {
            try {
                lock.release();
                channel.close();
            } catch (IOException ignored) {
                // the process is about to exit: the kernel drops the lock anyway
            }
        }
    }

    /**
     * Takes the state directory's lock (STATE/diosd.lock, an fcntl lock), so
     * that a second daemon on the same state is refused before it does
     * anything else. Throws when another daemon holds it.
     */
    public static StateLock lock(Path stateDir) throws IOException {
        stateDir = stateDir.toAbsolutePath();
        FileChannel lc = FileChannel.open(stateDir.resolve("diosd.lock"), java.util.Set.of(StandardOpenOption.CREATE,
                StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        FileLock lock;
        try {
            lock = lc.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException e) {
            lc.close();
            throw e;
        }
        if (lock == null) {
            lc.close();
            throw new IOException("state directory " + stateDir + " is in use by another diosd");
        }
        return new StateLock(stateDir, lc, lock);
    }

    /**
     * Opens the state directory: takes its lock, replays and repairs the journal,
     * reconciles the blob files. Throws when the directory cannot be used at all;
     * damage is logged and recovered from.
     */
    public static BlobStore open(Path stateDir) throws IOException {
        return open(lock(stateDir));
    }

    /** {@link #open(Path)} with the lock already taken; the lock is released if this throws. */
    public static BlobStore open(StateLock held) throws IOException {
        try {
            return openLocked(held.stateDir(), held.channel(), held.lock());
        } catch (IOException | RuntimeException e) {
            held.release();
            throw e;
        }
    }

    private static BlobStore openLocked(Path stateDir, FileChannel lc, FileLock lock) throws IOException {
        Path blobDir = privateDir(stateDir.resolve("blobs"));
        String fs;
        try {
            fs = Files.getFileStore(stateDir).type();
        } catch (IOException e) {
            fs = "?"; // only for the notice below
        }
        if (fs.equals("tmpfs") || fs.equals("ramfs")) {
            Log.info("state directory " + stateDir + " is on " + fs + ": blobs survive daemon restarts, not a reboot"
                    + " (pass --state-dir on a disk file system to keep them)");
        }
        Journal journal = Journal.open(stateDir.resolve("journal"));
        try {
            return replay(stateDir, blobDir, journal, lc, lock);
        } catch (IOException | RuntimeException e) {
            journal.close();
            throw e;
        }
    }

    private static Path privateDir(Path d) throws IOException {
        if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectory(d, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        return d;
    }

    private static BlobStore replay(Path stateDir, Path blobDir, Journal journal, FileChannel lc, FileLock lock)
            throws IOException {
        Journal.Replay r = journal.replay();
        List<String> problems = new ArrayList<>(r.problems());
        boolean journalDamaged = !problems.isEmpty() || journal.broken();

        // Apply the entries in order: what is left is the set of live durable blobs.
        LinkedHashMap<Long, JournalRecord> live = new LinkedHashMap<>();
        HashMap<OwnedName, Long> byName = new HashMap<>(); // a name is unique in its group: its owner's, or the public one
        long maxId = 0;
        for (JournalRecord e : r.records()) {
            maxId = Math.max(maxId, e.blobId);
            JournalRecord cur = live.get(e.blobId);
            switch (e.kind) {
                case JournalRecord.CREATE -> {
                    OwnedName n = new OwnedName(e.ownerUid(), Name.of(e.name()));
                    if (cur != null) {
                        problems.add("blob " + e.blobId + " is created twice; the second CREATE is ignored");
                    } else if (byName.containsKey(n)) {
                        problems.add("blob " + e.blobId + " has the name of blob " + byName.get(n) + "; not restored");
                    } else if (!e.fileName.equals(fileName(e.blobId))) {
                        problems.add("blob " + e.blobId + " has file name '" + e.fileName + "'; not restored");
                    } else {
                        live.put(e.blobId, e);
                        byName.put(n, e.blobId);
                    }
                }
                case JournalRecord.SIZE -> {
                    if (cur == null) problems.add("size change of blob " + e.blobId + ", which does not exist; ignored");
                    else live.put(e.blobId, cur.withSize(e.size));
                }
                case JournalRecord.DELETE -> {
                    if (cur == null) {
                        problems.add("deletion of blob " + e.blobId + ", which does not exist; ignored");
                    } else {
                        live.remove(e.blobId);
                        byName.remove(new OwnedName(cur.ownerUid(), Name.of(cur.name())));
                    }
                }
                default -> throw new IllegalStateException("decoded journal record of kind " + e.kind);
            }
        }

        // Each live blob's file: present, and exactly its committed size.
        for (var it = live.values().iterator(); it.hasNext(); ) {
            JournalRecord e = it.next();
            Path f = blobDir.resolve(e.fileName);
            if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                problems.add("blob " + e.blobId + " (" + e.fileName + ") has lost its data file; its name no longer"
                        + " resolves");
                it.remove();
                continue;
            }
            long len = Files.size(f);
            if (len != e.size) {
                if (len < e.size) {
                    problems.add("blob " + e.blobId + " (" + e.fileName + ") was " + len + " bytes, shorter than its"
                            + " committed " + e.size + "; zero-filled (it was truncated behind the daemon's back)");
                }
                // longer: growth that was never committed (the last acquire_write's capacity)
                try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                    raf.setLength(e.size);
                }
            }
        }

        // Files nothing refers to: anonymous blobs of an earlier run, creations that never
        // reached the journal.  Removed; kept in lost+found when the journal was damaged.
        HashSet<String> wanted = new HashSet<>();
        for (JournalRecord e : live.values()) wanted.add(e.fileName);
        List<Path> orphans = new ArrayList<>();
        try (Stream<Path> s = Files.list(blobDir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String n = p.getFileName().toString();
                maxId = Math.max(maxId, idOf(n));
                if (!wanted.contains(n) && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) orphans.add(p);
            }
        }
        if (!orphans.isEmpty()) {
            if (journalDamaged) {
                Path lost = privateDir(stateDir.resolve("lost+found"));
                for (Path p : orphans) {
                    Path to = lost.resolve(p.getFileName());
                    for (int i = 1; Files.exists(to, LinkOption.NOFOLLOW_LINKS); i++) {
                        to = lost.resolve(p.getFileName() + "." + i);
                    }
                    Files.move(p, to);
                }
                problems.add(orphans.size() + " blob file(s) without a journal entry moved to " + lost
                        + " (the journal was damaged: they may hold data it lost)");
            } else {
                for (Path p : orphans) Files.delete(p);
                Log.info("journal: removed " + orphans.size() + " blob file(s) no journal entry refers to (anonymous"
                        + " blobs of the previous run, or creations that did not complete)");
            }
        }

        for (String p : problems) Log.warn("journal: " + p);
        List<JournalRecord> snapshot = new ArrayList<>(live.values());
        if (!problems.isEmpty()) {
            String keep = journalDamaged
                    ? "journal.damaged-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
                    : null;
            journal.rewrite(snapshot, keep);
            Log.warn("journal: recovered: " + snapshot.size() + " durable blob(s) kept in a fresh journal"
                    + (keep != null ? "; the damaged one is kept as " + stateDir.resolve(keep) : ""));
        } else if (r.entries() > compactMinEntries && r.entries() > 2L * snapshot.size()) {
            journal.rewrite(snapshot, null);
            Log.info("journal: compacted " + r.entries() + " entries to " + snapshot.size());
        }
        Log.info("journal: " + snapshot.size() + " durable blob(s) from " + r.entries() + " entries in "
                + journal.directory());
        return new BlobStore(stateDir, blobDir, journal, lc, lock, snapshot, maxId + 1);
    }

    /** A durable name where it is bound: in uid owner's default group, or (-1) the public group. */
    private record OwnedName(int owner, Name name) {}

    /**
     * Conductor thread, before the first task: makes an object of every durable
     * blob and binds its name. The name table's pin is each one's only count.
     */
    public void attach(ObjectManager objects, Stats stats) {
        attach(objects, stats, () -> { });
    }

    /**
     * As {@link #attach(ObjectManager, Stats)}, starting the sync thread;
     * wake tells the conductor that synced commits wait for
     * {@link #finishSyncs} (it rings an eventfd in its epoll set).
     */
    public void attach(ObjectManager objects, Stats stats, Runnable wake) {
        this.objects = objects;
        this.stats = stats;
        this.syncer = new BlobSyncer(wake);
        for (JournalRecord e : live) {
            BlobObject b = new BlobObject(objects.newObjectId(), 0, this, e.blobId, e.fileName, e.createdMillis, e.size);
            b.journaledSize = e.size;
            b.capacity = e.size;
            b.durable = true;
            b.pinned = true;
            b.creatorUid = e.creatorUid();
            objects.adopt(b);
            b.ownerUid = e.ownerUid();
            // Its creator's quotas count it again (over the quota if lowered since: new blobs are refused).
            if (b.creatorUid >= 0) objects.charge(b, objects.quotas.account(b.creatorUid), Quotas.BLOB_BYTES, e.size);
            java.util.HashMap<Name, DObject> table = b.ownerUid < 0 ? objects.publicTable() : objects.userGroup(b.ownerUid).names;
            if (!objects.bind(Name.of(e.name()), b, table)) {
                // replay made names unique; a warm-up name colliding with a 256-bit name cannot happen
                throw new IllegalStateException("name of " + b + " is already bound");
            }
        }
        live.clear();
    }

    /** The journal (tests: closing it makes every later append fail, as a failed disk would). */
    Journal journal() {
        return journal;
    }

    /** The sync thread's queue (tests: a job of their own holds it). */
    BlobSyncer syncer() {
        return syncer;
    }

    /** -errno of the last failed {@link #create}. */
    int error() {
        return error;
    }

    private static int ioError(long negErrno) {
        int e = (int) -negErrno;
        if (e == LibC.ENOSPC || e == LibC.EDQUOT) return -Abi.DIOS_ENOSPC;
        if (e == Abi.DIOS_ENOMEM || e == 23 /* ENFILE */ || e == 24 /* EMFILE */) return -Abi.DIOS_ENOMEM;
        return -Abi.DIOS_EIO;
    }

    /** -ENOSPC when the journal had no room (nothing was written), else -EIO. */
    private static int journalError(IOException e) {
        return e instanceof Journal.NoSpace ? -Abi.DIOS_ENOSPC : -Abi.DIOS_EIO;
    }

    /** A new blob of size zero bytes in a new file; null (and {@link #error()}) on failure. Not yet durable. */
    BlobObject create(long objectId, long ownerTask, long size) {
        for (int attempt = 0; attempt < 64; attempt++) {
            long id = nextBlobId++;
            String fn = fileName(id);
            String path = blobDir.resolve(fn).toString();
            int fd = LibC.open(path, LibC.O_RDWR | LibC.O_CREAT | LibC.O_EXCL | LibC.O_CLOEXEC | LibC.O_NOFOLLOW, 0600);
            if (fd == -LibC.EEXIST) continue; // left by something else: never reuse it
            if (fd < 0) {
                error = ioError(fd);
                return null;
            }
            int rc = size > 0 ? LibC.ftruncate(fd, size) : 0;
            if (rc < 0) {
                LibC.close(fd);
                LibC.unlink(path);
                error = ioError(rc);
                return null;
            }
            stats.segments++;
            BlobObject b = new BlobObject(objectId, ownerTask, this, id, fn, System.currentTimeMillis(), size);
            b.rwFd = fd;
            b.capacity = size;
            return b;
        }
        error = -Abi.DIOS_EIO;
        return null;
    }

    /**
     * A new named blob of size bytes whose file does not exist yet: only its
     * id is taken (conductor thread, no file system call). {@link #createNamed}
     * makes the file on the sync thread.
     */
    BlobObject pending(long objectId, long ownerTask, long size) {
        long id = nextBlobId++;
        return new BlobObject(objectId, ownerTask, this, id, fileName(id), System.currentTimeMillis(), size);
    }

    /**
     * CREATE of a named blob, past every check (conductor thread): b (from
     * {@link #pending}, {@link BlobObject#creating}) is bound to n, so its
     * name is taken, and holds its first count. The call parks; the sync
     * thread creates the file (O_EXCL), sizes it, fdatasyncs it, fsyncs the
     * directory and journals CREATE; then {@link #finishSyncs} makes b
     * durable and pinned, adds the creator's reference (perms) and completes
     * the call with it and the name, as an unparked create did. If the disk
     * work failed, b is dropped (name unbound, quota charges given back, the
     * file removed) and the call answers -EIO or -ENOSPC. If the creator died
     * (or its reference table filled) meanwhile, the blob is deleted again:
     * DELETE journaled on the sync thread, then zombified; until then its
     * name stays taken and unfound. Like a zombify, it takes no D_TIMEOUT
     * deadline. Returns {@link Call#PARKED} or -errno (undone).
     */
    int createNamed(Call c, BlobObject b, Name n, int perms) {
        ObjectManager om = objects;
        if (!c.mayPark()) {
            b.creating = false;
            om.releaseCount(b);
            return -Abi.DIOS_ENOMEM;
        }
        ParkedCall pc = new ParkedCall(c.task, c.userData, c.op, c.flags, null, 0);
        c.task.parked.add(pc); // no deadline: -ETIMEDOUT could not say whether the blob then existed
        if (!syncer.submit(new CreateJob(b, n, perms, pc))) {
            c.task.parked.remove(pc);
            b.creating = false;
            om.releaseCount(b);
            return -Abi.DIOS_EIO; // stopping: no disk work is taken any more
        }
        return Call.PARKED;
    }

    /** A parked CREATE of a named blob: file and journal on the sync thread, the rest on the conductor. */
    private final class CreateJob implements BlobSyncer.Job {
        private final BlobObject b;
        private final Name name;
        private final int perms;
        private final ParkedCall pc;
        /** The new file's fd (written by sync(), read by done() after the syncer's hand-off). */
        private int fd = -1;

        CreateJob(BlobObject b, Name name, int perms, ParkedCall pc) {
            this.b = b;
            this.name = name;
            this.perms = perms;
            this.pc = pc;
        }

        @Override
        public int sync() {
            String path = blobDir.resolve(b.fileName).toString();
            int f = LibC.open(path, LibC.O_RDWR | LibC.O_CREAT | LibC.O_EXCL | LibC.O_CLOEXEC | LibC.O_NOFOLLOW, 0600);
            if (f < 0) {
                // EEXIST: a file of this id made behind the daemon's back: never reused (freeing b removes it, as replay would)
                Log.error("cannot create the file of " + b + ": " + LibC.strerror(f));
                return f == -LibC.EEXIST ? -Abi.DIOS_EIO : ioError(f);
            }
            int rc = b.size > 0 ? LibC.ftruncate(f, b.size) : 0;
            if (rc == 0) rc = LibC.fdatasync(f);
            if (rc < 0) {
                LibC.close(f);
                LibC.unlink(path);
                return ioError(rc);
            }
            try {
                Journal.fsyncDirectory(blobDir);
                synchronized (journalLock) {
                    journal.append(JournalRecord.create(b.blobId, name.bytes(), b.size, b.fileName, b.createdMillis,
                            b.creatorUid, b.ownerUid >= 0));
                }
            } catch (IOException e) {
                Log.error("journal: cannot record the creation of " + b + ": " + e.getMessage());
                LibC.close(f);
                LibC.unlink(path);
                return journalError(e);
            }
            fd = f;
            return 0;
        }

        @Override
        public void done(int rc, Completer c) {
            long[] v = new long[org.dios.abi.CqeDescriptor.VAL_COUNT];
            if (rc < 0) {
                b.creating = false;
                objects.releaseCount(b); // its only count: unbound, quota given back, freed (no file left)
                c.complete(pc.task, pc, rc, 0, v);
                return;
            }
            b.rwFd = fd;
            stats.segments++;
            b.capacity = b.size;
            b.journaledSize = b.size; // before any commit job of b is queued
            b.durable = true;
            if (!b.tryRetain()) throw new IllegalStateException("pinning " + b + " that is going away");
            b.pinned = true;
            long ref = pc.task.dead ? 0 : objects.addReference(pc.task, b, perms); // 0 drops the first count
            if (ref == 0) {
                // Nobody will learn of it: deleted again, its name taken and unfound until DELETE is journaled.
                if (pc.task.dead) objects.releaseCount(b);
                undo(b);
                c.complete(pc.task, pc, -Abi.DIOS_ENOMEM, 0, v); // a dead task is owed nothing (skipped)
                return;
            }
            b.creating = false;
            v[0] = ref;
            v[1] = name.w0();
            v[2] = name.w1();
            v[3] = name.w2();
            v[4] = name.w3();
            c.complete(pc.task, pc, 0, 0, v);
        }
    }

    /** A durable blob made for nobody (conductor thread): DELETE journaled on the sync thread, then zombified. */
    private void undo(BlobObject b) {
        BlobSyncer.Job j = new BlobSyncer.Job() {
            @Override
            public int sync() {
                return journalDelete(b);
            }

            @Override
            public void done(int rc, Completer c) {
                b.creating = false;
                if (rc == 0) objects.zombify(b);
                else Log.error(b + " was made for a task that went, and its deletion could not be journaled: it stays"
                        + " until deleted by name");
            }
        };
        if (!syncer.submit(j)) {
            b.creating = false;
            Log.error(b + " was made for a task that went while the daemon stops: it stays until deleted by name");
        }
    }

    /**
     * Makes a freshly named blob durable on the caller's thread: its file and
     * directory entry are synced, CREATE is journaled, and the name table
     * pins it. 0 or -errno (then nothing was journaled and the caller undoes
     * the creation). The daemon uses {@link #createNamed} (off the
     * conductor); this is the unit tests' way to make a durable blob.
     */
    int makeDurable(BlobObject b, Name name) {
        int rc = LibC.fdatasync(b.rwFd);
        if (rc < 0) return ioError(rc);
        try {
            Journal.fsyncDirectory(blobDir);
            synchronized (journalLock) {
                journal.append(JournalRecord.create(b.blobId, name.bytes(), b.size, b.fileName, b.createdMillis,
                        b.creatorUid, b.ownerUid >= 0));
            }
        } catch (IOException e) {
            Log.error("journal: cannot record the creation of " + b + ": " + e.getMessage());
            return journalError(e);
        }
        b.journaledSize = b.size; // before any commit job of b is queued: the queue orders it before the sync thread
        b.durable = true;
        if (!b.tryRetain()) throw new IllegalStateException("pinning " + b + " that is going away");
        b.pinned = true;
        return 0;
    }

    private int ensureOpen(BlobObject b) {
        if (b.rwFd >= 0) return 0;
        int fd = LibC.open(blobDir.resolve(b.fileName).toString(), LibC.O_RDWR | LibC.O_CLOEXEC | LibC.O_NOFOLLOW, 0);
        if (fd < 0) {
            Log.error("cannot open the file of " + b + ": " + LibC.strerror(fd));
            return ioError(fd);
        }
        b.rwFd = fd;
        stats.segments++;
        return 0;
    }

    /**
     * Keeps the file at least b.capacity long. A task holding a write reference
     * has a read-write fd and may have truncated it; then every other task's
     * mapping would fault past the new end. The daemon never maps the file, so
     * it cannot fault itself; it grows the file back (the lost bytes read as zeros).
     */
    private int checkLength(BlobObject b, long need) {
        long actual = LibC.lseek(b.rwFd, 0, LibC.SEEK_END);
        if (actual < 0) return ioError(actual);
        if (actual >= need) return 0;
        if (actual < b.capacity) {
            Log.warn(b + ": its file shrank to " + actual + " bytes behind the daemon's back (a task holding a write"
                    + " reference truncated it); grown back to " + need + " bytes, the lost ones read as zeros");
        }
        int rc = LibC.ftruncate(b.rwFd, need);
        return rc < 0 ? ioError(rc) : 0;
    }

    /**
     * Before mapping len bytes: the file covers them, growing to the next
     * capacity (a new mapping generation with a new segment id) when needed.
     */
    int ensureMapping(BlobObject b, long len) {
        int rc = ensureOpen(b);
        if (rc < 0) return rc;
        long need = Math.max(b.capacity, capacityFor(Math.max(len, b.size)));
        rc = objects.chargeBytes(b, Quotas.BLOB_BYTES, need); // its creator's --quota-blob-bytes
        if (rc < 0) return rc;
        rc = checkLength(b, need);
        if (rc < 0) return rc;
        if (need != b.capacity || b.segmentId() == 0) {
            b.capacity = need;
            b.newSegment(objects.newObjectId());
        }
        return 0;
    }

    /**
     * commit_write of len bytes from offset 0 (conductor thread). An
     * anonymous blob's size changes at once. A durable blob's commit parks:
     * the sync thread fdatasyncs a duplicate of the file's fd and journals a
     * larger size, and only then does {@link #finishSyncs} set the size and
     * complete the call (0, or -EIO / -ENOSPC as the sync or the journal
     * failed): a completed commit survives kill -9 of the daemon and a power
     * cut, and the conductor never waits for the disk. The sync thread uses
     * the blob's own fd, which {@link #dispose} leaves open until the blob's
     * last sync is finished (no fd per commit, and never a reused fd number).
     * Returns 0, -errno, or {@link Call#PARKED}.
     */
    int commit(Call c, BlobObject b, Buffer buf, long len, java.util.function.IntConsumer finished) {
        int rc = checkLength(b, b.capacity);
        if (rc < 0) return rc;
        if (!b.durable) {
            if (len > b.size) b.size = len;
            return 0;
        }
        if (!c.mayPark()) return -Abi.DIOS_ENOMEM;
        ParkedCall pc = c.park(buf.ref, len);
        // The fd stays open until the job is finished, even if the blob is freed meanwhile (dispose).
        CommitJob job = new CommitJob(b, b.rwFd, len, pc, finished);
        if (!syncer.submit(job)) {
            pc.task.parked.remove(pc);
            return -Abi.DIOS_EIO; // stopping: no disk work is taken any more
        }
        b.syncsPending++;
        return Call.PARKED;
    }

    /**
     * The same commit on the caller's thread, start to end (the unit tests
     * of the file and journal handling).
     */
    int commit(BlobObject b, long len) {
        int rc = checkLength(b, b.capacity);
        if (rc < 0) return rc;
        if (b.durable) {
            rc = syncCommit(b, b.rwFd, len);
            if (rc < 0) return rc;
        }
        if (len > b.size) b.size = len;
        return 0;
    }

    /**
     * A durable commit's disk work (the sync thread; or the caller's, in
     * tests): the data reaches the disk, then a size larger than any
     * journaled one is journaled, unless the blob's deletion was journaled
     * meanwhile (-EIDRM: a SIZE after DELETE would read as damage at replay).
     */
    private int syncCommit(BlobObject b, int fd, long len) {
        int rc = LibC.fdatasync(fd);
        if (rc < 0) {
            Log.error("fdatasync of " + b + ": " + LibC.strerror(rc));
            return ioError(rc);
        }
        if (len <= b.journaledSize) return 0;
        synchronized (journalLock) {
            if (b.deletionJournaled) return -Abi.DIOS_EIDRM;
            try {
                journal.append(JournalRecord.size(b.blobId, len));
            } catch (IOException e) {
                Log.error("journal: cannot record the new size of " + b + ": " + e.getMessage());
                return journalError(e);
            }
        }
        b.journaledSize = len;
        return 0;
    }

    /** A parked durable commit: synced on the sync thread, finished on the conductor. */
    private final class CommitJob implements BlobSyncer.Job {
        private final BlobObject b;
        private final int fd;
        private final long len;
        private final ParkedCall pc;
        private final java.util.function.IntConsumer finished;

        CommitJob(BlobObject b, int fd, long len, ParkedCall pc, java.util.function.IntConsumer finished) {
            this.b = b;
            this.fd = fd;
            this.len = len;
            this.pc = pc;
            this.finished = finished;
        }

        @Override
        public int sync() {
            return syncCommit(b, fd, len);
        }

        @Override
        public void done(int rc, Completer c) {
            if (--b.syncsPending == 0 && b.fdsKeptForSync) {
                b.fdsKeptForSync = false;
                b.closeFds(); // freed while it synced: its fds close now
            }
            // In order: every earlier commit of b is finished, so sizes only grow.
            if (rc == 0 && len > b.size) b.size = len;
            finished.accept(rc);
            // A task that died meanwhile is owed nothing (completeParked skips it); its state is applied all the same.
            c.complete(pc.task, pc, rc, 0, new long[org.dios.abi.CqeDescriptor.VAL_COUNT]);
        }
    }

    /** Finishes the durable commits whose sync is done (conductor thread). Returns how many. */
    public int finishSyncs(Completer c) {
        return syncer == null ? 0 : syncer.finish(c);
    }

    /** Durable commits syncing now (conductor thread; tests and the status). */
    public int syncsInFlight() {
        return syncer == null ? 0 : syncer.inFlight();
    }

    /** Before zombifying a durable blob: journals its deletion. 0 or -EIO (then nothing changes). */
    public int journalDelete(BlobObject b) {
        if (!b.durable || b.deletionJournaled) return 0;
        synchronized (journalLock) {
            try {
                journal.append(JournalRecord.delete(b.blobId, JournalRecord.REASON_ZOMBIFIED));
            } catch (IOException e) {
                Log.error("journal: cannot record the deletion of " + b + ": " + e.getMessage());
                return journalError(e);
            }
            b.deletionJournaled = true;
        }
        return 0;
    }

    /**
     * dios_delete with D_DELETE_ZOMBIFY of a durable blob (conductor thread):
     * the call parks, the sync thread journals DELETE (and syncs it), and only
     * then does {@link #finishSyncs} zombify the blob and drop the caller's
     * reference (its segments to unmap in the completion), as an unparked
     * zombify would. If the journal failed, the call completes with -EIO
     * (-ENOSPC when it had no room) and nothing changed. A second zombify
     * meanwhile parks behind the first and journals nothing more (the sync
     * thread sees deletionJournaled). The call takes no D_TIMEOUT deadline:
     * an answer of -ETIMEDOUT could not say whether the deletion then happened.
     * Returns {@link Call#PARKED} or -errno.
     */
    int zombify(Call c, BlobObject b, Reference ref) {
        if (!c.mayPark()) return -Abi.DIOS_ENOMEM;
        ParkedCall pc = new ParkedCall(c.task, c.userData, c.op, c.flags, ref, 0);
        c.task.parked.add(pc); // no deadline: see above
        if (!syncer.submit(new DeleteJob(b, ref, pc))) {
            c.task.parked.remove(pc);
            return -Abi.DIOS_EIO; // stopping: no disk work is taken any more
        }
        return Call.PARKED;
    }

    /** A parked zombify of a durable blob: DELETE journaled on the sync thread, the zombify done on the conductor. */
    private final class DeleteJob implements BlobSyncer.Job {
        private final BlobObject b;
        private final Reference ref;
        private final ParkedCall pc;

        DeleteJob(BlobObject b, Reference ref, ParkedCall pc) {
            this.b = b;
            this.ref = ref;
            this.pc = pc;
        }

        @Override
        public int sync() {
            return journalDelete(b);
        }

        @Override
        public void done(int rc, Completer c) {
            long[] v = new long[org.dios.abi.CqeDescriptor.VAL_COUNT];
            int flags = 0;
            if (rc == 0) {
                // The deletion is journaled: applied even if the caller died or dropped ref meanwhile.
                objects.zombify(b);
                if (ref.live && !pc.task.dead) {
                    long[] unmap = objects.removeReference(pc.task, ref);
                    if (unmap.length > 0) flags |= Abi.D_CQE_F_UNMAP;
                    for (int i = 0; i < unmap.length && i < v.length; i++) v[i] = unmap[i];
                }
            }
            // A task that died meanwhile is owed nothing (completeParked skips it).
            c.complete(pc.task, pc, rc, flags, v);
        }
    }

    /** The blob is freed: fds closed and the file removed (tasks' mappings keep the pages). */
    void dispose(BlobObject b, Stats stats) {
        if (b.rwFd >= 0) stats.segments--;
        if (b.syncsPending > 0) b.fdsKeptForSync = true; // the sync thread still uses rwFd: closed when its jobs finish
        else b.closeFds();
        if (b.durable && !b.deletionJournaled) {
            // Cannot happen (durable blobs are pinned until zombified, which journals first); if it
            // did, removing the file would leave the journal naming a lost one.
            Log.error(b + " freed without a journaled deletion; its file is kept");
            return;
        }
        int rc = LibC.unlink(blobDir.resolve(b.fileName).toString());
        if (rc < 0 && rc != -LibC.ENOENT) Log.warn("cannot remove the file of " + b + ": " + LibC.strerror(rc));
    }

    /**
     * Waits (at most SHUTDOWN_SYNC_WAIT_MS) for the commits still syncing,
     * then closes the journal and releases the state directory. If the disk
     * does not answer in time, both are left to the process's exit: the sync
     * thread may still append, and no other daemon may take the directory
     * while it could.
     */
    @Override
    public void close() {
        if (syncer != null && !syncer.close(SHUTDOWN_SYNC_WAIT_MS)) return;
        synchronized (journalLock) {
            journal.close();
        }
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            Log.warn("releasing " + stateDir.resolve("diosd.lock") + ": " + e.getMessage());
        }
    }
}

package org.dios.diosd.objects;

import org.dios.abi.Abi;
import org.dios.diosd.sys.LibC;

/**
 * D_OBJ_BLOB: a durable byte object whose data is a file in the state
 * directory ({@code blobs/<id>.blob}) that tasks map. The daemon never maps it
 * and never copies its bytes: it creates, sizes, fsyncs and unlinks the file,
 * so a task that truncates the file can make other tasks' mappings fault, but
 * never the daemon (see docs/ARCHITECTURE.md, "Blobs").
 *
 * <p>{@link #size} is the committed size: what a reader may acquire, what
 * survives a restart. The file is kept at {@link #capacity} bytes, at least
 * the size, rounded up to a power of two (64 KiB at least), so a blob that
 * grows by small writes changes its mapping only log2 times. Each capacity is
 * a new mapping <em>generation</em> with its own segment id: the shim caches
 * mappings by segment id, and a new id guarantees it never reuses a mapping of
 * the old, shorter length. Buffers acquired from an older generation stay
 * valid (they map the same file pages).
 *
 * <p>A blob with a name is <em>durable</em>: its creation, size changes and
 * deletion are journaled, its commits are fdatasync'ed, and the name table
 * holds one count on it (the pin), so it outlives every reference and every
 * daemon restart until it is zombified. An anonymous blob is a scratch file
 * that dies with its last reference and is never journaled or synced: nothing
 * could find it after a restart.
 */
public final class BlobObject extends MappedObject {
    public final BlobStore store;
    final long blobId;
    final String fileName;
    final long createdMillis;
    /** Committed bytes. */
    long size;
    /** File length the daemon keeps (>= size); the current mapping's size. */
    long capacity;
    /** Every segment id this blob has had, oldest first (at most ~25: one per power of two). */
    private long[] segments = new long[4];
    private int segmentCount;
    int rwFd = -1;
    private int roFd = -1;
    /** CREATE is in the journal. */
    boolean durable;
    /** The name table holds a count (durable blobs, until zombified). */
    boolean pinned;
    /** Named, its file and journal CREATE still on the sync thread (conductor thread). */
    boolean creating;
    /** DELETE is in the journal (written under BlobStore's journal lock: the sync thread reads it). */
    volatile boolean deletionJournaled;
    /** Durable commits of this blob on the sync thread (conductor thread): its fd stays open meanwhile. */
    int syncsPending;
    /** Freed while commits synced: closeFds() runs when the last is finished. */
    boolean fdsKeptForSync;
    /** The largest size journaled (or created with); the sync thread's after the blob became durable. */
    volatile long journaledSize;
    /** Whose default group holds its name (journaled with it), or -1: the public group. */
    int ownerUid = -1;
    /** The uid of the task that made it (journaled with CREATE; its quota is charged), or -1: not known. */
    int creatorUid = -1;

    BlobObject(long id, long ownerTask, BlobStore store, long blobId, String fileName, long createdMillis, long size) {
        super(id, Abi.D_OBJ_BLOB, ownerTask);
        this.store = store;
        this.blobId = blobId;
        this.fileName = fileName;
        this.createdMillis = createdMillis;
        this.size = size;
    }

    public long blobId() {
        return blobId;
    }

    public String fileName() {
        return fileName;
    }

    /** The uid of its creator, or -1 if not known (a blob journaled before creators were recorded). */
    public int creatorUid() {
        return creatorUid;
    }

    public boolean durable() {
        return durable;
    }

    @Override
    public long size() {
        return size;
    }

    public long capacity() {
        return capacity;
    }

    @Override
    public long segmentId() {
        return segmentCount == 0 ? 0 : segments[segmentCount - 1];
    }

    @Override
    public long segmentSize() {
        return capacity;
    }

    /** Starts a new mapping generation under segment id seg. */
    void newSegment(long seg) {
        if (segmentCount == segments.length) segments = java.util.Arrays.copyOf(segments, segmentCount * 2);
        segments[segmentCount++] = seg;
    }

    /**
     * Every mapping generation a task may have been sent, newest first. When a
     * task's last reference goes it forgets all of them; the delete
     * completion names the first six for the shim to unmap (older ones stay
     * mapped in the task until it exits: address space only, the pages are
     * the file's).
     */
    @Override
    long[] segmentIds(TaskSession s) {
        long[] out = new long[segmentCount];
        for (int i = 0; i < segmentCount; i++) out[i] = segments[segmentCount - 1 - i];
        return out;
    }

    @Override
    public int fdFor(boolean writable) {
        if (writable) return rwFd;
        if (roFd < 0) {
            // A separate open file description, read-only: its mapping cannot be made writable.
            int fd = LibC.open("/proc/self/fd/" + rwFd, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
            if (fd < 0) return fd;
            roFd = fd;
        }
        return roFd;
    }

    /** Closes both fds (the file stays). */
    void closeFds() {
        LibC.close(rwFd);
        LibC.close(roFd);
        rwFd = -1;
        roFd = -1;
    }

    @Override
    public boolean unpin() {
        if (!pinned) return false;
        pinned = false;
        return true;
    }

    @Override
    protected void freeResources(Stats stats) {
        store.dispose(this, stats);
    }

    /**
     * dios_create of a blob: empty (it grows on write) or of the size given;
     * named blobs are durable and live in their creator's default group or,
     * asked for, the public group.
     */
    static DObject create(CreateRequest req) {
        if (req.hasArg && (req.arg < 0 || req.arg > Abi.DIOS_MAX_OBJECT_SIZE)) return req.fail(-Abi.DIOS_EINVAL);
        if (req.refsFull()) return req.fail(-Abi.DIOS_ENOMEM);
        ObjectManager objects = req.objects();
        // Durable names live in the public group or a uid's default group: the journal replays them there.
        boolean publicName = req.table == objects.publicTable();
        if (req.named && !publicName && req.table != objects.userGroup(req.task.uid).names) return req.fail(-Abi.DIOS_EOPNOTSUPP);
        if (req.givenName != null && req.table.containsKey(req.givenName)) return req.fail(-Abi.DIOS_EEXIST);
        if (req.blobs == null) return req.fail(-Abi.DIOS_EOPNOTSUPP);
        long size = req.hasArg ? req.arg : 0;
        // A named blob's file is made on the sync thread (createNamed): nothing touches the disk here.
        BlobObject b = req.named ? req.blobs.pending(objects.newObjectId(), req.task.taskId, size)
                : req.blobs.create(objects.newObjectId(), req.task.taskId, size);
        if (b == null) return req.fail(req.blobs.error());
        b.creating = req.named;
        b.creatorUid = req.task.uid;
        if (req.named && !publicName) b.ownerUid = req.task.uid;
        return b;
    }

    /** A named blob whose file is still being made and journaled (BlobStore.createNamed): its name is taken, not found. */
    @Override
    public boolean beingCreated() {
        return creating;
    }

    /** A named blob is made durable off the conductor: the call parks (BlobStore.createNamed). */
    @Override
    public int createNamed(Call c, Name n, int perms) {
        return store.createNamed(c, this, n, perms);
    }

    /** A durable blob's deletion is journaled before anyone sees it gone. */
    @Override
    public int prepareZombify() {
        return isZombie() ? 0 : store.journalDelete(this);
    }

    /** A durable blob's zombify parks while its DELETE is journaled on the sync thread (BlobStore.zombify). */
    @Override
    public int zombifyParked(Call c, Reference ref) {
        return durable && !isZombie() && !deletionJournaled ? store.zombify(c, this, ref) : 0;
    }

    /** A durable blob outlives every reference (and the daemon): its name is what lets anyone delete it. */
    @Override
    public int lookupPerms(boolean readOnly) {
        if (readOnly) return Abi.D_PERM_READ;
        return Abi.D_PERM_READ | Abi.D_PERM_WRITE | (durable ? Abi.D_PERM_DELETE : 0);
    }

    /** A read stays within the committed size; a write may reach past it (its commit grows the blob). */
    @Override
    long maxAcquire(boolean write) {
        return write ? Abi.DIOS_MAX_OBJECT_SIZE : size;
    }

    @Override
    int ensureMapped(Stats stats, long len) {
        return store.ensureMapping(this, len);
    }

    /** Durable before 0: a durable blob's commit parks until synced (BlobStore.commit). */
    @Override
    int commitWrite(Call c, Buffer b, long len) {
        return store.commit(c, this, b, len, rc -> commitSynced(rc, len));
    }

    @Override
    public String toString() {
        return "blob " + blobId + " (" + fileName + ", " + size + " bytes" + (durable ? ", durable" : "")
                + (creatorUid >= 0 ? ", uid " + creatorUid : "") + ")";
    }
}

package org.dios.diosd.objects;

import org.dios.abi.Abi;
import org.dios.abi.CqeDescriptor;
import org.dios.diosd.log.Log;

/**
 * The driver of objects whose data tasks map (PRIVMEM, SHMEM, BLOB): acquire
 * hands over the segment (read-only fds for read-only references) and a
 * buffer over it; commit_write publishes; commit_read validates a read. The
 * bytes never pass through the daemon. Subclasses say how long a buffer may
 * be, how the backing is made, and what a committed write does.
 *
 * <p><b>Transactions.</b> Each object has a sequence word, a seqlock kept by
 * the daemon: it is odd while any write buffer is out (from acquire_write to
 * its release, however it ends: release, dios_delete of its reference, its
 * task's death), and every commit_write adds 2. A read buffer is armed with
 * the word at acquire_read and at each commit_read; commit_read succeeds
 * only if the word it was armed with was even and is still the current one,
 * so a validated read overlapped no write, committed or in progress. Calls
 * reach the daemon in one order (one conductor thread), and a task's loads
 * of the data precede its commit_read's submission (a release store), so
 * whatever the reader loaded before a successful commit_read was stored
 * before the last write buffer was released and after the one before.
 *
 * <p><b>Exclusive writes</b> (the seed's MUTEX write consistency): an
 * acquire_write with D_ACQUIRE_EXCLUSIVE waits until no write buffer is out
 * and then holds the object's writes until its buffer is released; any
 * acquire_write meanwhile waits (parked, first come first served), or gets
 * -EAGAIN with D_NONBLOCK. A parked writer is completed when the holder's
 * buffer goes (however it goes), with -EIDRM if the object is zombified and
 * -EBADF if its own reference goes.
 */
abstract class MappedObject extends DObject implements SegmentSource {
    /** The seqlock word: odd while a write buffer is out; +2 at each commit_write. */
    private long seq;
    /** Write buffers out (acquired, not released). */
    private int writersOut;
    /** Commits parked until durable: like a write buffer, each keeps the word odd until it completes. */
    private int commitsSyncing;
    /** The exclusive write buffer that is out, or null. */
    private Buffer exclusive;
    /** The daemon's counters, for acquires granted later (the same object for every call). */
    private Stats stats;
    /** Set during one wake-up pass once a waiter had to keep waiting: those behind it wait too (first come first served). */
    private boolean passBlocked;

    protected MappedObject(long id, int type, long ownerTask) {
        super(id, type, ownerTask);
    }

    /** The longest buffer an acquire may ask for. */
    abstract long maxAcquire(boolean write);

    /** Makes the backing (and the mapping generation) ready for a buffer of len bytes. 0 or -errno. */
    abstract int ensureMapped(Stats stats, long len);

    /**
     * A write of len bytes (checked against buffer b) is committed: 0 or
     * -errno, or {@link Call#PARKED} if it completes later (a durable blob's
     * sync), and then the subclass calls {@link #commitSynced} first.
     */
    abstract int commitWrite(Call c, Buffer b, long len);

    @Override
    public final boolean exclusiveWrites() {
        return true;
    }

    /** The sequence word (tests, ref_info). */
    final long seq() {
        return seq;
    }

    @Override
    public final int acquire(Call c, Reference ref, long len, boolean write) {
        TaskSession s = c.task;
        if (len < 0 || len > maxAcquire(write)) return -Abi.DIOS_EINVAL;
        if (s.buffers.size() >= s.buffers.capacity()) return -Abi.DIOS_ENOMEM;
        boolean excl = write && (c.flags & Abi.D_ACQUIRE_EXCLUSIVE) != 0;
        stats = c.stats;
        if (write && mustWait(excl, false)) {
            if (c.nonBlocking()) return -Abi.DIOS_EAGAIN;
            if (!c.mayPark()) return -Abi.DIOS_ENOMEM;
            addWaiter(c.park(ref, len));
            return Call.PARKED;
        }
        int rc = grant(s, ref, len, write, excl, c.val);
        if (rc < 0) return rc;
        if (rc > 0) c.cqeFlags |= Abi.D_CQE_F_SEGMENT;
        return 0;
    }

    /**
     * Must an acquire_write (exclusive or not) wait? While an exclusive buffer
     * is out, every writer waits; an exclusive one also waits for every other
     * write buffer. A new call also waits behind calls already waiting, so
     * plain writers cannot starve an exclusive one; a waiter being resumed is
     * at the head of that line.
     */
    private boolean mustWait(boolean excl, boolean resuming) {
        if (exclusive != null) return true;
        if (excl && writersOut > 0) return true;
        return !resuming && anyLiveWaiter();
    }

    /**
     * Hands task s a buffer of len bytes (0: the whole object) through ref,
     * its values in v. Returns 1 if the segment was sent now (D_CQE_F_SEGMENT),
     * 0 if the task had it, or -errno.
     */
    private int grant(TaskSession s, Reference ref, long len, boolean write, boolean excl, long[] v) {
        if (len == 0) len = size();
        if (s.buffers.size() >= s.buffers.capacity()) return -Abi.DIOS_ENOMEM;
        int rc = ensureMapped(stats, len);
        if (rc < 0) return rc;
        // The mapping's protection follows the reference: read-only references get read-only fds.
        boolean writable = ref.can(Abi.D_PERM_WRITE);
        int prot = writable ? Abi.D_SEG_READ | Abi.D_SEG_WRITE : Abi.D_SEG_READ;
        int sent = 0;
        // Asked first so that fdFor (which may open the read-only fd) runs only for a segment the task lacks.
        if (!s.hasSegment(segmentId(), writable)) {
            sent = s.deliver(fdFor(writable), segmentId(), segmentSize(), prot);
            if (sent < 0) return sent;
        }
        long id = s.addBuffer(ref, write, len, seq, stats);
        if (id == 0) return -Abi.DIOS_ENOMEM;
        if (write) {
            // A write is in progress from now until this buffer is released: the word turns odd.
            if (writersOut++ + commitsSyncing == 0) seq++;
            if (excl) {
                Buffer b = s.buffers.get(id);
                b.exclusive = true;
                exclusive = b;
            }
        }
        stats.io(type, write ? Stats.IO_ACQUIRE_WRITE : Stats.IO_ACQUIRE_READ, len);
        Call.bufferVals(v, id, segmentId(), len, segmentSize(), prot);
        return sent;
    }

    @Override
    public final int commit(Call c, Buffer b, long len, boolean write) {
        if (write) {
            if (len < 0 || len > b.length) return -Abi.DIOS_EINVAL;
            int rc = commitWrite(c, b, len);
            if (rc == Call.PARKED) {
                // Until it is durable and completed, no read validates: the word stays odd even if
                // the buffer is released meanwhile (another thread of the task may do that).
                if (commitsSyncing++ + writersOut == 0) seq++;
                return rc;
            }
            // Even a failed (durable) commit leaves the bytes in the mapping: readers must not validate across it.
            seq += 2;
            if (rc == 0) c.stats.io(type, Stats.IO_COMMIT_WRITE, len);
            return rc;
        }
        // commit_read: valid only if no write was out when the buffer was armed and none came since.
        boolean stale = (b.armedSeq & 1) != 0 || b.armedSeq != seq;
        b.armedSeq = seq;
        if (stale) return -Abi.DIOS_ESTALE;
        c.stats.io(type, Stats.IO_COMMIT_READ, b.length);
        return 0;
    }

    /**
     * A commit that parked is done (conductor thread, before its completion):
     * counted as a commit whatever rc (the bytes are in the mapping), and no
     * longer holding the word odd.
     */
    final void commitSynced(int rc, long len) {
        seq += 2;
        if (--commitsSyncing + writersOut == 0) seq++;
        if (rc == 0 && stats != null) stats.io(type, Stats.IO_COMMIT_WRITE, len);
    }

    /** A write buffer went (released, its reference deleted, its task gone): the write in progress ends. */
    @Override
    public final void released(TaskSession s, Buffer b, Completer c) {
        if (!b.write) return;
        if (--writersOut + commitsSyncing == 0) seq++;
        if (exclusive == b) exclusive = null;
        wake(c);
    }

    /** A waiter timed out: the writers queued behind it may go now. */
    @Override
    void withdraw(ParkedCall pc, Completer c) {
        super.withdraw(pc, c);
        wake(c);
    }

    /** A reference went: a call waiting through it ends (-EBADF), and the line moves on. */
    @Override
    void referenceRemoved(Reference r, Completer c) {
        wake(c);
    }

    private void wake(Completer c) {
        if (c == null) return;
        passBlocked = false;
        wakeWaiters(c);
        passBlocked = false;
    }

    /** A parked acquire_write: granted if no other writer is in its way now, in the order they came. */
    @Override
    public final boolean resume(ParkedCall pc, Completer c) {
        if (pc.op != Abi.D_OP_ACQUIRE_WRITE) return false;
        boolean excl = (pc.flags & Abi.D_ACQUIRE_EXCLUSIVE) != 0;
        if (passBlocked || mustWait(excl, true)) {
            passBlocked = true;
            return false;
        }
        long[] v = new long[CqeDescriptor.VAL_COUNT];
        int rc;
        try {
            rc = grant(pc.task, pc.ref, pc.len, true, excl, v);
        } catch (Disconnect d) {
            // The waiter's control socket is broken; it is not the task being served, so it is not disconnected here.
            Log.warn(pc.task + ": a waiting acquire_write could not be handed its segment: " + d.getMessage());
            rc = -Abi.DIOS_ENOTCONN;
        }
        if (rc < 0) java.util.Arrays.fill(v, 0);
        c.complete(pc.task, pc, Math.min(rc, 0), rc > 0 ? Abi.D_CQE_F_SEGMENT : 0, v);
        return true;
    }

    @Override
    public int readiness() {
        // acquire_write would wait while an exclusive buffer is out or another writer waits
        return Abi.D_REF_STATE_READABLE | (exclusive == null && !anyLiveWaiter() ? Abi.D_REF_STATE_WRITABLE : 0);
    }
}

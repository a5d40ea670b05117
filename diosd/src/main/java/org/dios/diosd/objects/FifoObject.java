package org.dios.diosd.objects;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import org.dios.abi.Abi;
import org.dios.abi.FifoCtlDescriptor;
import org.dios.diosd.sys.LibC;


/**
 * D_OBJ_FIFO: a byte stream from one writer end to one reader end, in shared
 * memory. The data never passes through the daemon: the ends move
 * {@code tail} and {@code head} in the control page themselves (see
 * dios_abi.h, struct dios_fifo_ctl). The daemon binds the ends, hands out
 * the two segments, and is the watchdog: it publishes end-of-stream (an end
 * gone) and zombies in the control page and wakes the ends sleeping on its
 * futex words. An end that waits sleeps on the other end's word itself, so a
 * wake-up is one futex wake, as with a pipe, not a trip through the daemon.
 * Selects are parked here and woken by D_OP_NOTIFY.
 *
 * <p><b>Ends.</b> The first reference to acquire for reading becomes the
 * reader end, the first to acquire for writing the writer end; another
 * reference then gets -EBUSY while that end's reference lives, -EPIPE once
 * it is gone. An end is gone when its reference is released
 * (dios_delete, or its task exits). Before an end is bound, it is gone when
 * no reference that could take it remains: for the writer, no reference
 * with write permission other than the reader end's; for the reader, none
 * with read permission other than the writer end's; a named FIFO can always
 * be looked up, so its ends are never gone before they are bound. Gone is
 * final.
 *
 * <p>The daemon reads {@code tail} and {@code head} only as hints to decide
 * whether to wake a parked call; a task that scribbles on them confuses only
 * the two ends of this FIFO.
 */
public final class FifoObject extends DObject {
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final long capacity;
    private final long ctlSegmentId;
    private int ctlFd = -1;
    private int dataFd = -1;
    private int dataRoFd = -1;
    private Arena ctlArena;
    private MemorySegment ctl;

    Reference reader;
    Reference writer;
    private boolean readerBound;
    private boolean writerBound;
    private boolean readerGone;
    private boolean writerGone;
    /** Live references carrying D_PERM_READ / D_PERM_WRITE. */
    private int readRefs;
    private int writeRefs;

    FifoObject(long id, long ctlSegmentId, long ownerTask, long capacity) {
        super(id, Abi.D_OBJ_FIFO, ownerTask);
        this.capacity = capacity;
        this.ctlSegmentId = ctlSegmentId;
    }

    /** dios_create of a FIFO: its capacity (default, or rounded up to DIOS_FIFO_ALIGN). */
    static DObject create(CreateRequest req) {
        long cap = capacityFor(req.hasArg, req.arg);
        if (cap < 0) return req.fail(-Abi.DIOS_EINVAL);
        if (req.refsFull()) return req.fail(-Abi.DIOS_ENOMEM);
        long ctlSeg = req.objects().newObjectId();
        return new FifoObject(req.objects().newObjectId(), ctlSeg, req.task.taskId, cap);
    }

    /**
     * Acquire on a FIFO: bind the end, hand over the segments, and answer
     * D_CQE_F_FIFO ("attached: go on in place"). The data path and its waits
     * are the shim's; the daemon never holds this call.
     */
    @Override
    public int acquire(Call c, Reference ref, long len, boolean write) {
        if (len < 0 || (write && len > capacity)) return -Abi.DIOS_EINVAL;
        int rc = bind(ref, write);
        if (rc < 0) return rc;
        rc = ensureBacking(c.stats);
        if (rc < 0) return rc;
        int ctlRc = c.deliver(ctlFd, ctlSegmentId, Abi.DIOS_FIFO_CTL_SIZE, Abi.D_SEG_READ | Abi.D_SEG_WRITE);
        if (ctlRc < 0) return ctlRc;
        int prot = (write ? Abi.D_SEG_READ | Abi.D_SEG_WRITE : Abi.D_SEG_READ) | Abi.D_SEG_RING;
        int data = c.deliver(dataFd(write), dataSegmentId(), capacity, prot);
        if (data < 0) return data;
        long[] v = c.val;
        v[0] = ctlSegmentId;
        v[1] = dataSegmentId();
        v[2] = write ? Abi.D_FIFO_END_WRITER : Abi.D_FIFO_END_READER;
        v[3] = capacity;
        v[4] = Abi.DIOS_FIFO_CTL_SIZE;
        v[5] = prot;
        c.cqeFlags |= Abi.D_CQE_F_FIFO;
        return 0;
    }

    /** An end moved tail or head in place and saw a D_FIFO_NOTIFY_* bit: re-check the selects waiting on it. */
    @Override
    public int notify(Completer c, Reference ref) {
        if (endOf(ref) == 0) return -Abi.DIOS_EINVAL;
        wakeWaiters(c);
        return 0;
    }

    /** Capacity asked for (0 = default), rounded up to DIOS_FIFO_ALIGN; -1 if out of range. */
    static long capacityFor(boolean hasArg, long arg) {
        if (!hasArg) return Abi.DIOS_FIFO_DEFAULT_CAPACITY;
        if (arg <= 0 || arg > Abi.DIOS_FIFO_MAX_CAPACITY) return -1;
        return (arg + Abi.DIOS_FIFO_ALIGN - 1) / Abi.DIOS_FIFO_ALIGN * Abi.DIOS_FIFO_ALIGN;
    }

    public long capacity() {
        return capacity;
    }

    @Override
    public long size() {
        return capacity;
    }

    long dataSegmentId() {
        return id;
    }

    long ctlSegmentId() {
        return ctlSegmentId;
    }

    /** Makes the two memfds and maps the control page. 0 or -errno. */
    int ensureBacking(Stats stats) {
        if (ctlFd >= 0) return 0;
        int c = MemoryObject.sealedMemfd("dios-fifo-ctl-" + id, Abi.DIOS_FIFO_CTL_SIZE);
        if (c < 0) return c;
        int d = MemoryObject.sealedMemfd("dios-fifo-" + id, capacity);
        if (d < 0) {
            LibC.close(c);
            return d;
        }
        long addr = LibC.mmap(Abi.DIOS_FIFO_CTL_SIZE, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, c, 0);
        if (addr < 0) {
            LibC.close(c);
            LibC.close(d);
            return -Abi.DIOS_ENOMEM;
        }
        ctlArena = Arena.ofConfined();
        ctl = MemorySegment.ofAddress(addr).reinterpret(Abi.DIOS_FIFO_CTL_SIZE, ctlArena,
                seg -> LibC.munmap(addr, Abi.DIOS_FIFO_CTL_SIZE));
        ctl.set(ValueLayout.JAVA_LONG, FifoCtlDescriptor.CAPACITY_OFFSET, capacity);
        ctl.set(ValueLayout.JAVA_INT, FifoCtlDescriptor.MAGIC_OFFSET, Abi.DIOS_FIFO_MAGIC);
        ctlFd = c;
        dataFd = d;
        stats.segments += 2;
        publishState();
        waitersChanged(); // selects registered before the first end attached
        return 0;
    }

    int ctlFd() {
        return ctlFd;
    }

    /** The data fd for an end: the writer's read-write, the reader's read-only. */
    int dataFd(boolean writable) {
        if (writable) return dataFd;
        if (dataRoFd < 0) dataRoFd = MemoryObject.readOnlyFd(dataFd);
        return dataRoFd;
    }

    @Override
    long[] segmentIds(TaskSession s) {
        return ctlFd >= 0 ? new long[] {ctlSegmentId, id} : NO_SEGMENTS;
    }

    // ---- ends ------------------------------------------------------------------

    /**
     * Binds r as the reader (or writer) end if that end is free. Returns 0,
     * -EBUSY if another live reference holds the end or r is the other end, or
     * -EPIPE if the end is gone (its reference was released: gone is final,
     * and no one holds it, so "busy" would be false).
     */
    int bind(Reference r, boolean write) {
        if (write) {
            if (writer == r) return 0;
            if (reader == r) return -Abi.DIOS_EBUSY;
            if (writerGone) return -Abi.DIOS_EPIPE;
            if (writerBound) return -Abi.DIOS_EBUSY;
            writer = r;
            writerBound = true;
        } else {
            if (reader == r) return 0;
            if (writer == r) return -Abi.DIOS_EBUSY;
            if (readerGone) return -Abi.DIOS_EPIPE;
            if (readerBound) return -Abi.DIOS_EBUSY;
            reader = r;
            readerBound = true;
        }
        updateGone();
        return 0;
    }

    @Override
    public int endOf(Reference r) {
        return r == reader ? Abi.D_FIFO_END_READER : r == writer ? Abi.D_FIFO_END_WRITER : 0;
    }

    boolean writerGone() {
        return writerGone;
    }

    boolean readerGone() {
        return readerGone;
    }

    @Override
    void referenceAdded(Reference r) {
        if (r.can(Abi.D_PERM_READ)) readRefs++;
        if (r.can(Abi.D_PERM_WRITE)) writeRefs++;
    }

    @Override
    public void pendingChanged(int perms, int delta, Completer d) {
        if ((perms & Abi.D_PERM_READ) != 0) readRefs += delta;
        if ((perms & Abi.D_PERM_WRITE) != 0) writeRefs += delta;
        if (d != null && updateGone()) wakeWaiters(d);
    }

    @Override
    void referenceRemoved(Reference r, Completer d) {
        if (r.can(Abi.D_PERM_READ)) readRefs--;
        if (r.can(Abi.D_PERM_WRITE)) writeRefs--;
        if (r == reader) reader = null;
        if (r == writer) writer = null;
        if (updateGone()) wakeWaiters(d);
        else wakeWaitersOn(r, d);
    }

    /** Parked calls through a removed reference end at once (-EBADF, or ready for a select). */
    private void wakeWaitersOn(Reference r, Completer d) {
        boolean[] any = {false};
        forEachLiveWaiter(w -> any[0] |= w.through(r));
        if (any[0]) wakeWaiters(d);
    }

    /** Re-evaluates the gone flags; true if one just became set. */
    private boolean updateGone() {
        boolean changed = false;
        if (!writerGone) {
            boolean gone = writerBound ? writer == null
                    : name == null && writeRefs - (reader != null && reader.can(Abi.D_PERM_WRITE) ? 1 : 0) <= 0;
            if (gone) {
                writerGone = true;
                changed = true;
            }
        }
        if (!readerGone) {
            boolean gone = readerBound ? reader == null
                    : name == null && readRefs - (writer != null && writer.can(Abi.D_PERM_READ) ? 1 : 0) <= 0;
            if (gone) {
                readerGone = true;
                changed = true;
            }
        }
        if (changed) publishState();
        return changed;
    }

    @Override
    void zombified(Completer d) {
        publishState(); // D_FIFO_ST_ZOMBIE, before the control page is unmapped
        super.zombified(d);
    }

    /** Publishes the state and wakes any end sleeping on tail or head (the watchdog's job). */
    private void publishState() {
        if (ctl == null) return;
        int st = (writerGone ? Abi.D_FIFO_ST_WRITER_GONE : 0) | (readerGone ? Abi.D_FIFO_ST_READER_GONE : 0)
                | (isZombie() ? Abi.D_FIFO_ST_ZOMBIE : 0);
        INT.setVolatile(ctl, (long) FifoCtlDescriptor.STATE_OFFSET, st);
        LibC.futexWakeAll(ctl.address() + FifoCtlDescriptor.TAIL_OFFSET);
        LibC.futexWakeAll(ctl.address() + FifoCtlDescriptor.HEAD_OFFSET);
    }

    // ---- readiness -------------------------------------------------------------

    private long tail() {
        return (long) LONG.getAcquire(ctl, (long) FifoCtlDescriptor.TAIL_OFFSET);
    }

    /** Highest writer tail seen: what bytesWrittenHint() reports, so it never goes backwards. */
    private long tailSeen;

    /**
     * Bytes the writer end has committed so far, read from the control page
     * (a hint: a task can write any tail there). It never decreases, so a
     * counter summed from it never resets while the FIFO lives.
     */
    long bytesWrittenHint() {
        if (ctl != null) {
            long t = tail();
            if (t > tailSeen) tailSeen = t;
        }
        return tailSeen;
    }

    private long head() {
        return (long) LONG.getAcquire(ctl, (long) FifoCtlDescriptor.HEAD_OFFSET);
    }

    /** Data to read, or end of stream (or a corrupt control page: the reader finds out). */
    boolean readable() {
        if (isZombie() || writerGone) return true;
        if (ctl == null) return false; // no end attached yet: no data either
        long used = tail() - head();
        return used != 0;
    }

    /** need bytes of space, or nobody reads (or corrupt). */
    boolean writable(long need) {
        if (isZombie() || readerGone || ctl == null) return true;
        long used = tail() - head();
        return used < 0 || used > capacity || capacity - used >= Math.max(need, 1);
    }

    /** Would r's operation block? A reference that is not an end asks for the end it could take. */
    @Override
    public boolean readyFor(Reference r, TaskSession task) {
        if (!r.live || isZombie()) return true;
        boolean write = r == writer || (r != reader && !r.can(Abi.D_PERM_READ));
        if (write) return (writerBound && writer != r) || writable(1);
        return (readerBound && reader != r) || readable();
    }

    /**
     * What readyFor asks of r: the writer end, the reader end, or the end a
     * reference that is neither would take (reading if it may read). A select
     * waits once per kind, through the first reference of that kind it named.
     */
    @Override
    public int selectClass(Reference r) {
        if (r == writer) return 1;
        if (r == reader) return 2;
        return r.can(Abi.D_PERM_READ) ? 3 : 4;
    }

    @Override
    public int readiness() {
        if (ctl == null) return Abi.D_REF_STATE_WRITABLE;
        return (readable() ? Abi.D_REF_STATE_READABLE : 0) | (writable(1) ? Abi.D_REF_STATE_WRITABLE : 0);
    }

    /**
     * After the parked selects changed: ask the ends for D_OP_NOTIFY (the
     * D_FIFO_NOTIFY_* bits) only while a select waits for that side. The ends
     * OR and AND their own D_FIFO_WAIT_* bits in the same word, so only atomic
     * bit operations touch it. The caller re-checks readiness after a full
     * fence: the daemon's half of the Dekker pair with "store tail; fence;
     * read waiters".
     */
    @Override
    void waitersChanged() {
        if (ctl == null) return;
        int[] bits = {0};
        forEachLiveWaiter(w -> {
            for (int k = 0; k < w.count(); k++) {
                Reference r = w.reference(k);
                boolean write = r == writer || (r != reader && !r.can(Abi.D_PERM_READ));
                bits[0] |= write ? Abi.D_FIFO_NOTIFY_WRITE : Abi.D_FIFO_NOTIFY_READ;
            }
        });
        int all = Abi.D_FIFO_NOTIFY_READ | Abi.D_FIFO_NOTIFY_WRITE;
        if (bits[0] != 0) INT.getAndBitwiseOr(ctl, (long) FifoCtlDescriptor.WAITERS_OFFSET, bits[0]);
        if ((all & ~bits[0]) != 0) INT.getAndBitwiseAnd(ctl, (long) FifoCtlDescriptor.WAITERS_OFFSET, ~(all & ~bits[0]));
    }

    @Override
    protected void freeResources(Stats stats) {
        stats.fifoBytesRetired += bytesWrittenHint(); // read before the control page goes
        if (ctlFd >= 0) stats.segments -= 2;
        if (ctlArena != null) ctlArena.close();
        ctlArena = null;
        ctl = null;
        LibC.close(ctlFd);
        LibC.close(dataFd);
        LibC.close(dataRoFd);
        ctlFd = dataFd = dataRoFd = -1;
    }
}

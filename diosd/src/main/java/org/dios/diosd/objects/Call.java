package org.dios.diosd.objects;

import org.dios.abi.Abi;
import org.dios.abi.CqeDescriptor;

/**
 * The call being served, as the object drivers see it: the task, the op, its
 * flags, the completion being built (its six values and D_CQE_F_* flags), and
 * the few services a driver needs (segments to hand over, parking, the
 * terminal watch, the object manager). One instance per dispatcher, reused
 * for every call: serving a call allocates nothing here.
 */
public final class Call {
    /** A driver's answer for a call it parked (no completion now). */
    public static final int PARKED = Integer.MIN_VALUE;

    /** Starts watching a task's terminal while console calls wait on it (the conductor's epoll). */
    @FunctionalInterface
    public interface TtyWatcher {
        void watch(TaskSession s);
    }

    final ObjectManager objects;
    final Stats stats;
    final Limits limits;
    private final TtyWatcher tty;
    /** Where calls parked with D_TIMEOUT wait for their deadline. */
    private final Deadlines deadlines;

    public TaskSession task;
    public long userData;
    public int op;
    public long flags;
    /** The completion's values; zeroed for every call. */
    public final long[] val = new long[CqeDescriptor.VAL_COUNT];
    /** The completion's D_CQE_F_* flags. */
    public int cqeFlags;
    /** D_TIMEOUT: the SQE's timeout_ns (unsigned), counted from when the daemon read the entry. */
    private boolean timed;
    private long timeoutNs;
    private long readAt;

    public Call(ObjectManager objects, Stats stats, Limits limits, TtyWatcher tty, Deadlines deadlines) {
        this.objects = objects;
        this.stats = stats;
        this.limits = limits;
        this.tty = tty;
        this.deadlines = deadlines;
    }

    /** Starts a new call of task s. */
    public void reset(TaskSession s, long userData, int op) {
        this.task = s;
        this.userData = userData;
        this.op = op;
        this.flags = 0;
        java.util.Arrays.fill(val, 0);
        cqeFlags = 0;
        timed = false;
    }

    /**
     * D_TIMEOUT was given with timeout_ns (unsigned): if the call parks, it
     * gives up with -ETIMEDOUT that long after now (the daemon's read of the
     * entry). One clock read, for timed calls only.
     */
    public void timeout(long timeoutNs) {
        this.timed = true;
        this.timeoutNs = timeoutNs;
        this.readAt = System.nanoTime();
    }

    public boolean nonBlocking() {
        return (flags & Abi.D_NONBLOCK) != 0;
    }

    /** True if the task may park one more call; otherwise the driver answers -ENOMEM. */
    public boolean mayPark() {
        return task.mayPark(limits.maxParked());
    }

    /** Parks this call on ref (bytes wanted: len); the caller checked {@link #mayPark()}. */
    ParkedCall park(Reference ref, long len) {
        return parked(new ParkedCall(task, userData, op, flags, ref, len));
    }

    /**
     * pc (this call, registered where it waits) is parked: the task owes it a
     * completion, and with D_TIMEOUT it is scheduled at its deadline. Every
     * parked call of a driver or a select comes through here, so any wait
     * gets a deadline the same way.
     */
    public ParkedCall parked(ParkedCall pc) {
        task.parked.add(pc);
        if (timed) {
            // unsigned: a timeout of 2^63 ns or more reads negative, and never expires either
            if (timeoutNs >= 0 && timeoutNs < Deadlines.NEVER) {
                pc.deadline = readAt + timeoutNs;
                deadlines.add(pc);
            }
        }
        return pc;
    }

    /**
     * Hands the task segment segId (an fd of size bytes, with D_SEG_* prot)
     * unless it has it already with that protection. Returns 1 if sent (and
     * sets D_CQE_F_SEGMENT), 0 if the task had it, or -errno.
     */
    int deliver(int fd, long segId, long size, int prot) {
        int rc = task.deliver(fd, segId, size, prot);
        if (rc > 0) cqeFlags |= Abi.D_CQE_F_SEGMENT;
        return rc;
    }

    /** An acquire's answer in v: buffer id, segment, offset 0, length, the segment's size, D_SEG_* protection. */
    static void bufferVals(long[] v, long bufferId, long segId, long len, long segSize, int prot) {
        v[0] = bufferId;
        v[1] = segId;
        v[2] = 0;
        v[3] = len;
        v[4] = segSize;
        v[5] = prot;
    }

    /**
     * Reads n reference ids at region offset base (the args area) into out:
     * each must name a live reference of the task to an object that is not
     * a zombie and may be delegated. 0, or -EBADF / -EIDRM / -EACCES.
     */
    public int delegableRefs(long base, Reference[] out) {
        for (int i = 0; i < out.length; i++) {
            Reference d = task.refs.get(task.region.get(java.lang.foreign.ValueLayout.JAVA_LONG, base + 8L * i));
            if (d == null) return -Abi.DIOS_EBADF;
            if (d.object.isZombie()) return -Abi.DIOS_EIDRM;
            if (!d.object.delegable()) return -Abi.DIOS_EACCES;
            out[i] = d;
        }
        return 0;
    }

    /**
     * Refuses the call for a per-task limit: the completion carries D_CQE_F_DETAIL
     * with the limit's D_DETAIL_* code and value, which the shim turns into
     * dios_last_error_detail()'s text. Returns -ENOMEM.
     */
    public int limitHit(int detail, long limit) {
        cqeFlags |= Abi.D_CQE_F_DETAIL;
        val[0] = detail;
        val[1] = limit;
        return -Abi.DIOS_ENOMEM;
    }

    /**
     * The call failed with -ENOMEM and no driver said which limit: name the one the
     * task is at, if any, looking first at what this op adds (an acquire: a buffer;
     * a select: a parked call; the others: a reference), then at parked calls, then at the other table; else
     * leave the completion without a detail (the daemon itself is short).
     */
    public void explainNoMemory() {
        if ((cqeFlags & Abi.D_CQE_F_DETAIL) != 0) return;
        boolean acquire = op == Abi.D_OP_ACQUIRE_READ || op == Abi.D_OP_ACQUIRE_WRITE;
        boolean refsFull = task.refs.size() >= task.refs.capacity();
        boolean buffersFull = task.buffers.size() >= task.buffers.capacity();
        boolean select = op == Abi.D_OP_SELECT;
        if (acquire && buffersFull) limitHit(Abi.D_DETAIL_MAX_BUFFERS, task.buffers.capacity());
        else if (!acquire && !select && refsFull) limitHit(Abi.D_DETAIL_MAX_REFS, task.refs.capacity());
        else if (!mayPark()) limitHit(Abi.D_DETAIL_MAX_PARKED, limits.maxParked());
        else if (refsFull) limitHit(Abi.D_DETAIL_MAX_REFS, task.refs.capacity());
        else if (buffersFull) limitHit(Abi.D_DETAIL_MAX_BUFFERS, task.buffers.capacity());
    }

    /**
     * The call failed with -EDQUOT: name the quota (the last one refused: the
     * conductor serves one call at a time) and its value, unless a driver did.
     */
    public void explainQuota(Quotas q) {
        if ((cqeFlags & Abi.D_CQE_F_DETAIL) != 0 || q.lastRefused() < 0) return;
        int code = Quotas.detailCode(q.lastRefused());
        if (code == 0) return;
        cqeFlags |= Abi.D_CQE_F_DETAIL;
        val[0] = code;
        val[1] = q.limit(q.lastRefused());
    }

    /** Console calls wait on the task's terminal: the conductor watches it. */
    public void watchTerminal() {
        tty.watch(task);
    }
}

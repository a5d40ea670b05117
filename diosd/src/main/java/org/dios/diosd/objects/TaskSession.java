package org.dios.diosd.objects;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.HashMap;

import org.dios.abi.Abi;
import org.dios.abi.CqeDescriptor;
import org.dios.abi.RegionHeaderDescriptor;
import org.dios.abi.SegmentMessageDescriptor;
import org.dios.diosd.log.Log;
import org.dios.diosd.sys.LibC;
import org.dios.diosd.sys.UnixSocket;


/**
 * Everything the daemon knows about one registered task: its fds, its mapped
 * region, its reference and buffer tables, and which segments it has been
 * sent. Owned by the conductor thread.
 *
 * <p>The region is writable by the task, so the daemon keeps the
 * authoritative {@link #sqHead} and {@link #cqTail} here and only ever reads
 * sq_tail and cq_head from shared memory, each once, and checks them.
 */
public final class TaskSession {
    public static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    public final long taskId;
    public final int slot;
    public final int generation;
    public final int pid;
    public final int uid;
    public final int gid;
    public final int sock;
    public final int doorbell;
    public final int pidfd;
    public final Arena arena;
    public final MemorySegment region;
    final long regionAddress;
    public final HandleTable<Reference> refs;
    public final HandleTable<Buffer> buffers;
    /** Segment id to the D_SEG_* protections already sent to this task. */
    final HashMap<Long, Integer> delivered = new HashMap<>();
    public final String exe;
    public TaskObject taskObject;
    public long selfRef;

    public int sqHead;
    public int cqTail;
    /** Last cq_head read from the region (re-read only when the CQ looks full). */
    public int cachedCqHead;
    public boolean active;
    public boolean dead;
    /** Bytes of the PRIVMEM objects this task holds (its heap), against diosd --max-task-memory. */
    public long privmemBytes;
    /** The daemon logged that this task hit --max-parked-calls (said once per task). */
    boolean warnedParked;
    /** Calls the daemon owes a completion (each counted against the CQ's room). */
    public final java.util.ArrayList<ParkedCall> parked = new java.util.ArrayList<>();
    /** The task's terminal (its own /dev/tty description, non-blocking), or -1. */
    public int ttyFd = -1;
    public boolean ttyWatched;
    /**
     * A spawned task without a terminal: where its console output goes, its
     * inherited stderr as {@link ConsoleObject#stderrOutput} made it
     * writable without blocking the daemon; -1: the daemon's log.
     */
    public int errFd = -1;
    /** errFd is a socket: written with send(MSG_DONTWAIT), which leaves the task's file status flags alone. */
    public boolean errIsSocket;
    /** Console state, made at the first console acquire. */
    public ConsoleObject.Session console;
    /** Name visibility: the public group (tasks that connect by themselves) and group objects. */
    public boolean publicMember = true;
    public final java.util.ArrayList<GroupObject> groups = new java.util.ArrayList<>(0);
    /** Where names this task creates are bound by default: null = the public group. */
    public GroupObject defaultGroup;
    /** This task's executable object (a count held), or null. */
    public ExeObject exeObject;
    /** References other tasks delegated to this one, not yet taken (dios_delegated), in order. */
    public final java.util.ArrayDeque<Long> inbox = new java.util.ArrayDeque<>(0);
    /** The task's stdin, stdout and stderr (D_HELLO_F_STDIO), which tasks it spawns inherit; -1: none. */
    public final int[] stdio = {-1, -1, -1};
    /** The task that started this one with dios_run, or 0 (it connected by itself). */
    public long parentTask;
    /**
     * Started by the daemon under the Pure DIOS filter (its brand or its
     * parent's), and whether a denied call kills it: a task it spawns runs
     * Pure too, with this kill mode at least. False for a task that connected
     * by itself (the daemon did not confine it).
     */
    public boolean pure, pureKill;
    /** Its argv as `dios tasks` shows it (Argv.text): the spawn's, else /proc/PID/cmdline's. */
    public String argv = "";
    /** The start-up warm-up's synthetic task: not logged. */
    public boolean quiet;
    public long lastWorkNanos;

    public TaskSession(long taskId, int slot, int generation, int pid, int uid, int gid, int sock, int doorbell, int pidfd,
                Arena arena, MemorySegment region, int maxRefs, int maxBuffers, long tag, String exe) {
        this.taskId = taskId;
        this.slot = slot;
        this.generation = generation;
        this.pid = pid;
        this.uid = uid;
        this.gid = gid;
        this.sock = sock;
        this.doorbell = doorbell;
        this.pidfd = pidfd;
        this.arena = arena;
        this.region = region;
        this.regionAddress = region.address();
        this.refs = new HandleTable<>(maxRefs, tag);
        this.buffers = new HandleTable<>(maxBuffers, ((tag * 31) & 0xffff) == 0 ? 1 : (tag * 31) & 0xffff);
        this.exe = exe;
    }

    public int loadSqTail() {
        return (int) INT.getAcquire(region, (long) RegionHeaderDescriptor.SQ_TAIL_OFFSET);
    }

    public int loadCqHead() {
        return (int) INT.getAcquire(region, (long) RegionHeaderDescriptor.CQ_HEAD_OFFSET);
    }

    /** Writes a completion at cq_tail and advances it (published by {@link #publish()}). */
    public void writeCqe(long userData, int res, int flags, long[] val) {
        long off = RingSlots.cqeOffset(cqTail);
        region.set(ValueLayout.JAVA_LONG, off + CqeDescriptor.USER_DATA_OFFSET, userData);
        region.set(ValueLayout.JAVA_INT, off + CqeDescriptor.RES_OFFSET, res);
        region.set(ValueLayout.JAVA_INT, off + CqeDescriptor.FLAGS_OFFSET, flags);
        for (int i = 0; i < val.length; i++) {
            region.set(ValueLayout.JAVA_LONG, off + CqeDescriptor.VAL_OFFSET + 8L * i, val[i]);
        }
        cqTail++;
    }

    /** Completes a parked call: its CQE goes out now and the task is woken. */
    public void completeParked(ParkedCall pc, int res, int flags, long[] val) {
        if (pc.done) return;
        pc.done = true;
        pc.unschedule();
        parked.remove(pc);
        if (dead) return;
        writeCqe(pc.userData, res, flags, val);
        if (pc.tracedBy != null) pc.tracedBy.resumed(this, pc, res, val);
        publish();
    }

    /** Publishes consumed submissions and new completions, and wakes sleepers if there are any. */
    public void publish() {
        // The task may reuse SQ slots only after it sees the new head.
        INT.setRelease(region, (long) RegionHeaderDescriptor.SQ_HEAD_OFFSET, sqHead);
        // The task reads CQEs only after it sees the new tail: the entries were written before.
        INT.setRelease(region, (long) RegionHeaderDescriptor.CQ_TAIL_OFFSET, cqTail);
        // Dekker pair with the waiter's "cq_waiters++; fence; re-check cq_tail".
        VarHandle.fullFence();
        if ((int) INT.getVolatile(region, (long) RegionHeaderDescriptor.CQ_WAITERS_OFFSET) != 0) {
            LibC.futexWakeAll(regionAddress + RegionHeaderDescriptor.CQ_TAIL_OFFSET);
        }
    }

    /**
     * Asks the task to ring the doorbell from now on. Returns false (and
     * withdraws the request) if the task published entries meanwhile.
     */
    public boolean requestWakeup() {
        INT.setVolatile(region, (long) RegionHeaderDescriptor.SQ_FLAGS_OFFSET, org.dios.abi.Abi.D_SQ_NEED_WAKEUP);
        // Dekker pair with the submitter's "store sq_tail; fence; load sq_flags".
        VarHandle.fullFence();
        if (loadSqTail() != sqHead) {
            INT.setRelease(region, (long) RegionHeaderDescriptor.SQ_FLAGS_OFFSET, 0);
            return false;
        }
        return true;
    }

    public void clearWakeup() {
        INT.setRelease(region, (long) RegionHeaderDescriptor.SQ_FLAGS_OFFSET, 0);
    }

    /** Tells waiters the daemon is going away and wakes them. */
    public void announceShutdown() {
        INT.setVolatile(region, (long) RegionHeaderDescriptor.DAEMON_STATE_OFFSET, org.dios.abi.Abi.D_DSTATE_SHUTDOWN);
        LibC.futexWakeAll(regionAddress + RegionHeaderDescriptor.CQ_TAIL_OFFSET);
    }

    /**
     * True if this task may park one more call (limit: --max-parked-calls).
     * Otherwise the caller answers -ENOMEM (a per-task limit, like references
     * and buffers), and the daemon says so once per task.
     */
    public boolean mayPark(int limit) {
        if (parked.size() < limit) return true;
        if (!warnedParked) {
            warnedParked = true;
            Log.warn(this + ": a call that must wait was refused with -ENOMEM: " + parked.size()
                    + " calls wait already (--max-parked-calls " + limit + ")");
        }
        return false;
    }

    /**
     * Adds a buffer of len bytes over ref (armed at sequence word seq) to the
     * buffer table. Returns its id, or 0 if the table is full.
     */
    long addBuffer(Reference ref, boolean write, long len, long seq, Stats stats) {
        Buffer b = new Buffer(ref, write, 0, len, seq);
        long id = buffers.add(b);
        if (id == 0) return 0;
        b.id = id;
        ref.buffers++;
        stats.buffers++;
        return id;
    }

    /** The task has segment segId with write (or read) protection already. */
    boolean hasSegment(long segId, boolean writable) {
        Integer sent = delivered.get(segId);
        return sent != null && (sent & (writable ? 2 : 1)) != 0;
    }

    /**
     * Sends a SEGMENT message (fd of size bytes, D_SEG_* prot) unless this task
     * has segId with this protection already. Returns 1 if sent, 0 if the
     * task had it, or -errno; throws {@link Disconnect} if the control socket
     * cannot take it.
     */
    int deliver(int fd, long segId, long size, int prot) {
        boolean writable = (prot & Abi.D_SEG_WRITE) != 0;
        if (hasSegment(segId, writable)) return 0;
        if (fd < 0) return -Abi.DIOS_ENOMEM;
        SEGMENT_MESSAGE.set(ValueLayout.JAVA_INT, SegmentMessageDescriptor.MAGIC_OFFSET, Abi.DIOS_MSG_SEGMENT);
        SEGMENT_MESSAGE.set(ValueLayout.JAVA_INT, SegmentMessageDescriptor.PROT_OFFSET, prot);
        SEGMENT_MESSAGE.set(ValueLayout.JAVA_LONG, SegmentMessageDescriptor.SEG_ID_OFFSET, segId);
        SEGMENT_MESSAGE.set(ValueLayout.JAVA_LONG, SegmentMessageDescriptor.SIZE_OFFSET, size);
        SEGMENT_MESSAGE.set(ValueLayout.JAVA_LONG, SegmentMessageDescriptor.RSVD_OFFSET, 0L);
        long n = UnixSocket.sendWithFds(sock, SEGMENT_MESSAGE, fd);
        if (n == -LibC.EAGAIN) {
            throw new Disconnect("control socket full: the task does not read its segment messages");
        }
        if (n != SegmentMessageDescriptor.SIZE) throw new Disconnect("cannot send segment: " + LibC.strerror((int) -n));
        delivered.merge(segId, writable ? 2 : 1, (a, b) -> a | b);
        return 1;
    }

    /** The SEGMENT message being sent (conductor thread only). */
    private static final MemorySegment SEGMENT_MESSAGE = Arena.global().allocate(SegmentMessageDescriptor.SIZE, 8);

    /** Counts one more reference of this task to o. */
    void hold(DObject o) {
        o.hold(taskId);
    }

    /** Counts one reference of this task to o less; returns how many it still holds. */
    int unhold(DObject o) {
        return o.unhold(taskId);
    }

    public int refCount() {
        return refs.size();
    }

    @Override
    public String toString() {
        return "task " + taskId + " (pid " + pid + ")";
    }
}

package org.dios.diosd.objects;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import org.dios.abi.Abi;
import org.dios.diosd.log.Log;
import org.dios.diosd.sys.LibC;


/**
 * D_OBJ_CONSOLE: the host's console, one well-known object (named
 * {@code dios_name_from_string(DIOS_CONSOLE_NAME_STRING)}) that every task
 * can look up. What it is attached to depends on the task using it:
 * <ul>
 * <li>a task started from a terminal handed the daemon its own description of
 * that terminal at registration (D_HELLO_F_TTY): console output is written
 * there and console input read from there;</li>
 * <li>otherwise a task started by dios_run writes to the stderr it
 * inherited (as a Unix child would: its panics reach whoever ran its
 * parent), see {@link #stderrOutput};</li>
 * <li>and any other task's output goes to the daemon's log, one line per
 * line, tagged with the task. Input is at end of stream (-EPIPE) without a
 * terminal.</li>
 * </ul>
 * Each task gets two small buffers (DIOS_CONSOLE_BUF_BYTES each, memfds the
 * daemon maps): acquire_write hands out the output buffer, commit_write
 * writes its bytes out; acquire_read reads what the terminal has into the
 * input buffer (read-only for the task), or parks until it has something.
 * The terminal fd is non-blocking: a slow terminal parks the commit, never
 * the daemon. One buffer of each kind per task is out at a time (-EBUSY).
 */
public final class ConsoleObject extends DObject {
    /** One task's console buffers. */
    public static final class Session {
        final long outSeg;
        final long inSeg;
        int outFd = -1;
        int inFd = -1;
        int inRoFd = -1;
        Arena arena;
        MemorySegment out;
        MemorySegment in;
        boolean writeOut;
        boolean readOut;
        /** A commit the terminal could not take at once: the rest goes out when it can. */
        ParkedCall pendingWrite;
        long pendingOff;
        long pendingEnd;
        /** Reads waiting for terminal input. */
        final java.util.ArrayList<ParkedCall> reads = new java.util.ArrayList<>(1);

        Session(long outSeg, long inSeg) {
            this.outSeg = outSeg;
            this.inSeg = inSeg;
        }

        public void close(Stats stats) {
            if (outFd >= 0) stats.segments -= 2;
            if (arena != null) arena.close();
            arena = null;
            LibC.close(outFd);
            LibC.close(inFd);
            LibC.close(inRoFd);
            outFd = inFd = inRoFd = -1;
        }
    }

    public ConsoleObject(long id) {
        super(id, Abi.D_OBJ_CONSOLE, 0);
    }

    /** The task's console buffers, made (and mapped by the daemon) at first use. null: out of memory. */
    Session session(TaskSession s, ObjectManager objects) {
        if (s.console != null) return s.console;
        Session c = new Session(objects.newObjectId(), objects.newObjectId());
        int o = MemoryObject.sealedMemfd("dios-console-out-" + s.taskId, Abi.DIOS_CONSOLE_BUF_BYTES);
        int i = o < 0 ? o : MemoryObject.sealedMemfd("dios-console-in-" + s.taskId, Abi.DIOS_CONSOLE_BUF_BYTES);
        int ro = i < 0 ? i : MemoryObject.readOnlyFd(i);
        long oa = ro < 0 ? -1 : LibC.mmap(Abi.DIOS_CONSOLE_BUF_BYTES, LibC.PROT_READ, LibC.MAP_SHARED, o, 0);
        long ia = oa < 0 ? -1 : LibC.mmap(Abi.DIOS_CONSOLE_BUF_BYTES, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, i, 0);
        if (ia < 0) {
            if (oa >= 0) LibC.munmap(oa, Abi.DIOS_CONSOLE_BUF_BYTES);
            LibC.close(o);
            LibC.close(i);
            LibC.close(ro);
            return null;
        }
        c.arena = Arena.ofConfined();
        c.out = MemorySegment.ofAddress(oa).reinterpret(Abi.DIOS_CONSOLE_BUF_BYTES, c.arena,
                seg -> LibC.munmap(oa, Abi.DIOS_CONSOLE_BUF_BYTES));
        c.in = MemorySegment.ofAddress(ia).reinterpret(Abi.DIOS_CONSOLE_BUF_BYTES, c.arena,
                seg -> LibC.munmap(ia, Abi.DIOS_CONSOLE_BUF_BYTES));
        c.outFd = o;
        c.inFd = i;
        c.inRoFd = ro;
        objects.stats.segments += 2;
        s.console = c;
        return c;
    }

    @Override
    long[] segmentIds(TaskSession s) {
        return s.console == null ? NO_SEGMENTS : new long[] {s.console.outSeg, s.console.inSeg};
    }

    /**
     * Reads terminal input into the task's input buffer. Returns the bytes
     * read (> 0), -EAGAIN if there is none yet, or -EPIPE at end of input (no
     * terminal, terminal closed or hung up).
     */
    static long readInput(TaskSession s, long len) {
        if (s.ttyFd < 0) return -Abi.DIOS_EPIPE;
        long n = LibC.read(s.ttyFd, s.console.in, len);
        if (n > 0) return n;
        if (n == -LibC.EAGAIN) return -Abi.DIOS_EAGAIN;
        return -Abi.DIOS_EPIPE; // 0 = end of file; EIO = hung up
    }

    /**
     * Writes out[off, end) of the task's output buffer: to its terminal, else
     * to the stderr it inherited (a spawned task), else to the daemon's log.
     * Returns the new offset (== end when done), or -EPIPE if the terminal
     * (or the stderr's reader) is gone.
     */
    static long writeOutput(TaskSession s, long off, long end) {
        int fd = s.ttyFd >= 0 ? s.ttyFd : s.errFd;
        if (fd < 0) {
            logLines(s, s.console.out.asSlice(off, end - off));
            return end;
        }
        boolean socket = s.ttyFd < 0 && s.errIsSocket;
        while (off < end) {
            long n = socket ? LibC.sendto(fd, s.console.out.asSlice(off, end - off),
                    LibC.MSG_DONTWAIT | LibC.MSG_NOSIGNAL, MemorySegment.NULL, 0)
                    : LibC.write(fd, s.console.out.asSlice(off), end - off);
            if (n == -LibC.EAGAIN) return off;
            if (n < 0) return -Abi.DIOS_EPIPE;
            off += n;
        }
        return off;
    }

    private static final int S_IFMT = 0170000, S_IFIFO = 0010000, S_IFCHR = 0020000, S_IFREG = 0100000,
            S_IFSOCK = 0140000;
    private static final int O_WRONLY = 1, O_NOCTTY = 0400;

    /**
     * Where a spawned task's console output goes when it has no terminal:
     * the stderr it inherited (its own fd 2, which the daemon holds as
     * {@code stderrFd}), as a Unix child's output would. The conductor must
     * never block on it, and must not set O_NONBLOCK on a file description
     * the task shares, so: a pipe, FIFO or character device is opened anew
     * through /proc/self/fd, non-blocking (its own description); a regular
     * file is written through the task's description (its offset shared, as
     * a child's writes would be; a file never says EAGAIN); a socket is sent
     * to with MSG_DONTWAIT (sets s.errIsSocket). Anything else, or a reopen
     * this daemon may not do (another user's pipe): -1, the daemon's log.
     */
    public static int stderrOutput(TaskSession s, int stderrFd) {
        if (stderrFd < 0) return -1;
        String path = "/proc/self/fd/" + stderrFd;
        int mode;
        try {
            mode = (Integer) java.nio.file.Files.getAttribute(java.nio.file.Path.of(path), "unix:mode");
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
        int type = mode & S_IFMT;
        if (type == S_IFIFO || type == S_IFCHR) {
            int fd = LibC.open(path, O_WRONLY | O_NOCTTY | LibC.O_NONBLOCK | LibC.O_CLOEXEC, 0);
            return fd >= 0 ? fd : -1;
        }
        if (type == S_IFREG || type == S_IFSOCK) {
            int fd = LibC.fcntl(stderrFd, org.dios.diosd.sys.Spawn.F_DUPFD_CLOEXEC, 10);
            s.errIsSocket = fd >= 0 && type == S_IFSOCK;
            return fd >= 0 ? fd : -1;
        }
        return -1;
    }

    private static void logLines(TaskSession s, MemorySegment bytes) {
        String text = new String(bytes.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        for (String line : text.split("\n", -1)) {
            if (line.isEmpty()) continue;
            StringBuilder b = new StringBuilder(line.length());
            for (int k = 0; k < line.length(); k++) {
                char ch = line.charAt(k);
                b.append(ch < 0x20 && ch != '\t' ? '?' : ch); // keep the log one line per line
            }
            Log.info(s + " console: " + b);
        }
    }

    /** Input ready for the task (or its end): a select on the console completes. */
    @Override
    public boolean readyFor(Reference r, TaskSession task) {
        if (!r.live || task.ttyFd < 0) return true;
        int ev = LibC.pollNow(task.ttyFd, LibC.POLLIN);
        return ev != 0;
    }

    @Override
    public int readiness() {
        return Abi.D_REF_STATE_WRITABLE;
    }

    @Override
    public boolean watchesTerminal() {
        return true;
    }

    // ---- the driver: acquire, commit, release ---------------------------------------

    @Override
    public int acquire(Call c, Reference ref, long len, boolean write) {
        TaskSession s = c.task;
        if (len < 0 || len > Abi.DIOS_CONSOLE_BUF_BYTES) return -Abi.DIOS_EINVAL;
        if (len == 0) len = Abi.DIOS_CONSOLE_BUF_BYTES;
        if (s.buffers.size() >= s.buffers.capacity()) return -Abi.DIOS_ENOMEM;
        Session cs = session(s, c.objects);
        if (cs == null) return -Abi.DIOS_ENOMEM;
        if (write) {
            if (cs.writeOut) return -Abi.DIOS_EBUSY;
            return sent(c, buffer(s, c.stats, ref, cs, true, len, c.val));
        }
        if (cs.readOut || !cs.reads.isEmpty()) return -Abi.DIOS_EBUSY;
        long n = readInput(s, len);
        if (n > 0) return sent(c, buffer(s, c.stats, ref, cs, false, n, c.val));
        if (n != -Abi.DIOS_EAGAIN) return (int) n;
        if (c.nonBlocking()) return -Abi.DIOS_EAGAIN;
        if (!c.mayPark()) return -Abi.DIOS_ENOMEM;
        cs.reads.add(c.park(ref, len));
        c.watchTerminal();
        return Call.PARKED;
    }

    /** buffer()'s answer for the call being served: a segment it sent is flagged in the completion. */
    private static int sent(Call c, int rc) {
        if (rc <= 0) return rc;
        c.cqeFlags |= Abi.D_CQE_F_SEGMENT;
        return 0;
    }

    /**
     * A buffer over the task's console output (input) memfd, [0, len), its
     * values in v. Returns 1 if its segment was sent now, 0 if the task had
     * it, or -errno.
     */
    private static int buffer(TaskSession s, Stats stats, Reference ref, Session cs, boolean write, long len, long[] v) {
        int prot = write ? Abi.D_SEG_READ | Abi.D_SEG_WRITE : Abi.D_SEG_READ;
        long seg = write ? cs.outSeg : cs.inSeg;
        int sent = s.deliver(write ? cs.outFd : cs.inRoFd, seg, Abi.DIOS_CONSOLE_BUF_BYTES, prot);
        if (sent < 0) return sent;
        long id = s.addBuffer(ref, write, len, 0, stats);
        if (id == 0) return -Abi.DIOS_ENOMEM;
        if (write) cs.writeOut = true;
        else cs.readOut = true;
        Call.bufferVals(v, id, seg, len, Abi.DIOS_CONSOLE_BUF_BYTES, prot);
        return sent;
    }

    /** commit_write writes the output buffer's bytes out (parks while the terminal cannot take them); commit_read: 0. */
    @Override
    public int commit(Call c, Buffer b, long len, boolean write) {
        if (!write) return 0;
        if (len < 0 || len > b.length) return -Abi.DIOS_EINVAL;
        TaskSession s = c.task;
        Session cs = s.console;
        if (cs.pendingWrite != null) return -Abi.DIOS_EBUSY;
        long done = writeOutput(s, 0, len);
        if (done < 0) return (int) done;
        if (done == len) return 0;
        if (c.nonBlocking() && done == 0) return -Abi.DIOS_EAGAIN;
        if (!c.mayPark()) return -Abi.DIOS_ENOMEM;
        cs.pendingWrite = c.park(b.ref, len);
        cs.pendingOff = done;
        cs.pendingEnd = len;
        c.watchTerminal();
        return Call.PARKED;
    }

    @Override
    public void released(TaskSession s, Buffer b, Completer c) {
        if (s.console == null) return;
        if (b.write) s.console.writeOut = false;
        else s.console.readOut = false;
    }

    /**
     * The task's terminal became readable or writable (or hung up): finish
     * a pending console write, serve parked console reads, and wake selects
     * on the console. Returns true while something still waits on it.
     */
    public boolean ttyEvent(TaskSession s, Stats stats, Completer c) {
        Session cs = s.console;
        long[] v = new long[org.dios.abi.CqeDescriptor.VAL_COUNT];
        if (cs != null && cs.pendingWrite != null) {
            long done = writeOutput(s, cs.pendingOff, cs.pendingEnd);
            if (done < 0 || done == cs.pendingEnd) {
                ParkedCall pc = cs.pendingWrite;
                cs.pendingWrite = null;
                c.complete(s, pc, done < 0 ? (int) done : 0, 0, v);
            } else {
                cs.pendingOff = done;
            }
        }
        while (cs != null && !cs.reads.isEmpty()) {
            ParkedCall pc = cs.reads.get(0);
            if (pc.done) {
                cs.reads.remove(0);
                continue;
            }
            if (!pc.ref.live) {
                cs.reads.remove(0);
                c.complete(s, pc, -Abi.DIOS_EBADF, 0, v);
                continue;
            }
            long n = readInput(s, pc.len);
            if (n == -Abi.DIOS_EAGAIN) break;
            cs.reads.remove(0);
            java.util.Arrays.fill(v, 0);
            int res = n > 0 ? Math.min(0, buffer(s, stats, pc.ref, cs, false, n, v)) : (int) n;
            c.complete(s, pc, res, 0, v);
        }
        wakeWaiters(c);
        boolean[] selects = {false};
        forEachLiveWaiter(w -> selects[0] |= w.call().task == s);
        return selects[0] || (cs != null && (cs.pendingWrite != null || !cs.reads.isEmpty()));
    }

    /** A timed-out call: off the task's console reads (or its pending write) too, so the next acquire is not -EBUSY. */
    @Override
    void withdraw(ParkedCall pc, Completer c) {
        Session cs = pc.task.console;
        if (cs != null) {
            cs.reads.remove(pc);
            if (cs.pendingWrite == pc) cs.pendingWrite = null;
        }
        super.withdraw(pc, c);
    }

    @Override
    protected void freeResources(Stats stats) {
        // The console lives as long as the daemon; per-task buffers go with their task.
    }
}

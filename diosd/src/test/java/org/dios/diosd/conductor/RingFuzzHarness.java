package org.dios.diosd.conductor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;

import org.dios.abi.CqeDescriptor;
import org.dios.abi.HelloMessageDescriptor;
import org.dios.abi.RegionHeaderDescriptor;
import org.dios.abi.RunArgsDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.abi.WelcomeMessageDescriptor;
import org.dios.diosd.log.Log;
import org.dios.diosd.objects.BlobObject;
import org.dios.diosd.objects.BlobStore;
import org.dios.diosd.objects.Name;
import org.dios.diosd.objects.RingSlots;
import org.dios.diosd.objects.Stats;
import org.dios.diosd.sys.LibC;
import org.dios.diosd.sys.UnixSocket;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.dios.abi.Abi.*;


/**
 * Drives a real {@link DriverConductor} in-process with hostile tasks: each
 * input is a little program (see {@link #run}) that registers two tasks over
 * real sockets, as the shim does, then writes submissions (well-formed ones
 * with wrong values, and raw bytes), the args area and the ring indices of
 * their regions, and turns the conductor's loop with {@link DriverConductor#doWork()}.
 *
 * <p>What must hold, whatever the input ({@link AssertionError} otherwise):
 * <ul>
 *   <li>the conductor never catches an exception it did not expect
 *       ({@link Stats#internalErrors} stays 0) and never throws;</li>
 *   <li>every completion has a result of 0 or -errno, and, for a task that
 *       kept its indices honest, answers exactly one call in flight and never
 *       overflows the completion ring, even when the task stops reaping;</li>
 *   <li>when both tasks are gone, every count (tasks, objects, names,
 *       references, buffers, segments) is back where it was: nothing leaks.</li>
 * </ul>
 * Not thread-safe: the conductor's sessions are confined to the thread that
 * made them, so one harness serves one thread.
 */
final class RingFuzzHarness implements AutoCloseable {
    /** Small limits, so inputs reach the "table full" paths quickly. */
    static final int MAX_REFS = 48, MAX_BUFFERS = 8;

    private static final java.lang.invoke.VarHandle INT = JAVA_INT.varHandle();
    private static final long[] LENGTHS = {0, 1, 2, 7, 8, 16, 64, 1023, 1024, 4095, 4096, 4097, 65536, 65537, 1L << 20,
        DIOS_MAX_OBJECT_SIZE, DIOS_MAX_OBJECT_SIZE + 1, DIOS_FIFO_MAX_CAPACITY, DIOS_FIFO_MAX_CAPACITY + 1,
        DIOS_CONSOLE_BUF_BYTES, DIOS_CONSOLE_BUF_BYTES + 1, DIOS_MAX_SELECT_REFS, DIOS_MAX_SELECT_REFS + 1,
        DIOS_MAX_COPY_REFS + 1, DIOS_ARGS_BYTES, DIOS_ARGS_BYTES - 8, DIOS_EXE_PATH_MAX, -1, -8, Long.MIN_VALUE,
        Long.MAX_VALUE, 0xffff_ffffL, 0x1_0000_0000L, 1L << 62};
    private static final long[] FLAGS = {0, D_NONBLOCK, D_CREATE_NAMED, D_CREATE_NAMED | D_CREATE_NAME_GIVEN, D_CREATE_NAME_GIVEN,
        D_LOOKUP_READONLY, D_DELETE_ZOMBIFY, D_RUN_SECCOMP_KILL, D_NONBLOCK | D_CREATE_NAMED, D_NONBLOCK | D_DELETE_ZOMBIFY,
        1L << 40, -1L};

    final Thread owner = Thread.currentThread();
    private final Path dir;
    private final int listenFd;
    private final BlobStore store;
    final DriverConductor conductor;
    private final Stats stats;
    private final long[] base;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment sockaddr;
    private final MemorySegment msg = arena.allocate(64, 8);
    private final MemorySegment sqe = arena.allocate(SqeDescriptor.SIZE, 8);
    private final MemorySegment one = arena.allocate(8, 8);
    private long nextUserData = 1;

    /** Totals over every input this harness ran (completions: those that answered a call in flight). */
    long inputs, entries, completions, disconnects, registrations;

    RingFuzzHarness() throws IOException {
        Log.setLevel(Log.Level.ERROR); // disconnects and refusals are the point: only internal errors print
        Path shm = Path.of("/dev/shm");
        dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "dios-ringfuzz")
                : Files.createTempDirectory("dios-ringfuzz");
        String sock = dir.resolve("d.sock").toString();
        listenFd = UnixSocket.listen(sock, LibC.SOCK_SEQPACKET, 64);
        if (listenFd < 0) throw new IOException("listen " + sock + ": " + LibC.strerror(listenFd));
        sockaddr = arena.allocate(LibC.SOCKADDR_UN_SIZE, 8);
        sockaddr.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 0, (short) LibC.AF_UNIX);
        byte[] p = sock.getBytes();
        MemorySegment.copy(p, 0, sockaddr, JAVA_BYTE, 2, p.length);
        BlobStore.compactMinEntries = 256; // the journal compacts while we fuzz, too
        Path state = Files.createDirectory(dir.resolve("state"),
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        store = BlobStore.open(state);
        DriverConductor.Config d = DriverConductor.Config.defaults();
        conductor = new DriverConductor(new DriverConductor.Config(16, MAX_REFS, MAX_BUFFERS, d.spinNanos(), d.yieldNanos(),
                d.handshakeTimeoutNanos(), 0, false, 16, d.maxTaskMemory(), 4), listenFd, -1, null);
        conductor.serveInline(store);
        stats = conductor.stats();
        base = counts();
        one.set(JAVA_LONG, 0, 1L);
    }

    private long[] counts() {
        return new long[] {stats.tasks, stats.objects, stats.names, stats.refs, stats.buffers, stats.segments};
    }

    private static final String[] COUNT_NAMES = {"tasks", "objects", "names", "references", "buffers", "segments"};

    @Override
    public void close() throws IOException {
        conductor.stopInline();
        LibC.close(listenFd);
        arena.close();
        try (var w = Files.walk(dir)) {
            w.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    // ---- the input: a byte reader that never fails (zeros once exhausted) ----

    static final class In {
        final byte[] b;
        int pos;

        In(byte[] b) {
            this.b = b;
        }

        boolean more() {
            return pos < b.length;
        }

        int u8() {
            return pos < b.length ? b[pos++] & 0xff : 0;
        }

        int u16() {
            return u8() | u8() << 8;
        }

        long u64() {
            long v = 0;
            for (int i = 0; i < 8; i++) v |= (long) u8() << (8 * i);
            return v;
        }
    }

    // ---- a task, as the fuzzer sees it -----------------------------------------------

    final class Task {
        int sock = -1, doorbell = -1;
        long addr;
        MemorySegment region;
        int tail, cqHead;
        long selfRef;
        boolean dead;
        /** False once the input moved this task's indices: its completions can no longer be checked. */
        boolean honest = true;
        boolean reaping = true;
        /** Values the daemon handed out (reference and buffer ids, segment ids), for later calls. */
        final ArrayList<Long> ids = new ArrayList<>();
        final ArrayList<byte[]> names = new ArrayList<>();
        /** user_data of calls in flight -> op code. */
        final HashMap<Long, Integer> inFlight = new HashMap<>();

        boolean register() {
            registrations++;
            sock = LibC.socket(LibC.AF_UNIX, LibC.SOCK_SEQPACKET | LibC.SOCK_CLOEXEC, 0);
            if (sock < 0) throw new AssertionError("socket: " + LibC.strerror(sock));
            int rc = LibC.connect(sock, sockaddr, LibC.SOCKADDR_UN_SIZE);
            if (rc < 0) throw new AssertionError("connect: " + LibC.strerror(rc));
            msg.fill((byte) 0);
            msg.set(JAVA_INT, HelloMessageDescriptor.MAGIC_OFFSET, DIOS_MSG_HELLO);
            msg.set(JAVA_INT, HelloMessageDescriptor.ABI_VERSION_OFFSET, (int) DIOS_ABI_VERSION);
            long n = UnixSocket.sendWithFds(sock, msg.asSlice(0, HelloMessageDescriptor.SIZE));
            if (n != HelloMessageDescriptor.SIZE) throw new AssertionError("hello: " + n);
            int[] fds = new int[2];
            boolean[] trunc = new boolean[1];
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (true) {
                conductor.doWork();
                n = UnixSocket.recvWithFds(sock, msg.asSlice(0, WelcomeMessageDescriptor.SIZE), fds, trunc);
                if (n != -LibC.EAGAIN) break;
                if (System.nanoTime() - deadline > 0) throw new AssertionError("no welcome within 10 s: the conductor stalled");
            }
            int status = msg.get(JAVA_INT, WelcomeMessageDescriptor.STATUS_OFFSET);
            if (n != WelcomeMessageDescriptor.SIZE || status != 0 || fds[0] < 0 || fds[1] < 0) {
                for (int fd : fds) LibC.close(fd);
                throw new AssertionError("registration refused: " + n + " bytes, status " + status);
            }
            doorbell = fds[1];
            addr = LibC.mmap(DIOS_REGION_SIZE, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fds[0], 0);
            LibC.close(fds[0]);
            if (addr < 0) throw new AssertionError("mmap region: " + LibC.strerror((int) addr));
            region = MemorySegment.ofAddress(addr).reinterpret(DIOS_REGION_SIZE);
            if ((int) INT.getAcquire(region, (long) RegionHeaderDescriptor.ABI_VERSION_OFFSET) != DIOS_ABI_VERSION) {
                throw new AssertionError("region not published");
            }
            selfRef = region.get(JAVA_LONG, RegionHeaderDescriptor.SELF_REF_OFFSET);
            ids.add(selfRef);
            tail = region.get(JAVA_INT, RegionHeaderDescriptor.SQ_TAIL_OFFSET);
            cqHead = region.get(JAVA_INT, RegionHeaderDescriptor.CQ_HEAD_OFFSET);
            return true;
        }

        /** The daemon dropped us (it closed its end of the socket). */
        boolean hungUp() {
            if (dead) return true;
            int ev = LibC.pollNow(sock, LibC.POLLIN | 0x2000 /* POLLRDHUP */);
            if (ev > 0 && (ev & (LibC.POLLHUP | 0x2000 | LibC.POLLERR)) != 0) {
                dead = true;
                disconnects++;
            }
            return dead;
        }

        int sqHead() {
            return (int) INT.getAcquire(region, (long) RegionHeaderDescriptor.SQ_HEAD_OFFSET);
        }

        /** Publishes the entry in {@link #sqe} (its user_data set here); false if the ring is full. */
        boolean submit(boolean raw) {
            if (dead || tail - sqHead() >= DIOS_SQ_ENTRIES) return false;
            long ud = nextUserData++;
            int op = sqe.get(JAVA_BYTE, SqeDescriptor.OPCODE_OFFSET) & 0xff;
            sqe.set(JAVA_LONG, SqeDescriptor.USER_DATA_OFFSET, ud);
            long off = RingSlots.sqeOffset(tail);
            MemorySegment.copy(sqe, 0, region, off, SqeDescriptor.SIZE);
            boolean noCqe = op == D_OP_NOTIFY && (sqe.get(JAVA_BYTE, SqeDescriptor.SQE_FLAGS_OFFSET) & 0xff) == D_SQE_NO_CQE;
            if (!noCqe) inFlight.put(ud, op);
            tail++;
            INT.setRelease(region, (long) RegionHeaderDescriptor.SQ_TAIL_OFFSET, tail);
            java.lang.invoke.VarHandle.fullFence();
            if (((int) INT.getVolatile(region, (long) RegionHeaderDescriptor.SQ_FLAGS_OFFSET) & D_SQ_NEED_WAKEUP) != 0) ring();
            entries++;
            return true;
        }

        void ring() {
            LibC.write(doorbell, one, 8);
        }

        /** Reads the completions the daemon published, checks them, and keeps what they hand out. */
        void harvest() {
            if (region == null) return;
            drainSocket();
            int cqTail = (int) INT.getAcquire(region, (long) RegionHeaderDescriptor.CQ_TAIL_OFFSET);
            int avail = cqTail - cqHead;
            if (honest && (avail < 0 || avail > DIOS_CQ_ENTRIES)) {
                throw new AssertionError("completion ring overflowed: cq_tail " + cqTail + ", cq_head " + cqHead);
            }
            if (!reaping || avail <= 0 || avail > DIOS_CQ_ENTRIES) return;
            for (int i = cqHead; i != cqTail; i++) {
                long off = RingSlots.cqeOffset(i);
                long ud = region.get(JAVA_LONG, off + CqeDescriptor.USER_DATA_OFFSET);
                int res = region.get(JAVA_INT, off + CqeDescriptor.RES_OFFSET);
                if (res > 0 || res < -4095) throw new AssertionError("completion result " + res + " is not 0 or -errno");
                Integer op = inFlight.remove(ud);
                if (op == null) {
                    if (honest) throw new AssertionError("completion for user_data " + ud + ", which is not in flight");
                    continue;
                }
                completions++;
                if (res != 0) continue;
                for (int k = 0; k < CqeDescriptor.VAL_COUNT; k++) {
                    long v = region.get(JAVA_LONG, off + CqeDescriptor.VAL_OFFSET + 8L * k);
                    if (v != 0 && (k == 0 || op == D_OP_DELEGATED || op == D_OP_ACQUIRE_READ || op == D_OP_ACQUIRE_WRITE)) keep(v);
                }
                if (op == D_OP_CREATE && region.get(JAVA_LONG, off + CqeDescriptor.VAL_OFFSET + 8) != 0) {
                    byte[] nm = new byte[32];
                    MemorySegment.copy(region, JAVA_BYTE, off + CqeDescriptor.VAL_OFFSET + 8, nm, 0, 32);
                    if (names.size() < 64) names.add(nm);
                }
            }
            cqHead = cqTail;
            INT.setRelease(region, (long) RegionHeaderDescriptor.CQ_HEAD_OFFSET, cqHead);
        }

        private void keep(long v) {
            if (ids.size() < 256) ids.add(v);
            else ids.set((int) (Long.remainderUnsigned(v, 256)), v);
        }

        /** SEGMENT messages: received and closed, as the shim maps and closes them (else the socket fills). */
        private void drainSocket() {
            int[] fds = new int[4];
            boolean[] trunc = new boolean[1];
            for (int k = 0; k < 1024; k++) {
                long n = UnixSocket.recvWithFds(sock, msg, fds, trunc);
                for (int fd : fds) if (fd >= 0) LibC.close(fd);
                if (n <= 0) return;
            }
        }

        void close() {
            if (sock >= 0) LibC.close(sock);
            if (doorbell >= 0) LibC.close(doorbell);
            if (region != null) LibC.munmap(addr, DIOS_REGION_SIZE);
            sock = doorbell = -1;
            region = null;
            dead = true;
        }
    }

    /** Turns the loop until t's submissions are consumed (or nothing moves), then harvests. */
    private void pump(Task t) {
        int last = t.sqHead(), idle = 0;
        for (int i = 0; i < 10_000 && idle < 8; i++) {
            conductor.doWork();
            checkHealthy();
            t.harvest();
            if (t.hungUp()) return;
            int h = t.sqHead();
            if (h == t.tail) return;
            if (h == last) {
                idle++;
                if (i % 4 == 3) t.ring(); // a dormant task needs its doorbell
            } else {
                idle = 0;
                last = h;
            }
        }
    }

    private void checkHealthy() {
        if (stats.internalErrors != 0) {
            throw new AssertionError("the conductor caught " + stats.internalErrors + " internal error(s); see the log above");
        }
    }

    // ---- one input ----------------------------------------------------------------------

    /**
     * Runs one input. Op bytes (each followed by its operands, read from the
     * input; a missing byte reads as 0):
     * <pre>
     *   0-4  a call built field by field: op code, flags, type, reference, length, buffer, ref2, name
     *   5    a raw submission: 128 bytes of the input
     *   6    the args area: reference ids or raw bytes at an offset
     *   7    a dios_run spec in the args area
     *   8    the region header: sq_tail, cq_head or another word moved or overwritten
     *   9    stop / start reaping completions
     *   10   a doorbell storm
     *   11   a batch: several calls published at once, then the loop turns
     *   12   garbage on the control socket (it waits there until an executable CREATE drops it)
     *   13   the other task's turn (swap)
     * </pre>
     */
    void run(byte[] data) {
        if (Thread.currentThread() != owner) throw new IllegalStateException("one harness per thread");
        inputs++;
        In in = new In(data);
        Task[] t = {new Task(), new Task()};
        try {
            t[0].register();
            t[1].register();
            int cur = 0, ops = 0;
            while (in.more() && ops++ < 400) {
                Task me = t[cur], other = t[cur ^ 1];
                if (me.dead) {
                    if (!other.dead) {
                        cur ^= 1;
                        continue;
                    }
                    break;
                }
                int k = in.u8() % 14;
                switch (k) {
                    case 0, 1, 2, 3, 4 -> {
                        buildCall(in, me, other);
                        me.submit(false);
                        pump(me);
                    }
                    case 5 -> {
                        for (int i = 0; i < SqeDescriptor.SIZE; i++) sqe.set(JAVA_BYTE, i, (byte) in.u8());
                        me.submit(true);
                        pump(me);
                    }
                    case 6 -> writeArgs(in, me, other);
                    case 7 -> writeRunSpec(in, me, other);
                    case 8 -> corruptHeader(in, me);
                    case 9 -> me.reaping = !me.reaping;
                    case 10 -> {
                        int n = 1 + in.u8() % 32;
                        for (int i = 0; i < n; i++) {
                            me.ring();
                            conductor.doWork();
                        }
                        checkHealthy();
                        me.harvest();
                        me.hungUp();
                    }
                    case 11 -> {
                        int n = 1 + in.u8() % DIOS_SQ_ENTRIES;
                        for (int i = 0; i < n && in.more(); i++) {
                            buildCall(in, me, other);
                            if (!me.submit(false)) break;
                        }
                        pump(me);
                    }
                    case 12 -> {
                        int n = 1 + in.u8() % 32;
                        MemorySegment g = msg.asSlice(0, Math.min(n, 64));
                        for (int i = 0; i < g.byteSize(); i++) g.set(JAVA_BYTE, i, (byte) in.u8());
                        UnixSocket.sendWithFds(me.sock, g);
                        pump(me);
                    }
                    default -> cur ^= 1;
                }
            }
        } finally {
            finish(t);
        }
    }

    private static long pick(In in, long[] table) {
        int m = in.u8();
        if (m < 0xe0) return table[m % table.length];
        return m < 0xf0 ? in.u8() : in.u64();
    }

    private long pickRef(In in, Task me, Task other) {
        int m = in.u8() % 10;
        return switch (m) {
            case 0 -> 0;
            case 1, 2, 3 -> me.ids.isEmpty() ? 0 : me.ids.get(in.u8() % me.ids.size());
            case 4 -> other.ids.isEmpty() ? 0 : other.ids.get(in.u8() % other.ids.size()); // a foreign value
            case 5 -> me.ids.isEmpty() ? 0 : me.ids.get(in.u8() % me.ids.size()) ^ (1L << (in.u8() % 64));
            case 6 -> in.u64();
            case 7 -> me.ids.isEmpty() ? 0 : me.ids.get(in.u8() % me.ids.size()) + (1L << 20); // a later generation
            case 8 -> me.selfRef;
            default -> in.u8();
        };
    }

    private void buildCall(In in, Task me, Task other) {
        sqe.fill((byte) 0);
        int o = in.u8();
        int op = o < 0xf0 ? o % (D_OP_LAST + 1) : o;
        sqe.set(JAVA_BYTE, SqeDescriptor.OPCODE_OFFSET, (byte) op);
        int f = in.u8();
        int sqeFlags = switch (f % 8) {
            case 0, 1, 2 -> 0;
            case 3 -> D_SQE_ARG;
            case 4 -> D_SQE_NO_CQE;
            case 5 -> D_SQE_ARGS;
            case 6 -> D_SQE_ARG | D_SQE_NO_CQE;
            default -> f;
        };
        sqe.set(JAVA_BYTE, SqeDescriptor.SQE_FLAGS_OFFSET, (byte) sqeFlags);
        int ty = in.u8();
        sqe.set(JAVA_INT, SqeDescriptor.OBJ_TYPE_OFFSET, ty < 0xf0 ? ty % (D_OBJ_LAST + 1) : ty << 20);
        sqe.set(JAVA_LONG, SqeDescriptor.FLAGS_OFFSET, pick(in, FLAGS));
        sqe.set(JAVA_LONG, SqeDescriptor.REF_OFFSET, pickRef(in, me, other));
        sqe.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, pick(in, LENGTHS));
        int b = in.u8() % 4;
        long buf = switch (b) {
            case 0 -> 8L * in.u8();                  // an args-area offset
            case 1 -> pickRef(in, me, other);         // a buffer id is a handle, like a reference
            case 2 -> pick(in, LENGTHS);
            default -> 0;
        };
        sqe.set(JAVA_LONG, SqeDescriptor.BUF_OFFSET, buf);
        sqe.set(JAVA_LONG, SqeDescriptor.REF2_OFFSET, in.u8() % 3 == 0 ? pickRef(in, me, other) : 0);
        int nm = in.u8() % 6;
        if (nm == 1 && !me.names.isEmpty()) {
            MemorySegment.copy(me.names.get(in.u8() % me.names.size()), 0, sqe, JAVA_BYTE, SqeDescriptor.NAME_OFFSET, 32);
        } else if (nm == 2 && !other.names.isEmpty()) {
            MemorySegment.copy(other.names.get(in.u8() % other.names.size()), 0, sqe, JAVA_BYTE, SqeDescriptor.NAME_OFFSET, 32);
        } else if (nm == 3) {
            Name.fromString(DIOS_CONSOLE_NAME_STRING).write(sqe, SqeDescriptor.NAME_OFFSET);
        } else if (nm == 4) {
            Name.fromString("fuzz-" + in.u8() % 8).write(sqe, SqeDescriptor.NAME_OFFSET);
        }
        int noise = in.u8();
        if (noise >= 0xf8) { // a non-zero reserved field
            int where = noise & 7;
            long off = where < 2 ? SqeDescriptor.RSVD0_OFFSET : where < 4 ? SqeDescriptor.TIMEOUT_NS_OFFSET
                    : SqeDescriptor.RSVD3_OFFSET + 8L * (where - 4);
            sqe.set(JAVA_BYTE, off, (byte) (1 + in.u8() % 255));
        }
    }

    private void writeArgs(In in, Task me, Task other) {
        if (me.region == null) return;
        long off = (8L * in.u16()) % DIOS_ARGS_BYTES;
        int n = in.u8() % 24;
        boolean raw = (n & 1) != 0;
        for (int i = 0; i < n; i++) {
            long at = DIOS_REGION_ARGS_OFFSET + off + 8L * i;
            if (at + 8 > DIOS_REGION_SIZE) break;
            me.region.set(JAVA_LONG, at, raw ? in.u64() : pickRef(in, me, other));
        }
        if (in.u8() % 4 == 0) { // and an absolute path for an executable create
            byte[] p = (in.u8() % 2 == 0 ? "/bin/sh" : "/proc/self/exe").getBytes();
            long at = DIOS_REGION_ARGS_OFFSET + (8L * in.u8()) % (DIOS_ARGS_BYTES - 64);
            MemorySegment.copy(p, 0, me.region, JAVA_BYTE, at, p.length);
        }
    }

    private void writeRunSpec(In in, Task me, Task other) {
        if (me.region == null) return;
        long base = DIOS_REGION_ARGS_OFFSET + (8L * in.u8()) % 4096;
        int argc = in.u8() % 4, nrefs = in.u8() % 4, ngroups = in.u8() % 3;
        byte[] argv = new byte[in.u8() % 24];
        for (int i = 0; i < argv.length; i++) argv[i] = (byte) (in.u8() % 3 == 0 ? 0 : 'a' + i % 26);
        me.region.set(JAVA_INT, base + RunArgsDescriptor.ARGC_OFFSET, in.u8() >= 0xf0 ? in.u16() << 8 : argc);
        me.region.set(JAVA_INT, base + RunArgsDescriptor.REF_COUNT_OFFSET, in.u8() >= 0xf0 ? -1 : nrefs);
        me.region.set(JAVA_INT, base + RunArgsDescriptor.GROUP_COUNT_OFFSET, ngroups);
        me.region.set(JAVA_INT, base + RunArgsDescriptor.ARGV_BYTES_OFFSET, in.u8() >= 0xf0 ? in.u16() : argv.length);
        long p = base + RunArgsDescriptor.SIZE;
        for (int i = 0; i < nrefs + ngroups; i++, p += 8) me.region.set(JAVA_LONG, p, pickRef(in, me, other));
        MemorySegment.copy(argv, 0, me.region, JAVA_BYTE, p, argv.length);
    }

    private void corruptHeader(In in, Task me) {
        if (me.region == null) return;
        int w = in.u8() % 8;
        switch (w) {
            case 0, 1 -> { // sq_tail moved: backwards, a little ahead (stale entries), past the end, anywhere
                int d = (byte) in.u8();
                int v = w == 0 ? me.tail + d : (int) in.u64();
                INT.setRelease(me.region, (long) RegionHeaderDescriptor.SQ_TAIL_OFFSET, v);
                me.honest = false;
                me.tail = v;
                me.ring();
                pump(me);
            }
            case 2, 3 -> { // cq_head moved
                int d = (byte) in.u8();
                int v = w == 2 ? me.cqHead + d : (int) in.u64();
                INT.setRelease(me.region, (long) RegionHeaderDescriptor.CQ_HEAD_OFFSET, v);
                me.honest = false;
                me.cqHead = v;
                pump(me);
            }
            default -> { // the daemon's own words and the info block: it must not care
                long[] offs = {RegionHeaderDescriptor.SQ_HEAD_OFFSET, RegionHeaderDescriptor.SQ_FLAGS_OFFSET,
                    RegionHeaderDescriptor.CQ_TAIL_OFFSET, RegionHeaderDescriptor.CQ_WAITERS_OFFSET,
                    RegionHeaderDescriptor.DAEMON_STATE_OFFSET, RegionHeaderDescriptor.MAGIC_OFFSET,
                    RegionHeaderDescriptor.SELF_REF_OFFSET, RegionHeaderDescriptor.SQ_ENTRIES_OFFSET};
                long off = offs[in.u8() % offs.length];
                me.region.set(JAVA_INT, off, (int) in.u64());
                if (off == RegionHeaderDescriptor.CQ_TAIL_OFFSET) me.honest = false; // we read it back ourselves
                pump(me);
            }
        }
    }

    /** Both tasks hang up; the daemon must come back to where it was. */
    private void finish(Task[] t) {
        for (Task x : t) x.close();
        long deadline = System.nanoTime() + 10_000_000_000L;
        // ... and the durable-blob work they left on the sync thread (a named create undone, a zombify) is finished
        while (stats.tasks != base[0] || store.syncsInFlight() > 0) {
            conductor.doWork();
            checkHealthy();
            if (System.nanoTime() - deadline > 0) throw new AssertionError("tasks did not go within 10 s: " + stats.tasks);
        }
        conductor.doWork();
        checkHealthy();
        // Durable blobs outlive their tasks by design: remove them as `dios_delete(D_DELETE_ZOMBIFY)` would.
        List<BlobObject> durable = new ArrayList<>();
        conductor.objects().forEachOfType(D_OBJ_BLOB, o -> {
            if (o instanceof BlobObject b && b.durable() && !b.isZombie()) durable.add(b);
        });
        for (BlobObject b : durable) {
            int rc = b.store.journalDelete(b);
            if (rc != 0) throw new AssertionError("journal delete of " + b + ": " + rc);
            conductor.objects().zombify(b);
        }
        long[] now = counts();
        for (int i = 0; i < now.length; i++) {
            if (now[i] != base[i]) {
                throw new AssertionError("leak: " + COUNT_NAMES[i] + " " + now[i] + " after both tasks left, " + base[i]
                        + " before (counts " + java.util.Arrays.toString(now) + " vs " + java.util.Arrays.toString(base) + ")");
            }
        }
    }
}

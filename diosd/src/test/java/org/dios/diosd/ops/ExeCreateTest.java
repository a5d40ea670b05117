package org.dios.diosd.ops;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.dios.abi.CqeDescriptor;
import org.dios.abi.ExeFdMessageDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.objects.ExeObject;
import org.dios.diosd.objects.ObjectManager;
import org.dios.diosd.objects.RingSlots;
import org.dios.diosd.objects.Stats;
import org.dios.diosd.objects.SyntheticTasks;
import org.dios.diosd.objects.TaskSession;
import org.dios.diosd.sys.LibC;
import org.dios.diosd.sys.Spawn;
import org.dios.diosd.sys.UnixSocket;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.dios.abi.Abi.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * CREATE D_OBJ_EXE (issue 18.1, 18.4, 18.9): the file comes as an fd the
 * task sent on its control socket (DIOS_MSG_EXE_FD) just before the entry;
 * the dispatcher takes exactly one message per entry, keeps the fd per user,
 * and never resolves the path (a path nothing exists at is only hashed).
 */
class ExeCreateTest {
    private static final long SQE = RingSlots.sqeOffset(0);

    private final Stats stats = new Stats();
    private final ObjectManager om = new ObjectManager(stats);
    private final CallDispatcher d = SyntheticTasks.dispatcher(om, stats);
    private final SyntheticTasks tasks = new SyntheticTasks();
    private final Arena arena = Arena.ofConfined();
    /** Per session: [0] the task's end, [1] the daemon's (non-blocking). */
    private final int[] pa = new int[2], pb = new int[2];
    private final TaskSession a, b;

    ExeCreateTest() {
        assertEquals(0, Spawn.socketpair(LibC.AF_UNIX, LibC.SOCK_SEQPACKET | LibC.SOCK_CLOEXEC, pa));
        assertEquals(0, Spawn.socketpair(LibC.AF_UNIX, LibC.SOCK_SEQPACKET | LibC.SOCK_CLOEXEC, pb));
        LibC.fcntl(pa[1], LibC.F_SETFL, LibC.O_NONBLOCK);
        LibC.fcntl(pb[1], LibC.F_SETFL, LibC.O_NONBLOCK);
        a = tasks.session(1, 4096, 1000, pa[1]);
        b = tasks.session(2, 4096, 1001, pb[1]);
    }

    @AfterEach
    void close() {
        tasks.close();
        for (int fd : new int[] {pa[0], pa[1], pb[0], pb[1]}) LibC.close(fd);
        arena.close();
    }

    /** The task side: a struct dios_msg_exe_fd with magic, for the entry of userData, and the fds (none: no SCM_RIGHTS). */
    private void sendFor(long userData, int taskEnd, int magic, int... fds) {
        MemorySegment m = arena.allocate(ExeFdMessageDescriptor.SIZE, 8);
        m.set(JAVA_INT, ExeFdMessageDescriptor.MAGIC_OFFSET, magic);
        m.set(JAVA_LONG, ExeFdMessageDescriptor.USER_DATA_OFFSET, userData);
        assertEquals(ExeFdMessageDescriptor.SIZE, UnixSocket.sendWithFds(taskEnd, m, fds));
    }

    /** The message of the entry create() makes (user_data 1). */
    private void send(int taskEnd, int magic, int... fds) {
        sendFor(1, taskEnd, magic, fds);
    }

    /** CREATE D_OBJ_EXE of path with sqeFlags: res, and the reference in *ref. */
    private int create(TaskSession s, String path, int sqeFlags, long[] ref) {
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(p, 0, s.region, JAVA_BYTE, DIOS_REGION_ARGS_OFFSET, p.length);
        MemorySegment e = SyntheticTasks.firstSqe(s, D_OP_CREATE, 1);
        e.set(JAVA_INT, SqeDescriptor.OBJ_TYPE_OFFSET, D_OBJ_EXE);
        e.set(JAVA_BYTE, SqeDescriptor.SQE_FLAGS_OFFSET, (byte) sqeFlags);
        e.set(JAVA_LONG, SqeDescriptor.LEN_OFFSET, p.length);
        long cqe = SyntheticTasks.nextCqeOffset(s);
        assertNotEquals(CallDispatcher.PARKED, d.execute(s, SQE));
        if (ref != null) ref[0] = s.region.get(JAVA_LONG, cqe + CqeDescriptor.VAL_OFFSET);
        return s.region.get(JAVA_INT, cqe + CqeDescriptor.RES_OFFSET);
    }

    private ExeObject exe(TaskSession s, long ref) {
        return s.refs.get(ref).object.asExecutable();
    }

    /** An fd of a file (the test's own, any will do: the dispatcher never looks at it). */
    private static int someFile() {
        int fd = LibC.open("/proc/self/exe", LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
        assertTrue(fd >= 0);
        return fd;
    }

    @Test
    void theFileComesFromTheTaskAndThePathIsOnlyHashed() {
        int f = someFile();
        send(pa[0], DIOS_MSG_EXE_FD, f);
        long[] ref = new long[1];
        // Nothing exists at this path, and the call succeeds: the daemon resolves nothing.
        assertEquals(0, create(a, "/nonexistent/d/../d/../prog", D_SQE_ARGS | D_SQE_FD, ref));
        ExeObject e = exe(a, ref[0]);
        assertEquals("/nonexistent/d/../d/../prog", e.path);
        assertTrue(e.fileFor(1000) >= 0, "the fd is kept for the task's user");
        assertEquals(-1, e.fileFor(1001), "and for no other user");
        LibC.close(f);
    }

    @Test
    void eachUserKeepsItsOwnFile() {
        int f = someFile();
        send(pa[0], DIOS_MSG_EXE_FD, f);
        send(pb[0], DIOS_MSG_EXE_FD, f);
        long[] ra = new long[1], rb = new long[1];
        assertEquals(0, create(a, "/x/prog", D_SQE_ARGS | D_SQE_FD, ra));
        assertEquals(0, create(b, "/x/prog", D_SQE_ARGS | D_SQE_FD, rb));
        ExeObject e = exe(a, ra[0]);
        assertSame(e, exe(b, rb[0]), "one object per name");
        int fa = e.fileFor(1000), fb = e.fileFor(1001);
        assertTrue(fa >= 0 && fb >= 0 && fa != fb);
        // a second create of the same user replaces that user's file only
        send(pa[0], DIOS_MSG_EXE_FD, f);
        assertEquals(0, create(a, "/x/prog", D_SQE_ARGS | D_SQE_FD, ra));
        assertEquals(fb, e.fileFor(1001));
        assertTrue(e.fileFor(1000) >= 0);
        LibC.close(f);
    }

    @Test
    void anEntryWithoutItsMessageIsRefusedAndTheNextStillPairs() {
        assertEquals(-DIOS_EINVAL, create(a, "/x/prog", D_SQE_ARGS, null), "no D_SQE_FD: an older shim");
        assertEquals(-DIOS_EINVAL, create(a, "/x/prog", D_SQE_ARGS | D_SQE_FD, null), "no message waiting");
        int f = someFile();
        send(pa[0], 0x12345678, f);                        // another message, with an fd
        assertEquals(-DIOS_EINVAL, create(a, "/x/prog", D_SQE_ARGS | D_SQE_FD, null));
        send(pa[0], DIOS_MSG_EXE_FD);                      // the magic without an fd
        assertEquals(-DIOS_EINVAL, create(a, "/x/prog", D_SQE_ARGS | D_SQE_FD, null));
        send(pa[0], DIOS_MSG_EXE_FD, f, f);                // two fds
        assertEquals(-DIOS_EINVAL, create(a, "/x/prog", D_SQE_ARGS | D_SQE_FD, null));
        send(pa[0], DIOS_MSG_EXE_FD, f);                   // a bad entry still takes its message ...
        assertEquals(-DIOS_EINVAL, create(a, "relative", D_SQE_ARGS | D_SQE_FD, null));
        sendFor(77, pa[0], DIOS_MSG_EXE_FD, f);               // ... and one whose entry never came
        send(pa[0], DIOS_MSG_EXE_FD, f);                   // is dropped: the next finds its own
        long[] ref = new long[1];
        assertEquals(0, create(a, "/x/prog", D_SQE_ARGS | D_SQE_FD, ref));
        assertTrue(exe(a, ref[0]).fileFor(1000) >= 0);
        assertEquals(-DIOS_EINVAL, create(a, "/x/prog", D_SQE_ARGS | D_SQE_FD, null), "nothing left over");
        LibC.close(f);
    }

    @Test
    void aSessionWithoutASocketCannotCreateOne() {
        TaskSession none = tasks.session(3);
        assertEquals(-DIOS_EINVAL, create(none, "/x/prog", D_SQE_ARGS | D_SQE_FD, null));
    }
}

package org.dios.diosd.objects;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;

import org.dios.abi.Abi;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.ops.CallDispatcher;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;


/**
 * Task sessions over private native regions, with no socket, process or
 * conductor: the call path driven directly, as the unit tests and the JMH
 * benchmarks (perf-jmh) do. The one public way to make a {@link TaskSession}
 * and reach its region outside this package; the daemon never uses it.
 *
 * <p>Each region lives in a confined arena: use a session from the thread
 * that made it (as the conductor does), and close this to free them all.
 */
public final class SyntheticTasks implements AutoCloseable {
    private final ArrayList<Arena> arenas = new ArrayList<>();

    /** A session with room for 4096 references and 1024 buffers (the daemon's defaults). */
    public TaskSession session(long taskId) {
        return session(taskId, 4096);
    }

    public TaskSession session(long taskId, int maxRefs) {
        return session(taskId, maxRefs, 1000);
    }

    /** A session of user uid (in no group: {@link ObjectManager#joinUserGroup} does what registration does). */
    public TaskSession session(long taskId, int maxRefs, int uid) {
        return session(taskId, maxRefs, uid, -1);
    }

    /**
     * A session of user uid whose control socket is sock (the daemon's end,
     * non-blocking; -1: none), for calls that read it (an executable's fd).
     * The caller closes the socket.
     */
    public TaskSession session(long taskId, int maxRefs, int uid, int sock) {
        Arena arena = Arena.ofConfined();
        arenas.add(arena);
        MemorySegment region = arena.allocate(Abi.DIOS_REGION_SIZE, 4096);
        return new TaskSession(taskId, (int) taskId, 1, 1000 + (int) taskId, uid, uid, sock, -1, -1, arena, region,
                maxRefs, 1024, 0x100 + taskId, "/test");
    }

    /** A dispatcher with the default limits that starts no tasks (dios_run: -ENOSYS) and watches no terminal. */
    public static CallDispatcher dispatcher(ObjectManager objects, Stats stats) {
        return dispatcher(objects, stats, Limits.defaults());
    }

    /** The same with other limits. */
    public static CallDispatcher dispatcher(ObjectManager objects, Stats stats, Limits limits) {
        return new CallDispatcher(objects, stats, limits, (p, u, e, a, v, r, g, k) -> -Abi.DIOS_ENOSYS, s -> { });
    }

    /** The task's region: header, submission ring, completion ring. */
    public static MemorySegment region(TaskSession s) {
        return s.region;
    }

    /** A zeroed SQE for op, with userData, in s's first SQ slot (where dispatcher tests execute calls). */
    public static MemorySegment firstSqe(TaskSession s, int op, long userData) {
        MemorySegment e = s.region.asSlice(RingSlots.sqeOffset(0), SqeDescriptor.SIZE);
        e.fill((byte) 0);
        e.set(JAVA_BYTE, SqeDescriptor.OPCODE_OFFSET, (byte) op);
        e.set(JAVA_LONG, SqeDescriptor.USER_DATA_OFFSET, userData);
        return e;
    }

    /** Offset in the region of the completion the next call will write. */
    public static long nextCqeOffset(TaskSession s) {
        return RingSlots.cqeOffset(s.cqTail);
    }

    @Override
    public void close() {
        arenas.forEach(Arena::close);
        arenas.clear();
    }

    /**
     * Turns the conductor's loop for store until task s has no call parked
     * (a named blob's CREATE or a durable zombify waits on the sync thread).
     * Bounded: fails after 10 s.
     */
    public static void finishDurable(BlobStore store, Completer c, TaskSession s) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (!s.parked.isEmpty()) {
            store.finishSyncs(c);
            if (s.parked.isEmpty()) break;
            if (System.nanoTime() - end > 0) throw new AssertionError("the sync thread finished nothing in 10 s");
            Thread.sleep(1);
        }
    }
}

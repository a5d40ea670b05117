package org.dios.diosd.conductor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.function.BooleanSupplier;

import org.dios.abi.Abi;
import org.dios.abi.CqeDescriptor;
import org.dios.abi.RegionHeaderDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.log.Log;
import org.dios.diosd.objects.Name;
import org.dios.diosd.objects.RingSlots;
import org.dios.diosd.objects.TaskSession;
import org.dios.diosd.ops.CallStats;
import org.dios.diosd.sys.Epoll;
import org.dios.diosd.sys.LibC;
import org.dios.diosd.tasks.TaskRegistry;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Pre-touches the hot paths before the first task arrives: a synthetic
 * task (a private region and a real doorbell eventfd, no process) goes
 * dormant, rings, is woken through epoll, and has NOP, named CREATE,
 * REF_INFO, LOOKUP and DELETE entries drained from its ring, through the same code as a
 * real task. Without it the first ~100k calls and every wake-up from idle
 * run in the interpreter (a wake-up path that runs once per idle period
 * never gets hot by itself).
 */
final class WarmUp {
    /**
     * The warm-up's time limit. 20,000 cycles take about 0.6 s on an idle
     * 2-core VM, but 5-10 s when other work shares the cores, and tasks wait
     * in the backlog meanwhile: a shim gives up on its welcome after 10 s
     * (-ENOTCONN). The JIT finishes the job under real calls instead.
     */
    static final long MAX_NANOS = 2_000_000_000L;

    private final int cycles;
    private final TaskRegistry registry;
    private final Epoll epoll;
    private final List<TaskSession> active;
    private final CallStats perCall;
    /** The loop's epoll_wait(0) and event handling: the doorbell wakes the task as a real one's does. */
    private final Runnable pollEvents;
    /** False once the daemon is stopping: the warm-up ends early. */
    private final BooleanSupplier running;

    WarmUp(int cycles, TaskRegistry registry, Epoll epoll, List<TaskSession> active, CallStats perCall,
           Runnable pollEvents, BooleanSupplier running) {
        this.cycles = cycles;
        this.registry = registry;
        this.epoll = epoll;
        this.active = active;
        this.perCall = perCall;
        this.pollEvents = pollEvents;
        this.running = running;
    }

    /** Runs the warm-up (at most {@link #MAX_NANOS}), says so, and forgets its calls. */
    void run() {
        long t0 = System.nanoTime();
        int done = run(cycles, t0 + MAX_NANOS);
        perCall.reset(); // the warm-up's calls were nobody's
        // A daemon stopping meanwhile (a failed start, SIGTERM) cut it short: nothing to report.
        if (done > 0 && running.getAsBoolean()) {
            Log.info("warmed up the call and wake-up paths: " + done + " cycles in "
                    + (System.nanoTime() - t0) / 1_000_000 + " ms"
                    + (done < cycles ? " (stopped at the " + MAX_NANOS / 1_000_000_000
                            + " s limit)" : ""));
        }
    }

    /** Returns the cycles run. */
    private int run(int cycles, long deadline) {
        if (cycles <= 0) return 0;
        int doorbell = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
        if (doorbell < 0) return 0;
        Arena warmArena = Arena.ofConfined();
        MemorySegment region = warmArena.allocate(Abi.DIOS_REGION_SIZE, 4096);
        TaskSession s = registry.synthetic(doorbell, warmArena, region);
        if (epoll.add(doorbell, LibC.EPOLLIN, TaskRegistry.sessionData(TaskRegistry.K_DOORBELL, s)) < 0) {
            registry.disconnect(s, "warm-up");
            return 0;
        }
        MemorySegment one = warmArena.allocate(JAVA_LONG);
        one.set(JAVA_LONG, 0, 1L);
        int done = 0;
        long lastRef = 0, lastLookupRef = 0;
        Name lastName = null;
        for (; done < cycles && running.getAsBoolean() && System.nanoTime() - deadline < 0; done++) {
            // the client side: fill a batch, publish, ring (the daemon asked for wake-ups).
            // Each cycle creates a named object, looks up the previous cycle's by name,
            // and releases references of earlier cycles, so every path runs and nothing piles up.
            int tail = s.sqHead;
            int cqBase = s.cqTail;
            for (int k = 0; k < 8; k++) {
                long off = RingSlots.sqeOffset(tail);
                region.asSlice(off, SqeDescriptor.SIZE).fill((byte) 0);
                int op = switch (k) {
                    case 1 -> Abi.D_OP_CREATE;
                    case 2 -> Abi.D_OP_REF_INFO;
                    case 3 -> Abi.D_OP_LOOKUP;
                    case 4, 5 -> Abi.D_OP_DELETE;
                    default -> Abi.D_OP_NOP;
                };
                region.set(JAVA_BYTE, off + SqeDescriptor.OPCODE_OFFSET, (byte) op);
                switch (k) {
                    case 1 -> {
                        region.set(JAVA_BYTE, off + SqeDescriptor.SQE_FLAGS_OFFSET, (byte) Abi.D_SQE_ARG);
                        region.set(JAVA_INT, off + SqeDescriptor.OBJ_TYPE_OFFSET, Abi.D_OBJ_SHMEM);
                        region.set(JAVA_LONG, off + SqeDescriptor.FLAGS_OFFSET, Abi.D_CREATE_NAMED);
                        region.set(JAVA_LONG, off + SqeDescriptor.LEN_OFFSET, 4096L);
                    }
                    case 2, 4 -> region.set(JAVA_LONG, off + SqeDescriptor.REF_OFFSET, lastRef);       // 0 at first: -EBADF
                    case 3 -> {
                        region.set(JAVA_LONG, off + SqeDescriptor.LEN_OFFSET, 1L);
                        if (lastName != null) lastName.write(region, off + SqeDescriptor.NAME_OFFSET); // else the zero name: -ENOENT
                    }
                    case 5 -> region.set(JAVA_LONG, off + SqeDescriptor.REF_OFFSET, lastLookupRef);
                    default -> { }
                }
                tail++;
            }
            TaskSession.INT.setRelease(region, (long) RegionHeaderDescriptor.SQ_TAIL_OFFSET, tail);
            LibC.write(doorbell, one, 8);
            if (s.active) {
                active.remove(s);
                s.active = false;
            }
            pollEvents.run();
            long createCqe = RingSlots.cqeOffset(cqBase + 1);
            long lookupCqe = RingSlots.cqeOffset(cqBase + 3);
            lastRef = region.get(JAVA_LONG, createCqe + CqeDescriptor.VAL_OFFSET);
            lastName = Name.read(region, createCqe + CqeDescriptor.VAL_OFFSET + 8); // val[1..4]
            lastLookupRef = region.get(JAVA_LONG, lookupCqe + CqeDescriptor.VAL_OFFSET);
            // the client reaps everything
            TaskSession.INT.setRelease(region, (long) RegionHeaderDescriptor.CQ_HEAD_OFFSET, s.cqTail);
            s.requestWakeup();
        }
        epoll.remove(doorbell);
        registry.disconnect(s, "warm-up done");
        return done;
    }
}

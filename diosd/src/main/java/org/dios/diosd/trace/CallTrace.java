package org.dios.diosd.trace;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import org.dios.abi.Abi;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.log.Log;
import org.dios.diosd.objects.CallObserver;
import org.dios.diosd.objects.DObject;
import org.dios.diosd.objects.Name;
import org.dios.diosd.objects.ParkedCall;
import org.dios.diosd.objects.Reference;
import org.dios.diosd.objects.TaskSession;
import org.dios.diosd.ops.CallDispatcher;
import org.dios.diosd.ops.CallHook;
import org.dios.diosd.ops.CallStats;
import org.dios.diosd.ops.Op;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The conductor's side of {@code dios trace}: while at least one admin client
 * traces, the drain loop ({@code conductor.RingDrain}) runs each call through this
 * hook, and every call is timed and appended to the {@link Tracer}'s queue.
 * While nobody traces, the call path reads {@link #on} once per drain and
 * nothing else: no clock, no allocation, no queue.
 *
 * <p>Conductor thread only, like everything it touches.
 */
public final class CallTrace implements CallHook, CallObserver {
    /** Read by the drain loop once per drain: true while some client traces. */
    public boolean on;

    private final CallDispatcher dispatcher;
    private final CallStats perCall;
    /** --metrics: a traced call's time goes to the histograms too. */
    private final boolean timeCalls;
    /** null: this daemon has no state directory (tests), so it cannot trace. */
    private final Tracer tracer;
    private int clients;
    private int nextClient = 1;
    /** Called when the trace fails (a full disk): the admin endpoint drops the tracing clients. */
    public Runnable onFailure = () -> { };

    public CallTrace(CallDispatcher dispatcher, CallStats perCall, Path dir, boolean timeCalls) {
        this.dispatcher = dispatcher;
        this.perCall = perCall;
        this.timeCalls = timeCalls;
        this.tracer = dir == null ? null : new Tracer(dir);
    }

    /**
     * Removes a trace a daemon killed while someone traced left behind: nobody
     * reads it now. Called once the state directory's lock is held (so it is
     * never another live daemon's) and on the conductor thread (so never
     * while this daemon's own trace is open: a client may ask during the warm-up).
     */
    public void removeStale() {
        if (tracer == null || tracer.isOpen() || !java.nio.file.Files.exists(tracer.directory())) return;
        try {
            Tracer.removeDirectory(tracer.directory());
            Log.info("trace: removed the trace a previous daemon left in " + tracer.directory());
        } catch (IOException e) {
            Log.warn("trace: cannot remove the old trace in " + tracer.directory() + ": " + e.getMessage());
        }
    }

    public boolean available() {
        return tracer != null;
    }

    public Path directory() {
        return tracer == null ? null : tracer.directory();
    }

    int clients() {
        return clients;
    }

    /** For the status answer: "off", or "on (N clients)". */
    public String state() {
        return clients == 0 ? "off" : "on (" + clients + (clients == 1 ? " client)" : " clients)");
    }

    /**
     * A client starts tracing: opens the queue if it is the first, writes its
     * START entry and returns that entry's index (where its reader begins).
     */
    public long join() throws IOException {
        if (tracer == null) throw new IOException("this daemon has no state directory to write a trace to");
        boolean first = !tracer.isOpen();
        if (first) {
            long t0 = System.nanoTime();
            tracer.open();
            Log.info("trace: on; queue " + tracer.directory() + " (opened in " + (System.nanoTime() - t0) / 1000 + " µs)");
        }
        long index;
        try {
            index = tracer.start(nextClient);
        } catch (IOException e) {
            if (first) tracer.close();
            throw e;
        }
        nextClient++;
        clients++;
        on = true;
        return index;
    }

    /** A tracing client went; the last one turns tracing off and removes the queue. */
    public void leave() {
        if (clients == 0) return;
        if (--clients > 0) return;
        on = false;
        long n = tracer.written(), d = tracer.droppedTotal();
        tracer.close();
        Log.info("trace: off (" + n + " entries written" + (d > 0 ? ", " + d + " calls dropped over the budget" : "") + ")");
    }

    /** Shutdown: the queue closes and goes. */
    public void close() {
        on = false;
        clients = 0;
        if (tracer != null && tracer.isOpen()) tracer.close();
    }

    // What before() read of the call about to run, for after().
    private int op;
    private long flags, refId, len, t0;
    private Reference used;
    /** The name the call carries (create with a given name, lookup), or null. */
    private Name carried;

    /**
     * Each call of a traced drain is timed with two clock reads around the
     * dispatcher (so the latency is the call's own, not the ring's or the
     * trace's) and recorded. With --metrics, the same time goes to the
     * histograms.
     */
    @Override
    public void before(TaskSession s, long sqeOff) {
        MemorySegment r = s.region;
        // What the trace shows is read here as well as by the dispatcher: a task that rewrites
        // its SQE meanwhile misleads only its own trace.
        op = r.get(JAVA_BYTE, sqeOff + SqeDescriptor.OPCODE_OFFSET) & 0xff;
        flags = r.get(JAVA_LONG, sqeOff + SqeDescriptor.FLAGS_OFFSET);
        refId = r.get(JAVA_LONG, sqeOff + SqeDescriptor.REF_OFFSET);
        len = r.get(JAVA_LONG, sqeOff + SqeDescriptor.LEN_OFFSET);
        carried = op == Abi.D_OP_LOOKUP || (op == Abi.D_OP_CREATE && (flags & Abi.D_CREATE_NAME_GIVEN) != 0)
                ? Name.read(r, sqeOff + SqeDescriptor.NAME_OFFSET) : null;
        // Resolved before the call: a delete removes the reference it names.
        used = refId != 0 ? s.refs.get(refId) : null;
        t0 = System.nanoTime();
    }

    @Override
    public void after(TaskSession s, long sqeOff, int res) {
        long t1 = System.nanoTime();
        boolean shown = !s.quiet; // the start-up warm-up's synthetic task is nobody's
        if (timeCalls) perCall.served(CallStats.slot(op), t1 - t0);
        boolean done = res != CallDispatcher.PARKED;
        int kind = TraceRecord.CALL;
        if (!done) {
            kind = TraceRecord.PARKED;
            res = 0;
            ParkedCall pc = s.parked.isEmpty() ? null : s.parked.getLast(); // parking added it last
            if (pc != null && shown) {
                pc.tracedBy = this;
                pc.traceStart = t0;
                pc.traceLen = len;
            }
        }
        long ref = refId;
        DObject o = used == null ? null : used.object;
        used = null;
        Op row = Op.of(op);
        if (res == 0 && done && row != null && row.returnsRef()) { // create, lookup, select: the reference it made or chose
            ref = dispatcher.resultValue(0);
            Reference made = s.refs.get(ref);
            o = made == null ? null : made.object;
        }
        int type = o != null ? o.type : op == Abi.D_OP_CREATE ? s.region.get(JAVA_INT, sqeOff + SqeDescriptor.OBJ_TYPE_OFFSET) : 0;
        Name name = carried != null ? carried : o != null ? o.name() : null;
        carried = null;
        if (shown) record(kind, t0, s, op, type, flags, ref, o == null ? 0 : o.id, res, t1 - t0, len, name);
    }

    /** A parked call that parked while tracing completed (TaskSession.completeParked). */
    @Override
    public void resumed(TaskSession s, ParkedCall pc, int res, long[] val) {
        if (!on) return;
        long now = System.nanoTime();
        Reference r = pc.ref;
        long ref = r == null ? 0 : r.id;
        if (pc.isSelect() && res == 0) {
            ref = val[0];
            r = s.refs.get(ref);
        }
        DObject o = r == null ? null : r.object;
        record(TraceRecord.RESUMED, pc.traceStart, s, pc.op, o == null ? 0 : o.type, pc.flags, ref,
                o == null ? 0 : o.id, res, now - pc.traceStart, pc.traceLen, o == null ? null : o.name());
    }

    /** Appends the batched entries: the conductor calls it before it sleeps, so a quiet daemon's trace is complete. */
    public void flush() {
        try {
            tracer.flush();
        } catch (IOException e) {
            fail(e);
        }
    }

    private void fail(IOException e) {
        Log.error("trace: " + e.getMessage() + "; tracing stopped");
        on = false;
        onFailure.run(); // drops the tracing clients: their tools say the trace ended
    }

    private void record(int kind, long start, TaskSession s, int op, int type, long flags, long ref, long obj, int res,
                        long latency, long len, Name name) {
        try {
            tracer.record(kind, start, s.taskId, s.pid, op, type, flags, ref, obj, res, latency, len, name);
        } catch (IOException e) {
            fail(e);
        }
    }
}

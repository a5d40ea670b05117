package org.dios.diosd.ops;

import java.lang.foreign.MemorySegment;

import org.dios.abi.Abi;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.objects.Call;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The op table: one row per D_OP_* code, with everything the daemon knows
 * about an op in one place: its name (traces, metrics, logs), the flags it
 * accepts (others: -EINVAL before anything else is looked at), whether its
 * answer is a reference (the tracer shows it), whether it may park, whether
 * the shim lets it into a dios_batch, whether it may ask for no completion,
 * and its handler. The dispatcher has no other switch on op codes; adding an
 * op is a row here and a handler (docs/ARCHITECTURE.md, "Adding an op").
 */
public record Op(int code, String name, long flags, boolean returnsRef, boolean mayPark, boolean batchable,
                 boolean noCqe, Handler handler) {
    /** Serves one call of this op: the SQE at off in region r; c carries the task, flags and the completion. */
    @FunctionalInterface
    interface Handler {
        int serve(CallDispatcher d, Call c, MemorySegment r, long off, int sqeFlags);
    }

    private static final Op[] TABLE = new Op[Abi.D_OP_LAST];

    private static long ref(MemorySegment r, long off) {
        return r.get(JAVA_LONG, off + SqeDescriptor.REF_OFFSET);
    }

    private static long ref2(MemorySegment r, long off) {
        return r.get(JAVA_LONG, off + SqeDescriptor.REF2_OFFSET);
    }

    private static long len(MemorySegment r, long off) {
        return r.get(JAVA_LONG, off + SqeDescriptor.LEN_OFFSET);
    }

    private static long buf(MemorySegment r, long off) {
        return r.get(JAVA_LONG, off + SqeDescriptor.BUF_OFFSET);
    }

    static {
        final long nb = Abi.D_NONBLOCK;
        //   code                     name             flags accepted            ref    park   batch  no-cqe handler
        row(Abi.D_OP_NOP,            "nop",            nb,                       false, false, true,  false,
                (d, c, r, o, f) -> 0);
        row(Abi.D_OP_CREATE,         "create",         Abi.D_FLAGS_CREATE_MASK,  true,  true,  true,  false,
                (d, c, r, o, f) -> d.create(c, r, o, f));
        row(Abi.D_OP_LOOKUP,         "lookup",         Abi.D_FLAGS_LOOKUP_MASK,  true,  false, true,  false,
                (d, c, r, o, f) -> d.lookup(c, r, o));
        row(Abi.D_OP_COPY,           "copy",           Abi.D_FLAGS_COPY_MASK,    false, false, false, false,
                (d, c, r, o, f) -> d.copy(c, ref2(r, o), len(r, o), buf(r, o)));
        row(Abi.D_OP_DELETE,         "delete",         Abi.D_FLAGS_DELETE_MASK,  false, true,  true,  false,
                (d, c, r, o, f) -> d.delete(c, ref(r, o)));
        row(Abi.D_OP_RUN,            "run",            Abi.D_FLAGS_RUN_MASK,     false, true,  false, false,
                (d, c, r, o, f) -> d.run(c, r, o, f));
        row(Abi.D_OP_SELECT,         "select",         Abi.D_FLAGS_WAIT_MASK,    true,  true,  false, false,
                (d, c, r, o, f) -> d.select(c, len(r, o), buf(r, o)));
        row(Abi.D_OP_ACQUIRE_READ,   "acquire_read",   Abi.D_FLAGS_WAIT_MASK,    false, true,  true,  false,
                (d, c, r, o, f) -> d.acquire(c, ref(r, o), len(r, o), false));
        row(Abi.D_OP_COMMIT_READ,    "commit_read",    Abi.D_FLAGS_IO_MASK,      false, false, true,  false,
                (d, c, r, o, f) -> d.bufferOp(c, ref(r, o), buf(r, o), len(r, o), false, false));
        row(Abi.D_OP_RELEASE_READ,   "release_read",   Abi.D_FLAGS_IO_MASK,      false, false, true,  false,
                (d, c, r, o, f) -> d.bufferOp(c, ref(r, o), buf(r, o), len(r, o), false, true));
        row(Abi.D_OP_ACQUIRE_WRITE,  "acquire_write",  Abi.D_FLAGS_ACQUIRE_WRITE_MASK, false, true, true, false,
                (d, c, r, o, f) -> d.acquire(c, ref(r, o), len(r, o), true));
        row(Abi.D_OP_COMMIT_WRITE,   "commit_write",   Abi.D_FLAGS_IO_MASK,      false, true,  true,  false,
                (d, c, r, o, f) -> d.bufferOp(c, ref(r, o), buf(r, o), len(r, o), true, false));
        row(Abi.D_OP_RELEASE_WRITE,  "release_write",  Abi.D_FLAGS_IO_MASK,      false, false, true,  false,
                (d, c, r, o, f) -> d.bufferOp(c, ref(r, o), buf(r, o), len(r, o), true, true));
        row(Abi.D_OP_REF_INFO,       "ref_info",       0,                        false, false, true,  false,
                (d, c, r, o, f) -> d.refInfo(c, ref(r, o)));
        row(Abi.D_OP_STATS,          "stats",          0,                        false, false, false, false,
                (d, c, r, o, f) -> d.daemonStats(c));
        row(Abi.D_OP_NOTIFY,         "notify",         0,                        false, false, false, true,
                (d, c, r, o, f) -> d.notifyRef(c, ref(r, o), f));
        row(Abi.D_OP_DELEGATED,      "delegated",      nb,                       false, false, false, false,
                (d, c, r, o, f) -> d.delegated(c, len(r, o)));
    }

    private static void row(int code, String name, long flags, boolean returnsRef, boolean mayPark, boolean batchable,
                            boolean noCqe, Handler handler) {
        if (TABLE[code] != null) throw new IllegalStateException("two rows for op " + code);
        TABLE[code] = new Op(code, name, flags, returnsRef, mayPark, batchable, noCqe, handler);
    }

    /** The row of an op code as read from an SQE (0..255), or null for a code the ABI does not define. */
    public static Op of(int code) {
        return code >= 0 && code < TABLE.length ? TABLE[code] : null;
    }

    /** The op's name ("acquire_read"), or "op" + code for a code the ABI does not define. */
    public static String name(int code) {
        Op op = of(code);
        return op != null ? op.name : "op" + code;
    }
}

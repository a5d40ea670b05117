package org.dios.diosd.trace;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;

import net.openhft.chronicle.bytes.Bytes;

import org.dios.abi.Abi;
import org.dios.diosd.objects.Name;


/**
 * One entry of the trace queue: a call the conductor served, or a marker.
 * Fixed layout, {@link #BYTES} bytes, little-endian; a Chronicle document
 * holds one or more (docs/PROTOCOL.md, section 13). Entries are appended when
 * the call completes (or parks), so the queue is in completion order:
 *
 * <pre>
 *  0 long  time      wall clock, ns since the epoch (the call's start)
 *  8 long  task      task id (START: the client's number; DROPPED: calls dropped)
 * 16 int   pid
 * 20 byte  kind      CALL, PARKED, RESUMED, START, DROPPED
 * 21 byte  op        D_OP_* (the SQE's opcode byte)
 * 22 byte  type      D_OBJ_* of the object, 0 if the call resolved none
 * 23 byte  version   2
 * 24 long  flags     the SQE's flags
 * 32 long  ref       the reference used (create, lookup, select: the one returned)
 * 40 long  object    its object's id, 0 if none
 * 48 int   result    0 or -errno
 * 52 byte  named     1: name holds a name
 * 53 byte[3] 0
 * 56 long  latency   service time in ns (RESUMED: since the call started); the end is time + latency
 * 64 long  len       the SQE's len (create: size; acquire, commit: bytes; select, copy: count)
 * 72 byte[32] name   the name the call carried (create with a given name, lookup), else its object's name
 * </pre>
 */
public record TraceRecord(long time, long task, int pid, int kind, int op, int type, long flags, long ref,
                          long object, int result, long latency, long len, Name name) {
    public static final int BYTES = 104;
    public static final int VERSION = 2;

    /** An entry without a length or a name (markers, and tests of the other fields). */
    public TraceRecord(long time, long task, int pid, int kind, int op, int type, long flags, long ref, long object,
                       int result, long latency) {
        this(time, task, pid, kind, op, type, flags, ref, object, result, latency, 0, null);
    }

    /** A call served at once. */
    public static final int CALL = 0;
    /** A call that must wait (select, console): its completion comes later, as RESUMED. */
    public static final int PARKED = 1;
    /** The completion of a parked call; latency is the time since it started. */
    public static final int RESUMED = 2;
    /** A client started tracing here (the daemon's answer names this entry's index). */
    public static final int START = 3;
    /** Calls not recorded because the trace was over its budget; task holds their number. */
    public static final int DROPPED = 4;

    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    /** Writes one entry at offset o of a batch (plain array stores: the conductor's cost per traced call). */
    static void put(byte[] a, int o, long time, long task, int pid, int kind, int op, int type, long flags, long ref,
                    long object, int result, long latency, long len, Name name) {
        LONG.set(a, o, time);
        LONG.set(a, o + 8, task);
        INT.set(a, o + 16, pid);
        a[o + 20] = (byte) kind;
        a[o + 21] = (byte) op;
        a[o + 22] = (byte) type;
        a[o + 23] = (byte) VERSION;
        LONG.set(a, o + 24, flags);
        LONG.set(a, o + 32, ref);
        LONG.set(a, o + 40, object);
        INT.set(a, o + 48, result);
        INT.set(a, o + 52, name != null ? 1 : 0); // named, then three zero bytes
        LONG.set(a, o + 56, latency);
        LONG.set(a, o + 64, len);
        // A name's words are its raw bytes in native order (Name.read): little-endian here, as the C side.
        LONG.set(a, o + 72, name == null ? 0 : name.w0());
        LONG.set(a, o + 80, name == null ? 0 : name.w1());
        LONG.set(a, o + 88, name == null ? 0 : name.w2());
        LONG.set(a, o + 96, name == null ? 0 : name.w3());
    }

    /**
     * Reads the next entry of a document (a document holds one or more), or
     * null at its end or at an entry that is not version 2.
     */
    public static TraceRecord read(Bytes<?> b) {
        if (b.readRemaining() < BYTES) return null;
        long time = b.readLong();
        long task = b.readLong();
        int pid = b.readInt();
        int kind = b.readUnsignedByte();
        int op = b.readUnsignedByte();
        int type = b.readUnsignedByte();
        int version = b.readUnsignedByte();
        long flags = b.readLong();
        long ref = b.readLong();
        long object = b.readLong();
        int result = b.readInt();
        int named = b.readInt();
        long latency = b.readLong();
        long len = b.readLong();
        Name name = new Name(b.readLong(), b.readLong(), b.readLong(), b.readLong());
        if (version != VERSION) return null;
        return new TraceRecord(time, task, pid, kind, op, type, flags, ref, object, result, latency, len,
                (named & 0xff) != 0 ? name : null);
    }

    /** Wall clock ns of the call's end (its completion; for PARKED, when it parked). */
    public long end() {
        return time + latency;
    }

    public static String kindName(int kind) {
        return switch (kind) {
            case CALL -> "call";
            case PARKED -> "parked";
            case RESUMED -> "resumed";
            case START -> "start";
            case DROPPED -> "dropped";
            default -> "kind" + kind;
        };
    }

    /** "none" for a call that resolved no object, else the type's name as listings and metrics show it. */
    public static String typeName(int type) {
        return type == 0 ? "none" : org.dios.diosd.objects.ObjectType.name(type);
    }

    /** "0", or the errno's name with its minus sign ("-ENOENT"). */
    public static String resultName(int res) {
        return res >= 0 ? Integer.toString(res) : "-" + Abi.errnoName(-res);
    }

    /** 1.2us, 35us, 4.1ms, 2.3s: two or three significant digits (rounded). */
    static void duration(StringBuilder b, long ns) {
        if (ns < 1_000) {
            b.append(ns).append("ns");
        } else if (ns < 10_000) {
            tenths(b, ns, 100).append("us");
        } else if (ns < 1_000_000) {
            b.append((ns + 500) / 1_000).append("us");
        } else if (ns < 10_000_000) {
            tenths(b, ns, 100_000).append("ms");
        } else if (ns < 1_000_000_000) {
            b.append((ns + 500_000) / 1_000_000).append("ms");
        } else {
            tenths(b, ns, 100_000_000).append('s');
        }
    }

    private static StringBuilder tenths(StringBuilder b, long ns, long tenth) {
        long t = (ns + tenth / 2) / tenth;
        return b.append(t / 10).append('.').append(t % 10);
    }

    /**
     * The header line of {@link #raw()} output. Columns after latency_ns came
     * later (end, length, name, flags by name): a script finds columns by this
     * header, not by position.
     */
    public static final String RAW_HEADER = "time_ns\ttask\tpid\tkind\top\ttype\tflags\tref\tobject\tresult\tlatency_ns"
            + "\tend_ns\tlen\tname\tflag_names";

    /**
     * Tab-separated: every field as a number, except kind, op and type by
     * name, flags and ref in hex, the name in text form ("-": none) and the
     * flags by name.
     */
    public String raw() {
        return time + "\t" + task + "\t" + pid + "\t" + kindName(kind) + "\t" + org.dios.diosd.ops.Op.name(op) + "\t" + typeName(type)
                + "\t0x" + Long.toHexString(flags) + "\t0x" + Long.toHexString(ref) + "\t" + object + "\t" + result
                + "\t" + latency + "\t" + end() + "\t" + len + "\t" + (name == null ? "-" : name.text())
                + "\t" + FlagNames.of(op, flags);
    }

    /**
     * One line, like strace's: local time of the call's end (entries come in
     * completion order, so the times of successive lines never go back), who,
     * what, on what, and the result with the service time and the start. For example
     * {@code 12:34:56.789013 task 3 (pid 1234) create type=shmem flags=D_CREATE_NAMED len=4096
     * name=VGhl... ref=0x10001 obj=17 -> 0 1.2us (from 12:34:56.789012)}.
     */
    public String line(ZoneId zone) {
        return new Lines(zone).format(this);
    }

    /**
     * Formats lines; keeps the last second's "HH:MM:SS" (the reader prints up
     * to a million lines a second, and a time zone lookup per line would be
     * most of its work). One thread.
     */
    static final class Lines {
        private final ZoneId zone;
        private final StringBuilder b = new StringBuilder(200);
        private long second = Long.MIN_VALUE;
        private String hms;

        Lines(ZoneId zone) {
            this.zone = zone;
        }

        /** HH:MM:SS.uuuuuu of wall clock ns t. */
        private void time(long t) {
            long sec = Math.floorDiv(t, 1_000_000_000L);
            String h;
            if (sec == second) {
                h = hms;
            } else {
                LocalDateTime lt = LocalDateTime.ofInstant(Instant.ofEpochSecond(sec), zone);
                h = String.format("%02d:%02d:%02d.", lt.getHour(), lt.getMinute(), lt.getSecond());
                if (sec > second) { // the end times go forward: keep the newest second
                    second = sec;
                    hms = h;
                }
            }
            long us = Math.floorMod(t, 1_000_000_000L) / 1000;
            b.append(h);
            for (long d = 100_000; d > 1 && us < d; d /= 10) b.append('0');
            b.append(us);
        }

        String format(TraceRecord r) {
            b.setLength(0);
            switch (r.kind) {
                case START -> {
                    time(r.time);
                    b.append(" --- tracing started (client ").append(r.task).append(')');
                }
                case DROPPED -> {
                    time(r.time);
                    b.append(" --- dropped ").append(r.task).append(" calls: the trace was over its budget of ")
                            .append(Tracer.MAX_CYCLE_BYTES >> 20).append(" MiB per ").append(Tracer.CYCLE_MINUTES).append(" minutes");
                }
                default -> {
                    time(r.end());
                    b.append(" task ").append(r.task).append(" (pid ").append(r.pid).append(") ").append(org.dios.diosd.ops.Op.name(r.op))
                            .append(" type=").append(typeName(r.type))
                            .append(" flags=");
                    FlagNames.append(b, r.op, r.flags);
                    b.append(" len=").append(r.len);
                    if (r.name != null) b.append(" name=").append(r.name.text());
                    b.append(" ref=0x").append(Long.toHexString(r.ref))
                            .append(" obj=").append(r.object).append(" -> ");
                    b.append(r.kind == PARKED ? "parked" : resultName(r.result)).append(' ');
                    duration(b, r.latency);
                    b.append(" (from ");
                    time(r.time);
                    if (r.kind == RESUMED) b.append(", was parked");
                    b.append(')');
                }
            }
            return b.toString();
        }
    }
}

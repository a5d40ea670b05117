package org.dios.diosd.trace;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;

import net.openhft.chronicle.bytes.Bytes;

import org.dios.abi.Abi;


/**
 * One entry of the trace queue: a call the conductor served, or a marker.
 * Fixed layout, {@link #BYTES} bytes, little-endian; a Chronicle document
 * holds one or more (docs/PROTOCOL.md, section 13):
 *
 * <pre>
 *  0 long  time      wall clock, ns since the epoch (the call's start)
 *  8 long  task      task id (START: the client's number; DROPPED: calls dropped)
 * 16 int   pid
 * 20 byte  kind      CALL, PARKED, RESUMED, START, DROPPED
 * 21 byte  op        D_OP_* (the SQE's opcode byte)
 * 22 byte  type      D_OBJ_* of the object, 0 if the call resolved none
 * 23 byte  version   1
 * 24 long  flags     the SQE's flags
 * 32 long  ref       the reference used (create, lookup, select: the one returned)
 * 40 long  object    its object's id, 0 if none
 * 48 int   result    0 or -errno
 * 52 int   0
 * 56 long  latency   service time in ns (RESUMED: since the call parked)
 * </pre>
 */
public record TraceRecord(long time, long task, int pid, int kind, int op, int type, long flags, long ref,
                          long object, int result, long latency) {
    public static final int BYTES = 64;
    public static final int VERSION = 1;

    /** A call served at once. */
    public static final int CALL = 0;
    /** A call that must wait (select, console): its completion comes later, as RESUMED. */
    public static final int PARKED = 1;
    /** The completion of a parked call; latency is the time since it parked. */
    public static final int RESUMED = 2;
    /** A client started tracing here (the daemon's answer names this entry's index). */
    public static final int START = 3;
    /** Calls not recorded because the trace was over its budget; task holds their number. */
    public static final int DROPPED = 4;

    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    /** Writes one entry at offset o of a batch (plain array stores: the conductor's cost per traced call). */
    static void put(byte[] a, int o, long time, long task, int pid, int kind, int op, int type, long flags, long ref,
                    long object, int result, long latency) {
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
        INT.set(a, o + 52, 0);
        LONG.set(a, o + 56, latency);
    }

    /**
     * Reads the next entry of a document (a document holds one or more), or
     * null at its end or at an entry that is not version 1.
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
        b.readInt();
        long latency = b.readLong();
        if (version != VERSION) return null;
        return new TraceRecord(time, task, pid, kind, op, type, flags, ref, object, result, latency);
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

    /** The header line of {@link #raw()} output. */
    public static final String RAW_HEADER = "time_ns\ttask\tpid\tkind\top\ttype\tflags\tref\tobject\tresult\tlatency_ns";

    /** Tab-separated: every field as a number, except kind, op and type by name, flags and ref in hex. */
    public String raw() {
        return time + "\t" + task + "\t" + pid + "\t" + kindName(kind) + "\t" + org.dios.diosd.ops.Op.name(op) + "\t" + typeName(type)
                + "\t0x" + Long.toHexString(flags) + "\t0x" + Long.toHexString(ref) + "\t" + object + "\t" + result
                + "\t" + latency;
    }

    /**
     * One line, like strace's: local time to the microsecond, who, what, on
     * what, and the result with the service time. For example
     * {@code 12:34:56.789012 task 3 (pid 1234) create type=shmem flags=0x1 ref=0x10001 obj=17 -> 0 1.2us}.
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
        private final StringBuilder b = new StringBuilder(160);
        private long second = Long.MIN_VALUE;
        private String hms;

        Lines(ZoneId zone) {
            this.zone = zone;
        }

        String format(TraceRecord r) {
            b.setLength(0);
            long sec = Math.floorDiv(r.time, 1_000_000_000L);
            if (sec != second) {
                LocalDateTime t = LocalDateTime.ofInstant(Instant.ofEpochSecond(sec), zone);
                hms = String.format("%02d:%02d:%02d.", t.getHour(), t.getMinute(), t.getSecond());
                second = sec;
            }
            long us = Math.floorMod(r.time, 1_000_000_000L) / 1000;
            b.append(hms);
            for (long d = 100_000; d > 1 && us < d; d /= 10) b.append('0');
            b.append(us);
            switch (r.kind) {
                case START -> b.append(" --- tracing started (client ").append(r.task).append(')');
                case DROPPED -> b.append(" --- dropped ").append(r.task).append(" calls: the trace was over its budget of ")
                        .append(Tracer.MAX_CYCLE_BYTES >> 20).append(" MiB per ").append(Tracer.CYCLE_MINUTES).append(" minutes");
                default -> {
                    b.append(" task ").append(r.task).append(" (pid ").append(r.pid).append(") ").append(org.dios.diosd.ops.Op.name(r.op))
                            .append(" type=").append(typeName(r.type))
                            .append(" flags=0x").append(Long.toHexString(r.flags))
                            .append(" ref=0x").append(Long.toHexString(r.ref))
                            .append(" obj=").append(r.object).append(" -> ");
                    if (r.kind == PARKED) {
                        b.append("parked ");
                        duration(b, r.latency);
                    } else {
                        b.append(resultName(r.result)).append(' ');
                        duration(b, r.latency);
                        if (r.kind == RESUMED) b.append(" (was parked)");
                    }
                }
            }
            return b.toString();
        }
    }
}

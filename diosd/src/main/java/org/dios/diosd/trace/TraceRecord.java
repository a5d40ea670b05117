package org.dios.diosd.trace;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;

import net.openhft.chronicle.bytes.Bytes;

import org.dios.abi.Abi;

/**
 * One entry of the trace queue: a call the conductor served, or a marker.
 * Fixed layout, {@link #BYTES} bytes, little-endian (docs/PROTOCOL.md, section 13):
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

    /** Writes one entry's payload (the caller holds Chronicle's document context). */
    static void write(Bytes<?> b, long time, long task, int pid, int kind, int op, int type, long flags, long ref,
                      long object, int result, long latency) {
        b.writeLong(time);
        b.writeLong(task);
        b.writeInt(pid);
        b.writeByte((byte) kind);
        b.writeByte((byte) op);
        b.writeByte((byte) type);
        b.writeByte((byte) VERSION);
        b.writeLong(flags);
        b.writeLong(ref);
        b.writeLong(object);
        b.writeInt(result);
        b.writeInt(0);
        b.writeLong(latency);
    }

    /** Reads one payload, or null if it is not a version 1 entry of {@link #BYTES} bytes. */
    public static TraceRecord read(Bytes<?> b) {
        if (b.readRemaining() != BYTES) return null;
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

    public static String typeName(int type) {
        return switch (type) {
            case 0 -> "none";
            case Abi.D_OBJ_PRIVMEM -> "privmem";
            case Abi.D_OBJ_SHMEM -> "shmem";
            case Abi.D_OBJ_FIFO -> "fifo";
            case Abi.D_OBJ_BLOB -> "blob";
            case Abi.D_OBJ_CONSOLE -> "console";
            case Abi.D_OBJ_TASK -> "task";
            case Abi.D_OBJ_GROUP -> "group";
            default -> "type" + type;
        };
    }

    /** "0", or the errno's name with its minus sign ("-ENOENT"). */
    public static String resultName(int res) {
        if (res >= 0) return Integer.toString(res);
        String e = switch (-res) {
            case Abi.DIOS_E2BIG -> "E2BIG";
            case Abi.DIOS_EBUSY -> "EBUSY";
            case Abi.DIOS_ENOENT -> "ENOENT";
            case Abi.DIOS_EIO -> "EIO";
            case Abi.DIOS_EBADF -> "EBADF";
            case Abi.DIOS_EAGAIN -> "EAGAIN";
            case Abi.DIOS_ENOMEM -> "ENOMEM";
            case Abi.DIOS_EACCES -> "EACCES";
            case Abi.DIOS_EFAULT -> "EFAULT";
            case Abi.DIOS_EEXIST -> "EEXIST";
            case Abi.DIOS_EINVAL -> "EINVAL";
            case Abi.DIOS_ENOSPC -> "ENOSPC";
            case Abi.DIOS_EPIPE -> "EPIPE";
            case Abi.DIOS_ENOSYS -> "ENOSYS";
            case Abi.DIOS_EIDRM -> "EIDRM";
            case Abi.DIOS_EPROTO -> "EPROTO";
            case Abi.DIOS_EOPNOTSUPP -> "EOPNOTSUPP";
            case Abi.DIOS_ENOTCONN -> "ENOTCONN";
            case Abi.DIOS_EHOSTDOWN -> "EHOSTDOWN";
            case Abi.DIOS_ESTALE -> "ESTALE";
            default -> "E" + (-res);
        };
        return "-" + e;
    }

    /** 1.2us, 35us, 4.1ms, 2.3s: two or three significant digits. */
    static String duration(long ns) {
        if (ns < 1_000) return ns + "ns";
        if (ns < 10_000) return String.format("%.1fus", ns / 1e3);
        if (ns < 1_000_000) return (ns / 1_000) + "us";
        if (ns < 10_000_000) return String.format("%.1fms", ns / 1e6);
        if (ns < 1_000_000_000) return (ns / 1_000_000) + "ms";
        return String.format("%.1fs", ns / 1e9);
    }

    /** The header line of {@link #raw()} output. */
    public static final String RAW_HEADER = "time_ns\ttask\tpid\tkind\top\ttype\tflags\tref\tobject\tresult\tlatency_ns";

    /** Tab-separated: every field as a number, except kind, op and type by name, flags and ref in hex. */
    public String raw() {
        return time + "\t" + task + "\t" + pid + "\t" + kindName(kind) + "\t" + Abi.opName(op) + "\t" + typeName(type)
                + "\t0x" + Long.toHexString(flags) + "\t0x" + Long.toHexString(ref) + "\t" + object + "\t" + result
                + "\t" + latency;
    }

    /**
     * One line, like strace's: local time to the microsecond, who, what, on
     * what, and the result with the service time. For example
     * {@code 12:34:56.789012 task 3 (pid 1234) create type=shmem flags=0x1 ref=0x10001 obj=17 -> 0 1.2us}.
     */
    public String line(ZoneId zone) {
        Instant at = Instant.ofEpochSecond(Math.floorDiv(time, 1_000_000_000L), Math.floorMod(time, 1_000_000_000L));
        LocalDateTime t = LocalDateTime.ofInstant(at, zone);
        String clock = String.format("%02d:%02d:%02d.%06d", t.getHour(), t.getMinute(), t.getSecond(), t.getNano() / 1000);
        return switch (kind) {
            case START -> clock + " --- tracing started (client " + task + ")";
            case DROPPED -> clock + " --- dropped " + task + " calls: the trace was over its budget of "
                    + (Tracer.MAX_CYCLE_BYTES >> 20) + " MiB per " + Tracer.CYCLE_MINUTES + " minutes";
            default -> {
                String end = switch (kind) {
                    case PARKED -> "parked " + duration(latency);
                    case RESUMED -> resultName(result) + " " + duration(latency) + " (was parked)";
                    default -> resultName(result) + " " + duration(latency);
                };
                yield clock + " task " + task + " (pid " + pid + ") " + Abi.opName(op) + " type=" + typeName(type)
                        + " flags=0x" + Long.toHexString(flags) + " ref=0x" + Long.toHexString(ref) + " obj=" + object
                        + " -> " + end;
            }
        };
    }
}

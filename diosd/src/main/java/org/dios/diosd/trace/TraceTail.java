package org.dios.diosd.trace;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.concurrent.locks.LockSupport;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

import org.dios.diosd.journal.Journal;


/**
 * {@code diosd --trace-tail DIR [--from INDEX] [--task ID] [--raw]}: the
 * reading end of {@code dios trace}, run by the C tool as its child (a
 * Chronicle queue has no C reader). It starts no daemon: it opens the trace
 * queue read-only, starts at INDEX (the START entry the daemon named in its
 * answer, so nothing recorded since is missed) or at the end, and prints one
 * line per call as it arrives, flushed whenever it has caught up.
 *
 * <p>It stops (exit 0) when its output is closed (the pipe's reader went) or
 * when the trace directory goes away (tracing stopped, or the daemon shut
 * down); exit 2 for a bad command line, 1 when the queue cannot be read.
 * Every stop says why on standard error: a trace that ends early must not end
 * in silence.
 */
public final class TraceTail {
    private TraceTail() {}

    static final String USAGE = "usage: diosd --trace-tail DIR [--from INDEX] [--task ID] [--raw]";
    /** How often an idle reader checks that the trace directory still exists. */
    private static final long DIR_CHECK_NANOS = 200_000_000L;
    /** Lines printed before a flush while the reader is behind. */
    private static final int FLUSH_EVERY = 512;

    public static int main(String[] args) {
        Journal.configureChronicle();
        Path dir = null;
        long from = -1, task = -1;
        boolean raw = false;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--from" -> from = Long.parseLong(args[++i]);
                    case "--task" -> task = Long.parseLong(args[++i]);
                    case "--raw" -> raw = true;
                    default -> {
                        if (args[i].startsWith("-") || dir != null) throw new IllegalArgumentException(args[i]);
                        dir = Path.of(args[i]);
                    }
                }
            }
        } catch (RuntimeException e) {
            System.err.println("diosd --trace-tail: bad argument (" + shown(e.getMessage()) + ")\n" + USAGE);
            return 2;
        }
        if (dir == null) {
            System.err.println(USAGE);
            return 2;
        }
        String missing = Journal.missingJvmAccess();
        if (missing != null) {
            System.err.println("diosd --trace-tail: Chronicle Queue needs JVM flags this JVM lacks (" + missing
                    + "); run it through the launcher, bin/diosd");
            return 1;
        }
        if (!Files.isDirectory(dir)) {
            System.err.println("diosd --trace-tail: " + shown(dir) + " does not exist: the daemon is not tracing");
            return 1;
        }
        PrintStream out = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16),
                false, StandardCharsets.UTF_8);
        try (SingleChronicleQueue q = SingleChronicleQueueBuilder.binary(dir).rollCycle(Tracer.ROLL).readOnly(true).build();
             ExcerptTailer t = q.createTailer()) {
            if (from < 0 || !t.moveToIndex(from)) t.toEnd();
            return tail(t, dir, out, task, raw);
        } catch (RuntimeException e) {
            if (!Files.isDirectory(dir)) return stopped(shown(dir) + " went away while it was opened (" + shown(e) + ")");
            System.err.println("diosd --trace-tail: cannot read the trace in " + shown(dir) + ": " + shown(e));
            return 1;
        }
    }

    /** Every entry of the trace queue in dir, from its start (for tests and tools; the queue must exist). */
    public static java.util.List<TraceRecord> readAll(Path dir) {
        Journal.configureChronicle();
        java.util.List<TraceRecord> all = new java.util.ArrayList<>();
        try (SingleChronicleQueue q = SingleChronicleQueueBuilder.binary(dir).rollCycle(Tracer.ROLL).readOnly(true).build();
             ExcerptTailer t = q.createTailer()) {
            while (true) {
                try (DocumentContext dc = t.readingDocument()) {
                    if (!dc.isPresent()) break;
                    if (dc.isMetaData()) continue;
                    Bytes<?> b = dc.wire().bytes();
                    for (TraceRecord r; (r = TraceRecord.read(b)) != null; ) all.add(r);
                }
            }
        }
        return all;
    }

    /**
     * o as text safe for the operator's terminal: C0 and C1 controls and DEL
     * as \xHH, as the dios tool prints (paths and Chronicle's messages may
     * carry file names).
     */
    static String shown(Object o) {
        String t = String.valueOf(o);
        StringBuilder b = new StringBuilder(t.length());
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) b.append(String.format("\\x%02x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }

    /** A normal stop (exit 0), and why. */
    private static int stopped(String why) {
        System.err.println("diosd --trace-tail: stopping: " + why);
        return 0;
    }

    private static int tail(ExcerptTailer t, Path dir, PrintStream out, long task, boolean raw) {
        TraceRecord.Lines lines = new TraceRecord.Lines(ZoneId.systemDefault());
        if (raw) out.println(TraceRecord.RAW_HEADER);
        out.flush();
        int unflushed = 0;
        int idle = 0;
        long nextDirCheck = System.nanoTime() + DIR_CHECK_NANOS;
        while (true) {
            boolean present;
            try (DocumentContext dc = t.readingDocument()) {
                present = dc.isPresent();
                if (present && !dc.isMetaData()) {
                    Bytes<?> b = dc.wire().bytes();
                    for (TraceRecord r; (r = TraceRecord.read(b)) != null; ) {
                        if (r.kind() == TraceRecord.START) continue; // where a client began
                        if (task >= 0 && r.kind() != TraceRecord.DROPPED && r.task() != task) continue;
                        out.println(raw ? r.raw() : lines.format(r));
                        unflushed++;
                    }
                }
            }
            if (present) {
                idle = 0;
                if (unflushed >= FLUSH_EVERY) {
                    out.flush();
                    unflushed = 0;
                    if (out.checkError()) return stopped("standard output failed (its reader went away)");
                }
                continue;
            }
            if (unflushed > 0) {
                out.flush();
                unflushed = 0;
            }
            if (out.checkError()) return stopped("standard output failed (its reader went away)");
            long now = System.nanoTime();
            if (now - nextDirCheck >= 0) {
                if (!Files.isDirectory(dir)) return stopped(shown(dir) + " is gone (tracing stopped, or the daemon went)");
                nextDirCheck = now + DIR_CHECK_NANOS;
            }
            // Caught up: spin briefly, then sleep a millisecond at a time.
            if (++idle < 100) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(1_000_000L);
            }
        }
    }
}

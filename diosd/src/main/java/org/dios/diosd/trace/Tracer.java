package org.dios.diosd.trace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.core.time.SystemTimeProvider;
import net.openhft.chronicle.core.time.TimeProvider;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

import org.dios.diosd.Log;
import org.dios.diosd.journal.Journal;
import org.dios.diosd.sys.LibC;

/**
 * The writing end of {@code dios trace}: a Chronicle Queue in
 * {@code <state-dir>/trace/} that the conductor appends one
 * {@link TraceRecord} to per call while some admin client traces. Opened when
 * the first client asks, closed and removed when the last one goes, so a
 * daemon nobody traces has no queue, no files and no appender.
 *
 * <p><b>Bounded.</b> Cycle files roll every {@value #CYCLE_MINUTES} minutes
 * (Chronicle's shortest production cycle), at most {@value #KEEP_CYCLES} are
 * kept (the current one and the one before, for a reader that lags), and a
 * cycle takes at most {@link #MAX_CYCLE_BYTES} of entries: a busy daemon
 * makes a million calls a second, 64 MB a second of trace. Beyond the budget
 * calls are counted, not written, and the next cycle begins with one
 * {@link TraceRecord#DROPPED} entry that says how many. The trace therefore
 * never holds more than about {@code KEEP_CYCLES * MAX_CYCLE_BYTES} plus
 * Chronicle's indexes.
 *
 * <p>Conductor thread only (Chronicle's appender is single-threaded).
 */
public final class Tracer implements AutoCloseable {
    static final int CYCLE_MINUTES = 5;
    static final RollCycles ROLL = RollCycles.FIVE_MINUTELY;
    static final int KEEP_CYCLES = 2;
    public static final long MAX_CYCLE_BYTES = 128L << 20;
    /** Chronicle maps cycle files in blocks of this size (sparse until written). */
    private static final long BLOCK_SIZE = 16L << 20;
    /** What one entry costs in a cycle file: its payload and Chronicle's 4-byte header. */
    private static final int ENTRY_BYTES = TraceRecord.BYTES + 4;

    private final Path dir;
    private final long maxCycleBytes;
    private final TimeProvider time;
    private SingleChronicleQueue queue;
    private ExcerptAppender appender;
    /** Wall-clock ns = System.nanoTime() + this (set at open: no wall-clock read per entry). */
    private long wallOffset;
    private int cycle = Integer.MIN_VALUE;
    private long cycleBytes;
    private long dropped;
    private long droppedSince;
    private long droppedTotal;
    private long written;

    /** dir: where the queue goes (removed at open and close: it holds only the current trace). */
    public Tracer(Path dir) {
        this(dir, MAX_CYCLE_BYTES, SystemTimeProvider.INSTANCE);
    }

    /** For tests: another budget, and Chronicle's clock (which decides the cycles). */
    Tracer(Path dir, long maxCycleBytes, TimeProvider time) {
        this.dir = dir.toAbsolutePath();
        this.maxCycleBytes = maxCycleBytes;
        this.time = time;
    }

    public Path directory() {
        return dir;
    }

    public boolean isOpen() {
        return queue != null;
    }

    /** Entries written since open. */
    public long written() {
        return written;
    }

    /** Calls dropped (over the budget) since open. */
    public long droppedTotal() {
        return droppedTotal;
    }

    /**
     * Opens a fresh queue (whatever a previous daemon left is removed first).
     * Throws when the directory cannot be made or Chronicle lacks its JVM flags.
     */
    public void open() throws IOException {
        if (queue != null) return;
        String missing = Journal.missingJvmAccess();
        if (missing != null) throw new IOException("Chronicle Queue needs JVM flags this JVM lacks (" + missing + ")");
        removeDirectory(dir);
        int rc = LibC.mkdir(dir.toString(), 0700);
        if (rc < 0) throw new IOException("cannot create " + dir + ": " + LibC.strerror(rc));
        try {
            queue = SingleChronicleQueueBuilder.binary(dir).rollCycle(ROLL).blockSize(BLOCK_SIZE).timeProvider(time).build();
            appender = queue.createAppender();
        } catch (RuntimeException e) {
            close();
            throw new IOException("cannot open a Chronicle Queue in " + dir + ": " + e, e);
        }
        Instant now = Instant.now();
        wallOffset = now.getEpochSecond() * 1_000_000_000L + now.getNano() - System.nanoTime();
        cycle = Integer.MIN_VALUE;
        cycleBytes = 0;
        dropped = 0;
        droppedTotal = 0;
        written = 0;
    }

    /** Wall-clock ns of a System.nanoTime() reading. */
    public long wallNanos(long nanoTime) {
        return nanoTime + wallOffset;
    }

    /**
     * Writes a START entry for client number {@code client} and returns its
     * index: the client's reader begins there, so it misses nothing recorded
     * after the daemon answered, however long the reader takes to start.
     */
    public long start(int client) throws IOException {
        if (queue == null) throw new IOException("the trace queue is not open");
        if (!append(TraceRecord.START, System.nanoTime(), client, 0, 0, 0, 0, 0, 0, 0, 0, true)) {
            throw new IOException("the trace queue did not take the start entry");
        }
        return appender.lastIndexAppended();
    }

    /**
     * Records one call (start: its System.nanoTime() at the start). Nothing
     * happens while the queue is closed. Throws IOException when Chronicle
     * fails (a full disk: the write faulted); the caller then stops tracing.
     */
    public void record(int kind, long start, long task, int pid, int op, int type, long flags, long ref, long object,
                       int result, long latency) throws IOException {
        if (queue == null) return;
        append(kind, start, task, pid, op, type, flags, ref, object, result, latency, false);
    }

    private boolean append(int kind, long start, long task, int pid, int op, int type, long flags, long ref, long object,
                           int result, long latency, boolean force) throws IOException {
        long wall = start + wallOffset;
        // Over the budget: count the call, until the clock reaches the next cycle (a clock
        // read per call only while dropping).
        if (cycleBytes >= maxCycleBytes && !force && queue.cycle() == cycle) {
            if (dropped++ == 0) droppedSince = wall;
            droppedTotal++;
            return false;
        }
        try {
            if (dropped > 0) { // the first entry of the new cycle says what the last one lost
                long n = dropped;
                dropped = 0;
                write(TraceRecord.DROPPED, droppedSince, n, 0, 0, 0, 0, 0, 0, 0, 0);
            }
            write(kind, wall, task, pid, op, type, flags, ref, object, result, latency);
        } catch (RuntimeException | InternalError e) {
            // InternalError: HotSpot's report of a SIGBUS in a mapped store (the file system is full).
            throw new IOException("cannot write the trace: " + e, e);
        }
        return true;
    }

    private void write(int kind, long wall, long task, int pid, int op, int type, long flags, long ref, long object,
                       int result, long latency) {
        try (DocumentContext dc = appender.writingDocument()) {
            Bytes<?> b = dc.wire().bytes();
            TraceRecord.write(b, wall, task, pid, kind, op, type, flags, ref, object, result, latency);
        }
        written++;
        int c = appender.cycle();
        if (c != cycle) {
            boolean rolled = cycle != Integer.MIN_VALUE;
            cycle = c;
            cycleBytes = 0;
            if (rolled) prune();
        }
        cycleBytes += ENTRY_BYTES;
    }

    /** Removes all but the newest KEEP_CYCLES cycle files (their names sort by time). */
    private void prune() {
        List<Path> cycles = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> p.getFileName().toString().endsWith(SingleChronicleQueue.SUFFIX)).forEach(cycles::add);
        } catch (IOException e) {
            Log.warn("trace: cannot list " + dir + ": " + e.getMessage());
            return;
        }
        cycles.sort(Comparator.comparing(p -> p.getFileName().toString()));
        for (int i = 0; i < cycles.size() - KEEP_CYCLES; i++) {
            try {
                Files.deleteIfExists(cycles.get(i));
            } catch (IOException e) {
                Log.warn("trace: cannot remove " + cycles.get(i) + ": " + e.getMessage());
            }
        }
    }

    /** Closes the queue and removes its directory; a reader still tailing it sees the directory go and stops. */
    @Override
    public void close() {
        try {
            if (appender != null) appender.close();
        } catch (RuntimeException e) {
            Log.warn("trace: closing the appender: " + e);
        }
        try {
            if (queue != null) queue.close();
        } catch (RuntimeException e) {
            Log.warn("trace: closing the queue: " + e);
        }
        appender = null;
        queue = null;
        try {
            removeDirectory(dir);
        } catch (IOException e) {
            Log.warn("trace: cannot remove " + dir + ": " + e.getMessage());
        }
    }

    /** Removes dir and what it holds (Chronicle's files: no subdirectories); a symlink is removed, not followed. */
    public static void removeDirectory(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : (Iterable<Path>) s::iterator) Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }
}

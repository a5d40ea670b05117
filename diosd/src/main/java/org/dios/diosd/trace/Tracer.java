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

import net.openhft.chronicle.core.time.SystemTimeProvider;
import net.openhft.chronicle.core.time.TimeProvider;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

import org.dios.diosd.journal.Journal;
import org.dios.diosd.log.Log;
import org.dios.diosd.objects.Name;
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
 * makes a million calls a second, about 100 MB a second of trace. Beyond the budget
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
    /**
     * Entries per Chronicle document at most. An append costs Chronicle about
     * 400 ns on this VM whatever its size, several null calls' worth, so the
     * conductor batches entries and appends them together.
     */
    static final int BATCH = 256;
    /** A batch is appended once its first entry is this old (and before the conductor sleeps). */
    static final long FLUSH_NANOS = 1_000_000;

    private final Path dir;
    private final long maxCycleBytes;
    private final TimeProvider time;
    private SingleChronicleQueue queue;
    private ExcerptAppender appender;
    /** Wall-clock ns = System.nanoTime() + this (set at open: no wall-clock read per entry). */
    private long wallOffset;
    /** The cycle whose entries cycleBytes counts (the budget's). */
    private int budgetCycle = Integer.MIN_VALUE;
    /** The cycle file the last document went to (a change means a roll: prune). */
    private int fileCycle = Integer.MIN_VALUE;
    private long cycleBytes;
    /** Entries not yet appended: BATCH of them at most, one document when flushed. */
    private final byte[] batch = new byte[BATCH * TraceRecord.BYTES];
    private int batched;
    /** System.nanoTime() of the batch's first entry. */
    private long batchSince;
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

    /** Entries recorded since open (appended, or waiting in the batch). */
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
        budgetCycle = Integer.MIN_VALUE;
        fileCycle = Integer.MIN_VALUE;
        cycleBytes = 0;
        batched = 0;
        dropped = 0;
        droppedTotal = 0;
        written = 0;
    }

    /** Wall-clock ns of a System.nanoTime() reading. */
    public long wallNanos(long nanoTime) {
        return nanoTime + wallOffset;
    }

    /**
     * Writes a START entry for client number {@code client}, in a document of
     * its own, and returns that document's index: the client's reader begins
     * there, so it misses nothing recorded after the daemon answered, however
     * long the reader takes to start.
     */
    public long start(int client) throws IOException {
        if (queue == null) throw new IOException("the trace queue is not open");
        flush();
        put(TraceRecord.START, System.nanoTime() + wallOffset, client, 0, 0, 0, 0, 0, 0, 0, 0, 0, null);
        flush();
        return appender.lastIndexAppended();
    }

    /**
     * Records one call (start: its System.nanoTime() at the start). Nothing
     * happens while the queue is closed. Entries wait in a batch until
     * {@value #BATCH} are there, the oldest is {@value #FLUSH_NANOS} ns old,
     * or {@link #flush} (the conductor calls it before it sleeps). Throws
     * IOException when Chronicle fails (a full disk: the write faulted); the
     * caller then stops tracing.
     */
    public void record(int kind, long start, long task, int pid, int op, int type, long flags, long ref, long object,
                       int result, long latency) throws IOException {
        record(kind, start, task, pid, op, type, flags, ref, object, result, latency, 0, null);
    }

    /** The same, with the SQE's len and the name the call carried or its object has (null: none). */
    public void record(int kind, long start, long task, int pid, int op, int type, long flags, long ref, long object,
                       int result, long latency, long len, Name name) throws IOException {
        if (queue == null) return;
        long wall = start + wallOffset;
        if (cycleBytes >= maxCycleBytes) {
            // Over the budget: count the call until the clock reaches the next cycle (a clock
            // read per call only while dropping).
            int now = queue.cycle();
            if (now == budgetCycle) {
                if (dropped++ == 0) droppedSince = wall;
                droppedTotal++;
                return;
            }
            budgetCycle = now;
            cycleBytes = 0;
        }
        if (dropped > 0) { // the next cycle's first entry says what the last one lost
            long n = dropped;
            dropped = 0;
            put(TraceRecord.DROPPED, droppedSince, n, 0, 0, 0, 0, 0, 0, 0, 0, 0, null);
        }
        put(kind, wall, task, pid, op, type, flags, ref, object, result, latency, len, name);
        long now = start + latency;
        if (batched == BATCH || now - batchSince > FLUSH_NANOS) flush();
    }

    private void put(int kind, long wall, long task, int pid, int op, int type, long flags, long ref, long object,
                     int result, long latency, long len, Name name) {
        if (batched == 0) batchSince = wall - wallOffset;
        int o = batched * TraceRecord.BYTES;
        TraceRecord.put(batch, o, wall, task, pid, kind, op, type, flags, ref, object, result, latency, len, name);
        batched++;
        written++;
        cycleBytes += TraceRecord.BYTES;
    }

    /** Appends the batched entries as one document (one Chronicle append for up to BATCH calls). */
    public void flush() throws IOException {
        if (batched == 0 || queue == null) return;
        int n = batched;
        batched = 0;
        try (DocumentContext dc = appender.writingDocument()) {
            dc.wire().bytes().write(batch, 0, n * TraceRecord.BYTES);
        } catch (RuntimeException | InternalError e) {
            // InternalError: HotSpot's report of a SIGBUS in a mapped store (the file system is full).
            throw new IOException("cannot write the trace: " + e, e);
        }
        int c = appender.cycle();
        if (c != fileCycle) {
            if (fileCycle != Integer.MIN_VALUE) prune();
            fileCycle = c;
            if (c != budgetCycle) { // rolled while under the budget: the new cycle's count starts here
                budgetCycle = c;
                cycleBytes = (long) n * TraceRecord.BYTES;
            }
        }
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
        batched = 0; // nobody reads them now
        try {
            if (appender != null) appender.close();
        } catch (RuntimeException | InternalError e) { // after a failed write, Chronicle's state is unknown
            Log.warn("trace: closing the appender: " + e);
        }
        try {
            if (queue != null) queue.close();
        } catch (RuntimeException | InternalError e) {
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

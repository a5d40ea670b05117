package org.dios.diosd.objects;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.dios.abi.Abi;
import org.dios.diosd.log.Log;

/**
 * The durable blobs' disk waits, off the conductor: one I/O thread
 * ({@code diosd-blob-sync}) runs each {@link Job}'s {@link Job#sync()}
 * (fdatasync, a journal append) in submission order, then hands the result
 * back; the conductor finishes the jobs, in the same order, in
 * {@link #finish(Completer)} (state changes and the parked call's
 * completion stay on the conductor thread).
 *
 * <pre>
 *   conductor: commit_write -> park the call, dup the fd -> submit(job) --+
 *                                                                         v
 *   diosd-blob-sync:  take -> fdatasync(dup), journal SIZE -> done queue -> wake (eventfd)
 *                                                                         |
 *   conductor: epoll sees the eventfd -> finish(): size, seq, complete <--+
 * </pre>
 *
 * <p>One thread keeps every blob's commits in order (and the journal's
 * appends too); a slow disk delays the tasks that commit, never the
 * conductor. The number of jobs queued is bounded by the parked calls
 * every task may have (--max-parked-calls).
 */
public final class BlobSyncer {
    /** One piece of durable work: sync() on the I/O thread, then done() on the conductor. */
    public interface Job {
        /** The disk work (I/O thread): 0 or -errno. Must not touch conductor state. */
        int sync();

        /** After sync() returned rc (conductor thread): apply and complete. */
        void done(int rc, Completer c);
    }

    private record Done(Job job, int rc) {}

    private static final Job STOP = new Job() {
        @Override
        public int sync() {
            return 0;
        }

        @Override
        public void done(int rc, Completer c) {
        }
    };

    private final LinkedBlockingQueue<Job> todo = new LinkedBlockingQueue<>();
    private final ConcurrentLinkedQueue<Done> done = new ConcurrentLinkedQueue<>();
    private final Runnable wake;
    private final Thread thread;
    /** Jobs submitted and not finished yet (conductor thread only). */
    private int inFlight;
    private boolean closed;

    /** wake: tells the conductor a result is waiting (rings its eventfd); called on the I/O thread. */
    public BlobSyncer(Runnable wake) {
        this.wake = wake;
        this.thread = new Thread(this::run, "diosd-blob-sync");
        thread.setDaemon(true); // a disk that never answers must not keep the JVM from exiting
        thread.start();
    }

    /** Queues j (conductor thread). False once closed: the caller does not park then. */
    boolean submit(Job j) {
        if (closed) return false;
        inFlight++;
        todo.add(j);
        return true;
    }

    /** Jobs submitted and not yet finished (conductor thread). */
    public int inFlight() {
        return inFlight;
    }

    /** Finishes the jobs whose disk work is done, in submission order (conductor thread). Returns how many. */
    public int finish(Completer c) {
        int n = 0;
        Done d;
        while ((d = done.poll()) != null) {
            inFlight--;
            n++;
            d.job.done(d.rc, c);
        }
        return n;
    }

    private void run() {
        while (true) {
            Job j;
            try {
                j = todo.take();
            } catch (InterruptedException e) {
                continue; // only close() stops it, with STOP behind every queued job
            }
            if (j == STOP) return;
            int rc;
            try {
                rc = j.sync();
            } catch (RuntimeException | Error e) {
                Log.error("blob sync failed", e);
                rc = -Abi.DIOS_EIO;
            }
            done.add(new Done(j, rc));
            wake.run();
        }
    }

    /**
     * At shutdown (conductor thread): no new jobs; waits up to timeoutMs for
     * the queued ones to reach the disk. Returns true if they all did (then
     * nothing touches the journal any more); false if the disk did not
     * answer in time (logged; the thread is left to the JVM's exit).
     */
    public boolean close(long timeoutMs) {
        if (!closed) {
            closed = true;
            todo.add(STOP);
        }
        try {
            thread.join(TimeUnit.MILLISECONDS.toMillis(timeoutMs));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            Log.error("blob sync: " + (inFlight - done.size()) + " durable commit(s) still syncing after " + timeoutMs
                    + " ms at shutdown; their callers get no completion (the daemon is stopping)");
            return false;
        }
        return true;
    }
}

package org.dios.client;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A task this process spawned ({@link Dios#run}, {@link Dios#spawn}): its reference, its pid and
 * its exit status. {@link #ref()} can be given to {@link Dios#select} (ready once the task has
 * ended) and to {@link Dios#copy} (delegating more references to it). Closing releases the
 * reference; the task runs on.
 */
public final class Task implements AutoCloseable {
    private final Ref ref;

    Task(Ref ref) {
        this.ref = ref;
    }

    /** The task reference (D_OBJ_TASK). */
    public Ref ref() {
        return ref;
    }

    /** The task's Linux pid. */
    public long pid() {
        return ref.size();
    }

    /**
     * Waits for the task to end (dios_wait) and returns its wait status, waitpid style: see
     * {@link #exited}, {@link #exitStatus}, {@link #signaled}, {@link #termSignal}. -1 when unknown.
     * Never hangs on a dead daemon: ENOTCONN.
     */
    public int waitFor() {
        return waitFor(0L);
    }

    /** The wait status if the task has ended, else null (D_NONBLOCK). */
    public Integer poll() {
        try {
            return waitFor(Dios.D_NONBLOCK);
        } catch (DiosException e) {
            if (e.errno() == Errno.EAGAIN) return null;
            throw e;
        }
    }

    /**
     * Waits at most timeout for the task to end (dios_wait_timeout): its wait status, or null if it
     * still runs then (it runs on; a later wait gets the status). A negative or zero timeout does
     * not wait.
     */
    public Integer waitFor(java.time.Duration timeout) {
        try {
            return waitFor(0L, Native.timeoutNanos(timeout), true);
        } catch (DiosException e) {
            if (e.errno() == Errno.ETIMEDOUT) return null;
            throw e;
        }
    }

    private int waitFor(long flags) {
        return waitFor(flags, 0, false);
    }

    private int waitFor(long flags, long timeoutNs, boolean timed) {
        String call = timed ? "dios_wait_timeout" : "dios_wait";
        boolean counted = ref.enter(call);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(JAVA_INT);
            int rc = timed ? (int) Native.WAIT_TIMEOUT.invokeExact(flags, ref.handle(), st, timeoutNs)
                    : (int) Native.WAIT.invokeExact(flags, ref.handle(), st);
            Native.check(call, rc);
            return st.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            if (counted) ref.exit();
        }
    }

    /** Waits and returns the exit status (0-255); IllegalStateException if the task was killed by a signal. */
    public int exitCode() {
        int st = waitFor();
        if (!exited(st)) {
            throw new IllegalStateException("task " + pid() + " did not exit normally: "
                    + (signaled(st) ? "signal " + termSignal(st) : "status " + st));
        }
        return exitStatus(st);
    }

    /** WIFEXITED. */
    public static boolean exited(int status) {
        return status != -1 && (status & 0x7f) == 0;
    }

    /** WEXITSTATUS. */
    public static int exitStatus(int status) {
        return (status >> 8) & 0xff;
    }

    /** WIFSIGNALED. */
    public static boolean signaled(int status) {
        return status != -1 && ((byte) (((status & 0x7f) + 1) >> 1)) > 0;
    }

    /** WTERMSIG. */
    public static int termSignal(int status) {
        return status & 0x7f;
    }

    /** Releases the task reference (the task is not killed). */
    @Override
    public void close() {
        ref.close();
    }
}

package org.dios.client;

/**
 * A DIOS call failed. Carries the call's name ({@code "dios_lookup"}) and the positive errno it
 * returned ({@link Errno#ENOENT}); the message reads {@code "dios_lookup: ENOENT (No such file or
 * directory)"}. Unchecked: every call of the API may throw it. The stream and {@link Channel}
 * adapters wrap it in a {@link DiosIOException}, as {@code java.io} expects.
 */
public final class DiosException extends RuntimeException {
    private final String call;
    private final int errno;
    private final String detail;

    public DiosException(String call, int errno) {
        this(call, errno, "");
    }

    /**
     * With a detail of the failure, which ends the message when it is not empty: libdlibc's
     * (dios_last_error_detail: the daemon's socket for ENOTCONN, the limit reached for ENOMEM)
     * or what to do about it (ENOEXEC from dios_run: how to brand the program).
     */
    public DiosException(String call, int errno, String detail) {
        super(call + ": " + Errno.name(errno) + " (" + Errno.description(errno) + ")"
                + (detail.isEmpty() ? "" : ": " + detail));
        this.call = call;
        this.errno = errno;
        this.detail = detail;
    }

    /**
     * What libdlibc said about the failure, "" if nothing more than the errno: for ENOTCONN the
     * daemon's socket path and what happened to it (then {@link Dios#reconnect()} may start
     * over), for ENOMEM the per-task limit reached, its value and the diosd flag that raises it.
     */
    public String detail() {
        return detail;
    }

    /** The libdlibc call that failed, e.g. "dios_acquire_write". */
    public String call() {
        return call;
    }

    /** Positive errno, e.g. {@link Errno#ENOENT} (2). */
    public int errno() {
        return errno;
    }

    /** Symbolic name of {@link #errno()}, e.g. "ENOENT". */
    public String errnoName() {
        return Errno.name(errno);
    }
}

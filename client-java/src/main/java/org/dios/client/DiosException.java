package org.dios.client;

/** A DIOS call failed: carries the call's name and the (positive) errno it returned. */
public final class DiosException extends RuntimeException {
    private final String call;
    private final int errno;

    DiosException(String call, int negErrno, String text) {
        super(call + ": " + text + " (errno " + (-negErrno) + ")");
        this.call = call;
        this.errno = -negErrno;
    }

    public String call() {
        return call;
    }

    /** Positive errno, e.g. 2 for ENOENT. */
    public int errno() {
        return errno;
    }
}

package org.dios.client;

import java.io.IOException;

/**
 * A DIOS call under a stream or a {@link Channel} failed: the {@code java.io} face of a
 * {@link DiosException}, which is its cause. {@link #errno()} and {@link #call()} are the cause's.
 */
public final class DiosIOException extends IOException {
    public DiosIOException(DiosException cause) {
        super(cause.getMessage(), cause);
    }

    @Override
    public synchronized DiosException getCause() {
        return (DiosException) super.getCause();
    }

    /** Positive errno, e.g. {@link Errno#EPIPE}. */
    public int errno() {
        return getCause().errno();
    }

    /** The libdlibc call that failed. */
    public String call() {
        return getCause().call();
    }
}

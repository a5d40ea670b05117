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

    // The streams' side of the calls they make (FifoInputStream, FifoOutputStream).

    /** Throws for a negative result of call. */
    static void check(String call, int rc) throws DiosIOException {
        if (rc < 0) throw new DiosIOException(Native.failure(call, -rc));
    }

    /** {@link Ref#enter}, failing as an IOException. */
    static boolean enter(Ref ref, String call) throws DiosIOException {
        try {
            return ref.enter(call);
        } catch (DiosException e) {
            throw new DiosIOException(e);
        }
    }

    /** {@link Ref#close}, failing as an IOException. */
    static void close(Ref ref) throws DiosIOException {
        try {
            ref.close();
        } catch (DiosException e) {
            throw new DiosIOException(e);
        }
    }
}

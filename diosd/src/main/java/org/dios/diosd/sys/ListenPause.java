package org.dios.diosd.sys;

/**
 * A listening socket that accept4 cannot serve because the daemon is out of
 * file descriptors (EMFILE, ENFILE) or kernel memory (ENOBUFS, ENOMEM). The
 * socket is level-triggered in epoll: left there, it would wake the conductor
 * at once, forever, and every wake-up would fail and log again. It leaves
 * epoll for {@link #PAUSE_NANOS} instead; connections wait in the kernel's
 * backlog meanwhile, and are taken when descriptors are free again.
 */
public final class ListenPause {
    public static final long PAUSE_NANOS = 100_000_000L;

    private final Epoll epoll;
    private final int fd;
    private final long data;
    private boolean paused;
    private long until;
    private long pauses;

    /** fd is in epoll with EPOLLIN and data. */
    public ListenPause(Epoll epoll, int fd, long data) {
        this.epoll = epoll;
        this.fd = fd;
        this.data = data;
    }

    /** True for the accept4 errors that mean "no resources now", not "this connection failed". */
    public static boolean exhausted(int negErrno) {
        int e = -negErrno;
        return e == LibC.EMFILE || e == LibC.ENFILE || e == LibC.ENOBUFS || e == LibC.ENOMEM;
    }

    /** Takes the socket out of epoll until now + PAUSE_NANOS. */
    public void pause(long now) {
        if (!paused) {
            epoll.modify(fd, 0, data);
            paused = true;
            pauses++;
        }
        until = now + PAUSE_NANOS;
    }

    /** Watches the socket again once the pause is over; true if it did. */
    public boolean resumeIfDue(long now) {
        if (!paused || now - until < 0) return false;
        epoll.modify(fd, LibC.EPOLLIN, data);
        paused = false;
        return true;
    }

    public boolean paused() {
        return paused;
    }

    /** Times the socket was taken out of epoll (metrics, tests). */
    public long pauses() {
        return pauses;
    }
}

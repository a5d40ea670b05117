package org.dios.diosd.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/** One epoll set, owned by the conductor thread. {@code struct epoll_event} is 12 bytes, packed. */
public final class Epoll implements AutoCloseable {
    private final int epfd;
    private final MemorySegment events;
    private final MemorySegment ctlEvent;
    private final int maxEvents;

    public Epoll(Arena arena, int maxEvents) {
        this.epfd = LibC.epollCreate1(LibC.EPOLL_CLOEXEC);
        if (epfd < 0) throw new IllegalStateException("epoll_create1: " + LibC.strerror(epfd));
        this.maxEvents = maxEvents;
        this.events = arena.allocate((long) LibC.EPOLL_EVENT_SIZE * maxEvents, 8);
        this.ctlEvent = arena.allocate(LibC.EPOLL_EVENT_SIZE, 8);
    }

    public int add(int fd, int events, long data) {
        ctlEvent.set(JAVA_INT, 0, events);
        ctlEvent.set(JAVA_LONG_UNALIGNED, 4, data);
        return LibC.epollCtl(epfd, LibC.EPOLL_CTL_ADD, fd, ctlEvent);
    }

    public int modify(int fd, int events, long data) {
        ctlEvent.set(JAVA_INT, 0, events);
        ctlEvent.set(JAVA_LONG_UNALIGNED, 4, data);
        return LibC.epollCtl(epfd, LibC.EPOLL_CTL_MOD, fd, ctlEvent);
    }

    public int remove(int fd) {
        return fd < 0 ? 0 : LibC.epollCtl(epfd, LibC.EPOLL_CTL_DEL, fd, ctlEvent);
    }

    /** Returns the number of ready events, 0 on timeout or EINTR. */
    public int poll(int timeoutMs) {
        int n = LibC.epollWait(epfd, events, maxEvents, timeoutMs);
        if (n == -LibC.EINTR) return 0;
        if (n < 0) throw new IllegalStateException("epoll_wait: " + LibC.strerror(n));
        return n;
    }

    public int eventMask(int i) {
        return events.get(JAVA_INT, (long) i * LibC.EPOLL_EVENT_SIZE);
    }

    public long eventData(int i) {
        return events.get(JAVA_LONG_UNALIGNED, (long) i * LibC.EPOLL_EVENT_SIZE + 4);
    }

    @Override
    public void close() {
        LibC.close(epfd);
    }
}

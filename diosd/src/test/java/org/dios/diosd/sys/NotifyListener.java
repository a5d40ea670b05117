package org.dios.diosd.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A stand-in for systemd's end of NOTIFY_SOCKET in tests: an AF_UNIX datagram
 * socket with SO_PASSCRED, so each message comes with the sender's pid as
 * systemd sees it. Its addresses are built here byte by byte, independently
 * of {@link Notify#address}.
 */
public final class NotifyListener implements AutoCloseable {
    /** One datagram and the credentials the kernel attached to it. */
    public record Message(String text, int pid, int uid) {}

    private final int fd;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buf = arena.allocate(4096, 8);
    private final MemorySegment iov = arena.allocate(16, 8);
    private final MemorySegment control = arena.allocate(64, 8);
    private final MemorySegment msg = arena.allocate(LibC.MSGHDR_SIZE, 8);

    private NotifyListener(byte[] name, boolean abstractName) {
        int s = LibC.socket(LibC.AF_UNIX, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC | LibC.SOCK_NONBLOCK, 0);
        if (s < 0) throw new IllegalStateException("socket: " + LibC.strerror(s));
        MemorySegment one = arena.allocate(JAVA_INT);
        one.set(JAVA_INT, 0, 1);
        int r = LibC.setsockopt(s, LibC.SOL_SOCKET, LibC.SO_PASSCRED, one, 4);
        if (r < 0) {
            LibC.close(s);
            throw new IllegalStateException("SO_PASSCRED: " + LibC.strerror(r));
        }
        // sockaddr_un: family, then either the path and a NUL, or a NUL and the abstract name.
        int len = 2 + 1 + name.length;
        MemorySegment sa = arena.allocate(LibC.SOCKADDR_UN_SIZE, 8);
        sa.set(JAVA_SHORT, 0, (short) LibC.AF_UNIX);
        MemorySegment.copy(name, 0, sa, JAVA_BYTE, abstractName ? 3 : 2, name.length);
        r = LibC.bind(s, sa, len);
        if (r < 0) {
            LibC.close(s);
            throw new IllegalStateException("bind " + new String(name, StandardCharsets.UTF_8) + ": " + LibC.strerror(r));
        }
        this.fd = s;
    }

    /** Listens at a file system path (NOTIFY_SOCKET=path). */
    public static NotifyListener atPath(String path) {
        return new NotifyListener(path.getBytes(StandardCharsets.UTF_8), false);
    }

    /** Listens at an abstract name (NOTIFY_SOCKET=@name). */
    public static NotifyListener atAbstractName(String name) {
        return new NotifyListener(name.getBytes(StandardCharsets.UTF_8), true);
    }

    /** The next message, or null if none arrived within timeout. */
    public Message receive(Duration timeout) throws InterruptedException {
        return receive(timeout, null);
    }

    /**
     * The next message, or null if none arrived within timeout, or none is
     * queued once {@code sender} (if given) has exited: what a process sent
     * before it died is still returned.
     */
    public Message receive(Duration timeout, ProcessHandle sender) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean senderGone = sender != null && !sender.isAlive();
            Message m = poll();
            if (m != null) return m;
            if (senderGone || System.nanoTime() - deadline >= 0) return null;
            Thread.sleep(5);
        }
    }

    private Message poll() {
        iov.set(JAVA_LONG, 0, buf.address());
        iov.set(JAVA_LONG, 8, buf.byteSize());
        msg.fill((byte) 0);
        control.fill((byte) 0);
        msg.set(JAVA_LONG, 16, iov.address());          // msg_iov
        msg.set(JAVA_LONG, 24, 1L);                     // msg_iovlen
        msg.set(JAVA_LONG, 32, control.address());      // msg_control
        msg.set(JAVA_LONG, 40, control.byteSize());     // msg_controllen
        long n = LibC.recvmsg(fd, msg, LibC.MSG_DONTWAIT);
        if (n == -LibC.EAGAIN) return null;
        if (n < 0) throw new IllegalStateException("recvmsg: " + LibC.strerror((int) n));
        if ((msg.get(JAVA_INT, 48) & LibC.MSG_TRUNC) != 0) throw new IllegalStateException("message truncated");
        int pid = -1, uid = -1;
        // One cmsghdr: len (8 bytes), level, type, then struct ucred { pid, uid, gid }.
        if (msg.get(JAVA_LONG, 40) >= 16 + 12 && control.get(JAVA_INT, 8) == LibC.SOL_SOCKET
                && control.get(JAVA_INT, 12) == LibC.SCM_CREDENTIALS) {
            pid = control.get(JAVA_INT, 16);
            uid = control.get(JAVA_INT, 20);
        }
        byte[] b = buf.asSlice(0, n).toArray(JAVA_BYTE);
        return new Message(new String(b, StandardCharsets.UTF_8), pid, uid);
    }

    @Override
    public void close() {
        LibC.close(fd);
        arena.close();
    }
}

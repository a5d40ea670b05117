package org.dios.diosd.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * AF_UNIX helpers over {@link LibC}: listening sockets, peer credentials and
 * fd passing with SCM_RIGHTS. NIO's Unix-domain channels can do neither of
 * the last two, so this is FFM.
 */
public final class UnixSocket {
    private UnixSocket() {}

    /** Credentials of the peer from SO_PEERCRED. */
    public record PeerCred(int pid, int uid, int gid) {}

    /** SO_RCVTIMEO: a blocking read on fd fails with -EAGAIN after millis without data. 0 or -errno. */
    public static int setReceiveTimeout(int fd, long millis) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tv = a.allocate(16, 8); // struct timeval
            tv.set(JAVA_LONG, 0, millis / 1000);
            tv.set(JAVA_LONG, 8, (millis % 1000) * 1000);
            return LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, tv, 16);
        }
    }

    private static MemorySegment sockaddr(Arena a, String path) {
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        if (p.length >= LibC.SUN_PATH_MAX) {
            throw new IllegalArgumentException("socket path longer than " + (LibC.SUN_PATH_MAX - 1) + " bytes: " + path);
        }
        MemorySegment sa = a.allocate(LibC.SOCKADDR_UN_SIZE);
        sa.set(JAVA_SHORT, 0, (short) LibC.AF_UNIX);
        MemorySegment.copy(p, 0, sa, JAVA_BYTE, 2, p.length);
        return sa;
    }

    /** Creates, binds and listens (non-blocking, for epoll); returns the fd or -errno. */
    public static int listen(String path, int type, int backlog) {
        return listen(path, type, backlog, LibC.SOCK_NONBLOCK);
    }

    /** Listening socket that blocks in accept (for a dedicated thread); fd or -errno. */
    public static int listenBlocking(String path, int type, int backlog) {
        return listen(path, type, backlog, 0);
    }

    private static int listen(String path, int type, int backlog, int extraFlags) {
        int fd = LibC.socket(LibC.AF_UNIX, type | extraFlags | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) return fd;
        // bind() creates the file with the socket inode's mode less the umask: owner-only from
        // its first instant, so nobody else can connect before the caller chmods it (to
        // --socket-mode) and listen()'s backlog never holds a connection the mode would refuse.
        int m = LibC.fchmod(fd, 0600);
        if (m < 0) { LibC.close(fd); return m; }
        try (Arena a = Arena.ofConfined()) {
            int r = LibC.bind(fd, sockaddr(a, path), LibC.SOCKADDR_UN_SIZE);
            if (r < 0) { LibC.close(fd); return r; }
        }
        int r = LibC.listen(fd, backlog);
        if (r < 0) { LibC.close(fd); LibC.unlink(path); return r; }
        return fd;
    }

    /** True if something accepts connections at path (another daemon is live there). */
    public static boolean isLive(String path, int type) {
        int fd = connect(path, type);
        if (fd < 0) return false;
        LibC.close(fd);
        return true;
    }

    /** A blocking client socket of type connected to path: fd, or -errno. */
    public static int connect(String path, int type) {
        int fd = LibC.socket(LibC.AF_UNIX, type | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) return fd;
        try (Arena a = Arena.ofConfined()) {
            int r = LibC.connect(fd, sockaddr(a, path), LibC.SOCKADDR_UN_SIZE);
            if (r < 0) {
                LibC.close(fd);
                return r;
            }
            return fd;
        }
    }

    public static PeerCred peerCred(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cred = a.allocate(12);
            MemorySegment len = a.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, 12);
            if (LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_PEERCRED, cred, len) < 0) return null;
            return new PeerCred(cred.get(JAVA_INT, 0), cred.get(JAVA_INT, 4), cred.get(JAVA_INT, 8));
        }
    }

    /** pidfd of the peer via SO_PEERPIDFD (kernel 6.5+), else pidfd_open(pid); -errno on failure. */
    public static int peerPidfd(int fd, int pid) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment val = a.allocate(JAVA_INT);
            MemorySegment len = a.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, 4);
            int r = LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_PEERPIDFD, val, len);
            if (r == 0) return val.get(JAVA_INT, 0);
        }
        return LibC.pidfdOpen(pid);
    }

    /**
     * Sends one packet with the given fds attached (SCM_RIGHTS), never blocking
     * and never raising SIGPIPE. Returns bytes sent or -errno.
     */
    public static long sendWithFds(int sock, MemorySegment payload, int... fds) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment iov = a.allocate(16, 8);
            iov.set(JAVA_LONG, 0, payload.address());
            iov.set(JAVA_LONG, 8, payload.byteSize());
            MemorySegment msg = a.allocate(LibC.MSGHDR_SIZE, 8);
            msg.set(JAVA_LONG, 16, iov.address());    // msg_iov
            msg.set(JAVA_LONG, 24, 1L);               // msg_iovlen
            if (fds.length > 0) {
                long dataLen = 4L * fds.length;
                long space = 16 + ((dataLen + 7) & ~7L); // CMSG_SPACE
                MemorySegment cmsg = a.allocate(space, 8);
                cmsg.set(JAVA_LONG, 0, 16 + dataLen);  // cmsg_len = CMSG_LEN
                cmsg.set(JAVA_INT, 8, LibC.SOL_SOCKET);
                cmsg.set(JAVA_INT, 12, LibC.SCM_RIGHTS);
                for (int i = 0; i < fds.length; i++) cmsg.set(JAVA_INT, 16 + 4L * i, fds[i]);
                msg.set(JAVA_LONG, 32, cmsg.address()); // msg_control
                msg.set(JAVA_LONG, 40, space);           // msg_controllen
            }
            return LibC.sendmsg(sock, msg, LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT);
        }
    }

    /**
     * Receives one message into buf with up to fdsOut.length fds (MSG_CMSG_CLOEXEC).
     * Returns the bytes received (or -errno); fdsOut[0..] get the fds, the rest
     * stay -1. Fds beyond fdsOut's length are closed. Sets truncated[0] if the
     * payload or the control data did not fit.
     */
    public static long recvWithFds(int sock, MemorySegment buf, int[] fdsOut, boolean[] truncated) {
        java.util.Arrays.fill(fdsOut, -1);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment iov = a.allocate(16, 8);
            iov.set(JAVA_LONG, 0, buf.address());
            iov.set(JAVA_LONG, 8, buf.byteSize());
            MemorySegment msg = a.allocate(LibC.MSGHDR_SIZE, 8);
            long space = 16 + 8L * 4; // room for several fds, so extras can be closed, not leaked
            MemorySegment cmsg = a.allocate(space, 8);
            msg.set(JAVA_LONG, 16, iov.address());
            msg.set(JAVA_LONG, 24, 1L);
            msg.set(JAVA_LONG, 32, cmsg.address());
            msg.set(JAVA_LONG, 40, space);
            long n = LibC.recvmsg(sock, msg, LibC.MSG_DONTWAIT | LibC.MSG_CMSG_CLOEXEC);
            if (n < 0) return n;
            int flags = msg.get(JAVA_INT, 48);
            truncated[0] = (flags & (LibC.MSG_TRUNC | LibC.MSG_CTRUNC)) != 0;
            long controllen = msg.get(JAVA_LONG, 40);
            long off = 0;
            int k = 0;
            while (off + 16 <= controllen) {
                long len = cmsg.get(JAVA_LONG, off);
                if (len < 16 || off + len > controllen) break;
                if (cmsg.get(JAVA_INT, off + 8) == LibC.SOL_SOCKET && cmsg.get(JAVA_INT, off + 12) == LibC.SCM_RIGHTS) {
                    for (long p = 16; p + 4 <= len; p += 4) {
                        int fd = cmsg.get(JAVA_INT, off + p);
                        if (k < fdsOut.length) fdsOut[k++] = fd;
                        else LibC.close(fd);
                    }
                }
                off += (len + 7) & ~7L;
            }
            return n;
        }
    }
}

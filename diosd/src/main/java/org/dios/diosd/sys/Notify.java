package org.dios.diosd.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * The systemd readiness protocol (sd_notify(3)) without libsystemd: each
 * state change is one datagram of {@code KEY=VALUE} lines sent on an AF_UNIX
 * SOCK_DGRAM socket to the address in {@code $NOTIFY_SOCKET}.
 *
 * <p>The address is a file system path ({@code /run/systemd/notify}) or, with
 * a leading {@code '@'}, a name in the abstract namespace, where the '@'
 * stands for a leading NUL byte and the address length, not a terminating
 * NUL, ends the name. Other forms (systemd 254's {@code vsock:}) are refused
 * with a message, as sd_notify refuses them with -EAFNOSUPPORT.
 *
 * <p>systemd learns the sender's pid from the kernel (SCM_CREDENTIALS) and,
 * with NotifyAccess=main, ignores datagrams from any other process, so a
 * child that inherits NOTIFY_SOCKET cannot change the service's state.
 * Sending never blocks: a full queue is reported as -EAGAIN.
 */
public final class Notify {
    /** The environment variable systemd sets for Type=notify services. */
    public static final String ENV = "NOTIFY_SOCKET";

    private final String target;
    private final byte[] address;

    private Notify(String target, byte[] address) {
        this.target = target;
        this.address = address;
    }

    /**
     * From {@code $NOTIFY_SOCKET}: null when it is unset or empty (not started
     * by systemd as Type=notify). Throws IllegalArgumentException, with the
     * reason, when it is set but not an address this class can send to.
     */
    public static Notify fromEnvironment() {
        String v = System.getenv(ENV);
        return v == null || v.isEmpty() ? null : to(v);
    }

    /** A notifier for the given NOTIFY_SOCKET value; IllegalArgumentException if unusable. */
    public static Notify to(String notifySocket) {
        return new Notify(notifySocket, address(notifySocket));
    }

    /**
     * The {@code struct sockaddr_un} for a NOTIFY_SOCKET value, exactly as
     * long as the address length to pass to sendto(2): family, then the path
     * and its NUL; or family, a NUL and the abstract name (no terminator).
     */
    public static byte[] address(String notifySocket) {
        if (notifySocket == null || notifySocket.isEmpty()) {
            throw new IllegalArgumentException(ENV + " is empty");
        }
        char first = notifySocket.charAt(0);
        if (first != '/' && first != '@') {
            throw new IllegalArgumentException(ENV + "='" + notifySocket
                    + "' is neither an absolute path nor an abstract name ('@...'); only AF_UNIX is supported");
        }
        byte[] p = notifySocket.getBytes(StandardCharsets.UTF_8);
        if (first == '/' && notifySocket.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(ENV + " holds a NUL byte inside a path");
        }
        // Path: the name and its NUL must fit sun_path. Abstract: '@' becomes the NUL, same room.
        int nameLen = first == '@' ? p.length : p.length + 1;
        if (nameLen > LibC.SUN_PATH_MAX) {
            throw new IllegalArgumentException(ENV + "='" + notifySocket + "' is longer than an AF_UNIX address ("
                    + LibC.SUN_PATH_MAX + " bytes with its NUL)");
        }
        byte[] sa = new byte[2 + nameLen];
        sa[0] = (byte) LibC.AF_UNIX; // sa_family_t, little-endian
        sa[1] = 0;
        if (first == '@') {
            sa[2] = 0;
            System.arraycopy(p, 1, sa, 3, p.length - 1);
        } else {
            System.arraycopy(p, 0, sa, 2, p.length); // the last byte stays 0: the terminator
        }
        return sa;
    }

    /** The NOTIFY_SOCKET value this notifier sends to. */
    public String target() {
        return target;
    }

    /**
     * Sends one state message, e.g. {@code "READY=1\nSTATUS=serving"}.
     * Returns the bytes sent, or -errno (the socket is gone, the queue is
     * full, the message is too big).
     */
    public long send(String state) {
        byte[] msg = state.getBytes(StandardCharsets.UTF_8);
        int fd = LibC.socket(LibC.AF_UNIX, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) return fd;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = a.allocate(address.length, 8);
            MemorySegment.copy(address, 0, sa, JAVA_BYTE, 0, address.length);
            MemorySegment buf = a.allocate(Math.max(1, msg.length), 8).asSlice(0, msg.length);
            MemorySegment.copy(msg, 0, buf, JAVA_BYTE, 0, msg.length);
            long n = LibC.sendto(fd, buf, LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT, sa, address.length);
            if (n >= 0 && n != msg.length) return -LibC.EMSGSIZE; // a datagram is all or nothing; never seen
            return n;
        } finally {
            LibC.close(fd);
        }
    }
}

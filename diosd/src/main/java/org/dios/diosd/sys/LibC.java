package org.dios.diosd.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The Linux calls the daemon makes, through Panama FFM.
 *
 * <p>Every method returns what the C call returns, except that a failure is
 * returned as {@code -errno} (kernel style) instead of -1 plus errno, so callers
 * never touch thread-local errno state. errno is captured with
 * {@code captureCallState}; the hot calls (futex wake, eventfd read, epoll_wait)
 * capture it too, since the capture costs only a store.
 */
public final class LibC {
    private LibC() {}

    // ---- constants (x86_64 / aarch64 Linux) ----
    public static final int AF_UNIX = 1;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_SEQPACKET = 5;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOL_SOCKET = 1;
    public static final int SO_PASSCRED = 16;
    public static final int SO_PEERCRED = 17;
    public static final int SO_RCVTIMEO = 20;
    public static final int SO_PEERPIDFD = 77;
    public static final int SCM_RIGHTS = 1;
    public static final int SCM_CREDENTIALS = 2;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int MSG_CMSG_CLOEXEC = 0x40000000;
    public static final int MSG_TRUNC = 0x20;
    public static final int MSG_CTRUNC = 0x8;

    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    public static final int O_DIRECTORY = 0x10000;
    public static final int O_CREAT = 0x40;
    public static final int O_EXCL = 0x80;
    public static final int O_NOFOLLOW = 0x20000;
    public static final int SEEK_END = 2;
    public static final int EEXIST = 17;
    public static final int ENOSPC = 28;
    public static final int EDQUOT = 122;
    public static final int EOPNOTSUPP = 95;

    public static final int EFD_NONBLOCK = O_NONBLOCK;
    public static final int EFD_CLOEXEC = O_CLOEXEC;
    public static final int EPOLL_CLOEXEC = O_CLOEXEC;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;
    public static final int EPOLLIN = 0x001;
    public static final int EPOLLOUT = 0x004;
    public static final int EPOLLET = 1 << 31;
    public static final int POLLIN = 0x001;
    public static final int POLLHUP = 0x010;
    public static final int POLLERR = 0x008;
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    public static final int EIO = 5;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final int EPOLLRDHUP = 0x2000;

    public static final int MFD_CLOEXEC = 1;
    public static final int MFD_ALLOW_SEALING = 2;
    public static final int F_ADD_SEALS = 1033;
    public static final int F_GET_SEALS = 1034;
    public static final int F_SEAL_SEAL = 1;
    public static final int F_SEAL_SHRINK = 2;
    public static final int F_SEAL_GROW = 4;

    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;

    public static final long SYS_FUTEX = 202;
    public static final long SYS_PIDFD_OPEN = 434;
    public static final int FUTEX_WAKE = 1; // not FUTEX_PRIVATE: the word is shared across processes

    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int ENOBUFS = 105;
    public static final int EPIPE = 32;
    public static final int ECONNRESET = 104;
    public static final int ENOENT = 2;
    public static final int EMSGSIZE = 90;
    public static final int ECONNREFUSED = 111;
    public static final int ENOPROTOOPT = 92;

    /** {@code struct epoll_event} is packed on x86_64: 12 bytes, data at offset 4. */
    public static final int EPOLL_EVENT_SIZE = 12;
    /** {@code struct msghdr}: 56 bytes with explicit padding after msg_namelen and msg_flags. */
    public static final int MSGHDR_SIZE = 56;
    /** {@code struct sockaddr_un}: sa_family_t + 108-byte path. */
    public static final int SOCKADDR_UN_SIZE = 110;
    public static final int SUN_PATH_MAX = 108;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");
    private static final ThreadLocal<MemorySegment> CAPTURE_SEGMENT =
            ThreadLocal.withInitial(() -> Arena.global().allocate(CAPTURE_LAYOUT));

    private static MethodHandle fn(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] opts = new Linker.Option[extra.length + 1];
        opts[0] = CAPTURE;
        System.arraycopy(extra, 0, opts, 1, extra.length);
        MemorySegment addr = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(addr, fd, opts);
    }

    private static final MethodHandle SOCKET = fn("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = fn("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle CONNECT = fn("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = fn("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SHUTDOWN = fn("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle ACCEPT4 = fn("accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKOPT = fn("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SETSOCKOPT = fn("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SENDTO = fn("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SENDMSG = fn("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECVMSG = fn("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle READ = fn("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = fn("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle CLOSE = fn("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle POLL = fn("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle MEMFD_CREATE = fn("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FTRUNCATE = fn("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FDATASYNC = fn("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FALLOCATE = fn("fallocate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle LSEEK = fn("lseek", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle FCNTL = fn("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle OPEN = fn("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MMAP = fn("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = fn("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle EPOLL_CREATE1 = fn("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CTL = fn("epoll_ctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle EPOLL_WAIT = fn("epoll_wait", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle EVENTFD = fn("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle FCHMOD = fn("fchmod", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle CHMOD = fn("chmod", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle MKDIR = fn("mkdir", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle UNLINK = fn("unlink", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ACCESS = fn("access", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle READLINK = fn("readlink", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle GETUID = fn("getuid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETPID = fn("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle SYSCALL = fn("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LIBC.find("strerror").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private static int errno(MemorySegment cap) {
        return (int) ERRNO.get(cap, 0L);
    }

    private static int ret(int r, MemorySegment cap) {
        return r == -1 ? -errno(cap) : r;
    }

    private static long ret(long r, MemorySegment cap) {
        return r == -1 ? -errno(cap) : r;
    }

    private static RuntimeException wrap(Throwable t) {
        if (t instanceof RuntimeException re) return re;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    public static int socket(int domain, int type, int proto) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) SOCKET.invokeExact(c, domain, type, proto), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static int bind(int fd, MemorySegment addr, int len) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) BIND.invokeExact(c, fd, addr, len), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static int connect(int fd, MemorySegment addr, int len) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) CONNECT.invokeExact(c, fd, addr, len), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static int listen(int fd, int backlog) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) LISTEN.invokeExact(c, fd, backlog), c); } catch (Throwable t) { throw wrap(t); }
    }

    /** shutdown(2): how = 0 (SHUT_RD), 1 (SHUT_WR) or 2 (SHUT_RDWR); 0 or -errno. */
    public static int shutdown(int fd, int how) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) SHUTDOWN.invokeExact(c, fd, how), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static int accept4(int fd, int flags) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try {
            return ret((int) ACCEPT4.invokeExact(c, fd, MemorySegment.NULL, MemorySegment.NULL, flags), c);
        } catch (Throwable t) { throw wrap(t); }
    }

    public static int getsockopt(int fd, int level, int name, MemorySegment val, MemorySegment len) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) GETSOCKOPT.invokeExact(c, fd, level, name, val, len), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static int setsockopt(int fd, int level, int name, MemorySegment val, int len) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) SETSOCKOPT.invokeExact(c, fd, level, name, val, len), c); } catch (Throwable t) { throw wrap(t); }
    }

    /** sendto(2): one datagram of {@code buf} to the address {@code addr} ({@code addrLen} bytes); bytes sent or -errno. */
    public static long sendto(int fd, MemorySegment buf, int flags, MemorySegment addr, int addrLen) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try {
            return ret((long) SENDTO.invokeExact(c, fd, buf, buf.byteSize(), flags, addr, addrLen), c);
        } catch (Throwable t) { throw wrap(t); }
    }

    public static long sendmsg(int fd, MemorySegment msghdr, int flags) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((long) SENDMSG.invokeExact(c, fd, msghdr, flags), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static long recvmsg(int fd, MemorySegment msghdr, int flags) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((long) RECVMSG.invokeExact(c, fd, msghdr, flags), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static long read(int fd, MemorySegment buf, long n) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((long) READ.invokeExact(c, fd, buf, n), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static long write(int fd, MemorySegment buf, long n) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((long) WRITE.invokeExact(c, fd, buf, n), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static int close(int fd) {
        if (fd < 0) return 0;
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) CLOSE.invokeExact(c, fd), c); } catch (Throwable t) { throw wrap(t); }
    }

    /** poll(2) on one fd without waiting: its revents, or -errno. */
    public static int pollNow(int fd, int events) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pfd = a.allocate(8, 4);
            pfd.set(JAVA_INT, 0, fd);
            pfd.set(ValueLayout.JAVA_SHORT, 4, (short) events);
            int r = ret((int) POLL.invokeExact(c, pfd, 1L, 0), c);
            return r < 0 ? r : pfd.get(ValueLayout.JAVA_SHORT, 6) & 0xffff;
        } catch (Throwable t) { throw wrap(t); }
    }

    public static int memfdCreate(MemorySegment name, int flags) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) MEMFD_CREATE.invokeExact(c, name, flags), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static int ftruncate(int fd, long len) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) FTRUNCATE.invokeExact(c, fd, len), c); } catch (Throwable t) { throw wrap(t); }
    }

    /** Data (and the metadata needed to read it, such as the size) to stable storage. 0 or -errno. */
    public static int fdatasync(int fd) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) FDATASYNC.invokeExact(c, fd), c); } catch (Throwable t) { throw wrap(t); }
    }

    /** Allocates disk blocks for [off, off+len) (mode 0: may extend the file). 0 or -errno. */
    public static int fallocate(int fd, int mode, long off, long len) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) FALLOCATE.invokeExact(c, fd, mode, off, len), c); } catch (Throwable t) { throw wrap(t); }
    }

    /** The new offset, or -errno. With (0, SEEK_END): the file's current size. */
    public static long lseek(int fd, long off, int whence) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((long) LSEEK.invokeExact(c, fd, off, whence), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static int fcntl(int fd, int cmd, int arg) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) FCNTL.invokeExact(c, fd, cmd, arg), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static int open(String path, int flags, int mode) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try (Arena a = Arena.ofConfined()) {
            return ret((int) OPEN.invokeExact(c, a.allocateFrom(path), flags, mode), c);
        } catch (Throwable t) { throw wrap(t); }
    }

    /** Returns the mapping's address, or {@code -errno} as a negative long. */
    public static long mmap(long len, int prot, int flags, int fd, long off) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try {
            MemorySegment r = (MemorySegment) MMAP.invokeExact(c, MemorySegment.NULL, len, prot, flags, fd, off);
            long addr = r.address();
            return addr == -1L ? -errno(c) : addr;
        } catch (Throwable t) { throw wrap(t); }
    }

    public static int munmap(long addr, long len) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) MUNMAP.invokeExact(c, MemorySegment.ofAddress(addr), len), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static int epollCreate1(int flags) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) EPOLL_CREATE1.invokeExact(c, flags), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static int epollCtl(int epfd, int op, int fd, MemorySegment event) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) EPOLL_CTL.invokeExact(c, epfd, op, fd, event), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static int epollWait(int epfd, MemorySegment events, int max, int timeoutMs) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) EPOLL_WAIT.invokeExact(c, epfd, events, max, timeoutMs), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static int eventfd(int init, int flags) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) EVENTFD.invokeExact(c, init, flags), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static int fchmod(int fd, int mode) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((int) FCHMOD.invokeExact(c, fd, mode), c); } catch (Throwable t) { throw wrap(t); }
    }

    public static int chmod(String path, int mode) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try (Arena a = Arena.ofConfined()) {
            return ret((int) CHMOD.invokeExact(c, a.allocateFrom(path), mode), c);
        } catch (Throwable t) { throw wrap(t); }
    }

    public static int mkdir(String path, int mode) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try (Arena a = Arena.ofConfined()) {
            return ret((int) MKDIR.invokeExact(c, a.allocateFrom(path), mode), c);
        } catch (Throwable t) { throw wrap(t); }
    }

    public static int unlink(String path) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try (Arena a = Arena.ofConfined()) {
            return ret((int) UNLINK.invokeExact(c, a.allocateFrom(path)), c);
        } catch (Throwable t) { throw wrap(t); }
    }

    /** access(2) with W_OK|X_OK etc. */
    public static int access(String path, int mode) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try (Arena a = Arena.ofConfined()) {
            return ret((int) ACCESS.invokeExact(c, a.allocateFrom(path), mode), c);
        } catch (Throwable t) { throw wrap(t); }
    }

    /** readlink(2) into a String, or null on failure. */
    public static String readlink(String path) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096);
            long n = (long) READLINK.invokeExact(c, a.allocateFrom(path), buf, 4096L);
            if (n < 0 || n >= 4096) return null;
            byte[] b = buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            return new String(b, java.nio.charset.StandardCharsets.UTF_8);
        } catch (Throwable t) { throw wrap(t); }
    }

    public static int getuid() {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return (int) GETUID.invokeExact(c); } catch (Throwable t) { throw wrap(t); }
    }

    public static int getpid() {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return (int) GETPID.invokeExact(c); } catch (Throwable t) { throw wrap(t); }
    }

    public static long syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
        MemorySegment c = CAPTURE_SEGMENT.get();
        try { return ret((long) SYSCALL.invokeExact(c, nr, a1, a2, a3, a4, a5, a6), c); } catch (Throwable t) { throw wrap(t); }
    }

    /** Wakes every waiter on the shared (non-private) futex word at {@code addr}. */
    public static long futexWakeAll(long addr) {
        return syscall(SYS_FUTEX, addr, FUTEX_WAKE, Integer.MAX_VALUE, 0, 0, 0);
    }

    public static int pidfdOpen(int pid) {
        return (int) syscall(SYS_PIDFD_OPEN, pid, 0, 0, 0, 0, 0);
    }

    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(Math.abs(errno));
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) { throw wrap(t); }
    }
}

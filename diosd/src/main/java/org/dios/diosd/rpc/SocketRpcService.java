package org.dios.diosd.rpc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;

import org.dios.abi.Abi;
import org.dios.abi.CqeDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.log.Log;
import org.dios.diosd.log.LogThrottle;
import org.dios.diosd.sys.LibC;
import org.dios.diosd.sys.ListenPause;
import org.dios.diosd.sys.UnixSocket;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The benchmark baseline: the null call served as a conventional Unix-socket
 * RPC by the same daemon process, the way a socket-based daemon would serve
 * it (a platform thread per connection, blocking in read). Each request packet
 * is a struct dios_sqe and each reply a struct dios_cqe. Only D_OP_NOP is
 * served; any other op gets -EOPNOTSUPP. Nothing here touches daemon state.
 *
 * <p>A thread per connection must not become a way to exhaust the daemon: at
 * most {@link #MAX_CONNECTIONS} connections are served at once, at most
 * {@link #MAX_PER_UID} per user by default ({@code --quota-rpc-connections}; others are closed at once), and a connection
 * silent for {@link #IDLE_MILLIS} is closed. Running out of descriptors pauses
 * accepting instead of ending it; such events are logged once per 10 s.
 */
public final class SocketRpcService implements Runnable {
    static final int MAX_CONNECTIONS = 512;
    /** Default of --quota-rpc-connections. */
    public static final int MAX_PER_UID = 128; // perf/bench_scale runs 64 callers of one user
    public static final long IDLE_MILLIS = 10_000;

    private final String path;
    private final int listenFd;
    private final long idleMillis;
    private final int maxPerUid;
    private volatile boolean running = true;
    private final HashMap<Integer, Integer> perUid = new HashMap<>(); // under this
    private int open; // under this
    private final LogThrottle refusedLog = new LogThrottle(Log.Level.WARN, 10_000_000_000L);

    private SocketRpcService(String path, int listenFd, long idleMillis, int maxPerUid) {
        this.path = path;
        this.listenFd = listenFd;
        this.idleMillis = idleMillis;
        this.maxPerUid = maxPerUid;
    }

    /** Binds path (with the control socket's mode) and starts the accept thread; returns null (with a log line) on failure. */
    public static SocketRpcService start(String path, int mode) {
        return start(path, mode, IDLE_MILLIS, MAX_PER_UID);
    }

    /** As {@link #start(String, int)}, closing connections silent for idleMillis (tests). */
    static SocketRpcService start(String path, int mode, long idleMillis) {
        return start(path, mode, idleMillis, MAX_PER_UID);
    }

    /** As {@link #start(String, int)}, closing connections silent for idleMillis (tests). */
    /**
     * As {@link #start(String, int)}, closing connections silent for idleMillis
     * and serving at most maxPerUid connections of one user (--quota-rpc-connections).
     */
    public static SocketRpcService start(String path, int mode, long idleMillis, int maxPerUid) {
        if (maxPerUid < 1) throw new IllegalArgumentException("maxPerUid must be positive: " + maxPerUid);
        LibC.unlink(path);
        int fd = UnixSocket.listenBlocking(path, LibC.SOCK_SEQPACKET, 64);
        if (fd < 0) {
            Log.warn("benchmark RPC socket " + path + ": " + LibC.strerror(fd) + "; not served");
            return null;
        }
        int rc = LibC.chmod(path, mode);
        if (rc < 0) {
            Log.warn("benchmark RPC socket " + path + ": chmod: " + LibC.strerror(rc) + "; not served");
            LibC.close(fd);
            LibC.unlink(path);
            return null;
        }
        SocketRpcService s = new SocketRpcService(path, fd, idleMillis, maxPerUid);
        Thread t = Thread.ofPlatform().daemon().name("diosd-rpc-accept").start(s);
        return s;
    }

    @Override
    public void run() {
        while (running) {
            int c = LibC.accept4(listenFd, LibC.SOCK_CLOEXEC);
            if (c < 0) {
                if (!running) return;
                if (c == -LibC.EINTR) continue;
                refusedLog.log("benchmark RPC accept: " + LibC.strerror(c), System.nanoTime());
                if (ListenPause.exhausted(c)) {
                    pause(); // out of descriptors: try again later, do not spin
                    continue;
                }
                return;
            }
            UnixSocket.PeerCred cred = UnixSocket.peerCred(c);
            int uid = cred == null ? -1 : cred.uid();
            String refused = admit(uid);
            if (refused != null) {
                refusedLog.log("benchmark RPC: refused uid " + uid + ": " + refused, System.nanoTime());
                LibC.close(c);
                continue;
            }
            UnixSocket.setReceiveTimeout(c, idleMillis);
            try {
                Thread.ofPlatform().daemon().name("diosd-rpc-" + c).start(() -> serve(c, uid));
            } catch (OutOfMemoryError e) { // no thread to be had: this connection only
                leave(uid);
                LibC.close(c);
            }
        }
    }

    /** Counts a new connection of uid in; null, or why it may not be served. */
    synchronized String admit(int uid) {
        if (open >= MAX_CONNECTIONS) return MAX_CONNECTIONS + " connections are served already";
        int mine = perUid.getOrDefault(uid, 0);
        if (mine >= maxPerUid) return "it has " + maxPerUid + " connections already (--quota-rpc-connections)";
        perUid.put(uid, mine + 1);
        open++;
        return null;
    }

    synchronized void leave(int uid) {
        open--;
        perUid.merge(uid, -1, (a, b) -> a + b == 0 ? null : a + b);
    }

    /** Connections served now (tests). */
    synchronized int open() {
        return open;
    }

    private static void pause() {
        try {
            Thread.sleep(ListenPause.PAUSE_NANOS / 1_000_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void serve(int fd, int uid) {
        try {
            serve(fd);
        } finally {
            leave(uid);
        }
    }

    /** Until EOF, an error, a malformed packet or idleMillis of silence (the read fails with EAGAIN). */
    private static void serve(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment req = a.allocate(SqeDescriptor.SIZE, 8);
            MemorySegment rep = a.allocate(CqeDescriptor.SIZE, 8);
            while (true) {
                long n = LibC.read(fd, req, SqeDescriptor.SIZE);
                if (n == -LibC.EINTR) continue;
                if (n != SqeDescriptor.SIZE) break; // EOF, error or a malformed packet: hang up
                int op = req.get(JAVA_BYTE, SqeDescriptor.OPCODE_OFFSET) & 0xff;
                rep.fill((byte) 0);
                rep.set(JAVA_LONG, CqeDescriptor.USER_DATA_OFFSET, req.get(JAVA_LONG, SqeDescriptor.USER_DATA_OFFSET));
                rep.set(JAVA_INT, CqeDescriptor.RES_OFFSET, op == Abi.D_OP_NOP ? 0 : -Abi.DIOS_EOPNOTSUPP);
                if (LibC.write(fd, rep, CqeDescriptor.SIZE) != CqeDescriptor.SIZE) break;
            }
        } finally {
            LibC.close(fd);
        }
    }

    public void stop() {
        running = false;
        LibC.unlink(path);
        LibC.close(listenFd); // wakes nobody blocked in accept on Linux; the thread is a daemon thread
    }
}

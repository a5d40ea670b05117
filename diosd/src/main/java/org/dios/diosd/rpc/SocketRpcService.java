package org.dios.diosd.rpc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.dios.abi.Abi;
import org.dios.abi.CqeDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.log.Log;
import org.dios.diosd.sys.LibC;
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
 */
public final class SocketRpcService implements Runnable {
    private final String path;
    private final int listenFd;
    private volatile boolean running = true;

    private SocketRpcService(String path, int listenFd) {
        this.path = path;
        this.listenFd = listenFd;
    }

    /** Binds path (with the control socket's mode) and starts the accept thread; returns null (with a log line) on failure. */
    public static SocketRpcService start(String path, int mode) {
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
        SocketRpcService s = new SocketRpcService(path, fd);
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
                Log.warn("benchmark RPC accept: " + LibC.strerror(c));
                return;
            }
            Thread.ofPlatform().daemon().name("diosd-rpc-" + c).start(() -> serve(c));
        }
    }

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

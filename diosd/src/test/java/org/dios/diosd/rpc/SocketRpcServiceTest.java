package org.dios.diosd.rpc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;

import org.dios.abi.Abi;
import org.dios.abi.CqeDescriptor;
import org.dios.abi.SqeDescriptor;
import org.dios.diosd.sys.LibC;
import org.dios.diosd.sys.UnixSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.*;

/** The benchmark RPC socket serves null calls, and one user's crowd of connections gets no more than its share of threads. */
class SocketRpcServiceTest {
    @TempDir
    Path dir;

    /** One null call on fd: its result, or Integer.MIN_VALUE if the service hung up (or 5 s passed). */
    private static int nop(int fd, Arena a, long tag) {
        MemorySegment req = a.allocate(SqeDescriptor.SIZE, 8);
        MemorySegment rep = a.allocate(CqeDescriptor.SIZE, 8);
        req.set(JAVA_BYTE, SqeDescriptor.OPCODE_OFFSET, (byte) Abi.D_OP_NOP);
        req.set(JAVA_LONG, SqeDescriptor.USER_DATA_OFFSET, tag);
        if (LibC.write(fd, req, SqeDescriptor.SIZE) != SqeDescriptor.SIZE) return Integer.MIN_VALUE;
        UnixSocket.setReceiveTimeout(fd, 5000);
        if (LibC.read(fd, rep, CqeDescriptor.SIZE) != CqeDescriptor.SIZE) return Integer.MIN_VALUE;
        assertEquals(tag, rep.get(JAVA_LONG, CqeDescriptor.USER_DATA_OFFSET));
        return rep.get(JAVA_INT, CqeDescriptor.RES_OFFSET);
    }

    @Test
    void aUserBeyondItsShareIsHungUpOnAndServedAgainOnceBelowIt() throws Exception {
        String path = dir.resolve("d.sock.rpc").toString();
        SocketRpcService s = SocketRpcService.start(path, 0600);
        assertNotNull(s);
        ArrayList<Integer> fds = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            for (int i = 0; i < SocketRpcService.MAX_PER_UID; i++) {
                int fd = UnixSocket.connect(path, LibC.SOCK_SEQPACKET);
                assertTrue(fd >= 0, "connect: " + LibC.strerror(fd));
                fds.add(fd);
                assertEquals(0, nop(fd, a, i + 1), "connection " + i + " is served");
            }
            int extra = UnixSocket.connect(path, LibC.SOCK_SEQPACKET);
            assertTrue(extra >= 0);
            assertEquals(Integer.MIN_VALUE, nop(extra, a, 999), "one more of the same user: hung up on");
            LibC.close(extra);
            assertEquals(SocketRpcService.MAX_PER_UID, s.open());

            LibC.close(fds.remove(0));
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (s.open() >= SocketRpcService.MAX_PER_UID && System.nanoTime() < deadline) Thread.sleep(10);
            int again = UnixSocket.connect(path, LibC.SOCK_SEQPACKET);
            assertEquals(0, nop(again, a, 1000), "below its share again: served");
            fds.add(again);
        } finally {
            for (int fd : fds) LibC.close(fd);
            s.stop();
        }
        assertFalse(Files.exists(Path.of(path)));
    }

    @Test
    void aSilentConnectionIsClosedAndItsThreadEnds() throws Exception {
        String path = dir.resolve("d.sock.rpc").toString();
        SocketRpcService s = SocketRpcService.start(path, 0600, 300);
        int fd = UnixSocket.connect(path, LibC.SOCK_SEQPACKET);
        try (Arena a = Arena.ofConfined()) {
            assertEquals(0, nop(fd, a, 1));
            assertEquals(1, s.open());
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (s.open() > 0 && System.nanoTime() < deadline) Thread.sleep(20);
            assertEquals(0, s.open(), "closed after 300 ms of silence");
            assertEquals(Integer.MIN_VALUE, nop(fd, a, 2), "the service hung up");
        } finally {
            LibC.close(fd);
            s.stop();
        }
    }

    @Test
    void otherOpsAreRefusedWithEopnotsupp() {
        String path = dir.resolve("d.sock.rpc").toString();
        SocketRpcService s = SocketRpcService.start(path, 0600);
        int fd = UnixSocket.connect(path, LibC.SOCK_SEQPACKET);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment req = a.allocate(SqeDescriptor.SIZE, 8);
            MemorySegment rep = a.allocate(CqeDescriptor.SIZE, 8);
            req.set(JAVA_BYTE, SqeDescriptor.OPCODE_OFFSET, (byte) Abi.D_OP_CREATE);
            assertEquals(SqeDescriptor.SIZE, LibC.write(fd, req, SqeDescriptor.SIZE));
            assertEquals(CqeDescriptor.SIZE, LibC.read(fd, rep, CqeDescriptor.SIZE));
            assertEquals(-Abi.DIOS_EOPNOTSUPP, rep.get(JAVA_INT, CqeDescriptor.RES_OFFSET));
        } finally {
            LibC.close(fd);
            s.stop();
        }
    }
}

package org.dios.diosd;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.dios.diosd.sys.LibC;
import org.dios.diosd.sys.UnixSocket;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Who can reach the daemon's sockets: the file is owner-only from the moment
 * it exists, and the daemon refuses a socket directory someone else could
 * use to replace its socket. (t_cap_socket checks the same from another uid
 * against a running daemon.)
 */
class SocketPermissionsTest {
    @TempDir
    Path dir;

    private static int mode(Path p) throws Exception {
        return (Integer) Files.getAttribute(p, "unix:mode") & 07777;
    }

    @Test
    void aSocketIsBornOwnerOnlyWhateverTheUmask() throws Exception {
        for (int type : new int[] {LibC.SOCK_SEQPACKET, LibC.SOCK_STREAM}) {
            Path p = dir.resolve("s" + type);
            int fd = UnixSocket.listen(p.toString(), type, 4);
            assertTrue(fd >= 0, "listen: " + fd);
            try {
                // before any chmod: bind gave the file the socket's own mode (0600), less the umask
                assertEquals(0, mode(p) & 0077, "group and others have no access: 0" + Integer.toOctalString(mode(p)));
                assertEquals(0600, mode(p) & 0700);
            } finally {
                LibC.close(fd);
                LibC.unlink(p.toString());
            }
        }
    }

    @Test
    void socketDirectoryMustBeOursAndNotWritableByOthersUnlessSticky() throws Exception {
        Path d = Files.createDirectory(dir.resolve("sockets"));
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx------"));
        Main.checkSocketDir(d);                                   // private: fine
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
        Main.checkSocketDir(d);                                   // others may look, not write: fine
        for (String bad : new String[] {"rwxrwxrwx", "rwxrwx---", "rwx---rwx"}) {
            Files.setPosixFilePermissions(d, PosixFilePermissions.fromString(bad));
            Main.StartupException e = assertThrows(Main.StartupException.class, () -> Main.checkSocketDir(d), bad);
            assertEquals(1, e.exitCode);
            assertTrue(e.getMessage().contains("writable by others") && e.getMessage().contains("not sticky"), e.getMessage());
        }
        assertEquals(0, LibC.chmod(d.toString(), 01777));        // like /tmp: others cannot remove our socket
        Main.checkSocketDir(d);
    }

    @Test
    void socketDirectoryOfAnotherUserIsRefused() throws Exception {
        assumeTrue(LibC.getuid() == 0, "needs root to give the directory away");
        Path d = Files.createDirectory(dir.resolve("theirs"));
        Files.setAttribute(d, "unix:uid", 65534);               // nobody made it, in advance
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx------"));
        Main.StartupException e = assertThrows(Main.StartupException.class, () -> Main.checkSocketDir(d));
        assertTrue(e.getMessage().contains("belongs to uid 65534"), e.getMessage());
        Files.setAttribute(d, "unix:uid", 0);
        Main.checkSocketDir(d);                                   // root's: fine
    }
}

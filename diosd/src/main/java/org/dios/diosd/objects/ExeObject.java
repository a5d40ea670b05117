package org.dios.diosd.objects;

import java.util.HashMap;

import org.dios.abi.Abi;
import org.dios.diosd.sys.LibC;

/**
 * An executable (D_OBJ_EXE): a program file, named by SHA-256 of its
 * canonical absolute path, as the original DIOS named executables. The name
 * is well known (every task resolves it, whatever its groups), stable across
 * rebuilds of the file, and computed without reading the file.
 *
 * <p>The daemon never opens the path (issue 18.1, 18.9): the task's shim
 * opens the file with the task's own credentials (no symlink at the end, no
 * blocking open, a regular file only) and sends the fd with the CREATE. The
 * object keeps one such fd per user, the last one that user's tasks sent, and
 * a spawn runs from the fd of the parent's user, dup'd for the spawner thread.
 * A user whose tasks sent none can run only its own program (a copy of
 * oneself: the spawner opens /proc/PID/exe of the caller). So no user runs a
 * file through another user's open, and nothing here touches the file system:
 * the spawner checks off the conductor that the fd is still the file at the
 * path (the kernel's own path of it), that it is a regular file, and its brand,
 * on the fd the task is then executed from. Each running task holds its own
 * executable's object, so dios_pickref(dios_self_exe()) always resolves.
 */
public final class ExeObject extends DObject {
    public final String path;
    /** uid -> the fd its tasks' last CREATE sent (the daemon's, close-on-exec). Conductor thread only. */
    private final HashMap<Integer, Integer> fileByUid = new HashMap<>(2);

    ExeObject(long id, long ownerTask, String path) {
        super(id, Abi.D_OBJ_EXE, ownerTask);
        this.path = path;
    }

    /**
     * dios_create of an executable: the canonical absolute path the shim
     * resolved, and the file it opened (req.exeFd, owned from here on). Creating
     * an existing one gives another reference to it, with this user's file
     * replaced by the new one (a program rebuilt in place runs anew once its
     * user calls dios_exe again).
     */
    static DObject create(CreateRequest req) {
        int fd = req.exeFd;
        req.exeFd = -1;
        if (req.refsFull()) {
            LibC.close(fd);
            return req.fail(-Abi.DIOS_ENOMEM);
        }
        ExeObject e = forPath(req.objects(), req.path, req.task.taskId);
        if (e == null) {
            LibC.close(fd);
            return req.fail(-Abi.DIOS_EEXIST);
        }
        e.setFile(req.task.uid, fd);
        return e;
    }

    /** Keeps fd (owned from here on) as uid's file of this program, closing the one it replaces. */
    void setFile(int uid, int fd) {
        Integer old = fileByUid.put(uid, fd);
        if (old != null) LibC.close(old);
    }

    /** uid's file of this program (the daemon's fd: dup it to hand it on), or -1 if its tasks sent none. */
    public int fileFor(int uid) {
        Integer fd = fileByUid.get(uid);
        return fd == null ? -1 : fd;
    }

    /**
     * The executable object for a canonical path: the bound one (a count
     * taken), or a new one bound under its well-known name. null if the name
     * is taken by something else (never: the console's is not a path).
     */
    public static ExeObject forPath(ObjectManager objects, String path, long taskId) {
        Name n = Name.fromString(path);
        DObject o = objects.resolveWellKnown(n);
        if (o != null) {
            ExeObject e = o.asExecutable();
            return e != null && e.tryRetain() ? e : null;
        }
        ExeObject e = new ExeObject(objects.newObjectId(), taskId, path);
        objects.adopt(e);
        objects.bindWellKnown(n, e);
        return e;
    }

    /** Every task may run it, none may write it: lookups are read-only. */
    @Override
    public int lookupPerms(boolean readOnly) {
        return Abi.D_PERM_READ;
    }

    @Override
    public ExeObject asExecutable() {
        return this;
    }

    @Override
    protected void freeResources(Stats stats) {
        for (int fd : fileByUid.values()) LibC.close(fd);
        fileByUid.clear();
    }
}

package org.dios.diosd.objects;

import org.dios.abi.Abi;

/**
 * An executable (D_OBJ_EXE): a program file, named by SHA-256 of its
 * canonical absolute path, as the original DIOS named executables. The name
 * is well known (every task resolves it, whatever its groups), stable across
 * rebuilds of the file, and computed without reading the file; the brand and
 * the file itself are checked when a task is spawned from it, on the open fd
 * the task is executed from (no window to swap the file between check and
 * exec). Each running task holds its own executable's object, so
 * dios_pickref(dios_self_exe()) always resolves.
 */
public final class ExeObject extends DObject {
    public final String path;

    ExeObject(long id, long ownerTask, String path) {
        super(id, Abi.D_OBJ_EXE, ownerTask);
        this.path = path;
    }

    /**
     * dios_create of an executable: an absolute path, canonicalised here (the
     * name is SHA-256 of the canonical path). Creating an existing one gives
     * another reference to it.
     */
    static DObject create(CreateRequest req) {
        if (req.refsFull()) return req.fail(-Abi.DIOS_ENOMEM);
        String canonical;
        try {
            java.nio.file.Path real = java.nio.file.Path.of(req.path).toRealPath();
            if (!java.nio.file.Files.isRegularFile(real)) return req.fail(-Abi.DIOS_EACCES);
            canonical = real.toString();
        } catch (java.nio.file.NoSuchFileException e) {
            return req.fail(-Abi.DIOS_ENOENT);
        } catch (java.nio.file.InvalidPathException e) {
            return req.fail(-Abi.DIOS_EINVAL);
        } catch (java.io.IOException | SecurityException e) {
            return req.fail(-Abi.DIOS_EACCES);
        }
        ExeObject e = forPath(req.objects(), canonical, req.task.taskId);
        return e != null ? e : req.fail(-Abi.DIOS_EEXIST);
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
    }
}

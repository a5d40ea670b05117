package org.dios.diosd.core;

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

    @Override
    protected void freeResources(Stats stats) {
    }
}

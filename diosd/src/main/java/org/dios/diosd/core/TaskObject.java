package org.dios.diosd.core;

import org.dios.abi.Abi;

/** The object that stands for a running task; its reference is what dios_self() returns. */
public final class TaskObject extends DObject {
    public final int pid;

    public TaskObject(long id, long taskId, int pid) {
        super(id, Abi.D_OBJ_TASK, taskId);
        this.pid = pid;
    }

    @Override
    protected void freeResources(Stats stats) {
        // Nothing beyond metadata yet; the task issue adds the exit status.
    }
}

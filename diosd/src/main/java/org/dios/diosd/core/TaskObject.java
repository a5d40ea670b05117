package org.dios.diosd.core;

import org.dios.abi.Abi;

/** The object that stands for a running task; its reference is what dios_self() returns. */
public final class TaskObject extends DObject {
    public final int pid;

    public TaskObject(long id, long taskId, int pid) {
        super(id, Abi.D_OBJ_TASK, taskId);
        this.pid = pid;
    }

    private boolean exited;

    /** The task is gone: a dios_select on its reference is ready. */
    void exited(CallDispatcher d) {
        exited = true;
        wakeWaiters(d);
    }

    @Override
    boolean readyFor(Reference r, TaskSession task) {
        return exited || !r.live;
    }

    @Override
    public int readiness() {
        return exited ? Abi.D_REF_STATE_READABLE : 0;
    }

    @Override
    protected void freeResources(Stats stats) {
        // Nothing beyond metadata yet; the task issue adds the exit status.
    }
}

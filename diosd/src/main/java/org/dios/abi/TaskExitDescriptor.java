package org.dios.abi;

/** {@code struct dios_task_exit}: what reading a task reference yields (built by the shim from CQE val[]). */
public final class TaskExitDescriptor {
    private TaskExitDescriptor() {}

    public static final int STATUS_OFFSET = 0;
    public static final int PID_OFFSET = 4;
    public static final int TASK_ID_OFFSET = 8;
    public static final int SIZE = 16;
}

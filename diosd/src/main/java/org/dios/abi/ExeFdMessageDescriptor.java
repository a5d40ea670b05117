package org.dios.abi;

/**
 * {@code struct dios_msg_exe_fd}: task to daemon, with one fd (a program file the task
 * opened), sent just before the CREATE D_OBJ_EXE entry whose user_data it carries.
 */
public final class ExeFdMessageDescriptor {
    private ExeFdMessageDescriptor() {}

    public static final int MAGIC_OFFSET = 0;
    public static final int RSVD_OFFSET = 4;
    public static final int USER_DATA_OFFSET = 8;
    public static final int SIZE = 16;
}

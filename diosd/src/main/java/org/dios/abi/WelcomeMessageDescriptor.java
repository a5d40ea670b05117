package org.dios.abi;

/** {@code struct dios_msg_welcome}: daemon to task, with the region and doorbell fds. */
public final class WelcomeMessageDescriptor {
    private WelcomeMessageDescriptor() {}

    public static final int MAGIC_OFFSET = 0;
    public static final int ABI_VERSION_OFFSET = 4;
    public static final int STATUS_OFFSET = 8;
    public static final int REGION_SIZE_OFFSET = 12;
    public static final int TASK_ID_OFFSET = 16;
    public static final int RSVD_OFFSET = 24;
    public static final int SIZE = 32;
}

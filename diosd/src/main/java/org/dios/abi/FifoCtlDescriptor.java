package org.dios.abi;

/** {@code struct dios_fifo_ctl}: a FIFO's control page, shared read-write by its two ends. */
public final class FifoCtlDescriptor {
    private FifoCtlDescriptor() {}

    public static final int CAPACITY_OFFSET = 0;
    public static final int MAGIC_OFFSET = 8;
    public static final int PAD0_OFFSET = 12;
    public static final int RSVD_INFO_OFFSET = 16;
    public static final int TAIL_OFFSET = 128;
    public static final int PAD_TAIL_OFFSET = 136;
    public static final int HEAD_OFFSET = 256;
    public static final int PAD_HEAD_OFFSET = 264;
    public static final int WAITERS_OFFSET = 384;
    public static final int PAD_WAITERS_OFFSET = 388;
    public static final int STATE_OFFSET = 512;
    public static final int PAD_STATE_OFFSET = 516;
    public static final int SIZE = 640;
}

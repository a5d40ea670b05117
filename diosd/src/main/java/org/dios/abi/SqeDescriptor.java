package org.dios.abi;

/**
 * Layout of {@code struct dios_sqe} (128 bytes, written by the task).
 *
 * <pre>
 *   0               8               16              24              32
 *   +-+-+---+-------+---------------+---------------+---------------+
 *   |o|f|rsv|objtype|   user_data   |     flags     |      ref      |
 *   +-+-+---+-------+---------------+---------------+---------------+
 *   32              40              48              56              64
 *   |      len      |      buf      |     ref2      |  timeout_ns   |
 *   +---------------+---------------+---------------+---------------+
 *   64  name[32]                                                    96
 *   96  rsvd3[4]                                                   128
 * </pre>
 */
public final class SqeDescriptor {
    private SqeDescriptor() {}

    public static final int OPCODE_OFFSET = 0;
    public static final int SQE_FLAGS_OFFSET = 1;
    public static final int RSVD0_OFFSET = 2;
    public static final int OBJ_TYPE_OFFSET = 4;
    public static final int USER_DATA_OFFSET = 8;
    public static final int FLAGS_OFFSET = 16;
    public static final int REF_OFFSET = 24;
    public static final int LEN_OFFSET = 32;
    public static final int BUF_OFFSET = 40;
    public static final int REF2_OFFSET = 48;
    /** With D_TIMEOUT: the relative deadline in ns; otherwise must be 0. */
    public static final int TIMEOUT_NS_OFFSET = 56;
    public static final int NAME_OFFSET = 64;
    public static final int RSVD3_OFFSET = 96;
    public static final int SIZE = 128;
}

package org.dios.abi;

/**
 * Layout of {@code struct dios_cqe} (64 bytes, written by the daemon).
 *
 * <pre>
 *   0               8       12      16                              64
 *   +---------------+-------+-------+-------------------------------+
 *   |   user_data   |  res  | flags |           val[6]              |
 *   +---------------+-------+-------+-------------------------------+
 * </pre>
 */
public final class CqeDescriptor {
    private CqeDescriptor() {}

    public static final int USER_DATA_OFFSET = 0;
    public static final int RES_OFFSET = 8;
    public static final int FLAGS_OFFSET = 12;
    public static final int VAL_OFFSET = 16;
    public static final int VAL_COUNT = 6;
    public static final int SIZE = 64;
}

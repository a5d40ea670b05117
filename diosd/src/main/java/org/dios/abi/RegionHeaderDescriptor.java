package org.dios.abi;

/**
 * Layout of {@code struct dios_region_header}: the first 1024 bytes of a task's
 * region. Hot words sit 128 bytes apart so that no two share a cache line,
 * even with adjacent-line prefetch.
 *
 * <pre>
 *   0       128     256     384     512     640     768     896    1024
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   | info  |sq_tail|sq_head|sq_flgs|cq_tail|cq_head|cq_wait|dstate |
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   4096: SQ (64 x 128 B), then CQ (128 x 64 B)
 * </pre>
 */
public final class RegionHeaderDescriptor {
    private RegionHeaderDescriptor() {}

    public static final int MAGIC_OFFSET = 0;
    public static final int ABI_VERSION_OFFSET = 4;
    public static final int REGION_SIZE_OFFSET = 8;
    public static final int SQ_OFFSET_OFFSET = 12;
    public static final int SQ_ENTRIES_OFFSET = 16;
    public static final int SQE_SIZE_OFFSET = 20;
    public static final int CQ_OFFSET_OFFSET = 24;
    public static final int CQ_ENTRIES_OFFSET = 28;
    public static final int CQE_SIZE_OFFSET = 32;
    public static final int PAD0_OFFSET = 36;
    public static final int TASK_ID_OFFSET = 40;
    public static final int SELF_REF_OFFSET = 48;
    public static final int PID_OFFSET = 56;
    public static final int SELF_EXE_OFFSET = 64;
    public static final int RSVD_INFO_OFFSET = 96;
    public static final int SQ_TAIL_OFFSET = 128;
    public static final int PAD_SQ_TAIL_OFFSET = 132;
    public static final int SQ_HEAD_OFFSET = 256;
    public static final int PAD_SQ_HEAD_OFFSET = 260;
    public static final int SQ_FLAGS_OFFSET = 384;
    public static final int PAD_SQ_FLAGS_OFFSET = 388;
    public static final int CQ_TAIL_OFFSET = 512;
    public static final int PAD_CQ_TAIL_OFFSET = 516;
    public static final int CQ_HEAD_OFFSET = 640;
    public static final int PAD_CQ_HEAD_OFFSET = 644;
    public static final int CQ_WAITERS_OFFSET = 768;
    public static final int PAD_CQ_WAITERS_OFFSET = 772;
    public static final int DAEMON_STATE_OFFSET = 896;
    public static final int PAD_DAEMON_STATE_OFFSET = 900;
    public static final int SIZE = 1024;

    /** Throws unless {@code entries} is a positive power of two. */
    public static int checkCapacity(int entries) {
        if (entries <= 0 || Integer.bitCount(entries) != 1) {
            throw new IllegalStateException("ring capacity must be a positive power of 2: entries=" + entries);
        }
        return entries;
    }
}

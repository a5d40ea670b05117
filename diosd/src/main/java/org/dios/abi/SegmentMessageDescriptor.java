package org.dios.abi;

/** {@code struct dios_msg_segment}: daemon to task, with one segment fd, sent before the acquire's completion. */
public final class SegmentMessageDescriptor {
    private SegmentMessageDescriptor() {}

    public static final int MAGIC_OFFSET = 0;
    public static final int PROT_OFFSET = 4;
    public static final int SEG_ID_OFFSET = 8;
    public static final int SIZE_OFFSET = 16;
    public static final int RSVD_OFFSET = 24;
    public static final int SIZE = 32;
}

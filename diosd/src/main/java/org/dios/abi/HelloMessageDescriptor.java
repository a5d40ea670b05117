package org.dios.abi;

/** {@code struct dios_msg_hello}: task to daemon, the first packet on the control socket. */
public final class HelloMessageDescriptor {
    private HelloMessageDescriptor() {}

    public static final int MAGIC_OFFSET = 0;
    public static final int ABI_VERSION_OFFSET = 4;
    public static final int FLAGS_OFFSET = 8;
    public static final int RSVD_OFFSET = 16;
    public static final int SIZE = 32;
}

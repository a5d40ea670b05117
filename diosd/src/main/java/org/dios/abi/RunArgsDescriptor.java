package org.dios.abi;

/** {@code struct dios_run_args}: the head of a RUN call's task spec in the args area. */
public final class RunArgsDescriptor {
    private RunArgsDescriptor() {}

    public static final int ARGC_OFFSET = 0;
    public static final int REF_COUNT_OFFSET = 4;
    public static final int GROUP_COUNT_OFFSET = 8;
    public static final int ARGV_BYTES_OFFSET = 12;
    public static final int SIZE = 16;
}

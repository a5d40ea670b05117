package org.dios.client;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The dios.h structs this client reads or writes through FFM, declared once. Each layout is named
 * after its C struct tag and each member after its C field; {@code AbiMirrorTest} holds them to the
 * compiler's sizeof/offsetof of the header (native/build/abi_dump) both ways, so a field added,
 * moved or resized in C fails the build instead of misreading memory. Code uses the offsets below,
 * never a number.
 */
final class Layouts {
    private Layouts() {}

    /** dios_name_t: 256 bits. */
    static final StructLayout NAME = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(32, JAVA_BYTE).withName("raw")).withName("dios_name");

    /** dios_iovec_t: what an acquire hands out. */
    static final StructLayout IOVEC = MemoryLayout.structLayout(
            ADDRESS.withName("buf"),
            JAVA_LONG.withName("len")).withName("dios_iovec");

    /** dios_task_spec_t: dios_run's argument. */
    static final StructLayout TASK_SPEC = MemoryLayout.structLayout(
            JAVA_INT.withName("argc"),
            MemoryLayout.paddingLayout(4),
            ADDRESS.withName("argv"),
            ADDRESS.withName("refs"),
            JAVA_LONG.withName("ref_count"),
            ADDRESS.withName("groups"),
            JAVA_LONG.withName("group_count")).withName("dios_task_spec");

    /** dios_ref_info_t. */
    static final StructLayout REF_INFO = MemoryLayout.structLayout(
            JAVA_INT.withName("type"),
            JAVA_INT.withName("perms"),
            JAVA_INT.withName("state"),
            JAVA_INT.withName("proximity"),
            JAVA_INT.withName("consistency"),
            JAVA_INT.withName("pad"),
            JAVA_LONG.withName("size"),
            JAVA_LONG.withName("object_id")).withName("dios_ref_info");

    /** dios_daemon_stats_t: six counters, in the order {@link Dios#daemonStats()} documents. */
    static final StructLayout DAEMON_STATS = MemoryLayout.structLayout(
            JAVA_LONG.withName("tasks"),
            JAVA_LONG.withName("objects"),
            JAVA_LONG.withName("names"),
            JAVA_LONG.withName("refs"),
            JAVA_LONG.withName("buffers"),
            JAVA_LONG.withName("segments")).withName("dios_daemon_stats");

    static long offset(StructLayout s, String field) {
        return s.byteOffset(PathElement.groupElement(field));
    }

    static final long IOVEC_BUF = offset(IOVEC, "buf");
    static final long IOVEC_LEN = offset(IOVEC, "len");

    static final long TASK_SPEC_ARGC = offset(TASK_SPEC, "argc");
    static final long TASK_SPEC_ARGV = offset(TASK_SPEC, "argv");
    static final long TASK_SPEC_REFS = offset(TASK_SPEC, "refs");
    static final long TASK_SPEC_REF_COUNT = offset(TASK_SPEC, "ref_count");
    static final long TASK_SPEC_GROUPS = offset(TASK_SPEC, "groups");
    static final long TASK_SPEC_GROUP_COUNT = offset(TASK_SPEC, "group_count");

    static final long REF_INFO_TYPE = offset(REF_INFO, "type");
    static final long REF_INFO_PERMS = offset(REF_INFO, "perms");
    static final long REF_INFO_STATE = offset(REF_INFO, "state");
    static final long REF_INFO_SIZE = offset(REF_INFO, "size");
}

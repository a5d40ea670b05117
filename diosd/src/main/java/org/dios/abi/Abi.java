package org.dios.abi;

/**
 * Constants of {@code native/include/dios/dios_abi.h}, mirrored for the daemon.
 *
 * <p>The C header is the source of truth. {@code AbiLayoutTest} runs
 * {@code native/build/abi_dump} and requires that every {@code const.NAME} it
 * prints has a field here with the same name and value, and every field here
 * is printed by it. Add a constant to the header first, then here.
 */
public final class Abi {
    private Abi() {}

    public static final long DIOS_ABI_VERSION = 3;
    public static final long DIOS_REGION_MAGIC = 0x534f4944L;

    public static final long DIOS_NAME_BYTES = 32;
    public static final long DIOS_NAME_STRLEN = 44;

    // object types
    public static final int D_OBJ_NONE = 0;
    public static final int D_OBJ_PRIVMEM = 1;
    public static final int D_OBJ_SHMEM = 2;
    public static final int D_OBJ_FIFO = 3;
    public static final int D_OBJ_BLOB = 4;
    public static final int D_OBJ_CONSOLE = 5;
    public static final int D_OBJ_TASK = 6;
    public static final int D_OBJ_GROUP = 7;
    public static final int D_OBJ_EXE = 8;
    public static final int D_OBJ_LAST = 9;

    // op codes
    public static final int D_OP_NOP = 0;
    public static final int D_OP_CREATE = 1;
    public static final int D_OP_LOOKUP = 2;
    public static final int D_OP_COPY = 3;
    public static final int D_OP_DELETE = 4;
    public static final int D_OP_RUN = 5;
    public static final int D_OP_SELECT = 6;
    public static final int D_OP_ACQUIRE_READ = 7;
    public static final int D_OP_COMMIT_READ = 8;
    public static final int D_OP_RELEASE_READ = 9;
    public static final int D_OP_ACQUIRE_WRITE = 10;
    public static final int D_OP_COMMIT_WRITE = 11;
    public static final int D_OP_RELEASE_WRITE = 12;
    public static final int D_OP_REF_INFO = 13;
    public static final int D_OP_STATS = 14;
    public static final int D_OP_NOTIFY = 15;
    public static final int D_OP_DELEGATED = 16;
    public static final int D_OP_LAST = 17;

    // error codes (positive; calls return the negation)
    public static final int DIOS_EPERM = 1;
    public static final int DIOS_ESRCH = 3;
    public static final int DIOS_E2BIG = 7;
    public static final int DIOS_ENOEXEC = 8;
    public static final int DIOS_EBUSY = 16;
    public static final int DIOS_ENOENT = 2;
    public static final int DIOS_EIO = 5;
    public static final int DIOS_EBADF = 9;
    public static final int DIOS_EAGAIN = 11;
    public static final int DIOS_ENOMEM = 12;
    public static final int DIOS_EACCES = 13;
    public static final int DIOS_EFAULT = 14;
    public static final int DIOS_EEXIST = 17;
    public static final int DIOS_EINVAL = 22;
    public static final int DIOS_ENOSPC = 28;
    public static final int DIOS_EPIPE = 32;
    public static final int DIOS_ENOSYS = 38;
    public static final int DIOS_EIDRM = 43;
    public static final int DIOS_EPROTO = 71;
    public static final int DIOS_EOPNOTSUPP = 95;
    public static final int DIOS_ENOTCONN = 107;
    public static final int DIOS_ETIMEDOUT = 110;
    public static final int DIOS_EDQUOT = 122;
    public static final int DIOS_EHOSTDOWN = 112;
    public static final int DIOS_ESTALE = 116;

    // call flags
    public static final long D_NONBLOCK = 1L << 0;
    public static final long D_TIMEOUT = 1L << 1;
    public static final long D_CREATE_NAME_GIVEN = 1L << 8;
    public static final long D_CREATE_NAMED = 1L << 9;
    public static final long D_CREATE_PUBLIC = 1L << 10;
    public static final long D_NAME_DETERMINISTIC_STRING = D_CREATE_NAME_GIVEN;
    public static final long D_LOOKUP_READONLY = 1L << 12;
    public static final long D_LOOKUP_PUBLIC = 1L << 13;
    public static final long D_DELETE_ZOMBIFY = 1L << 16;
    public static final long D_FLAGS_CREATE_MASK = D_NONBLOCK | D_CREATE_NAME_GIVEN | D_CREATE_NAMED | D_CREATE_PUBLIC;
    public static final long D_FLAGS_LOOKUP_MASK = D_NONBLOCK | D_LOOKUP_READONLY | D_LOOKUP_PUBLIC;
    public static final long D_FLAGS_DELETE_MASK = D_NONBLOCK | D_DELETE_ZOMBIFY;
    public static final long D_FLAGS_IO_MASK = D_NONBLOCK;
    public static final long D_COPY_READONLY = 1L << 12;
    public static final long D_RUN_SECCOMP_KILL = 1L << 20;
    public static final long D_RUN_ENV = 1L << 21;
    public static final long D_FLAGS_COPY_MASK = D_NONBLOCK | D_COPY_READONLY;
    public static final long D_FLAGS_RUN_MASK = D_NONBLOCK | D_RUN_SECCOMP_KILL | D_RUN_ENV;
    public static final long D_FLAGS_WAIT_MASK = D_NONBLOCK | D_TIMEOUT;
    public static final long D_ACQUIRE_EXCLUSIVE = 1L << 24;
    public static final long D_FLAGS_ACQUIRE_WRITE_MASK = D_FLAGS_WAIT_MASK | D_ACQUIRE_EXCLUSIVE;

    // permissions and reference state
    public static final int D_PERM_READ = 1 << 0;
    public static final int D_PERM_WRITE = 1 << 1;
    public static final int D_PERM_DELETE = 1 << 2;
    public static final int D_REF_STATE_NAMED = 1 << 0;
    public static final int D_REF_STATE_ZOMBIE = 1 << 1;
    public static final int D_REF_STATE_READABLE = 1 << 2;
    public static final int D_REF_STATE_WRITABLE = 1 << 3;

    // limits
    public static final int DIOS_SQ_ENTRIES = 64;
    public static final int DIOS_CQ_ENTRIES = 128;
    public static final long DIOS_MAX_OBJECT_SIZE = 1L << 36;
    public static final int DIOS_MAX_LOOKUP_REFS = 1024;

    // entry and region flags
    public static final int D_SQE_ARG = 1 << 0;
    public static final int D_SQE_NO_CQE = 1 << 1;
    public static final int D_SQE_ARGS = 1 << 2;
    public static final int D_SQE_FD = 1 << 3;
    public static final int D_CQE_F_SEGMENT = 1 << 0;
    public static final int D_CQE_F_UNMAP = 1 << 1;
    public static final int D_CQE_F_FIFO = 1 << 2;
    public static final int D_CQE_F_INLINE = 1 << 3;
    public static final int D_CQE_F_DETAIL = 1 << 4;

    // D_CQE_F_DETAIL: why an error completion failed (val[0]), val[1] the limit's value
    public static final int D_DETAIL_MAX_REFS = 1;
    public static final int D_DETAIL_MAX_BUFFERS = 2;
    public static final int D_DETAIL_MAX_PARKED = 3;
    public static final int D_DETAIL_MAX_TASK_MEMORY = 4;
    public static final int D_DETAIL_MAX_SELECT = 5;
    public static final int D_DETAIL_MAX_GROUPS = 6;
    public static final int D_DETAIL_QUOTA_OBJECTS = 7;
    public static final int D_DETAIL_QUOTA_NAMES = 8;
    public static final int D_DETAIL_QUOTA_MEMORY = 9;
    public static final int D_DETAIL_QUOTA_FIFOS = 10;
    public static final int D_DETAIL_QUOTA_BLOBS = 11;
    public static final int D_DETAIL_QUOTA_BLOB_BYTES = 12;
    public static final int D_DETAIL_LAST = 13;
    /** A reference id's top bits: its task table's tag, the same for every reference of one registration. */
    public static final int DIOS_REF_TAG_SHIFT = 48;
    public static final int D_HELLO_F_TTY = 1 << 0;
    public static final int D_HELLO_F_STDIO = 1 << 1;
    public static final int D_SQ_NEED_WAKEUP = 1 << 0;
    public static final int D_DSTATE_SHUTDOWN = 1 << 0;

    public static final int DIOS_REGION_HEADER_SIZE = 1024;
    public static final int DIOS_REGION_SQ_OFFSET = 4096;
    public static final int DIOS_REGION_CQ_OFFSET = DIOS_REGION_SQ_OFFSET + DIOS_SQ_ENTRIES * 128;
    public static final int DIOS_REGION_ARGS_OFFSET = DIOS_REGION_CQ_OFFSET + DIOS_CQ_ENTRIES * 64;
    public static final int DIOS_ARGS_BYTES = 65536;
    public static final int DIOS_ARGS_CHUNK = 1024;
    public static final int DIOS_REGION_SIZE = DIOS_REGION_ARGS_OFFSET + DIOS_ARGS_BYTES;

    // FIFOs
    public static final int DIOS_MAX_SELECT_REFS = 4096;
    public static final int DIOS_FIFO_ALIGN = 4096;
    public static final int DIOS_FIFO_DEFAULT_CAPACITY = 256 * 1024;
    public static final long DIOS_FIFO_MAX_CAPACITY = 1L << 30;
    public static final int DIOS_FIFO_MAGIC = 0x4f464946;
    public static final int DIOS_FIFO_CTL_SIZE = 4096;
    public static final int D_FIFO_WAIT_READER = 1 << 0;
    public static final int D_FIFO_WAIT_WRITER = 1 << 1;
    public static final int D_FIFO_NOTIFY_READ = 1 << 2;
    public static final int D_FIFO_NOTIFY_WRITE = 1 << 3;
    public static final int D_FIFO_ST_WRITER_GONE = 1 << 0;
    public static final int D_FIFO_ST_READER_GONE = 1 << 1;
    public static final int D_FIFO_ST_ZOMBIE = 1 << 2;
    public static final int D_FIFO_END_READER = 1;
    public static final int D_FIFO_END_WRITER = 2;

    // the console
    public static final int DIOS_CONSOLE_BUF_BYTES = 65536;
    public static final int DIOS_EXE_PATH_MAX = 4096;
    public static final int DIOS_RUN_MAX_REFS = 1024;
    public static final int DIOS_RUN_MAX_GROUPS = 64;
    public static final int DIOS_RUN_MAX_ARGV_BYTES = 32768;
    public static final int DIOS_RUN_MAX_ENV_BYTES = 16384;
    public static final int DIOS_MAX_COPY_REFS = 1024;
    public static final int DIOS_DELEGATED_BATCH = 6;
    public static final String DIOS_CONSOLE_NAME_STRING = "dios:console";

    // control messages
    public static final int DIOS_MSG_HELLO = 0x4f4c4548;
    public static final int DIOS_MSG_WELCOME = 0x434c4557;
    public static final int DIOS_MSG_SEGMENT = 0x4d474553;
    public static final int DIOS_MSG_EXE_FD = 0x44465845;
    public static final int D_SEG_READ = 1 << 0;
    public static final int D_SEG_WRITE = 1 << 1;
    public static final int D_SEG_RING = 1 << 2;

    // where clients find the daemon
    public static final String DIOS_ENV_SOCKET = "DIOS_SOCKET";
    public static final String DIOS_ENV_SPIN_NS = "DIOS_SPIN_NS";
    public static final String DIOS_ENV_FD = "DIOS_FD";
    public static final String DIOS_ENV_PURE = "DIOS_PURE";
    public static final String DIOS_ENV_HEAP = "DIOS_HEAP";
    public static final int DIOS_SPAWN_SOCKET_FD = 3;
    public static final String DIOS_RUNTIME_SUBDIR = "dios";
    public static final String DIOS_TMP_DIR_PREFIX = "/tmp/dios-";
    public static final String DIOS_SOCKET_NAME = "diosd.sock";
    public static final String DIOS_SYSTEM_SOCKET = "/run/dios/diosd.sock";
    public static final String DIOS_STATE_SUBDIR = "state";
    public static final String DIOS_RPC_SUFFIX = ".rpc";
    public static final String DIOS_ADMIN_SUFFIX = ".admin";

    // ELF brands
    public static final int DIOS_ELF_OSABI = 0xD1;
    public static final int DIOS_BRAND_PURE = 0x05;
    public static final int DIOS_BRAND_LIMBO = 0x11;
    public static final int DIOS_BRAND_LEGACY_LIMBO = 0x13;

    /** Name of a DIOS error code (positive: "ENOENT"), or "E" and the number for any other. */
    public static String errnoName(int e) {
        return switch (e) {
            case DIOS_EPERM -> "EPERM";
            case DIOS_ENOENT -> "ENOENT";
            case DIOS_ESRCH -> "ESRCH";
            case DIOS_EIO -> "EIO";
            case DIOS_E2BIG -> "E2BIG";
            case DIOS_ENOEXEC -> "ENOEXEC";
            case DIOS_EBADF -> "EBADF";
            case DIOS_EAGAIN -> "EAGAIN";
            case DIOS_ENOMEM -> "ENOMEM";
            case DIOS_EACCES -> "EACCES";
            case DIOS_EFAULT -> "EFAULT";
            case DIOS_EBUSY -> "EBUSY";
            case DIOS_EEXIST -> "EEXIST";
            case DIOS_EINVAL -> "EINVAL";
            case DIOS_ENOSPC -> "ENOSPC";
            case DIOS_EPIPE -> "EPIPE";
            case DIOS_ENOSYS -> "ENOSYS";
            case DIOS_EIDRM -> "EIDRM";
            case DIOS_EPROTO -> "EPROTO";
            case DIOS_EOPNOTSUPP -> "EOPNOTSUPP";
            case DIOS_ENOTCONN -> "ENOTCONN";
            case DIOS_ETIMEDOUT -> "ETIMEDOUT";
            case DIOS_EDQUOT -> "EDQUOT";
            case DIOS_EHOSTDOWN -> "EHOSTDOWN";
            case DIOS_ESTALE -> "ESTALE";
            default -> "E" + e;
        };
    }
}

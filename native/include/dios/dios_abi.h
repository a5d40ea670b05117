/*
 * dios_abi.h - the one definition of everything diosd and libdlibc share.
 *
 * This header is the single source of truth for op codes, error codes, flags,
 * object types, the control-socket messages and the layout of a task's
 * shared-memory region with its submission and completion rings.  The Java
 * daemon mirrors it in org.dios.abi.*; AbiLayoutTest compiles
 * native/tools/abi_dump.c against this file and fails if any offset, size or
 * constant disagrees.  Rust's dios-sys is held to it the same way.
 *
 * Rules (liburing style): fixed-width types only, explicit padding, a comment
 * on every field, flags as (1U << n) grouped under their field, enums end in
 * *_LAST.  Bump DIOS_ABI_VERSION on any incompatible change.
 */
#ifndef DIOS_ABI_H
#define DIOS_ABI_H

#include <stdint.h>

#define DIOS_ABI_VERSION        3u          /* published last in the region header */
#define DIOS_REGION_MAGIC       0x534f4944u /* "DIOS" little-endian */

/* ------------------------------------------------------------------------ */
/* Names                                                                     */
/* ------------------------------------------------------------------------ */
#define DIOS_NAME_BYTES         32          /* 256-bit names */
#define DIOS_NAME_STRLEN        44          /* 43 URL-safe base64 chars + NUL */

/* ------------------------------------------------------------------------ */
/* Object types (dios_object_type_t)                                         */
/* ------------------------------------------------------------------------ */
typedef enum dios_object_type {
	D_OBJ_NONE     = 0,
	D_OBJ_PRIVMEM  = 1,  /* private memory: only the creating task may hold it */
	D_OBJ_SHMEM    = 2,  /* shared memory region, random access */
	D_OBJ_FIFO     = 3,  /* shared-memory stream, one writer end, one reader end */
	D_OBJ_BLOB     = 4,  /* durable byte object, survives daemon restart */
	D_OBJ_CONSOLE  = 5,  /* the host's console */
	D_OBJ_TASK     = 6,  /* a running task */
	D_OBJ_GROUP    = 7,  /* a name-visibility domain */
	D_OBJ_EXE      = 8,  /* an executable program file, named by SHA-256 of its absolute path */
	D_OBJ_LAST
} dios_object_type_t;

/* ------------------------------------------------------------------------ */
/* Op codes (dios_sqe.opcode)                                                */
/* ------------------------------------------------------------------------ */
enum dios_op {
	D_OP_NOP           = 0,   /* null call: completes with 0 */
	D_OP_CREATE        = 1,
	D_OP_LOOKUP        = 2,
	D_OP_COPY          = 3,
	D_OP_DELETE        = 4,
	D_OP_RUN           = 5,
	D_OP_SELECT        = 6,
	D_OP_ACQUIRE_READ  = 7,
	D_OP_COMMIT_READ   = 8,
	D_OP_RELEASE_READ  = 9,
	D_OP_ACQUIRE_WRITE = 10,
	D_OP_COMMIT_WRITE  = 11,
	D_OP_RELEASE_WRITE = 12,
	D_OP_REF_INFO      = 13,
	D_OP_STATS         = 14,  /* daemon-wide counts (diagnostics, leak checks) */
	D_OP_NOTIFY        = 15,  /* FIFO end: shared state changed in place; re-check parked calls */
	D_OP_DELEGATED     = 16,  /* take references other tasks delegated to this one (dios_delegated) */
	D_OP_LAST
};

/* ------------------------------------------------------------------------ */
/* Error codes.  Calls return 0 or a negative Linux errno; these are the     */
/* values on x86_64/aarch64 Linux, spelled out so the Java daemon and Rust   */
/* use the same numbers.  abi_dump checks them against <errno.h>.            */
/* ------------------------------------------------------------------------ */
#define DIOS_EPERM        1   /* the daemon may not start the task as its owner (uid change refused) */
#define DIOS_ESRCH        3   /* dios_copy: the target task has exited */
#define DIOS_E2BIG        7   /* a count or size above its documented maximum */
#define DIOS_ENOEXEC      8   /* dios_run: not an executable with a DIOS ELF brand */
#define DIOS_ENOENT       2   /* name not found (or not visible) */
#define DIOS_EIO          5   /* the durable store failed (a blob's fsync, the journal) */
#define DIOS_EBADF        9   /* not a reference this task holds */
#define DIOS_EAGAIN      11   /* would block and D_NONBLOCK was given */
#define DIOS_ENOMEM      12   /* out of memory or a per-task limit hit */
#define DIOS_EACCES      13   /* reference lacks the permission */
#define DIOS_EFAULT      14   /* a buffer handle the shim did not issue */
#define DIOS_EBUSY       16   /* the FIFO end is bound to another reference, or a buffer is out */
#define DIOS_EEXIST      17   /* D_CREATE_NAME_GIVEN and the name is bound */
#define DIOS_EINVAL      22   /* bad argument */
#define DIOS_ENOSPC      28   /* out of space */
#define DIOS_EPIPE       32   /* stream's other end is gone */
#define DIOS_ENOSYS      38   /* call not implemented */
#define DIOS_EIDRM       43   /* object was deleted (zombie) */
#define DIOS_EPROTO      71   /* the peer broke the wire protocol */
#define DIOS_EOPNOTSUPP  95   /* operation not supported on this object type */
#define DIOS_ENOTCONN   107   /* daemon gone: never hang */
#define DIOS_ETIMEDOUT  110   /* D_TIMEOUT: the call's deadline passed before it could go on */
#define DIOS_EHOSTDOWN  112   /* owning host gone (cluster) */
#define DIOS_ESTALE     116   /* commit_read whose data was overwritten meanwhile */
#define DIOS_EDQUOT     122   /* the caller's user is at one of its per-user quotas (diosd --quota-*) */

/* ------------------------------------------------------------------------ */
/* Call flags (dios_flags_t, the first argument of every call)               */
/* ------------------------------------------------------------------------ */
/* any call */
#define D_NONBLOCK              (1ULL << 0)   /* -EAGAIN instead of waiting */
/* calls that wait (SELECT, ACQUIRE_*): sqe.timeout_ns is a relative deadline; -ETIMEDOUT once it passed */
#define D_TIMEOUT               (1ULL << 1)
/* dios_create */
#define D_CREATE_NAME_GIVEN     (1ULL << 8)   /* *name is read as the name to bind */
#define D_CREATE_NAMED          (1ULL << 9)   /* set by the shim when name != NULL */
#define D_CREATE_PUBLIC         (1ULL << 10)  /* bind the name in the public group, seen by every user */
#define D_NAME_DETERMINISTIC_STRING D_CREATE_NAME_GIVEN /* name from dios_name_from_string */
/* dios_lookup */
#define D_LOOKUP_READONLY       (1ULL << 12)  /* the new reference may only read */
#define D_LOOKUP_PUBLIC         (1ULL << 13)  /* look in the public group, not this task's groups */
/* dios_delete */
#define D_DELETE_ZOMBIFY        (1ULL << 16)  /* kill the object for every holder */
/* dios_copy */
#define D_COPY_READONLY         (1ULL << 12)  /* the delegated references may only read */
/* dios_run */
#define D_RUN_SECCOMP_KILL      (1ULL << 20)  /* Pure DIOS: a denied system call kills the task (default: -ENOSYS) */
#define D_RUN_ENV               (1ULL << 21)  /* set by the shim: the run args carry the child's environment
                                                 (sqe.ref2 bytes after the argv block); without it the child
                                                 gets the daemon's minimal one (an older shim) */
/* dios_acquire_write (PRIVMEM, SHMEM, BLOB) */
#define D_ACQUIRE_EXCLUSIVE     (1ULL << 24)  /* exclusive write buffer: other writers wait until its release */

#define D_FLAGS_CREATE_MASK     (D_NONBLOCK | D_CREATE_NAME_GIVEN | D_CREATE_NAMED | D_CREATE_PUBLIC)
#define D_FLAGS_LOOKUP_MASK     (D_NONBLOCK | D_LOOKUP_READONLY | D_LOOKUP_PUBLIC)
#define D_FLAGS_DELETE_MASK     (D_NONBLOCK | D_DELETE_ZOMBIFY)
#define D_FLAGS_IO_MASK         (D_NONBLOCK)
#define D_FLAGS_COPY_MASK       (D_NONBLOCK | D_COPY_READONLY)
#define D_FLAGS_RUN_MASK        (D_NONBLOCK | D_RUN_SECCOMP_KILL | D_RUN_ENV)
#define D_FLAGS_WAIT_MASK       (D_NONBLOCK | D_TIMEOUT)  /* SELECT, ACQUIRE_READ (and ACQUIRE_WRITE, below) */
#define D_FLAGS_ACQUIRE_WRITE_MASK (D_FLAGS_WAIT_MASK | D_ACQUIRE_EXCLUSIVE)  /* ACQUIRE_WRITE */

/* ------------------------------------------------------------------------ */
/* Reference permissions (dios_ref_info.perms, CQE val[1] of REF_INFO)       */
/* ------------------------------------------------------------------------ */
#define D_PERM_READ             (1u << 0)
#define D_PERM_WRITE            (1u << 1)
#define D_PERM_DELETE           (1u << 2)     /* may zombify the object */

/* reference state bits (dios_ref_info.state, CQE val[3] of REF_INFO) */
#define D_REF_STATE_NAMED       (1u << 0)     /* object is bound in the name table */
#define D_REF_STATE_ZOMBIE      (1u << 1)     /* object was zombified */
#define D_REF_STATE_READABLE    (1u << 2)     /* acquire_read would not block */
#define D_REF_STATE_WRITABLE    (1u << 3)     /* acquire_write would not block */

/* ------------------------------------------------------------------------ */
/* Limits                                                                    */
/* ------------------------------------------------------------------------ */
#define DIOS_SQ_ENTRIES         64u           /* power of two */
#define DIOS_CQ_ENTRIES         128u          /* >= SQ entries: completions never overflow */
#define DIOS_MAX_OBJECT_SIZE    (1ULL << 36)  /* 64 GiB per memory object */
#define DIOS_MAX_LOOKUP_REFS    1024u         /* lookup capacity above this: clamped */
#define DIOS_MAX_SELECT_REFS    4096u         /* dios_select count above this: -E2BIG */
#define DIOS_FIFO_ALIGN         4096u         /* FIFO capacity is rounded up to this */
#define DIOS_FIFO_DEFAULT_CAPACITY (256u * 1024u) /* dios_create(D_OBJ_FIFO, NULL, ...) */
#define DIOS_FIFO_MAX_CAPACITY  (1ULL << 30)  /* 1 GiB */
#define DIOS_CONSOLE_BUF_BYTES  65536u        /* console acquire_*: at most this many bytes */
#define DIOS_EXE_PATH_MAX       4096u         /* D_OBJ_EXE: bytes of the path, NUL included */
#define DIOS_RUN_MAX_REFS       1024u         /* dios_run: delegated references */
#define DIOS_RUN_MAX_GROUPS     64u           /* dios_run: groups given to the child */
#define DIOS_RUN_MAX_ARGV_BYTES 32768u        /* dios_run: argv strings, NULs included */
#define DIOS_RUN_MAX_ENV_BYTES  16384u        /* dios_run: environment strings, NULs included */
#define DIOS_MAX_COPY_REFS      1024u         /* dios_copy: references per call */
#define DIOS_DELEGATED_BATCH    6u            /* D_OP_DELEGATED: references per completion */

/* ------------------------------------------------------------------------ */
/* Submission queue entry: 128 bytes, written by the task.                   */
/*                                                                           */
/*   0               8               16              24              32      */
/*   +-+-+---+-------+---------------+---------------+---------------+       */
/*   |o|f|rsv|objtype|   user_data   |     flags     |      ref      |       */
/*   +-+-+---+-------+---------------+---------------+---------------+       */
/*   32              40              48              56              64      */
/*   |      len      |      buf      |     ref2      |  timeout_ns   |       */
/*   +---------------+---------------+---------------+---------------+       */
/*   64                                                              96      */
/*   |                          name[32]                             |       */
/*   +---------------------------------------------------------------+       */
/*   96                                                             128      */
/*   |                          rsvd3[4]                             |       */
/*   +---------------------------------------------------------------+       */
/* ------------------------------------------------------------------------ */
struct dios_sqe {
	uint8_t  opcode;        /* enum dios_op */
	uint8_t  sqe_flags;     /* D_SQE_* below */
	uint16_t rsvd0;         /* must be 0 */
	uint32_t obj_type;      /* CREATE: dios_object_type_t */
	uint64_t user_data;     /* echoed in the completion */
	uint64_t flags;         /* the call's dios_flags_t */
	uint64_t ref;           /* the reference the call acts on (reference id) */
	uint64_t len;           /* CREATE: size/capacity (D_OBJ_EXE: path bytes), LOOKUP: capacity,
	                           ACQUIRE/COMMIT_WRITE: length, SELECT and COPY: number of references,
	                           RUN: bytes of the struct dios_run_args block, DELEGATED: capacity */
	uint64_t buf;           /* COMMIT/RELEASE: buffer id from the acquire's completion,
	                           SELECT, COPY, RUN, CREATE with D_SQE_ARGS: byte offset in the args area */
	uint64_t ref2;          /* CREATE: the group to bind the name in (0: the task's default group),
	                           COPY: the target task, RUN with D_RUN_ENV: bytes of the environment */
	uint64_t timeout_ns;    /* with D_TIMEOUT (SELECT, ACQUIRE_*): give up with -ETIMEDOUT this many ns
	                           after the daemon reads the entry (0: at once if the call would wait,
	                           2^62 or more: never).  Without D_TIMEOUT: must be 0 */
	uint8_t  name[32];      /* CREATE with D_CREATE_NAME_GIVEN, LOOKUP: the name */
	uint64_t rsvd3[4];      /* must be 0 (checked by the ops that read name[]) */
};
/* The second cache line (name, rsvd3) is read only by ops that carry a name
 * (CREATE with D_CREATE_NAME_GIVEN, LOOKUP): a null call moves one line. */
/* sqe_flags */
#define D_SQE_ARG               (1u << 0)     /* CREATE: len carries the type argument (arg != NULL) */
#define D_SQE_NO_CQE            (1u << 1)     /* NOTIFY only: post no completion (the sender does not wait) */
#define D_SQE_ARGS              (1u << 2)     /* CREATE D_OBJ_EXE: buf/len are the path (no NUL) in the args area */
#define D_SQE_FD                (1u << 3)     /* CREATE D_OBJ_EXE: the file, opened by the task, waits on the
                                                 control socket (DIOS_MSG_EXE_FD), sent before this entry */

/* RUN: the task spec, written to the args area at sqe.buf (8-byte aligned). */
/* Followed by uint64_t refs[ref_count], uint64_t groups[group_count], then  */
/* argv_bytes bytes: argc NUL-terminated strings back to back; with          */
/* D_RUN_ENV then sqe.ref2 bytes (<= DIOS_RUN_MAX_ENV_BYTES) of NUL-         */
/* terminated NAME=value strings, the child's environment (0: empty).        */
struct dios_run_args {
	uint32_t argc;            /* strings in the argv block, >= 1 (argv[0]) */
	uint32_t ref_count;       /* references delegated to the child, <= DIOS_RUN_MAX_REFS */
	uint32_t group_count;     /* 0: the child gets the parent's groups; else exactly these */
	uint32_t argv_bytes;      /* <= DIOS_RUN_MAX_ARGV_BYTES */
};

/* ------------------------------------------------------------------------ */
/* Completion queue entry: 64 bytes, written by the daemon.                  */
/*                                                                           */
/*   0               8       12      16                              64      */
/*   +---------------+-------+-------+-------------------------------+       */
/*   |   user_data   |  res  | flags |           val[6]              |       */
/*   +---------------+-------+-------+-------------------------------+       */
/*                                                                           */
/* val[] per op:                                                             */
/*   CREATE        val[0] ref id; val[1..4] the name (D_CREATE_NAMED)        */
/*   LOOKUP        val[0] ref id; val[1] references found                    */
/*   DELETE        val[0..5] segment ids to unmap when D_CQE_F_UNMAP is set */
/*                 (0 ends the list; a blob has one per mapping generation) */
/*   ACQUIRE_*     val[0] buffer id; val[1] segment id; val[2] offset;       */
/*                 val[3] length; val[4] segment size; val[5] D_SEG_* prot   */
/*                 of the mapping the buffer lives in                        */
/*   ACQUIRE_* with D_CQE_F_FIFO (the reference is a FIFO end): no buffer;   */
/*                 the end is attached or data/space is there: retry in      */
/*                 place.  val[0] control segment id; val[1] data segment    */
/*                 id; val[2] D_FIFO_END_*; val[3] capacity; val[4] control  */
/*                 segment size; val[5] D_SEG_* prot of the data (D_SEG_RING)*/
/*   SELECT        val[0] the ready reference; val[1] its index in the array */
/*   RUN           val[0] task reference; val[1] pid; val[2] task id         */
/*   DELEGATED     val[0..5] references taken, in delegation order (0 ends) */
/*   ACQUIRE_READ of a task with D_CQE_F_INLINE: no buffer in the daemon;    */
/*                 val[0] wait status (waitpid style; -1 if unknown); val[1] */
/*                 pid; val[2] task id: the shim hands out a                 */
/*                 struct dios_task_exit with them                           */
/*   REF_INFO      val[0] type; val[1] perms; val[2] size; val[3] state;     */
/*                 val[4] object id; val[5] D_FIFO_END_* (FIFOs; else 0)    */
/*   STATS         val[0] tasks; val[1] objects; val[2] names;               */
/*                 val[3] references; val[4] buffers; val[5] open segments   */
/* ------------------------------------------------------------------------ */
struct dios_cqe {
	uint64_t user_data;     /* from the submission */
	int32_t  res;           /* 0 or -errno */
	uint32_t flags;         /* D_CQE_F_* below */
	uint64_t val[6];        /* op-specific results, see above */
};
/* flags */
#define D_CQE_F_SEGMENT         (1u << 0)     /* a SEGMENT message for val[1] was sent first */
#define D_CQE_F_UNMAP           (1u << 1)     /* DELETE: the task holds no more refs to segments val[0..5] */
#define D_CQE_F_FIFO            (1u << 2)     /* ACQUIRE_*: a FIFO end, see val[] above */
#define D_CQE_F_INLINE          (1u << 3)     /* ACQUIRE_READ of a task: the data is in val[], see above */
#define D_CQE_F_DETAIL          (1u << 4)     /* an error completion says why: val[0] D_DETAIL_*, val[1] the limit */

/*
 * Why an error completion failed (D_CQE_F_DETAIL): val[0] is one of these,
 * val[1] the value of the limit that was hit.  The daemon sets it where it
 * refuses a call for one of its per-task limits (-ENOMEM); the shim turns it
 * into dios_last_error_detail()'s text.  0 is never sent.
 */
#define D_DETAIL_MAX_REFS         1   /* references one task may hold (diosd --max-refs) */
#define D_DETAIL_MAX_BUFFERS      2   /* buffers one task may have out (diosd --max-buffers) */
#define D_DETAIL_MAX_PARKED       3   /* calls one task may have waiting (diosd --max-parked-calls) */
#define D_DETAIL_MAX_TASK_MEMORY  4   /* PRIVMEM bytes one task may hold (diosd --max-task-memory) */
#define D_DETAIL_MAX_SELECT       5   /* references the parked selects of one task may watch */
#define D_DETAIL_MAX_GROUPS       6   /* groups one task may be in (DIOS_RUN_MAX_GROUPS) */
#define D_DETAIL_QUOTA_OBJECTS    7   /* per-user quotas (-EDQUOT; diosd --quota-*): objects of the user */
#define D_DETAIL_QUOTA_NAMES      8   /* names the user's objects hold */
#define D_DETAIL_QUOTA_MEMORY     9   /* bytes of the user's PRIVMEM and SHMEM objects */
#define D_DETAIL_QUOTA_FIFOS     10   /* FIFOs of the user */
#define D_DETAIL_QUOTA_BLOBS     11   /* durable blobs the user created */
#define D_DETAIL_QUOTA_BLOB_BYTES 12  /* bytes of those blobs */
#define D_DETAIL_LAST            13   /* one past the last code */

/*
 * A reference id's top 16 bits are a tag the daemon draws for each task's
 * table at registration (never 0): every reference of one registration
 * carries it.  The shim tells a dead registration's references from a new
 * one's by it (dios_reconnect).
 */
#define DIOS_REF_TAG_SHIFT       48

/* What reading a task reference yields once the task has ended. */
struct dios_task_exit {
	int32_t  status;          /* waitpid-style status (WIFEXITED, ...); -1: not known (not spawned by diosd) */
	uint32_t pid;             /* the task's process id */
	uint64_t task_id;         /* daemon-wide task number */
};

/* ------------------------------------------------------------------------ */
/* Task region: one sealed memfd per task, mapped by daemon and task.        */
/*                                                                           */
/*   0       128     256     384     512     640     768     896    1024     */
/*   +-------+-------+-------+-------+-------+-------+-------+-------+        */
/*   | info  |sq_tail|sq_head|sq_flgs|cq_tail|cq_head|cq_wait|dstate |        */
/*   +-------+-------+-------+-------+-------+-------+-------+-------+        */
/*   4096: SQ (DIOS_SQ_ENTRIES x 128 B), then CQ (DIOS_CQ_ENTRIES x 64 B),   */
/*   then the args area (DIOS_ARGS_BYTES): arrays a call passes by offset    */
/*   (SELECT's references).  The task writes an array there before it        */
/*   publishes the SQE; the daemon copies it while it consumes the SQE, so   */
/*   the space is free again once sq_head has passed that SQE.               */
/*                                                                           */
/* Hot words sit 128 bytes apart (two cache lines: no false sharing even     */
/* with adjacent-line prefetch).  Indices are free-running uint32_t; the     */
/* slot is index & (entries - 1).  The daemon never trusts what the task     */
/* can write: it keeps its own sq_head and cq_tail and checks sq_tail and    */
/* cq_head against them.                                                     */
/* ------------------------------------------------------------------------ */
struct dios_region_header {
	/* --- info: written once by the daemon before abi_version --- */
	uint32_t magic;           /* DIOS_REGION_MAGIC */
	uint32_t abi_version;     /* DIOS_ABI_VERSION, stored last with release */
	uint32_t region_size;     /* bytes in the whole region */
	uint32_t sq_offset;       /* byte offset of the SQ array */
	uint32_t sq_entries;      /* DIOS_SQ_ENTRIES */
	uint32_t sqe_size;        /* sizeof(struct dios_sqe) */
	uint32_t cq_offset;       /* byte offset of the CQ array */
	uint32_t cq_entries;      /* DIOS_CQ_ENTRIES */
	uint32_t cqe_size;        /* sizeof(struct dios_cqe) */
	uint32_t pad0;            /* 0 */
	uint64_t task_id;         /* daemon-wide task number */
	uint64_t self_ref;        /* reference id of this task's own task object */
	uint64_t pid;             /* the pid the daemon saw with SO_PEERCRED */
	uint8_t  self_exe[32];    /* name of this task's executable (SHA-256 of its path) */
	uint8_t  rsvd_info[32];   /* 0 */
	/* --- hot words, each alone in 128 bytes --- */
	uint32_t sq_tail;         /* task: next SQE index to publish (store-release) */
	uint8_t  pad_sq_tail[124];
	uint32_t sq_head;         /* daemon: next SQE index it will consume */
	uint8_t  pad_sq_head[124];
	uint32_t sq_flags;        /* daemon: D_SQ_NEED_WAKEUP */
	uint8_t  pad_sq_flags[124];
	uint32_t cq_tail;         /* daemon: next CQE index (store-release); futex word */
	uint8_t  pad_cq_tail[124];
	uint32_t cq_head;         /* task: next CQE index it will reap (store-release) */
	uint8_t  pad_cq_head[124];
	uint32_t cq_waiters;      /* task: threads sleeping on cq_tail (daemon wakes if != 0) */
	uint8_t  pad_cq_waiters[124];
	uint32_t daemon_state;    /* daemon: D_DSTATE_* */
	uint8_t  pad_daemon_state[124];
};
/* sq_flags */
#define D_SQ_NEED_WAKEUP        (1u << 0)     /* daemon sleeps: write the doorbell eventfd */
/* daemon_state */
#define D_DSTATE_SHUTDOWN       (1u << 0)     /* daemon is going away: fail with -ENOTCONN */

#define DIOS_REGION_HEADER_SIZE 1024u
#define DIOS_REGION_SQ_OFFSET   4096u
#define DIOS_REGION_CQ_OFFSET   (DIOS_REGION_SQ_OFFSET + DIOS_SQ_ENTRIES * 128u)
#define DIOS_REGION_ARGS_OFFSET (DIOS_REGION_CQ_OFFSET + DIOS_CQ_ENTRIES * 64u)
#define DIOS_ARGS_BYTES         65536u        /* args area; handed out in DIOS_ARGS_CHUNK units */
#define DIOS_ARGS_CHUNK         1024u
#define DIOS_REGION_SIZE        (DIOS_REGION_ARGS_OFFSET + DIOS_ARGS_BYTES)

/* ------------------------------------------------------------------------ */
/* Control socket: AF_UNIX SOCK_SEQPACKET, one fixed-size message a packet.  */
/* ------------------------------------------------------------------------ */
#define DIOS_MSG_HELLO          0x4f4c4548u   /* "HELO": task -> daemon */
#define DIOS_MSG_WELCOME        0x434c4557u   /* "WELC": daemon -> task, fds: region, doorbell */
#define DIOS_MSG_SEGMENT        0x4d474553u   /* "SEGM": daemon -> task, fd: the segment */
#define DIOS_MSG_EXE_FD         0x44465845u   /* "EXFD": task -> daemon, fd: a program file the task
                                                 opened for CREATE D_OBJ_EXE (struct dios_msg_exe_fd) */

struct dios_msg_hello {
	uint32_t magic;           /* DIOS_MSG_HELLO */
	uint32_t abi_version;     /* DIOS_ABI_VERSION the shim was built with */
	uint64_t flags;           /* D_HELLO_F_* */
	uint64_t rsvd[2];         /* 0 */
};
/* flags */
#define D_HELLO_F_TTY           (1u << 0)     /* one fd rides along: the task's terminal (console) */
#define D_HELLO_F_STDIO         (1u << 1)     /* three fds ride along (after the terminal's): the task's
                                                 stdin, stdout, stderr, which tasks it spawns inherit */

/* Sent just before the CREATE D_OBJ_EXE entry it goes with (D_SQE_FD); the   */
/* daemon drops one it finds before its entry's (left by a failed submission). */
struct dios_msg_exe_fd {
	uint32_t magic;           /* DIOS_MSG_EXE_FD */
	uint32_t rsvd;            /* 0 */
	uint64_t user_data;       /* the entry's sqe.user_data */
};

struct dios_msg_welcome {
	uint32_t magic;           /* DIOS_MSG_WELCOME */
	uint32_t abi_version;     /* the daemon's DIOS_ABI_VERSION */
	int32_t  status;          /* 0, or -errno: then no fds follow */
	uint32_t region_size;     /* bytes to map from the region fd */
	uint64_t task_id;         /* daemon-wide task number */
	uint64_t rsvd;            /* 0 */
};

struct dios_msg_segment {
	uint32_t magic;           /* DIOS_MSG_SEGMENT */
	uint32_t prot;            /* D_SEG_READ | D_SEG_WRITE: how the fd may be mapped */
	uint64_t seg_id;          /* matches CQE val[1] of an acquire */
	uint64_t size;            /* bytes to map */
	uint64_t rsvd;            /* 0 */
};
/* prot */
#define D_SEG_READ              (1u << 0)
#define D_SEG_WRITE             (1u << 1)
#define D_SEG_RING              (1u << 2)     /* map the segment twice, back to back (FIFO data) */

/* ------------------------------------------------------------------------ */
/* FIFO control page: one per FIFO, mapped read-write by its two ends.       */
/*                                                                           */
/* The data segment (capacity bytes, mapped twice back to back so a record   */
/* that wraps is contiguous) is written by the writer end only; the reader   */
/* end maps it read-only.  Positions are free-running byte counts; the data  */
/* of position p is at p % capacity.  The ends move tail and head in place,  */
/* with no call to the daemon.  An end that must wait sets its bit in        */
/* waiters and sleeps on the futex of the other end's word (the low 32 bits  */
/* of tail or head, non-private); the other end, after its store, clears the */
/* bit and wakes it.  The daemon is the watchdog: when an end goes or the    */
/* FIFO is zombified it sets state and wakes both words.  A dios_select      */
/* parked in the daemon asks for D_OP_NOTIFY with the D_FIFO_NOTIFY_* bits.  */
/* The daemon reads tail and head only as hints for waking parked selects:   */
/* it never indexes memory with them.                                        */
/* ------------------------------------------------------------------------ */
struct dios_fifo_ctl {
	uint64_t capacity;        /* daemon: data bytes, a multiple of DIOS_FIFO_ALIGN */
	uint32_t magic;           /* DIOS_FIFO_MAGIC */
	uint32_t pad0;            /* 0 */
	uint8_t  rsvd_info[112];  /* 0 */
	uint64_t tail;            /* writer: bytes committed (store-release) */
	uint8_t  pad_tail[120];
	uint64_t head;            /* reader: bytes released (store-release) */
	uint8_t  pad_head[120];
	uint32_t waiters;         /* both ends and the daemon, atomic OR/AND only: D_FIFO_WAIT_*, D_FIFO_NOTIFY_* */
	uint8_t  pad_waiters[124];
	uint32_t state;           /* daemon: D_FIFO_ST_* */
	uint8_t  pad_state[124];
};
#define DIOS_FIFO_MAGIC         0x4f464946u   /* "FIFO" little-endian */
#define DIOS_FIFO_CTL_SIZE      4096u         /* the control segment's size */
/* waiters */
#define D_FIFO_WAIT_READER      (1u << 0)     /* the reader sleeps on tail: after a commit, clear and FUTEX_WAKE */
#define D_FIFO_WAIT_WRITER      (1u << 1)     /* the writer sleeps on head: after a release, clear and FUTEX_WAKE */
#define D_FIFO_NOTIFY_READ      (1u << 2)     /* the daemon (a select) waits for data: D_OP_NOTIFY after a commit */
#define D_FIFO_NOTIFY_WRITE     (1u << 3)     /* the daemon waits for space: D_OP_NOTIFY after a release */
/* state */
#define D_FIFO_ST_WRITER_GONE   (1u << 0)     /* no more data will come: -EPIPE once drained */
#define D_FIFO_ST_READER_GONE   (1u << 1)     /* nobody will read: writes fail with -EPIPE */
#define D_FIFO_ST_ZOMBIE        (1u << 2)     /* zombified: every operation fails with -EIDRM */
/* dios_ref_info / CQE val[2]: which end a reference is */
#define D_FIFO_END_READER       1u
#define D_FIFO_END_WRITER       2u

/* ------------------------------------------------------------------------ */
/* Where clients find the daemon                                             */
/* ------------------------------------------------------------------------ */
#define DIOS_ENV_SOCKET         "DIOS_SOCKET"     /* overrides the default path */
#define DIOS_ENV_SPIN_NS        "DIOS_SPIN_NS"    /* shim: ns to spin before futex-waiting (default 20000) */
#define DIOS_ENV_FD             "DIOS_FD"         /* set by diosd in tasks it spawns: the connected socket's fd */
#define DIOS_SPAWN_SOCKET_FD    3                 /* ... which is always this fd at the task's start */
#define DIOS_ENV_PURE           "DIOS_PURE"       /* set by dios-launch in Pure DIOS tasks ("kill" with
                                                     --seccomp-kill): libdlibc's heap is DIOS memory, locked */
#define DIOS_ENV_HEAP           "DIOS_HEAP"       /* "dios": libdlibc's malloc takes DIOS memory (opt-in outside Pure DIOS) */
#define DIOS_RUNTIME_SUBDIR     "dios"            /* under $XDG_RUNTIME_DIR */
#define DIOS_TMP_DIR_PREFIX     "/tmp/dios-"      /* + decimal uid, without XDG_RUNTIME_DIR */
#define DIOS_SOCKET_NAME        "diosd.sock"
#define DIOS_SYSTEM_SOCKET      "/run/dios/diosd.sock" /* the systemd service's; tried last */
#define DIOS_STATE_SUBDIR       "state"           /* default state dir beside the socket */
/* The console's well-known name is dios_name_from_string(DIOS_CONSOLE_NAME_STRING). */
#define DIOS_CONSOLE_NAME_STRING "dios:console"

/* The baseline for benchmarks: the same null call as a conventional Unix-socket
 * RPC to the same daemon.  SOCK_SEQPACKET at <socket path> DIOS_RPC_SUFFIX; each
 * request packet is one struct dios_sqe, each reply one struct dios_cqe.  Only
 * D_OP_NOP is served (others: -EOPNOTSUPP). */
#define DIOS_RPC_SUFFIX         ".rpc"

/* The operator's socket (the dios tool): SOCK_STREAM at <socket path>
 * DIOS_ADMIN_SUFFIX; one request line, a text answer (docs/PROTOCOL.md,
 * section 12).  Only the daemon's user and root are answered. */
#define DIOS_ADMIN_SUFFIX       ".admin"

/* ------------------------------------------------------------------------ */
/* ELF brands (seed table 3.5): e_ident[EI_OSABI] and e_ident[EI_ABIVERSION] */
/* of programs dios_run may start.  `dios brand` stamps them.                */
/* ------------------------------------------------------------------------ */
#define DIOS_ELF_OSABI          0xD1u
#define DIOS_BRAND_PURE         0x05u         /* DIOS calls only, under a seccomp filter */
#define DIOS_BRAND_LIMBO        0x11u         /* DIOS and legacy Linux calls */
#define DIOS_BRAND_LEGACY_LIMBO 0x13u         /* a legacy program run as a task (need not use DIOS) */

/* ------------------------------------------------------------------------ */
/* Layout checks: the compiler holds C to the diagrams above.                */
/* ------------------------------------------------------------------------ */
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#include <stddef.h>
#define DIOS_ABI_CHECK(c, m) _Static_assert(c, m)
#elif defined(__cplusplus)
#include <cstddef>
#define DIOS_ABI_CHECK(c, m) static_assert(c, m)
#else
#define DIOS_ABI_CHECK(c, m)
#endif
DIOS_ABI_CHECK(sizeof(struct dios_sqe) == 128, "dios_sqe is 128 bytes");
DIOS_ABI_CHECK(offsetof(struct dios_sqe, user_data) == 8, "sqe.user_data");
DIOS_ABI_CHECK(offsetof(struct dios_sqe, len) == 32, "sqe.len");
DIOS_ABI_CHECK(offsetof(struct dios_sqe, name) == 64, "sqe.name");
DIOS_ABI_CHECK(sizeof(struct dios_cqe) == 64, "dios_cqe is 64 bytes");
DIOS_ABI_CHECK(offsetof(struct dios_cqe, val) == 16, "cqe.val");
DIOS_ABI_CHECK(sizeof(struct dios_region_header) == DIOS_REGION_HEADER_SIZE, "header size");
DIOS_ABI_CHECK(offsetof(struct dios_region_header, sq_tail) == 128, "sq_tail");
DIOS_ABI_CHECK(offsetof(struct dios_region_header, sq_head) == 256, "sq_head");
DIOS_ABI_CHECK(offsetof(struct dios_region_header, sq_flags) == 384, "sq_flags");
DIOS_ABI_CHECK(offsetof(struct dios_region_header, cq_tail) == 512, "cq_tail");
DIOS_ABI_CHECK(offsetof(struct dios_region_header, cq_head) == 640, "cq_head");
DIOS_ABI_CHECK(offsetof(struct dios_region_header, cq_waiters) == 768, "cq_waiters");
DIOS_ABI_CHECK(offsetof(struct dios_region_header, daemon_state) == 896, "daemon_state");
DIOS_ABI_CHECK((DIOS_SQ_ENTRIES & (DIOS_SQ_ENTRIES - 1)) == 0, "SQ entries power of two");
DIOS_ABI_CHECK((DIOS_CQ_ENTRIES & (DIOS_CQ_ENTRIES - 1)) == 0, "CQ entries power of two");
DIOS_ABI_CHECK(DIOS_CQ_ENTRIES >= DIOS_SQ_ENTRIES, "CQ never smaller than SQ");
DIOS_ABI_CHECK(sizeof(struct dios_msg_hello) == 32, "hello");
DIOS_ABI_CHECK(sizeof(struct dios_run_args) == 16, "run args");
DIOS_ABI_CHECK(sizeof(struct dios_task_exit) == 16, "task exit");
DIOS_ABI_CHECK(DIOS_RUN_MAX_REFS * 8u + DIOS_RUN_MAX_GROUPS * 8u + DIOS_RUN_MAX_ARGV_BYTES + DIOS_RUN_MAX_ENV_BYTES
	       + 16u <= DIOS_ARGS_BYTES,
	       "a run spec fits the args area");
DIOS_ABI_CHECK(DIOS_EXE_PATH_MAX <= DIOS_ARGS_BYTES, "an exe path fits the args area");
DIOS_ABI_CHECK(sizeof(struct dios_msg_welcome) == 32, "welcome");
DIOS_ABI_CHECK(sizeof(struct dios_msg_segment) == 32, "segment");
DIOS_ABI_CHECK(sizeof(struct dios_msg_exe_fd) == 16, "exe fd");
DIOS_ABI_CHECK(sizeof(struct dios_fifo_ctl) == 640, "fifo ctl");
DIOS_ABI_CHECK(sizeof(struct dios_fifo_ctl) <= DIOS_FIFO_CTL_SIZE, "fifo ctl fits its segment");
DIOS_ABI_CHECK(offsetof(struct dios_fifo_ctl, tail) == 128, "fifo tail");
DIOS_ABI_CHECK(offsetof(struct dios_fifo_ctl, head) == 256, "fifo head");
DIOS_ABI_CHECK(DIOS_MAX_SELECT_REFS * 8u <= DIOS_ARGS_BYTES, "a select array fits the args area");

#endif /* DIOS_ABI_H */

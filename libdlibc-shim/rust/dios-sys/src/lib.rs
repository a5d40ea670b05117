//! Raw FFI bindings to libdlibc, the DIOS shim.
//!
//! A hand-written, one-to-one mirror of `dios/dios.h` (every type and
//! function) and of the constants of `dios/dios_abi.h` that a client needs,
//! plus the ring and control-message structs of `dios_abi.h` so their layout
//! is held to the C header by `tests/abi_layout.rs`.  Nothing here is safe to
//! call without reading the C documentation, which is repeated in brief on
//! each item; the safe wrapper is the separate `dios` crate.
//!
//! Conventions, as in C:
//! * every call returns 0 or a **negative** errno, so compare with
//!   `-DIOS_EINVAL` and friends (the `DIOS_E*` constants are positive);
//! * names that are Rust keywords get a trailing underscore
//!   (`dios_call_t::type_`, `dios_call_t::ref_`, `dios_sqe::ref_`);
//! * C `enum` types are `c_uint` (GCC/Clang give an enum whose constants are
//!   all non-negative the type `unsigned int`; the test checks the size).
#![no_std]
#![allow(non_camel_case_types)]

use core::ffi::{c_char, c_int, c_uint, c_void};
use core::marker::{PhantomData, PhantomPinned};
use core::ptr;

// ===========================================================================
// dios_abi.h: constants
// ===========================================================================

/// Bumped on any incompatible change to the rings or the control messages.
pub const DIOS_ABI_VERSION: u32 = 3;

// ---- names -------------------------------------------------------------------

/// Bytes in a name (256 bits).
pub const DIOS_NAME_BYTES: usize = 32;
/// Bytes of the text form: 43 URL-safe base64 characters plus the NUL.
pub const DIOS_NAME_STRLEN: usize = 44;

// ---- object types (dios_object_type_t) ----------------------------------------

/// `enum dios_object_type` (C enum: `unsigned int` with GCC/Clang).
pub type dios_object_type_t = c_uint;
pub const D_OBJ_NONE: dios_object_type_t = 0;
/// Private memory: only the creating task may hold it.
pub const D_OBJ_PRIVMEM: dios_object_type_t = 1;
/// Shared memory region, random access.
pub const D_OBJ_SHMEM: dios_object_type_t = 2;
/// Shared-memory stream, one writer end, one reader end.
pub const D_OBJ_FIFO: dios_object_type_t = 3;
/// Durable byte object (a file the task maps); a named one survives daemon restarts.
pub const D_OBJ_BLOB: dios_object_type_t = 4;
/// The host's console.
pub const D_OBJ_CONSOLE: dios_object_type_t = 5;
/// A running task.
pub const D_OBJ_TASK: dios_object_type_t = 6;
/// A name-visibility domain.
pub const D_OBJ_GROUP: dios_object_type_t = 7;
/// An executable program file, named by SHA-256 of its absolute path.
pub const D_OBJ_EXE: dios_object_type_t = 8;

// ---- op codes (enum dios_op: dios_call_t::opcode, dios_sqe::opcode) ------------

/// `enum dios_op` (untyped in C; `dios_call_t::opcode` is `uint32_t`).
pub type dios_op = c_uint;
/// Null call: completes with 0.
pub const D_OP_NOP: dios_op = 0;
pub const D_OP_CREATE: dios_op = 1;
pub const D_OP_LOOKUP: dios_op = 2;
pub const D_OP_COPY: dios_op = 3;
pub const D_OP_DELETE: dios_op = 4;
pub const D_OP_RUN: dios_op = 5;
pub const D_OP_SELECT: dios_op = 6;
pub const D_OP_ACQUIRE_READ: dios_op = 7;
pub const D_OP_COMMIT_READ: dios_op = 8;
pub const D_OP_RELEASE_READ: dios_op = 9;
pub const D_OP_ACQUIRE_WRITE: dios_op = 10;
pub const D_OP_COMMIT_WRITE: dios_op = 11;
pub const D_OP_RELEASE_WRITE: dios_op = 12;
pub const D_OP_REF_INFO: dios_op = 13;
/// Daemon-wide counts (not batchable).
pub const D_OP_STATS: dios_op = 14;
/// FIFO end: shared state changed in place (the shim sends it; listed for completeness).
pub const D_OP_NOTIFY: dios_op = 15;
/// Take references delegated to this task (`dios_delegated`).
pub const D_OP_DELEGATED: dios_op = 16;

// ---- error codes (positive; calls return them negated) ---------------------------

/// The daemon may not start the task as its owner.
pub const DIOS_EPERM: c_int = 1;
/// `dios_copy`: the target task has exited.
pub const DIOS_ESRCH: c_int = 3;
/// A count or size above its documented maximum.
pub const DIOS_E2BIG: c_int = 7;
/// `dios_run`: not an executable with a DIOS ELF brand.
pub const DIOS_ENOEXEC: c_int = 8;
/// Name not found (or not visible).
pub const DIOS_ENOENT: c_int = 2;
/// Not a reference this task holds.
pub const DIOS_EBADF: c_int = 9;
/// Would block and `D_NONBLOCK` was given.
pub const DIOS_EAGAIN: c_int = 11;
/// Out of memory or a per-task limit hit.
pub const DIOS_ENOMEM: c_int = 12;
/// Reference lacks the permission.
pub const DIOS_EACCES: c_int = 13;
/// A buffer handle the shim did not issue.
pub const DIOS_EFAULT: c_int = 14;
/// `D_CREATE_NAME_GIVEN` and the name is bound.
pub const DIOS_EEXIST: c_int = 17;
/// Bad argument.
pub const DIOS_EINVAL: c_int = 22;
/// The durable store failed (a blob's fsync, the journal).
pub const DIOS_EIO: c_int = 5;
/// Out of space.
pub const DIOS_ENOSPC: c_int = 28;
/// Stream's other end is gone.
pub const DIOS_EPIPE: c_int = 32;
/// Call not implemented.
pub const DIOS_ENOSYS: c_int = 38;
/// Object was deleted (zombie).
pub const DIOS_EIDRM: c_int = 43;
/// The peer broke the wire protocol.
pub const DIOS_EPROTO: c_int = 71;
/// Operation not supported on this object type.
pub const DIOS_EOPNOTSUPP: c_int = 95;
/// Daemon gone: never hang.
pub const DIOS_ENOTCONN: c_int = 107;
/// `D_TIMEOUT`: the call's deadline passed before it could go on.
pub const DIOS_ETIMEDOUT: c_int = 110;
pub const DIOS_EDQUOT: c_int = 122;
/// Owning host gone (cluster).
pub const DIOS_EHOSTDOWN: c_int = 112;
/// commit_read whose data was overwritten meanwhile.
pub const DIOS_ESTALE: c_int = 116;
/// The FIFO end is bound to another reference, or a buffer of it is out.
pub const DIOS_EBUSY: c_int = 16;

// ---- call flags (dios_flags_t) -----------------------------------------------------

/// Any call: `-EAGAIN` instead of waiting.
pub const D_NONBLOCK: dios_flags_t = 1 << 0;
/// Calls that wait (select, acquire): the entry carries a timeout (the
/// `*_timeout` functions set it); `-ETIMEDOUT` once it passed.
pub const D_TIMEOUT: dios_flags_t = 1 << 1;
/// dios_create: `*name` is read as the name to bind.
pub const D_CREATE_NAME_GIVEN: dios_flags_t = 1 << 8;
/// dios_create: set by the shim when `name` is not NULL (accepted, never needed).
pub const D_CREATE_NAMED: dios_flags_t = 1 << 9;
/// dios_create: bind the name in the public group, where every user's tasks
/// may look it up (`D_LOOKUP_PUBLIC`); by default a name is in the caller's
/// uid's group, invisible to other users.
pub const D_CREATE_PUBLIC: dios_flags_t = 1 << 10;
/// dios_create with a name from `dios_name_from_string` (= `D_CREATE_NAME_GIVEN`).
pub const D_NAME_DETERMINISTIC_STRING: dios_flags_t = D_CREATE_NAME_GIVEN;
/// dios_lookup: the new reference may only read.
pub const D_LOOKUP_READONLY: dios_flags_t = 1 << 12;
/// dios_lookup: look in the public group (`D_CREATE_PUBLIC`) instead of the task's own groups.
pub const D_LOOKUP_PUBLIC: dios_flags_t = 1 << 13;
/// dios_delete: kill the object for every holder.
pub const D_DELETE_ZOMBIFY: dios_flags_t = 1 << 16;
/// `dios_copy`: the delegated references may only read.
pub const D_COPY_READONLY: dios_flags_t = 1 << 12;
/// `dios_run`: a Pure DIOS task's denied system call kills it (default: `-ENOSYS`).
pub const D_RUN_SECCOMP_KILL: dios_flags_t = 1 << 20;
/// `dios_acquire_write` (memory objects, blobs): an exclusive write buffer;
/// other writers wait until it is released.
pub const D_ACQUIRE_EXCLUSIVE: dios_flags_t = 1 << 24;

// ---- reference permissions (dios_ref_info_t::perms) --------------------------------

pub const D_PERM_READ: u32 = 1 << 0;
pub const D_PERM_WRITE: u32 = 1 << 1;
/// May zombify the object.
pub const D_PERM_DELETE: u32 = 1 << 2;

// ---- reference state bits (dios_ref_info_t::state) ---------------------------------

/// Object is bound in the name table.
pub const D_REF_STATE_NAMED: u32 = 1 << 0;
/// Object was zombified.
pub const D_REF_STATE_ZOMBIE: u32 = 1 << 1;
/// acquire_read would not block.
pub const D_REF_STATE_READABLE: u32 = 1 << 2;
/// acquire_write would not block.
pub const D_REF_STATE_WRITABLE: u32 = 1 << 3;

// ---- limits ---------------------------------------------------------------------

/// Submission ring entries; also the most entries one `dios_batch` takes.
pub const DIOS_SQ_ENTRIES: u32 = 64;
/// Completion ring entries.
pub const DIOS_CQ_ENTRIES: u32 = 128;
/// Largest memory object (64 GiB).
pub const DIOS_MAX_OBJECT_SIZE: u64 = 1 << 36;
/// Lookup capacities above this are clamped.
pub const DIOS_MAX_LOOKUP_REFS: u32 = 1024;
/// `dios_select` count above this: -E2BIG.
pub const DIOS_MAX_SELECT_REFS: u32 = 4096;
/// FIFO capacity is rounded up to this.
pub const DIOS_FIFO_ALIGN: u32 = 4096;
/// `dios_create(D_OBJ_FIFO, NULL, ...)`.
pub const DIOS_FIFO_DEFAULT_CAPACITY: u32 = 256 * 1024;
pub const DIOS_FIFO_MAX_CAPACITY: u64 = 1 << 30;
/// Console acquire_*: at most this many bytes.
pub const DIOS_CONSOLE_BUF_BYTES: u32 = 65536;
/// dios_run / dios_run_env: bytes of the child's environment strings, NULs included (`E2BIG` beyond).
pub const DIOS_RUN_MAX_ENV_BYTES: u32 = 16384;
/// Which end a FIFO reference is (CQE/ref_info).
pub const D_FIFO_END_READER: u32 = 1;
pub const D_FIFO_END_WRITER: u32 = 2;

// ---- why a call failed (D_CQE_F_DETAIL): the limit named by dios_last_error_detail --

/// References one task may hold (diosd `--max-refs`).
pub const D_DETAIL_MAX_REFS: u32 = 1;
/// Buffers one task may have out (diosd `--max-buffers`).
pub const D_DETAIL_MAX_BUFFERS: u32 = 2;
/// Calls one task may have waiting (diosd `--max-parked-calls`).
pub const D_DETAIL_MAX_PARKED: u32 = 3;
/// PRIVMEM bytes one task may hold (diosd `--max-task-memory`).
pub const D_DETAIL_MAX_TASK_MEMORY: u32 = 4;
/// References the parked selects of one task may watch.
pub const D_DETAIL_MAX_SELECT: u32 = 5;
/// Groups one task may be in (`DIOS_RUN_MAX_GROUPS`).
pub const D_DETAIL_MAX_GROUPS: u32 = 6;
/// Per-user quota (`-EDQUOT`, diosd `--quota-objects`): objects of the user.
pub const D_DETAIL_QUOTA_OBJECTS: u32 = 7;
/// Per-user quota (`--quota-names`): names the user's objects hold.
pub const D_DETAIL_QUOTA_NAMES: u32 = 8;
/// Per-user quota (`--quota-memory`): bytes of the user's PRIVMEM and SHMEM objects.
pub const D_DETAIL_QUOTA_MEMORY: u32 = 9;
/// Per-user quota (`--quota-fifos`): FIFOs of the user.
pub const D_DETAIL_QUOTA_FIFOS: u32 = 10;
/// Per-user quota (`--quota-blobs`): durable blobs the user created.
pub const D_DETAIL_QUOTA_BLOBS: u32 = 11;
/// Per-user quota (`--quota-blob-bytes`): bytes of those blobs.
pub const D_DETAIL_QUOTA_BLOB_BYTES: u32 = 12;
/// One past the last detail code.
pub const D_DETAIL_LAST: u32 = 13;

// ---- where clients find the daemon -------------------------------------------------

/// Environment variable naming the daemon's socket (overrides the default path).
pub const DIOS_ENV_SOCKET: &str = "DIOS_SOCKET";
/// Environment variable: nanoseconds the shim spins before futex-waiting.
pub const DIOS_ENV_SPIN_NS: &str = "DIOS_SPIN_NS";
/// Environment variable: `dios` makes libdlibc's malloc take DIOS private
/// memory (Pure DIOS tasks always do); read once, before `main`.
pub const DIOS_ENV_HEAP: &str = "DIOS_HEAP";
/// The console's well-known name is `dios_name_from_string` of this.
pub const DIOS_CONSOLE_NAME_STRING: &str = "dios:console";

// ===========================================================================
// dios.h: types
// ===========================================================================

/// The first argument of every call: `D_*` flags.
pub type dios_flags_t = u64;

/// A 256-bit name.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct dios_name_t {
    pub raw: [u8; DIOS_NAME_BYTES],
}

/// Opaque reference handle.  The shim encodes a daemon reference id in the
/// pointer value: never dereference it, and it means nothing in another task.
#[repr(C)]
pub struct dios_ref_t {
    _data: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// A buffer issued by an acquire: the object's own memory, `len` bytes.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct dios_iovec_t {
    pub buf: *mut c_void,
    pub len: u64,
}

/// Arguments of `dios_run`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct dios_task_spec_t {
    /// The child's argv (argv[0] included).
    pub argc: c_int,
    // (4 bytes of implicit C padding here)
    pub argv: *mut *mut c_char,
    /// References delegated to the child.
    pub refs: *mut *mut dios_ref_t,
    pub ref_count: u64,
    /// Groups of the child (0: the parent's).
    pub groups: *mut *mut dios_ref_t,
    pub group_count: u64,
}

impl Default for dios_task_spec_t {
    fn default() -> Self {
        Self {
            argc: 0,
            argv: ptr::null_mut(),
            refs: ptr::null_mut(),
            ref_count: 0,
            groups: ptr::null_mut(),
            group_count: 0,
        }
    }
}

/// What reading a task reference yields once it has ended.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct dios_task_exit {
    /// waitpid-style status; -1 if unknown.
    pub status: i32,
    pub pid: u32,
    pub task_id: u64,
}

/// What `dios_ref_info` reports about a reference.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct dios_ref_info_t {
    /// `D_OBJ_*`.
    pub type_: dios_object_type_t,
    /// `D_PERM_*` the reference carries.
    pub perms: u32,
    /// `D_REF_STATE_*`.
    pub state: u32,
    /// 0 = object lives on this host.
    pub proximity: u32,
    /// 0 = strong (single host).
    pub consistency: u32,
    /// 0.
    pub pad: u32,
    /// Bytes (memory objects), 0 otherwise.
    pub size: u64,
    /// Daemon-local object number, for diagnostics.
    pub object_id: u64,
}

/// Daemon-wide counts, for diagnostics and leak checks in tests.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct dios_daemon_stats_t {
    /// Registered tasks.
    pub tasks: u64,
    /// Live objects (all types, including task objects).
    pub objects: u64,
    /// Bindings in the name table.
    pub names: u64,
    /// References held by all tasks.
    pub refs: u64,
    /// Outstanding acquired buffers.
    pub buffers: u64,
    /// Open memory segments (memfds).
    pub segments: u64,
}

/// The calling task's heap (libdlibc's malloc; see `dios_heap_stats` in dios.h).
/// Rust's global allocator is the system malloc, so a Rust program linking
/// libdlibc allocates from this heap in Pure DIOS tasks and with `DIOS_HEAP=dios`.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct dios_heap_stats_t {
    /// 1: glibc's heap, 2: the DIOS heap (dios.h's DIOS_HEAP_MODE_*); 0 before libdlibc's constructor.
    pub mode: u32,
    /// 1: the Pure DIOS lock is on (brk and anonymous mmap denied).
    pub locked: u32,
    /// PRIVMEM objects the heap holds.
    pub objects: u64,
    /// Their sizes: what the daemon counts for this task's heap.
    pub bytes_held: u64,
    /// Pool chunks.
    pub chunks: u64,
    /// Live blocks with an object of their own.
    pub large: u64,
    /// Freed large objects kept for reuse.
    pub cached_bytes: u64,
    /// DIOS calls the heap has made.
    pub daemon_calls: u64,
    /// Times the daemon refused memory.
    pub failures: u64,
    /// The shim's own bookkeeping memory.
    pub meta_bytes: u64,
    /// Used of the bootstrap arena.
    pub bootstrap_bytes: u64,
}

/// One entry of a `dios_batch` submission.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct dios_call_t {
    /// In: `D_OP_*`.
    pub opcode: u32,
    /// Out: 0 or -errno.
    pub res: i32,
    /// In.
    pub flags: dios_flags_t,
    /// In: CREATE.
    pub type_: dios_object_type_t,
    pub pad: u32,
    /// In: CREATE (as `dios_create`).
    pub arg: *const c_void,
    /// In/out: CREATE (as `dios_create`); in: LOOKUP.
    pub name: *mut dios_name_t,
    /// In: the reference to act on; out: CREATE/LOOKUP result.
    pub ref_: *mut dios_ref_t,
    /// In: ACQUIRE_*, COMMIT_WRITE.
    pub len: u64,
    /// In: COMMIT/RELEASE; out: ACQUIRE.
    pub iov: *mut dios_iovec_t,
    /// Out: REF_INFO.
    pub info: *mut dios_ref_info_t,
}

impl Default for dios_call_t {
    fn default() -> Self {
        Self {
            opcode: D_OP_NOP,
            res: 0,
            flags: 0,
            type_: D_OBJ_NONE,
            pad: 0,
            arg: ptr::null(),
            name: ptr::null_mut(),
            ref_: ptr::null_mut(),
            len: 0,
            iov: ptr::null_mut(),
            info: ptr::null_mut(),
        }
    }
}

// ===========================================================================
// dios_abi.h: ring and control-message structs (layout mirrors only; the
// shim speaks this protocol, clients do not)
// ===========================================================================

/// Submission queue entry, 128 bytes, written by the task.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct dios_sqe {
    /// `D_OP_*` (as u8).
    pub opcode: u8,
    /// `D_SQE_*`.
    pub sqe_flags: u8,
    /// Must be 0.
    pub rsvd0: u16,
    /// CREATE: `dios_object_type_t`.
    pub obj_type: u32,
    /// Echoed in the completion.
    pub user_data: u64,
    /// The call's `dios_flags_t`.
    pub flags: u64,
    /// The reference id the call acts on (C field `ref`).
    pub ref_: u64,
    /// CREATE: size/capacity; LOOKUP: capacity; ACQUIRE/COMMIT_WRITE: length.
    pub len: u64,
    /// COMMIT/RELEASE: buffer id from the acquire's completion.
    pub buf: u64,
    /// COPY/RUN/SELECT: second reference.
    pub ref2: u64,
    /// With `D_TIMEOUT` (SELECT, ACQUIRE_*): ns before `-ETIMEDOUT`; otherwise must be 0.
    pub timeout_ns: u64,
    /// CREATE with `D_CREATE_NAME_GIVEN`, LOOKUP: the name.
    pub name: [u8; 32],
    /// Must be 0.
    pub rsvd3: [u64; 4],
}

/// Completion queue entry, 64 bytes, written by the daemon.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct dios_cqe {
    /// From the submission.
    pub user_data: u64,
    /// 0 or -errno.
    pub res: i32,
    /// `D_CQE_F_*`.
    pub flags: u32,
    /// Op-specific results (see dios_abi.h).
    pub val: [u64; 6],
}

/// Header of a task's shared region (1024 bytes).  The hot words are shared
/// with another process and accessed with acquire/release atomics in C; a
/// user of this layout must go through `AtomicU32` views of them.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct dios_region_header {
    pub magic: u32,
    pub abi_version: u32,
    pub region_size: u32,
    pub sq_offset: u32,
    pub sq_entries: u32,
    pub sqe_size: u32,
    pub cq_offset: u32,
    pub cq_entries: u32,
    pub cqe_size: u32,
    pub pad0: u32,
    pub task_id: u64,
    pub self_ref: u64,
    pub pid: u64,
    pub self_exe: [u8; 32],
    pub rsvd_info: [u8; 32],
    pub sq_tail: u32,
    pub pad_sq_tail: [u8; 124],
    pub sq_head: u32,
    pub pad_sq_head: [u8; 124],
    pub sq_flags: u32,
    pub pad_sq_flags: [u8; 124],
    pub cq_tail: u32,
    pub pad_cq_tail: [u8; 124],
    pub cq_head: u32,
    pub pad_cq_head: [u8; 124],
    pub cq_waiters: u32,
    pub pad_cq_waiters: [u8; 124],
    pub daemon_state: u32,
    pub pad_daemon_state: [u8; 124],
}

impl Default for dios_region_header {
    fn default() -> Self {
        // SAFETY: only integers and integer arrays: all-zero is a valid value.
        unsafe { core::mem::zeroed() }
    }
}

/// RUN: the head of the task spec in the args area (refs, groups and argv follow).
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct dios_run_args {
    pub argc: u32,
    pub ref_count: u32,
    pub group_count: u32,
    pub argv_bytes: u32,
}

/// Control socket, task -> daemon.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct dios_msg_hello {
    pub magic: u32,
    pub abi_version: u32,
    pub flags: u64,
    pub rsvd: [u64; 2],
}

/// Control socket, daemon -> task (fds: region, doorbell).
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct dios_msg_welcome {
    pub magic: u32,
    pub abi_version: u32,
    pub status: i32,
    pub region_size: u32,
    pub task_id: u64,
    pub rsvd: u64,
}

/// Control socket, daemon -> task (fd: the segment).
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct dios_msg_segment {
    pub magic: u32,
    pub prot: u32,
    pub seg_id: u64,
    pub size: u64,
    pub rsvd: u64,
}

/// Control socket, task -> daemon (fd: a program file for CREATE `D_OBJ_EXE`).
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct dios_msg_exe_fd {
    pub magic: u32,
    pub rsvd: u32,
    pub user_data: u64,
}

/// A FIFO's control page (the shim moves `tail`/`head` in place).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct dios_fifo_ctl {
    pub capacity: u64,
    pub magic: u32,
    pub pad0: u32,
    pub rsvd_info: [u8; 112],
    pub tail: u64,
    pub pad_tail: [u8; 120],
    pub head: u64,
    pub pad_head: [u8; 120],
    pub waiters: u32,
    pub pad_waiters: [u8; 124],
    pub state: u32,
    pub pad_state: [u8; 124],
}

// ===========================================================================
// dios.h: functions.  Every `c_int` return is 0 or a negative errno.
// ===========================================================================

extern "C" {
    /// Create an object.  PRIVMEM/SHMEM: `arg` is `*const u64` (size in bytes).
    /// BLOB: `arg` is NULL (empty) or `*const u64`; it grows on write, and a
    /// named blob is durable (survives daemon restarts until zombified).
    /// `name` NULL: anonymous; else receives a random name, or with
    /// `D_CREATE_NAME_GIVEN` is read as the name to bind.  `host_id` 0 = here.
    pub fn dios_create(
        f: dios_flags_t,
        type_: dios_object_type_t,
        arg: *const c_void,
        name: *mut dios_name_t,
        ref_out: *mut *mut dios_ref_t,
        host_id: u64,
    ) -> c_int;

    /// Deterministic name: SHA-256 of the NUL-terminated string.
    pub fn dios_name_from_string(s: *const c_char, out: *mut dios_name_t) -> c_int;

    /// Resolve a name.  `*count`: in, capacity of `refs` (>= 1); out, refs returned.
    pub fn dios_lookup(
        f: dios_flags_t,
        name: *const dios_name_t,
        refs: *mut *mut dios_ref_t,
        count: *mut u64,
    ) -> c_int;

    /// Delegate references to another task (its `dios_delegated` takes them).
    pub fn dios_copy(
        f: dios_flags_t,
        refs: *mut *mut dios_ref_t,
        count: u64,
        target_task: *mut dios_ref_t,
    ) -> c_int;

    /// Release a reference (`D_DELETE_ZOMBIFY`: kill the object for every holder).
    pub fn dios_delete(f: dios_flags_t, ref_: *mut dios_ref_t) -> c_int;

    /// Spawn a task from an executable object.
    pub fn dios_run(
        f: dios_flags_t,
        exe: *mut dios_ref_t,
        spec: *const dios_task_spec_t,
        task_out: *mut *mut dios_ref_t,
    ) -> c_int;

    /// `dios_run` with the child's environment: a NULL-terminated array of
    /// `NAME=value` strings, or NULL for this process's `environ`.
    pub fn dios_run_env(
        f: dios_flags_t,
        exe: *mut dios_ref_t,
        spec: *const dios_task_spec_t,
        envp: *const *const c_char,
        task_out: *mut *mut dios_ref_t,
    ) -> c_int;

    /// Take references delegated to this task.  `*count`: in, capacity; out, taken.
    pub fn dios_delegated(f: dios_flags_t, refs: *mut *mut dios_ref_t, count: *mut u64) -> c_int;

    /// The executable object of a program file.
    pub fn dios_exe(path: *const c_char, ref_out: *mut *mut dios_ref_t) -> c_int;

    /// A task's exit status (waitpid style), waiting for it to end.
    pub fn dios_wait(f: dios_flags_t, task: *mut dios_ref_t, status_out: *mut c_int) -> c_int;

    /// `dios_wait`, giving up with `-ETIMEDOUT` after `timeout_ns`.
    pub fn dios_wait_timeout(f: dios_flags_t, task: *mut dios_ref_t, status_out: *mut c_int, timeout_ns: u64)
        -> c_int;

    /// `dios_create`, binding the name in `group`.
    pub fn dios_create_in(
        f: dios_flags_t,
        type_: dios_object_type_t,
        arg: *const c_void,
        name: *mut dios_name_t,
        ref_out: *mut *mut dios_ref_t,
        group: *mut dios_ref_t,
    ) -> c_int;

    /// Wait for one of `refs` to be ready (`-ENOSYS` for now).
    pub fn dios_select(
        f: dios_flags_t,
        refs: *mut *mut dios_ref_t,
        count: u64,
        ready_out: *mut *mut dios_ref_t,
    ) -> c_int;

    /// `dios_select`, giving up with `-ETIMEDOUT` after `timeout_ns`.
    pub fn dios_select_timeout(
        f: dios_flags_t,
        refs: *mut *mut dios_ref_t,
        count: u64,
        ready_out: *mut *mut dios_ref_t,
        timeout_ns: u64,
    ) -> c_int;

    /// Map the object for reading (`len` 0 = whole object).
    pub fn dios_acquire_read(
        f: dios_flags_t,
        r: *mut dios_ref_t,
        len: u64,
        iov_out: *mut *mut dios_iovec_t,
    ) -> c_int;
    /// `dios_acquire_read`, giving up with `-ETIMEDOUT` after `timeout_ns`.
    pub fn dios_acquire_read_timeout(
        f: dios_flags_t,
        r: *mut dios_ref_t,
        len: u64,
        iov_out: *mut *mut dios_iovec_t,
        timeout_ns: u64,
    ) -> c_int;
    /// 0 if nothing was committed to the object since the acquire (or the
    /// previous commit_read), else `-ESTALE`; the buffer is re-armed.
    pub fn dios_commit_read(f: dios_flags_t, r: *mut dios_ref_t, iov: *mut dios_iovec_t) -> c_int;
    /// Return a read buffer; `iov` is invalid afterwards.
    pub fn dios_release_read(f: dios_flags_t, r: *mut dios_ref_t, iov: *mut dios_iovec_t) -> c_int;
    /// Map the object for writing (`len` 0 = whole object).
    pub fn dios_acquire_write(
        f: dios_flags_t,
        r: *mut dios_ref_t,
        len: u64,
        iov_out: *mut *mut dios_iovec_t,
    ) -> c_int;
    /// `dios_acquire_write`, giving up with `-ETIMEDOUT` after `timeout_ns`.
    pub fn dios_acquire_write_timeout(
        f: dios_flags_t,
        r: *mut dios_ref_t,
        len: u64,
        iov_out: *mut *mut dios_iovec_t,
        timeout_ns: u64,
    ) -> c_int;
    /// Publish `len` bytes (`len <= iov.len`).
    pub fn dios_commit_write(
        f: dios_flags_t,
        r: *mut dios_ref_t,
        len: u64,
        iov: *mut dios_iovec_t,
    ) -> c_int;
    /// Return a write buffer; `iov` is invalid afterwards.
    pub fn dios_release_write(f: dios_flags_t, r: *mut dios_ref_t, iov: *mut dios_iovec_t) -> c_int;

    /// Text form of a name into `dst` (`DIOS_NAME_STRLEN` bytes, NUL-terminated).
    /// Returns `dst`, or NULL if `name` or `dst` is NULL.
    pub fn dios_nametostr(name: *const dios_name_t, dst: *mut c_char) -> *mut c_char;
    /// Parse the 43-character text form; `-EINVAL` otherwise.
    pub fn dios_strtoname(s: *const c_char, out: *mut dios_name_t) -> c_int;
    /// This task's own reference (a `D_OBJ_TASK`), NULL if the daemon is unreachable.
    pub fn dios_self() -> *mut dios_ref_t;
    /// Name of this task's executable (SHA-256 of its path), NULL if unreachable.
    pub fn dios_self_exe() -> *const dios_name_t;
    /// Look up `name` and return one reference, or NULL.
    pub fn dios_pickref(name: *const dios_name_t) -> *mut dios_ref_t;
    /// Attributes of a reference.
    pub fn dios_ref_info(ref_: *mut dios_ref_t, out: *mut dios_ref_info_t) -> c_int;
    /// The null call: one round trip that does nothing.
    pub fn dios_nop(f: dios_flags_t) -> c_int;
    /// Daemon-wide counts.
    pub fn dios_daemon_stats(out: *mut dios_daemon_stats_t) -> c_int;
    /// The calling task's heap figures.
    pub fn dios_heap_stats(out: *mut dios_heap_stats_t) -> c_int;
    /// Static, NUL-terminated text for a negative return value (also accepts +errno).
    pub fn dios_strerror(err: c_int) -> *const c_char;
    /// This thread's last failed call: what it says (the socket for `-ENOTCONN`,
    /// the limit for `-ENOMEM`).  Never NULL; valid until the thread's next call.
    pub fn dios_last_error_detail() -> *const c_char;
    /// After the daemon died: register again as a new task (old references stay dead).
    /// 0; `-ENOTCONN`, `-EBUSY`, `-EPERM` (Pure DIOS), `-EAGAIN`.
    pub fn dios_reconnect() -> c_int;

    /// Submit `n` (1..=`DIOS_SQ_ENTRIES`) calls at once; each gets its own `res`.
    pub fn dios_batch(calls: *mut dios_call_t, n: u64) -> c_int;
}

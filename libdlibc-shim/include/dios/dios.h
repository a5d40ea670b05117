/*
 * dios.h - the DIOS system-call API, delivered on stock Linux by libdlibc.
 *
 * Every call returns 0 on success or a negative errno value (thread-safe, like
 * liburing; errno is not touched).  Codes common to all calls:
 *   -ENOTCONN  the daemon is gone or could not be reached.  Never hangs: a
 *              caller blocked in any call returns within about 100 ms of the
 *              daemon's death, and every later call fails at once, FIFO
 *              calls done in shared memory included (a watcher thread of
 *              libdlibc sees the daemon's socket hang up).  After a
 *              restart, dios_reconnect starts over as a new task;
 *              dios_last_error_detail names the socket.
 *   -EINVAL    a NULL or malformed argument, or a flag the call does not take.
 *   -EBADF     the reference is not one this task holds (released, or from
 *              another task: reference values mean nothing across tasks).
 *   -EIDRM     the object was zombified (dios_delete with D_DELETE_ZOMBIFY).
 *   -EAGAIN    (a task's first call) the daemon refused to register it: its
 *              task limit is reached (see Limits); a later call tries again.
 *   -ENOMEM    a per-task limit is reached (see Limits); dios_last_error_detail
 *              names it, with its value.
 *
 * Timeouts.  The calls that can wait (dios_select, dios_acquire_read and
 * dios_acquire_write on FIFOs, tasks and the console, dios_wait) have a twin
 * that takes a deadline: dios_select_timeout, dios_acquire_read_timeout,
 * dios_acquire_write_timeout, dios_wait_timeout.  timeout_ns is relative, in
 * nanoseconds (CLOCK_MONOTONIC), from the call; once it has passed with the
 * call still waiting, the call returns -ETIMEDOUT and leaves nothing behind:
 * no buffer, no call waiting in the daemon, and a later event (data, a
 * task's exit) goes to the next call, never to the one that timed out.
 * timeout_ns 0 returns -ETIMEDOUT at once unless the call can go on without
 * waiting; values too large to matter (2^62 ns, about 146 years, and more)
 * never expire, and no value overflows.  D_NONBLOCK still wins: -EAGAIN.
 * Underneath, each twin is the same call with the flag D_TIMEOUT and the
 * timeout in the entry it sends (docs/PROTOCOL.md); the other calls pass
 * their flags through, so D_TIMEOUT given to dios_select itself (or to a
 * dios_batch entry) means a timeout of 0, and to a call that never waits it
 * is -EINVAL.  The timeout is an explicit argument, not a per-thread
 * setting, so a library call made in between can neither inherit nor reset
 * it, and every call site says how long it may wait.
 *
 * Limits.  The daemon enforces these per task and per user; the defaults are
 * diosd's (docs/ARCHITECTURE.md, "Limits", lists all with their flags):
 *   references a task holds        4096   diosd --max-refs           -ENOMEM
 *   buffers acquired, not released 1024   diosd --max-buffers        -ENOMEM
 *   private memory (PRIVMEM bytes) 8 GiB  diosd --max-task-memory    -ENOMEM (malloc: ENOMEM)
 *   calls waiting in the daemon      64   diosd --max-parked-calls   -ENOMEM
 *     (dios_select, dios_wait, console reads and writes, dios_run while it spawns,
 *      acquire_write waiting for an exclusive buffer)
 *   calls in flight         DIOS_CQ_ENTRIES (128): one more waits in the shim for a
 *                                          call slot; at most 64 of them wait in the
 *                                          daemon, so a slot comes free
 *   tasks of one user              2048   diosd --max-tasks-per-user dios_run: -EAGAIN;
 *                                          registering: -EAGAIN
 *   tasks in all                   4096   diosd --max-tasks          as above
 * and the ABI's maxima (dios_abi.h: DIOS_MAX_*, DIOS_RUN_MAX_*): -E2BIG or -EINVAL.
 *
 * The daemon is found through $DIOS_SOCKET, else
 * $XDG_RUNTIME_DIR/dios/diosd.sock (or /tmp/dios-<uid>/diosd.sock without
 * XDG_RUNTIME_DIR), and if nothing listens there, the system service's
 * DIOS_SYSTEM_SOCKET (/run/dios/diosd.sock).  The shim connects on the first
 * call.  After fork() the child is a new task: it
 * registers afresh on its first call and holds none of the parent's references.
 * A task started by dios_run is connected already (DIOS_FD): it needs none of this.
 */
#ifndef DIOS_H
#define DIOS_H

#include <stdint.h>
#include <dios/dios_abi.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t dios_flags_t;
typedef struct dios_name { uint8_t raw[32]; } dios_name_t;        /* 256-bit */
typedef struct dios_ref dios_ref_t;                               /* opaque handle */
typedef struct dios_iovec { void *buf; uint64_t len; } dios_iovec_t;
typedef struct dios_task_spec {
	int argc; char **argv;                                    /* child's argv (argv[0] included) */
	dios_ref_t **refs; uint64_t ref_count;                    /* references delegated to the child */
	dios_ref_t **groups; uint64_t group_count;                /* 0: the parent's groups; else exactly these */
} dios_task_spec_t;

/* What dios_ref_info reports about a reference. */
typedef struct dios_ref_info {
	dios_object_type_t type;    /* D_OBJ_* */
	uint32_t perms;             /* D_PERM_* the reference carries */
	uint32_t state;             /* D_REF_STATE_* */
	uint32_t proximity;         /* 0 = object lives on this host */
	uint32_t consistency;       /* 0 = strong (single host) */
	uint32_t pad;               /* 0 */
	uint64_t size;              /* bytes (memory objects; a blob's committed size); a task: its pid; else 0 */
	uint64_t object_id;         /* daemon-local object number, for diagnostics */
} dios_ref_info_t;

/*
 * dios_create - create an object and return a reference to it.
 *   type   D_OBJ_PRIVMEM, D_OBJ_SHMEM: arg is const uint64_t *size_bytes (> 0,
 *          at most DIOS_MAX_OBJECT_SIZE).  D_OBJ_FIFO: NULL or const uint64_t
 *          *capacity_bytes (see the FIFO section below).
 *          D_OBJ_BLOB: arg is NULL (an empty blob) or const uint64_t *size_bytes
 *          (0 to DIOS_MAX_OBJECT_SIZE zero bytes).  A blob grows on write (see
 *          the I/O calls below).  Its data is a file in the daemon's state
 *          directory.  D_OBJ_EXE: arg is the canonical absolute path of a
 *          program file (what dios_exe gives it), which this process opens
 *          itself (see dios_exe).
 *   name   NULL: anonymous (no name, never in the name table; cheapest).
 *          Non-NULL: receives a fresh 256-bit random name, or with
 *          D_CREATE_NAME_GIVEN is read as the name to bind.
 *          Where the name is bound: in this task's default group, which for a
 *          task that connected by itself is its USER's group (every task of
 *          the same uid, and the tasks they dios_run, see it; other users'
 *          lookups get -ENOENT, as for an absent name, and may bind the same
 *          name for themselves).  With D_CREATE_PUBLIC, in the public group
 *          instead, where every user's tasks find it with D_LOOKUP_PUBLIC:
 *          the one way to share a name across users.
 *          A named blob is DURABLE: it survives daemon restarts (kill -9
 *          included) and outlives all its references; only D_DELETE_ZOMBIFY
 *          deletes it.  The call returns once the blob and its name are on
 *          stable storage.  An anonymous blob dies with its last reference and
 *          with the daemon.
 *   host_id 0 = this host.
 * Errors: -EINVAL (NULL ref_out, missing/zero/oversized size, unknown type or
 * flag, D_CREATE_PUBLIC without a name; D_OBJ_EXE: a path that is not
 * canonical, as relative ones, ones with a symlink or ".." in them), -EEXIST
 * (given name already bound in that group, also by a durable blob of an
 * earlier run), -EACCES (D_CREATE_PUBLIC by a task dios_run gave groups of its
 * own: it is not in the public group), -EOPNOTSUPP (type not provided by this
 * daemon yet), -ENOMEM (reference table full), -ENOSPC / -EIO (a blob's file
 * or the journal could not be written), -EHOSTDOWN (host_id != 0), -ENOENT,
 * -EACCES, -ENAMETOOLONG, -EMFILE, -EAGAIN (D_OBJ_EXE: as for dios_exe),
 * -EDQUOT (the caller's user is at one of its per-user quotas of the daemon:
 * objects, names, bytes of PRIVMEM and SHMEM objects, FIFOs, blobs or blob
 * bytes; see diosd(8) --quota-*; the quotas are checked after the arguments,
 * before anything is made).
 */
int dios_create(dios_flags_t f, dios_object_type_t type, const void *arg,
		dios_name_t *name, dios_ref_t **ref_out, uint64_t host_id);

/*
 * dios_name_from_string - deterministic name: SHA-256 of the string.  Anyone
 * can compute it, so it is no secret: bound by default, it is seen by this
 * user's tasks alone (dios_create); D_CREATE_PUBLIC shares it with every user.
 * Errors: -EINVAL (NULL s or out).
 */
int dios_name_from_string(const char *s, dios_name_t *out);

/*
 * dios_lookup - resolve a name to references.
 *   *count in: capacity of refs (>= 1); out: references returned.
 *   D_LOOKUP_READONLY: the new reference carries D_PERM_READ only.
 *   Looks in this task's groups (its user's group first, see dios_create),
 *   then among the names every task resolves (the console, executables).
 *   D_LOOKUP_PUBLIC: in the public group instead (names bound with
 *   D_CREATE_PUBLIC, by any user), then the console and executables; a
 *   public lookup gives read and write (or read only with D_LOOKUP_READONLY).
 *   A durable (named) blob outlives its creator's reference, so a lookup of one
 *   without D_LOOKUP_READONLY also carries D_PERM_DELETE: the name is what lets
 *   anyone delete it.  Names of memory objects do not survive a daemon restart.
 * Errors: -ENOENT (no such name where the lookup looks: also another user's
 * name), -EACCES (name of another task's private memory; D_LOOKUP_PUBLIC by a
 * task that is not in the public group), -EINVAL (NULL name/refs/count or
 * capacity 0, unknown flag), -ENOMEM.
 */
int dios_lookup(dios_flags_t f, const dios_name_t *name, dios_ref_t **refs, uint64_t *count);

/*
 * dios_copy - delegate references to another task, with the same permissions,
 * or read-only with D_COPY_READONLY (a read-only reference stays read-only).
 * target_task: a task reference with write permission (dios_run returns one).
 * The references land in the target's reference table and in its inbox, in
 * order; it takes them with dios_delegated.  All or nothing.
 * Errors: -EBADF (a reference or the target not held), -EINVAL (target not a
 * task, count 0), -EACCES (target reference read-only, or private memory),
 * -ESRCH (the target has exited), -E2BIG (count > DIOS_MAX_COPY_REFS),
 * -ENOMEM (the target's reference table is full), -EIDRM.
 */
int dios_copy(dios_flags_t f, dios_ref_t **refs, uint64_t count, dios_ref_t *target_task);

/*
 * dios_delegated - take references delegated to this task: first those its
 * parent passed to dios_run (in the spec's order), then those dios_copy
 * delivered.  *count in: capacity; out: references taken (0: none waiting).
 */
int dios_delegated(dios_flags_t f, dios_ref_t **refs, uint64_t *count);

/*
 * dios_delete - release a reference.  The object is freed when its last
 * reference goes.  D_DELETE_ZOMBIFY (needs D_PERM_DELETE) kills the object for
 * every holder: later operations fail with -EIDRM.
 * A zombify does not revoke a mapping already handed out, as unlink(2) and
 * shm_unlink(3) do not: a task still holding a buffer (or the segment it came
 * from) keeps reading and storing through it without a fault, and its stores
 * are seen by other tasks still mapping it.  What the daemon guarantees is
 * that none of it counts: no new buffer is handed out (acquire: -EIDRM), no
 * write commits and no read validates (commit_write, commit_read: -EIDRM),
 * the name is gone, and a durable blob's file is removed at once (its pages
 * live on, unnamed, until the last mapping goes, and nothing of them survives
 * a restart).  A task that must not see later stores through a mapping it
 * shared must copy the bytes out and validate them with dios_commit_read
 * before the zombify, or share read-only references.
 * Buffers still acquired through the reference are released with it (their
 * iovecs become invalid).  Deleting a reference to a zombie works (0).
 * Only the creator's reference carries D_PERM_DELETE; looked-up ones do not
 * (except writable lookups of durable blobs, see dios_lookup).  Zombifying a
 * durable blob is on stable storage when the call returns (-EIO otherwise, and
 * nothing changed); releasing its last reference does not delete it.
 * Zombies: the name is unbound at once (lookups give -ENOENT), dios_ref_info
 * still succeeds and reports D_REF_STATE_ZOMBIE, releasing buffers works,
 * and every other call on the object fails with -EIDRM.
 * Errors: -EBADF (not held; also a second delete of the same reference),
 * -EACCES (zombify without D_PERM_DELETE), -EINVAL (unknown flag),
 * -EIO / -ENOSPC (a durable blob's deletion could not be journaled; nothing
 * changed), -ENOMEM (zombify of a durable blob, which waits in the daemon for
 * the journal, while the task has --max-parked-calls calls waiting already).
 */
int dios_delete(dios_flags_t f, dios_ref_t *ref);

/*
 * dios_run - spawn a task: a real process running the executable object exe
 * (dios_exe, or dios_pickref(dios_self_exe()) for a copy of oneself), with
 * spec's argv.  Returns in *task_out a reference to the new task (read, write
 * to delegate to it with dios_copy, delete).  Reading it (dios_wait, or
 * dios_acquire_read) yields its exit status once it has ended; dios_select on
 * it is ready then.
 * The child starts connected to the daemon; spec->refs are already in its
 * reference table (dios_delegated hands them out, in order) and it belongs to
 * spec->groups (each a group this task belongs to), or to this task's groups
 * when group_count is 0.  Its environment is this task's (environ, at the
 * call: dios_run_env gives another), with DIOS_FD and DIOS_SOCKET set by the
 * daemon.  Its stdin/stdout/stderr are this task's (/dev/null for any of fds
 * 0-2 this task has closed); it gets no other fd but its connection, and
 * never one of the daemon's.  It runs as
 * this task's user (a system daemon needs CAP_SETUID for that: else -EPERM).
 * Only DIOS-branded executables run (`dios brand`): a Pure DIOS one under a
 * seccomp filter whose denied calls fail with -ENOSYS, or, with
 * D_RUN_SECCOMP_KILL, kill it (docs/PURE_DIOS.md).  Confinement composes: a
 * Pure DIOS task's child runs Pure DIOS whatever its brand (a Limbo program
 * then fails, or dies at, its first denied call), and is killed by a denied
 * call whenever its parent is, D_RUN_SECCOMP_KILL or not.  The daemon's loop never
 * waits for the spawn: the call is parked until the process has started.
 * What runs is the file this user's dios_exe opened (the latest, if its tasks
 * called it more than once), or, for a task running a copy of itself, its own
 * running program: never a file reached through another user's dios_exe.
 * Errors: -ENOEXEC (exe not an executable object, or not DIOS-branded),
 * -ENOENT (the file dios_exe opened is no longer at its path: moved, deleted or
 * replaced, a rebuilt program included; dios_exe it again), -EACCES (not
 * executable by this user; exe found by name but no task of this user opened
 * it with dios_exe, nor runs it; a group not this task's; private memory
 * delegated), -EBADF, -EINVAL (argc < 1, NULL
 * strings), -E2BIG (over DIOS_RUN_MAX_*; the environment over
 * DIOS_RUN_MAX_ENV_BYTES), -EAGAIN (this user's task limit,
 * diosd --max-tasks-per-user), -ENOMEM (this task's reference table is full,
 * or it has --max-parked-calls calls waiting), -EPERM, -ENOSYS (the daemon
 * has no launcher).
 */
int dios_run(dios_flags_t f, dios_ref_t *exe, const dios_task_spec_t *spec, dios_ref_t **task_out);

/*
 * dios_run_env - dios_run with an explicit environment for the child: envp
 * is a NULL-terminated array of "NAME=value" strings, as execve's (a string
 * without '=' is passed on as it is).  NULL: this task's environ, exactly what
 * dios_run gives; a one-element { NULL } array: an empty environment.  The
 * daemon removes any DIOS_FD, DIOS_SOCKET and DIOS_PURE from it and sets its
 * own DIOS_FD and DIOS_SOCKET (DIOS_PURE=1 for a Pure DIOS child), so the
 * child always reaches the daemon.  The strings, NULs included, are at most
 * DIOS_RUN_MAX_ENV_BYTES (16 KiB); the same bound holds for the inherited
 * environ of dios_run.  Pure DIOS children get theirs like any other.
 * Errors: those of dios_run; -E2BIG (envp, or environ for NULL, over
 * DIOS_RUN_MAX_ENV_BYTES); -EINVAL (an empty string in envp).
 */
int dios_run_env(dios_flags_t f, dios_ref_t *exe, const dios_task_spec_t *spec, char *const envp[],
		 dios_ref_t **task_out);

/*
 * dios_exe - the executable object of a program file (D_OBJ_EXE): its name
 * is SHA-256 of the canonical absolute path (dios_name_from_string of it), so
 * every task names the same program alike.  The daemon binds it among the
 * names every task resolves, whatever its user or groups (a path is no
 * secret, and an executable reference is read-only).  Same as dios_create(0, D_OBJ_EXE,
 * canonical_path, ...), after realpath(3) of path in this process.
 * The file is opened here, once, with this process's credentials (read
 * permission needed; O_NOFOLLOW, O_NONBLOCK: a FIFO never blocks it), and the
 * daemon keeps that open file for this user: it never opens the path itself,
 * and dios_run execs exactly this file.  Creating one that exists returns
 * another reference to it, and makes this file the one this user's runs use
 * (call it again after rebuilding a program).
 * Errors: -ENOENT, -EACCES (no permission to reach or read it, as open(2)
 * would say; not a regular file: a FIFO, a device, a directory), -ENAMETOOLONG
 * (path or its canonical form DIOS_EXE_PATH_MAX bytes or more), -EINVAL (the
 * path changed while it was opened), -EMFILE (this process has no fd left),
 * -EAGAIN (too many executables in flight on the connection at once).
 */
int dios_exe(const char *path, dios_ref_t **ref_out);

/*
 * dios_wait - the exit status of a task (waitpid style: WIFEXITED(status),
 * WEXITSTATUS(status), WIFSIGNALED ...), waiting for it to end (D_NONBLOCK:
 * -EAGAIN while it runs).  -1 when unknown (a task diosd did not spawn).
 */
int dios_wait(dios_flags_t f, dios_ref_t *task, int *status_out);

/*
 * dios_wait_timeout - dios_wait, giving up after timeout_ns nanoseconds (see
 * Timeouts above): the task runs on, and a later dios_wait gets its status.
 * Errors: -ETIMEDOUT (still running at the deadline), -EAGAIN (D_NONBLOCK),
 * -EBADF, -EINVAL (not a task reference, unknown flag), -ENOMEM (diosd
 * --max-parked-calls calls wait already).
 */
int dios_wait_timeout(dios_flags_t f, dios_ref_t *task, int *status_out, uint64_t timeout_ns);

/*
 * dios_create_in - dios_create that binds the new name in group (a
 * D_OBJ_GROUP this task belongs to, with write permission) instead of the
 * task's default group.  Names are resolved only in the caller's groups:
 * a group's names are invisible to tasks outside it.  A task that connects by
 * itself belongs to its user's group (its default: first in every lookup) and
 * may use the public group when it asks (D_CREATE_PUBLIC, D_LOOKUP_PUBLIC);
 * creating a group makes its creator a member; dios_run chooses the child's
 * (group_count 0: all of the parent's, its user's group and the public one
 * included; else exactly those, the first its default).  Durable blobs are
 * named only in the user's group or the public one (-EOPNOTSUPP).  Errors as
 * dios_create, plus -EBADF, -EINVAL (group not a group, no name asked for, or
 * D_CREATE_PUBLIC too), -EACCES (not a member).
 */
int dios_create_in(dios_flags_t f, dios_object_type_t type, const void *arg,
		   dios_name_t *name, dios_ref_t **ref_out, dios_ref_t *group);

/*
 * dios_select - wait until one of refs is ready and return it in *ready_out.
 * Ready means the operation the reference is for would not block: a FIFO's
 * reader end (or any reference with read permission that is not the writer
 * end) has data or end of stream; the writer end has space, or its reader is
 * gone; the console has input or end of input; a task has exited; memory
 * objects are always ready.  The first ready reference in array order wins.
 * Repeats are folded: a reference named several times, or several references
 * to one object that ask the same question (say two with read permission on
 * one FIFO, neither the writer end), are one wait in the daemon, through the
 * first of them in array order, and that one is what *ready_out returns
 * (removing a later duplicate does not end the wait).  So a long array of
 * copies costs the daemon one wait per object, not one per entry.
 * Blocks in the daemon (parked: other calls of this and every other task go
 * on); D_NONBLOCK gives -EAGAIN instead.  count <= DIOS_MAX_SELECT_REFS.
 * Errors: -EINVAL (NULL refs/ready_out, count 0, unknown flag), -E2BIG (count
 * above the maximum), -EBADF (a reference not held), -EAGAIN, -ENOMEM (this
 * task's parked selects already hold 4 x DIOS_MAX_SELECT_REFS distinct waits,
 * or it has diosd --max-parked-calls calls waiting already: 64 by default).
 */
int dios_select(dios_flags_t f, dios_ref_t **refs, uint64_t count, dios_ref_t **ready_out);

/*
 * dios_select_timeout - dios_select, giving up after timeout_ns nanoseconds
 * (see Timeouts above).  The daemon counts the deadline and takes a call that
 * times out off every object it waited on.
 * Errors: -ETIMEDOUT (nothing was ready by the deadline; *ready_out is not
 * written), and those of dios_select.
 */
int dios_select_timeout(dios_flags_t f, dios_ref_t **refs, uint64_t count, dios_ref_t **ready_out,
			uint64_t timeout_ns);

/*
 * I/O transactions (seed section 3.5.2): acquire a buffer, commit, release.
 * Memory objects (PRIVMEM, SHMEM) get their memory at the first acquire, not at
 * create (as Linux allocates pages at first touch).
 * Memory objects: acquire maps the object from offset 0 into
 * the caller (len 0 = the whole object; len > size is -EINVAL).  The buffer is
 * the object's own shared memory: no copy is made.  A buffer stays usable for
 * many commits until it is released.
 *   dios_acquire_read   -EACCES without D_PERM_READ.  The mapping is PROT_READ
 *                       when the reference may not write.
 *   dios_commit_read    0 if no write was committed to the object, and none
 *                       was in progress, since the acquire (or the previous
 *                       commit_read of this buffer), else -ESTALE; either way
 *                       the buffer is re-armed.  A write is in progress while
 *                       any write buffer of the object is out (any task's,
 *                       this one's too), from its acquire_write to its
 *                       release, committed or not: a buffer kept for many
 *                       commits keeps every reader at -ESTALE until released.
 *   dios_acquire_write  -EACCES without D_PERM_WRITE.  Waits (parked in the
 *                       daemon) while an exclusive write buffer of the object
 *                       is out or another acquire_write waits before it;
 *                       -EAGAIN with D_NONBLOCK.  D_ACQUIRE_EXCLUSIVE: an
 *                       exclusive buffer, which also waits until no other
 *                       write buffer is out (-EAGAIN with D_NONBLOCK) and then
 *                       holds every other writer off until its release (by
 *                       dios_release_write, by dios_delete of its reference,
 *                       or by its task's end).  Waiters are served first come
 *                       first served; one waiting when the object is
 *                       zombified gets -EIDRM, one whose reference is deleted
 *                       meanwhile -EBADF.  A thread waiting for its own
 *                       task's exclusive buffer waits until another thread
 *                       releases it (a single thread asking again while it
 *                       holds one waits for ever: use D_NONBLOCK there).
 *   dios_commit_write   publishes len bytes (len <= iov->len, else -EINVAL).
 *   dios_release_*      returns the buffer; iov is invalid afterwards.
 * Transactions that hold (memory objects and blobs; t_txn tests each with
 * two processes).  Three patterns are exact:
 *   read-validate       acquire_read once; then repeatedly use (or copy) the
 *                       bytes and dios_commit_read: 0 means what was read
 *                       meanwhile is one consistent state, never a torn one;
 *                       -ESTALE: read again.  Writers must release their
 *                       buffers after committing, or no read validates.
 *   exclusive read-modify-write
 *                       dios_acquire_write(D_ACQUIRE_EXCLUSIVE), read the
 *                       bytes through the write buffer itself (it maps the
 *                       same memory), change them, dios_commit_write,
 *                       dios_release_write.  Exact when every writer of the
 *                       object takes its buffers exclusive (a mutex everyone
 *                       must take): a plain write buffer already out when the
 *                       exclusive one is asked for is waited for, but plain
 *                       buffers are not checked for what they store.
 *   compare-and-swap    hold a write buffer and use atomic operations
 *                       (__atomic_compare_exchange_n, C11 atomics) on
 *                       naturally aligned words of it: the mapping is
 *                       MAP_SHARED, so every task mapping the object sees
 *                       them at once, with no daemon call.  commit_write
 *                       then publishes for readers that validate (and makes
 *                       a durable blob's bytes durable).
 * A plain read-modify-write (acquire_read, commit_read, acquire_write,
 * commit_write) is NOT exact: two tasks may both validate the same value
 * and both write value+1.
 * Blobs: acquire maps the blob's file from offset 0.
 *   dios_acquire_read   len 0 = the committed size; len above it is -EINVAL.
 *   dios_acquire_write  len may exceed the size (up to DIOS_MAX_OBJECT_SIZE):
 *                       the buffer covers len bytes, and the blob grows only
 *                       when a commit says so.  len 0 = the committed size.
 *   dios_commit_write   publishes bytes 0..len; if len is larger than the
 *                       size, that is the new size (blobs never shrink).  On a
 *                       durable blob it returns 0 only once the data and the
 *                       new size are on stable storage (fdatasync: about 1-5 ms
 *                       on a disk); -EIO or -ENOSPC if they could not be.  What
 *                       was written but not committed may be lost in a crash.
 *                       The call waits in the daemon meanwhile (the sync runs
 *                       on a thread of its own, so other calls and tasks go
 *                       on), counting as one of the task's calls waiting in the
 *                       daemon (-ENOMEM at --max-parked-calls).  Commits of one
 *                       blob complete in the order the daemon took them; until
 *                       one has completed, no dios_commit_read of the blob
 *                       succeeds (-ESTALE), even if the write buffer is
 *                       released meanwhile.
 *   Do not ftruncate a blob's file: other tasks mapping it would fault (the
 *   daemon grows it back at the next acquire or commit; the cut bytes read as
 *   zeros).  A full disk makes a store into a new page fault with SIGBUS.
 * Buffer errors: -EFAULT (iov not issued by this shim, or already released),
 * -EINVAL (a read buffer given to a write call or vice versa, or a buffer of
 * another reference), -ENOMEM (too many outstanding buffers).
 * Errors: -EAGAIN (D_NONBLOCK and the call would wait), -EINVAL
 * (D_ACQUIRE_EXCLUSIVE on anything but acquire_write of a memory object or
 * blob), -ESTALE (commit_read, above), -EIDRM (zombified, also while
 * waiting), -EBADF (the reference deleted while waiting), -ENOMEM (buffers,
 * or calls waiting in the daemon: see Limits), -EDQUOT (acquire_write of a
 * blob whose file would grow past its creator's --quota-blob-bytes).
 */
/*
 * FIFOs (D_OBJ_FIFO; dios_create's arg: NULL for DIOS_FIFO_DEFAULT_CAPACITY,
 * or const uint64_t *capacity, 1..DIOS_FIFO_MAX_CAPACITY, rounded up to
 * DIOS_FIFO_ALIGN): a byte stream from one writer end to one reader end.
 * The first reference to acquire for reading becomes the reader end, the
 * first to acquire for writing the writer end; any other reference gets
 * -EBUSY while that end's reference lives, and -EPIPE once the end is gone
 * (an end is never bound twice).  Data moves in place in shared memory; the daemon is called only to
 * wait.  One buffer per end is out at a time (-EBUSY).
 *   dios_acquire_write  a buffer of len bytes at the stream's tail (len 0: all
 *                       the free space, at least 1 byte).  Blocks until
 *                       that much is free; -EAGAIN with
 *                       D_NONBLOCK; -EINVAL if len > capacity; -EPIPE once
 *                       the reader end is gone.
 *   dios_commit_write   publishes the first len bytes (once per buffer).
 *   dios_release_write  ends the buffer (uncommitted bytes are dropped).
 *   dios_acquire_read   up to len (0: all) committed bytes, in place and
 *                       contiguous even where they wrap around; blocks until
 *                       there are some; -EPIPE once the writer end is gone
 *                       and everything was read.
 *   dios_commit_read    0 (a FIFO's bytes are never overwritten before release).
 *   dios_release_read   frees the space the buffer held.
 * An end is gone when its reference is deleted or its task exits.  Before an
 * end is bound, it is gone when no other reference could take it (an
 * anonymous FIFO held only by its reader has no writer); a named FIFO can
 * always be looked up.  Zombies: -EIDRM.
 *
 * The console (D_OBJ_CONSOLE: look up dios_name_from_string(
 * DIOS_CONSOLE_NAME_STRING), which the daemon binds for every task of every
 * user; creating one gives -EEXIST): acquire_write hands
 * out an output buffer of up to DIOS_CONSOLE_BUF_BYTES, commit_write writes
 * it to the terminal the task was started from, or, without one, to the
 * stderr a task started by dios_run inherited (as a Unix child's output),
 * or for any other task to the daemon's log tagged with the task.
 * acquire_read returns what was typed
 * (blocking until there is something), or -EPIPE without a terminal.
 */
int dios_acquire_read (dios_flags_t f, dios_ref_t *r, uint64_t len, dios_iovec_t **iov_out);
int dios_commit_read  (dios_flags_t f, dios_ref_t *r, dios_iovec_t *iov);
int dios_release_read (dios_flags_t f, dios_ref_t *r, dios_iovec_t *iov);
int dios_acquire_write(dios_flags_t f, dios_ref_t *r, uint64_t len, dios_iovec_t **iov_out);
int dios_commit_write (dios_flags_t f, dios_ref_t *r, uint64_t len, dios_iovec_t *iov);
int dios_release_write(dios_flags_t f, dios_ref_t *r, dios_iovec_t *iov);

/*
 * dios_acquire_read_timeout - dios_acquire_read, giving up after timeout_ns
 * nanoseconds (see Timeouts above): a FIFO reader with nothing to read (also
 * when no writer has bound its end yet, as of a named FIFO), a console
 * read with no input, a task that has not ended.  Memory objects and blobs
 * never wait.  A FIFO end waits in the shim (futex), the others in the
 * daemon; either way no buffer is out after -ETIMEDOUT.
 * Errors: -ETIMEDOUT, and those of dios_acquire_read.
 */
int dios_acquire_read_timeout(dios_flags_t f, dios_ref_t *r, uint64_t len, dios_iovec_t **iov_out,
			      uint64_t timeout_ns);

/*
 * dios_acquire_write_timeout - dios_acquire_write, giving up after timeout_ns
 * nanoseconds (see Timeouts above): a FIFO writer waiting for len bytes of
 * space.  Nothing else waits in acquire_write.
 * Errors: -ETIMEDOUT, and those of dios_acquire_write.
 */
int dios_acquire_write_timeout(dios_flags_t f, dios_ref_t *r, uint64_t len, dios_iovec_t **iov_out,
			       uint64_t timeout_ns);

/* ---- utilities ---------------------------------------------------------- */

/* Text form: 43 URL-safe base64 characters, NUL-terminated in dst[44].  Returns dst (NULL if name or dst is NULL). */
char *dios_nametostr(const dios_name_t *name, char dst[DIOS_NAME_STRLEN]);
/* Parse the text form.  0, or -EINVAL for anything but 43 valid characters. */
int dios_strtoname(const char *s, dios_name_t *out);
/* This task's own reference (a D_OBJ_TASK).  NULL if the daemon is unreachable. */
dios_ref_t *dios_self(void);
/* Name of this task's executable (SHA-256 of its path).  NULL if unreachable. */
const dios_name_t *dios_self_exe(void);
/* Look up name and return one reference, or NULL. */
dios_ref_t *dios_pickref(const dios_name_t *name);
/* Attributes of a reference.  -EBADF, -EINVAL (NULL out). */
int dios_ref_info(dios_ref_t *ref, dios_ref_info_t *out);
/* The null call: a round trip to the daemon that does nothing.  For benchmarks. */
int dios_nop(dios_flags_t f);
/* Daemon-wide counts, for diagnostics and leak checks in tests. */
typedef struct dios_daemon_stats {
	uint64_t tasks;             /* registered tasks */
	uint64_t objects;           /* live objects (all types, including task objects) */
	uint64_t names;             /* bindings in the name table */
	uint64_t refs;              /* references held by all tasks */
	uint64_t buffers;           /* outstanding acquired buffers */
	uint64_t segments;          /* open memory segments (memfds and open blob files) */
} dios_daemon_stats_t;
int dios_daemon_stats(dios_daemon_stats_t *out);
/* Human-readable text for a negative return value. */
const char *dios_strerror(int err);
/*
 * dios_last_error_detail - what the calling thread's last failed call says
 * about its failure, and what to do about it.
 * A sentence naming what dios_strerror cannot know: for -ENOTCONN the
 * daemon's socket path and whether it was never reached, went away or shut
 * down (and that dios_reconnect can start over); for -ENOMEM the per-task
 * limit reached, its value and the diosd flag that raises it.  Per thread,
 * written only when a call fails (a success leaves it as it was, like
 * errno): read it right after the call that failed.  A dios_batch writes
 * the detail of its first failed entry.  "" before any call has failed.
 * Never NULL; valid until the thread's next DIOS call.
 * Errors: none (a pointer to text is always returned).
 */
const char *dios_last_error_detail(void);
/*
 * dios_reconnect - after the daemon died, register this process again as a
 * new task.
 * Once the daemon is known dead every call fails with -ENOTCONN, and keeps
 * failing: its task died with the daemon.  When a daemon listens again (a
 * restart on the same socket and state directory), dios_reconnect drops
 * what the dead connection left (its mappings' bookkeeping, buffers and
 * FIFO ends) and registers anew.  The new task holds no references: look
 * durable objects up again by name (a durable blob's committed bytes are
 * there).  The references of a dead registration keep failing with
 * -ENOTCONN, and so do buffers acquired through them (libdlibc tells them
 * apart by their tag, DIOS_REF_TAG_SHIFT; it remembers the last 64
 * registrations' tags).  While the connection is up it does nothing and
 * returns 0.  There is no automatic reconnect: a process whose daemon died
 * chooses to start over.  Once it has, it is like a process that has not
 * connected yet: after a dios_reconnect that failed with -ENOTCONN, its
 * next call (or dios_reconnect) tries again.  A forked child is a new task
 * anyway (it registers on its first call); the references of its parent's
 * dead registrations (reconnected from, or dead at the fork) fail with
 * -ENOTCONN there too.
 * Errors: -ENOTCONN (no daemon answers at the socket yet; the detail names
 * it: retry later), -EBUSY (another thread's call on the dead connection has
 * not returned yet), -EPERM (a Pure DIOS task: its seccomp filter denies
 * opening a socket, so it cannot reconnect), -EAGAIN (the daemon's task
 * limit: retry later).
 */
int dios_reconnect(void);

/* ---- the heap: malloc on DIOS private memory (seed section 3.2) ---------- */
/*
 * libdlibc exports malloc, free, calloc, realloc, reallocarray,
 * aligned_alloc, posix_memalign, memalign, valloc, pvalloc and
 * malloc_usable_size (unversioned, so they replace glibc's in the whole
 * program, glibc's own calls included).  Which heap they use is chosen once,
 * before main, from the environment:
 *   - Pure DIOS tasks (dios-launch sets DIOS_PURE): the DIOS heap, always,
 *     and locked: brk and anonymous mmap are then denied by seccomp, so every
 *     heap byte is a D_OBJ_PRIVMEM byte the daemon counts against the task's
 *     limit (diosd --max-task-memory; malloc fails with ENOMEM beyond it).
 *     libdlibc's mmap/mmap64 serve anonymous, non-MAP_FIXED requests from the
 *     DIOS heap and munmap gives them back (whole mappings only: EINVAL for
 *     part of one); sbrk and brk fail with ENOMEM.  docs/PURE_DIOS.md.
 *   - DIOS_HEAP=dios in the environment (DIOS Limbo, legacy and plain
 *     programs that link libdlibc): the DIOS heap, not locked.
 *   - otherwise: glibc's heap; the functions pass every call to it.
 * Small requests (up to 32 KiB) come from per-thread caches and size-class
 * slabs, medium ones (to DIOS_HEAP_MMAP_THRESHOLD) from page runs; both are
 * cut from pooled PRIVMEM chunks of DIOS_HEAP_CHUNK_BYTES, so they make no
 * DIOS call once a chunk is there.  A larger request gets a PRIVMEM object
 * of its own (create + acquire: two calls; freeing it: one round trip).
 * Thread-safe.  Each heap object is a reference and an acquired buffer of the
 * task, so it counts against diosd --max-refs and --max-buffers too.
 * fork() (outside Pure DIOS): the child gets a private copy of the heap (its
 * pages are copied once, in the child, while the forking thread waits), and
 * is a new task with no heap objects of its own yet.
 */
#define DIOS_HEAP_CHUNK_BYTES     (4u << 20)    /* pool chunk: one PRIVMEM object */
#define DIOS_HEAP_MMAP_THRESHOLD  (256u << 10)  /* larger requests: an object of their own */
#define DIOS_HEAP_MODE_LIBC       1             /* glibc's heap */
#define DIOS_HEAP_MODE_DIOS       2             /* the DIOS heap */

typedef struct dios_heap_stats {
	uint32_t mode;              /* DIOS_HEAP_MODE_*, 0 before libdlibc's constructor ran */
	uint32_t locked;            /* 1: the Pure DIOS lock is on (brk, anonymous mmap denied) */
	uint64_t objects;           /* PRIVMEM objects the heap holds (chunks, large blocks, kept ones) */
	uint64_t bytes_held;        /* their sizes: what the daemon counts for this task's heap */
	uint64_t chunks;            /* pool chunks */
	uint64_t large;             /* live blocks above DIOS_HEAP_MMAP_THRESHOLD */
	uint64_t cached_bytes;      /* freed large objects kept for reuse (in bytes_held) */
	uint64_t daemon_calls;      /* DIOS calls the heap has made (each SQE counts) */
	uint64_t failures;          /* times the daemon refused memory (-ENOMEM and others) */
	uint64_t meta_bytes;        /* the shim's own bookkeeping memory (not PRIVMEM) */
	uint64_t bootstrap_bytes;   /* used of the static arena for allocations made inside heap calls */
} dios_heap_stats_t;
/* The calling task's heap figures.  -EINVAL on NULL. */
int dios_heap_stats(dios_heap_stats_t *out);

/* ---- batched submission (compound calls, io_uring style) ---------------- */
/*
 * Fill an array of dios_call_t and submit it with dios_batch: all entries are
 * published with one ring store and at most one wake-up, and completions are
 * reaped together.  Each entry gets its own result in .res; dios_batch itself
 * returns 0 when every entry was submitted and completed, -EINVAL for a bad
 * array (NULL, n == 0, n > DIOS_SQ_ENTRIES, unknown opcode) or -ENOTCONN.
 * Supported ops: D_OP_NOP, D_OP_CREATE, D_OP_LOOKUP (one reference),
 * D_OP_DELETE, D_OP_ACQUIRE_*, D_OP_COMMIT_*, D_OP_RELEASE_*, D_OP_REF_INFO.
 * (D_OP_STATS is not batchable.)
 * Entries run in order; a later entry cannot use an earlier entry's output.
 */
typedef struct dios_call {
	uint32_t opcode;            /* in: D_OP_* */
	int32_t  res;               /* out: 0 or -errno */
	dios_flags_t flags;         /* in */
	dios_object_type_t type;    /* in: CREATE */
	uint32_t pad;
	const void *arg;            /* in: CREATE (as dios_create) */
	dios_name_t *name;          /* in/out: CREATE (as dios_create), in: LOOKUP */
	dios_ref_t *ref;            /* in: the reference to act on; out: CREATE/LOOKUP result */
	uint64_t len;               /* in: ACQUIRE_*, COMMIT_WRITE */
	dios_iovec_t *iov;          /* in: COMMIT/RELEASE; out: ACQUIRE */
	dios_ref_info_t *info;      /* out: REF_INFO */
} dios_call_t;

int dios_batch(dios_call_t *calls, uint64_t n);

#ifdef __cplusplus
}
#endif
#endif /* DIOS_H */

/*
 * dios_internal.h - private declarations shared by the libdlibc sources.
 *
 * Everything here has hidden visibility (-fvisibility=hidden); only the
 * dios_* functions declared in <dios/dios.h> are exported (see the pragma
 * below and libdlibc.map).  Internal names start with dios__.
 *
 * Locking (PROTOCOL.md section 3).  Calls from many threads are in flight at
 * once; a call that waits in the daemon (a FIFO read, dios_select) never
 * holds up the others.
 *   g_dios.lock       submission: connecting, the SQ tail, the args area.
 *                     Held only while entries are written, never while waiting.
 *   g_dios.reap_lock  the one thread at a time that reaps the CQ.  It hands
 *                     every completion to the call slot named by its user_data
 *                     and wakes that slot's thread; when its own call is done
 *                     it asks another waiting thread to take over.
 *   dios__seg_lock    the control socket's SEGMENT messages and the segment cache.
 *   dios__book_lock   a short inner lock around every change to the segment
 *                     cache and the buffer slab, also taken by the
 *                     pthread_atfork prepare handler, so a fork() in another
 *                     thread never copies them half-updated.
 *   dios__fifo_lock   the table of attached FIFO ends and their fast paths.
 */
#ifndef DIOS_INTERNAL_H
#define DIOS_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#pragma GCC visibility push(default)
#include <dios/dios.h>
#pragma GCC visibility pop

/* dios_error.c: the calling thread's dios_last_error_detail text. */
void dios__detail_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A constant text (a plain error: dios_strerror's), without formatting. */
void dios__detail_const(const char *text);
/* The text for an error completion's D_DETAIL_* code and its limit's value. */
void dios__detail_limit(int err, uint64_t code, uint64_t value);

/* ------------------------------------------------------------------------ */
/* barrier helpers: the only way the shim touches the shared hot words.      */
/* The region's words are plain uint32_t in the ABI, so these use the        */
/* __atomic builtins (same semantics as <stdatomic.h> on _Atomic objects).   */
/* ------------------------------------------------------------------------ */
static inline uint32_t dios__load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline uint32_t dios__load_relaxed(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void dios__store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void dios__fence_seq_cst(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static inline void dios__fetch_add_seq_cst(uint32_t *p, uint32_t v)
{
	(void)__atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}

static inline uint64_t dios__load_acquire64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void dios__store_release64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void dios__fetch_sub_seq_cst(uint32_t *p, uint32_t v)
{
	(void)__atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST);
}

static inline void dios__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* ------------------------------------------------------------------------ */
/* the kernel's mmap and munmap                                              */
/* ------------------------------------------------------------------------ */
/*
 * libdlibc exports mmap and munmap of its own, for the program (dios_heap.c:
 * a locked Pure DIOS task's anonymous memory comes from the heap).  The shim's
 * own mappings (the region, segments, its bookkeeping) are never the heap's
 * business: they go to the kernel with these.
 */
static inline void *dios__sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	return r == -1 ? MAP_FAILED : (void *)r;
}

static inline int dios__sys_munmap(void *addr, size_t len)
{
	return (int)syscall(SYS_munmap, addr, len);
}

/* ------------------------------------------------------------------------ */
/* connection (dios_conn.c) and the ring's state (dios_ring.c)              */
/* ------------------------------------------------------------------------ */
enum dios_conn_state {
	DIOS_ST_IDLE = 0,   /* not connected yet (or connect failed: retried next call) */
	DIOS_ST_UP   = 1,   /* registered, ring usable */
	DIOS_ST_DEAD = 2,   /* daemon gone or protocol broken: -ENOTCONN for good */
};

/* A call in flight: one per CQ entry at most, so completions never overflow. */
struct dios_slot {
	uint32_t state;                 /* DIOS_SLOT_*: futex word (process-private) */
	uint32_t gen;                   /* bumped at every allocation: user_data = gen << 8 | index */
	struct dios_cqe cqe;            /* the completion, valid once state is DONE */
};
enum { DIOS_SLOT_WAITING = 0, DIOS_SLOT_DONE = 1, DIOS_SLOT_TAKEOVER = 2 };
#define DIOS_SLOTS DIOS_CQ_ENTRIES
#define DIOS_ARGS_CHUNKS (DIOS_ARGS_BYTES / DIOS_ARGS_CHUNK)

struct dios_conn {
	pthread_mutex_t lock;           /* submission (see the top of this file) */
	pthread_mutex_t reap_lock;      /* held by the thread reaping the CQ */
	int state;                      /* enum dios_conn_state: written under lock, read atomically */
	int held;                       /* sock, doorbell and region still open (released lazily when dead) */
	int sock;                       /* control socket, -1 when none */
	int doorbell;                   /* eventfd, -1 when none */
	struct dios_region_header *hdr; /* the mapped region, NULL when none */
	struct dios_sqe *sq;
	struct dios_cqe *cq;
	uint32_t sq_tail;               /* shim-private copy of hdr->sq_tail */
	uint32_t cq_head;               /* shim-private copy of hdr->cq_head */
	uint32_t sq_head_cache;         /* last hdr->sq_head read */
	uint64_t slot_bits[DIOS_SLOTS / 64]; /* allocated call slots (atomic bit operations) */
	uint32_t inflight;              /* calls in flight (atomic) */
	uint32_t slot_claim;            /* slots the longest-waiting submitter needs, under lock (0: none waits) */
	uint64_t args_bits;             /* args area chunks in use, under lock */
	uint32_t args_sqidx[DIOS_ARGS_CHUNKS]; /* SQ index of the entry using each chunk */
	uint64_t spin_ns;               /* DIOS_SPIN_NS, read at connect */
	uint64_t spin_budget;        /* current adaptive spin, <= spin_ns */
	uint64_t task_id;
	uint64_t self_ref;
};

extern struct dios_conn g_dios;
extern pthread_mutex_t dios__book_lock;

extern struct dios_slot dios__slots[DIOS_SLOTS];
extern pthread_mutex_t dios__seg_lock;

/*
 * Mark the connection dead: every later call fails with -ENOTCONN and every
 * call in flight completes with it.  The fds and the region stay until no
 * call is in flight (another thread may still be reading them).
 */
void dios__mark_dead(void);

/*
 * Under g_dios.lock: connect if needed (release what a dead connection left
 * once nothing is in flight).  0 when the ring is usable, else -ENOTCONN or
 * -EAGAIN (the daemon's task limit: the next call tries again).
 */
int dios__conn_ensure_locked(void);
/* Is the daemon gone (shutdown announced, socket hung up)?  Marks nothing: the caller does. */
int dios__conn_gone(void);
/*
 * Start the connection's watcher thread unless it runs (dios_conn.c): it
 * marks the connection dead as soon as the socket hangs up, for the FIFO
 * calls that never reach the daemon.  Called with no lock of the shim held
 * (creating a thread allocates: on the DIOS heap, a DIOS call).
 */
void dios__conn_watch(void);
/* dios_last_error_detail's text for -ENOTCONN: the socket tried or used, and what happened to it. */
void dios__conn_explain(void);
/*
 * Is id a reference of a registration whose daemon died (its tag, see
 * DIOS_REF_TAG_SHIFT)?  Only after a dios_reconnect: dios__dead_tags is
 * then not 0, and the ring checks the references a call names.
 */
extern uint32_t dios__dead_tags;
int dios__ref_stale(uint64_t id);
/*
 * dios_reconnect, under g_dios.lock, in two steps around the layers above
 * forgetting what the old connection left (segments, buffers, FIFO ends):
 * drop: 1 if the connection is up (nothing to do), 0 once the dead one is
 * released (its tag remembered; state IDLE), -EPERM (Pure DIOS), -EBUSY.
 * connect: register anew; 0, -ENOTCONN, -EAGAIN (detail set).
 */
int dios__conn_drop_locked(void);
int dios__conn_connect_locked(void);

/*
 * Submission runs under g_dios.lock, and a call may wait for its completion
 * for long.  Cancellation is held off for the whole call: poll, recvmsg,
 * nanosleep and futex waits are cancellation points, and a thread cancelled
 * there would leave a lock held or a call slot in flight forever.
 */
static inline int dios__call_lock(void)
{
	int old;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	pthread_mutex_lock(&g_dios.lock);
	return old;
}

static inline void dios__call_unlock(int old)
{
	pthread_mutex_unlock(&g_dios.lock);
	pthread_setcancelstate(old, NULL);
}

/* For dios_fork.c: start-up takes the connection a spawning diosd left in DIOS_FD; a fork child drops the parent's. */
void dios__conn_adopt_inherited_fd(void);
void dios__conn_atfork_child(void);

/* ------------------------------------------------------------------------ */
/* requests: one per call; single calls and dios_batch share them           */
/* ------------------------------------------------------------------------ */
struct dios_bufrec;

struct dios_req {
	struct dios_sqe sqe;            /* encoded here first, copied into the ring */
	uint32_t op;                    /* D_OP_* */
	int32_t  res;                   /* result of the call */
	int      submitted;             /* encode succeeded: an SQE goes to the daemon */
	dios_flags_t flags;             /* as given (CREATE: plus D_CREATE_NAMED) */
	dios_object_type_t type;        /* CREATE */
	const void *arg;                /* CREATE */
	dios_name_t *name;              /* CREATE in/out, LOOKUP in */
	dios_ref_t *ref;                /* the reference acted on */
	dios_ref_t **ref_out;           /* CREATE, LOOKUP (refs), RUN (task_out), SELECT (ready_out) */
	uint64_t *count;                /* LOOKUP capacity in / found out; COPY, SELECT: count in */
	uint64_t count_store;           /* backing store for count when the caller has none */
	uint64_t host_id;               /* CREATE */
	uint64_t len;                   /* ACQUIRE_*, COMMIT_WRITE */
	dios_iovec_t *iov;              /* COMMIT_*, RELEASE_* in */
	dios_iovec_t **iov_out;         /* ACQUIRE_* out */
	dios_ref_info_t *info;          /* REF_INFO out */
	dios_daemon_stats_t *stats;     /* STATS out */
	dios_ref_t **refs;              /* COPY, SELECT in */
	dios_ref_t *ref2;               /* COPY target task */
	const dios_task_spec_t *spec;   /* RUN */
	char *const *envp;              /* RUN: the child's environment (NULL: this process's environ) */
	uint32_t env_count;             /* RUN: strings of envp sent (counted at encode) */
	uint32_t env_bytes;             /* RUN: their bytes, NULs included (counted at encode) */
	struct dios_bufrec *rec;        /* COMMIT/RELEASE: record found at encode */
	uint64_t buf_id;                /* COMMIT/RELEASE: rec->buf_id at encode */
	uint64_t undo_buf;              /* ACQUIRE whose result could not be used: buffer to release */
	int      undo;                  /* undo_buf is set */
	uint32_t slot;                  /* call slot while in flight */
	int      fifo;                  /* DIOS__FIFO_*: how the FIFO layer handles this entry */
	uint32_t args_len;              /* bytes this entry puts in the args area at submission (0: none) */
	int      exe_fd;                /* CREATE D_OBJ_EXE: the program file, opened by the encoder */
	int      exe_fd_set;            /* exe_fd is open: sent at submission (DIOS_MSG_EXE_FD), then closed */
	uint64_t wait_len;              /* FIFO wait: bytes of space a writer waits for */
	uint64_t wait_t0;               /* FIFO wait: when it began (0: not waiting) */
	uint64_t timeout_ns;            /* D_TIMEOUT: as given (the *_timeout calls; 0 otherwise) */
	uint64_t deadline;              /* D_TIMEOUT: CLOCK_MONOTONIC ns when it gives up; DIOS__NEVER: never */
	uint64_t detail_code;           /* D_DETAIL_* of an error completion with D_CQE_F_DETAIL (0: none) */
	uint64_t detail_val;            /* its limit's value */
	int      stale;                 /* names a reference of a dead registration (-ENOTCONN) */
};
#define DIOS__NEVER UINT64_MAX

/* D_TIMEOUT: ns left before q's deadline (0 once it passed; the timeout as given if it never comes). */
static inline uint64_t dios__time_left(const struct dios_req *q, uint64_t now)
{
	if (q->deadline == DIOS__NEVER)
		return q->timeout_ns;
	return q->deadline > now ? q->deadline - now : 0;
}

/*
 * dios_fifo.c: FIFO ends.  dios__fifo_begin runs before encoding: it
 * completes the call in place (returns 1, q->res set; waiting happens inside,
 * on the FIFO's own futex) or returns 0 with q->fifo saying what the daemon
 * must do (DIOS__FIFO_NONE: an ordinary call, e.g. the first acquire, which
 * attaches the end; NOTIFY: the call was done in place, q->res holds its
 * result, and a select parked in the daemon must be told).  dios__fifo_end
 * decodes a D_CQE_F_FIFO completion (attach the end) and returns 1 if the
 * call must run again.
 */
enum { DIOS__FIFO_NONE = 0, DIOS__FIFO_NOTIFY = 2 };
int dios__fifo_begin(struct dios_req *q);
int dios__fifo_end(struct dios_req *q, const struct dios_cqe *cqe);
/* dios_delete succeeded: forget the end (before its segments are unmapped). */
void dios__fifo_forget(uint64_t ref_id);
/* fork child: no ends. */
void dios__fifo_reset(void);
/* dios_reconnect: forget every end (they were the dead connection's), under the table's lock. */
void dios__fifo_drop_all(void);
/* CLOCK_MONOTONIC in ns; inline, for the spin loops of the ring and the FIFO ends. */
static inline uint64_t dios__now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
/* Waits outside the ring: count the caller in flight; is the daemon gone (marks the connection dead)? */
void dios__wait_begin(void);
void dios__wait_end(void);
int dios__daemon_gone(void);

/* dios_codec.c: per-op encode (argument checks + SQE) and decode (CQE -> outputs). */
int dios__encode(struct dios_req *q);
int dios__decode(struct dios_req *q, const struct dios_cqe *cqe);
/* COMMIT_READ/RELEASE_READ of an inline buffer (a task's exit status): done in place, returns 1. */
int dios__inline_begin(struct dios_req *q);
/* Under g_dios.lock at submission: write an entry's array, path or task spec to the args area. */
void dios__write_args(struct dios_req *q, void *dst);

/*
 * dios_ring.c: run n requests as one ring publication.  Encodes each (an
 * encode error is that entry's res and it is not submitted), connects if
 * needed, submits the rest with one sq_tail store, reaps and decodes in order.
 * Returns 0, or -ENOTCONN if the daemon is unreachable or went away (entries
 * not completed then have res -ENOTCONN).
 */
int dios__exec(struct dios_req *q, unsigned n);
#define DIOS__PENDING INT32_MIN         /* res of an entry not finished yet */

static inline dios_ref_t *dios__ref(uint64_t id)
{
	return (dios_ref_t *)(uintptr_t)id;
}

static inline uint64_t dios__ref_id(const dios_ref_t *r)
{
	return (uint64_t)(uintptr_t)r;
}

/* ------------------------------------------------------------------------ */
/* segment cache (dios_seg.c)                                                */
/* ------------------------------------------------------------------------ */
/*
 * Find the mapping for an acquire's segment: from the cache, else by reading
 * SEGMENT messages from the socket until the one for seg_id (writable if
 * want_write) arrives.  Not only when this CQE carries D_CQE_F_SEGMENT: the
 * message flagged on another thread's completion may still be queued.
 * Returns 0 with *addr and *size set, or -EPROTO (segment not there), -errno
 * of a failed mmap, -ENOTCONN (socket gone; the connection is then marked dead).
 */
int dios__seg_get(uint64_t seg_id, int want_write, void **addr, uint64_t *size);
/* Map a FIFO's segments (D_CQE_F_FIFO): control read-write, data twice back to back. */
int dios__seg_get_fifo(uint64_t ctl_id, uint64_t data_id, int data_writable,
		       void **ctl, void **data, uint64_t *data_size);
/* D_CQE_F_UNMAP: munmap both protections of seg_id. */
void dios__seg_unmap(uint64_t seg_id);
/* fork child: forget every mapping (they stay mapped). */
void dios__seg_forget(void);

/* ------------------------------------------------------------------------ */
/* buffer slab (dios_buf.c)                                                  */
/* ------------------------------------------------------------------------ */
enum { DIOS_BUF_READ = 1, DIOS_BUF_WRITE = 2 };
enum { DIOS_BUF_FIFO_NONE = 0, DIOS_BUF_FIFO_OUT = 1, DIOS_BUF_FIFO_COMMITTED = 2, DIOS_BUF_INLINE = 3 };

struct dios_bufrec {
	dios_iovec_t iov;               /* first member: what the user holds */
	uint64_t magic;                 /* DIOS_BUF_MAGIC while live, 0 when free */
	uint64_t ref_id;                /* reference it was acquired through */
	union {
		struct {
			uint64_t buf_id;        /* daemon's buffer id */
			uint64_t seg_id;        /* segment it lies in */
		};
		struct dios_task_exit exit;  /* DIOS_BUF_INLINE: what iov points to (a task's status) */
	};
	uint32_t kind;                  /* DIOS_BUF_READ or DIOS_BUF_WRITE */
	uint32_t fifo;                  /* DIOS_BUF_FIFO_*: a FIFO buffer (seg_id holds its length),
					   or DIOS_BUF_INLINE: no daemon buffer, the data is exit */
	struct dios_bufrec *next_free;  /* free-list link */
};

/* New record (magic set, fields zero), or NULL if mmap fails. */
struct dios_bufrec *dios__buf_alloc(void);
/* The live record whose iov is p, or NULL (not ours, misaligned, or released). */
struct dios_bufrec *dios__buf_lookup(const dios_iovec_t *p);
/* Clear the magic and put the record on the free list. */
void dios__buf_free(struct dios_bufrec *rec);
/* fork child: every record becomes free (the child holds no buffers). */
void dios__buf_forget(void);

#endif /* DIOS_INTERNAL_H */

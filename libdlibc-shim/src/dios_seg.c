/*
 * dios_seg.c - the segment mapping cache and the SEGMENT messages that fill it
 * (PROTOCOL.md section 4).
 *
 * Cache: open addressing with linear probing and backward-shift deletion,
 * keyed by (segment id, writable), value (address, size).  The table is
 * the shim's own memory (dios_meta.c; no malloc), starts at 256 slots and doubles at 50% load, so
 * thousands of segments cost O(1) per lookup.
 *
 * Callers hold dios__seg_lock (taken by dios__seg_get and friends); changes
 * also take dios__book_lock (see fork).  A FIFO's data segment (D_SEG_RING)
 * is mapped twice, back to back, so bytes that wrap around its end read and
 * write as one contiguous buffer.
 */
#include "dios_internal.h"
#include "dios_heap.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define SEG_TABLE_MIN 256u

struct seg_slot {
	uint64_t seg_id;
	void    *addr;
	uint64_t size;          /* the segment's size (a ring maps twice this) */
	uint32_t writable;
	uint16_t used;
	uint16_t ring;          /* D_SEG_RING: mapped twice */
};

pthread_mutex_t dios__seg_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t map_len(const struct seg_slot *s)
{
	return (size_t)s->size * (s->ring ? 2 : 1);
}

static struct seg_slot *table;
static size_t cap;       /* power of two, or 0 before the first insert */
static size_t count;

static size_t seg_hash(uint64_t seg_id, uint32_t w)
{
	uint64_t x = seg_id * 2 + w;          /* splitmix64 finaliser */
	x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27; x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (size_t)x;
}

static struct seg_slot *seg_find(uint64_t seg_id, uint32_t w)
{
	if (!cap)
		return NULL;
	for (size_t i = seg_hash(seg_id, w) & (cap - 1);; i = (i + 1) & (cap - 1)) {
		struct seg_slot *s = &table[i];
		if (!s->used)
			return NULL;
		if (s->seg_id == seg_id && s->writable == w)
			return s;
	}
}

/* Insert into a table known to have room and not to hold the key. */
static void seg_place(struct seg_slot *t, size_t c, const struct seg_slot *e)
{
	size_t i = seg_hash(e->seg_id, e->writable) & (c - 1);
	while (t[i].used)
		i = (i + 1) & (c - 1);
	t[i] = *e;
}

/* Under dios__book_lock. */
static int seg_grow(void)
{
	size_t ncap = cap ? cap * 2 : SEG_TABLE_MIN;
	void *p = dios__meta_alloc(ncap * sizeof(struct seg_slot));
	if (!p)
		return -ENOMEM;
	struct seg_slot *nt = p;
	for (size_t i = 0; i < cap; i++)
		if (table[i].used)
			seg_place(nt, ncap, &table[i]);
	if (table)
		dios__meta_free(table, cap * sizeof(struct seg_slot));
	table = nt;
	cap = ncap;
	return 0;
}

/* Backward-shift deletion: no tombstones, probes stay short. Under dios__book_lock. */
static void seg_remove_slot(struct seg_slot *s)
{
	size_t i = (size_t)(s - table);
	size_t j = i;
	for (;;) {
		j = (j + 1) & (cap - 1);
		if (!table[j].used)
			break;
		size_t home = seg_hash(table[j].seg_id, table[j].writable) & (cap - 1);
		/* move j back into hole i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			table[i] = table[j];
			i = j;
		}
	}
	memset(&table[i], 0, sizeof table[i]);
	count--;
}

/*
 * Cache a new mapping.  If the key is already cached (the daemon re-sent the
 * segment, which it only does when it believes this task lacks it), the new
 * mapping replaces the old one, which is unmapped.
 */
static int seg_insert(uint64_t seg_id, uint32_t w, void *addr, uint64_t size, int ring)
{
	int rc = 0;
	pthread_mutex_lock(&dios__book_lock);
	struct seg_slot *s = seg_find(seg_id, w);
	if (s) {
		dios__sys_munmap(s->addr, map_len(s));
		s->addr = addr;
		s->size = size;
		s->ring = (uint16_t)ring;
	} else if ((count + 1) * 2 > cap && seg_grow() != 0) {
		rc = -ENOMEM;
	} else {
		struct seg_slot e = { .seg_id = seg_id, .addr = addr, .size = size, .writable = w, .used = 1,
				      .ring = (uint16_t)ring };
		seg_place(table, cap, &e);
		count++;
	}
	pthread_mutex_unlock(&dios__book_lock);
	return rc;
}

void dios__seg_unmap(uint64_t seg_id)
{
	pthread_mutex_lock(&dios__seg_lock);
	pthread_mutex_lock(&dios__book_lock);
	for (uint32_t w = 0; w <= 1; w++) {
		struct seg_slot *s = seg_find(seg_id, w);
		if (s) {
			dios__sys_munmap(s->addr, map_len(s));
			seg_remove_slot(s);
		}
	}
	pthread_mutex_unlock(&dios__book_lock);
	pthread_mutex_unlock(&dios__seg_lock);
}

/* fork child (dios__book_lock held by the prepare handler): forget, keep mapped. */
void dios__seg_forget(void)
{
	if (table)
		memset(table, 0, cap * sizeof(struct seg_slot));
	count = 0;
}

static void close_fds(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t k = 0; k < nfd; k++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof fd);
			close(fd);
		}
	}
}

/*
 * Receive one SEGMENT message without blocking (it was sent before the
 * completion was published) and map it.  Returns 1 with *got filled (and
 * *map_err = 0 or the negated errno of a failed mapping), 0 if none is queued,
 * or -ENOTCONN / -EPROTO (connection then marked dead).
 */
static int seg_recv_one(struct dios_msg_segment *got, int *map_err)
{
	struct dios_msg_segment m;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 2)];   /* room for a stray extra fd, to close it */
		struct cmsghdr align;
	} ctl;
	struct iovec io = { .iov_base = &m, .iov_len = sizeof m };
	struct msghdr mh = {
		.msg_iov = &io, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf,
	};
	ssize_t n;
	do
		n = recvmsg(g_dios.sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		dios__mark_dead();
		return -ENOTCONN;
	}
	if (n == 0) {                                   /* daemon hung up */
		dios__mark_dead();
		return -ENOTCONN;
	}
	int fd = -1, nfd = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			nfd += (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(&fd, CMSG_DATA(c), sizeof fd);
		}
	if ((size_t)n != sizeof m || (mh.msg_flags & MSG_TRUNC) || m.magic != DIOS_MSG_SEGMENT ||
	    nfd > 1 || (nfd == 0 && !(mh.msg_flags & MSG_CTRUNC))) {
		close_fds(&mh);                          /* not a SEGMENT message: protocol broken */
		dios__mark_dead();
		return -EPROTO;
	}
	*got = m;
	if (nfd == 0) {                                 /* fd dropped by the kernel: out of fds */
		*map_err = -EMFILE;
		return 1;
	}
	int prot = PROT_READ | ((m.prot & D_SEG_WRITE) ? PROT_WRITE : 0);
	int ring = (m.prot & D_SEG_RING) != 0;
	void *a = MAP_FAILED;
	if (m.size == 0 || m.size > DIOS_MAX_OBJECT_SIZE || m.size != (size_t)m.size ||
	    (ring && (m.size > DIOS_FIFO_MAX_CAPACITY || m.size % DIOS_FIFO_ALIGN)))
		errno = EINVAL;
	else if (!ring)
		a = dios__sys_mmap(NULL, (size_t)m.size, prot, MAP_SHARED, fd, 0);
	else {
		/*
		 * reserve twice the size, then map the segment into both halves.  The
		 * reservation maps the segment's own fd (the part past its end is never
		 * touched: both halves are replaced), not anonymous memory, which a
		 * Pure DIOS task's heap lock denies.
		 */
		size_t sz = (size_t)m.size;
		a = dios__sys_mmap(NULL, 2 * sz, PROT_NONE, MAP_SHARED | MAP_NORESERVE, fd, 0);
		if (a != MAP_FAILED &&
		    (dios__sys_mmap(a, sz, prot, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED ||
		     dios__sys_mmap((char *)a + sz, sz, prot, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)) {
			int e = errno;
			dios__sys_munmap(a, 2 * sz);
			errno = e;
			a = MAP_FAILED;
		}
	}
	int e = errno;
	close(fd);
	if (a == MAP_FAILED) {
		*map_err = -e;
		return 1;
	}
	*map_err = seg_insert(m.seg_id, (m.prot & D_SEG_WRITE) ? 1 : 0, a, m.size, ring);
	if (*map_err)
		dios__sys_munmap(a, (size_t)m.size * (ring ? 2 : 1));
	return 1;
}

static int seg_get_locked(uint64_t seg_id, int want_write, int want_ring,
			  void **addr, uint64_t *size)
{
	/*
	 * Calls run concurrently, so another thread may already have read this
	 * call's SEGMENT message and cached the mapping: look there first.  (The
	 * daemon sends a segment again only after telling us to unmap it, so a
	 * cached mapping is never stale.)
	 */
	struct seg_slot *s = seg_find(seg_id, want_write ? 1 : 0);
	/*
	 * Not cached, even when this completion carries no D_CQE_F_SEGMENT: two
	 * threads' first acquires of one object get one SEGMENT message, flagged on
	 * the first completion, and the second completion may be decoded before the
	 * first thread has read that message.  The daemon sent it before publishing
	 * either completion, so it is queued on the socket: read it here.
	 */
	if (!s) {
		/* read SEGMENT messages until the one for this segment (writable if needed) arrives */
		for (;;) {
			struct dios_msg_segment m;
			int map_err = 0;
			int r = seg_recv_one(&m, &map_err);
			if (r < 0)
				return r;
			if (r == 0)
				return -EPROTO;                 /* flagged but not there */
			if (m.seg_id != seg_id || !(m.prot & D_SEG_WRITE) != !want_write)
				continue;                       /* another call's segment: cached */
			if (map_err)
				return map_err;
			s = seg_find(seg_id, (m.prot & D_SEG_WRITE) ? 1 : 0);
			break;
		}
	}
	/* exactly the protection the daemon granted (CQE val[5]): a read-only
	 * reference never borrows a writable mapping */
	if (!s || (int)s->ring != want_ring)
		return -EPROTO;
	*addr = s->addr;
	*size = s->size;
	return 0;
}

int dios__seg_get(uint64_t seg_id, int want_write, void **addr, uint64_t *size)
{
	pthread_mutex_lock(&dios__seg_lock);
	int rc = seg_get_locked(seg_id, want_write, 0, addr, size);
	pthread_mutex_unlock(&dios__seg_lock);
	return rc;
}

int dios__seg_get_fifo(uint64_t ctl_id, uint64_t data_id, int data_writable,
		       void **ctl, void **data, uint64_t *data_size)
{
	uint64_t csize;
	pthread_mutex_lock(&dios__seg_lock);
	int rc = seg_get_locked(ctl_id, 1, 0, ctl, &csize);
	if (rc == 0 && csize < DIOS_FIFO_CTL_SIZE)
		rc = -EPROTO;
	if (rc == 0)
		rc = seg_get_locked(data_id, data_writable, 1, data, data_size);
	pthread_mutex_unlock(&dios__seg_lock);
	return rc;
}

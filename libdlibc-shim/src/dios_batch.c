/*
 * dios_batch.c - compound calls: n entries published with one sq_tail store
 * and at most one doorbell write, reaped in order.  Each entry is turned into
 * the same request a single call builds and goes through the same encode and
 * decode (dios_codec.c) and the same engine (dios__exec, dios_ring.c).
 */
#include "dios_internal.h"

#include <string.h>

static int batchable(uint32_t op)
{
	switch (op) {
	case D_OP_NOP:
	case D_OP_CREATE:
	case D_OP_LOOKUP:
	case D_OP_DELETE:
	case D_OP_ACQUIRE_READ:
	case D_OP_COMMIT_READ:
	case D_OP_RELEASE_READ:
	case D_OP_ACQUIRE_WRITE:
	case D_OP_COMMIT_WRITE:
	case D_OP_RELEASE_WRITE:
	case D_OP_REF_INFO:
		return 1;
	default:
		return 0;           /* STATS, COPY, RUN, SELECT, unknown */
	}
}

int dios_batch(dios_call_t *calls, uint64_t n)
{
	if (!calls || n == 0 || n > DIOS_SQ_ENTRIES)
		return -EINVAL;
	for (uint64_t i = 0; i < n; i++)
		if (!batchable(calls[i].opcode))
			return -EINVAL;             /* nothing submitted */

	struct dios_req q[DIOS_SQ_ENTRIES];
	for (uint64_t i = 0; i < n; i++) {
		dios_call_t *c = &calls[i];
		struct dios_req *r = &q[i];
		memset(r, 0, sizeof *r);
		r->op = c->opcode;
		r->flags = c->flags;
		switch (c->opcode) {
		case D_OP_CREATE:                       /* as dios_create(f, type, arg, name, &c->ref, 0) */
			r->type = c->type;
			r->arg = c->arg;
			r->name = c->name;
			r->ref_out = &c->ref;
			break;
		case D_OP_LOOKUP:                       /* as dios_lookup with capacity 1, into c->ref */
			r->name = c->name;
			r->ref_out = &c->ref;
			r->count_store = 1;
			r->count = &r->count_store;
			break;
		case D_OP_ACQUIRE_READ:
		case D_OP_ACQUIRE_WRITE:
			r->ref = c->ref;
			r->len = c->len;
			r->iov_out = &c->iov;
			break;
		case D_OP_COMMIT_WRITE:
			r->len = c->len;
			/* fall through */
		case D_OP_COMMIT_READ:
		case D_OP_RELEASE_READ:
		case D_OP_RELEASE_WRITE:
			r->ref = c->ref;
			r->iov = c->iov;
			break;
		case D_OP_REF_INFO:
			r->ref = c->ref;
			r->info = c->info;
			break;
		default:                                /* NOP, DELETE */
			r->ref = c->ref;
			break;
		}
	}

	int rc = dios__exec(q, (unsigned)n);
	for (uint64_t i = 0; i < n; i++)
		calls[i].res = q[i].res;
	return rc;
}

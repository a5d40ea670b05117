/*
 * heap_strings.h - the seed's string-manipulation test (section 4.1.4) in C:
 * heap strings created and dropped, characters pushed, strings appended,
 * inserted, removed, split and joined, some grown past the heap's large
 * threshold.  Deterministic: the same run gives the same hash on glibc's
 * heap and on the DIOS heap (the seed's "same output as on Linux").  Every
 * string is checked against its expected length as it goes; a corrupted
 * heap shows as a wrong hash, a failed check or a crash.
 */
#ifndef HEAP_STRINGS_H
#define HEAP_STRINGS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct hs_str {
	char *p;
	size_t len, cap;
};

static const char *const hs_words[] = {
	"dios", "task", "object", "name", "reference", "private", "memory", "heap", "malloc", "free",
	"realloc", "chunk", "slab", "page", "thread", "fifo", "blob", "daemon", "ring", "hephaestus",
};
#define HS_NWORDS (sizeof hs_words / sizeof hs_words[0])

/* 0, or -1 when out of memory (the caller reports it). */
static int hs_reserve(struct hs_str *s, size_t more)
{
	if (s->len + more + 1 <= s->cap)
		return 0;
	size_t cap = s->cap ? s->cap : 16;
	while (cap < s->len + more + 1)
		cap *= 2;
	char *p = realloc(s->p, cap);
	if (!p)
		return -1;
	if (!s->p)
		p[0] = '\0';                   /* a new string: empty, terminated */
	s->p = p;
	s->cap = cap;
	return 0;
}

static int hs_append(struct hs_str *s, const char *t, size_t n)
{
	if (hs_reserve(s, n))
		return -1;
	memcpy(s->p + s->len, t, n);
	s->len += n;
	s->p[s->len] = '\0';
	return 0;
}

static int hs_insert(struct hs_str *s, size_t at, const char *t, size_t n)
{
	if (at > s->len || hs_reserve(s, n))
		return -1;
	memmove(s->p + at + n, s->p + at, s->len - at + 1);
	memcpy(s->p + at, t, n);
	s->len += n;
	return 0;
}

static void hs_remove(struct hs_str *s, size_t at, size_t n)
{
	if (at >= s->len)
		return;
	if (n > s->len - at)
		n = s->len - at;
	memmove(s->p + at, s->p + at + n, s->len - at - n + 1);
	s->len -= n;
}

static void hs_drop(struct hs_str *s)
{
	free(s->p);
	s->p = NULL;
	s->len = s->cap = 0;
}

static uint64_t hs_fnv(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/*
 * Runs the workload; returns its hash (never 0), or 0 when an allocation
 * failed or a string did not have the length it must have.
 */
static uint64_t hs_run(unsigned iterations)
{
	enum { N = 64 };
	struct hs_str s[N];
	memset(s, 0, sizeof s);
	uint64_t h = 0xcbf29ce484222325ull, x = 42;
	for (unsigned it = 0; it < iterations; it++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		struct hs_str *a = &s[(x >> 33) % N];
		const char *w = hs_words[(x >> 40) % HS_NWORDS];
		size_t wl = strlen(w), before = a->len;
		switch ((x >> 50) % 10) {
		case 0:                                 /* drop and create anew */
			hs_drop(a);
			if (hs_append(a, w, wl))
				return 0;
			before = 0;
			break;
		case 1: case 2:                         /* append a word and a space */
			if (hs_append(a, w, wl) || hs_append(a, " ", 1))
				return 0;
			before += 1;
			break;
		case 3: {                               /* push characters */
			char c = (char)('a' + it % 26);
			for (int k = 0; k < 5; k++)
				if (hs_append(a, &c, 1))
					return 0;
			before += 5 - wl;
			break;
		}
		case 4:                                 /* insert a word in the middle */
			if (hs_insert(a, a->len / 2, w, wl))
				return 0;
			break;
		case 5:                                 /* remove a range */
			hs_remove(a, a->len / 3, wl);
			before = a->len;
			wl = 0;
			break;
		case 6: {                               /* split on spaces and join back */
			char **parts = NULL;
			size_t np = 0;
			char *dup = a->p ? strdup(a->p) : strdup("");
			if (!dup)
				return 0;
			for (char *save = NULL, *t = strtok_r(dup, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
				char **q = realloc(parts, (np + 1) * sizeof *parts);
				if (!q || !(q[np] = strdup(t)))
					return 0;
				parts = q;
				np++;
			}
			struct hs_str j = { 0 };
			for (size_t k = 0; k < np; k++) {
				if (hs_append(&j, parts[k], strlen(parts[k])) || (k + 1 < np && hs_append(&j, "-", 1)))
					return 0;
				free(parts[k]);
			}
			free(parts);
			free(dup);
			hs_drop(a);
			*a = j;
			before = a->len;
			wl = 0;
			break;
		}
		case 7:                                 /* grow past the large threshold, then shrink */
			if (it % 16 == 0) {
				while (a->len < (300u << 10))
					if (hs_append(a, w, wl))
						return 0;
				h = hs_fnv(h, a->p, a->len);
				hs_remove(a, 100, a->len);
				char *q = realloc(a->p, a->len + 1);
				if (!q)
					return 0;
				a->p = q;
				a->cap = a->len + 1;
			}
			before = a->len;
			wl = 0;
			break;
		default:                                /* replace: remove a word's length, insert another */
			hs_remove(a, 0, wl);
			before = a->len;
			if (hs_insert(a, 0, w, wl))
				return 0;
			break;
		}
		if (a->len != before + wl || (a->p && strlen(a->p) != a->len))
			return 0;
		if (a->p)
			h = hs_fnv(h, a->p, a->len);
	}
	for (int i = 0; i < N; i++) {
		if (s[i].p)
			h = hs_fnv(h, s[i].p, s[i].len);
		hs_drop(&s[i]);
	}
	return h ? h : 1;
}

#endif /* HEAP_STRINGS_H */

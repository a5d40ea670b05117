/*
 * dios_name.c - deterministic names (SHA-256, FIPS 180-4) and the 43-character
 * URL-safe base64 text form of a 256-bit name.
 *
 * Self-contained (no other shim object is referenced), so a program that only
 * needs names (native/tools/abi_dump) pulls just this object out of
 * libdlibc.a.
 */
#include "dios_internal.h"

#include <string.h>

/* ---- SHA-256 (FIPS 180-4, section 6.2) ---------------------------------- */

/* 4.2.2: first 32 bits of the fractional parts of the cube roots of the first 64 primes */
static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* 5.3.3: first 32 bits of the fractional parts of the square roots of the first 8 primes */
static const uint32_t sha256_h0[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

struct sha256 {
	uint32_t h[8];
	uint8_t  block[64];
	size_t   fill;      /* bytes in block */
	uint64_t total;     /* message bytes so far */
};

static inline uint32_t rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* 6.2.2: one 512-bit block */
static void sha256_block(uint32_t h[8], const uint8_t *m)
{
	uint32_t w[64];
	for (int t = 0; t < 16; t++)
		w[t] = be32(m + 4 * t);
	for (int t = 16; t < 64; t++) {
		uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);   /* sigma0 */
		uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);    /* sigma1 */
		w[t] = s1 + w[t - 7] + s0 + w[t - 16];
	}
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
	uint32_t e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int t = 0; t < 64; t++) {
		uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);    /* Sigma1 */
		uint32_t ch = (e & f) ^ (~e & g);                        /* Ch */
		uint32_t t1 = hh + S1 + ch + sha256_k[t] + w[t];
		uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);    /* Sigma0 */
		uint32_t maj = (a & b) ^ (a & c) ^ (b & c);              /* Maj */
		uint32_t t2 = S0 + maj;
		hh = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d;
	h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static void sha256_init(struct sha256 *s)
{
	memcpy(s->h, sha256_h0, sizeof s->h);
	s->fill = 0;
	s->total = 0;
}

static void sha256_update(struct sha256 *s, const uint8_t *p, size_t n)
{
	s->total += n;
	if (s->fill) {
		size_t take = 64 - s->fill < n ? 64 - s->fill : n;
		memcpy(s->block + s->fill, p, take);
		s->fill += take;
		p += take;
		n -= take;
		if (s->fill < 64)
			return;
		sha256_block(s->h, s->block);
		s->fill = 0;
	}
	for (; n >= 64; p += 64, n -= 64)
		sha256_block(s->h, p);
	memcpy(s->block, p, n);
	s->fill = n;
}

/* 5.1.1: append 1 bit, zeros, then the 64-bit big-endian message length in bits */
static void sha256_final(struct sha256 *s, uint8_t out[32])
{
	uint64_t bits = s->total * 8;
	s->block[s->fill++] = 0x80;
	if (s->fill > 56) {
		memset(s->block + s->fill, 0, 64 - s->fill);
		sha256_block(s->h, s->block);
		s->fill = 0;
	}
	memset(s->block + s->fill, 0, 56 - s->fill);
	for (int i = 0; i < 8; i++)
		s->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_block(s->h, s->block);
	for (int i = 0; i < 8; i++) {
		out[4 * i + 0] = (uint8_t)(s->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)s->h[i];
	}
}

int dios_name_from_string(const char *s, dios_name_t *out)
{
	if (!s || !out)
		return -EINVAL;
	struct sha256 st;
	sha256_init(&st);
	sha256_update(&st, (const uint8_t *)s, strlen(s));
	sha256_final(&st, out->raw);
	return 0;
}

/* ---- text form: URL-safe base64 (RFC 4648 section 5), no padding --------- */

static const char b64url[64] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '-') return 62;
	if (c == '_') return 63;
	return -1;
}

/* 32 bytes = 256 bits -> 43 characters (258 bits: the last one carries 4 bits + 2 zero bits). */
char *dios_nametostr(const dios_name_t *name, char dst[DIOS_NAME_STRLEN])
{
	if (!dst)
		return NULL;
	if (!name) {
		dst[0] = '\0';
		return NULL;
	}
	const uint8_t *r = name->raw;
	int o = 0;
	int i = 0;
	for (; i + 3 <= DIOS_NAME_BYTES; i += 3) {     /* 10 groups of 3 bytes -> 40 chars */
		uint32_t v = (uint32_t)r[i] << 16 | (uint32_t)r[i + 1] << 8 | r[i + 2];
		dst[o++] = b64url[(v >> 18) & 63];
		dst[o++] = b64url[(v >> 12) & 63];
		dst[o++] = b64url[(v >> 6) & 63];
		dst[o++] = b64url[v & 63];
	}
	/* 2 bytes left (30, 31) -> 16 bits -> 3 chars */
	uint32_t v = (uint32_t)r[i] << 16 | (uint32_t)r[i + 1] << 8;
	dst[o++] = b64url[(v >> 18) & 63];
	dst[o++] = b64url[(v >> 12) & 63];
	dst[o++] = b64url[(v >> 6) & 63];
	dst[o] = '\0';
	return dst;
}

int dios_strtoname(const char *s, dios_name_t *out)
{
	if (!s || !out)
		return -EINVAL;
	int val[DIOS_NAME_STRLEN - 1];
	for (int i = 0; i < DIOS_NAME_STRLEN - 1; i++) {
		if (s[i] == '\0')
			return -EINVAL;                         /* shorter than 43 */
		val[i] = b64url_value((unsigned char)s[i]);
		if (val[i] < 0)
			return -EINVAL;                         /* not in the alphabet (also '=') */
	}
	if (s[DIOS_NAME_STRLEN - 1] != '\0')
		return -EINVAL;                                 /* longer than 43 */
	if (val[DIOS_NAME_STRLEN - 2] & 3)
		return -EINVAL;                                 /* non-canonical: the 2 spare bits must be 0 */
	uint8_t raw[DIOS_NAME_BYTES];
	int o = 0, i = 0;
	for (; i + 4 <= 40; i += 4) {
		uint32_t v = (uint32_t)val[i] << 18 | (uint32_t)val[i + 1] << 12 |
			     (uint32_t)val[i + 2] << 6 | (uint32_t)val[i + 3];
		raw[o++] = (uint8_t)(v >> 16);
		raw[o++] = (uint8_t)(v >> 8);
		raw[o++] = (uint8_t)v;
	}
	uint32_t v = (uint32_t)val[i] << 18 | (uint32_t)val[i + 1] << 12 | (uint32_t)val[i + 2] << 6;
	raw[o++] = (uint8_t)(v >> 16);
	raw[o++] = (uint8_t)(v >> 8);
	memcpy(out->raw, raw, sizeof raw);
	return 0;
}

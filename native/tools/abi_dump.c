/*
 * abi_dump - print every fact of dios_abi.h as key=value lines, one a line,
 * for the Java test that holds the daemon to the header (AbiLayoutTest):
 *
 *   sizeof.<struct>=N            the wire structs
 *   offsetof.<struct>.<field>=N  every field of them (arrays: name without brackets)
 *   const.<NAME>=N               every numeric macro and enum constant (decimal)
 *   str.<NAME>=text              every string macro
 *   name.<label>.input=s         a string,
 *   name.<label>.hex=...         its SHA-256 (64 hex digits, from libdlibc),
 *   name.<label>=...             and the 43-character text form of that name
 *
 * and the same of the public API header dios.h (its own structs and macros),
 * for the clients that lay its structs out by hand (client-java, dios-sys):
 *
 *   api.sizeof.<struct>=N               every struct dios.h defines
 *   api.offsetof.<struct>.<field>=N     every field of them
 *   api.fieldsize.<struct>.<field>=N    and its size
 *   api.const.<NAME>=N, api.str.<NAME>=text   its D_/DIOS_ macros
 *
 * The lists of structs, fields and constants are generated from the headers at
 * build time (tools/abi_gen.sh -> build/abi_list.inc, tools/abi_gen.sh --api ->
 * build/abi_api_list.inc), so nothing added to a header can be forgotten here.  Exits 1, with a message on stderr, if a
 * DIOS_E* code differs from <errno.h> or a struct has a gap the header does
 * not spell out as padding.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <dios/dios.h>

struct field {
	const char *st;
	const char *name;
	size_t off;
	size_t size;
	size_t st_size;
};

#define STRUCT(s)
#define FIELD(s, f) { #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f), sizeof(struct s) },
#define NUM(x)
#define STR(x)
#define ERRNO(e)
static const struct field fields[] = {
#include "abi_list.inc"
};
#undef STRUCT
#undef FIELD

struct num {
	const char *name;
	unsigned long long v;
};
#define STRUCT(s)
#define FIELD(s, f)
#undef NUM
#define NUM(x) { #x, (unsigned long long)(x) },
static const struct num nums[] = {
#include "abi_list.inc"
};
#undef NUM
#define NUM(x)

#undef STR
#define STR(x) { #x, x },
static const struct { const char *name, *v; } strs[] = {
#include "abi_list.inc"
};
#undef STR
#define STR(x)

#undef ERRNO
#define ERRNO(e) { "DIOS_" #e, #e, DIOS_##e, e },
static const struct { const char *name, *libc_name; int dios, libc; } errs[] = {
#include "abi_list.inc"
};
#undef ERRNO
#define ERRNO(e)

#undef STRUCT
#define STRUCT(s) { #s, sizeof(struct s) },
static const struct { const char *name; size_t size; } structs[] = {
#include "abi_list.inc"
};

/* dios.h: no padding check (its structs hold pointers, and the compiler pads them) */
#define API_STRUCT(s) { #s, sizeof(struct s) },
#define API_FIELD(s, f)
#define API_NUM(x)
#define API_STR(x)
static const struct { const char *name; size_t size; } api_structs[] = {
#include "abi_api_list.inc"
};
#undef API_STRUCT
#define API_STRUCT(s)
#undef API_FIELD
#define API_FIELD(s, f) { #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f), sizeof(struct s) },
static const struct field api_fields[] = {
#include "abi_api_list.inc"
};
#undef API_FIELD
#define API_FIELD(s, f)
#undef API_NUM
#define API_NUM(x) { #x, (unsigned long long)(x) },
static const struct num api_nums[] = {
	{ NULL, 0 },	/* (so the array is never empty) */
#include "abi_api_list.inc"
};
#undef API_NUM
#define API_NUM(x)
#undef API_STR
#define API_STR(x) { #x, x },
static const struct { const char *name, *v; } api_strs[] = {
	{ NULL, NULL },
#include "abi_api_list.inc"
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct { const char *label, *input; } names[] = {
	{ "empty", "" },
	{ "abc", "abc" },
	{ "dios", "dios" },
	{ "bin_true", "/bin/true" },
};

int main(void)
{
	int bad = 0;

	for (size_t i = 0; i < N(structs); i++)
		printf("sizeof.%s=%zu\n", structs[i].name, structs[i].size);
	for (size_t i = 0; i < N(fields); i++) {
		const struct field *f = &fields[i];
		printf("offsetof.%s.%s=%zu\n", f->st, f->name, f->off);
		/* every byte is a named field: the next one starts where this one ends */
		int last = i + 1 == N(fields) || strcmp(fields[i + 1].st, f->st) != 0;
		size_t next = last ? f->st_size : fields[i + 1].off;
		if (f->off + f->size != next) {
			fprintf(stderr, "abi_dump: struct %s: implicit padding after %s (%zu + %zu != %zu)\n",
				f->st, f->name, f->off, f->size, next);
			bad = 1;
		}
	}
	for (size_t i = 0; i < N(nums); i++)
		printf("const.%s=%llu\n", nums[i].name, nums[i].v);
	for (size_t i = 0; i < N(strs); i++)
		printf("str.%s=%s\n", strs[i].name, strs[i].v);

	for (size_t i = 0; i < N(api_structs); i++)
		printf("api.sizeof.%s=%zu\n", api_structs[i].name, api_structs[i].size);
	for (size_t i = 0; i < N(api_fields); i++) {
		printf("api.offsetof.%s.%s=%zu\n", api_fields[i].st, api_fields[i].name, api_fields[i].off);
		printf("api.fieldsize.%s.%s=%zu\n", api_fields[i].st, api_fields[i].name, api_fields[i].size);
	}
	for (size_t i = 1; i < N(api_nums); i++)
		printf("api.const.%s=%llu\n", api_nums[i].name, api_nums[i].v);
	for (size_t i = 1; i < N(api_strs); i++)
		printf("api.str.%s=%s\n", api_strs[i].name, api_strs[i].v);

	for (size_t i = 0; i < N(names); i++) {
		dios_name_t n;
		char text[DIOS_NAME_STRLEN];
		if (dios_name_from_string(names[i].input, &n) != 0 || !dios_nametostr(&n, text)) {
			fprintf(stderr, "abi_dump: cannot name \"%s\"\n", names[i].input);
			return 1;
		}
		printf("name.%s.input=%s\n", names[i].label, names[i].input);
		printf("name.%s.hex=", names[i].label);
		for (int b = 0; b < DIOS_NAME_BYTES; b++)
			printf("%02x", n.raw[b]);
		printf("\nname.%s=%s\n", names[i].label, text);
	}

	for (size_t i = 0; i < N(errs); i++)
		if (errs[i].dios != errs[i].libc) {
			fprintf(stderr, "abi_dump: %s is %d but <errno.h> has %s = %d\n",
				errs[i].name, errs[i].dios, errs[i].libc_name, errs[i].libc);
			bad = 1;
		}
	if (fflush(stdout) != 0) {
		perror("abi_dump: stdout");
		return 1;
	}
	return bad;
}

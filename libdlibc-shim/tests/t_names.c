/* t_names: SHA-256 names from strings (test vectors), the 43-char URL-safe text form and its strict parser. */
#include "helpers.h"

static const char *URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int hexval(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static void check_sha(const char *s, const char *hex, int line)
{
	dios_name_t n, want;
	memset(&n, 0, sizeof(n));
	for (int i = 0; i < 32; i++)
		want.raw[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
	int r = dios_name_from_string(s, &n);
	if (r != 0)
		dt_fail(__FILE__, line, "dios_name_from_string returned %d", r);
	if (memcmp(n.raw, want.raw, 32) != 0) {
		char got[65];
		for (int i = 0; i < 32; i++)
			sprintf(got + 2 * i, "%02x", n.raw[i]);
		dt_fail(__FILE__, line, "SHA-256 mismatch: got %s want %s", got, hex);
	}
}

int main(void)
{
	alarm(60);
	/* pure utilities: no daemon needed */

	/* FIPS 180-2 test vectors */
	check_sha("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", __LINE__);
	check_sha("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", __LINE__);
	check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", __LINE__);
	{
		/* one million 'a': many blocks */
		char *m = malloc(1000001);
		CHECK(m != NULL);
		memset(m, 'a', 1000000);
		m[1000000] = 0;
		check_sha(m, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", __LINE__);
		free(m);
	}
	/* 55/56/64-byte messages cross the padding boundaries */
	check_sha("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318", __LINE__);
	check_sha("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a", __LINE__);
	check_sha("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb", __LINE__);

	dios_name_t n;
	CHECK_EQ(dios_name_from_string(NULL, &n), -EINVAL);
	CHECK_EQ(dios_name_from_string("abc", NULL), -EINVAL);

	/* text form of a known name: RFC 4648 section 5 alphabet, no padding */
	char str[DIOS_NAME_STRLEN];
	CHECK_EQ(dios_name_from_string("abc", &n), 0);
	memset(str, 'X', sizeof(str));
	CHECK(dios_nametostr(&n, str) == str);
	CHECK_EQ(strlen(str), 43);
	CHECK_EQ(strcmp(str, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"), 0);
	CHECK(dios_nametostr(NULL, str) == NULL);
	CHECK(dios_nametostr(&n, NULL) == NULL);

	/* random names: 43 chars of the alphabet, canonical last char, and a round trip */
	for (int i = 0; i < 2000; i++) {
		dios_name_t x, y;
		dt_random_name(&x);
		memset(str, 'X', sizeof(str));
		CHECK(dios_nametostr(&x, str) == str);
		CHECK_EQ(str[43], '\0');
		CHECK_EQ(strlen(str), 43);
		for (int k = 0; k < 43; k++)
			if (!strchr(URLSAFE, str[k]) || str[k] == 0)
				dt_fail(__FILE__, __LINE__, "char %d of \"%s\" is not URL-safe base64", k, str);
		/* 256 bits in 43 chars: the last char holds 4 bits, its 2 low bits are 0 */
		CHECK_EQ((strchr(URLSAFE, str[42]) - URLSAFE) & 3, 0);
		memset(&y, 0x5a, sizeof(y));
		CHECK_EQ(dios_strtoname(str, &y), 0);
		CHECK_EQ(memcmp(x.raw, y.raw, 32), 0);
	}
	/* all-zero and all-ones names */
	{
		dios_name_t z, y;
		memset(&z, 0, sizeof(z));
		dios_nametostr(&z, str);
		CHECK_EQ(strcmp(str, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 0);
		CHECK_EQ(dios_strtoname(str, &y), 0);
		CHECK_EQ(memcmp(z.raw, y.raw, 32), 0);
		memset(&z, 0xff, sizeof(z));
		dios_nametostr(&z, str);
		CHECK_EQ(strcmp(str, "__________________________________________8"), 0);
		CHECK_EQ(dios_strtoname(str, &y), 0);
		CHECK_EQ(memcmp(z.raw, y.raw, 32), 0);
	}

	/* the parser is strict */
	const char *good = "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0";
	dios_name_t out;
	CHECK_EQ(dios_strtoname(good, &out), 0);
	CHECK_EQ(dios_strtoname("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa", &out), -EINVAL);   /* 42 */
	CHECK_EQ(dios_strtoname("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0A", &out), -EINVAL); /* 44 */
	CHECK_EQ(dios_strtoname("", &out), -EINVAL);
	CHECK_EQ(dios_strtoname("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa=", &out), -EINVAL); /* padding */
	{
		const char bad[] = { '+', '/', '=', ' ', '.', '*', '\n', (char)0xc3 };
		for (size_t i = 0; i < sizeof(bad); i++) {
			char s[44];
			memcpy(s, good, 44);
			s[10] = bad[i];
			CHECK_EQ(dios_strtoname(s, &out), -EINVAL);
		}
	}
	/* non-canonical last char: '0' is 52 (low bits 00); '1'..'3' set bits beyond 256 */
	CHECK_EQ(dios_strtoname("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa1", &out), -EINVAL);
	CHECK_EQ(dios_strtoname("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa3", &out), -EINVAL);
	CHECK_EQ(dios_strtoname("__________________________________________9", &out), -EINVAL);
	CHECK_EQ(dios_strtoname("__________________________________________-", &out), -EINVAL);

	CHECK_EQ(dios_strtoname(NULL, &out), -EINVAL);
	CHECK_EQ(dios_strtoname(good, NULL), -EINVAL);
	return T_EXIT_PASS;
}

/*
 * test_token.c - orchestrator/server/token.h: the form of a new token,
 * its kind by prefix, its SHA-256, the constant-time comparison and the
 * whole check against a real database (unknown, revoked, wrong kind).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "orchestrator/server/token.h"
#include "common/util.h"

static void test_token__new_has_its_form(void **state)
{
	char a[PB_TOKEN_LEN + 1], b[PB_TOKEN_LEN + 1], c[PB_TOKEN_LEN + 1];

	(void)state;
	assert_int_equal(pb_token_new(a, PB_PRINCIPAL_AGENT), 0);
	assert_int_equal(pb_token_new(b, PB_PRINCIPAL_AGENT), 0);
	assert_int_equal(pb_token_new(c, PB_PRINCIPAL_CLIENT), 0);
	assert_int_equal(strlen(a), PB_TOKEN_LEN);
	assert_int_equal(strlen(c), PB_TOKEN_LEN);
	assert_memory_equal(a, "pba_", 4);
	assert_memory_equal(c, "pbc_", 4);
	assert_string_not_equal(a, b);
	for (const char *p = a + 4; *p; p++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl"
				       "mnopqrstuvwxyz0123456789-_", *p));
	assert_int_equal(pb_token_kind(a), PB_PRINCIPAL_AGENT);
	assert_int_equal(pb_token_kind(c), PB_PRINCIPAL_CLIENT);
	assert_int_equal(pb_token_new(a, PB_PRINCIPAL_NONE), PB_EINVAL);
}

static void test_token__kind_of_malformed(void **state)
{
	char t[PB_TOKEN_LEN + 2];

	(void)state;
	assert_int_equal(pb_token_kind(NULL), PB_PRINCIPAL_NONE);
	assert_int_equal(pb_token_kind(""), PB_PRINCIPAL_NONE);
	assert_int_equal(pb_token_kind("pba_short"), PB_PRINCIPAL_NONE);
	assert_int_equal(pb_token_new(t, PB_PRINCIPAL_AGENT), 0);
	t[PB_TOKEN_LEN - 1] = '+'; /* base64, not base64url */
	assert_int_equal(pb_token_kind(t), PB_PRINCIPAL_NONE);
	t[PB_TOKEN_LEN - 1] = 'A';
	memcpy(t, "pbx_", 4);
	assert_int_equal(pb_token_kind(t), PB_PRINCIPAL_NONE);
	memcpy(t, "pba_", 4);
	t[PB_TOKEN_LEN] = 'A';
	t[PB_TOKEN_LEN + 1] = '\0';
	assert_int_equal(pb_token_kind(t), PB_PRINCIPAL_NONE);
}

static void test_token__sha256_and_compare(void **state)
{
	/* FIPS 180-2's example: SHA-256("abc") */
	static const unsigned char abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
		0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
		0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	unsigned char h[32], g[32];

	(void)state;
	assert_int_equal(pb_token_hash(h, "abc"), 0);
	assert_memory_equal(h, abc, 32);
	assert_true(pb_token_hash_equal(h, abc));
	memcpy(g, h, 32);
	g[31] ^= 1;
	assert_false(pb_token_hash_equal(g, h));
	g[31] ^= 1;
	g[0] ^= 0x80;
	assert_false(pb_token_hash_equal(g, h));
}

static void test_token__names(void **state)
{
	char longest[PB_PRINCIPAL_NAME_MAX + 2];

	(void)state;
	assert_true(pb_principal_name_ok("bench-01.lab_a"));
	assert_false(pb_principal_name_ok(""));
	assert_false(pb_principal_name_ok(NULL));
	assert_false(pb_principal_name_ok("-x"));
	assert_false(pb_principal_name_ok(".x"));
	assert_false(pb_principal_name_ok("a b"));
	assert_false(pb_principal_name_ok("a/b"));
	memset(longest, 'a', sizeof(longest));
	longest[PB_PRINCIPAL_NAME_MAX] = '\0';
	assert_true(pb_principal_name_ok(longest));
	longest[PB_PRINCIPAL_NAME_MAX] = 'a';
	longest[PB_PRINCIPAL_NAME_MAX + 1] = '\0';
	assert_false(pb_principal_name_ok(longest));
}

static void add(struct pb_db *db, const char *name,
		enum pb_principal_kind kind, int admin, const char *token)
{
	unsigned char h[PB_TOKEN_HASH_LEN];
	int64_t id;

	assert_int_equal(pb_token_hash(h, token), 0);
	assert_int_equal(pb_db_principal_add(db, name, kind, admin, h, &id), 0);
}

static void test_token__check(void **state)
{
	char dir[] = "/tmp/pb-test-token-XXXXXX", *path;
	char agent[PB_TOKEN_LEN + 1], admin[PB_TOKEN_LEN + 1],
		plain[PB_TOKEN_LEN + 1], stray[PB_TOKEN_LEN + 1],
		odd[PB_TOKEN_LEN + 1];
	struct pb_principal who;
	struct pb_db *db;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = pb_path_join(dir, "t.db");
	assert_int_equal(pb_db_open(&db, path), 0);
	assert_int_equal(pb_token_new(agent, PB_PRINCIPAL_AGENT), 0);
	assert_int_equal(pb_token_new(admin, PB_PRINCIPAL_CLIENT), 0);
	assert_int_equal(pb_token_new(plain, PB_PRINCIPAL_CLIENT), 0);
	assert_int_equal(pb_token_new(stray, PB_PRINCIPAL_CLIENT), 0);
	assert_int_equal(pb_token_new(odd, PB_PRINCIPAL_AGENT), 0);
	add(db, "m1", PB_PRINCIPAL_AGENT, 0, agent);
	add(db, "root", PB_PRINCIPAL_CLIENT, 1, admin);
	add(db, "ci", PB_PRINCIPAL_CLIENT, 0, plain);
	/* a row whose kind is not its token's prefix is no match */
	add(db, "odd", PB_PRINCIPAL_CLIENT, 0, odd);

	assert_int_equal(pb_token_check(db, agent, &who), 0);
	assert_int_equal(who.kind, PB_PRINCIPAL_AGENT);
	assert_string_equal(who.name, "m1");
	assert_int_equal(who.admin, 0);
	assert_int_equal(pb_token_check(db, admin, &who), 0);
	assert_int_equal(who.kind, PB_PRINCIPAL_CLIENT);
	assert_int_equal(who.admin, 1);
	assert_int_equal(pb_token_check(db, plain, &who), 0);
	assert_int_equal(who.admin, 0);

	assert_int_equal(pb_token_check(db, stray, &who), PB_ENOTFOUND);
	assert_string_equal(pb_error_last(), "unknown token");
	assert_int_equal(who.kind, PB_PRINCIPAL_NONE);
	assert_int_equal(pb_token_check(db, "Bearer x", &who), PB_ENOTFOUND);
	assert_string_equal(pb_error_last(), "malformed token");
	assert_int_equal(pb_token_check(db, odd, &who), PB_ENOTFOUND);
	assert_string_equal(pb_error_last(), "unknown token");

	assert_int_equal(pb_db_principal_revoke(db, "ci", NULL), 0);
	assert_int_equal(pb_token_check(db, plain, &who), PB_ENOTFOUND);
	assert_string_equal(pb_error_last(), "revoked token");

	pb_db_close(db);
	pb_rm_rf(dir);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token__new_has_its_form),
		cmocka_unit_test(test_token__kind_of_malformed),
		cmocka_unit_test(test_token__sha256_and_compare),
		cmocka_unit_test(test_token__names),
		cmocka_unit_test(test_token__check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

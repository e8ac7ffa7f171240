/*
 * test_buf.c - unit tests for common/buf.h (the capped buffer).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"

static void test_buf__empty_is_empty_string(void **state)
{
	struct pb_buf b;
	struct pb_buf s = PB_BUF_INIT(16);

	(void)state;
	pb_buf_init(&b, 16);
	assert_non_null(b.ptr);
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 16);
	assert_int_equal(b.truncated, 0);

	assert_non_null(s.ptr);
	assert_string_equal(s.ptr, "");
	assert_int_equal(s.len, 0);
	assert_int_equal(s.max, 16);

	/* an empty put keeps it empty and valid */
	assert_int_equal(pb_buf_put(&b, "", 0), PB_OK);
	assert_non_null(b.ptr);
	assert_string_equal(b.ptr, "");

	/* reset and release of a never-used buffer are harmless */
	pb_buf_reset(&b);
	assert_string_equal(b.ptr, "");
	pb_buf_release(&b);
	assert_non_null(b.ptr);
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.max, 16);
	pb_buf_release(&s);
}

static void test_buf__put_within_cap(void **state)
{
	struct pb_buf b;

	(void)state;
	pb_buf_init(&b, 10);
	assert_int_equal(pb_buf_put(&b, "abc", 3), PB_OK);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.ptr, "abc");
	assert_int_equal(pb_buf_puts(&b, "defg"), PB_OK);
	assert_string_equal(b.ptr, "abcdefg");
	/* exactly up to the cap is fine */
	assert_int_equal(pb_buf_put(&b, "hij", 3), PB_OK);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.ptr, "abcdefghij");
	assert_int_equal(b.ptr[b.len], '\0');
	assert_int_equal(b.truncated, 0);
	/* a zero-length put at the cap still succeeds */
	assert_int_equal(pb_buf_put(&b, "", 0), PB_OK);
	assert_int_equal(b.len, 10);
	pb_buf_release(&b);
}

static void test_buf__put_binary_bytes(void **state)
{
	struct pb_buf b;
	const char data[] = { 'a', '\0', 'b' };

	(void)state;
	pb_buf_init(&b, 100);
	assert_int_equal(pb_buf_put(&b, data, sizeof(data)), PB_OK);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.ptr, data, 3);
	assert_int_equal(b.ptr[3], '\0');
	pb_buf_release(&b);
}

static void test_buf__put_over_cap_fails_unchanged(void **state)
{
	struct pb_buf b;

	(void)state;
	pb_buf_init(&b, 8);
	assert_int_equal(pb_buf_puts(&b, "hello"), PB_OK);
	assert_int_equal(pb_buf_put(&b, "world", 5), PB_ETOOBIG);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.ptr, "hello");
	assert_int_equal(b.truncated, 0);
	assert_int_equal(pb_buf_puts(&b, "abcd"), PB_ETOOBIG);
	assert_string_equal(b.ptr, "hello");
	/* what fits still goes in afterwards */
	assert_int_equal(pb_buf_puts(&b, "abc"), PB_OK);
	assert_string_equal(b.ptr, "helloabc");
	assert_int_equal(pb_buf_puts(&b, "x"), PB_ETOOBIG);
	assert_string_equal(b.ptr, "helloabc");
	pb_buf_release(&b);

	/* a cap of zero refuses everything but the empty string */
	pb_buf_init(&b, 0);
	assert_int_equal(pb_buf_put(&b, "x", 1), PB_ETOOBIG);
	assert_string_equal(b.ptr, "");
	assert_int_equal(pb_buf_put(&b, "", 0), PB_OK);
	pb_buf_release(&b);

	/* too big on the very first put, before any allocation */
	pb_buf_init(&b, 4);
	assert_int_equal(pb_buf_puts(&b, "hello"), PB_ETOOBIG);
	assert_non_null(b.ptr);
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.len, 0);
	pb_buf_release(&b);
}

static void test_buf__put_capped_keeps_what_fits(void **state)
{
	struct pb_buf b;

	(void)state;
	pb_buf_init(&b, 8);
	assert_int_equal(pb_buf_put_capped(&b, "abc", 3), 3);
	assert_int_equal(b.truncated, 0);
	assert_int_equal(pb_buf_put_capped(&b, "defghijk", 8), 5);
	assert_int_equal(b.truncated, 1);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.ptr, "abcdefgh");
	/* a full buffer keeps nothing more and stays truncated */
	assert_int_equal(pb_buf_put_capped(&b, "z", 1), 0);
	assert_int_equal(b.truncated, 1);
	assert_string_equal(b.ptr, "abcdefgh");
	/* reset clears the flag */
	pb_buf_reset(&b);
	assert_int_equal(b.truncated, 0);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.ptr, "");
	assert_int_equal(pb_buf_put_capped(&b, "12345678", 8), 8);
	assert_int_equal(b.truncated, 0);
	assert_string_equal(b.ptr, "12345678");
	pb_buf_release(&b);
}

static void test_buf__printf(void **state)
{
	struct pb_buf b;

	(void)state;
	pb_buf_init(&b, 32);
	assert_int_equal(pb_buf_printf(&b, "%d-%s", 42, "x"), PB_OK);
	assert_string_equal(b.ptr, "42-x");
	assert_int_equal(b.len, 4);
	assert_int_equal(pb_buf_printf(&b, "|%05.1f|", 3.14159), PB_OK);
	assert_string_equal(b.ptr, "42-x|003.1|");
	assert_int_equal(b.len, strlen(b.ptr));
	assert_int_equal(pb_buf_printf(&b, "%s", ""), PB_OK);
	assert_string_equal(b.ptr, "42-x|003.1|");
	pb_buf_release(&b);
}

static void test_buf__printf_over_cap_fails_whole(void **state)
{
	struct pb_buf b;

	(void)state;
	pb_buf_init(&b, 10);
	assert_int_equal(pb_buf_puts(&b, "abcdef"), PB_OK);
	assert_int_equal(pb_buf_printf(&b, "%s", "12345"), PB_ETOOBIG);
	assert_int_equal(b.len, 6);
	assert_string_equal(b.ptr, "abcdef");
	assert_int_equal(b.truncated, 0);
	/* exactly to the cap */
	assert_int_equal(pb_buf_printf(&b, "%d", 1234), PB_OK);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.ptr, "abcdef1234");
	assert_int_equal(pb_buf_printf(&b, "%c", 'x'), PB_ETOOBIG);
	assert_string_equal(b.ptr, "abcdef1234");
	pb_buf_release(&b);

	/* over the cap on a fresh buffer: nothing is written */
	pb_buf_init(&b, 3);
	assert_int_equal(pb_buf_printf(&b, "%s", "abcd"), PB_ETOOBIG);
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.len, 0);
	pb_buf_release(&b);
}

static void test_buf__reset_keeps_cap(void **state)
{
	struct pb_buf b;

	(void)state;
	pb_buf_init(&b, 5);
	assert_int_equal(pb_buf_puts(&b, "abcde"), PB_OK);
	pb_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.max, 5);
	assert_int_equal(pb_buf_puts(&b, "vwxyz"), PB_OK);
	assert_string_equal(b.ptr, "vwxyz");
	assert_int_equal(pb_buf_puts(&b, "!"), PB_ETOOBIG);
	pb_buf_release(&b);
}

static void test_buf__detach(void **state)
{
	struct pb_buf b;
	char *s;

	(void)state;
	pb_buf_init(&b, 100);
	assert_int_equal(pb_buf_puts(&b, "hello world"), PB_OK);
	s = pb_buf_detach(&b);
	assert_non_null(s);
	assert_string_equal(s, "hello world");
	/* the buffer is empty, valid and keeps its cap */
	assert_non_null(b.ptr);
	assert_ptr_not_equal(b.ptr, s);
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 100);
	/* the caller owns s: it can be written to and freed */
	s[0] = 'H';
	assert_string_equal(s, "Hello world");
	free(s);

	/* and the buffer is usable again */
	assert_int_equal(pb_buf_puts(&b, "again"), PB_OK);
	assert_string_equal(b.ptr, "again");
	pb_buf_release(&b);

	/* detaching an empty buffer gives a malloc'd "" */
	pb_buf_init(&b, 10);
	s = pb_buf_detach(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_string_equal(b.ptr, "");
	free(s);
	pb_buf_release(&b);
}

static void test_buf__growth_many_appends(void **state)
{
	enum { TOTAL = 100000 };
	struct pb_buf b;
	size_t i;

	(void)state;
	pb_buf_init(&b, TOTAL);
	for (i = 0; i < TOTAL; i++) {
		char c = (char)('a' + i % 26);
		assert_int_equal(pb_buf_put(&b, &c, 1), PB_OK);
		assert_int_equal(b.len, i + 1);
		assert_int_equal(b.ptr[b.len], '\0');
	}
	assert_int_equal(b.len, TOTAL);
	assert_int_equal(strlen(b.ptr), TOTAL);
	assert_true(b.alloc >= TOTAL + 1);
	/* memory is bounded by the cap, too */
	assert_true(b.alloc <= TOTAL + 1);
	for (i = 0; i < TOTAL; i++)
		if (b.ptr[i] != (char)('a' + i % 26))
			fail_msg("byte %zu is %c", i, b.ptr[i]);
	assert_int_equal(pb_buf_put(&b, "x", 1), PB_ETOOBIG);
	assert_int_equal(b.len, TOTAL);
	pb_buf_release(&b);
}

static void test_buf__growth_mixed_chunks(void **state)
{
	struct pb_buf b, ref;
	unsigned i;

	(void)state;
	pb_buf_init(&b, 1 << 20);
	pb_buf_init(&ref, 1 << 20);
	for (i = 0; i < 5000; i++) {
		char chunk[40];
		size_t k = i % 37;

		for (size_t j = 0; j < k; j++)
			chunk[j] = (char)('A' + (i + j) % 26);
		if (i % 2) {
			assert_int_equal(pb_buf_put(&b, chunk, k), PB_OK);
		} else {
			assert_int_equal(pb_buf_printf(&b, "%.*s", (int)k,
						       chunk),
					 PB_OK);
		}
		assert_int_equal(pb_buf_put_capped(&ref, chunk, k), (long)k);
	}
	assert_int_equal(b.len, ref.len);
	assert_memory_equal(b.ptr, ref.ptr, b.len);
	assert_int_equal(b.ptr[b.len], '\0');
	assert_int_equal(strlen(b.ptr), b.len);
	assert_int_equal(ref.truncated, 0);
	pb_buf_release(&b);
	pb_buf_release(&ref);
}

static void test_buf__release_then_reuse(void **state)
{
	struct pb_buf b;

	(void)state;
	pb_buf_init(&b, 1000);
	assert_int_equal(pb_buf_puts(&b, "first"), PB_OK);
	pb_buf_release(&b);
	assert_non_null(b.ptr);
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.len, 0);
	assert_int_equal(b.alloc, 0);
	assert_int_equal(b.max, 1000);
	assert_int_equal(b.truncated, 0);

	assert_int_equal(pb_buf_puts(&b, "second"), PB_OK);
	assert_int_equal(pb_buf_printf(&b, " %u", 2u), PB_OK);
	assert_string_equal(b.ptr, "second 2");
	pb_buf_release(&b);
	/* releasing twice is harmless */
	pb_buf_release(&b);
	assert_string_equal(b.ptr, "");

	/* release also clears truncated */
	pb_buf_init(&b, 2);
	assert_int_equal(pb_buf_put_capped(&b, "abc", 3), 2);
	assert_int_equal(b.truncated, 1);
	pb_buf_release(&b);
	assert_int_equal(b.truncated, 0);
	assert_int_equal(b.max, 2);
	assert_int_equal(pb_buf_puts(&b, "xy"), PB_OK);
	assert_string_equal(b.ptr, "xy");
	pb_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf__empty_is_empty_string),
		cmocka_unit_test(test_buf__put_within_cap),
		cmocka_unit_test(test_buf__put_binary_bytes),
		cmocka_unit_test(test_buf__put_over_cap_fails_unchanged),
		cmocka_unit_test(test_buf__put_capped_keeps_what_fits),
		cmocka_unit_test(test_buf__printf),
		cmocka_unit_test(test_buf__printf_over_cap_fails_whole),
		cmocka_unit_test(test_buf__reset_keeps_cap),
		cmocka_unit_test(test_buf__detach),
		cmocka_unit_test(test_buf__growth_many_appends),
		cmocka_unit_test(test_buf__growth_mixed_chunks),
		cmocka_unit_test(test_buf__release_then_reuse),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}

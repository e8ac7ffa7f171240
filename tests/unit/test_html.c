/*
 * test_html.c - unit tests for web/html.h (the one HTML escaper).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "web/html.h"

#define FFFD "\xef\xbf\xbd"

/* Escapes `in` into a fresh buffer and compares with `want`. */
static void expect_html(const char *in, const char *want)
{
	struct pb_buf b;

	pb_buf_init(&b, 1 << 16);
	assert_int_equal(pb_html_put(&b, in), PB_OK);
	assert_int_equal(b.len, strlen(want));
	assert_string_equal(b.ptr, want);
	pb_buf_release(&b);
}

static void test_html__plain_text_unchanged(void **state)
{
	(void)state;
	expect_html("", "");
	expect_html("hello world", "hello world");
	expect_html("fix: speed up parse_line() by 12% (#42)",
		    "fix: speed up parse_line() by 12% (#42)");
	expect_html("a/b\\c=d;e", "a/b\\c=d;e");
}

static void test_html__escapes_specials(void **state)
{
	(void)state;
	expect_html("&", "&amp;");
	expect_html("<", "&lt;");
	expect_html(">", "&gt;");
	expect_html("\"", "&quot;");
	expect_html("'", "&#39;");
	expect_html("<script>alert('x')</script>",
		    "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
	expect_html("a & b < c > d \"e\" 'f'",
		    "a &amp; b &lt; c &gt; d &quot;e&quot; &#39;f&#39;");
	expect_html("\" onmouseover=\"alert(1)",
		    "&quot; onmouseover=&quot;alert(1)");
	/* already-escaped text is escaped again, not trusted */
	expect_html("&amp;&lt;", "&amp;amp;&amp;lt;");
	expect_html("<<>>", "&lt;&lt;&gt;&gt;");
}

static void test_html__control_chars_replaced(void **state)
{
	(void)state;
	expect_html("\x01", FFFD);
	expect_html("a\x1b[31mred", "a" FFFD "[31mred");
	expect_html("\x7f", FFFD);
	expect_html("\r", FFFD);
	expect_html("\x08\x0b\x0c\x1f", FFFD FFFD FFFD FFFD);
	/* newline and tab are kept as text whitespace */
	expect_html("a\nb\tc", "a\nb\tc");
}

static void test_html__invalid_utf8_replaced(void **state)
{
	(void)state;
	expect_html("\xff", FFFD);
	expect_html("\xfe", FFFD);
	expect_html("\xc3", FFFD);          /* truncated at the end */
	expect_html("abc\xc3", "abc" FFFD);
	expect_html("\xc3x", FFFD "x");     /* bad continuation */
	expect_html("\x80", FFFD);          /* lone continuation byte */
	expect_html("\xbf\x80", FFFD FFFD);
	expect_html("\xc0\xbc", FFFD FFFD); /* overlong '<' */
	expect_html("\xc1\xbf", FFFD FFFD);
	expect_html("\xe6\x97", FFFD FFFD); /* truncated 3-byte sequence */
	expect_html("\xf0\x9f\x98", FFFD FFFD FFFD);
	expect_html("\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD);
	expect_html("\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD);
	/* an invalid lead byte before a special is replaced and the special
	 * still escaped */
	expect_html("\xc3<", FFFD "&lt;");
	expect_html("\xe6\x97<", FFFD FFFD "&lt;");
}

static void test_html__ill_formed_utf8_replaced(void **state)
{
	(void)state;
	/* overlong '<', a UTF-16 surrogate, past U+10FFFF, a C1 control */
	expect_html("a\xe0\x80\xbc", "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	expect_html("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	expect_html("\xf4\x90\x80\x80",
		    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	expect_html("\xc2\x80", "\xef\xbf\xbd\xef\xbf\xbd");
	expect_html("\xc2\xa0\xf4\x8f\xbf\xbf", "\xc2\xa0\xf4\x8f\xbf\xbf");
}

static void test_html__valid_utf8_passes(void **state)
{
	(void)state;
	expect_html("\xc3\xa9", "\xc3\xa9");                 /* é */
	expect_html("caf\xc3\xa9", "caf\xc3\xa9");
	expect_html("\xe6\x97\xa5\xe6\x9c\xac",              /* 日本 */
		    "\xe6\x97\xa5\xe6\x9c\xac");
	expect_html("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"); /* U+1F600 */
	expect_html("\xc2\xa0", "\xc2\xa0");                 /* U+00A0 */
	expect_html("\xef\xbf\xbd", "\xef\xbf\xbd");         /* U+FFFD */
	expect_html("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
	expect_html("<\xc3\xa9>", "&lt;\xc3\xa9&gt;");
}

static void test_html__null_appends_nothing(void **state)
{
	struct pb_buf b;

	(void)state;
	pb_buf_init(&b, 100);
	assert_int_equal(pb_html_put(&b, NULL), PB_OK);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.ptr, "");
	assert_int_equal(pb_buf_puts(&b, "x"), PB_OK);
	assert_int_equal(pb_html_put(&b, NULL), PB_OK);
	assert_string_equal(b.ptr, "x");
	pb_buf_release(&b);
}

static void test_html__appends(void **state)
{
	struct pb_buf b;

	(void)state;
	pb_buf_init(&b, 100);
	assert_int_equal(pb_buf_puts(&b, "<td>"), PB_OK);
	assert_int_equal(pb_html_put(&b, "a<b"), PB_OK);
	assert_int_equal(pb_buf_puts(&b, "</td>"), PB_OK);
	assert_string_equal(b.ptr, "<td>a&lt;b</td>");
	pb_buf_release(&b);
}

static void test_html__cap_reported(void **state)
{
	struct pb_buf b;

	(void)state;
	/* escaping grows the text: a cap that holds the input but not the
	 * escaped form is reported, and what is kept is whole entities */
	pb_buf_init(&b, 6);
	assert_int_equal(pb_html_put(&b, "<<"), PB_ETOOBIG);
	assert_string_equal(b.ptr, "&lt;");
	pb_buf_release(&b);

	pb_buf_init(&b, 4);
	assert_int_equal(pb_html_put(&b, "ab\xc3\xa9"), PB_OK);
	assert_string_equal(b.ptr, "ab\xc3\xa9");
	assert_int_equal(pb_html_put(&b, "x"), PB_ETOOBIG);
	assert_string_equal(b.ptr, "ab\xc3\xa9");
	pb_buf_release(&b);

	/* a multibyte character is never split by the cap */
	pb_buf_init(&b, 3);
	assert_int_equal(pb_html_put(&b, "a\xe6\x97\xa5"), PB_ETOOBIG);
	assert_string_equal(b.ptr, "a");
	pb_buf_release(&b);
}

static void test_html__hostile_subject(void **state)
{
	static const char in[] =
		"Revert \"<img src=x onerror='alert(1)'>\" \xff\x01 & done";
	struct pb_buf b;

	(void)state;
	pb_buf_init(&b, 4096);
	assert_int_equal(pb_html_put(&b, in), PB_OK);
	assert_null(strchr(b.ptr, '<'));
	assert_null(strchr(b.ptr, '>'));
	assert_null(strchr(b.ptr, '"'));
	assert_null(strchr(b.ptr, '\''));
	assert_null(strchr(b.ptr, '\x01'));
	assert_null(strchr(b.ptr, '\xff'));
	assert_string_equal(b.ptr,
			    "Revert &quot;&lt;img src=x onerror=&#39;alert(1)"
			    "&#39;&gt;&quot; " FFFD FFFD " &amp; done");
	pb_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html__plain_text_unchanged),
		cmocka_unit_test(test_html__escapes_specials),
		cmocka_unit_test(test_html__control_chars_replaced),
		cmocka_unit_test(test_html__invalid_utf8_replaced),
		cmocka_unit_test(test_html__ill_formed_utf8_replaced),
		cmocka_unit_test(test_html__valid_utf8_passes),
		cmocka_unit_test(test_html__null_appends_nothing),
		cmocka_unit_test(test_html__appends),
		cmocka_unit_test(test_html__cap_reported),
		cmocka_unit_test(test_html__hostile_subject),
	};

	return cmocka_run_group_tests_name("html", tests, NULL, NULL);
}

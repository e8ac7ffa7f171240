/*
 * test_config.c - orchestrator/server/config.h: every kind of error with
 * its FILE:LINE text, values of every type, comments and quotes,
 * command-line overrides, derived defaults, the address parser, and the
 * example file and --help made from the one table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "orchestrator/server/config.h"
#include "common/util.h"

static char dir[] = "/tmp/pb-test-config-XXXXXX";

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return pb_rm_rf(dir);
}

/* Writes text to DIR/name; returns the path (malloc'd). */
static char *write_file(const char *name, const char *text)
{
	char *path = pb_path_join(dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Loads text as a file; returns the error lines with the directory cut
 * out ("c.conf:3: ..."), malloc'd. */
static char *load(struct pb_config *c, const char *text, int want_rc)
{
	struct pb_buf errs = PB_BUF_INIT(1 << 16), out = PB_BUF_INIT(1 << 16);
	char *path = write_file("c.conf", text);
	size_t dl = strlen(dir) + 1;
	const char *p;

	assert_int_equal(pb_config_init(c), 0);
	assert_int_equal(pb_config_load(c, path, &errs), want_rc);
	for (p = errs.ptr; *p;) {
		if (!strncmp(p, dir, dl - 1) && p[dl - 1] == '/')
			p += dl;
		while (*p && *p != '\n')
			pb_buf_put(&out, p++, 1);
		if (*p)
			pb_buf_put(&out, p++, 1);
	}
	pb_buf_release(&errs);
	free(path);
	return pb_buf_detach(&out);
}

static void test_config__defaults(void **state)
{
	struct pb_config c;
	struct pb_buf e = PB_BUF_INIT(4096);

	(void)state;
	assert_int_equal(pb_config_init(&c), 0);
	assert_int_equal(pb_config_finish(&c, "x", &e), 0);
	assert_string_equal(c.listen, "127.0.0.1:8630");
	assert_int_equal(c.allow_local_repos, 0);
	assert_int_equal(c.allow_private_notify, 0);
	assert_int_equal(c.report_requires_token, 0);
	assert_int_equal(c.max_body, 1 << 20);
	assert_int_equal(c.connection_timeout_s, 60);
	assert_int_equal(c.threads, 4);
	assert_int_equal(c.lease_s, 120);
	assert_int_equal(c.long_poll_s, 30);
	assert_int_equal(c.heartbeat_s, 30);
	assert_int_equal(c.restart_grace_s, 120);  /* = lease_s */
	assert_int_equal(c.max_lease_expiries, 3);
	assert_string_equal(e.ptr, "");
	pb_config_release(&c);
}

static void test_config__values_of_every_type(void **state)
{
	struct pb_config c;
	struct pb_buf e = PB_BUF_INIT(4096);
	char *errs;

	(void)state;
	errs = load(&c,
		    "# a comment\n"
		    "\n"
		    "   # an indented comment\n"
		    "listen = [::1]:0\n"
		    "db=/srv/pb.db\n"
		    "report_dir = \"/srv/a # b \"  # quoted: '#' kept\n"
		    "work_dir = /srv/w#x   # a '#' inside a word is kept\n"
		    "allow_local_repos = yes\n"
		    "allow_private_notify = On\n"
		    "report_requires_token = TRUE\n"
		    "log_requests = 0\n"
		    "max_body = 64k\n"
		    "connection_timeout_s = 2m\n"
		    "lease_s = 1h\r\n"
		    "long_poll_s = 5s\n"
		    "heartbeat_s = 10\n"
		    "threads = 8 # eight\n",
		    0);
	assert_string_equal(errs, "");
	assert_int_equal(pb_config_finish(&c, "c.conf", &e), 0);
	assert_string_equal(c.listen, "[::1]:0");
	assert_string_equal(c.db, "/srv/pb.db");
	assert_string_equal(c.report_dir, "/srv/a # b ");
	assert_string_equal(c.work_dir, "/srv/w#x");
	assert_int_equal(c.allow_local_repos, 1);
	assert_int_equal(c.allow_private_notify, 1);
	assert_int_equal(c.report_requires_token, 1);
	assert_int_equal(c.log_requests, 0);
	assert_int_equal(c.max_body, 65536);
	assert_int_equal(c.connection_timeout_s, 120);
	assert_int_equal(c.lease_s, 3600);
	assert_int_equal(c.long_poll_s, 5);
	assert_int_equal(c.threads, 8);
	assert_int_equal(c.restart_grace_s, 3600);
	free(errs);
	pb_config_release(&c);
}

static void test_config__every_error_with_its_line(void **state)
{
	struct pb_config c;
	char *errs;

	(void)state;
	errs = load(&c,
		    "lisen = 127.0.0.1:1\n"                  /* 1 */
		    "frobnicate = 1\n"                       /* 2 */
		    "threads = 100\n"                        /* 3 */
		    "threads = four\n"                       /* 4 */
		    "allow_local_repos = maybe\n"            /* 5 */
		    "lease_s = 5x\n"                         /* 6 */
		    "max_body = 2G\n"                        /* 7 */
		    "long_poll_s = 10\n"                     /* 8 */
		    "long_poll_s = 20\n"                     /* 9 */
		    "listen 127.0.0.1:80\n"                  /* 10 */
		    "db =\n"                                 /* 11 */
		    "listen = 1.2.3:80\n"                    /* 12 */
		    "listen = 127.0.0.1:65536\n"             /* 13 */
		    "work_dir = \"/open\n"                   /* 14 */
		    "connection_timout_s = 9\n"              /* 15 */
		    "= 3\n",                                 /* 16 */
		    PB_EINVAL);
	assert_string_equal(
		errs,
		"c.conf:1: unknown setting 'lisen' (did you mean 'listen'?)\n"
		"c.conf:2: unknown setting 'frobnicate' (`perfbisectd --help` "
		"lists them)\n"
		"c.conf:3: 'threads' is 100, out of bounds (1 to 64)\n"
		"c.conf:4: 'threads' takes a whole number, not 'four'\n"
		"c.conf:5: 'allow_local_repos' takes yes or no, not 'maybe'\n"
		"c.conf:6: 'lease_s' takes seconds (30, 90s, 5m, 2h, 1d), not "
		"'5x'\n"
		"c.conf:7: 'max_body' is 2GiB, out of bounds (1KiB to 1GiB)\n"
		"c.conf:9: 'long_poll_s' is set twice (first on line 8)\n"
		"c.conf:10: expected 'name = value', not 'listen "
		"127.0.0.1:80'\n"
		"c.conf:11: 'db' has no value (it takes text)\n"
		"c.conf:12: 'listen': '1.2.3' is not an IPv4 address (a name is "
		"not resolved; IPv6 goes in brackets)\n"
		"c.conf:13: 'listen': '127.0.0.1:65536': the port is not a "
		"number from 0 to 65535\n"
		"c.conf:14: 'work_dir': a quoted value must end with '\"'\n"
		"c.conf:15: unknown setting 'connection_timout_s' (did you mean "
		"'connection_timeout_s'?)\n"
		"c.conf:16: expected 'name = value', not '= 3'\n");
	/* the good lines are taken, the bad ones leave the defaults */
	assert_int_equal(c.long_poll_s, 10);
	assert_int_equal(c.threads, 4);
	assert_string_equal(c.listen, "127.0.0.1:8630");
	free(errs);
	pb_config_release(&c);
}

static void test_config__unreadable_file(void **state)
{
	struct pb_config c;
	struct pb_buf e = PB_BUF_INIT(4096);

	(void)state;
	assert_int_equal(pb_config_init(&c), 0);
	assert_int_equal(pb_config_load(&c, "/nonexistent/pb.conf", &e),
			 PB_EINVAL);
	assert_string_equal(e.ptr, "/nonexistent/pb.conf: cannot read: No "
				   "such file or directory\n");
	pb_buf_release(&e);
	pb_config_release(&c);
}

static void test_config__overrides_and_finish(void **state)
{
	struct pb_config c;
	struct pb_buf e = PB_BUF_INIT(4096);
	char *errs;

	(void)state;
	errs = load(&c, "listen = 127.0.0.1:1\nlease_s = 10\nheartbeat_s = 3\n",
		    0);
	free(errs);
	/* a flag after the file wins */
	assert_int_equal(pb_config_set(&c, "listen", "127.0.0.1:0", "--listen",
				       &e), 0);
	assert_string_equal(c.listen, "127.0.0.1:0");
	assert_int_equal(pb_config_set(&c, "threds", "2", "--set", &e),
			 PB_EINVAL);
	assert_int_equal(pb_config_set(&c, "threads", "0", "--set", &e),
			 PB_EINVAL);
	assert_string_equal(e.ptr,
			    "--set: unknown setting 'threds' (did you mean "
			    "'threads'?)\n"
			    "--set: 'threads' is 0, out of bounds (1 to 64)\n");
	pb_buf_reset(&e);
	/* restart_grace_s follows lease_s unless given */
	assert_int_equal(pb_config_finish(&c, "c.conf", &e), 0);
	assert_int_equal(c.restart_grace_s, 10);
	assert_int_equal(pb_config_set(&c, "restart_grace_s", "0", "--set", &e),
			 0);
	assert_int_equal(pb_config_finish(&c, "c.conf", &e), 0);
	assert_int_equal(c.restart_grace_s, 0);
	/* a heartbeat no shorter than the lease */
	assert_int_equal(pb_config_set(&c, "heartbeat_s", "10", "--set", &e), 0);
	assert_int_equal(pb_config_finish(&c, "c.conf", &e), PB_EINVAL);
	assert_string_equal(e.ptr, "c.conf: heartbeat_s (10) must be shorter "
				   "than lease_s (10): every lease would "
				   "expire\n");
	pb_buf_release(&e);
	pb_config_release(&c);
}

static void test_config__address(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;

	(void)state;
	assert_int_equal(pb_config_parse_address("127.0.0.1:8630", &ss, &len),
			 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8630);
	assert_int_equal(pb_config_parse_address("[::1]:0", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(pb_config_parse_address("localhost:80", &ss, &len),
			 PB_EINVAL);
	assert_int_equal(pb_config_parse_address("127.0.0.1", &ss, &len),
			 PB_EINVAL);
	assert_int_equal(pb_config_parse_address(":80", &ss, &len), PB_EINVAL);
	assert_int_equal(pb_config_parse_address("[::1]80", &ss, &len),
			 PB_EINVAL);
	assert_int_equal(pb_config_parse_address("1.2.3.4:-1", &ss, &len),
			 PB_EINVAL);
}

/* The example, commented and uncommented, is a valid file of the
 * defaults; --help names every setting with its default. */
static void test_config__example_and_help_from_the_table(void **state)
{
	struct pb_buf ex = PB_BUF_INIT(1 << 20), help = PB_BUF_INIT(1 << 20),
		      on = PB_BUF_INIT(1 << 20), e = PB_BUF_INIT(4096),
		      a = PB_BUF_INIT(4096), b = PB_BUF_INIT(4096);
	const struct pb_config_setting *t;
	struct pb_config c, d;
	char *errs;
	size_t n;

	(void)state;
	assert_int_equal(pb_config_example(&ex), 0);
	pb_buf_puts(&help, "\n");
	assert_int_equal(pb_config_help(&help), 0);
	errs = load(&c, ex.ptr, 0);
	assert_string_equal(errs, "");
	free(errs);
	pb_config_release(&c);
	/* uncomment every "#name = value" line */
	for (const char *p = ex.ptr; *p;) {
		size_t len = strcspn(p, "\n");

		if (p[0] == '#' && p[1] != ' ' && p[1] != '\n' &&
		    memchr(p, '=', len))
			pb_buf_put(&on, p + 1, len - 1);
		else
			pb_buf_put(&on, p, len);
		pb_buf_puts(&on, "\n");
		p += len + (p[len] == '\n');
	}
	errs = load(&c, on.ptr, 0);
	assert_string_equal(errs, "");
	free(errs);
	assert_int_equal(pb_config_finish(&c, "c.conf", &e), 0);
	assert_int_equal(pb_config_init(&d), 0);
	assert_int_equal(pb_config_finish(&d, "d", &e), 0);
	t = pb_config_table(&n);
	for (size_t i = 0; i < n; i++) {
		char want[128];

		pb_buf_reset(&a);
		pb_buf_reset(&b);
		pb_config_format(&c, &t[i], &a);
		pb_config_format(&d, &t[i], &b);
		assert_string_equal(a.ptr, b.ptr);
		snprintf(want, sizeof(want), "\n  %s (", t[i].name);
		assert_non_null(strstr(help.ptr, want));
		snprintf(want, sizeof(want), "\n#%s = ", t[i].name);
		assert_non_null(strstr(ex.ptr, want));
		assert_ptr_equal(pb_config_lookup(t[i].name), &t[i]);
	}
	assert_non_null(strstr(help.ptr, "  lease_s (seconds, 1 to 86400; "
					 "default 120)\n"));
	assert_non_null(strstr(help.ptr, "  max_body (a size, 1KiB to 1GiB; "
					 "default 1MiB)\n"));
	assert_non_null(strstr(help.ptr, "  restart_grace_s (seconds, 0 to "
					 "86400; default: the value of "
					 "lease_s)\n"));
	pb_config_release(&c);
	pb_config_release(&d);
	pb_buf_release(&ex);
	pb_buf_release(&help);
	pb_buf_release(&on);
	pb_buf_release(&e);
	pb_buf_release(&a);
	pb_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config__defaults),
		cmocka_unit_test(test_config__values_of_every_type),
		cmocka_unit_test(test_config__every_error_with_its_line),
		cmocka_unit_test(test_config__unreadable_file),
		cmocka_unit_test(test_config__overrides_and_finish),
		cmocka_unit_test(test_config__address),
		cmocka_unit_test(test_config__example_and_help_from_the_table),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

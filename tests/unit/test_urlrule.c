/*
 * test_urlrule.c - orchestrator/server/urlrule.h: which repository and
 * notification URLs perfbisectd takes, with allow_local_repos and
 * allow_private_notify off and on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/err.h"
#include "orchestrator/server/urlrule.h"
#include "common/util.h"

static void repo_ok(const char *url, int local)
{
	if (pb_url_check_repo(url, local) != PB_OK)
		fail_msg("'%s' (local %d) refused: %s", url, local,
			 pb_error_last());
}

static void repo_bad(const char *url, int local, const char *why)
{
	if (pb_url_check_repo(url, local) != PB_EINVAL)
		fail_msg("'%s' (local %d) accepted", url, local);
	if (!strstr(pb_error_last(), why))
		fail_msg("'%s': no '%s' in '%s'", url, why, pb_error_last());
}

static void test_urlrule__repo(void **state)
{
	(void)state;
	repo_ok("https://github.com/org/app.git", 0);
	repo_ok("HTTPS://github.com/org/app.git", 0);
	repo_ok("https://git.example.com:8443/app", 0);
	repo_ok("ssh://git@github.com/org/app.git", 0);
	repo_ok("git://git.kernel.org/pub/scm/git/git.git", 0);
	repo_ok("https://[2001:db8::1]/app.git", 0);
	/* local: only when allowed */
	repo_bad("/srv/git/app", 0, "allow_local_repos is off");
	repo_bad("file:///srv/git/app", 0, "allow_local_repos is off");
	repo_ok("/srv/git/app", 1);
	repo_ok("file:///srv/git/app", 1);
	repo_ok("file://localhost/srv/git/app", 1);
	repo_bad("file://host/srv/app", 1, "absolute path");
	repo_bad("srv/git/app", 1, "must be absolute");
	repo_bad("app", 0, "not a URL");
	/* other transports */
	repo_bad("http://github.com/org/app.git", 1, "use https://");
	repo_bad("ftp://h/app", 1, "only https://, ssh:// and git://");
	repo_bad("ext::sh -c touch% /tmp/x", 1, "blank");
	repo_bad("ext::sh", 1, "transport helpers");
	repo_bad("git@github.com:org/app.git", 1, "ssh://[user@]host/path");
	/* hosts */
	repo_bad("https:///app.git", 0, "has no host");
	repo_bad("https://user@/app.git", 0, "has no host");
	repo_bad("https://h:0/app", 0, "bad port");
	repo_bad("https://h:99999/app", 0, "bad port");
	repo_bad("https://h:/app", 0, "empty port");
	repo_bad("https://h%2f/app", 0, "not a host name");
	repo_bad("https://h/a b", 0, "blank");
	repo_bad("https://h/a\nb", 0, "control");
}

static void notify_ok(const char *url, int priv)
{
	if (pb_url_check_notify(url, priv) != PB_OK)
		fail_msg("'%s' (private %d) refused: %s", url, priv,
			 pb_error_last());
}

static void notify_bad(const char *url, int priv, const char *why)
{
	if (pb_url_check_notify(url, priv) != PB_EINVAL)
		fail_msg("'%s' (private %d) accepted", url, priv);
	if (!strstr(pb_error_last(), why))
		fail_msg("'%s': no '%s' in '%s'", url, why, pb_error_last());
}

static void test_urlrule__notify(void **state)
{
	static const char *const private_hosts[] = {
		"http://127.0.0.1/x", "http://127.9.9.9:8080/x",
		"http://10.1.2.3/", "http://172.16.0.1/", "http://172.31.255.1/",
		"http://192.168.1.1/", "http://169.254.169.254/latest",
		"http://100.64.0.1/", "http://0.0.0.0/", "http://224.0.0.1/",
		"http://[::1]/", "http://[::]/", "http://[fd00::1]/",
		"http://[fe80::1]/", "http://[::ffff:127.0.0.1]/",
		"http://[::ffff:10.0.0.1]/", "http://localhost/",
		"http://LOCALHOST./", "http://app.localhost/",
		/* the forms inet_aton (and curl) read as 127.0.0.1 */
		"http://2130706433/", "http://0x7f.1/", "http://127.1/",
		"http://017700000001/", "http://user:pw@127.0.0.1/",
	};

	(void)state;
	notify_ok("https://hooks.example.com/perf", 0);
	notify_ok("http://hooks.example.com:8080/perf?x=1", 0);
	notify_ok("https://93.184.216.34/x", 0);
	notify_ok("https://[2606:2800:220:1::1]/x", 0);
	notify_ok("https://172.32.0.1/x", 0);
	for (size_t i = 0; i < PB_ARRAY_SIZE(private_hosts); i++) {
		notify_bad(private_hosts[i], 0, "allow_private_notify is off");
		notify_ok(private_hosts[i], 1);
	}
	notify_bad("ftp://hooks.example.com/", 1, "http:// or https://");
	notify_bad("hooks.example.com/x", 1, "http:// or https://");
	notify_bad("https://", 1, "has no host");
	notify_bad("https://[::1/", 1, "unclosed");
	notify_bad("https://[zz::1]/", 0, "not a host name");
	notify_bad("https://a b/", 1, "blank");
}

static void test_urlrule__addresses(void **state)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr un = { .sa_family = AF_UNIX };

	(void)state;
	inet_pton(AF_INET, "8.8.8.8", &a4.sin_addr);
	assert_false(pb_addr_is_private((struct sockaddr *)&a4));
	inet_pton(AF_INET, "192.168.0.10", &a4.sin_addr);
	assert_true(pb_addr_is_private((struct sockaddr *)&a4));
	inet_pton(AF_INET6, "2001:4860:4860::8888", &a6.sin6_addr);
	assert_false(pb_addr_is_private((struct sockaddr *)&a6));
	inet_pton(AF_INET6, "64:ff9b::10.0.0.1", &a6.sin6_addr);
	assert_true(pb_addr_is_private((struct sockaddr *)&a6));
	assert_true(pb_addr_is_private(&un));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urlrule__repo),
		cmocka_unit_test(test_urlrule__notify),
		cmocka_unit_test(test_urlrule__addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

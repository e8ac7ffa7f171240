/*
 * urlrule.h - which URLs perfbisectd accepts (DESIGN.md section 3).
 *
 * A repository is fetched by the orchestrator and by every agent, so its
 * URL is a transport git can use safely: https://, ssh:// or git://, with
 * a host.  A local path (absolute) or file:// names a directory on the
 * machine that reads it, which only a test set-up makes the same on every
 * machine: those need allow_local_repos.  Every other form is refused,
 * git's "ext::" and scp-like "user@host:path" included (the message says
 * to write ssh://).
 *
 * A notify_url is where the orchestrator posts alerts: http:// or
 * https://, and not to this machine or its private network unless
 * allow_private_notify: a host that is an address literal (any form
 * inet_aton takes, [IPv6]) in a loopback, private, link-local, shared,
 * unspecified, multicast or reserved range, or "localhost", is refused.
 * A host name is not resolved here (its address may change): whoever
 * sends to it must check the address it connects to with
 * pb_addr_is_private().
 */
#ifndef PB_URLRULE_H
#define PB_URLRULE_H

#include <sys/socket.h>

/* PB_OK, or PB_EINVAL with a message for the client. */
int pb_url_check_repo(const char *url, int allow_local);
int pb_url_check_notify(const char *url, int allow_private);

/* 1 when the address is one a notification must not reach without
 * allow_private_notify (see above); IPv4-mapped IPv6 is judged as IPv4. */
int pb_addr_is_private(const struct sockaddr *sa);

#endif

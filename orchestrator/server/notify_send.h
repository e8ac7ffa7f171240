/*
 * notify_send.h - perfbisectd's delivery of notifications: a thread that
 * posts the outbox's pending messages (orchestrator/notify.h) to their
 * URLs with libcurl and records each attempt (docs/notifications.md).
 */
#ifndef PB_NOTIFY_SEND_H
#define PB_NOTIFY_SEND_H

#include "orchestrator/server/srv.h"

/* A registrar of main.c (srv.h's pb_srv_register_fn): registers no route;
 * starts the delivery thread, stopped and joined by pb_srv_at_stop() when
 * the server stops (an attempt in flight is abandoned, its message stays
 * pending for the next start).  PB_EINFRA when libcurl or the thread
 * cannot start. */
int pb_notify_register(struct pb_http_server *http, struct pb_srv *srv);

#endif

-- 0014-outbox: notifications waiting to be delivered, and those that were
-- (docs/notifications.md).
--
-- A message is written in the same transaction as the event it announces
-- (a bisection that ended, an alert raised), so an event is never stored
-- without its message or the other way round; perfbisectd's delivery
-- thread posts it to `url` (the repository's notify_url when it was
-- written) and keeps trying with back-off until a 2xx answer.  `body` is
-- the exact bytes sent every time, so a receiver sees the same delivery
-- id and signature on a retry and can drop the copy.  `delivery` is that
-- id (X-Perfbisect-Delivery).
--
-- state: pending (next_attempt_at says when), delivered (delivered_at),
-- failed (given up after too many attempts or too long: gave_up_at, with
-- the last error kept).  Rows are kept after delivery as the record of
-- what was sent.

CREATE TABLE outbox (
	id               INTEGER PRIMARY KEY,
	delivery         TEXT NOT NULL UNIQUE,
	repo_id          INTEGER NOT NULL REFERENCES repositories(id),
	url              TEXT NOT NULL,
	event            TEXT NOT NULL,
	body             BLOB NOT NULL,
	state            TEXT NOT NULL DEFAULT 'pending'
	                 CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts         INTEGER NOT NULL DEFAULT 0,
	next_attempt_at  REAL,
	last_attempt_at  REAL,
	last_status      INTEGER,
	last_error       TEXT,
	delivered_at     REAL,
	gave_up_at       REAL,
	created_at       REAL NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id)
	WHERE state = 'pending';

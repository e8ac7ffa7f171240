/*
 * token.h - the bearer tokens of perfbisectd (DESIGN.md section 3).
 *
 * A token is a kind prefix ("pba_" for agents, "pbc_" for clients, so a
 * token pasted in the wrong place is recognisable) and 32 bytes from
 * OpenSSL's RAND_bytes in base64url without padding: 47 characters.  It is
 * shown once, when `perfbisectd --add-agent/--add-client` makes it; the
 * database keeps only its SHA-256 digest.  A presented token is hashed and
 * looked up by digest; the stored digest is compared again with
 * CRYPTO_memcmp, so no comparison of secret bytes takes a time that
 * depends on where they differ (the indexed lookup itself sees only the
 * digest of what the caller sent, which tells an attacker nothing about a
 * stored token).  Tokens are never logged.
 */
#ifndef PB_TOKEN_H
#define PB_TOKEN_H

#include <stddef.h>

#include "orchestrator/db.h"
#include "orchestrator/principal.h"

#define PB_TOKEN_AGENT_PREFIX "pba_"
#define PB_TOKEN_CLIENT_PREFIX "pbc_"
#define PB_TOKEN_RANDOM_BYTES 32
/* prefix + base64url of 32 bytes without padding */
#define PB_TOKEN_LEN (4 + 43)

/* Makes a new token of the kind into out (PB_TOKEN_LEN + 1 bytes, NUL
 * terminated).  PB_ERROR when the random generator fails. */
int pb_token_new(char out[PB_TOKEN_LEN + 1], enum pb_principal_kind kind);

/* The kind a token's prefix names, or PB_PRINCIPAL_NONE when `token` is
 * not a well-formed token (wrong length, prefix or characters). */
enum pb_principal_kind pb_token_kind(const char *token);

/* SHA-256 of the token's text (prefix included). */
int pb_token_hash(unsigned char out[PB_TOKEN_HASH_LEN], const char *token);

/* 1 when the digests are equal, compared in constant time. */
int pb_token_hash_equal(const unsigned char a[PB_TOKEN_HASH_LEN],
			const unsigned char b[PB_TOKEN_HASH_LEN]);

/* Who holds `token`: PB_OK with *out filled when a principal whose kind
 * matches the token's prefix holds it and it is not revoked; PB_ENOTFOUND
 * with a message for a person ("malformed token", "unknown token",
 * "revoked token") otherwise; PB_EINFRA/PB_ERROR when the database fails.
 * The caller serialises access to db. */
int pb_token_check(struct pb_db *db, const char *token,
		   struct pb_principal *out);

/* 1 when `name` may name a principal: 1 to PB_PRINCIPAL_NAME_MAX letters,
 * digits, '.', '_' or '-', not starting with '-' or '.'. */
int pb_principal_name_ok(const char *name);

#endif

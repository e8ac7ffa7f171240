/*
 * token.c - bearer tokens: made with RAND_bytes, stored as SHA-256,
 * compared with CRYPTO_memcmp (see token.h).
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "common/err.h"
#include "orchestrator/server/token.h"
#include "common/util.h"

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url of n bytes without padding into out (4 * n / 3 rounded up,
 * plus the terminator). */
static void encode_b64url(char *out, const unsigned char *in, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 |
			     in[i + 2];

		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)in[i] << 16;

		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;

		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
	}
	out[o] = '\0';
}

int pb_token_new(char out[PB_TOKEN_LEN + 1], enum pb_principal_kind kind)
{
	unsigned char raw[PB_TOKEN_RANDOM_BYTES];
	int rc = PB_OK;

	out[0] = '\0';
	if (kind != PB_PRINCIPAL_AGENT && kind != PB_PRINCIPAL_CLIENT)
		return pb_error_code(PB_EINVAL, "a token is an agent's or a "
				     "client's");
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return pb_error_set("the random generator failed");
	memcpy(out, kind == PB_PRINCIPAL_AGENT ? PB_TOKEN_AGENT_PREFIX
					       : PB_TOKEN_CLIENT_PREFIX,
	       4);
	encode_b64url(out + 4, raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	if (strlen(out) != PB_TOKEN_LEN)
		rc = pb_error_set("token of the wrong length");
	return rc;
}

enum pb_principal_kind pb_token_kind(const char *token)
{
	enum pb_principal_kind kind;

	if (!token || strlen(token) != PB_TOKEN_LEN)
		return PB_PRINCIPAL_NONE;
	if (!memcmp(token, PB_TOKEN_AGENT_PREFIX, 4))
		kind = PB_PRINCIPAL_AGENT;
	else if (!memcmp(token, PB_TOKEN_CLIENT_PREFIX, 4))
		kind = PB_PRINCIPAL_CLIENT;
	else
		return PB_PRINCIPAL_NONE;
	for (const char *p = token + 4; *p; p++)
		if (!strchr(b64url, *p))
			return PB_PRINCIPAL_NONE;
	return kind;
}

int pb_token_hash(unsigned char out[PB_TOKEN_HASH_LEN], const char *token)
{
	unsigned int n = 0;

	if (EVP_Digest(token, strlen(token), out, &n, EVP_sha256(), NULL) !=
		    1 ||
	    n != PB_TOKEN_HASH_LEN)
		return pb_error_set("SHA-256 failed");
	return PB_OK;
}

int pb_token_hash_equal(const unsigned char a[PB_TOKEN_HASH_LEN],
			const unsigned char b[PB_TOKEN_HASH_LEN])
{
	return CRYPTO_memcmp(a, b, PB_TOKEN_HASH_LEN) == 0;
}

int pb_token_check(struct pb_db *db, const char *token,
		   struct pb_principal *out)
{
	unsigned char hash[PB_TOKEN_HASH_LEN];
	struct pb_principal_row row;
	enum pb_principal_kind kind = pb_token_kind(token);
	int rc;

	memset(out, 0, sizeof(*out));
	if (kind == PB_PRINCIPAL_NONE)
		return pb_error_code(PB_ENOTFOUND, "malformed token");
	if ((rc = pb_token_hash(hash, token)) < 0)
		return rc;
	rc = pb_db_principal_by_hash(db, hash, &row);
	if (rc == PB_ENOTFOUND)
		return pb_error_code(rc, "unknown token");
	if (rc < 0)
		return rc;
	if (!pb_token_hash_equal(row.token_hash, hash) || row.kind != kind)
		return pb_error_code(PB_ENOTFOUND, "unknown token");
	if (row.revoked)
		return pb_error_code(PB_ENOTFOUND, "revoked token");
	out->kind = row.kind;
	out->id = row.id;
	pb_strlcpy(out->name, row.name, sizeof(out->name));
	out->admin = row.kind == PB_PRINCIPAL_CLIENT && row.admin;
	return PB_OK;
}

int pb_principal_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > PB_PRINCIPAL_NAME_MAX || name[0] == '-' ||
	    name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

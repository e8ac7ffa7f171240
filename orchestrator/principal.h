/*
 * principal.h - who is calling perfbisectd: an agent (a benchmark machine)
 * or a client (CI, a person; an admin client may register what agents
 * run).  Shared by the storage (db.h), the tokens (server/token.h) and the
 * HTTP layer (server/http.h), which hands it to every handler.
 */
#ifndef PB_PRINCIPAL_H
#define PB_PRINCIPAL_H

#include <stdint.h>

enum pb_principal_kind {
	PB_PRINCIPAL_NONE = 0,     /* no token: an open route (healthz) */
	PB_PRINCIPAL_AGENT = 1,
	PB_PRINCIPAL_CLIENT = 2,
};

#define PB_PRINCIPAL_NAME_MAX 64

struct pb_principal {
	enum pb_principal_kind kind;
	int64_t id;                /* principals.id; 0 for NONE */
	char name[PB_PRINCIPAL_NAME_MAX + 1];  /* "" for NONE */
	int admin;                 /* clients only */
};

#endif

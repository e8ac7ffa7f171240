/*
 * embed.h - files compiled into the programs (the schema, the demo's
 * sample sources), generated at build time by tools/embed.sh.
 */
#ifndef PB_EMBED_H
#define PB_EMBED_H

#include <stddef.h>

struct pb_embedded {
	const char *name;     /* file name without directories */
	const char *content;  /* whole file, NUL-terminated */
};

#endif

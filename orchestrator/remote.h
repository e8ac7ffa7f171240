/*
 * remote.h - the command line against perfbisectd: `perfbisect bisect
 * --server`, `perfbisect status`, `perfbisect cancel` (DESIGN.md section
 * 3).  The client token comes from --token-file FILE or the environment
 * variable PERFBISECT_TOKEN.  Every function prints what a person or a
 * script reads (the same --json object and exit codes as --local) and
 * returns the exit status.
 */
#ifndef PB_REMOTE_H
#define PB_REMOTE_H

struct pb_remote_opts {
	const char *server;      /* http(s)://HOST:PORT */
	const char *token_file;  /* NULL: $PERFBISECT_TOKEN */
	int json, quiet;
	double poll_s;           /* --wait: how often the state is read (2) */
};

struct pb_remote_bisect {
	const char *repo, *benchmark, *good, *bad, *config;
	double confidence;       /* 0: the server's default */
	unsigned max_runs;       /* 0: the server's default */
	unsigned long long seed; /* 0: the server's default */
	double min_effect;       /* 0: the server's default */
	int wait;                /* until a verdict, then exit as --local */
};

/* Starts a bisection; without wait prints its id (or {"id": N, ...} with
 * --json) and exits 0. */
int pb_remote_bisect(const struct pb_remote_opts *o,
		     const struct pb_remote_bisect *b);
struct pb_remote_compare {
	const char *repo, *benchmark, *base, *head;
	double min_effect;       /* 0: the server's default (0.03) */
	int wait;                /* until the answer, then exit by it */
};

/* Starts a compare (POST /api/v1/compare); without wait prints its id (or
 * the 201 body with --json) and exits 0; with wait follows it and exits 0
 * no_difference or faster, 1 slower, inconclusive or cancelled, 2 input
 * error, 3 infrastructure. */
int pb_remote_compare(const struct pb_remote_opts *o,
		      const struct pb_remote_compare *c);
/* One bisection's or compare's state (id > 0), or the list (id 0). */
int pb_remote_status(const struct pb_remote_opts *o, long long id);
int pb_remote_cancel(const struct pb_remote_opts *o, long long id);

/* `perfbisect merge`: POST /api/v1/merges {repo, commit}; prints the
 * answer (on stdout with --json, else on stderr unless quiet).  0 queued
 * (or known already), 2 refused, 3 the server unreachable. */
int pb_remote_merge(const struct pb_remote_opts *o, const char *repo,
		    const char *commit);

#endif

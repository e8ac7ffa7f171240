/*
 * demo.h - `perfbisect demo`: builds a sample repository through libgit2
 * from sources compiled into the program (demo/), with one commit that adds
 * real work to the benchmark's hot path, then bisects it as
 * `bisect --local` does.
 */
#ifndef PB_DEMO_H
#define PB_DEMO_H

struct pb_demo_opts {
	const char *out;  /* directory for the repository, state and report */
	int json;
	int quiet;
};

/* Returns the exit status: 0 when the planted commit was found, 1 when
 * not, 2 for bad input (DIR exists and is not a demo directory), 3 for
 * infrastructure errors. */
int pb_demo_run(const struct pb_demo_opts *o);

#endif

/*
 * rng.h - the project's one seeded generator: splitmix64 (to spread a seed)
 * and xoshiro256** (Blackman and Vigna), header-only.  Used by the engine
 * to break ties, by bench/bisect-sim for synthetic histories and by
 * tools/gen-dip-table.c for the dip test's null distribution; the committed
 * dip table depends on this exact sequence, so change it only together with
 * `make dip-table`.
 */
#ifndef PB_RNG_H
#define PB_RNG_H

#include <stdint.h>

/* Advances *s and returns the next splitmix64 output. */
static inline uint64_t pb_splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t pb_rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Seeds a xoshiro256** state from one 64-bit seed. */
static inline void pb_xoshiro_seed(uint64_t s[4], uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		s[i] = pb_splitmix64(&seed);
}

static inline uint64_t pb_xoshiro(uint64_t s[4])
{
	uint64_t r = pb_rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = pb_rotl64(s[3], 45);
	return r;
}

/* Uniform in [0, 1), 53 random bits. */
static inline double pb_xoshiro_unif(uint64_t s[4])
{
	return (double)(pb_xoshiro(s) >> 11) * 0x1.0p-53;
}

#endif

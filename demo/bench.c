/*
 * kvbench - the sample repository's benchmark: an open-addressing hash
 * table of 2^16 slots, filled half full, then 2^22 lookups of random
 * present keys in batches.  Prints lookups per CPU-second (CPU time, so a
 * busy neighbour on the machine does not move the number much).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "version.h"

#define TABLE_BITS 16
#define TABLE_SIZE (1u << TABLE_BITS)
#define BATCH 4096u
#define LOOKUPS (1u << 22)

struct slot {
	uint64_t key;
	uint64_t value;
};

static struct slot table[TABLE_SIZE];

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static void insert(uint64_t key, uint64_t value)
{
	uint32_t i = (uint32_t)mix(key) & (TABLE_SIZE - 1);

	while (table[i].key && table[i].key != key)
		i = (i + 1) & (TABLE_SIZE - 1);
	table[i].key = key;
	table[i].value = value;
}

static uint64_t lookup(uint64_t key)
{
	uint32_t i = (uint32_t)mix(key) & (TABLE_SIZE - 1);

	while (table[i].key != key) {
		if (!table[i].key)
			return 0;
		i = (i + 1) & (TABLE_SIZE - 1);
	}
	return table[i].value;
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	uint64_t sum = 0, seed = 42;
	double t0, t1;
	unsigned n;

	for (n = 1; n <= TABLE_SIZE / 2; n++)
		insert(n, mix(n));
	t0 = cpu_seconds();
	for (n = 0; n < LOOKUPS; n += BATCH) {
		for (unsigned k = 0; k < BATCH; k++) {
			seed = mix(seed + k);
			sum += lookup(1 + seed % (TABLE_SIZE / 2));
		}
		/* @VERIFY@ */
	}
	t1 = cpu_seconds();
	printf("version: %s\n", KVBENCH_VERSION);
	printf("lookups: %u\n", LOOKUPS);
	printf("throughput: %.0f lookups/s\n", LOOKUPS / (t1 - t0));
	printf("checksum: %llu\n", (unsigned long long)(sum & 0xffff));
	return 0;
}

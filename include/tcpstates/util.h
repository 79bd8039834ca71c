/* Small helpers the core's tables share. */
#ifndef TCPSTATES_UTIL_H
#define TCPSTATES_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Hash finalizers: spread sequential keys (inodes, pids, socket
 * cookies) over a power-of-two table. */
static inline uint32_t tcps_mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	return x ^ (x >> 16);
}

static inline uint64_t tcps_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/*
 * Grows *array (of *cap elements) to hold at least want elements, keeping
 * its contents; capacity doubles so appending one at a time stays cheap.
 * Returns 0 or -ENOMEM (then *array and *cap are untouched).
 */
int tcps_grow(void **array, size_t *cap, size_t want, size_t elem_size);

/*
 * As tcps_grow, and gives memory back once the need has fallen: when
 * want is under a quarter of the capacity (and the capacity above the
 * first one), *array shrinks to twice want, keeping its first elements.
 * Tables sized for one read use it so that a burst is not held forever.
 * Returns 0 or -ENOMEM (a shrink that fails keeps the larger array).
 */
int tcps_fit(void **array, size_t *cap, size_t want, size_t elem_size);

#endif

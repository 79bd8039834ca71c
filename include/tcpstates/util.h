/* Small helpers the core's tables share. */
#ifndef TCPSTATES_UTIL_H
#define TCPSTATES_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
 * Linear probing in a power-of-two table of cap slots of slot_size bytes:
 * the index of the first slot, from hash on, for which stop(slot, key)
 * is true: the key's own slot or the empty one where it would go. Every
 * table of the core probes with it. The caller keeps at least one slot
 * empty, so that the probe ends.
 */
typedef bool tcps_probe_stop_fn(const void *slot, const void *key);

static inline size_t tcps_probe(const void *slots, size_t slot_size, size_t cap,
				uint64_t hash, tcps_probe_stop_fn *stop,
				const void *key)
{
	size_t mask = cap - 1;

	for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask)
		if (stop((const char *)slots + i * slot_size, key))
			return i;
}

/*
 * The next set bit at or after from in an array of words (bit b of word
 * w is number w * 64 + b), or words * 64 when there is none. Walks port
 * sets in ascending port order.
 */
static inline size_t tcps_next_bit(const uint64_t *bits, size_t words,
				   size_t from)
{
	size_t w = from / 64;
	uint64_t rest;

	if (w >= words)
		return words * 64;
	rest = bits[w] & (~(uint64_t)0 << (from % 64));
	while (!rest) {
		if (++w == words)
			return words * 64;
		rest = bits[w];
	}
	return w * 64 + (size_t)__builtin_ctzll(rest);
}

/*
 * Reads at most size - 1 bytes of the small file at path, relative to
 * the folder dir_fd (AT_FDCWD: the working folder), in one read, and ends
 * them with a NUL: the /proc files the core reads. Returns the length,
 * or -errno.
 */
ssize_t tcps_read_small_at(int dir_fd, const char *path, char *buf,
			   size_t size);

/* The same from the start of a file kept open (a /proc file shows its
 * contents anew at each read from offset 0). */
ssize_t tcps_pread_small(int fd, char *buf, size_t size);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t tcps_monotonic_ms(void);

/*
 * Reads the decimal digits from p up to end (at least one) as a number
 * no larger than max. Returns the first character after them, or NULL
 * when there is no digit or the number exceeds max (*ret untouched).
 * No strtoul: it is called for every open file of a scanned process.
 */
const char *tcps_parse_decimal(const char *p, const char *end, uint64_t max,
			       uint64_t *ret);

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

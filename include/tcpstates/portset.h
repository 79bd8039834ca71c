/* A set of TCP ports: one bit per port, O(1) membership. */
#ifndef TCPSTATES_PORTSET_H
#define TCPSTATES_PORTSET_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tcpstates/util.h"

#define TCPS_PORT_COUNT 65536u

struct tcps_port_set {
	uint64_t bits[TCPS_PORT_COUNT / 64];
};

static inline void tcps_port_set_clear(struct tcps_port_set *set)
{
	memset(set, 0, sizeof(*set));
}

static inline void tcps_port_set_add(struct tcps_port_set *set, uint16_t port)
{
	set->bits[port >> 6] |= (uint64_t)1 << (port & 63);
}

static inline void tcps_port_set_remove(struct tcps_port_set *set,
					uint16_t port)
{
	set->bits[port >> 6] &= ~((uint64_t)1 << (port & 63));
}

static inline bool tcps_port_set_has(const struct tcps_port_set *set,
				     uint16_t port)
{
	return (set->bits[port >> 6] >> (port & 63)) & 1;
}

/* The lowest port of set at or above from; TCPS_PORT_COUNT when none. */
static inline uint32_t tcps_port_set_next(const struct tcps_port_set *set,
					  uint32_t from)
{
	return (uint32_t)tcps_next_bit(set->bits, TCPS_PORT_COUNT / 64, from);
}

/* Every port of set, in ascending order. */
#define TCPS_PORT_SET_FOREACH(port, set)                                       \
	for (uint32_t port = tcps_port_set_next((set), 0);                     \
	     port < TCPS_PORT_COUNT;                                           \
	     port = tcps_port_set_next((set), port + 1))

/* How many ports set holds. */
static inline uint32_t tcps_port_set_count(const struct tcps_port_set *set)
{
	uint32_t n = 0;

	for (size_t w = 0; w < TCPS_PORT_COUNT / 64; w++)
		n += (uint32_t)__builtin_popcountll(set->bits[w]);
	return n;
}

/* The ports in a or b, in *ret. */
static inline void tcps_port_set_union(const struct tcps_port_set *a,
				       const struct tcps_port_set *b,
				       struct tcps_port_set *ret)
{
	for (size_t w = 0; w < TCPS_PORT_COUNT / 64; w++)
		ret->bits[w] = a->bits[w] | b->bits[w];
}

/* The ports in exactly one of a and b, in *ret. */
static inline void tcps_port_set_xor(const struct tcps_port_set *a,
				     const struct tcps_port_set *b,
				     struct tcps_port_set *ret)
{
	for (size_t w = 0; w < TCPS_PORT_COUNT / 64; w++)
		ret->bits[w] = a->bits[w] ^ b->bits[w];
}

/* The ports of a that are not in b, in *ret. */
static inline void tcps_port_set_minus(const struct tcps_port_set *a,
				       const struct tcps_port_set *b,
				       struct tcps_port_set *ret)
{
	for (size_t w = 0; w < TCPS_PORT_COUNT / 64; w++)
		ret->bits[w] = a->bits[w] & ~b->bits[w];
}

#endif

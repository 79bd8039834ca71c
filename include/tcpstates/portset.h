/* A set of TCP ports: one bit per port, O(1) membership. */
#ifndef TCPSTATES_PORTSET_H
#define TCPSTATES_PORTSET_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct tcps_port_set {
	uint64_t bits[65536 / 64];
};

static inline void tcps_port_set_clear(struct tcps_port_set *set)
{
	memset(set, 0, sizeof(*set));
}

static inline void tcps_port_set_add(struct tcps_port_set *set, uint16_t port)
{
	set->bits[port >> 6] |= (uint64_t)1 << (port & 63);
}

static inline bool tcps_port_set_has(const struct tcps_port_set *set,
				     uint16_t port)
{
	return (set->bits[port >> 6] >> (port & 63)) & 1;
}

#endif

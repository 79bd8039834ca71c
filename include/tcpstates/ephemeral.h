/*
 * Ephemeral ports and TIME_WAIT: how close each destination is to running
 * out of local ports, with the port sysctls (sysctls.h) that bound them.
 *
 * The kernel picks a local port for connect() so that the 4-tuple is
 * unique: the pool runs dry per (local address, remote address, remote
 * port), long before the whole range is used.
 */
#ifndef TCPSTATES_EPHEMERAL_H
#define TCPSTATES_EPHEMERAL_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpstates/portset.h"
#include "tcpstates/record.h"
#include "tcpstates/sink.h"
#include "tcpstates/sysctls.h"

/* Largest MaxDestinations accepted: 2^20 destinations, about 100 MiB. */
#define TCPS_EPHEMERAL_MAX_DESTINATIONS 1048576u
/* Destinations in WARNING remembered across intervals. */
#define TCPS_EPHEMERAL_MAX_WARNED 1024u

struct tcps_ephemeral_config {
	double warning_percent;	   /* PortExhaustionWarning: 0 < x <= 100 */
	uint32_t max_destinations; /* MaxDestinations: 1..2^20 */
};

struct tcps_ephemeral;

/*
 * Creates an observer. Returns 0 and sets *ret, -EINVAL for a config out
 * of range, or -ENOMEM. The destination table is sized once from
 * max_destinations; its pages are only touched as destinations appear.
 */
int tcps_ephemeral_new(const struct tcps_ephemeral_config *cfg,
		       struct tcps_ephemeral **ret);

/* Frees the observer; accepts NULL. */
void tcps_ephemeral_free(struct tcps_ephemeral *e);

/*
 * Starts an interval, forgetting any unfinished one. sys is copied; NULL
 * when the sysctls could not be read: then nothing that depends on them is
 * emitted (ports, percentages, sysctls), only the TIME_WAIT counts, and
 * the notification state is kept as it is.
 */
void tcps_ephemeral_begin(struct tcps_ephemeral *e,
			  const struct tcps_sysctls *sys);

/* Counts one record of the dump. */
void tcps_ephemeral_observe(struct tcps_ephemeral *e,
			    const struct tcps_record *rec);

/*
 * Ends a successful dump: emits the values, then a WARNING for each
 * destination that reached the warning level and an OKAY for each that
 * left it. listening holds the ports with a LISTEN socket this interval
 * (TIME_WAIT on them is the server side); NULL when unknown, then the
 * server/client split is not emitted.
 */
void tcps_ephemeral_end(struct tcps_ephemeral *e,
			const struct tcps_port_set *listening,
			const struct tcps_sink *sink);

/* Discards the interval after a failed dump: nothing emitted, the
 * notification state kept. */
void tcps_ephemeral_abort(struct tcps_ephemeral *e);

/*
 * What the bounds cost in the interval last begun: sockets whose
 * destination found no room in the full table, plus destinations that
 * reached the warning level but got no WARNING because
 * TCPS_EPHEMERAL_MAX_WARNED are already remembered.
 */
uint64_t tcps_ephemeral_overflow(const struct tcps_ephemeral *e);

/* Slots the destination table has now (a slot is about 48 bytes), so that
 * tests can hold its memory to its bounds. */
uint32_t tcps_ephemeral_slots(const struct tcps_ephemeral *e);

#endif

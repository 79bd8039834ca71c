/*
 * Stuck senders: connections whose peer stopped acknowledging or stopped
 * reading, and the bytes waiting for an acknowledgement.
 */
#ifndef TCPSTATES_STUCK_H
#define TCPSTATES_STUCK_H

#include <stdint.h>

#include "tcpstates/record.h"
#include "tcpstates/sink.h"

struct tcps_stuck_config {
	/* RetransmitThreshold: retransmits of one segment before it counts. */
	uint32_t retransmit_threshold;
};

struct tcps_stuck;

/* Creates an observer. Returns 0 and sets *ret, or -ENOMEM. */
int tcps_stuck_new(const struct tcps_stuck_config *cfg,
		   struct tcps_stuck **ret);

/* Frees the observer; accepts NULL. */
void tcps_stuck_free(struct tcps_stuck *s);

/* Starts an interval, forgetting any unfinished one. */
void tcps_stuck_begin(struct tcps_stuck *s);

/* Counts one record of the dump. */
void tcps_stuck_observe(struct tcps_stuck *s, const struct tcps_record *rec);

/*
 * Ends a successful dump: emits in the value set "stuck", zeros
 * included, tcp_connections-retransmitting (ESTABLISHED sockets with the
 * retransmit timer running and more retransmits of the current segment
 * than the threshold), tcp_connections-zero_window (sockets, any state,
 * probing a peer that advertised a zero window) and bytes-unacknowledged
 * (data sent and not yet acknowledged, over all non-LISTEN sockets; the
 * SYN or FIN the kernel counts in the send queue is not data and is left
 * out). No notifications.
 */
void tcps_stuck_end(struct tcps_stuck *s, const struct tcps_sink *sink);

/* Discards the interval after a failed dump: nothing emitted. */
void tcps_stuck_abort(struct tcps_stuck *s);

#endif

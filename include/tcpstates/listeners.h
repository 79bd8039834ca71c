/*
 * Listening ports: accept queue, backlog and half-open handshakes per port,
 * and a notification when a port's accept queue overflows.
 *
 * On a LISTEN socket the kernel reports the accept-queue length as rqueue
 * and the backlog limit as wqueue; it drops new connections once the
 * queue is longer than the backlog. Several LISTEN sockets may share a
 * port (IPv4 and IPv6, SO_REUSEPORT, different addresses): they are
 * summed, and the port is full when any one of them is.
 */
#ifndef TCPSTATES_LISTENERS_H
#define TCPSTATES_LISTENERS_H

#include <stdint.h>

#include "tcpstates/portset.h"
#include "tcpstates/record.h"
#include "tcpstates/sink.h"

struct tcps_listeners_config {
	/* TopListeners: how many ports get their own values; 0: only the
	 * "listen" totals are emitted. */
	uint32_t top_n;
};

struct tcps_listeners;

/*
 * Creates an observer. Returns 0 and sets *ret, or -ENOMEM. Per-port
 * tables for all 65536 ports are allocated here, once; their pages are
 * only touched as ports appear, and observing never allocates.
 */
int tcps_listeners_new(const struct tcps_listeners_config *cfg,
		       struct tcps_listeners **ret);

/* Frees the observer; accepts NULL. */
void tcps_listeners_free(struct tcps_listeners *listeners);

/* Starts an interval, forgetting any unfinished one. */
void tcps_listeners_begin(struct tcps_listeners *listeners);

/* Counts one record: LISTEN sockets and SYN_RECV handshakes. */
void tcps_listeners_observe(struct tcps_listeners *listeners,
			    const struct tcps_record *rec);

/*
 * Ends a successful dump. Emits, for the top_n listening ports ranked by
 * accept queue / backlog (ties: longer queue, then lower port), the port
 * as type instance: set "listen_queue" queue_length-<port>,
 * "listen_backlog" queue_length-<port> and "listen_syn_recv"
 * tcp_connections-<port>; and always, in set "listen": count-full_queues
 * and count-listening_ports. Then one WARNING (listen_queue,
 * queue_length-<port>) for each port whose queue became full, and one OKAY
 * for each port that was full and no longer is or no longer listens,
 * whatever top_n is.
 */
void tcps_listeners_end(struct tcps_listeners *listeners,
			const struct tcps_sink *sink);

/* Discards the interval after a failed dump: nothing emitted, the
 * notification state kept, the listening set emptied. */
void tcps_listeners_abort(struct tcps_listeners *listeners);

/*
 * Ports with a LISTEN socket in the interval being observed: complete once
 * the last record was observed, and still valid after end(). Empty after
 * abort(), since a failed dump may have missed some.
 */
const struct tcps_port_set *
tcps_listeners_ports(const struct tcps_listeners *listeners);

#endif

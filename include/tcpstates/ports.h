/*
 * Per-port counts compatible with collectd's tcpconns plugin, so that an
 * operator switches with the same options and values.
 *
 * Sets "local_<state>" (state in lower case) count, per state, every
 * socket whose local port is the port (the LISTEN socket itself, its
 * accepted connections, TIME_WAIT and SYN_RECV included), with the port
 * as type instance; "remote_<state>" every socket whose remote port is.
 * Set "all" counts every socket per state, whatever its ports, with the
 * state as type instance. Type tcp_connections, the 11 states, zeros
 * included.
 * Records with a state number outside 1..11 are left out of all of them,
 * as tcpconns leaves them out.
 */
#ifndef TCPSTATES_PORTS_H
#define TCPSTATES_PORTS_H

#include <stdbool.h>

#include "tcpstates/portset.h"
#include "tcpstates/record.h"
#include "tcpstates/sink.h"

struct tcps_ports_config {
	struct tcps_port_set local;  /* LocalPort N: local_<state>, N */
	struct tcps_port_set remote; /* RemotePort N: remote_<state>, N */
	bool listening;	  /* ListeningPorts: local_<state> for every port
			   with a LISTEN socket in the interval */
	bool all_summary; /* AllPortsSummary: the set "all" */
};

struct tcps_ports;

/*
 * True when the configuration asks for any value at all. Unlike tcpconns,
 * no option means no per-port values (tcpconns then turns ListeningPorts
 * on by itself).
 */
bool tcps_ports_enabled(const struct tcps_ports_config *cfg);

/*
 * Creates an observer. Returns 0 and sets *ret, -EINVAL when port 0 is
 * configured (tcpconns refuses it; a remote port 0 would match every
 * LISTEN socket), or -ENOMEM. Memory is sized here, once: one set of
 * counts per configured port, or room for all 65536 ports when listening is on (its
 * pages are only touched as listening ports appear); observing never
 * allocates.
 */
int tcps_ports_new(const struct tcps_ports_config *cfg,
		   struct tcps_ports **ret);

/* Frees the observer; accepts NULL. */
void tcps_ports_free(struct tcps_ports *p);

/* Starts an interval, forgetting any unfinished one. */
void tcps_ports_begin(struct tcps_ports *p);

/* Counts one record of the dump. */
void tcps_ports_observe(struct tcps_ports *p, const struct tcps_record *rec);

/*
 * Ends a successful dump: emits "all" when asked for, then for each port
 * in ascending order its local_<state> values when configured as a local
 * port or, with listening on, when it listened in this interval, and its
 * remote_<state> values when configured as a remote port.
 */
void tcps_ports_end(struct tcps_ports *p, const struct tcps_sink *sink);

/* Discards the interval after a failed dump: nothing emitted. */
void tcps_ports_abort(struct tcps_ports *p);

#endif

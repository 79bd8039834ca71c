/*
 * Ephemeral ports and TIME_WAIT: how close each destination is to running
 * out of local ports, and what the kernel's port sysctls say.
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

struct tcps_sysctls {
	uint16_t port_low, port_high; /* net.ipv4.ip_local_port_range */
	uint32_t ephemeral_ports; /* range size minus reserved ports inside */
	int tw_reuse;		  /* net.ipv4.tcp_tw_reuse, -1 if unreadable */
	int64_t max_tw_buckets;	  /* tcp_max_tw_buckets, -1 if unreadable */
	int64_t fin_timeout;	  /* tcp_fin_timeout (s), -1 if unreadable */
	struct tcps_port_set reserved; /* net.ipv4.ip_local_reserved_ports */
};

/*
 * Reads ip_local_port_range, ip_local_reserved_ports, tcp_tw_reuse,
 * tcp_max_tw_buckets and tcp_fin_timeout under <proc_root>/sys/net/ipv4/.
 * Returns 0, or -errno when the port range cannot be read or parsed
 * (-EINVAL for bad text, -ENAMETOOLONG for a long proc_root); *ret is then
 * untouched. The three numbers are -1 when unreadable or out of range; an
 * unreadable or unparsable reserved-ports file counts as none reserved.
 * /proc/sys/net shows the network namespace of the reading thread: read
 * while inside the wanted namespace.
 */
int tcps_sysctls_read(const char *proc_root, struct tcps_sysctls *ret);

/*
 * Parses ip_local_port_range ("32768\t60999\n"). Returns 0, or -EINVAL
 * unless both are in 1..65535 with low <= high; outputs untouched then.
 */
int tcps_parse_port_range(const char *text, uint16_t *ret_low,
			  uint16_t *ret_high);

/*
 * Parses ip_local_reserved_ports: "" or "\n" is none, else a comma list of
 * ports and low-high ranges ("1000-1010,2000\n"), blanks allowed between
 * tokens. Returns 0 and replaces *ret, or -EINVAL (*ret untouched).
 */
int tcps_parse_reserved_ports(const char *text, struct tcps_port_set *ret);

/* True when connect() may pick this port: in range and not reserved. */
bool tcps_port_is_ephemeral(const struct tcps_sysctls *sys, uint16_t port);

/* Largest MaxDestinations accepted: 2^20 destinations, about 100 MiB. */
#define TCPS_EPHEMERAL_MAX_DESTINATIONS 1048576u
/* Destinations in WARNING remembered across intervals. */
#define TCPS_EPHEMERAL_MAX_WARNED 1024u

struct tcps_ephemeral_config {
	double warning_percent;	   /* PortExhaustionWarning: 0 < x <= 100 */
	uint32_t max_destinations; /* MaxDestinations: 1..2^20 */
};

#define TCPS_EPHEMERAL_DEFAULT_WARNING_PERCENT 80.0
#define TCPS_EPHEMERAL_DEFAULT_MAX_DESTINATIONS 16384u

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

/*
 * The kernel's port sysctls: which local ports connect() may pick, and the
 * TIME_WAIT settings that decide how fast they come back. Read once an
 * interval, from the namespace being read.
 */
#ifndef TCPSTATES_SYSCTLS_H
#define TCPSTATES_SYSCTLS_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpstates/portset.h"

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
 * /proc/sys/net shows the network namespace of the thread that looks the
 * folder up: this reads the calling thread's namespace.
 */
int tcps_sysctls_read(const char *proc_root, struct tcps_sysctls *ret);

/*
 * Opens <proc_root>/sys/net/ipv4 as a folder. The folder stays bound to
 * the namespace of the thread that opened it: files opened under it later,
 * from any namespace, are that namespace's. Returns the fd or -errno.
 */
int tcps_sysctls_open_dir(const char *proc_root);

/* tcps_sysctls_read with the files under dir_fd, an open sys/net/ipv4. */
int tcps_sysctls_read_at(int dir_fd, struct tcps_sysctls *ret);

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

/* True when connect() may pick this port: in range and not reserved.
 * Inline: the ephemeral observer asks it for every socket. */
static inline bool tcps_port_is_ephemeral(const struct tcps_sysctls *sys,
					  uint16_t port)
{
	return port >= sys->port_low && port <= sys->port_high &&
	       !tcps_port_set_has(&sys->reserved, port);
}

#endif

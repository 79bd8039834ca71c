/* The sock_diag dump: one netlink socket, one request, records streamed. */
#ifndef TCPSTATES_DIAG_H
#define TCPSTATES_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include "tcpstates/record.h"

/* Size of the receive buffer: the kernel caps a dump batch at 32 KiB. */
#define TCPS_DIAG_BUFFER_SIZE 32768

/* Only the real TCP states 1..11 (bit 0 is never used by the kernel). */
#define TCPS_DIAG_STATES_ALL 0xfffu

enum tcps_dump_family {
	TCPS_DUMP_BOTH, /* one legacy request: one table walk, both families */
	TCPS_DUMP_IPV4,
	TCPS_DUMP_IPV6,
};

struct tcps_dump_stats {
	uint64_t records;   /* records handed to the callback */
	uint64_t malformed; /* messages skipped as malformed */
	uint64_t recv_calls;
	uint64_t bytes; /* received from the kernel */
};

typedef void (*tcps_record_fn)(const struct tcps_record *rec, void *data);

struct tcps_diag;

/*
 * Opens a NETLINK_SOCK_DIAG socket in the caller's network namespace.
 * Returns 0 and sets *ret, or -errno.
 */
int tcps_diag_open(struct tcps_diag **ret);

/* Closes the socket and frees the handle; accepts NULL. */
void tcps_diag_close(struct tcps_diag *diag);

/*
 * Dumps the TCP sockets whose state bit is set in state_mask, calling fn
 * for every record. Stats are added to *stats. Returns 0 when the kernel
 * finished the dump, or -errno: -EINTR for an interrupted dump, the
 * kernel's error for NLMSG_ERROR or an error inside NLMSG_DONE, -EPROTO
 * or -ESRCH for a foreign sequence number or port id, -EBADMSG for a
 * broken message stream, -EAGAIN when the kernel stopped answering.
 * After a failure the socket may hold the rest of a dump: close it.
 */
int tcps_diag_dump(struct tcps_diag *diag, enum tcps_dump_family family,
		   uint32_t state_mask, tcps_record_fn fn, void *data,
		   struct tcps_dump_stats *stats);

/*
 * Parses one buffer received from the kernel. Returns 1 when more
 * messages of the dump are expected, 0 when NLMSG_DONE ended it, or
 * -errno as tcps_diag_dump() does.
 */
int tcps_diag_parse(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		    tcps_record_fn fn, void *data,
		    struct tcps_dump_stats *stats);

#endif

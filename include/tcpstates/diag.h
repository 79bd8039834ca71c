/* The sock_diag dump: one netlink socket, one request, records streamed. */
#ifndef TCPSTATES_DIAG_H
#define TCPSTATES_DIAG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tcpstates/record.h"

/* Size of the receive buffer: the kernel caps a dump batch at 32 KiB. */
#define TCPS_DIAG_BUFFER_SIZE 32768

/*
 * One whole dump (every recv of it) may take this long; then it fails with
 * -ETIMEDOUT, so a dump that never ends cannot hold collectd's read thread.
 * A million sockets dump in about a second. A recv that blocks is cut
 * short after 5 s on its own, so one attempt lasts at most about 15 s.
 */
#define TCPS_DIAG_DEADLINE_MS 10000

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
 * The socket under a diag handle: the kernel's netlink socket unless a
 * test scripts one. open() returns 0 and sets *ret_sock and *ret_portid,
 * or -errno; send() returns 0 or -errno; recv() the number of bytes
 * received (at most len), 0 when the socket has nothing more to give, or
 * -errno (-EAGAIN for a receive timeout).
 */
struct tcps_diag_io {
	int (*open)(void *arg, void **ret_sock, uint32_t *ret_portid);
	void (*close)(void *sock);
	int (*send)(void *sock, const void *buf, size_t len);
	ssize_t (*recv)(void *sock, void *buf, size_t len);
};

extern const struct tcps_diag_io tcps_diag_kernel_io;

struct tcps_diag_config {
	const struct tcps_diag_io *io; /* NULL: tcps_diag_kernel_io */
	void *io_arg;		       /* passed to io->open */
	unsigned int deadline_ms;      /* 0: TCPS_DIAG_DEADLINE_MS */
};

/*
 * Opens a NETLINK_SOCK_DIAG socket in the caller's network namespace.
 * Returns 0 and sets *ret, or -errno.
 */
int tcps_diag_open(struct tcps_diag **ret);

/* The same over cfg->io, with cfg's deadline; cfg may be NULL. */
int tcps_diag_open_config(const struct tcps_diag_config *cfg,
			  struct tcps_diag **ret);

/* Closes the socket and frees the handle; accepts NULL. */
void tcps_diag_close(struct tcps_diag *diag);

/*
 * Dumps the TCP sockets whose state bit is set in state_mask, calling fn
 * for every record. Stats are added to *stats. Returns 0 when the kernel
 * finished the dump, or -errno: -EINTR for an interrupted dump, the
 * kernel's error for NLMSG_ERROR or an error inside NLMSG_DONE, -EPROTO
 * or -ESRCH for a foreign sequence number or port id, -EBADMSG for a
 * broken message stream, -EAGAIN when the kernel stopped answering,
 * -ENOBUFS when records were lost (the socket overran), -ETIMEDOUT when
 * the dump outlived the deadline, -ENODATA when the socket gave nothing,
 * or the error of send or recv. A recv interrupted by a signal is
 * repeated within the deadline. Records already handed to fn belong to a
 * failed dump then: the caller must drop them.
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

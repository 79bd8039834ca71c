/* One TCP socket as the kernel described it in an inet_diag message. */
#ifndef TCPSTATES_RECORD_H
#define TCPSTATES_RECORD_H

#include <stddef.h>
#include <stdint.h>

/* Kernel TCP state numbers, as in include/net/tcp_states.h. */
enum tcps_state {
	TCPS_ESTABLISHED = 1,
	TCPS_SYN_SENT,
	TCPS_SYN_RECV,
	TCPS_FIN_WAIT1,
	TCPS_FIN_WAIT2,
	TCPS_TIME_WAIT,
	TCPS_CLOSE,
	TCPS_CLOSE_WAIT,
	TCPS_LAST_ACK,
	TCPS_LISTEN,
	TCPS_CLOSING,
	TCPS_STATE_UNKNOWN, /* any number the kernel sends outside 1..11 */
	TCPS_STATE_COUNT,
};

#define TCPS_STATE_FIRST TCPS_ESTABLISHED

struct tcps_record {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t state;	/* kernel TCP state number, not trusted */
	uint8_t timer;	/* idiag_timer: 1 retransmit, 2 keepalive, ... */
	uint8_t retrans;
	uint16_t local_port; /* host byte order */
	uint16_t remote_port;
	uint8_t local_addr[16]; /* IPv4 uses the first 4 bytes */
	uint8_t remote_addr[16];
	uint32_t expires_ms;
	uint32_t rqueue;
	uint32_t wqueue;
	uint32_t uid;
	uint32_t inode;
	uint64_t cookie;
	/* INET_DIAG_CGROUP_ID: the cgroup v2 id the socket was made in
	 * (Linux 5.8+); 0 when the message has none (TIME_WAIT and request
	 * sockets never do, nor does an older kernel). */
	uint64_t cgroup_id;
};

/*
 * Decodes the payload of one inet_diag data message into *ret: the
 * inet_diag_msg, then its attributes up to INET_DIAG_CGROUP_ID (a
 * malformed attribute ends the walk; the record keeps cgroup_id 0).
 * Returns 0, or -EBADMSG when the payload is too short or names an
 * address family other than IPv4/IPv6; *ret is untouched on failure.
 */
int tcps_record_decode(const void *payload, size_t len,
		       struct tcps_record *ret);

#endif

/* Builds netlink dump replies byte by byte, as the kernel would. */
#ifndef TCPSTATES_TEST_NLBUILD_H
#define TCPSTATES_TEST_NLBUILD_H

#include <stddef.h>
#include <stdint.h>

#define NLB_SEQ 4242u
#define NLB_PORTID 777u

struct nlbuf {
	uint8_t bytes[32768] __attribute__((aligned(8)));
	size_t len;
};

struct nlb_sock {
	uint8_t family;
	uint8_t state;
	uint16_t sport, dport;
	const char *src, *dst; /* text addresses */
	uint32_t inode, uid, rqueue, wqueue;
	uint64_t cookie;
	/* Not 0: the message carries INET_DIAG_SHUTDOWN, then
	 * INET_DIAG_CGROUP_ID with this id, as a 5.8+ kernel sends them. */
	uint64_t cgroup_id;
};

void nlb_reset(struct nlbuf *buf);
/* Appends a message; returns a pointer to its header for tweaking. */
void *nlb_put(struct nlbuf *buf, uint16_t type, uint16_t flags,
	      const void *payload, size_t payload_len);
void *nlb_put_sock(struct nlbuf *buf, const struct nlb_sock *sock);
/* The same, followed by attrs_len bytes of attributes as given. */
void *nlb_put_sock_attrs(struct nlbuf *buf, const struct nlb_sock *sock,
			 const void *attrs, size_t attrs_len);
/* Writes one netlink attribute (header, data, padding) at out; returns
 * the bytes written, NLA_ALIGN(4 + data_len). */
size_t nlb_attr(uint8_t *out, uint16_t type, const void *data,
		uint16_t data_len);
void nlb_put_done(struct nlbuf *buf, int error);
void nlb_put_error(struct nlbuf *buf, int error);

#endif

/*
 * sock_diag requests for TCP sockets, as the test programs send them
 * (tests/bench/floor.c, tests/bench/populate.c, tests/unit/test_privs.c):
 * the netlink header and the request in one struct, sent as it is.
 * Inline, so that the benchmark's floor, which builds one per dump, costs
 * what it did with its request written out by hand.
 */
#ifndef TCPSTATES_TEST_DIAG_REQUEST_H
#define TCPSTATES_TEST_DIAG_REQUEST_H

#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

struct diag_legacy_request {
	struct nlmsghdr nlh;
	struct inet_diag_req req;
};

struct diag_v2_request {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 req;
};

/*
 * A TCPDIAG_GETSOCK dump of the TCP sockets in STATES (bit 1 << state):
 * the kernel ignores the family of this old request type and walks its
 * tables once for IPv4 and IPv6 together.
 */
static inline void diag_legacy_dump(struct diag_legacy_request *msg,
				    uint32_t seq, uint32_t states)
{
	memset(msg, 0, sizeof(*msg));
	msg->nlh.nlmsg_len = sizeof(*msg);
	msg->nlh.nlmsg_type = TCPDIAG_GETSOCK;
	msg->nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg->nlh.nlmsg_seq = seq;
	msg->req.idiag_family = AF_INET; /* ignored for this request type */
	msg->req.idiag_states = states;
}

/*
 * A request of TYPE (SOCK_DIAG_BY_FAMILY, SOCK_DESTROY) about the TCP
 * sockets of FAMILY in STATES, with FLAGS beside NLM_F_REQUEST
 * (NLM_F_DUMP for a dump). The socket id is left zero: a request about
 * one socket fills it in.
 */
static inline void diag_v2_request(struct diag_v2_request *msg, uint16_t type,
				   uint16_t flags, uint32_t seq, uint8_t family,
				   uint32_t states)
{
	memset(msg, 0, sizeof(*msg));
	msg->nlh.nlmsg_len = sizeof(*msg);
	msg->nlh.nlmsg_type = type;
	msg->nlh.nlmsg_flags = NLM_F_REQUEST | flags;
	msg->nlh.nlmsg_seq = seq;
	msg->req.sdiag_family = family;
	msg->req.sdiag_protocol = IPPROTO_TCP;
	msg->req.idiag_states = states;
}

#endif

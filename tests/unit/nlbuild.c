#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "nlbuild.h"

void nlb_reset(struct nlbuf *buf)
{
	memset(buf, 0, sizeof(*buf));
}

void *nlb_put(struct nlbuf *buf, uint16_t type, uint16_t flags,
	      const void *payload, size_t payload_len)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(buf->bytes + buf->len);

	nlh->nlmsg_len = (uint32_t)NLMSG_LENGTH(payload_len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags | NLM_F_MULTI;
	nlh->nlmsg_seq = NLB_SEQ;
	nlh->nlmsg_pid = NLB_PORTID;
	if (payload_len)
		memcpy(NLMSG_DATA(nlh), payload, payload_len);
	buf->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return nlh;
}

size_t nlb_attr(uint8_t *out, uint16_t type, const void *data,
		uint16_t data_len)
{
	struct nlattr nla = { .nla_len = (uint16_t)(NLA_HDRLEN + data_len),
			      .nla_type = type };

	memset(out, 0, NLA_ALIGN(nla.nla_len));
	memcpy(out, &nla, sizeof(nla));
	if (data_len)
		memcpy(out + NLA_HDRLEN, data, data_len);
	return NLA_ALIGN(nla.nla_len);
}

void *nlb_put_sock(struct nlbuf *buf, const struct nlb_sock *sock)
{
	uint8_t attrs[32], shutdown = 0;
	size_t len = 0;

	if (sock->cgroup_id) {
		len += nlb_attr(attrs, INET_DIAG_SHUTDOWN, &shutdown, 1);
		len += nlb_attr(attrs + len, INET_DIAG_CGROUP_ID,
				&sock->cgroup_id, sizeof(sock->cgroup_id));
	}
	return nlb_put_sock_attrs(buf, sock, attrs, len);
}

void *nlb_put_sock_attrs(struct nlbuf *buf, const struct nlb_sock *sock,
			 const void *attrs, size_t attrs_len)
{
	uint8_t payload[sizeof(struct inet_diag_msg) + 256];
	struct inet_diag_msg msg;

	memset(&msg, 0, sizeof(msg));
	msg.idiag_family = sock->family;
	msg.idiag_state = sock->state;
	msg.id.idiag_sport = htons(sock->sport);
	msg.id.idiag_dport = htons(sock->dport);
	if (sock->src)
		inet_pton(sock->family, sock->src, msg.id.idiag_src);
	if (sock->dst)
		inet_pton(sock->family, sock->dst, msg.id.idiag_dst);
	msg.id.idiag_cookie[0] = (uint32_t)sock->cookie;
	msg.id.idiag_cookie[1] = (uint32_t)(sock->cookie >> 32);
	msg.idiag_inode = sock->inode;
	msg.idiag_uid = sock->uid;
	msg.idiag_rqueue = sock->rqueue;
	msg.idiag_wqueue = sock->wqueue;
	if (attrs_len > sizeof(payload) - sizeof(msg))
		abort(); /* a test asking for more than any kernel sends */
	memcpy(payload, &msg, sizeof(msg));
	if (attrs_len)
		memcpy(payload + sizeof(msg), attrs, attrs_len);
	return nlb_put(buf, SOCK_DIAG_BY_FAMILY, 0, payload,
		       sizeof(msg) + attrs_len);
}

void nlb_put_done(struct nlbuf *buf, int error)
{
	nlb_put(buf, NLMSG_DONE, 0, &error, sizeof(error));
}

void nlb_put_error(struct nlbuf *buf, int error)
{
	struct nlmsgerr err;

	memset(&err, 0, sizeof(err));
	err.error = error;
	nlb_put(buf, NLMSG_ERROR, 0, &err, sizeof(err));
}

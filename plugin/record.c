/* inet_diag_msg -> struct tcps_record, trusting no length or number. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>

#include "tcpstates/record.h"

static size_t address_size(uint8_t family)
{
	if (family == AF_INET)
		return 4;
	if (family == AF_INET6)
		return 16;
	return 0;
}

/* Where a field of the message starts. The payload may sit at any
 * alignment inside the receive buffer: every field is read by offset,
 * with memcpy. */
#define FIELD(msg, name) ((msg) + offsetof(struct inet_diag_msg, name))

static uint16_t read_u16(const uint8_t *at)
{
	uint16_t value;

	memcpy(&value, at, sizeof(value));
	return value;
}

static uint32_t read_u32(const uint8_t *at)
{
	uint32_t value;

	memcpy(&value, at, sizeof(value));
	return value;
}

static uint64_t read_u64(const uint8_t *at)
{
	uint64_t value;

	memcpy(&value, at, sizeof(value));
	return value;
}

/* The attributes follow the message: INET_DIAG_SHUTDOWN first, the
 * cgroup id second or third on a full socket (after INET_DIAG_SKV6ONLY
 * on an IPv6 listener, INET_DIAG_MARK for a privileged reader), none at
 * all on TIME_WAIT and request sockets. The walk stops at the id, so a
 * socket costs two or three attribute headers. */
static uint64_t find_cgroup_id(const uint8_t *msg, size_t len)
{
	size_t at = NLA_ALIGN(sizeof(struct inet_diag_msg));

	while (at < len && len - at >= NLA_HDRLEN) {
		uint16_t attr_len = read_u16(msg + at);
		uint16_t type = read_u16(msg + at + 2) & NLA_TYPE_MASK;

		if (attr_len < NLA_HDRLEN || attr_len > len - at)
			return 0;
		if (type == INET_DIAG_CGROUP_ID)
			return attr_len >= NLA_HDRLEN + sizeof(uint64_t)
				       ? read_u64(msg + at + NLA_HDRLEN)
				       : 0;
		at += NLA_ALIGN(attr_len);
	}
	return 0;
}

int tcps_record_decode(const void *payload, size_t len, struct tcps_record *ret)
{
	const uint8_t *msg = payload;
	uint8_t family;
	size_t addr_size;

	if (len < sizeof(struct inet_diag_msg))
		return -EBADMSG;
	family = *FIELD(msg, idiag_family);
	addr_size = address_size(family);
	if (addr_size == 0)
		return -EBADMSG;
	/* Checked: from here *ret is written in place, one field at a time,
	 * which spares a copy of the record per socket. */
	memset(ret, 0, sizeof(*ret));
	ret->family = family;
	ret->state = *FIELD(msg, idiag_state);
	ret->timer = *FIELD(msg, idiag_timer);
	ret->retrans = *FIELD(msg, idiag_retrans);
	ret->local_port = ntohs(read_u16(FIELD(msg, id.idiag_sport)));
	ret->remote_port = ntohs(read_u16(FIELD(msg, id.idiag_dport)));
	memcpy(ret->local_addr, FIELD(msg, id.idiag_src), addr_size);
	memcpy(ret->remote_addr, FIELD(msg, id.idiag_dst), addr_size);
	ret->expires_ms = read_u32(FIELD(msg, idiag_expires));
	ret->rqueue = read_u32(FIELD(msg, idiag_rqueue));
	ret->wqueue = read_u32(FIELD(msg, idiag_wqueue));
	ret->uid = read_u32(FIELD(msg, idiag_uid));
	ret->inode = read_u32(FIELD(msg, idiag_inode));
	ret->cookie = (uint64_t)read_u32(FIELD(msg, id.idiag_cookie[1])) << 32 |
		      read_u32(FIELD(msg, id.idiag_cookie[0]));
	ret->cgroup_id = find_cgroup_id(msg, len);
	return 0;
}

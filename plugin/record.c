/* inet_diag_msg -> struct tcps_record, trusting no length or number. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>

#include "tcpstates/record.h"

static size_t address_size(uint8_t family)
{
	if (family == AF_INET)
		return 4;
	if (family == AF_INET6)
		return 16;
	return 0;
}

static uint8_t read_u8(const void *base, size_t offset)
{
	return *((const uint8_t *)base + offset);
}

static uint16_t read_u16(const void *base, size_t offset)
{
	uint16_t value;

	memcpy(&value, (const uint8_t *)base + offset, sizeof(value));
	return value;
}

static uint32_t read_u32(const void *base, size_t offset)
{
	uint32_t value;

	memcpy(&value, (const uint8_t *)base + offset, sizeof(value));
	return value;
}

int tcps_record_decode(const void *payload, size_t len, struct tcps_record *ret)
{
	const uint8_t *msg = payload;
	uint8_t family;
	size_t addr_size;

	if (len < sizeof(struct inet_diag_msg))
		return -EBADMSG;
	/* The payload may sit at any alignment inside the receive buffer:
	 * every field is read by offset, with memcpy. */
	family = read_u8(msg, offsetof(struct inet_diag_msg, idiag_family));
	addr_size = address_size(family);
	if (addr_size == 0)
		return -EBADMSG;
	/* Checked: from here *ret is written in place, one field at a time,
	 * which spares a copy of the record per socket. */
	memset(ret, 0, sizeof(*ret));
	ret->family = family;
	ret->state = read_u8(msg, offsetof(struct inet_diag_msg, idiag_state));
	ret->timer = read_u8(msg, offsetof(struct inet_diag_msg, idiag_timer));
	ret->retrans =
		read_u8(msg, offsetof(struct inet_diag_msg, idiag_retrans));
	ret->local_port = ntohs(
		read_u16(msg, offsetof(struct inet_diag_msg, id.idiag_sport)));
	ret->remote_port = ntohs(
		read_u16(msg, offsetof(struct inet_diag_msg, id.idiag_dport)));
	memcpy(ret->local_addr,
	       (const uint8_t *)msg +
		       offsetof(struct inet_diag_msg, id.idiag_src),
	       addr_size);
	memcpy(ret->remote_addr,
	       (const uint8_t *)msg +
		       offsetof(struct inet_diag_msg, id.idiag_dst),
	       addr_size);
	ret->expires_ms =
		read_u32(msg, offsetof(struct inet_diag_msg, idiag_expires));
	ret->rqueue =
		read_u32(msg, offsetof(struct inet_diag_msg, idiag_rqueue));
	ret->wqueue =
		read_u32(msg, offsetof(struct inet_diag_msg, idiag_wqueue));
	ret->uid = read_u32(msg, offsetof(struct inet_diag_msg, idiag_uid));
	ret->inode = read_u32(msg, offsetof(struct inet_diag_msg, idiag_inode));
	ret->cookie = (uint64_t)read_u32(msg, offsetof(struct inet_diag_msg,
						       id.idiag_cookie[1]))
			      << 32 |
		      read_u32(msg, offsetof(struct inet_diag_msg,
					     id.idiag_cookie[0]));
	return 0;
}

/* inet_diag_msg -> struct tcps_record, trusting no length or number. */
#include <errno.h>
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

int tcps_record_decode(const void *payload, size_t len, struct tcps_record *ret)
{
	struct inet_diag_msg msg;
	struct tcps_record rec = { 0 };
	size_t addr_size;

	if (len < sizeof(msg))
		return -EBADMSG;
	/* The payload may sit at any alignment inside the receive buffer. */
	memcpy(&msg, payload, sizeof(msg));
	addr_size = address_size(msg.idiag_family);
	if (addr_size == 0)
		return -EBADMSG;

	rec.family = msg.idiag_family;
	rec.state = msg.idiag_state;
	rec.timer = msg.idiag_timer;
	rec.retrans = msg.idiag_retrans;
	rec.local_port = ntohs(msg.id.idiag_sport);
	rec.remote_port = ntohs(msg.id.idiag_dport);
	memcpy(rec.local_addr, msg.id.idiag_src, addr_size);
	memcpy(rec.remote_addr, msg.id.idiag_dst, addr_size);
	rec.expires_ms = msg.idiag_expires;
	rec.rqueue = msg.idiag_rqueue;
	rec.wqueue = msg.idiag_wqueue;
	rec.uid = msg.idiag_uid;
	rec.inode = msg.idiag_inode;
	rec.cookie =
		(uint64_t)msg.id.idiag_cookie[1] << 32 | msg.id.idiag_cookie[0];
	*ret = rec;
	return 0;
}

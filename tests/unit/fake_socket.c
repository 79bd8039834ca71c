#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include <check.h>

#include "fake_socket.h"

static int fake_open(void *arg, void **ret_sock, uint32_t *ret_portid)
{
	struct fake_socket *fake = arg;
	int result = 0;

	if (fake->opens < FAKE_SOCK_MAX_SENDS)
		result = fake->open_results[fake->opens];
	fake->opens++;
	if (result < 0)
		return result;
	fake->open_socks++;
	/* A fresh socket no longer hears the dump that never ended. */
	if (fake->playing_forever) {
		fake->next_reply++;
		fake->playing_forever = false;
	}
	*ret_sock = fake;
	*ret_portid = NLB_PORTID;
	return 0;
}

static void fake_close(void *sock)
{
	struct fake_socket *fake = sock;

	fake->closes++;
	fake->open_socks--;
}

static int fake_send(void *sock, const void *buf, size_t len)
{
	struct fake_socket *fake = sock;
	const struct nlmsghdr *nlh = buf;
	int result = 0;

	ck_assert_uint_ge(len, sizeof(*nlh));
	ck_assert_uint_eq(nlh->nlmsg_len, len);
	if (fake->sends < FAKE_SOCK_MAX_SENDS)
		result = fake->send_results[fake->sends];
	fake->sends++;
	if (result == 0)
		fake->seq = nlh->nlmsg_seq;
	return result;
}

/* The replies were built with NLB_SEQ: they answer whatever we asked. */
static void answer(struct fake_socket *fake, uint8_t *bytes, size_t len)
{
	size_t off = 0;

	while (off + sizeof(struct nlmsghdr) <= len) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(bytes + off);

		if (nlh->nlmsg_seq == NLB_SEQ)
			nlh->nlmsg_seq = fake->seq;
		if (nlh->nlmsg_len < sizeof(*nlh))
			break;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
}

static ssize_t fake_recv(void *sock, void *buf, size_t len)
{
	struct fake_socket *fake = sock;
	struct fake_reply *reply;
	size_t n;

	fake->recvs++;
	if (fake->fail_every_recv < 0)
		return fake->fail_every_recv;
	ck_assert_msg(fake->next_reply < fake->replies_num,
		      "recv beyond the script (%d replies)", fake->replies_num);
	reply = &fake->replies[fake->next_reply];
	if (reply->forever)
		fake->playing_forever = true;
	else
		fake->next_reply++;
	if (reply->error < 0)
		return reply->error;
	n = reply->cut > 0 ? reply->cut : reply->msg.len;
	ck_assert_uint_le(n, len);
	memcpy(buf, reply->msg.bytes, n);
	answer(fake, buf, n);
	return (ssize_t)n;
}

const struct tcps_diag_io fake_socket_io = {
	.open = fake_open,
	.close = fake_close,
	.send = fake_send,
	.recv = fake_recv,
};

struct tcps_diag_config fake_socket_config(struct fake_socket *fake,
					   unsigned int deadline_ms)
{
	struct tcps_diag_config cfg = { .io = &fake_socket_io,
					.io_arg = fake,
					.deadline_ms = deadline_ms };

	return cfg;
}

struct fake_reply *fake_socket_reply(struct fake_socket *fake)
{
	struct fake_reply *reply;

	ck_assert_int_lt(fake->replies_num, FAKE_SOCK_MAX_REPLIES);
	reply = &fake->replies[fake->replies_num++];
	memset(reply, 0, sizeof(*reply));
	return reply;
}

void fake_socket_recv_error(struct fake_socket *fake, int error)
{
	fake_socket_reply(fake)->error = error;
}

void fake_socket_healthy(struct fake_socket *fake, int est, int listen)
{
	struct fake_reply *reply = fake_socket_reply(fake);
	struct nlb_sock s = { .family = AF_INET, .state = 1 };

	for (int i = 0; i < est + listen; i++) {
		s.state = i < est ? 1 : 10;
		s.sport = (uint16_t)(1000 + i);
		s.cookie = (uint64_t)i + 1;
		nlb_put_sock(&reply->msg, &s);
	}
	nlb_put_done(&reply->msg, 0);
}

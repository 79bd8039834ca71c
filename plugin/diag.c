/* The sock_diag dump over libmnl, with our own end-of-dump checks. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "tcpstates/diag.h"
#include "tcpstates/privs.h"
#include "tcpstates/util.h"

/* Large enough that a burst of dump batches never overruns the socket. */
#define RCVBUF_BYTES (1 << 20)
/* A dump never blocks collectd's read thread longer than this per recv. */
#define RECV_TIMEOUT_SEC 5
/* The largest errno the kernel reports; anything beyond is garbage. */
#define ERRNO_MAX 4095

struct tcps_diag {
	const struct tcps_diag_io *io;
	void *sock;
	uint32_t portid;
	uint32_t seq;
	unsigned int deadline_ms;
	/* Kept in the handle, not on the stack of collectd's read thread. */
	char buf[TCPS_DIAG_BUFFER_SIZE] __attribute__((aligned(8)));
};

static void set_socket_options(int fd)
{
	int rcvbuf = RCVBUF_BYTES;
	struct timeval timeout = { .tv_sec = RECV_TIMEOUT_SEC };

	/* FORCE passes rmem_max when we hold CAP_NET_ADMIN; else ask. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				 sizeof(rcvbuf));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout,
			 sizeof(timeout));
}

/* The socket, made while CAP_NET_ADMIN is set aside (see privs.h); NULL
 * and *ret_err on failure. A thread that cannot change its capabilities
 * still gets a socket, one that is sent the marks. */
static struct mnl_socket *open_without_net_admin(int *ret_err)
{
	struct tcps_net_admin saved;
	struct mnl_socket *nl;
	int err, drop_err = tcps_net_admin_drop(&saved);

	nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	err = nl ? 0 : (errno ? -errno : -EIO);
	if (drop_err == 0 && tcps_net_admin_restore(&saved) < 0) {
		/* Never leave collectd's read thread weaker than we found
		 * it without saying so: fail, and the caller logs. */
		err = -EPERM;
		if (nl)
			mnl_socket_close(nl);
		nl = NULL;
	}
	*ret_err = err;
	return nl;
}

static int kernel_open(void *arg, void **ret_sock, uint32_t *ret_portid)
{
	struct mnl_socket *nl;
	int err;

	(void)arg;
	nl = open_without_net_admin(&err);
	if (!nl)
		return err;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = errno ? -errno : -EIO;
		mnl_socket_close(nl);
		return err;
	}
	set_socket_options(mnl_socket_get_fd(nl));
	*ret_portid = mnl_socket_get_portid(nl);
	*ret_sock = nl;
	return 0;
}

static void kernel_close(void *sock)
{
	mnl_socket_close(sock);
}

/* send(), not sendto() with the kernel's address: a request that names
 * its destination is judged by the thread's capabilities alone, one
 * without by the socket's too (see privs.h). */
static int kernel_send(void *sock, const void *buf, size_t len)
{
	if (send(mnl_socket_get_fd(sock), buf, len, 0) < 0)
		return -errno;
	return 0;
}

static ssize_t kernel_recv(void *sock, void *buf, size_t len)
{
	ssize_t received = mnl_socket_recvfrom(sock, buf, len);

	if (received >= 0)
		return received;
	/* libmnl reports a datagram larger than buf as ENOSPC. */
	return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

const struct tcps_diag_io tcps_diag_kernel_io = {
	.open = kernel_open,
	.close = kernel_close,
	.send = kernel_send,
	.recv = kernel_recv,
};

int tcps_diag_open(struct tcps_diag **ret)
{
	return tcps_diag_open_config(NULL, ret);
}

int tcps_diag_open_config(const struct tcps_diag_config *cfg,
			  struct tcps_diag **ret)
{
	struct tcps_diag *diag;
	int err;

	diag = calloc(1, sizeof(*diag));
	if (!diag)
		return -ENOMEM;
	diag->io = cfg && cfg->io ? cfg->io : &tcps_diag_kernel_io;
	diag->deadline_ms = cfg && cfg->deadline_ms ? cfg->deadline_ms
						    : TCPS_DIAG_DEADLINE_MS;
	err = diag->io->open(cfg ? cfg->io_arg : NULL, &diag->sock,
			     &diag->portid);
	if (err < 0) {
		free(diag);
		return err;
	}
	diag->seq = (uint32_t)time(NULL);
	*ret = diag;
	return 0;
}

void tcps_diag_close(struct tcps_diag *diag)
{
	if (!diag)
		return;
	diag->io->close(diag->sock);
	free(diag);
}

/* The legacy request makes the kernel walk its tables once for both
 * families; the v2 request is needed to ask for one family alone. */
static void put_request(struct nlmsghdr *nlh, enum tcps_dump_family family,
			uint32_t state_mask)
{
	if (family == TCPS_DUMP_BOTH) {
		struct inet_diag_req *req;

		nlh->nlmsg_type = TCPDIAG_GETSOCK;
		req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
		req->idiag_family = AF_INET;
		req->idiag_states = state_mask;
	} else {
		struct inet_diag_req_v2 *req;

		nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
		req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
		req->sdiag_family =
			family == TCPS_DUMP_IPV4 ? AF_INET : AF_INET6;
		req->sdiag_protocol = IPPROTO_TCP;
		req->idiag_states = state_mask;
	}
}

static int send_request(struct tcps_diag *diag, enum tcps_dump_family family,
			uint32_t state_mask)
{
	char req_buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct inet_diag_req))]
		__attribute__((aligned(8))) = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req_buf);

	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++diag->seq;
	put_request(nlh, family, state_mask);
	return diag->io->send(diag->sock, nlh, nlh->nlmsg_len);
}

static int clamp_kernel_error(int error)
{
	if (error < -ERRNO_MAX || error >= 0)
		return -EPROTO;
	return error;
}

static int error_message(const struct nlmsghdr *nlh)
{
	struct nlmsgerr err;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(err))
		return -EBADMSG;
	memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	/* An acknowledgement (error 0) is never part of a dump. */
	return clamp_kernel_error(err.error);
}

static int done_message(const struct nlmsghdr *nlh)
{
	int error;

	/* Very old kernels end a dump with an empty NLMSG_DONE. */
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(error))
		return 0;
	memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
	return error < 0 ? clamp_kernel_error(error) : 0;
}

static int data_message(const struct nlmsghdr *nlh, tcps_record_fn fn,
			void *data, struct tcps_dump_stats *stats)
{
	struct tcps_record rec;

	if (tcps_record_decode(mnl_nlmsg_get_payload(nlh),
			       mnl_nlmsg_get_payload_len(nlh), &rec) != 0) {
		stats->malformed++;
		return 1;
	}
	stats->records++;
	fn(&rec, data);
	return 1;
}

static int parse_message(const struct nlmsghdr *nlh, uint32_t seq,
			 uint32_t portid, tcps_record_fn fn, void *data,
			 struct tcps_dump_stats *stats)
{
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		return -EINTR;
	if (!mnl_nlmsg_seq_ok(nlh, seq))
		return -EPROTO;
	if (!mnl_nlmsg_portid_ok(nlh, portid))
		return -ESRCH;
	switch (nlh->nlmsg_type) {
	case NLMSG_DONE:
		return done_message(nlh);
	case NLMSG_ERROR:
		return error_message(nlh);
	case NLMSG_OVERRUN:
		return -ENOBUFS;
	case NLMSG_NOOP:
		return 1;
	case SOCK_DIAG_BY_FAMILY:
	case TCPDIAG_GETSOCK:
		return data_message(nlh, fn, data, stats);
	default:
		stats->malformed++;
		return 1;
	}
}

/* Not mnl_nlmsg_ok(): it compares the length as an int, so a length
 * from 2 GiB on is negative and passes (found by fuzzing). */
static bool message_fits(const struct nlmsghdr *nlh, size_t remaining)
{
	return remaining >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= remaining;
}

int tcps_diag_parse(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		    tcps_record_fn fn, void *data,
		    struct tcps_dump_stats *stats)
{
	const struct nlmsghdr *nlh = buf;
	size_t remaining = len, step;
	int ret;

	if (len > TCPS_DIAG_BUFFER_SIZE)
		return -EMSGSIZE;
	while (message_fits(nlh, remaining)) {
		ret = parse_message(nlh, seq, portid, fn, data, stats);
		if (ret <= 0)
			return ret;
		/* The last message may lack its padding. */
		step = MNL_ALIGN(nlh->nlmsg_len);
		if (step >= remaining)
			return 1;
		remaining -= step;
		nlh = (const struct nlmsghdr *)((const char *)nlh + step);
	}
	/* Bytes that do not form a whole message: the stream is broken. */
	return remaining > 0 ? -EBADMSG : 1;
}

/* A signal only interrupts the wait, so that recv is repeated; ENOBUFS
 * means the kernel dropped part of the dump, which no retry of this recv
 * can bring back: the dump fails. */
static ssize_t receive(struct tcps_diag *diag, uint64_t deadline)
{
	ssize_t received;

	do {
		if (tcps_monotonic_ms() >= deadline)
			return -ETIMEDOUT;
		received = diag->io->recv(diag->sock, diag->buf,
					  sizeof(diag->buf));
	} while (received == -EINTR);
	if (received == 0)
		return -ENODATA;
	if (received > (ssize_t)sizeof(diag->buf))
		return -EMSGSIZE;
	return received;
}

int tcps_diag_dump(struct tcps_diag *diag, enum tcps_dump_family family,
		   uint32_t state_mask, tcps_record_fn fn, void *data,
		   struct tcps_dump_stats *stats)
{
	uint64_t deadline;
	ssize_t received;
	int ret;

	ret = send_request(diag, family, state_mask);
	if (ret < 0)
		return ret;
	deadline = tcps_monotonic_ms() + diag->deadline_ms;
	do {
		received = receive(diag, deadline);
		if (received < 0)
			return (int)received;
		stats->recv_calls++;
		stats->bytes += (uint64_t)received;
		ret = tcps_diag_parse(diag->buf, (size_t)received, diag->seq,
				      diag->portid, fn, data, stats);
	} while (ret > 0);
	return ret;
}

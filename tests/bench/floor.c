/*
 * Benchmark floor: the cheapest socket dump that still counts TCP sockets
 * by state, to measure everything else against.
 *
 *   floor [-2] [-n DUMPS] [-v]
 *
 * By default one legacy TCPDIAG_GETSOCK request per dump: the kernel then
 * ignores the family and walks its tables once for IPv4 and IPv6 together.
 * -2 sends SOCK_DIAG_BY_FAMILY for AF_INET, then for AF_INET6 (two walks).
 * Only the 12 low state bits are asked for (0xfff), no extensions; a
 * 32 KiB buffer and a plain recv() loop; nothing but a count per state.
 * -v prints the counts of the last dump, one "STATE count" a line, then
 * "TOTAL count".  Exits 1 on any error or interrupted dump.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "../tools/diag_request.h"

#define BUF_BYTES 32768
#define STATE_MASK 0xfffU
#define NSTATES 16

static const char *const state_name[NSTATES] = {
	[1] = "ESTABLISHED", [2] = "SYN_SENT",	 [3] = "SYN_RECV",
	[4] = "FIN_WAIT1",   [5] = "FIN_WAIT2",	 [6] = "TIME_WAIT",
	[7] = "CLOSED",	     [8] = "CLOSE_WAIT", [9] = "LAST_ACK",
	[10] = "LISTEN",     [11] = "CLOSING",
};

static char buf[BUF_BYTES] __attribute__((aligned(8)));

static void die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void send_legacy(int fd, uint32_t seq)
{
	struct diag_legacy_request msg;

	diag_legacy_dump(&msg, seq, STATE_MASK);
	if (send(fd, &msg, sizeof(msg), 0) < 0)
		die("send");
}

static void send_v2(int fd, uint32_t seq, int family)
{
	struct diag_v2_request msg;

	diag_v2_request(&msg, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, seq,
			(uint8_t)family, STATE_MASK);
	if (send(fd, &msg, sizeof(msg), 0) < 0)
		die("send");
}

/* Reads one dump to its end, adding to COUNT; false on an error. */
static bool recv_dump(int fd, uint32_t seq, unsigned long *count)
{
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			die("recv");
		for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			struct inet_diag_msg *m = NLMSG_DATA(nlh);

			if (nlh->nlmsg_seq != seq ||
			    (nlh->nlmsg_flags & NLM_F_DUMP_INTR) ||
			    nlh->nlmsg_type == NLMSG_ERROR)
				return false;
			if (nlh->nlmsg_type == NLMSG_DONE)
				return true;
			if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				continue;
			count[m->idiag_state < NSTATES ? m->idiag_state : 0]++;
		}
	}
}

static void print_counts(const unsigned long *count)
{
	unsigned long total = 0;
	int i;

	for (i = 1; i < NSTATES; i++) {
		if (state_name[i])
			printf("%s %lu\n", state_name[i], count[i]);
		total += count[i];
	}
	printf("OTHER %lu\nTOTAL %lu\n", count[0], total + count[0]);
}

int main(int argc, char **argv)
{
	unsigned long count[NSTATES];
	bool two = false, verbose = false, ok;
	uint32_t seq = (uint32_t)getpid() << 8;
	long dumps = 1, i;
	int c, fd;

	while ((c = getopt(argc, argv, "2n:v")) != -1) {
		if (c == '2')
			two = true;
		else if (c == 'n')
			dumps = atol(optarg);
		else if (c == 'v')
			verbose = true;
		else
			return 2;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		die("socket");
	for (i = 0; i < dumps; i++) {
		memset(count, 0, sizeof(count));
		if (two) {
			send_v2(fd, ++seq, AF_INET);
			ok = recv_dump(fd, seq, count);
			send_v2(fd, ++seq, AF_INET6);
			ok = recv_dump(fd, seq, count) && ok;
		} else {
			send_legacy(fd, ++seq);
			ok = recv_dump(fd, seq, count);
		}
		if (!ok) {
			fprintf(stderr, "floor: dump failed or interrupted\n");
			return 1;
		}
	}
	if (verbose)
		print_counts(count);
	close(fd);
	return 0;
}

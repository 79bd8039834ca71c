/* CAP_NET_ADMIN set aside while the diag socket is made: the thread gets
 * it back, and the kernel then leaves every socket's mark out of dumps. */
#define _GNU_SOURCE /* unshare */
#include <errno.h>
#include <stdbool.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>

#include "../tools/diag_request.h"
#include "suites.h"
#include "tcpstates/diag.h"
#include "tcpstates/privs.h"

START_TEST(tcps_net_admin_drop__and_restore_round_trip)
{
	struct tcps_net_admin saved;
	bool before = tcps_net_admin_effective();

	ck_assert_int_eq(tcps_net_admin_drop(&saved), 0);
	ck_assert(saved.dropped == before);
	ck_assert(!tcps_net_admin_effective());
	ck_assert_int_eq(tcps_net_admin_restore(&saved), 0);
	ck_assert(tcps_net_admin_effective() == before);
}
END_TEST

START_TEST(tcps_net_admin_restore__without_drop_changes_nothing)
{
	struct tcps_net_admin saved = { .dropped = false };
	bool before = tcps_net_admin_effective();

	ck_assert_int_eq(tcps_net_admin_restore(&saved), 0);
	ck_assert(tcps_net_admin_effective() == before);
}
END_TEST

static void count_record(const struct tcps_record *rec, void *data)
{
	(void)rec;
	(*(int *)data)++;
}

/* Bytes of one dump of every TCP socket, as a plain root tool asks for
 * it: a socket made with CAP_NET_ADMIN, the request sent to the kernel's
 * address. */
static long plain_dump_bytes(void)
{
	static char buf[TCPS_DIAG_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	struct diag_legacy_request req;
	long total = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(nl);
	ck_assert_int_eq(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), 0);
	diag_legacy_dump(&req, 1, TCPS_DIAG_STATES_ALL);
	ck_assert_int_ge(mnl_socket_sendto(nl, &req, req.nlh.nlmsg_len), 0);
	for (bool done = false; !done;) {
		const struct nlmsghdr *msg = (const struct nlmsghdr *)buf;
		int left;

		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		ck_assert_int_gt(n, 0);
		total += n;
		left = (int)n;
		for (; mnl_nlmsg_ok(msg, left);
		     msg = mnl_nlmsg_next(msg, &left))
			done |= msg->nlmsg_type == NLMSG_DONE;
	}
	mnl_socket_close(nl);
	return total;
}

/* In a private namespace holding one listener (fork mode keeps the
 * namespace to this test): the mark attribute, 8 bytes, is the only
 * difference between our dump and a plain root one. */
START_TEST(tcps_diag_open__dump_leaves_out_the_marks)
{
	struct sockaddr_in any = { .sin_family = AF_INET };
	struct tcps_dump_stats stats = { 0 };
	struct tcps_diag *diag;
	int records = 0, fd;

	if (!tcps_net_admin_effective() || unshare(CLONE_NEWNET) != 0)
		return; /* needs root, as make check runs it */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&any, sizeof(any)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);

	ck_assert_int_eq(tcps_diag_open(&diag), 0);
	ck_assert(tcps_net_admin_effective());
	ck_assert_int_eq(tcps_diag_dump(diag, TCPS_DUMP_BOTH,
					TCPS_DIAG_STATES_ALL, count_record,
					&records, &stats),
			 0);
	tcps_diag_close(diag);
	ck_assert_int_eq(records, 1);
	ck_assert_int_eq(plain_dump_bytes() - (long)stats.bytes,
			 MNL_ATTR_HDRLEN + (long)sizeof(uint32_t));
	close(fd);
}
END_TEST

Suite *privs_suite(void)
{
	Suite *s = suite_create("privs");
	TCase *tc = tcase_create("net_admin");

	tcase_add_test(tc, tcps_net_admin_drop__and_restore_round_trip);
	tcase_add_test(tc,
		       tcps_net_admin_restore__without_drop_changes_nothing);
	tcase_add_test(tc, tcps_diag_open__dump_leaves_out_the_marks);
	suite_add_tcase(s, tc);
	return s;
}

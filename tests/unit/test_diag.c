/* Parsing of dump replies built as bytes: records, errors, framing. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "nlbuild.h"
#include "suites.h"
#include "tcpstates/diag.h"
#include "tcpstates/record.h"
#include "tcpstates/tally.h"

#define MAX_SEEN 64

struct seen {
	struct tcps_record rec[MAX_SEEN];
	int n;
};

static struct nlbuf buf;
static struct seen seen;
static struct tcps_dump_stats stats;

static void setup(void)
{
	nlb_reset(&buf);
	memset(&seen, 0, sizeof(seen));
	memset(&stats, 0, sizeof(stats));
}

static void remember(const struct tcps_record *rec, void *data)
{
	struct seen *s = data;

	ck_assert_int_lt(s->n, MAX_SEEN);
	s->rec[s->n++] = *rec;
}

static int parse(void)
{
	return tcps_diag_parse(buf.bytes, buf.len, NLB_SEQ, NLB_PORTID,
			       remember, &seen, &stats);
}

static void put_v4(uint8_t state)
{
	struct nlb_sock s = { .family = AF_INET, .state = state };

	nlb_put_sock(&buf, &s);
}

START_TEST(tcps_diag_parse__every_state_ipv4)
{
	for (int state = 1; state <= 11; state++)
		put_v4((uint8_t)state);
	nlb_put_done(&buf, 0);
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(seen.n, 11);
	for (int i = 0; i < 11; i++)
		ck_assert_int_eq(seen.rec[i].state, i + 1);
	ck_assert_uint_eq(stats.records, 11);
	ck_assert_uint_eq(stats.malformed, 0);
}
END_TEST

START_TEST(tcps_diag_parse__fields_ipv4)
{
	struct nlb_sock s = { .family = AF_INET,
			      .state = 8,
			      .sport = 8080,
			      .dport = 51234,
			      .src = "127.0.0.1",
			      .dst = "10.1.2.3",
			      .inode = 123456,
			      .uid = 1000,
			      .rqueue = 8,
			      .wqueue = 3,
			      .cookie = 0x1122334455667788ull };
	uint8_t want_dst[4] = { 10, 1, 2, 3 };

	nlb_put_sock(&buf, &s);
	ck_assert_int_eq(parse(), 1);
	ck_assert_int_eq(seen.n, 1);
	ck_assert_int_eq(seen.rec[0].family, AF_INET);
	ck_assert_uint_eq(seen.rec[0].local_port, 8080);
	ck_assert_uint_eq(seen.rec[0].remote_port, 51234);
	ck_assert_mem_eq(seen.rec[0].remote_addr, want_dst, 4);
	ck_assert_uint_eq(seen.rec[0].inode, 123456);
	ck_assert_uint_eq(seen.rec[0].uid, 1000);
	ck_assert_uint_eq(seen.rec[0].rqueue, 8);
	ck_assert_uint_eq(seen.rec[0].wqueue, 3);
	ck_assert_uint_eq(seen.rec[0].cookie, 0x1122334455667788ull);
}
END_TEST

START_TEST(tcps_diag_parse__fields_ipv6)
{
	struct nlb_sock s = { .family = AF_INET6,
			      .state = 1,
			      .sport = 443,
			      .src = "2001:db8::1",
			      .dst = "::1" };
	uint8_t want[16];

	inet_pton(AF_INET6, "2001:db8::1", want);
	nlb_put_sock(&buf, &s);
	nlb_put_done(&buf, 0);
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(seen.n, 1);
	ck_assert_int_eq(seen.rec[0].family, AF_INET6);
	ck_assert_mem_eq(seen.rec[0].local_addr, want, 16);
	ck_assert_uint_eq(seen.rec[0].remote_addr[15], 1);
}
END_TEST

START_TEST(tcps_diag_parse__unknown_state_is_delivered)
{
	struct tcps_state_tally tally;

	put_v4(12);
	put_v4(0);
	put_v4(255);
	put_v4(1);
	nlb_put_done(&buf, 0);
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(seen.n, 4);
	tcps_state_tally_reset(&tally);
	for (int i = 0; i < seen.n; i++)
		tcps_state_tally_add(&tally, &seen.rec[i]);
	ck_assert_uint_eq(tally.count[TCPS_STATE_UNKNOWN], 3);
	ck_assert_uint_eq(tally.count[TCPS_ESTABLISHED], 1);
}
END_TEST

/* Each socket's own id; TIME_WAIT carries none; a message whose
 * attributes are broken still gives its record, and the next message is
 * read from the message length, not the attributes'. */
START_TEST(tcps_diag_parse__cgroup_ids_per_socket)
{
	struct nlb_sock cw = {
		.family = AF_INET6, .state = 8, .inode = 7, .cgroup_id = 4242
	};
	struct nlb_sock tw = { .family = AF_INET, .state = 6 };
	uint8_t broken[8] = { 0xff, 0xff, 21, 0 }; /* a 65535-byte attribute */

	nlb_put_sock(&buf, &cw);
	nlb_put_sock(&buf, &tw);
	nlb_put_sock_attrs(&buf, &cw, broken, sizeof(broken));
	cw.cgroup_id = 1; /* the root cgroup */
	nlb_put_sock(&buf, &cw);
	nlb_put_done(&buf, 0);
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(seen.n, 4);
	ck_assert_uint_eq(seen.rec[0].cgroup_id, 4242);
	ck_assert_uint_eq(seen.rec[1].cgroup_id, 0);
	ck_assert_uint_eq(seen.rec[2].cgroup_id, 0);
	ck_assert_uint_eq(seen.rec[2].inode, 7);
	ck_assert_uint_eq(seen.rec[3].cgroup_id, 1);
	ck_assert_uint_eq(stats.malformed, 0);
}
END_TEST

START_TEST(tcps_diag_parse__short_payload_is_skipped_and_counted)
{
	struct inet_diag_msg msg = { .idiag_family = AF_INET };

	nlb_put(&buf, SOCK_DIAG_BY_FAMILY, 0, &msg, sizeof(msg) - 1);
	put_v4(10);
	nlb_put_done(&buf, 0);
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(seen.n, 1);
	ck_assert_uint_eq(stats.malformed, 1);
}
END_TEST

START_TEST(tcps_diag_parse__foreign_family_is_skipped_and_counted)
{
	struct nlb_sock s = { .family = AF_UNIX, .state = 1 };

	nlb_put_sock(&buf, &s);
	nlb_put_done(&buf, 0);
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(seen.n, 0);
	ck_assert_uint_eq(stats.malformed, 1);
}
END_TEST

START_TEST(tcps_diag_parse__unknown_type_is_skipped_and_counted)
{
	uint32_t junk = 0xdeadbeef;

	nlb_put(&buf, 99, 0, &junk, sizeof(junk));
	put_v4(1);
	ck_assert_int_eq(parse(), 1);
	ck_assert_int_eq(seen.n, 1);
	ck_assert_uint_eq(stats.malformed, 1);
}
END_TEST

START_TEST(tcps_diag_parse__truncated_buffer_is_an_error)
{
	put_v4(1);
	put_v4(1);
	buf.len -= 10; /* the second message is cut short */
	ck_assert_int_eq(parse(), -EBADMSG);
}
END_TEST

START_TEST(tcps_diag_parse__length_beyond_buffer_is_an_error)
{
	struct nlmsghdr *nlh;

	put_v4(1);
	nlh = nlb_put_sock(&buf, &(struct nlb_sock){ .family = AF_INET });
	nlh->nlmsg_len = 4000;
	ck_assert_int_eq(parse(), -EBADMSG);
	ck_assert_int_eq(seen.n, 1);
}
END_TEST

/* libmnl's mnl_nlmsg_ok() compares the length as an int: from 2 GiB on
 * it is negative, passes, and mnl_nlmsg_next() jumps out of the buffer
 * (found by fuzz-diag). */
START_TEST(tcps_diag_parse__length_beyond_2gib_is_an_error)
{
	struct nlmsghdr *nlh;

	put_v4(1);
	nlh = nlb_put_sock(&buf, &(struct nlb_sock){ .family = AF_INET });
	nlh->nlmsg_len = 0xb7000048u;
	nlb_put_done(&buf, 0);
	ck_assert_int_eq(parse(), -EBADMSG);
	ck_assert_int_eq(seen.n, 1);
}
END_TEST

START_TEST(tcps_diag_parse__oversized_input_is_refused)
{
	ck_assert_int_eq(tcps_diag_parse(buf.bytes, TCPS_DIAG_BUFFER_SIZE + 1,
					 NLB_SEQ, NLB_PORTID, remember, &seen,
					 &stats),
			 -EMSGSIZE);
}
END_TEST

START_TEST(tcps_diag_parse__nlmsg_error_is_returned)
{
	nlb_put_error(&buf, -EACCES);
	ck_assert_int_eq(parse(), -EACCES);
}
END_TEST

START_TEST(tcps_diag_parse__nlmsg_error_garbage)
{
	nlb_put_error(&buf, 0);
	ck_assert_int_eq(parse(), -EPROTO);
	nlb_reset(&buf);
	nlb_put_error(&buf, -100000);
	ck_assert_int_eq(parse(), -EPROTO);
	nlb_reset(&buf);
	nlb_put(&buf, NLMSG_ERROR, 0, "ab", 2);
	ck_assert_int_eq(parse(), -EBADMSG);
}
END_TEST

START_TEST(tcps_diag_parse__done_carries_error)
{
	put_v4(1);
	nlb_put_done(&buf, -ENOBUFS);
	ck_assert_int_eq(parse(), -ENOBUFS);
}
END_TEST

START_TEST(tcps_diag_parse__done_without_payload_ends_dump)
{
	put_v4(1);
	nlb_put(&buf, NLMSG_DONE, 0, NULL, 0);
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(seen.n, 1);
}
END_TEST

START_TEST(tcps_diag_parse__interrupted_dump)
{
	struct nlmsghdr *nlh;

	put_v4(1);
	nlh = nlb_put_sock(&buf, &(struct nlb_sock){ .family = AF_INET });
	nlh->nlmsg_flags |= NLM_F_DUMP_INTR;
	nlb_put_done(&buf, 0);
	ck_assert_int_eq(parse(), -EINTR);
}
END_TEST

START_TEST(tcps_diag_parse__foreign_sequence)
{
	struct nlmsghdr *nlh;

	nlh = nlb_put_sock(&buf, &(struct nlb_sock){ .family = AF_INET });
	nlh->nlmsg_seq = NLB_SEQ + 1;
	ck_assert_int_eq(parse(), -EPROTO);
	ck_assert_int_eq(seen.n, 0);
}
END_TEST

START_TEST(tcps_diag_parse__foreign_portid)
{
	struct nlmsghdr *nlh;

	nlh = nlb_put_sock(&buf, &(struct nlb_sock){ .family = AF_INET });
	nlh->nlmsg_pid = NLB_PORTID + 1;
	ck_assert_int_eq(parse(), -ESRCH);
	ck_assert_int_eq(seen.n, 0);
}
END_TEST

START_TEST(tcps_diag_parse__overrun)
{
	nlb_put(&buf, NLMSG_OVERRUN, 0, NULL, 0);
	ck_assert_int_eq(parse(), -ENOBUFS);
}
END_TEST

START_TEST(tcps_diag_parse__noop_is_ignored)
{
	nlb_put(&buf, NLMSG_NOOP, 0, NULL, 0);
	nlb_put_done(&buf, 0);
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(stats.malformed, 0);
}
END_TEST

START_TEST(tcps_diag_parse__legacy_reply_type)
{
	struct inet_diag_msg msg = { .idiag_family = AF_INET6,
				     .idiag_state = 10 };

	nlb_put(&buf, TCPDIAG_GETSOCK, 0, &msg, sizeof(msg));
	nlb_put_done(&buf, 0);
	ck_assert_int_eq(parse(), 0);
	ck_assert_int_eq(seen.n, 1);
	ck_assert_int_eq(seen.rec[0].state, 10);
}
END_TEST

START_TEST(tcps_diag_parse__empty_buffer_wants_more)
{
	ck_assert_int_eq(parse(), 1);
}
END_TEST

Suite *diag_suite(void)
{
	Suite *s = suite_create("diag");
	TCase *records = tcase_create("records");
	TCase *errors = tcase_create("errors");
	TCase *framing = tcase_create("framing");

	tcase_add_checked_fixture(records, setup, NULL);
	tcase_add_test(records, tcps_diag_parse__every_state_ipv4);
	tcase_add_test(records, tcps_diag_parse__fields_ipv4);
	tcase_add_test(records, tcps_diag_parse__fields_ipv6);
	tcase_add_test(records, tcps_diag_parse__unknown_state_is_delivered);
	tcase_add_test(records, tcps_diag_parse__cgroup_ids_per_socket);
	tcase_add_test(records,
		       tcps_diag_parse__short_payload_is_skipped_and_counted);
	tcase_add_test(records,
		       tcps_diag_parse__foreign_family_is_skipped_and_counted);
	tcase_add_test(records,
		       tcps_diag_parse__unknown_type_is_skipped_and_counted);
	tcase_add_test(records, tcps_diag_parse__legacy_reply_type);
	tcase_add_checked_fixture(errors, setup, NULL);
	tcase_add_test(errors, tcps_diag_parse__nlmsg_error_is_returned);
	tcase_add_test(errors, tcps_diag_parse__nlmsg_error_garbage);
	tcase_add_test(errors, tcps_diag_parse__done_carries_error);
	tcase_add_test(errors, tcps_diag_parse__done_without_payload_ends_dump);
	tcase_add_test(errors, tcps_diag_parse__interrupted_dump);
	tcase_add_test(errors, tcps_diag_parse__foreign_sequence);
	tcase_add_test(errors, tcps_diag_parse__foreign_portid);
	tcase_add_test(errors, tcps_diag_parse__overrun);
	tcase_add_checked_fixture(framing, setup, NULL);
	tcase_add_test(framing, tcps_diag_parse__truncated_buffer_is_an_error);
	tcase_add_test(framing,
		       tcps_diag_parse__length_beyond_buffer_is_an_error);
	tcase_add_test(framing,
		       tcps_diag_parse__length_beyond_2gib_is_an_error);
	tcase_add_test(framing, tcps_diag_parse__oversized_input_is_refused);
	tcase_add_test(framing, tcps_diag_parse__noop_is_ignored);
	tcase_add_test(framing, tcps_diag_parse__empty_buffer_wants_more);
	suite_add_tcase(s, records);
	suite_add_tcase(s, errors);
	suite_add_tcase(s, framing);
	return s;
}

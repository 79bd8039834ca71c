/* One inet_diag_msg decoded into a record: every field, any alignment,
 * nothing read past the payload, foreign families refused. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>

#include "nlbuild.h"
#include "suites.h"
#include "tcpstates/record.h"

/* Every field, from a payload at an odd address inside the buffer, as
 * a record can sit after a message of any length. */
START_TEST(tcps_record_decode__every_field_at_any_alignment)
{
	struct inet_diag_msg msg = {
		.idiag_family = AF_INET6,
		.idiag_state = 9,
		.idiag_timer = 4,
		.idiag_retrans = 7,
		.id.idiag_sport = htons(443),
		.id.idiag_dport = htons(50001),
		.id.idiag_src = { htonl(0x20010db8), 0, 0, htonl(1) },
		.id.idiag_dst = { 0, 0, 0, htonl(2) },
		.id.idiag_cookie = { 0x55667788, 0x11223344 },
		.idiag_expires = 1500,
		.idiag_rqueue = 10,
		.idiag_wqueue = 20,
		.idiag_uid = 1000,
		.idiag_inode = 123456,
	};
	uint8_t bytes[sizeof(msg) + 1];
	struct tcps_record rec;

	memcpy(bytes + 1, &msg, sizeof(msg));
	ck_assert_int_eq(tcps_record_decode(bytes + 1, sizeof(msg), &rec), 0);
	ck_assert_uint_eq(rec.family, AF_INET6);
	ck_assert_uint_eq(rec.state, 9);
	ck_assert_uint_eq(rec.timer, 4);
	ck_assert_uint_eq(rec.retrans, 7);
	ck_assert_uint_eq(rec.local_port, 443);
	ck_assert_uint_eq(rec.remote_port, 50001);
	ck_assert_mem_eq(rec.local_addr, msg.id.idiag_src, 16);
	ck_assert_mem_eq(rec.remote_addr, msg.id.idiag_dst, 16);
	ck_assert_uint_eq(rec.expires_ms, 1500);
	ck_assert_uint_eq(rec.rqueue, 10);
	ck_assert_uint_eq(rec.wqueue, 20);
	ck_assert_uint_eq(rec.uid, 1000);
	ck_assert_uint_eq(rec.inode, 123456);
	ck_assert_uint_eq(rec.cookie, 0x1122334455667788ull);
	ck_assert_int_eq(tcps_record_decode(bytes + 1, sizeof(msg) - 1, &rec),
			 -EBADMSG);
	ck_assert_uint_eq(rec.inode, 123456);
}
END_TEST

START_TEST(tcps_record_decode__ipv4_takes_the_first_four_bytes)
{
	struct inet_diag_msg msg = {
		.idiag_family = AF_INET,
		.idiag_state = 1,
		.id.idiag_src = { htonl(0x7f000001), htonl(0xdeadbeef) },
		.id.idiag_dst = { htonl(0x7f000002), htonl(0xdeadbeef) },
	};
	struct tcps_record rec;
	const uint8_t want_local[16] = { 127, 0, 0, 1 };
	const uint8_t want_remote[16] = { 127, 0, 0, 2 };

	ck_assert_int_eq(tcps_record_decode(&msg, sizeof(msg), &rec), 0);
	ck_assert_uint_eq(rec.family, AF_INET);
	ck_assert_mem_eq(rec.local_addr, want_local, 16);
	ck_assert_mem_eq(rec.remote_addr, want_remote, 16);
}
END_TEST

START_TEST(tcps_record_decode__foreign_family_is_refused)
{
	struct inet_diag_msg msg = { .idiag_family = AF_UNIX,
				     .idiag_inode = 5 };
	struct tcps_record rec = { .inode = 77 };

	ck_assert_int_eq(tcps_record_decode(&msg, sizeof(msg), &rec), -EBADMSG);
	msg.idiag_family = 0;
	ck_assert_int_eq(tcps_record_decode(&msg, sizeof(msg), &rec), -EBADMSG);
	ck_assert_uint_eq(rec.inode, 77); /* untouched */
}
END_TEST

START_TEST(tcps_record_decode__longer_payload_is_read_to_the_message)
{
	/* Attributes follow the message in a real reply: they are not
	 * part of the record and do not disturb it. */
	uint8_t bytes[sizeof(struct inet_diag_msg) + 64];
	struct inet_diag_msg msg = { .idiag_family = AF_INET,
				     .idiag_state = 8,
				     .idiag_inode = 42 };
	struct tcps_record rec;

	memset(bytes, 0xff, sizeof(bytes));
	memcpy(bytes, &msg, sizeof(msg));
	ck_assert_int_eq(tcps_record_decode(bytes, sizeof(bytes), &rec), 0);
	ck_assert_uint_eq(rec.state, 8);
	ck_assert_uint_eq(rec.inode, 42);
	ck_assert_uint_eq(rec.cgroup_id,
			  0); /* 0xffff: longer than what is left */
	ck_assert_int_eq(tcps_record_decode(bytes, 0, &rec), -EBADMSG);
}
END_TEST

/* A CLOSE_WAIT message with attrs_len bytes of attributes after it, in a
 * heap buffer of exactly that size (AddressSanitizer sees a read past
 * it), decoded at an odd address. */
static uint64_t decode_cgroup_id(const uint8_t *attrs, size_t attrs_len)
{
	struct inet_diag_msg msg = { .idiag_family = AF_INET,
				     .idiag_state = 8,
				     .idiag_inode = 42 };
	size_t len = sizeof(msg) + attrs_len;
	uint8_t *bytes = malloc(len + 1);
	struct tcps_record rec;

	ck_assert_ptr_nonnull(bytes);
	memcpy(bytes + 1, &msg, sizeof(msg));
	memcpy(bytes + 1 + sizeof(msg), attrs, attrs_len);
	ck_assert_int_eq(tcps_record_decode(bytes + 1, len, &rec), 0);
	ck_assert_uint_eq(rec.inode, 42);
	free(bytes);
	return rec.cgroup_id;
}

static const uint64_t id = 0x0000000100002a2bull;

/* As Linux 6.x sends a full socket: SHUTDOWN, the cgroup id, SOCKOPT. */
START_TEST(tcps_record_decode__cgroup_id_after_shutdown)
{
	uint8_t attrs[64], zero[2] = { 0 };
	size_t len = 0;

	len += nlb_attr(attrs, INET_DIAG_SHUTDOWN, zero, 1);
	len += nlb_attr(attrs + len, INET_DIAG_CGROUP_ID, &id, sizeof(id));
	len += nlb_attr(attrs + len, INET_DIAG_SOCKOPT, zero, 2);
	ck_assert_uint_eq(decode_cgroup_id(attrs, len), id);
}
END_TEST

/* A privileged reader gets INET_DIAG_MARK first, an IPv6 listener
 * INET_DIAG_SKV6ONLY; a kernel without fast unaligned access pads the
 * u64 with INET_DIAG_PAD. */
START_TEST(tcps_record_decode__cgroup_id_after_other_attributes)
{
	uint8_t attrs[64], zero[4] = { 0 };
	size_t len = 0;

	len += nlb_attr(attrs, INET_DIAG_SHUTDOWN, zero, 1);
	len += nlb_attr(attrs + len, INET_DIAG_SKV6ONLY, zero, 1);
	len += nlb_attr(attrs + len, INET_DIAG_MARK, zero, 4);
	len += nlb_attr(attrs + len, INET_DIAG_PAD, NULL, 0);
	len += nlb_attr(attrs + len, INET_DIAG_CGROUP_ID, &id, sizeof(id));
	ck_assert_uint_eq(decode_cgroup_id(attrs, len), id);
}
END_TEST

/* TIME_WAIT and request sockets, and kernels before 5.8. */
START_TEST(tcps_record_decode__no_cgroup_id_is_0)
{
	uint8_t attrs[64] = { 0 }, zero[4] = { 0 };
	size_t len = 0;

	ck_assert_uint_eq(decode_cgroup_id(attrs, 0), 0);
	len += nlb_attr(attrs, INET_DIAG_SHUTDOWN, zero, 1);
	len += nlb_attr(attrs + len, INET_DIAG_MARK, zero, 4);
	ck_assert_uint_eq(decode_cgroup_id(attrs, len), 0);
}
END_TEST

/* A broken attribute ends the walk: nothing is read past the payload,
 * nothing past the attribute's own length, the record still decodes. */
START_TEST(tcps_record_decode__broken_attributes_give_no_cgroup_id)
{
	uint8_t attrs[64], zero[4] = { 0 };
	size_t len = nlb_attr(attrs, INET_DIAG_SHUTDOWN, zero, 1);

	/* The id cut short by the payload's end. */
	nlb_attr(attrs + len, INET_DIAG_CGROUP_ID, &id, sizeof(id));
	ck_assert_uint_eq(decode_cgroup_id(attrs, len + 4 + 7), 0);
	/* Three bytes: less than a header. */
	ck_assert_uint_eq(decode_cgroup_id(attrs, len + 3), 0);
	/* An attribute that claims only 4 of the id's bytes. */
	len += nlb_attr(attrs + len, INET_DIAG_CGROUP_ID, zero, 4);
	ck_assert_uint_eq(decode_cgroup_id(attrs, len), 0);
	/* A length below the header's own: the walk would never end. */
	attrs[0] = 2;
	attrs[1] = 0;
	ck_assert_uint_eq(decode_cgroup_id(attrs, len), 0);
}
END_TEST

Suite *record_suite(void)
{
	Suite *s = suite_create("record");
	TCase *tc = tcase_create("decode");

	tcase_add_test(tc, tcps_record_decode__every_field_at_any_alignment);
	tcase_add_test(tc, tcps_record_decode__ipv4_takes_the_first_four_bytes);
	tcase_add_test(tc, tcps_record_decode__foreign_family_is_refused);
	tcase_add_test(
		tc, tcps_record_decode__longer_payload_is_read_to_the_message);
	tcase_add_test(tc, tcps_record_decode__cgroup_id_after_shutdown);
	tcase_add_test(tc,
		       tcps_record_decode__cgroup_id_after_other_attributes);
	tcase_add_test(tc, tcps_record_decode__no_cgroup_id_is_0);
	tcase_add_test(tc,
		       tcps_record_decode__broken_attributes_give_no_cgroup_id);
	suite_add_tcase(s, tc);
	return s;
}

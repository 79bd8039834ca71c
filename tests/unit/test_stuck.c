/* Stuck senders: retransmits, zero windows, unacknowledged bytes. */
#include <string.h>
#include <sys/socket.h>

#include "capture.h"
#include "suites.h"
#include "tcpstates/options.h"
#include "tcpstates/record.h"
#include "tcpstates/stuck.h"

static struct capture cap;
static struct tcps_sink sink;

static void setup(void)
{
	capture_reset(&cap);
	sink = capture_sink(&cap);
}

static struct tcps_stuck *make(uint32_t threshold)
{
	struct tcps_stuck_config cfg = { .retransmit_threshold = threshold };
	struct tcps_stuck *s = NULL;

	ck_assert_int_eq(tcps_stuck_new(&cfg, &s), 0);
	ck_assert_ptr_nonnull(s);
	return s;
}

static void observe(struct tcps_stuck *s, int state, int timer, int retrans,
		    uint32_t wqueue)
{
	struct tcps_record r;

	memset(&r, 0, sizeof(r));
	r.family = AF_INET6;
	r.state = (uint8_t)state;
	r.timer = (uint8_t)timer;
	r.retrans = (uint8_t)retrans;
	r.local_port = 40000;
	r.remote_port = 443;
	r.wqueue = wqueue;
	tcps_stuck_observe(s, &r);
}

/* Ends the interval and checks the three values, in their order, all
 * under "stuck"; the observer never notifies. */
static void expect(struct tcps_stuck *s, double retransmitting,
		   double zero_window, double unacknowledged)
{
	static const char *const names[][2] = {
		{ "tcp_connections", "retransmitting" },
		{ "tcp_connections", "zero_window" },
		{ "bytes", "unacknowledged" },
	};
	const double want[] = { retransmitting, zero_window, unacknowledged };

	capture_reset(&cap);
	tcps_stuck_end(s, &sink);
	ck_assert_int_eq(cap.values_num, 3);
	ck_assert_int_eq(cap.notes_num, 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_str_eq(cap.values[i].instance, "stuck");
		ck_assert_str_eq(cap.values[i].type, names[i][0]);
		ck_assert_str_eq(cap.values[i].type_instance, names[i][1]);
		ck_assert_double_eq(cap.values[i].value, want[i]);
	}
}

START_TEST(tcps_stuck_end__zeros_without_sockets)
{
	struct tcps_options defaults;
	struct tcps_stuck *s;

	tcps_options_init(&defaults);
	s = make(defaults.retransmit_threshold);

	tcps_stuck_begin(s);
	expect(s, 0, 0, 0);
	tcps_stuck_free(s);
	tcps_stuck_free(NULL);
}
END_TEST

START_TEST(tcps_stuck_observe__retransmitting_above_threshold_only)
{
	struct tcps_stuck *s = make(3);

	tcps_stuck_begin(s);
	observe(s, TCPS_ESTABLISHED, 1, 4, 0);	 /* counts */
	observe(s, TCPS_ESTABLISHED, 1, 255, 0); /* counts */
	observe(s, TCPS_ESTABLISHED, 1, 3, 0);	 /* at the threshold */
	observe(s, TCPS_ESTABLISHED, 2, 9, 0);	 /* keepalive probes */
	observe(s, TCPS_CLOSE_WAIT, 1, 9, 0);	 /* not ESTABLISHED */
	observe(s, TCPS_SYN_SENT, 1, 9, 0);	 /* SYN retransmits */
	expect(s, 2, 0, 0);
	tcps_stuck_free(s);
}
END_TEST

START_TEST(tcps_stuck_observe__threshold_zero_counts_any_retransmit)
{
	struct tcps_stuck *s = make(0);

	tcps_stuck_begin(s);
	observe(s, TCPS_ESTABLISHED, 1, 1, 0);
	observe(s, TCPS_ESTABLISHED, 1, 0, 0); /* timer armed, no retransmit */
	expect(s, 1, 0, 0);
	tcps_stuck_free(s);
}
END_TEST

START_TEST(tcps_stuck_observe__zero_window_in_any_state)
{
	struct tcps_stuck *s = make(3);

	tcps_stuck_begin(s);
	observe(s, TCPS_ESTABLISHED, 4, 0, 0);
	observe(s, TCPS_FIN_WAIT1, 4, 7, 1);
	observe(s, TCPS_CLOSE_WAIT, 4, 0, 0);
	observe(s, 200, 4, 0, 0);		/* unknown state */
	observe(s, TCPS_ESTABLISHED, 4, 99, 0); /* probes are not retransmits */
	observe(s, TCPS_ESTABLISHED, 3, 0, 0);
	expect(s, 0, 5, 0);
	tcps_stuck_free(s);
}
END_TEST

START_TEST(tcps_stuck_observe__unacknowledged_bytes_are_data_only)
{
	struct tcps_stuck *s = make(3);

	tcps_stuck_begin(s);
	observe(s, TCPS_ESTABLISHED, 1, 0, 100);
	observe(s, TCPS_CLOSE_WAIT, 0, 0, 20);
	observe(s, TCPS_LISTEN, 0, 0, 4096); /* the backlog, not bytes */
	observe(s, TCPS_SYN_SENT, 1, 0, 1);  /* the SYN only */
	observe(s, TCPS_FIN_WAIT1, 1, 0, 8); /* 7 bytes and the FIN */
	observe(s, TCPS_LAST_ACK, 1, 0, 6);  /* 5 bytes and the FIN */
	observe(s, TCPS_CLOSING, 1, 0, 1);   /* the FIN only */
	observe(s, TCPS_FIN_WAIT1, 0, 0, 0); /* never below zero */
	observe(s, TCPS_TIME_WAIT, 3, 0, 0);
	observe(s, 13, 0, 0, 10); /* unknown state: its queue counts */
	expect(s, 0, 0, 100 + 20 + 7 + 5 + 10);
	tcps_stuck_free(s);
}
END_TEST

START_TEST(tcps_stuck_end__sum_beyond_32_bits)
{
	struct tcps_stuck *s = make(3);

	tcps_stuck_begin(s);
	observe(s, TCPS_ESTABLISHED, 0, 0, UINT32_MAX);
	observe(s, TCPS_ESTABLISHED, 0, 0, UINT32_MAX);
	expect(s, 0, 0, 2.0 * UINT32_MAX);
	tcps_stuck_free(s);
}
END_TEST

START_TEST(tcps_stuck_abort__emits_nothing_next_interval_afresh)
{
	struct tcps_stuck *s = make(3);

	tcps_stuck_begin(s);
	observe(s, TCPS_ESTABLISHED, 1, 5, 10);
	expect(s, 1, 0, 10);

	tcps_stuck_begin(s);
	observe(s, TCPS_ESTABLISHED, 4, 0, 10);
	capture_reset(&cap);
	tcps_stuck_abort(s);
	ck_assert_int_eq(cap.values_num, 0);

	tcps_stuck_begin(s);
	observe(s, TCPS_ESTABLISHED, 0, 0, 3);
	expect(s, 0, 0, 3);
	tcps_stuck_free(s);
}
END_TEST

Suite *stuck_suite(void)
{
	Suite *s = suite_create("stuck");
	TCase *tc = tcase_create("values");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, tcps_stuck_end__zeros_without_sockets);
	tcase_add_test(tc,
		       tcps_stuck_observe__retransmitting_above_threshold_only);
	tcase_add_test(
		tc, tcps_stuck_observe__threshold_zero_counts_any_retransmit);
	tcase_add_test(tc, tcps_stuck_observe__zero_window_in_any_state);
	tcase_add_test(tc,
		       tcps_stuck_observe__unacknowledged_bytes_are_data_only);
	tcase_add_test(tc, tcps_stuck_end__sum_beyond_32_bits);
	tcase_add_test(tc,
		       tcps_stuck_abort__emits_nothing_next_interval_afresh);
	suite_add_tcase(s, tc);
	return s;
}

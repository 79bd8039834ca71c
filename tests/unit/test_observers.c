/* The observers as one: created from the options, fed records, every
 * state emitted at the end, the report filled, abort forgetting the
 * interval. */
#include <string.h>
#include <sys/socket.h>

#include "capture.h"
#include "suites.h"
#include "tcpstates/leaks.h"
#include "tcpstates/observers.h"

static struct capture cap;

static struct tcps_record record(uint8_t state, uint16_t local_port)
{
	struct tcps_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.family = AF_INET;
	rec.state = state;
	rec.local_port = local_port;
	rec.remote_port = local_port == 80 ? 40000 : 80;
	rec.local_addr[0] = 127;
	rec.remote_addr[0] = 127;
	return rec;
}

static void feed(struct tcps_observers *obs)
{
	struct tcps_record recs[] = {
		record(TCPS_ESTABLISHED, 80),
		record(TCPS_ESTABLISHED, 80),
		record(TCPS_LISTEN, 80),
		record(TCPS_TIME_WAIT, 80),
		record(99, 80), /* a state the kernel may add one day */
	};

	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		tcps_observers_observe(&recs[i], obs);
}

START_TEST(tcps_observers_end__emits_every_state_and_fills_the_report)
{
	struct tcps_options opts;
	struct tcps_observers *obs;
	struct tcps_observers_report report;
	struct tcps_sink sink = capture_sink(&cap);

	tcps_options_init(&opts);
	ck_assert_int_eq(tcps_observers_new(&opts, &obs), 0);
	capture_reset(&cap);
	tcps_observers_begin(obs);
	feed(obs);
	memset(&report, 0xff, sizeof(report));
	tcps_observers_end(obs, 1000, &sink, &report);
	for (int state = TCPS_STATE_FIRST; state <= TCPS_STATE_UNKNOWN; state++)
		ck_assert_int_eq(capture_count(&cap, "", "tcp_connections",
					       tcps_state_name(state)),
				 1);
	ck_assert_double_eq(
		capture_get(&cap, "", "tcp_connections", "ESTABLISHED"), 2);
	ck_assert_double_eq(capture_get(&cap, "", "tcp_connections", "LISTEN"),
			    1);
	ck_assert_double_eq(capture_get(&cap, "", "tcp_connections", "UNKNOWN"),
			    1);
	ck_assert_uint_eq(tcps_observers_states(obs)->count[TCPS_ESTABLISHED],
			  2);
	/* The leak finder runs by default: its stats are in the report. */
	ck_assert_ptr_nonnull(report.leaks);
	ck_assert_int_eq(report.leaks_error, 0);
	ck_assert_uint_eq(report.destinations_overflow, 0);
	tcps_observers_free(obs);
}
END_TEST

START_TEST(tcps_observers_end__without_leak_finder_reports_no_stats)
{
	struct tcps_options opts;
	struct tcps_observers *obs;
	struct tcps_observers_report report;
	struct tcps_sink sink = capture_sink(&cap);

	tcps_options_init(&opts);
	opts.process_states = 0;
	ck_assert_int_eq(tcps_observers_new(&opts, &obs), 0);
	tcps_observers_begin(obs);
	feed(obs);
	tcps_observers_end(obs, 1000, &sink, &report);
	ck_assert_ptr_null(report.leaks);
	ck_assert_int_eq(report.leaks_error, 0);
	tcps_observers_free(obs);
}
END_TEST

START_TEST(tcps_observers_abort__forgets_the_interval)
{
	struct tcps_options opts;
	struct tcps_observers *obs;
	struct tcps_observers_report report;
	struct tcps_sink sink = capture_sink(&cap);

	tcps_options_init(&opts);
	ck_assert_int_eq(tcps_observers_new(&opts, &obs), 0);
	tcps_observers_begin(obs);
	feed(obs);
	tcps_observers_abort(obs);
	ck_assert_uint_eq(tcps_observers_states(obs)->count[TCPS_ESTABLISHED],
			  0);
	/* The next interval counts from zero. */
	capture_reset(&cap);
	tcps_observers_begin(obs);
	feed(obs);
	tcps_observers_end(obs, 2000, &sink, &report);
	ck_assert_double_eq(
		capture_get(&cap, "", "tcp_connections", "ESTABLISHED"), 2);
	tcps_observers_free(obs);
}
END_TEST

START_TEST(tcps_observers_free__accepts_null)
{
	tcps_observers_free(NULL);
}
END_TEST

Suite *observers_suite(void)
{
	Suite *s = suite_create("observers");
	TCase *tc = tcase_create("interval");

	tcase_add_test(
		tc, tcps_observers_end__emits_every_state_and_fills_the_report);
	tcase_add_test(
		tc, tcps_observers_end__without_leak_finder_reports_no_stats);
	tcase_add_test(tc, tcps_observers_abort__forgets_the_interval);
	tcase_add_test(tc, tcps_observers_free__accepts_null);
	suite_add_tcase(s, tc);
	return s;
}

/* The observers as one: created from the options, fed records, every
 * state emitted at the end, the report filled, abort forgetting the
 * interval. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

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

/* A proc tree holding only the port range, as "LOW HIGH". */
static void write_port_range(const char *root, int low)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/sys", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/sys/net", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/sys/net/ipv4", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/sys/net/ipv4/ip_local_port_range",
		 root);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%d\t60999\n", low);
	ck_assert_int_eq(fclose(f), 0);
}

static void remove_port_range(const char *root)
{
	static const char *const paths[] = {
		"/sys/net/ipv4/ip_local_port_range", "/sys/net/ipv4",
		"/sys/net", "/sys", ""
	};
	char path[256];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", root, paths[i]);
		ck_assert_int_eq(remove(path), 0);
	}
}

static double port_range_low_after_interval(struct tcps_observers *obs)
{
	struct tcps_observers_report report;
	struct tcps_sink sink = capture_sink(&cap);

	capture_reset(&cap);
	tcps_observers_begin(obs);
	tcps_observers_end(obs, 1000, &sink, &report);
	ck_assert_int_eq(report.sysctls_error, 0);
	return capture_get(&cap, "sysctl", "gauge", "ip_local_port_range_low");
}

START_TEST(tcps_observers_begin__sysctls_read_every_n_reads)
{
	char root[] = "/tmp/tcps-observers-XXXXXX";
	struct tcps_options opts;
	struct tcps_observers *obs;

	ck_assert_ptr_nonnull(mkdtemp(root));
	write_port_range(root, 30000);
	tcps_options_init(&opts);
	opts.process_states = 0;
	opts.proc_root = root;
	opts.sysctls_every = 3;
	ck_assert_int_eq(tcps_observers_new(&opts, &obs), 0);
	ck_assert_double_eq(port_range_low_after_interval(obs), 30000);
	write_port_range(root, 31000);
	ck_assert_double_eq(port_range_low_after_interval(obs), 30000);
	ck_assert_double_eq(port_range_low_after_interval(obs), 30000);
	ck_assert_double_eq(port_range_low_after_interval(obs), 31000);
	tcps_observers_free(obs);
	/* Every read, by default. */
	opts.sysctls_every = 0;
	ck_assert_int_eq(tcps_observers_new(&opts, &obs), 0);
	ck_assert_double_eq(port_range_low_after_interval(obs), 31000);
	write_port_range(root, 32000);
	ck_assert_double_eq(port_range_low_after_interval(obs), 32000);
	tcps_observers_free(obs);
	remove_port_range(root);
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
	tcase_add_test(tc, tcps_observers_begin__sysctls_read_every_n_reads);
	tcase_add_test(tc, tcps_observers_free__accepts_null);
	suite_add_tcase(s, tc);
	return s;
}

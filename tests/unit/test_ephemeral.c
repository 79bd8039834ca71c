/* Ephemeral ports per destination, TIME_WAIT split. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "capture.h"
#include "suites.h"
#include "tcpstates/ephemeral.h"
#include "tcpstates/record.h"
#include "tcpstates/sysctls.h"

static struct capture cap;
static struct tcps_sink sink;

_Static_assert(CAPTURE_NOTES_MAX > TCPS_EPHEMERAL_MAX_WARNED,
	       "one interval's WARNINGs all fit in the capture");

/* ---- records and sysctls made up for the tests ---- */

static struct tcps_record make_rec(int family, int state, const char *laddr,
				   uint16_t lport, const char *raddr,
				   uint16_t rport)
{
	struct tcps_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.family = (uint8_t)family;
	rec.state = (uint8_t)state;
	rec.local_port = lport;
	rec.remote_port = rport;
	ck_assert_int_eq(inet_pton(family, laddr, rec.local_addr), 1);
	ck_assert_int_eq(inet_pton(family, raddr, rec.remote_addr), 1);
	return rec;
}

/* n sockets from laddr toward raddr:rport on consecutive local ports. */
static void observe_many(struct tcps_ephemeral *e, int family, int state,
			 const char *laddr, uint16_t first_port,
			 const char *raddr, uint16_t rport, int n)
{
	for (int i = 0; i < n; i++) {
		struct tcps_record rec =
			make_rec(family, state, laddr,
				 (uint16_t)(first_port + i), raddr, rport);

		tcps_ephemeral_observe(e, &rec);
	}
}

/* 200 ephemeral ports, 32768-32967, none reserved. */
static struct tcps_sysctls sys200(void)
{
	struct tcps_sysctls sys;

	memset(&sys, 0, sizeof(sys));
	sys.port_low = 32768;
	sys.port_high = 32967;
	sys.ephemeral_ports = 200;
	sys.tw_reuse = 2;
	sys.max_tw_buckets = 262144;
	sys.fin_timeout = 60;
	return sys;
}

static struct tcps_ephemeral *new_observer(double warning, uint32_t max)
{
	struct tcps_ephemeral_config cfg = { .warning_percent = warning,
					     .max_destinations = max };
	struct tcps_ephemeral *e = NULL;

	ck_assert_int_eq(tcps_ephemeral_new(&cfg, &e), 0);
	ck_assert_ptr_nonnull(e);
	return e;
}

/* One interval of n sockets from 10.0.0.1 toward 10.0.0.5:5432. */
static void interval_toward_db(struct tcps_ephemeral *e,
			       const struct tcps_sysctls *sys, int n)
{
	struct tcps_port_set listening;

	tcps_port_set_clear(&listening);
	capture_reset(&cap);
	tcps_ephemeral_begin(e, sys);
	observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 32768,
		     "10.0.0.5", 5432, n);
	tcps_ephemeral_end(e, &listening, &sink);
}

static void setup(void)
{
	capture_reset(&cap);
	sink = capture_sink(&cap);
}

/* ---- observer configuration ---- */

START_TEST(tcps_ephemeral_new__rejects_config_out_of_range)
{
	static const struct tcps_ephemeral_config bad[] = {
		{ .warning_percent = 0, .max_destinations = 10 },
		{ .warning_percent = -5, .max_destinations = 10 },
		{ .warning_percent = 100.5, .max_destinations = 10 },
		{ .warning_percent = 80, .max_destinations = 0 },
		{ .warning_percent = 80,
		  .max_destinations = TCPS_EPHEMERAL_MAX_DESTINATIONS + 1 },
	};
	struct tcps_ephemeral_config nan_cfg = { .warning_percent = NAN,
						 .max_destinations = 10 };
	struct tcps_ephemeral *e = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(tcps_ephemeral_new(&bad[i], &e), -EINVAL);
	ck_assert_int_eq(tcps_ephemeral_new(&nan_cfg, &e), -EINVAL);
	ck_assert_ptr_null(e);
	tcps_ephemeral_free(new_observer(100, 1));
	tcps_ephemeral_free(NULL);
}
END_TEST

/* ---- grouping ---- */

START_TEST(tcps_ephemeral_observe__groups_by_destination)
{
	struct tcps_ephemeral *e = new_observer(80, 64);
	struct tcps_sysctls sys = sys200();
	struct tcps_port_set listening;
	struct tcps_record rec;

	sys.ephemeral_ports = 199;
	tcps_port_set_add(&sys.reserved, 32900);
	tcps_port_set_clear(&listening);
	tcps_ephemeral_begin(e, &sys);
	observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 32768,
		     "10.0.0.5", 5432, 10);
	observe_many(e, AF_INET, TCPS_TIME_WAIT, "10.0.0.1", 32778, "10.0.0.5",
		     5432, 5);
	/* Same peer, another port or another local address: others. */
	observe_many(e, AF_INET, TCPS_SYN_SENT, "10.0.0.1", 32768, "10.0.0.5",
		     6432, 7);
	observe_many(e, AF_INET, TCPS_CLOSE_WAIT, "10.0.0.2", 32768, "10.0.0.5",
		     5432, 6);
	observe_many(e, AF_INET6, TCPS_FIN_WAIT1, "2001:db8::1", 32768,
		     "2001:db8::5", 443, 12);
	/* Not counted: a listener, a server side, a reserved local port. */
	rec = make_rec(AF_INET, TCPS_LISTEN, "0.0.0.0", 32800, "0.0.0.0", 0);
	tcps_ephemeral_observe(e, &rec);
	observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 5432, "10.0.0.9",
		     32768, 3);
	observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 32900,
		     "10.0.0.5", 5432, 1);
	tcps_ephemeral_end(e, &listening, &sink);

	ck_assert_double_eq(
		capture_get(&cap, "ephemeral", "count", "ports_available"),
		199);
	ck_assert_double_eq(
		capture_get(&cap, "ephemeral", "count", "ports_in_use"),
		10 + 5 + 7 + 6 + 12);
	ck_assert_double_eq(
		capture_get(&cap, "ephemeral", "count", "busiest_destination"),
		15);
	ck_assert_double_eq(capture_get(&cap, "ephemeral", "percent",
					"busiest_destination"),
			    100.0 * 15 / 199);
	ck_assert_double_eq(capture_get(&cap, "ephemeral", "count",
					"destinations_over_warning"),
			    0);
	ck_assert_int_eq(cap.notes_num, 0);
	ck_assert_uint_eq(tcps_ephemeral_overflow(e), 0);
	tcps_ephemeral_free(e);
}
END_TEST

START_TEST(tcps_ephemeral_observe__ipv6_can_be_busiest)
{
	struct tcps_ephemeral *e = new_observer(80, 64);
	struct tcps_sysctls sys = sys200();

	tcps_ephemeral_begin(e, &sys);
	observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 32768,
		     "10.0.0.5", 5432, 3);
	observe_many(e, AF_INET6, TCPS_ESTABLISHED, "2001:db8::1", 32768,
		     "2001:db8::5", 443, 4);
	observe_many(e, AF_INET6, TCPS_ESTABLISHED, "2001:db8::1", 32800,
		     "2001:db8::6", 443, 2);
	tcps_ephemeral_end(e, NULL, &sink);
	ck_assert_double_eq(
		capture_get(&cap, "ephemeral", "count", "busiest_destination"),
		4);
	ck_assert_double_eq(
		capture_get(&cap, "ephemeral", "count", "ports_in_use"), 9);
	tcps_ephemeral_free(e);
}
END_TEST

START_TEST(tcps_ephemeral_observe__v4_mapped_joins_ipv4)
{
	struct tcps_ephemeral *e = new_observer(80, 64);
	struct tcps_sysctls sys = sys200();

	tcps_ephemeral_begin(e, &sys);
	observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 32768,
		     "10.0.0.5", 5432, 3);
	observe_many(e, AF_INET6, TCPS_ESTABLISHED, "::ffff:10.0.0.1", 32780,
		     "::ffff:10.0.0.5", 5432, 2);
	tcps_ephemeral_end(e, NULL, &sink);
	ck_assert_double_eq(
		capture_get(&cap, "ephemeral", "count", "busiest_destination"),
		5);
	tcps_ephemeral_free(e);
}
END_TEST

START_TEST(tcps_ephemeral_end__percent_is_exact)
{
	struct tcps_ephemeral *e = new_observer(80, 64);
	struct tcps_sysctls sys = sys200();

	interval_toward_db(e, &sys, 190);
	ck_assert_double_eq(capture_get(&cap, "ephemeral", "percent",
					"busiest_destination"),
			    95.0);
	ck_assert_double_eq(
		capture_get(&cap, "ephemeral", "count", "busiest_destination"),
		190);
	ck_assert_double_eq(capture_get(&cap, "ephemeral", "count",
					"destinations_over_warning"),
			    1);
	tcps_ephemeral_free(e);
}
END_TEST

START_TEST(tcps_ephemeral_end__names_every_value)
{
	struct tcps_ephemeral *e = new_observer(80, 64);
	struct tcps_sysctls sys = sys200();
	struct tcps_port_set listening;

	/* No records at all: every value still comes, as zeros. */
	tcps_port_set_clear(&listening);
	tcps_ephemeral_begin(e, &sys);
	tcps_ephemeral_end(e, &listening, &sink);
	ck_assert_int_eq(cap.values_num, 13);
	ck_assert_double_eq(
		capture_get(&cap, "ephemeral", "count", "ports_in_use"), 0);
	ck_assert_double_eq(
		capture_get(&cap, "ephemeral", "count", "busiest_destination"),
		0);
	ck_assert_double_eq(capture_get(&cap, "ephemeral", "percent",
					"busiest_destination"),
			    0);
	ck_assert_double_eq(
		capture_get(&cap, "timewait", "tcp_connections", "server"), 0);
	ck_assert_double_eq(
		capture_get(&cap, "timewait", "tcp_connections", "client"), 0);
	ck_assert_double_eq(
		capture_get(&cap, "timewait", "percent", "of_max_tw_buckets"),
		0);
	ck_assert_double_eq(
		capture_get(&cap, "sysctl", "gauge", "tcp_tw_reuse"), 2);
	ck_assert_double_eq(
		capture_get(&cap, "sysctl", "count", "tcp_max_tw_buckets"),
		262144);
	ck_assert_double_eq(
		capture_get(&cap, "sysctl", "duration", "tcp_fin_timeout"), 60);
	ck_assert_double_eq(
		capture_get(&cap, "sysctl", "gauge", "ip_local_port_range_low"),
		32768);
	ck_assert_double_eq(capture_get(&cap, "sysctl", "gauge",
					"ip_local_port_range_high"),
			    32967);

	/* An unreadable sysctl is left out, never sent as 0. */
	capture_reset(&cap);
	sys.tw_reuse = -1;
	sys.max_tw_buckets = -1;
	tcps_ephemeral_begin(e, &sys);
	tcps_ephemeral_end(e, &listening, &sink);
	ck_assert_int_eq(cap.values_num, 10);
	ck_assert(!capture_has(&cap, "sysctl", "gauge", "tcp_tw_reuse"));
	ck_assert(!capture_has(&cap, "sysctl", "count", "tcp_max_tw_buckets"));
	ck_assert(
		!capture_has(&cap, "timewait", "percent", "of_max_tw_buckets"));
	tcps_ephemeral_free(e);
}
END_TEST

START_TEST(tcps_ephemeral_end__over_the_bucket_limit_reads_100)
{
	struct tcps_ephemeral *e = new_observer(80, 64);
	struct tcps_sysctls sys = sys200();
	struct tcps_port_set listening;

	/* tcp_max_tw_buckets lowered under the TIME_WAIT sockets there. */
	sys.max_tw_buckets = 10;
	tcps_port_set_clear(&listening);
	tcps_ephemeral_begin(e, &sys);
	observe_many(e, AF_INET, TCPS_TIME_WAIT, "10.0.0.1", 32768, "10.0.0.5",
		     5432, 15);
	tcps_ephemeral_end(e, &listening, &sink);
	ck_assert_double_eq(
		capture_get(&cap, "timewait", "percent", "of_max_tw_buckets"),
		100);
	capture_reset(&cap);
	tcps_ephemeral_begin(e, &sys);
	observe_many(e, AF_INET, TCPS_TIME_WAIT, "10.0.0.1", 32768, "10.0.0.5",
		     5432, 5);
	tcps_ephemeral_end(e, &listening, &sink);
	ck_assert_double_eq(
		capture_get(&cap, "timewait", "percent", "of_max_tw_buckets"),
		50);
	tcps_ephemeral_free(e);
}
END_TEST

START_TEST(tcps_ephemeral_begin__without_sysctls_no_percentages)
{
	struct tcps_ephemeral *e = new_observer(80, 64);
	struct tcps_port_set listening;

	tcps_port_set_clear(&listening);
	tcps_ephemeral_begin(e, NULL);
	observe_many(e, AF_INET, TCPS_TIME_WAIT, "10.0.0.1", 32768, "10.0.0.5",
		     5432, 190);
	tcps_ephemeral_end(e, &listening, &sink);
	ck_assert_int_eq(cap.values_num, 2);
	ck_assert_double_eq(
		capture_get(&cap, "timewait", "tcp_connections", "client"),
		190);
	ck_assert_double_eq(
		capture_get(&cap, "timewait", "tcp_connections", "server"), 0);
	ck_assert_int_eq(cap.notes_num, 0);
	tcps_ephemeral_free(e);
}
END_TEST

/* ---- notifications ---- */

START_TEST(tcps_ephemeral_end__warns_once_then_okay)
{
	struct tcps_ephemeral *e = new_observer(80, 64);
	struct tcps_sysctls sys = sys200();

	interval_toward_db(e, &sys, 190);
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_int_eq(cap.notes[0].severity, TCPS_SEVERITY_WARNING);
	ck_assert_str_eq(cap.notes[0].instance, "ephemeral");
	ck_assert_str_eq(cap.notes[0].type, "percent");
	ck_assert_str_eq(cap.notes[0].type_instance, "busiest_destination");
	ck_assert_str_eq(cap.notes[0].message,
			 "ephemeral ports toward 10.0.0.5:5432 from 10.0.0.1: "
			 "190 of 200 in use (95.0%, warning at 80%); "
			 "ip_local_port_range 32768-32967, 0 reserved, "
			 "tcp_tw_reuse 2, tcp_max_tw_buckets 262144, "
			 "tcp_fin_timeout 60");

	interval_toward_db(e, &sys, 170); /* still above: no repeat */
	ck_assert_int_eq(cap.notes_num, 0);
	interval_toward_db(e, &sys, 100);
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_int_eq(cap.notes[0].severity, TCPS_SEVERITY_OKAY);
	ck_assert_str_eq(cap.notes[0].message,
			 "ephemeral ports toward 10.0.0.5:5432 from 10.0.0.1: "
			 "100 of 200 in use (50.0%), back below warning at "
			 "80%");
	interval_toward_db(e, &sys, 100);
	ck_assert_int_eq(cap.notes_num, 0);
	tcps_ephemeral_free(e);
}
END_TEST

START_TEST(tcps_ephemeral_end__okay_when_destination_disappears)
{
	struct tcps_ephemeral *e = new_observer(80, 64);
	struct tcps_sysctls sys = sys200();

	interval_toward_db(e, &sys, 190);
	ck_assert_int_eq(cap.notes_num, 1);
	interval_toward_db(e, &sys, 0);
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_int_eq(cap.notes[0].severity, TCPS_SEVERITY_OKAY);
	ck_assert_ptr_nonnull(strstr(cap.notes[0].message,
				     "10.0.0.5:5432 from 10.0.0.1: 0 of 200"));
	interval_toward_db(e, &sys, 0);
	ck_assert_int_eq(cap.notes_num, 0);
	interval_toward_db(e, &sys, 190); /* a new episode warns again */
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_int_eq(cap.notes[0].severity, TCPS_SEVERITY_WARNING);
	tcps_ephemeral_free(e);
}
END_TEST

/* A sink that takes values only: the WARNING and the OKAY are dropped,
 * every value still arrives. */
START_TEST(tcps_ephemeral_end__sink_without_notify_gets_values)
{
	struct tcps_sink values_only = capture_sink(&cap);
	struct tcps_ephemeral *e = new_observer(80, 64);
	struct tcps_sysctls sys = sys200();
	struct tcps_port_set listening;
	const int counts[] = { 190, 100 }; /* over the warning, back under */

	values_only.notify = NULL;
	tcps_port_set_clear(&listening);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		capture_reset(&cap);
		tcps_ephemeral_begin(e, &sys);
		observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 32768,
			     "10.0.0.5", 5432, counts[i]);
		tcps_ephemeral_end(e, &listening, &values_only);
		ck_assert_int_eq(cap.notes_num, 0);
		ck_assert_double_eq(
			capture_get(&cap, "ephemeral", "count", "ports_in_use"),
			counts[i]);
		ck_assert_double_eq(capture_get(&cap, "ephemeral", "percent",
						"busiest_destination"),
				    counts[i] / 2.0);
		ck_assert_double_eq(capture_get(&cap, "ephemeral", "count",
						"destinations_over_warning"),
				    i == 0 ? 1 : 0);
	}
	tcps_ephemeral_free(e);
}
END_TEST

START_TEST(tcps_ephemeral_end__warning_level_is_inclusive)
{
	struct tcps_ephemeral *e = new_observer(80, 64);
	struct tcps_sysctls sys = sys200();

	interval_toward_db(e, &sys, 159);
	ck_assert_int_eq(cap.notes_num, 0);
	ck_assert_double_eq(capture_get(&cap, "ephemeral", "count",
					"destinations_over_warning"),
			    0);
	interval_toward_db(e, &sys, 160); /* exactly 80.0% */
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_double_eq(capture_get(&cap, "ephemeral", "count",
					"destinations_over_warning"),
			    1);
	tcps_ephemeral_free(e);
}
END_TEST

START_TEST(tcps_ephemeral_end__ipv6_warning_message)
{
	struct tcps_ephemeral *e = new_observer(50, 64);
	struct tcps_sysctls sys = sys200();

	sys.tw_reuse = -1;
	tcps_ephemeral_begin(e, &sys);
	observe_many(e, AF_INET6, TCPS_SYN_SENT, "2001:db8::1", 32768,
		     "2001:db8::5", 443, 100);
	tcps_ephemeral_end(e, NULL, &sink);
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_str_eq(cap.notes[0].message,
			 "ephemeral ports toward [2001:db8::5]:443 from "
			 "2001:db8::1: 100 of 200 in use (50.0%, warning at "
			 "50%); ip_local_port_range 32768-32967, 0 reserved, "
			 "tcp_tw_reuse unknown, tcp_max_tw_buckets 262144, "
			 "tcp_fin_timeout 60");
	tcps_ephemeral_free(e);
}
END_TEST

START_TEST(tcps_ephemeral_abort__keeps_state_emits_nothing)
{
	struct tcps_ephemeral *e = new_observer(80, 64);
	struct tcps_sysctls sys = sys200();
	struct tcps_port_set listening;

	tcps_port_set_clear(&listening);
	interval_toward_db(e, &sys, 190);
	ck_assert_int_eq(cap.notes_num, 1);

	/* A failed dump that saw the destination vanish, then one that saw
	 * only TIME_WAITs: both discarded. */
	capture_reset(&cap);
	tcps_ephemeral_begin(e, &sys);
	tcps_ephemeral_abort(e);
	tcps_ephemeral_begin(e, &sys);
	observe_many(e, AF_INET, TCPS_TIME_WAIT, "10.0.0.1", 40000, "10.0.0.5",
		     5432, 7);
	tcps_ephemeral_abort(e);
	ck_assert_int_eq(cap.values_num, 0);
	ck_assert_int_eq(cap.notes_num, 0);

	/* Still in warning: no repeat; the aborted TIME_WAITs are gone. */
	tcps_ephemeral_begin(e, &sys);
	observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 32768,
		     "10.0.0.5", 5432, 180);
	tcps_ephemeral_end(e, &listening, &sink);
	ck_assert_int_eq(cap.notes_num, 0);
	ck_assert_double_eq(
		capture_get(&cap, "timewait", "tcp_connections", "client"), 0);
	interval_toward_db(e, &sys, 10);
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_int_eq(cap.notes[0].severity, TCPS_SEVERITY_OKAY);
	tcps_ephemeral_free(e);
}
END_TEST

START_TEST(tcps_ephemeral_begin__without_sysctls_state_kept)
{
	struct tcps_ephemeral *e = new_observer(80, 64);
	struct tcps_sysctls sys = sys200();

	interval_toward_db(e, &sys, 190);
	ck_assert_int_eq(cap.notes_num, 1);
	interval_toward_db(e, NULL, 0); /* no level: no OKAY on a guess */
	ck_assert_int_eq(cap.notes_num, 0);
	ck_assert(!capture_has(&cap, "ephemeral", "percent",
			       "busiest_destination"));
	ck_assert(!capture_has(&cap, "ephemeral", "count", "ports_in_use"));
	interval_toward_db(e, &sys, 190);
	ck_assert_int_eq(cap.notes_num, 0);
	tcps_ephemeral_free(e);
}
END_TEST

START_TEST(tcps_ephemeral_end__remembered_warnings_bounded)
{
	/* One ephemeral port: every destination with a socket is at 100%. */
	const int extra = 6, n = TCPS_EPHEMERAL_MAX_WARNED + extra;
	struct tcps_ephemeral *e = new_observer(80, 2048);
	struct tcps_sysctls sys = sys200();
	char raddr[32];

	sys.port_low = sys.port_high = 40000;
	sys.ephemeral_ports = 1;
	tcps_ephemeral_begin(e, &sys);
	for (int i = 0; i < n; i++) {
		snprintf(raddr, sizeof(raddr), "10.1.%d.%d", i / 256, i % 256);
		observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 40000,
			     raddr, 80, 1);
	}
	tcps_ephemeral_end(e, NULL, &sink);
	ck_assert_int_eq(cap.notes_num, TCPS_EPHEMERAL_MAX_WARNED);
	ck_assert_uint_eq(tcps_ephemeral_overflow(e), extra);
	ck_assert_double_eq(capture_get(&cap, "ephemeral", "count",
					"destinations_over_warning"),
			    n);
	tcps_ephemeral_free(e);
}
END_TEST

/* ---- TIME_WAIT ---- */

START_TEST(tcps_ephemeral_end__timewait_split_by_listener)
{
	struct tcps_ephemeral *e = new_observer(80, 64);
	struct tcps_sysctls sys = sys200();
	struct tcps_port_set listening;

	tcps_port_set_clear(&listening);
	tcps_port_set_add(&listening, 80);
	tcps_ephemeral_begin(e, &sys);
	/* Server side: clients on many ports closed by our port 80. */
	for (int i = 0; i < 5; i++) {
		struct tcps_record rec =
			i < 3 ? make_rec(AF_INET, TCPS_TIME_WAIT, "10.0.0.1",
					 80, "10.0.0.7", (uint16_t)(50000 + i))
			      : make_rec(AF_INET6, TCPS_TIME_WAIT,
					 "2001:db8::1", 80, "2001:db8::7",
					 (uint16_t)(50000 + i));

		tcps_ephemeral_observe(e, &rec);
	}
	observe_many(e, AF_INET, TCPS_TIME_WAIT, "10.0.0.1", 32768, "10.0.0.5",
		     5432, 4);
	observe_many(e, AF_INET, TCPS_TIME_WAIT, "10.0.0.1", 32768, "10.0.0.6",
		     5432, 2);
	observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 80, "10.0.0.7",
		     50000, 9);
	tcps_ephemeral_end(e, &listening, &sink);
	ck_assert_double_eq(
		capture_get(&cap, "timewait", "tcp_connections", "server"), 5);
	ck_assert_double_eq(
		capture_get(&cap, "timewait", "tcp_connections", "client"), 6);

	/* The next interval starts from zero on every port. */
	capture_reset(&cap);
	tcps_ephemeral_begin(e, &sys);
	observe_many(e, AF_INET, TCPS_TIME_WAIT, "10.0.0.1", 80, "10.0.0.7",
		     50000, 1);
	tcps_ephemeral_end(e, &listening, &sink);
	ck_assert_double_eq(
		capture_get(&cap, "timewait", "tcp_connections", "server"), 1);
	ck_assert_double_eq(
		capture_get(&cap, "timewait", "tcp_connections", "client"), 0);

	/* Listeners unknown: no split rather than a wrong one. */
	capture_reset(&cap);
	tcps_ephemeral_begin(e, &sys);
	tcps_ephemeral_end(e, NULL, &sink);
	ck_assert(!capture_has(&cap, "timewait", "tcp_connections", "server"));
	ck_assert(!capture_has(&cap, "timewait", "tcp_connections", "client"));
	tcps_ephemeral_free(e);
}
END_TEST

START_TEST(tcps_ephemeral_observe__tw_buckets_include_orphaned_fin_wait2)
{
	struct tcps_ephemeral *e = new_observer(80, 64);
	struct tcps_sysctls sys = sys200();
	struct tcps_record rec;

	sys.max_tw_buckets = 1000;
	tcps_ephemeral_begin(e, &sys);
	observe_many(e, AF_INET, TCPS_TIME_WAIT, "10.0.0.1", 32768, "10.0.0.5",
		     5432, 6);
	for (int i = 0; i < 6; i++) {
		rec = make_rec(AF_INET, TCPS_FIN_WAIT2, "10.0.0.1",
			       (uint16_t)(32800 + i), "10.0.0.5", 5432);
		rec.timer = i < 4 ? 3 : 2; /* 2: a full socket, keepalive */
		tcps_ephemeral_observe(e, &rec);
	}
	tcps_ephemeral_end(e, NULL, &sink);
	ck_assert_double_eq(
		capture_get(&cap, "timewait", "percent", "of_max_tw_buckets"),
		1.0);

	capture_reset(&cap);
	sys.max_tw_buckets = 0; /* no division by zero, no value */
	tcps_ephemeral_begin(e, &sys);
	tcps_ephemeral_end(e, NULL, &sink);
	ck_assert(
		!capture_has(&cap, "timewait", "percent", "of_max_tw_buckets"));
	tcps_ephemeral_free(e);
}
END_TEST

/* ---- bounds ---- */

START_TEST(tcps_ephemeral_overflow__counts_sockets_a_full_table_refused)
{
	struct tcps_ephemeral *e = new_observer(80, 4);
	struct tcps_sysctls sys = sys200();
	char raddr[32];

	tcps_ephemeral_begin(e, &sys);
	for (int i = 0; i < 6; i++) {
		snprintf(raddr, sizeof(raddr), "10.0.1.%d", i);
		observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1",
			     (uint16_t)(32768 + i), raddr, 80, 1);
	}
	/* A stored destination keeps counting while the table is full. */
	observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 32800,
		     "10.0.1.0", 80, 9);
	tcps_ephemeral_end(e, NULL, &sink);
	ck_assert_uint_eq(tcps_ephemeral_overflow(e), 2);
	ck_assert_double_eq(
		capture_get(&cap, "ephemeral", "count", "ports_in_use"), 15);
	ck_assert_double_eq(
		capture_get(&cap, "ephemeral", "count", "busiest_destination"),
		10);

	/* A new interval has room again. */
	capture_reset(&cap);
	tcps_ephemeral_begin(e, &sys);
	ck_assert_uint_eq(tcps_ephemeral_overflow(e), 0);
	tcps_ephemeral_free(e);
}
END_TEST

START_TEST(tcps_ephemeral_end__no_okay_guessed_from_full_table)
{
	struct tcps_ephemeral *e = new_observer(80, 2);
	struct tcps_sysctls sys = sys200();

	interval_toward_db(e, &sys, 190);
	ck_assert_int_eq(cap.notes_num, 1);

	/* The table fills before the warned destination shows up. */
	capture_reset(&cap);
	tcps_ephemeral_begin(e, &sys);
	observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 32768,
		     "10.0.2.1", 80, 1);
	observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 32768,
		     "10.0.2.2", 80, 1);
	observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 32768,
		     "10.0.0.5", 5432, 190);
	tcps_ephemeral_end(e, NULL, &sink);
	ck_assert_uint_eq(tcps_ephemeral_overflow(e), 190);
	ck_assert_int_eq(cap.notes_num, 0);
	tcps_ephemeral_free(e);
}
END_TEST

START_TEST(tcps_ephemeral_begin__intervals_reuse_the_table)
{
	struct tcps_ephemeral *e = new_observer(80, 8);
	struct tcps_sysctls sys = sys200();
	char raddr[32];

	/* Eight fresh destinations every interval, never more than fit. */
	for (int round = 0; round < 50; round++) {
		capture_reset(&cap);
		tcps_ephemeral_begin(e, &sys);
		for (int i = 0; i < 8; i++) {
			snprintf(raddr, sizeof(raddr), "10.%d.0.%d", round, i);
			observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1",
				     32768, raddr, 80, i + 1);
		}
		tcps_ephemeral_end(e, NULL, &sink);
		ck_assert_uint_eq(tcps_ephemeral_overflow(e), 0);
		ck_assert_double_eq(capture_get(&cap, "ephemeral", "count",
						"busiest_destination"),
				    8);
	}
	tcps_ephemeral_free(e);
}
END_TEST

START_TEST(tcps_ephemeral_observe__table_grows_within_an_interval)
{
	struct tcps_ephemeral *e = new_observer(80, 5000);
	struct tcps_sysctls sys = sys200();
	char raddr[32];

	/* The busy destination passes the level before the table grows
	 * (it starts at 1024 slots). */
	tcps_ephemeral_begin(e, &sys);
	observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 32768,
		     "10.0.0.5", 5432, 170);
	for (int i = 0; i < 3000; i++) {
		snprintf(raddr, sizeof(raddr), "10.1.%d.%d", i / 200, i % 200);
		observe_many(e, AF_INET, TCPS_TIME_WAIT, "10.0.0.1", 32800,
			     raddr, 80, 1);
	}
	/* A smaller one after the growth must not take the busiest's place. */
	observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 32768,
		     "10.0.0.6", 5432, 5);
	tcps_ephemeral_end(e, NULL, &sink);
	ck_assert_uint_eq(tcps_ephemeral_overflow(e), 0);
	ck_assert_double_eq(
		capture_get(&cap, "ephemeral", "count", "ports_in_use"),
		170 + 3000 + 5);
	ck_assert_double_eq(
		capture_get(&cap, "ephemeral", "count", "busiest_destination"),
		170);
	ck_assert_double_eq(capture_get(&cap, "ephemeral", "count",
					"destinations_over_warning"),
			    1);
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_ptr_nonnull(strstr(cap.notes[0].message, "10.0.0.5:5432"));

	/* The next interval starts in the grown table, same answers. */
	capture_reset(&cap);
	tcps_ephemeral_begin(e, &sys);
	for (int i = 0; i < 3000; i++) {
		snprintf(raddr, sizeof(raddr), "10.2.%d.%d", i / 200, i % 200);
		observe_many(e, AF_INET, TCPS_TIME_WAIT, "10.0.0.1", 32800,
			     raddr, 80, 1);
	}
	observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 32768,
		     "10.0.0.5", 5432, 175);
	tcps_ephemeral_end(e, NULL, &sink);
	ck_assert_uint_eq(tcps_ephemeral_overflow(e), 0);
	ck_assert_double_eq(
		capture_get(&cap, "ephemeral", "count", "busiest_destination"),
		175);
	ck_assert_int_eq(cap.notes_num, 0); /* still warned: nothing new */
	tcps_ephemeral_free(e);
}
END_TEST

/* n destinations 10.3.x.y:80, one socket each. */
static void interval_of_destinations(struct tcps_ephemeral *e,
				     const struct tcps_sysctls *sys, int n)
{
	char raddr[32];

	capture_reset(&cap);
	tcps_ephemeral_begin(e, sys);
	for (int i = 0; i < n; i++) {
		snprintf(raddr, sizeof(raddr), "10.3.%d.%d", i / 200, i % 200);
		observe_many(e, AF_INET, TCPS_ESTABLISHED, "10.0.0.1", 32768,
			     raddr, 80, 1);
	}
	tcps_ephemeral_end(e, NULL, &sink);
}

/* A burst grows the table to 8192 slots (384 KiB); once a read needs a
 * quarter of that or less it goes back to what that read needed, so one
 * burst is not held until shutdown. A need that stays is not thrashed. */
START_TEST(tcps_ephemeral_slots__shrink_after_a_burst)
{
	struct tcps_ephemeral *e = new_observer(80, 5000);
	struct tcps_sysctls sys = sys200();
	uint32_t first = tcps_ephemeral_slots(e);

	interval_of_destinations(e, &sys, 3000);
	ck_assert_uint_ge(tcps_ephemeral_slots(e), 4096);
	interval_of_destinations(e, &sys, 5);
	ck_assert_double_eq(
		capture_get(&cap, "ephemeral", "count", "busiest_destination"),
		1);
	interval_of_destinations(e, &sys, 5);
	ck_assert_uint_eq(tcps_ephemeral_slots(e), first);
	ck_assert_uint_eq(tcps_ephemeral_overflow(e), 0);
	ck_assert_double_eq(
		capture_get(&cap, "ephemeral", "count", "ports_in_use"), 5);

	/* 700 destinations need 2048 slots, read after read. */
	for (int i = 0; i < 3; i++) {
		interval_of_destinations(e, &sys, 700);
		ck_assert_uint_eq(tcps_ephemeral_slots(e), 2048);
	}
	tcps_ephemeral_free(e);
}
END_TEST

Suite *ephemeral_suite(void)
{
	Suite *s = suite_create("ephemeral");
	TCase *groups = tcase_create("destinations");
	TCase *notify = tcase_create("notifications");
	TCase *timewait = tcase_create("timewait");
	TCase *bounds = tcase_create("bounds");

	tcase_add_checked_fixture(groups, setup, NULL);
	tcase_add_test(groups, tcps_ephemeral_new__rejects_config_out_of_range);
	tcase_add_test(groups, tcps_ephemeral_observe__groups_by_destination);
	tcase_add_test(groups,
		       tcps_ephemeral_observe__table_grows_within_an_interval);
	tcase_add_test(groups, tcps_ephemeral_observe__ipv6_can_be_busiest);
	tcase_add_test(groups, tcps_ephemeral_observe__v4_mapped_joins_ipv4);
	tcase_add_test(groups, tcps_ephemeral_end__percent_is_exact);
	tcase_add_test(groups, tcps_ephemeral_end__names_every_value);
	tcase_add_test(groups,
		       tcps_ephemeral_end__over_the_bucket_limit_reads_100);
	tcase_add_test(groups,
		       tcps_ephemeral_begin__without_sysctls_no_percentages);
	suite_add_tcase(s, groups);

	tcase_add_checked_fixture(notify, setup, NULL);
	tcase_add_test(notify, tcps_ephemeral_end__warns_once_then_okay);
	tcase_add_test(notify,
		       tcps_ephemeral_end__okay_when_destination_disappears);
	tcase_add_test(notify,
		       tcps_ephemeral_end__sink_without_notify_gets_values);
	tcase_add_test(notify, tcps_ephemeral_end__warning_level_is_inclusive);
	tcase_add_test(notify, tcps_ephemeral_end__ipv6_warning_message);
	tcase_add_test(notify, tcps_ephemeral_abort__keeps_state_emits_nothing);
	tcase_add_test(notify,
		       tcps_ephemeral_begin__without_sysctls_state_kept);
	tcase_add_test(notify, tcps_ephemeral_end__remembered_warnings_bounded);
	suite_add_tcase(s, notify);

	tcase_add_checked_fixture(timewait, setup, NULL);
	tcase_add_test(timewait,
		       tcps_ephemeral_end__timewait_split_by_listener);
	tcase_add_test(
		timewait,
		tcps_ephemeral_observe__tw_buckets_include_orphaned_fin_wait2);
	suite_add_tcase(s, timewait);

	tcase_add_checked_fixture(bounds, setup, NULL);
	tcase_add_test(
		bounds,
		tcps_ephemeral_overflow__counts_sockets_a_full_table_refused);
	tcase_add_test(bounds,
		       tcps_ephemeral_end__no_okay_guessed_from_full_table);
	tcase_add_test(bounds, tcps_ephemeral_begin__intervals_reuse_the_table);
	tcase_add_test(bounds, tcps_ephemeral_slots__shrink_after_a_burst);
	suite_add_tcase(s, bounds);
	return s;
}

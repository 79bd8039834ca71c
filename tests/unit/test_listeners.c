/* Listening ports: aggregation, ranking, totals, full-queue notifications. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "capture.h"
#include "suites.h"
#include "tcpstates/listeners.h"
#include "tcpstates/options.h"
#include "tcpstates/record.h"

static struct capture cap;
static struct tcps_sink sink;

static void setup(void)
{
	capture_reset(&cap);
	sink = capture_sink(&cap);
}

/* The value named so, which must have been emitted exactly once. */
static double value_of(const char *pi, const char *type, const char *ti)
{
	ck_assert_msg(capture_count(&cap, pi, type, ti) <= 1, "%s/%s-%s twice",
		      pi, type, ti);
	return capture_get(&cap, pi, type, ti);
}

/* The i-th value is the first of a port's three: its accept queue. */
static void port_at(int i, const char *port)
{
	ck_assert_int_lt(i + 2, cap.values_num);
	ck_assert_str_eq(cap.values[i].instance, "listen_queue");
	ck_assert_str_eq(cap.values[i + 1].instance, "listen_backlog");
	ck_assert_str_eq(cap.values[i + 2].instance, "listen_syn_recv");
	for (int k = 0; k < 3; k++)
		ck_assert_str_eq(cap.values[i + k].type_instance, port);
}

/* The i-th notification is about the port's accept queue. */
static void note_port(int i, const char *port)
{
	ck_assert_int_lt(i, cap.notes_num);
	ck_assert_str_eq(cap.notes[i].instance, "listen_queue");
	ck_assert_str_eq(cap.notes[i].type, "queue_length");
	ck_assert_str_eq(cap.notes[i].type_instance, port);
}

static struct tcps_record rec(int state, uint16_t lport, uint32_t rq,
			      uint32_t wq)
{
	struct tcps_record r;

	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	r.state = (uint8_t)state;
	r.local_port = lport;
	r.remote_port = state == TCPS_LISTEN ? 0 : 40000;
	r.rqueue = rq;
	r.wqueue = wq;
	return r;
}

static struct tcps_listeners *make(uint32_t top_n)
{
	struct tcps_listeners_config cfg = { .top_n = top_n };
	struct tcps_listeners *listeners = NULL;

	ck_assert_int_eq(tcps_listeners_new(&cfg, &listeners), 0);
	ck_assert_ptr_nonnull(listeners);
	return listeners;
}

static void observe(struct tcps_listeners *listeners, int state, uint16_t lport,
		    uint32_t rq, uint32_t wq)
{
	struct tcps_record r = rec(state, lport, rq, wq);

	tcps_listeners_observe(listeners, &r);
}

static void end(struct tcps_listeners *listeners)
{
	capture_reset(&cap);
	tcps_listeners_end(listeners, &sink);
}

START_TEST(tcps_listeners_end__no_sockets_only_totals)
{
	struct tcps_options defaults;
	struct tcps_listeners *listeners;

	tcps_options_init(&defaults);
	listeners = make(defaults.top_listeners);

	tcps_listeners_begin(listeners);
	end(listeners);
	ck_assert_int_eq(cap.values_num, 2);
	ck_assert_double_eq(value_of("listen", "count", "full_queues"), 0);
	ck_assert_double_eq(value_of("listen", "count", "listening_ports"), 0);
	ck_assert_int_eq(cap.notes_num, 0);
	tcps_listeners_free(listeners);
	tcps_listeners_free(NULL);
}
END_TEST

START_TEST(tcps_listeners_end__sums_the_sockets_of_a_port)
{
	struct tcps_listeners *listeners = make(10);

	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 8080, 2, 5);
	observe(listeners, TCPS_LISTEN, 8080, 1, 5); /* its IPv6 twin */
	for (int i = 0; i < 3; i++)
		observe(listeners, TCPS_SYN_RECV, 8080, 0, 0);
	observe(listeners, TCPS_SYN_RECV, 9999, 0,
		0); /* no listener: not listed */
	observe(listeners, TCPS_ESTABLISHED, 8080, 7, 9);
	observe(listeners, TCPS_TIME_WAIT, 8080, 0, 0);
	end(listeners);
	ck_assert_int_eq(cap.values_num, 5);
	ck_assert_double_eq(value_of("listen_queue", "queue_length", "8080"),
			    3);
	ck_assert_double_eq(value_of("listen_backlog", "queue_length", "8080"),
			    10);
	ck_assert_double_eq(
		value_of("listen_syn_recv", "tcp_connections", "8080"), 3);
	ck_assert_double_eq(value_of("listen", "count", "listening_ports"), 1);
	ck_assert_double_eq(value_of("listen", "count", "full_queues"), 0);
	ck_assert_int_eq(cap.notes_num, 0);
	tcps_listeners_free(listeners);
}
END_TEST

START_TEST(tcps_listeners_end__ranks_by_fill_then_queue_then_port)
{
	struct tcps_listeners *listeners = make(5);

	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 100, 1, 10);  /* 0.1 */
	observe(listeners, TCPS_LISTEN, 200, 5, 10);  /* 0.5 */
	observe(listeners, TCPS_LISTEN, 300, 10, 20); /* 0.5, larger queue */
	observe(listeners, TCPS_LISTEN, 50, 1, 10);   /* 0.1, lower port */
	observe(listeners, TCPS_LISTEN, 400, 1,
		0); /* waiting on a zero backlog */
	observe(listeners, TCPS_LISTEN, 500, 0, 0);   /* idle, zero backlog */
	observe(listeners, TCPS_LISTEN, 600, 0, 128); /* idle */
	end(listeners);
	/* Three values per listed port, then the two totals. */
	ck_assert_int_eq(cap.values_num, 5 * 3 + 2);
	port_at(0, "400");
	port_at(3, "300");
	port_at(6, "200");
	port_at(9, "50");
	port_at(12, "100");
	ck_assert_double_eq(value_of("listen", "count", "listening_ports"), 7);
	ck_assert_double_eq(value_of("listen", "count", "full_queues"), 1);
	tcps_listeners_free(listeners);
}
END_TEST

START_TEST(tcps_listeners_end__top_zero_lists_no_port)
{
	struct tcps_listeners *listeners = make(0);

	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 80, 6, 5);
	end(listeners);
	ck_assert_int_eq(cap.values_num, 2);
	ck_assert_double_eq(value_of("listen", "count", "full_queues"), 1);
	ck_assert_double_eq(value_of("listen", "count", "listening_ports"), 1);
	/* The notification does not depend on the port being listed. */
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_int_eq(cap.notes[0].severity, TCPS_SEVERITY_WARNING);
	tcps_listeners_free(listeners);
}
END_TEST

START_TEST(tcps_listeners_end__full_port_warns_once_then_okay)
{
	struct tcps_listeners *listeners = make(10);

	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 8080, 6, 5);
	end(listeners);
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_int_eq(cap.notes[0].severity, TCPS_SEVERITY_WARNING);
	note_port(0, "8080");
	ck_assert_str_eq(cap.notes[0].type, "queue_length");
	ck_assert_str_eq(
		cap.notes[0].message,
		"listener on port 8080: accept queue full (6 waiting, backlog "
		"5); new connections are being dropped: the application is "
		"not calling accept() fast enough, or the backlog is too "
		"small (somaxconn)");

	/* Still full: no repeat. */
	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 8080, 6, 5);
	end(listeners);
	ck_assert_int_eq(cap.notes_num, 0);
	ck_assert_double_eq(value_of("listen", "count", "full_queues"), 1);

	/* At the limit is not over it. */
	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 8080, 5, 5);
	end(listeners);
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_int_eq(cap.notes[0].severity, TCPS_SEVERITY_OKAY);
	note_port(0, "8080");
	ck_assert_str_eq(cap.notes[0].message,
			 "listener on port 8080: accept queue no longer full "
			 "(5 waiting, backlog 5)");

	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 8080, 5, 5);
	end(listeners);
	ck_assert_int_eq(cap.notes_num, 0);
	tcps_listeners_free(listeners);
}
END_TEST

START_TEST(tcps_listeners_end__okay_when_port_stops_listening)
{
	struct tcps_listeners *listeners = make(10);

	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 443, 129, 128);
	end(listeners);
	ck_assert_int_eq(cap.notes_num, 1);

	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_SYN_RECV, 443, 0, 0); /* a leftover handshake */
	end(listeners);
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_int_eq(cap.notes[0].severity, TCPS_SEVERITY_OKAY);
	ck_assert_str_eq(cap.notes[0].message,
			 "listener on port 443: no longer listening");
	/* Listed last time: sent once more, with zeros, then left out. */
	ck_assert_int_eq(cap.values_num, 3 + 2);
	ck_assert_double_eq(value_of("listen_queue", "queue_length", "443"), 0);
	ck_assert_double_eq(value_of("listen_backlog", "queue_length", "443"),
			    0);
	ck_assert_double_eq(
		value_of("listen_syn_recv", "tcp_connections", "443"), 0);
	tcps_listeners_begin(listeners);
	end(listeners);
	ck_assert_int_eq(cap.values_num, 2);

	/* Full again later: a new WARNING. */
	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 443, 129, 128);
	end(listeners);
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_int_eq(cap.notes[0].severity, TCPS_SEVERITY_WARNING);
	tcps_listeners_free(listeners);
}
END_TEST

START_TEST(tcps_listeners_end__full_when_any_socket_is_full)
{
	struct tcps_listeners *listeners = make(10);

	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 25, 2, 1);   /* this one drops SYNs */
	observe(listeners, TCPS_LISTEN, 25, 0, 100); /* the sum would hide it */
	end(listeners);
	ck_assert_double_eq(value_of("listen", "count", "full_queues"), 1);
	ck_assert_double_eq(value_of("listen_queue", "queue_length", "25"), 2);
	ck_assert_double_eq(value_of("listen_backlog", "queue_length", "25"),
			    101);
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_str_eq(cap.notes[0].message,
			 "listener on port 25: accept queue full (2 waiting, "
			 "backlog 101); new connections are being dropped: the "
			 "application is not calling accept() fast enough, or "
			 "the backlog is too small (somaxconn)");
	tcps_listeners_free(listeners);
}
END_TEST

START_TEST(tcps_listeners_end__notifies_full_ports_beyond_top_n)
{
	struct tcps_listeners *listeners = make(1);

	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 2000, 11, 10);
	observe(listeners, TCPS_LISTEN, 1000, 3, 2);
	observe(listeners, TCPS_LISTEN, 3000, 0, 10);
	end(listeners);
	ck_assert_int_eq(cap.values_num, 3 + 2);
	port_at(0, "1000");
	ck_assert_double_eq(value_of("listen", "count", "full_queues"), 2);
	ck_assert_int_eq(cap.notes_num, 2);
	note_port(0, "1000");
	note_port(1, "2000");
	tcps_listeners_free(listeners);
}
END_TEST

START_TEST(tcps_listeners_abort__keeps_notification_state)
{
	struct tcps_listeners *listeners = make(10);

	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 8080, 6, 5);
	end(listeners);
	ck_assert_int_eq(cap.notes_num, 1);

	/* A failed dump that saw the port recovered: nothing is said. */
	capture_reset(&cap);
	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 8080, 0, 5);
	ck_assert(tcps_port_set_has(tcps_listeners_ports(listeners), 8080));
	tcps_listeners_abort(listeners);
	ck_assert_int_eq(cap.values_num, 0);
	ck_assert_int_eq(cap.notes_num, 0);
	ck_assert(!tcps_port_set_has(tcps_listeners_ports(listeners), 8080));

	/* Still full in the next good dump: no second WARNING. */
	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 8080, 7, 5);
	end(listeners);
	ck_assert_int_eq(cap.notes_num, 0);
	ck_assert_double_eq(value_of("listen_queue", "queue_length", "8080"),
			    7);

	/* Abort, then recovered: the OKAY comes with the good dump. */
	tcps_listeners_begin(listeners);
	tcps_listeners_abort(listeners);
	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 8080, 1, 5);
	end(listeners);
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_int_eq(cap.notes[0].severity, TCPS_SEVERITY_OKAY);
	tcps_listeners_free(listeners);
}
END_TEST

START_TEST(tcps_listeners_ports__this_interval_only)
{
	struct tcps_listeners *listeners = make(10);
	const struct tcps_port_set *set;

	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 22, 0, 128);
	observe(listeners, TCPS_LISTEN, 65535, 0, 128);
	observe(listeners, TCPS_SYN_RECV, 80, 0, 0);
	observe(listeners, TCPS_ESTABLISHED, 443, 0, 0);
	end(listeners);
	set = tcps_listeners_ports(listeners);
	ck_assert(tcps_port_set_has(set, 22));
	ck_assert(tcps_port_set_has(set, 65535));
	ck_assert(!tcps_port_set_has(set, 80));
	ck_assert(!tcps_port_set_has(set, 443));

	/* A new interval starts from nothing. */
	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 80, 0, 128);
	end(listeners);
	ck_assert(!tcps_port_set_has(set, 22));
	ck_assert(tcps_port_set_has(set, 80));
	ck_assert_double_eq(value_of("listen", "count", "listening_ports"), 1);
	tcps_listeners_free(listeners);
}
END_TEST

START_TEST(tcps_listeners_begin__counts_start_afresh)
{
	struct tcps_listeners *listeners = make(10);

	for (int round = 1; round <= 3; round++) {
		tcps_listeners_begin(listeners);
		observe(listeners, TCPS_LISTEN, 8080, 1, 10);
		observe(listeners, TCPS_SYN_RECV, 8080, 0, 0);
		end(listeners);
		ck_assert_double_eq(
			value_of("listen_queue", "queue_length", "8080"), 1);
		ck_assert_double_eq(
			value_of("listen_syn_recv", "tcp_connections", "8080"),
			1);
	}
	tcps_listeners_free(listeners);
}
END_TEST

START_TEST(tcps_listeners_observe__ignores_unknown_states)
{
	struct tcps_listeners *listeners = make(10);
	const int odd[] = { 0, 12, 13, 200, 255 };

	tcps_listeners_begin(listeners);
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		observe(listeners, odd[i], 8080, 99, 1);
	end(listeners);
	ck_assert_int_eq(cap.values_num, 2);
	ck_assert_double_eq(value_of("listen", "count", "listening_ports"), 0);
	ck_assert_int_eq(cap.notes_num, 0);
	tcps_listeners_free(listeners);
}
END_TEST

static uint64_t counted_values, counted_notifs;

static int count_value(void *data, const struct tcps_value *value)
{
	(void)data;
	(void)value;
	counted_values++;
	return 0;
}

static int count_notif(void *data, const struct tcps_notification *notif)
{
	(void)data;
	ck_assert_uint_lt(strlen(notif->message), 256);
	counted_notifs++;
	return 0;
}

START_TEST(tcps_listeners_end__every_port_listening_and_full)
{
	const struct tcps_sink counter = { .value = count_value,
					   .notify = count_notif };
	struct tcps_listeners *listeners = make(UINT32_MAX);

	for (int round = 0; round < 2; round++) {
		counted_values = counted_notifs = 0;
		tcps_listeners_begin(listeners);
		for (uint32_t port = 0; port < 65536; port++) {
			observe(listeners, TCPS_LISTEN, (uint16_t)port,
				UINT32_MAX, UINT32_MAX - 1);
			observe(listeners, TCPS_LISTEN, (uint16_t)port,
				UINT32_MAX, UINT32_MAX - 1);
			observe(listeners, TCPS_SYN_RECV, (uint16_t)port, 0, 0);
		}
		tcps_listeners_end(listeners, &counter);
		ck_assert_uint_eq(counted_values, 65536u * 3 + 2);
		ck_assert_uint_eq(counted_notifs, round == 0 ? 65536 : 0);
	}
	/* All of them clear at once. */
	counted_notifs = 0;
	tcps_listeners_begin(listeners);
	tcps_listeners_end(listeners, &counter);
	ck_assert_uint_eq(counted_notifs, 65536);
	tcps_listeners_free(listeners);
}
END_TEST

START_TEST(tcps_listeners_end__idle_listeners_not_listed)
{
	struct tcps_listeners *listeners = make(10);

	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 22, 0, 128);
	observe(listeners, TCPS_LISTEN, 80, 0, 4096);
	observe(listeners, TCPS_LISTEN, 443, 0, 4096);
	observe(listeners, TCPS_SYN_RECV, 443, 0, 0); /* a handshake: busy */
	end(listeners);
	ck_assert_int_eq(cap.values_num, 3 + 2);
	ck_assert_double_eq(
		value_of("listen_syn_recv", "tcp_connections", "443"), 1);
	ck_assert_double_eq(value_of("listen_backlog", "queue_length", "443"),
			    4096);
	ck_assert_double_eq(value_of("listen", "count", "listening_ports"), 3);
	tcps_listeners_free(listeners);
}
END_TEST

START_TEST(tcps_listeners_end__drained_port_sent_once_more)
{
	struct tcps_listeners *listeners = make(10);

	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 8080, 7, 128);
	end(listeners);
	ck_assert_double_eq(value_of("listen_queue", "queue_length", "8080"),
			    7);

	/* Drained: its values once more (queue 0, the backlog it has)... */
	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 8080, 0, 128);
	end(listeners);
	ck_assert_int_eq(cap.values_num, 3 + 2);
	ck_assert_double_eq(value_of("listen_queue", "queue_length", "8080"),
			    0);
	ck_assert_double_eq(value_of("listen_backlog", "queue_length", "8080"),
			    128);

	/* ...then only the totals while it stays idle. */
	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 8080, 0, 128);
	end(listeners);
	ck_assert_int_eq(cap.values_num, 2);
	tcps_listeners_free(listeners);
}
END_TEST

START_TEST(tcps_listeners_end__port_pushed_out_of_the_top_sent_once)
{
	struct tcps_listeners *listeners = make(1);

	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 1000, 1, 10);
	end(listeners);
	ck_assert_int_eq(cap.values_num, 3 + 2);

	/* A fuller port takes the only place: 1000 gets its true values one
	 * last time. */
	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 1000, 1, 10);
	observe(listeners, TCPS_LISTEN, 2000, 9, 10);
	end(listeners);
	ck_assert_int_eq(cap.values_num, 3 + 3 + 2);
	port_at(0, "2000");
	ck_assert_double_eq(value_of("listen_queue", "queue_length", "1000"),
			    1);

	tcps_listeners_begin(listeners);
	observe(listeners, TCPS_LISTEN, 1000, 1, 10);
	observe(listeners, TCPS_LISTEN, 2000, 9, 10);
	end(listeners);
	ck_assert_int_eq(cap.values_num, 3 + 2);
	tcps_listeners_free(listeners);
}
END_TEST

Suite *listeners_suite(void)
{
	Suite *s = suite_create("listeners");
	TCase *values = tcase_create("values");
	TCase *notifs = tcase_create("notifications");
	TCase *bounds = tcase_create("bounds");

	tcase_add_checked_fixture(values, setup, NULL);
	tcase_add_checked_fixture(notifs, setup, NULL);
	tcase_add_checked_fixture(bounds, setup, NULL);
	tcase_add_test(values, tcps_listeners_end__no_sockets_only_totals);
	tcase_add_test(values, tcps_listeners_end__sums_the_sockets_of_a_port);
	tcase_add_test(values,
		       tcps_listeners_end__ranks_by_fill_then_queue_then_port);
	tcase_add_test(values, tcps_listeners_end__top_zero_lists_no_port);
	tcase_add_test(values, tcps_listeners_ports__this_interval_only);
	tcase_add_test(values, tcps_listeners_begin__counts_start_afresh);
	tcase_add_test(values, tcps_listeners_observe__ignores_unknown_states);
	tcase_add_test(values, tcps_listeners_end__idle_listeners_not_listed);
	tcase_add_test(values, tcps_listeners_end__drained_port_sent_once_more);
	tcase_add_test(
		values,
		tcps_listeners_end__port_pushed_out_of_the_top_sent_once);
	tcase_add_test(notifs,
		       tcps_listeners_end__full_port_warns_once_then_okay);
	tcase_add_test(notifs,
		       tcps_listeners_end__okay_when_port_stops_listening);
	tcase_add_test(notifs,
		       tcps_listeners_end__full_when_any_socket_is_full);
	tcase_add_test(notifs,
		       tcps_listeners_end__notifies_full_ports_beyond_top_n);
	tcase_add_test(notifs, tcps_listeners_abort__keeps_notification_state);
	tcase_add_test(bounds,
		       tcps_listeners_end__every_port_listening_and_full);
	suite_add_tcase(s, values);
	suite_add_tcase(s, notifs);
	suite_add_tcase(s, bounds);
	return s;
}

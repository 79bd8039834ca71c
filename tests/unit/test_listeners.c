/* Listening ports: aggregation, ranking, totals, full-queue notifications. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "suites.h"
#include "tcpstates/listeners.h"
#include "tcpstates/options.h"
#include "tcpstates/record.h"

#define CAP 64

struct got_value {
	char plugin_instance[32], type[32], type_instance[32];
	double value;
};

struct got_notif {
	int severity;
	char plugin_instance[32], type[32], type_instance[32];
	char message[512];
};

static struct {
	struct got_value v[CAP];
	struct got_notif n[CAP];
	int values, notifs;
} got;

static void copy(char *dst, size_t size, const char *src)
{
	ck_assert_uint_lt(strlen(src), size);
	strcpy(dst, src);
}

static int capture_value(void *data, const struct tcps_value *value)
{
	struct got_value *v;

	(void)data;
	ck_assert_int_lt(got.values, CAP);
	v = &got.v[got.values++];
	copy(v->plugin_instance, sizeof(v->plugin_instance),
	     value->plugin_instance);
	copy(v->type, sizeof(v->type), value->type);
	copy(v->type_instance, sizeof(v->type_instance), value->type_instance);
	v->value = value->value;
	return 0;
}

static int capture_notif(void *data, const struct tcps_notification *notif)
{
	struct got_notif *n;

	(void)data;
	ck_assert_int_lt(got.notifs, CAP);
	n = &got.n[got.notifs++];
	n->severity = notif->severity;
	copy(n->plugin_instance, sizeof(n->plugin_instance),
	     notif->plugin_instance);
	copy(n->type, sizeof(n->type), notif->type);
	copy(n->type_instance, sizeof(n->type_instance), notif->type_instance);
	copy(n->message, sizeof(n->message), notif->message);
	return 0;
}

static const struct tcps_sink sink = { .value = capture_value,
				       .notify = capture_notif };

static void reset_got(void)
{
	memset(&got, 0, sizeof(got));
}

/* The value named so, which must have been emitted exactly once. */
static double value_of(const char *pi, const char *type, const char *ti)
{
	int found = -1;

	for (int i = 0; i < got.values; i++) {
		if (strcmp(got.v[i].plugin_instance, pi) ||
		    strcmp(got.v[i].type, type) ||
		    strcmp(got.v[i].type_instance, ti))
			continue;
		ck_assert_msg(found < 0, "%s/%s-%s twice", pi, type, ti);
		found = i;
	}
	ck_assert_msg(found >= 0, "%s/%s-%s missing", pi, type, ti);
	return got.v[found].value;
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
	struct tcps_listeners *l = NULL;

	ck_assert_int_eq(tcps_listeners_new(&cfg, &l), 0);
	ck_assert_ptr_nonnull(l);
	return l;
}

static void observe(struct tcps_listeners *l, int state, uint16_t lport,
		    uint32_t rq, uint32_t wq)
{
	struct tcps_record r = rec(state, lport, rq, wq);

	tcps_listeners_observe(l, &r);
}

static void end(struct tcps_listeners *l)
{
	reset_got();
	tcps_listeners_end(l, &sink);
}

START_TEST(no_sockets)
{
	struct tcps_options defaults;
	struct tcps_listeners *l;

	tcps_options_init(&defaults);
	l = make(defaults.top_listeners);

	tcps_listeners_begin(l);
	end(l);
	ck_assert_int_eq(got.values, 2);
	ck_assert_double_eq(value_of("listen", "count", "full_queues"), 0);
	ck_assert_double_eq(value_of("listen", "count", "listening_ports"), 0);
	ck_assert_int_eq(got.notifs, 0);
	tcps_listeners_free(l);
	tcps_listeners_free(NULL);
}
END_TEST

START_TEST(sockets_on_one_port_are_summed)
{
	struct tcps_listeners *l = make(10);

	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 8080, 2, 5);
	observe(l, TCPS_LISTEN, 8080, 1, 5); /* its IPv6 twin */
	for (int i = 0; i < 3; i++)
		observe(l, TCPS_SYN_RECV, 8080, 0, 0);
	observe(l, TCPS_SYN_RECV, 9999, 0, 0); /* no listener: not listed */
	observe(l, TCPS_ESTABLISHED, 8080, 7, 9);
	observe(l, TCPS_TIME_WAIT, 8080, 0, 0);
	end(l);
	ck_assert_int_eq(got.values, 5);
	ck_assert_double_eq(
		value_of("listen-8080", "queue_length", "accept_queue"), 3);
	ck_assert_double_eq(value_of("listen-8080", "queue_length", "backlog"),
			    10);
	ck_assert_double_eq(
		value_of("listen-8080", "tcp_connections", "SYN_RECV"), 3);
	ck_assert_double_eq(value_of("listen", "count", "listening_ports"), 1);
	ck_assert_double_eq(value_of("listen", "count", "full_queues"), 0);
	ck_assert_int_eq(got.notifs, 0);
	tcps_listeners_free(l);
}
END_TEST

START_TEST(ranked_by_fill_then_queue_then_port)
{
	struct tcps_listeners *l = make(5);

	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 100, 1, 10);  /* 0.1 */
	observe(l, TCPS_LISTEN, 200, 5, 10);  /* 0.5 */
	observe(l, TCPS_LISTEN, 300, 10, 20); /* 0.5, larger queue */
	observe(l, TCPS_LISTEN, 50, 1, 10);   /* 0.1, lower port */
	observe(l, TCPS_LISTEN, 400, 1, 0);   /* waiting on a zero backlog */
	observe(l, TCPS_LISTEN, 500, 0, 0);   /* idle, zero backlog */
	observe(l, TCPS_LISTEN, 600, 0, 128); /* idle */
	end(l);
	/* Three values per listed port, then the two totals. */
	ck_assert_int_eq(got.values, 5 * 3 + 2);
	ck_assert_str_eq(got.v[0].plugin_instance, "listen-400");
	ck_assert_str_eq(got.v[3].plugin_instance, "listen-300");
	ck_assert_str_eq(got.v[6].plugin_instance, "listen-200");
	ck_assert_str_eq(got.v[9].plugin_instance, "listen-50");
	ck_assert_str_eq(got.v[12].plugin_instance, "listen-100");
	ck_assert_double_eq(value_of("listen", "count", "listening_ports"), 7);
	ck_assert_double_eq(value_of("listen", "count", "full_queues"), 1);
	tcps_listeners_free(l);
}
END_TEST

START_TEST(top_zero_lists_no_port)
{
	struct tcps_listeners *l = make(0);

	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 80, 6, 5);
	end(l);
	ck_assert_int_eq(got.values, 2);
	ck_assert_double_eq(value_of("listen", "count", "full_queues"), 1);
	ck_assert_double_eq(value_of("listen", "count", "listening_ports"), 1);
	/* The notification does not depend on the port being listed. */
	ck_assert_int_eq(got.notifs, 1);
	ck_assert_int_eq(got.n[0].severity, TCPS_SEVERITY_WARNING);
	tcps_listeners_free(l);
}
END_TEST

START_TEST(full_port_warns_once_then_okay)
{
	struct tcps_listeners *l = make(10);

	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 8080, 6, 5);
	end(l);
	ck_assert_int_eq(got.notifs, 1);
	ck_assert_int_eq(got.n[0].severity, TCPS_SEVERITY_WARNING);
	ck_assert_str_eq(got.n[0].plugin_instance, "listen-8080");
	ck_assert_str_eq(got.n[0].type, "queue_length");
	ck_assert_str_eq(got.n[0].type_instance, "accept_queue");
	ck_assert_str_eq(
		got.n[0].message,
		"listener on port 8080: accept queue full (6 waiting, backlog "
		"5); new connections are being dropped: the application is "
		"not calling accept() fast enough, or the backlog is too "
		"small (somaxconn)");

	/* Still full: no repeat. */
	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 8080, 6, 5);
	end(l);
	ck_assert_int_eq(got.notifs, 0);
	ck_assert_double_eq(value_of("listen", "count", "full_queues"), 1);

	/* At the limit is not over it. */
	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 8080, 5, 5);
	end(l);
	ck_assert_int_eq(got.notifs, 1);
	ck_assert_int_eq(got.n[0].severity, TCPS_SEVERITY_OKAY);
	ck_assert_str_eq(got.n[0].plugin_instance, "listen-8080");
	ck_assert_str_eq(got.n[0].message,
			 "listener on port 8080: accept queue no longer full "
			 "(5 waiting, backlog 5)");

	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 8080, 5, 5);
	end(l);
	ck_assert_int_eq(got.notifs, 0);
	tcps_listeners_free(l);
}
END_TEST

START_TEST(okay_when_port_stops_listening)
{
	struct tcps_listeners *l = make(10);

	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 443, 129, 128);
	end(l);
	ck_assert_int_eq(got.notifs, 1);

	tcps_listeners_begin(l);
	observe(l, TCPS_SYN_RECV, 443, 0, 0); /* a leftover handshake */
	end(l);
	ck_assert_int_eq(got.notifs, 1);
	ck_assert_int_eq(got.n[0].severity, TCPS_SEVERITY_OKAY);
	ck_assert_str_eq(got.n[0].message,
			 "listener on port 443: no longer listening");
	/* Listed last time: sent once more, with zeros, then left out. */
	ck_assert_int_eq(got.values, 3 + 2);
	ck_assert_double_eq(
		value_of("listen-443", "queue_length", "accept_queue"), 0);
	ck_assert_double_eq(value_of("listen-443", "queue_length", "backlog"),
			    0);
	ck_assert_double_eq(
		value_of("listen-443", "tcp_connections", "SYN_RECV"), 0);
	tcps_listeners_begin(l);
	end(l);
	ck_assert_int_eq(got.values, 2);

	/* Full again later: a new WARNING. */
	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 443, 129, 128);
	end(l);
	ck_assert_int_eq(got.notifs, 1);
	ck_assert_int_eq(got.n[0].severity, TCPS_SEVERITY_WARNING);
	tcps_listeners_free(l);
}
END_TEST

START_TEST(full_when_any_socket_is_full)
{
	struct tcps_listeners *l = make(10);

	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 25, 2, 1);   /* this one drops SYNs */
	observe(l, TCPS_LISTEN, 25, 0, 100); /* the sum would hide it */
	end(l);
	ck_assert_double_eq(value_of("listen", "count", "full_queues"), 1);
	ck_assert_double_eq(
		value_of("listen-25", "queue_length", "accept_queue"), 2);
	ck_assert_double_eq(value_of("listen-25", "queue_length", "backlog"),
			    101);
	ck_assert_int_eq(got.notifs, 1);
	ck_assert_str_eq(got.n[0].message,
			 "listener on port 25: accept queue full (2 waiting, "
			 "backlog 101); new connections are being dropped: the "
			 "application is not calling accept() fast enough, or "
			 "the backlog is too small (somaxconn)");
	tcps_listeners_free(l);
}
END_TEST

START_TEST(every_full_port_notified_beyond_top_n)
{
	struct tcps_listeners *l = make(1);

	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 2000, 11, 10);
	observe(l, TCPS_LISTEN, 1000, 3, 2);
	observe(l, TCPS_LISTEN, 3000, 0, 10);
	end(l);
	ck_assert_int_eq(got.values, 3 + 2);
	ck_assert_str_eq(got.v[0].plugin_instance, "listen-1000");
	ck_assert_double_eq(value_of("listen", "count", "full_queues"), 2);
	ck_assert_int_eq(got.notifs, 2);
	ck_assert_str_eq(got.n[0].plugin_instance, "listen-1000");
	ck_assert_str_eq(got.n[1].plugin_instance, "listen-2000");
	tcps_listeners_free(l);
}
END_TEST

START_TEST(abort_keeps_notification_state)
{
	struct tcps_listeners *l = make(10);

	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 8080, 6, 5);
	end(l);
	ck_assert_int_eq(got.notifs, 1);

	/* A failed dump that saw the port recovered: nothing is said. */
	reset_got();
	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 8080, 0, 5);
	ck_assert(tcps_port_set_has(tcps_listeners_ports(l), 8080));
	tcps_listeners_abort(l);
	ck_assert_int_eq(got.values, 0);
	ck_assert_int_eq(got.notifs, 0);
	ck_assert(!tcps_port_set_has(tcps_listeners_ports(l), 8080));

	/* Still full in the next good dump: no second WARNING. */
	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 8080, 7, 5);
	end(l);
	ck_assert_int_eq(got.notifs, 0);
	ck_assert_double_eq(
		value_of("listen-8080", "queue_length", "accept_queue"), 7);

	/* Abort, then recovered: the OKAY comes with the good dump. */
	tcps_listeners_begin(l);
	tcps_listeners_abort(l);
	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 8080, 1, 5);
	end(l);
	ck_assert_int_eq(got.notifs, 1);
	ck_assert_int_eq(got.n[0].severity, TCPS_SEVERITY_OKAY);
	tcps_listeners_free(l);
}
END_TEST

START_TEST(listening_set)
{
	struct tcps_listeners *l = make(10);
	const struct tcps_port_set *set;

	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 22, 0, 128);
	observe(l, TCPS_LISTEN, 65535, 0, 128);
	observe(l, TCPS_SYN_RECV, 80, 0, 0);
	observe(l, TCPS_ESTABLISHED, 443, 0, 0);
	end(l);
	set = tcps_listeners_ports(l);
	ck_assert(tcps_port_set_has(set, 22));
	ck_assert(tcps_port_set_has(set, 65535));
	ck_assert(!tcps_port_set_has(set, 80));
	ck_assert(!tcps_port_set_has(set, 443));

	/* A new interval starts from nothing. */
	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 80, 0, 128);
	end(l);
	ck_assert(!tcps_port_set_has(set, 22));
	ck_assert(tcps_port_set_has(set, 80));
	ck_assert_double_eq(value_of("listen", "count", "listening_ports"), 1);
	tcps_listeners_free(l);
}
END_TEST

START_TEST(counts_start_afresh_each_interval)
{
	struct tcps_listeners *l = make(10);

	for (int round = 1; round <= 3; round++) {
		tcps_listeners_begin(l);
		observe(l, TCPS_LISTEN, 8080, 1, 10);
		observe(l, TCPS_SYN_RECV, 8080, 0, 0);
		end(l);
		ck_assert_double_eq(
			value_of("listen-8080", "queue_length", "accept_queue"),
			1);
		ck_assert_double_eq(
			value_of("listen-8080", "tcp_connections", "SYN_RECV"),
			1);
	}
	tcps_listeners_free(l);
}
END_TEST

START_TEST(unknown_states_ignored)
{
	struct tcps_listeners *l = make(10);
	const int odd[] = { 0, 12, 13, 200, 255 };

	tcps_listeners_begin(l);
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		observe(l, odd[i], 8080, 99, 1);
	end(l);
	ck_assert_int_eq(got.values, 2);
	ck_assert_double_eq(value_of("listen", "count", "listening_ports"), 0);
	ck_assert_int_eq(got.notifs, 0);
	tcps_listeners_free(l);
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

START_TEST(every_port_listening_and_full)
{
	const struct tcps_sink counter = { .value = count_value,
					   .notify = count_notif };
	struct tcps_listeners *l = make(UINT32_MAX);

	for (int round = 0; round < 2; round++) {
		counted_values = counted_notifs = 0;
		tcps_listeners_begin(l);
		for (uint32_t port = 0; port < 65536; port++) {
			observe(l, TCPS_LISTEN, (uint16_t)port, UINT32_MAX,
				UINT32_MAX - 1);
			observe(l, TCPS_LISTEN, (uint16_t)port, UINT32_MAX,
				UINT32_MAX - 1);
			observe(l, TCPS_SYN_RECV, (uint16_t)port, 0, 0);
		}
		tcps_listeners_end(l, &counter);
		ck_assert_uint_eq(counted_values, 65536u * 3 + 2);
		ck_assert_uint_eq(counted_notifs, round == 0 ? 65536 : 0);
	}
	/* All of them clear at once. */
	counted_notifs = 0;
	tcps_listeners_begin(l);
	tcps_listeners_end(l, &counter);
	ck_assert_uint_eq(counted_notifs, 65536);
	tcps_listeners_free(l);
}
END_TEST

START_TEST(idle_listeners_are_not_listed)
{
	struct tcps_listeners *l = make(10);

	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 22, 0, 128);
	observe(l, TCPS_LISTEN, 80, 0, 4096);
	observe(l, TCPS_LISTEN, 443, 0, 4096);
	observe(l, TCPS_SYN_RECV, 443, 0, 0); /* a handshake: busy */
	end(l);
	ck_assert_int_eq(got.values, 3 + 2);
	ck_assert_double_eq(
		value_of("listen-443", "tcp_connections", "SYN_RECV"), 1);
	ck_assert_double_eq(value_of("listen-443", "queue_length", "backlog"),
			    4096);
	ck_assert_double_eq(value_of("listen", "count", "listening_ports"), 3);
	tcps_listeners_free(l);
}
END_TEST

START_TEST(quiet_port_sent_once_with_zeros)
{
	struct tcps_listeners *l = make(10);

	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 8080, 7, 128);
	end(l);
	ck_assert_double_eq(
		value_of("listen-8080", "queue_length", "accept_queue"), 7);

	/* Drained: its values once more (queue 0, the backlog it has)... */
	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 8080, 0, 128);
	end(l);
	ck_assert_int_eq(got.values, 3 + 2);
	ck_assert_double_eq(
		value_of("listen-8080", "queue_length", "accept_queue"), 0);
	ck_assert_double_eq(value_of("listen-8080", "queue_length", "backlog"),
			    128);

	/* ...then only the totals while it stays idle. */
	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 8080, 0, 128);
	end(l);
	ck_assert_int_eq(got.values, 2);
	tcps_listeners_free(l);
}
END_TEST

START_TEST(port_pushed_out_of_the_top_sent_once)
{
	struct tcps_listeners *l = make(1);

	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 1000, 1, 10);
	end(l);
	ck_assert_int_eq(got.values, 3 + 2);

	/* A fuller port takes the only place: 1000 gets its true values one
	 * last time. */
	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 1000, 1, 10);
	observe(l, TCPS_LISTEN, 2000, 9, 10);
	end(l);
	ck_assert_int_eq(got.values, 3 + 3 + 2);
	ck_assert_str_eq(got.v[0].plugin_instance, "listen-2000");
	ck_assert_double_eq(
		value_of("listen-1000", "queue_length", "accept_queue"), 1);

	tcps_listeners_begin(l);
	observe(l, TCPS_LISTEN, 1000, 1, 10);
	observe(l, TCPS_LISTEN, 2000, 9, 10);
	end(l);
	ck_assert_int_eq(got.values, 3 + 2);
	tcps_listeners_free(l);
}
END_TEST

Suite *listeners_suite(void)
{
	Suite *s = suite_create("listeners");
	TCase *values = tcase_create("values");
	TCase *notifs = tcase_create("notifications");
	TCase *bounds = tcase_create("bounds");

	tcase_add_test(values, no_sockets);
	tcase_add_test(values, sockets_on_one_port_are_summed);
	tcase_add_test(values, ranked_by_fill_then_queue_then_port);
	tcase_add_test(values, top_zero_lists_no_port);
	tcase_add_test(values, listening_set);
	tcase_add_test(values, counts_start_afresh_each_interval);
	tcase_add_test(values, unknown_states_ignored);
	tcase_add_test(values, idle_listeners_are_not_listed);
	tcase_add_test(values, quiet_port_sent_once_with_zeros);
	tcase_add_test(values, port_pushed_out_of_the_top_sent_once);
	tcase_add_test(notifs, full_port_warns_once_then_okay);
	tcase_add_test(notifs, okay_when_port_stops_listening);
	tcase_add_test(notifs, full_when_any_socket_is_full);
	tcase_add_test(notifs, every_full_port_notified_beyond_top_n);
	tcase_add_test(notifs, abort_keeps_notification_state);
	tcase_add_test(bounds, every_port_listening_and_full);
	suite_add_tcase(s, values);
	suite_add_tcase(s, notifs);
	suite_add_tcase(s, bounds);
	return s;
}

/* tcpconns-compatible per-port counts. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "capture.h"
#include "suites.h"
#include "tcpstates/ports.h"
#include "tcpstates/tally.h"

static struct capture cap;
static struct tcps_sink sink;

static void end(struct tcps_ports *p)
{
	capture_reset(&cap);
	tcps_ports_end(p, &sink);
	ck_assert_int_eq(cap.notes_num, 0);
}

/*
 * The tests name a block of 11 values as the old identifiers did: "all"
 * (set "all", type instance the state) or "80-local" (sets "local_<s>"
 * for each state s, type instance the port 80).
 */
static void block_of(const struct captured_value *v, char *buf, size_t size)
{
	const char *state = strchr(v->instance, '_');

	if (strcmp(v->instance, "all") == 0) {
		snprintf(buf, size, "all");
		return;
	}
	ck_assert_ptr_nonnull(state);
	snprintf(buf, size, "%s-%.*s", v->type_instance,
		 (int)(state - v->instance), v->instance);
}

/* The set of one state of a block: "all", or "local_established". */
static void set_of(const char *block, int state, char *buf, size_t size)
{
	const char *dash = strchr(block, '-');

	if (strcmp(block, "all") == 0)
		snprintf(buf, size, "all");
	else
		snprintf(buf, size, "%s_%s", dash + 1,
			 tcps_state_set_name(state));
}

/* How many blocks were emitted, checking each has the 11 states in
 * tcpconns' order, each under its own set ("all": its type instance). */
static int instances(void)
{
	char block[160], first[160], set[32];

	ck_assert_int_eq(cap.values_num % 11, 0);
	for (int i = 0; i < cap.values_num; i++) {
		int state = TCPS_STATE_FIRST + i % 11;

		ck_assert_str_eq(cap.values[i].type, "tcp_connections");
		block_of(&cap.values[i], block, sizeof(block));
		block_of(&cap.values[i - i % 11], first, sizeof(first));
		ck_assert_str_eq(block, first);
		set_of(block, state, set, sizeof(set));
		ck_assert_str_eq(cap.values[i].instance, set);
		if (strcmp(block, "all") == 0)
			ck_assert_str_eq(cap.values[i].type_instance,
					 tcps_state_name(state));
	}
	return cap.values_num / 11;
}

static const char *instance(int i)
{
	static char block[160];

	ck_assert_int_lt(i * 11, cap.values_num);
	block_of(&cap.values[i * 11], block, sizeof(block));
	return block;
}

static double count(const char *block, int state)
{
	char set[32], port[8];

	set_of(block, state, set, sizeof(set));
	if (strcmp(block, "all") == 0)
		return capture_get(&cap, set, "tcp_connections",
				   tcps_state_name(state));
	snprintf(port, sizeof(port), "%.*s", (int)strcspn(block, "-"), block);
	return capture_get(&cap, set, "tcp_connections", port);
}

static bool emitted(const char *block)
{
	char other[160];

	for (int i = 0; i < cap.values_num; i++) {
		block_of(&cap.values[i], other, sizeof(other));
		if (strcmp(other, block) == 0)
			return true;
	}
	return false;
}

static void observe(struct tcps_ports *p, int state, uint16_t lport,
		    uint16_t rport)
{
	struct tcps_record r;

	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	r.state = (uint8_t)state;
	r.local_port = lport;
	r.remote_port = rport;
	tcps_ports_observe(p, &r);
}

static struct tcps_ports *make(const struct tcps_ports_config *cfg)
{
	struct tcps_ports *p = NULL;

	ck_assert_int_eq(tcps_ports_new(cfg, &p), 0);
	ck_assert_ptr_nonnull(p);
	return p;
}

static struct tcps_ports_config cfg;

static void cfg_setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	capture_reset(&cap);
	sink = capture_sink(&cap);
}

START_TEST(tcps_ports_enabled__by_any_option)
{
	ck_assert(!tcps_ports_enabled(&cfg));
	cfg.listening = true;
	ck_assert(tcps_ports_enabled(&cfg));
	cfg.listening = false;
	cfg.all_summary = true;
	ck_assert(tcps_ports_enabled(&cfg));
	cfg.all_summary = false;
	tcps_port_set_add(&cfg.local, 65535);
	ck_assert(tcps_ports_enabled(&cfg));
	tcps_port_set_clear(&cfg.local);
	tcps_port_set_add(&cfg.remote, 1);
	ck_assert(tcps_ports_enabled(&cfg));
}
END_TEST

START_TEST(tcps_ports_new__refuses_port_zero)
{
	struct tcps_ports *p = NULL;

	tcps_port_set_add(&cfg.local, 0);
	ck_assert_int_eq(tcps_ports_new(&cfg, &p), -EINVAL);
	ck_assert_ptr_null(p);
	tcps_port_set_clear(&cfg.local);
	tcps_port_set_add(&cfg.remote, 0);
	ck_assert_int_eq(tcps_ports_new(&cfg, &p), -EINVAL);
	ck_assert_ptr_null(p);
}
END_TEST

START_TEST(tcps_ports_end__nothing_configured_emits_nothing)
{
	struct tcps_ports *p = make(&cfg);

	tcps_ports_begin(p);
	observe(p, TCPS_LISTEN, 22, 0);
	observe(p, TCPS_ESTABLISHED, 22, 50000);
	end(p);
	ck_assert_int_eq(cap.values_num, 0);
	tcps_ports_free(p);
	tcps_ports_free(NULL);
}
END_TEST

START_TEST(tcps_ports_end__zeros_without_sockets)
{
	struct tcps_ports *p;

	tcps_port_set_add(&cfg.local, 80);
	tcps_port_set_add(&cfg.remote, 443);
	cfg.listening = true;
	cfg.all_summary = true;
	p = make(&cfg);
	tcps_ports_begin(p);
	end(p);
	ck_assert_int_eq(instances(), 3);
	ck_assert_str_eq(instance(0), "all");
	ck_assert_str_eq(instance(1), "80-local");
	ck_assert_str_eq(instance(2), "443-remote");
	for (int i = 0; i < cap.values_num; i++)
		ck_assert_double_eq(cap.values[i].value, 0);
	tcps_ports_free(p);
}
END_TEST

START_TEST(tcps_ports_observe__local_and_remote_counts)
{
	struct tcps_ports *p;

	tcps_port_set_add(&cfg.local, 80);
	tcps_port_set_add(&cfg.remote, 443);
	p = make(&cfg);
	tcps_ports_begin(p);
	observe(p, TCPS_LISTEN, 80, 0);
	observe(p, TCPS_ESTABLISHED, 80, 50000); /* server side */
	observe(p, TCPS_ESTABLISHED, 50000, 80); /* its client: remote 80 */
	observe(p, TCPS_TIME_WAIT, 80, 50001);
	observe(p, TCPS_SYN_RECV, 80, 50002);
	observe(p, TCPS_ESTABLISHED, 40000, 443);
	observe(p, TCPS_ESTABLISHED, 40001, 443);
	observe(p, TCPS_CLOSE_WAIT, 40002, 443);
	observe(p, TCPS_ESTABLISHED, 443, 40003); /* local 443: not counted */
	end(p);
	ck_assert_int_eq(instances(), 2);
	ck_assert_str_eq(instance(0), "80-local");
	ck_assert_str_eq(instance(1), "443-remote");
	ck_assert_double_eq(count("80-local", TCPS_LISTEN), 1);
	ck_assert_double_eq(count("80-local", TCPS_ESTABLISHED), 1);
	ck_assert_double_eq(count("80-local", TCPS_TIME_WAIT), 1);
	ck_assert_double_eq(count("80-local", TCPS_SYN_RECV), 1);
	ck_assert_double_eq(count("80-local", TCPS_CLOSE_WAIT), 0);
	ck_assert_double_eq(count("443-remote", TCPS_ESTABLISHED), 2);
	ck_assert_double_eq(count("443-remote", TCPS_CLOSE_WAIT), 1);
	ck_assert_double_eq(count("443-remote", TCPS_LISTEN), 0);
	tcps_ports_free(p);
}
END_TEST

START_TEST(tcps_ports_observe__port_both_local_and_remote)
{
	struct tcps_ports *p;

	tcps_port_set_add(&cfg.local, 5000);
	tcps_port_set_add(&cfg.remote, 5000);
	p = make(&cfg);
	tcps_ports_begin(p);
	observe(p, TCPS_ESTABLISHED, 5000, 5000); /* connected to itself */
	observe(p, TCPS_ESTABLISHED, 5000, 6000);
	observe(p, TCPS_ESTABLISHED, 6000, 5000);
	end(p);
	ck_assert_int_eq(instances(), 2);
	ck_assert_str_eq(instance(0), "5000-local");
	ck_assert_str_eq(instance(1), "5000-remote");
	ck_assert_double_eq(count("5000-local", TCPS_ESTABLISHED), 2);
	ck_assert_double_eq(count("5000-remote", TCPS_ESTABLISHED), 2);
	tcps_ports_free(p);
}
END_TEST

START_TEST(tcps_ports_begin__listening_ports_found_each_interval)
{
	struct tcps_ports *p;

	cfg.listening = true;
	p = make(&cfg);
	tcps_ports_begin(p);
	observe(p, TCPS_LISTEN, 8080, 0);
	observe(p, TCPS_LISTEN, 8080, 0); /* IPv6 or SO_REUSEPORT twin */
	observe(p, TCPS_LISTEN, 22, 0);
	observe(p, TCPS_ESTABLISHED, 8080, 50000);
	observe(p, TCPS_ESTABLISHED, 50000, 8080); /* no "-remote" */
	observe(p, TCPS_ESTABLISHED, 9000, 50001); /* not listening */
	end(p);
	ck_assert_int_eq(instances(), 2);
	ck_assert_str_eq(instance(0), "22-local");
	ck_assert_str_eq(instance(1), "8080-local");
	ck_assert_double_eq(count("8080-local", TCPS_LISTEN), 2);
	ck_assert_double_eq(count("8080-local", TCPS_ESTABLISHED), 1);
	ck_assert_double_eq(count("22-local", TCPS_LISTEN), 1);

	/* Port 22 stops listening: it is no longer reported. */
	tcps_ports_begin(p);
	observe(p, TCPS_LISTEN, 8080, 0);
	observe(p, TCPS_TIME_WAIT, 22, 50003);
	end(p);
	ck_assert_int_eq(instances(), 1);
	ck_assert_str_eq(instance(0), "8080-local");
	ck_assert_double_eq(count("8080-local", TCPS_LISTEN), 1);
	ck_assert_double_eq(count("8080-local", TCPS_ESTABLISHED), 0);

	tcps_ports_begin(p);
	end(p);
	ck_assert_int_eq(instances(), 0);
	tcps_ports_free(p);
}
END_TEST

START_TEST(tcps_ports_observe__listening_off_ignores_listeners)
{
	struct tcps_ports *p;

	cfg.all_summary = true;
	p = make(&cfg);
	tcps_ports_begin(p);
	observe(p, TCPS_LISTEN, 8080, 0);
	end(p);
	ck_assert_int_eq(instances(), 1);
	ck_assert_str_eq(instance(0), "all");
	ck_assert_double_eq(count("all", TCPS_LISTEN), 1);
	tcps_ports_free(p);
}
END_TEST

START_TEST(tcps_ports_end__configured_local_port_that_listens)
{
	struct tcps_ports *p;

	tcps_port_set_add(&cfg.local, 8080);
	cfg.listening = true;
	p = make(&cfg);
	tcps_ports_begin(p);
	observe(p, TCPS_LISTEN, 8080, 0);
	observe(p, TCPS_ESTABLISHED, 8080, 50000);
	end(p);
	/* One instance, nothing counted twice. */
	ck_assert_int_eq(instances(), 1);
	ck_assert_double_eq(count("8080-local", TCPS_LISTEN), 1);
	ck_assert_double_eq(count("8080-local", TCPS_ESTABLISHED), 1);

	/* Stops listening: configured, so still reported. */
	tcps_ports_begin(p);
	end(p);
	ck_assert_int_eq(instances(), 1);
	ck_assert_double_eq(count("8080-local", TCPS_LISTEN), 0);
	tcps_ports_free(p);
}
END_TEST

START_TEST(tcps_ports_observe__configured_remote_port_that_listens)
{
	struct tcps_ports *p;

	tcps_port_set_add(&cfg.remote, 3306);
	cfg.listening = true;
	p = make(&cfg);
	tcps_ports_begin(p);
	observe(p, TCPS_ESTABLISHED, 3306, 50000); /* before its LISTEN */
	observe(p, TCPS_LISTEN, 3306, 0);
	observe(p, TCPS_ESTABLISHED, 50000, 3306);
	end(p);
	ck_assert_int_eq(instances(), 2);
	ck_assert_str_eq(instance(0), "3306-local");
	ck_assert_str_eq(instance(1), "3306-remote");
	/* Its counts existed from the start, so the first record counts. */
	ck_assert_double_eq(count("3306-local", TCPS_ESTABLISHED), 1);
	ck_assert_double_eq(count("3306-local", TCPS_LISTEN), 1);
	ck_assert_double_eq(count("3306-remote", TCPS_ESTABLISHED), 1);
	tcps_ports_free(p);
}
END_TEST

/* tcpconns learns a listening port when it meets its LISTEN socket and
 * keeps it one more read; so do we. The kernel dumps listeners first. */
START_TEST(tcps_ports_begin__listener_met_late_kept_a_read)
{
	struct tcps_ports *p;

	cfg.listening = true;
	p = make(&cfg);
	tcps_ports_begin(p);
	observe(p, TCPS_ESTABLISHED, 8080, 50000);
	observe(p, TCPS_LISTEN, 8080, 0);
	observe(p, TCPS_ESTABLISHED, 8080, 50001);
	end(p);
	ck_assert_double_eq(count("8080-local", TCPS_ESTABLISHED), 1);

	tcps_ports_begin(p);
	observe(p, TCPS_ESTABLISHED, 8080, 50000);
	observe(p, TCPS_LISTEN, 8080, 0);
	observe(p, TCPS_ESTABLISHED, 8080, 50001);
	end(p);
	ck_assert_double_eq(count("8080-local", TCPS_ESTABLISHED), 2);
	tcps_ports_free(p);
}
END_TEST

START_TEST(tcps_ports_observe__all_sums_every_port)
{
	struct tcps_ports *p;

	cfg.all_summary = true;
	tcps_port_set_add(&cfg.local, 80);
	p = make(&cfg);
	tcps_ports_begin(p);
	observe(p, TCPS_ESTABLISHED, 80, 50000);
	observe(p, TCPS_ESTABLISHED, 1234, 5678);
	observe(p, TCPS_TIME_WAIT, 1, 2);
	observe(p, TCPS_CLOSING, 65535, 65535);
	end(p);
	ck_assert_int_eq(instances(), 2);
	ck_assert_str_eq(instance(0), "all");
	ck_assert_double_eq(count("all", TCPS_ESTABLISHED), 2);
	ck_assert_double_eq(count("all", TCPS_TIME_WAIT), 1);
	ck_assert_double_eq(count("all", TCPS_CLOSING), 1);
	ck_assert_double_eq(count("80-local", TCPS_ESTABLISHED), 1);
	tcps_ports_free(p);
}
END_TEST

START_TEST(tcps_ports_observe__ignores_unknown_states)
{
	struct tcps_ports *p;
	const int odd[] = { 0, 12, 13, 200, 255 };

	cfg.all_summary = true;
	cfg.listening = true;
	tcps_port_set_add(&cfg.local, 80);
	tcps_port_set_add(&cfg.remote, 80);
	p = make(&cfg);
	tcps_ports_begin(p);
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		observe(p, odd[i], 80, 80);
		observe(p, odd[i], 9999, 0);
	}
	end(p);
	ck_assert_int_eq(instances(), 3);
	for (int i = 0; i < cap.values_num; i++)
		ck_assert_double_eq(cap.values[i].value, 0);
	ck_assert(!emitted("9999-local"));
	tcps_ports_free(p);
}
END_TEST

START_TEST(tcps_ports_abort__discards_the_interval)
{
	struct tcps_ports *p;

	cfg.all_summary = true;
	cfg.listening = true;
	tcps_port_set_add(&cfg.local, 80);
	p = make(&cfg);
	tcps_ports_begin(p);
	observe(p, TCPS_LISTEN, 8080, 0);
	observe(p, TCPS_ESTABLISHED, 80, 50000);
	capture_reset(&cap);
	tcps_ports_abort(p);
	ck_assert_int_eq(cap.values_num, 0);

	tcps_ports_begin(p);
	observe(p, TCPS_ESTABLISHED, 80, 50001);
	end(p);
	ck_assert_int_eq(instances(), 2);
	ck_assert(!emitted("8080-local"));
	ck_assert_double_eq(count("80-local", TCPS_ESTABLISHED), 1);
	ck_assert_double_eq(count("all", TCPS_ESTABLISHED), 1);
	ck_assert_double_eq(count("all", TCPS_LISTEN), 0);
	tcps_ports_free(p);
}
END_TEST

static uint64_t counted;

/* Counts every value, capturing only those of ports 1 and 2. */
static int count_value(void *data, const struct tcps_value *value)
{
	(void)data;
	counted++;
	if ((strncmp(value->set, "local_", 6) == 0 &&
	     strcmp(value->type_instance, "2") == 0) ||
	    (strncmp(value->set, "remote_", 7) == 0 &&
	     strcmp(value->type_instance, "1") == 0))
		return sink.value(sink.data, value);
	return 0;
}

/* Every port configured both ways and listening, then none listening:
 * the counts never outgrow 65536 ports and the index stays consistent. */
START_TEST(tcps_ports_end__every_port_both_ways)
{
	const struct tcps_sink counter = { .value = count_value,
					   .notify = sink.notify,
					   .data = sink.data };
	struct tcps_ports *p;

	cfg.listening = true;
	for (uint32_t port = 1; port < 65536; port += 2)
		tcps_port_set_add(&cfg.local, (uint16_t)port);
	for (uint32_t port = 1; port < 65536; port += 3)
		tcps_port_set_add(&cfg.remote, (uint16_t)port);
	p = make(&cfg);
	for (int round = 0; round < 3; round++) {
		tcps_ports_begin(p);
		if (round == 0)
			for (uint32_t port = 0; port < 65536; port++)
				observe(p, TCPS_LISTEN, (uint16_t)port, 0);
		counted = 0;
		tcps_ports_end(p, &counter);
		/* Round 0: every port "-local"; after: configured only. */
		ck_assert_uint_eq(
			counted,
			11u * ((round == 0 ? 65536u : 32768u) + 21845u));
	}
	/* The freed counts can be taken again. */
	tcps_ports_begin(p);
	observe(p, TCPS_LISTEN, 2, 0);
	observe(p, TCPS_ESTABLISHED, 2, 1);
	capture_reset(&cap);
	tcps_ports_end(p, &counter);
	ck_assert_int_eq(instances(), 2);
	ck_assert(emitted("2-local"));
	ck_assert_double_eq(count("2-local", TCPS_ESTABLISHED), 1);
	ck_assert_double_eq(count("1-remote", TCPS_ESTABLISHED), 1);
	tcps_ports_free(p);
}
END_TEST

Suite *ports_suite(void)
{
	Suite *s = suite_create("ports");
	TCase *config = tcase_create("config");
	TCase *counts = tcase_create("counts");
	TCase *listening = tcase_create("listening");

	tcase_add_checked_fixture(config, cfg_setup, NULL);
	tcase_add_checked_fixture(counts, cfg_setup, NULL);
	tcase_add_checked_fixture(listening, cfg_setup, NULL);
	tcase_add_test(config, tcps_ports_enabled__by_any_option);
	tcase_add_test(config, tcps_ports_new__refuses_port_zero);
	tcase_add_test(config,
		       tcps_ports_end__nothing_configured_emits_nothing);
	tcase_add_test(counts, tcps_ports_end__zeros_without_sockets);
	tcase_add_test(counts, tcps_ports_observe__local_and_remote_counts);
	tcase_add_test(counts, tcps_ports_observe__port_both_local_and_remote);
	tcase_add_test(counts, tcps_ports_observe__all_sums_every_port);
	tcase_add_test(counts, tcps_ports_observe__ignores_unknown_states);
	tcase_add_test(counts, tcps_ports_abort__discards_the_interval);
	tcase_add_test(listening,
		       tcps_ports_begin__listening_ports_found_each_interval);
	tcase_add_test(listening,
		       tcps_ports_observe__listening_off_ignores_listeners);
	tcase_add_test(listening,
		       tcps_ports_end__configured_local_port_that_listens);
	tcase_add_test(listening,
		       tcps_ports_observe__configured_remote_port_that_listens);
	tcase_add_test(listening,
		       tcps_ports_begin__listener_met_late_kept_a_read);
	tcase_add_test(listening, tcps_ports_end__every_port_both_ways);
	suite_add_tcase(s, config);
	suite_add_tcase(s, counts);
	suite_add_tcase(s, listening);
	return s;
}

/* One read against the real kernel (no root, no collectd needed). */
#define _GNU_SOURCE /* setns */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "capture.h"
#include "child_netns.h"
#include "fake_source.h"
#include "suites.h"
#include "tcpstates/collect.h"

static struct capture cap;
static struct tcps_sink sink;

static void capture_setup(void)
{
	capture_reset(&cap);
	sink = capture_sink(&cap);
}

/* Nothing here has a reason to notify. */
static void no_notification(void)
{
	ck_assert_int_eq(cap.notes_num, 0);
}

/* The i-th value of the plugin's own instance (""): the state counts,
 * in order. The observers behind the other instances have suites of
 * their own. */
static const struct captured_value *state_value(int i)
{
	for (int k = 0; k < cap.values_num; k++)
		if (cap.values[k].instance[0] == '\0' && i-- == 0)
			return &cap.values[k];
	ck_abort_msg("fewer state values than asked for");
	return NULL;
}

static int state_values(void)
{
	return capture_count_instance(&cap, "");
}

static int listen_loopback(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

START_TEST(tcps_ctx_read__emits_every_state_with_our_listener)
{
	struct tcps_options opts;
	struct tcps_read_report report;
	struct tcps_ctx *ctx;
	int fd = listen_loopback();

	tcps_options_init(&opts);
	opts.process_states = 0;
	ck_assert_int_eq(tcps_ctx_new(&opts, &ctx), 0);
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), 0);
	ck_assert_int_eq(report.attempts, 1);
	ck_assert_int_eq(state_values(), 12);
	for (int i = 0; i < state_values(); i++) {
		ck_assert_str_eq(state_value(i)->type, "tcp_connections");
		ck_assert_str_eq(state_value(i)->type_instance,
				 tcps_state_name(TCPS_STATE_FIRST + i));
	}
	ck_assert_str_eq(state_value(9)->type_instance, "LISTEN");
	ck_assert(state_value(9)->value >= 1);
	ck_assert_uint_ge(report.stats.records, 1);
	ck_assert_uint_eq(tcps_ctx_states(ctx)->count[TCPS_LISTEN],
			  (uint64_t)state_value(9)->value);
	tcps_ctx_free(ctx);
	close(fd);
}
END_TEST

START_TEST(tcps_ctx_read__one_family_only)
{
	struct tcps_options opts;
	struct tcps_read_report report;
	struct tcps_ctx *ctx;
	int fd = listen_loopback();

	tcps_options_init(&opts);
	opts.process_states = 0;
	opts.ipv6 = false;
	ck_assert_int_eq(tcps_ctx_new(&opts, &ctx), 0);
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), 0);
	ck_assert(state_value(9)->value >= 1);
	tcps_ctx_free(ctx);
	close(fd);
}
END_TEST

START_TEST(tcps_ctx_free__accepts_null)
{
	tcps_ctx_free(NULL);
	tcps_diag_close(NULL);
}
END_TEST

/* Reads a child's namespace with the kernel's table. */
static void read_child_namespace(pid_t child, struct tcps_read_report *report)
{
	struct tcps_options opts;
	struct tcps_ctx *ctx;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)child);
	tcps_options_init(&opts);
	opts.process_states = 0;
	opts.netns_path = path;
	ck_assert_int_eq(tcps_ctx_new(&opts, &ctx), 0);
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, report), 0);
	tcps_ctx_free(ctx);
}

START_TEST(tcps_ctx_read__empty_namespace_needs_no_dump)
{
	pid_t child = child_netns_spawn(false);
	struct tcps_read_report report;

	read_child_namespace(child, &report);
	ck_assert(report.empty);
	ck_assert_int_eq(report.attempts, 0);
	ck_assert_uint_eq(report.stats.records, 0);
	/* Every state is still sent, as zeros. */
	ck_assert_int_eq(state_values(), 12);
	for (int i = 0; i < state_values(); i++)
		ck_assert_double_eq(state_value(i)->value, 0);
	child_netns_end(child);
}
END_TEST

START_TEST(tcps_ctx_read__namespace_with_a_socket_is_dumped)
{
	pid_t child = child_netns_spawn(true);
	struct tcps_read_report report;

	read_child_namespace(child, &report);
	ck_assert(!report.empty);
	ck_assert_int_eq(report.attempts, 1);
	ck_assert_str_eq(state_value(9)->type_instance, "LISTEN");
	ck_assert_double_eq(state_value(9)->value, 1);
	child_netns_end(child);
}
END_TEST

/* Runs fn(arg) in the child's namespace, on this thread: what a process
 * living there would do between two reads. */
static int in_child(pid_t child, int (*fn)(const char *arg), const char *arg)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	char path[64];
	int ns, ret;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)child);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(self, 0);
	ck_assert_int_ge(ns, 0);
	ck_assert_int_eq(setns(ns, CLONE_NEWNET), 0);
	ret = fn(arg);
	ck_assert_int_eq(setns(self, CLONE_NEWNET), 0);
	close(ns);
	close(self);
	return ret;
}

static int set_port_range(const char *range)
{
	int fd = open("/proc/sys/net/ipv4/ip_local_port_range", O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, range, strlen(range)), (int)strlen(range));
	close(fd);
	return 0;
}

/* A listener on any address: the child's loopback is down. */
static int listen_any(const char *unused)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)unused;
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

static struct tcps_ctx *child_ctx(pid_t child, char *path, size_t size)
{
	struct tcps_options opts;
	struct tcps_ctx *ctx;

	snprintf(path, size, "/proc/%d/ns/net", (int)child);
	tcps_options_init(&opts);
	opts.process_states = 0;
	opts.netns_path = path;
	opts.sysctls_every = 1;
	ck_assert_int_eq(tcps_ctx_new(&opts, &ctx), 0);
	return ctx;
}

static double port_range_low(void)
{
	return capture_get(&cap, "sysctl", "gauge", "ip_local_port_range_low");
}

START_TEST(tcps_ctx_read__enters_a_namespace_only_to_open_it)
{
	pid_t child = child_netns_spawn(true);
	struct tcps_read_report report;
	struct tcps_ctx *ctx;
	char path[64];
	int fd;

	in_child(child, set_port_range, "40000 40100");
	ctx = child_ctx(child, path, sizeof(path));
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), 0);
	ck_assert_int_eq(report.entered, 1);
	ck_assert_double_eq(capture_get(&cap, "", "tcp_connections", "LISTEN"),
			    1);
	ck_assert_double_eq(port_range_low(), 40000);

	/* A socket and a setting changed after it: the next read sees both
	 * through what it kept, from this thread's own namespace. */
	fd = in_child(child, listen_any, NULL);
	in_child(child, set_port_range, "41000 41100");
	capture_reset(&cap);
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), 0);
	ck_assert_int_eq(report.entered, 0);
	ck_assert_double_eq(capture_get(&cap, "", "tcp_connections", "LISTEN"),
			    2);
	ck_assert_double_eq(port_range_low(), 41000);

	close(fd);
	tcps_ctx_free(ctx);
	child_netns_end(child);
}
END_TEST

START_TEST(tcps_ctx_read__kept_sockstat_follows_the_namespace)
{
	pid_t child = child_netns_spawn(false);
	struct tcps_read_report report;
	struct tcps_ctx *ctx = NULL;
	char path[64];
	int fd;

	ctx = child_ctx(child, path, sizeof(path));
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), 0);
	ck_assert(report.empty);

	fd = in_child(child, listen_any, NULL);
	capture_reset(&cap);
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), 0);
	ck_assert(!report.empty);
	ck_assert_int_eq(report.entered, 0);
	ck_assert_double_eq(capture_get(&cap, "", "tcp_connections", "LISTEN"),
			    1);

	close(fd);
	capture_reset(&cap);
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), 0);
	ck_assert(report.empty);
	ck_assert_int_eq(report.entered, 0);
	tcps_ctx_free(ctx);
	child_netns_end(child);
}
END_TEST

/* The namespace the path names is replaced: everything is made anew in
 * the new one, and nothing of the old one is read through what was kept. */
START_TEST(tcps_ctx_read__opens_a_replaced_namespace_again)
{
	pid_t first = child_netns_spawn(true), second;
	struct tcps_read_report report;
	struct tcps_ctx *ctx;
	char path[64], other[64];

	in_child(first, set_port_range, "40000 40100");
	ctx = child_ctx(first, path, sizeof(path));
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), 0);
	ck_assert_double_eq(port_range_low(), 40000);

	second = child_netns_spawn(false);
	snprintf(other, sizeof(other), "/proc/%d/ns/net", (int)second);
	ck_assert_int_eq(tcps_ctx_set_netns(ctx, other), 0);
	capture_reset(&cap);
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), 0);
	ck_assert_int_eq(report.entered, 1);
	ck_assert(report.empty);
	ck_assert_double_eq(port_range_low(), 32768);
	ck_assert_double_eq(capture_get(&cap, "", "tcp_connections", "LISTEN"),
			    0);
	tcps_ctx_free(ctx);
	child_netns_end(second);
	child_netns_end(first);
}
END_TEST

Suite *collect_suite(void)
{
	Suite *s = suite_create("collect");
	TCase *tc = tcase_create("kernel");

	tcase_add_checked_fixture(tc, capture_setup, no_notification);
	tcase_add_test(tc, tcps_ctx_read__emits_every_state_with_our_listener);
	tcase_add_test(tc, tcps_ctx_read__one_family_only);
	tcase_add_test(tc, tcps_ctx_free__accepts_null);
	suite_add_tcase(s, tc);
	/* Making a namespace takes CAP_SYS_ADMIN: make check runs as root. */
	if (geteuid() == 0) {
		tc = tcase_create("namespaces");
		tcase_add_checked_fixture(tc, capture_setup, no_notification);
		tcase_add_test(tc,
			       tcps_ctx_read__empty_namespace_needs_no_dump);
		tcase_add_test(
			tc, tcps_ctx_read__namespace_with_a_socket_is_dumped);
		tcase_add_test(
			tc, tcps_ctx_read__enters_a_namespace_only_to_open_it);
		tcase_add_test(
			tc, tcps_ctx_read__kept_sockstat_follows_the_namespace);
		tcase_add_test(tc,
			       tcps_ctx_read__opens_a_replaced_namespace_again);
		suite_add_tcase(s, tc);
	}
	return s;
}

/* Scripted failures: retry, nothing false emitted, socket reopened. */

static struct fake_source fake;

static void fake_setup(void)
{
	memset(&fake, 0, sizeof(fake));
	capture_setup();
}

static struct tcps_ctx *fake_ctx(bool ipv4, bool ipv6)
{
	struct tcps_options opts;
	struct tcps_ctx *ctx;

	tcps_options_init(&opts);
	opts.process_states = 0; /* the leak finder has its own suite */
	opts.ipv4 = ipv4;
	opts.ipv6 = ipv6;
	ck_assert_int_eq(
		tcps_ctx_new_source(&opts, &fake_source_ops, &fake, &ctx), 0);
	return ctx;
}

static const int five_established[] = { 1, 1, 1, 1, 1 };
static const int three_listen[] = { 10, 10, 10 };

START_TEST(tcps_ctx_read__retries_an_interrupted_dump)
{
	struct tcps_read_report report;
	struct tcps_ctx *ctx = fake_ctx(true, true);

	fake_add_step(&fake, five_established, 5, -EINTR);
	fake_add_step(&fake, three_listen, 3, 0);
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), 0);
	ck_assert_int_eq(report.attempts, 2);
	ck_assert_int_eq(report.first_error, -EINTR);
	ck_assert_int_eq(report.error, 0);
	/* Only the second dump counts: no record of the first leaks in. */
	ck_assert_int_eq(state_values(), 12);
	ck_assert_double_eq(state_value(0)->value, 0);
	ck_assert_double_eq(state_value(9)->value, 3);
	ck_assert_int_eq(fake.opens, 2);
	ck_assert_int_eq(fake.closes, 1);
	ck_assert_int_eq(fake.last_family, TCPS_DUMP_BOTH);
	ck_assert_uint_eq(fake.last_mask, 0xfff);
	tcps_ctx_free(ctx);
	ck_assert_int_eq(fake.open_handles, 0);
}
END_TEST

START_TEST(tcps_ctx_read__two_failures_emit_nothing)
{
	struct tcps_read_report report;
	struct tcps_ctx *ctx = fake_ctx(true, false);

	fake_add_step(&fake, five_established, 5, -ENOBUFS);
	fake_add_step(&fake, five_established, 2, -EBADMSG);
	fake_add_step(&fake, three_listen, 3, 0);
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), -EBADMSG);
	ck_assert_int_eq(report.first_error, -ENOBUFS);
	ck_assert_int_eq(report.error, -EBADMSG);
	ck_assert_int_eq(cap.values_num, 0);
	ck_assert_uint_eq(tcps_ctx_states(ctx)->count[TCPS_ESTABLISHED], 0);
	ck_assert_int_eq(fake.open_handles, 0);
	/* The next interval opens a fresh socket and works. */
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), 0);
	ck_assert_int_eq(report.attempts, 1);
	ck_assert_int_eq(state_values(), 12);
	ck_assert_double_eq(state_value(9)->value, 3);
	ck_assert_int_eq(fake.last_family, TCPS_DUMP_IPV4);
	tcps_ctx_free(ctx);
	ck_assert_int_eq(fake.open_handles, 0);
}
END_TEST

START_TEST(tcps_ctx_read__reports_a_reopen_failure)
{
	struct tcps_read_report report;
	struct tcps_ctx *ctx = fake_ctx(false, true);

	fake.open_results[1] = -EMFILE;
	fake.open_results[2] = -EMFILE;
	fake.open_results[3] = -EMFILE;
	fake_add_step(&fake, five_established, 1, -EINTR);
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), -EMFILE);
	ck_assert_int_eq(report.attempts, 2);
	ck_assert_int_eq(cap.values_num, 0);
	ck_assert_int_eq(fake.opens, 2);
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), -EMFILE);
	ck_assert_int_eq(cap.values_num, 0);
	ck_assert_int_eq(fake.opens, 4);
	ck_assert_int_eq(fake.next_step, 1);
	tcps_ctx_free(ctx);
	ck_assert_int_eq(fake.open_handles, 0);
}
END_TEST

START_TEST(tcps_ctx_new_source__returns_the_open_failure)
{
	struct tcps_options opts;
	struct tcps_ctx *ctx = NULL;

	tcps_options_init(&opts);
	fake.open_results[0] = -EPROTONOSUPPORT;
	ck_assert_int_eq(
		tcps_ctx_new_source(&opts, &fake_source_ops, &fake, &ctx),
		-EPROTONOSUPPORT);
	ck_assert_ptr_null(ctx);
}
END_TEST

START_TEST(tcps_ctx_read__emits_unknown_states)
{
	static const int odd[] = { 0, 12, 13, 200, 8 };
	struct tcps_read_report report;
	struct tcps_ctx *ctx = fake_ctx(true, true);

	fake_add_step(&fake, odd, 5, 0);
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), 0);
	ck_assert_str_eq(state_value(11)->type_instance, "UNKNOWN");
	ck_assert_double_eq(state_value(11)->value, 4);
	ck_assert_double_eq(state_value(7)->value, 1);
	tcps_ctx_free(ctx);
}
END_TEST

Suite *collect_failures_suite(void)
{
	Suite *s = suite_create("collect-failures");
	TCase *tc = tcase_create("retry");

	tcase_add_checked_fixture(tc, fake_setup, no_notification);
	tcase_add_test(tc, tcps_ctx_read__retries_an_interrupted_dump);
	tcase_add_test(tc, tcps_ctx_read__two_failures_emit_nothing);
	tcase_add_test(tc, tcps_ctx_read__reports_a_reopen_failure);
	tcase_add_test(tc, tcps_ctx_new_source__returns_the_open_failure);
	tcase_add_test(tc, tcps_ctx_read__emits_unknown_states);
	suite_add_tcase(s, tc);
	return s;
}

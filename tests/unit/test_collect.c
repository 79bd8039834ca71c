/* One read against the real kernel (no root, no collectd needed). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "fake_source.h"
#include "suites.h"
#include "tcpstates/collect.h"

#define MAX_VALUES 32

struct captured {
	char type_instance[MAX_VALUES][32];
	char type[MAX_VALUES][32];
	double value[MAX_VALUES];
	int n;
};

static int capture(void *data, const struct tcps_value *value)
{
	struct captured *c = data;

	/* These tests are about the state counts; the observers behind
	 * the other instances have suites of their own. */
	if (value->plugin_instance[0] != '\0')
		return 0;
	ck_assert_int_lt(c->n, MAX_VALUES);
	strncpy(c->type[c->n], value->type, sizeof(c->type[0]) - 1);
	strncpy(c->type_instance[c->n], value->type_instance,
		sizeof(c->type_instance[0]) - 1);
	c->value[c->n++] = value->value;
	return 0;
}

static int refuse_notification(void *data,
			       const struct tcps_notification *notif)
{
	(void)data;
	ck_abort_msg("unexpected notification: %s", notif->message);
	return 0;
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

START_TEST(emits_every_state_with_our_listener)
{
	struct tcps_options opts;
	struct captured got = { .n = 0 };
	struct tcps_sink sink = { .value = capture,
				  .notify = refuse_notification,
				  .data = &got };
	struct tcps_read_report report;
	struct tcps_ctx *ctx;
	int fd = listen_loopback();

	tcps_options_init(&opts);
	opts.process_states = 0;
	ck_assert_int_eq(tcps_ctx_new(&opts, &ctx), 0);
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), 0);
	ck_assert_int_eq(report.attempts, 1);
	ck_assert_int_eq(got.n, 12);
	for (int i = 0; i < got.n; i++) {
		ck_assert_str_eq(got.type[i], "tcp_connections");
		ck_assert_str_eq(got.type_instance[i],
				 tcps_state_name(TCPS_STATE_FIRST + i));
	}
	ck_assert_str_eq(got.type_instance[9], "LISTEN");
	ck_assert(got.value[9] >= 1);
	ck_assert_uint_ge(report.stats.records, 1);
	ck_assert_uint_eq(tcps_ctx_states(ctx)->count[TCPS_LISTEN],
			  (uint64_t)got.value[9]);
	tcps_ctx_free(ctx);
	close(fd);
}
END_TEST

START_TEST(one_family_only)
{
	struct tcps_options opts;
	struct captured got = { .n = 0 };
	struct tcps_sink sink = { .value = capture,
				  .notify = refuse_notification,
				  .data = &got };
	struct tcps_read_report report;
	struct tcps_ctx *ctx;
	int fd = listen_loopback();

	tcps_options_init(&opts);
	opts.process_states = 0;
	opts.ipv6 = false;
	ck_assert_int_eq(tcps_ctx_new(&opts, &ctx), 0);
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), 0);
	ck_assert(got.value[9] >= 1);
	tcps_ctx_free(ctx);
	close(fd);
}
END_TEST

START_TEST(free_accepts_null)
{
	tcps_ctx_free(NULL);
	tcps_diag_close(NULL);
}
END_TEST

Suite *collect_suite(void)
{
	Suite *s = suite_create("collect");
	TCase *tc = tcase_create("kernel");

	tcase_add_test(tc, emits_every_state_with_our_listener);
	tcase_add_test(tc, one_family_only);
	tcase_add_test(tc, free_accepts_null);
	suite_add_tcase(s, tc);
	return s;
}

/* Scripted failures: retry, nothing false emitted, socket reopened. */

static struct fake_source fake;
static struct captured got;
static struct tcps_sink capture_sink = { .value = capture,
					 .notify = refuse_notification,
					 .data = &got };

static void fake_setup(void)
{
	memset(&fake, 0, sizeof(fake));
	memset(&got, 0, sizeof(got));
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

START_TEST(retry_after_interrupted_dump)
{
	struct tcps_read_report report;
	struct tcps_ctx *ctx = fake_ctx(true, true);

	fake_add_step(&fake, five_established, 5, -EINTR);
	fake_add_step(&fake, three_listen, 3, 0);
	ck_assert_int_eq(tcps_ctx_read(ctx, &capture_sink, &report), 0);
	ck_assert_int_eq(report.attempts, 2);
	ck_assert_int_eq(report.first_error, -EINTR);
	ck_assert_int_eq(report.error, 0);
	/* Only the second dump counts: no record of the first leaks in. */
	ck_assert_int_eq(got.n, 12);
	ck_assert_double_eq(got.value[0], 0);
	ck_assert_double_eq(got.value[9], 3);
	ck_assert_int_eq(fake.opens, 2);
	ck_assert_int_eq(fake.closes, 1);
	ck_assert_int_eq(fake.last_family, TCPS_DUMP_BOTH);
	ck_assert_uint_eq(fake.last_mask, 0xfff);
	tcps_ctx_free(ctx);
	ck_assert_int_eq(fake.open_handles, 0);
}
END_TEST

START_TEST(two_failures_emit_nothing)
{
	struct tcps_read_report report;
	struct tcps_ctx *ctx = fake_ctx(true, false);

	fake_add_step(&fake, five_established, 5, -ENOBUFS);
	fake_add_step(&fake, five_established, 2, -EBADMSG);
	fake_add_step(&fake, three_listen, 3, 0);
	ck_assert_int_eq(tcps_ctx_read(ctx, &capture_sink, &report), -EBADMSG);
	ck_assert_int_eq(report.first_error, -ENOBUFS);
	ck_assert_int_eq(report.error, -EBADMSG);
	ck_assert_int_eq(got.n, 0);
	ck_assert_uint_eq(tcps_ctx_states(ctx)->count[TCPS_ESTABLISHED], 0);
	ck_assert_int_eq(fake.open_handles, 0);
	/* The next interval opens a fresh socket and works. */
	ck_assert_int_eq(tcps_ctx_read(ctx, &capture_sink, &report), 0);
	ck_assert_int_eq(report.attempts, 1);
	ck_assert_int_eq(got.n, 12);
	ck_assert_double_eq(got.value[9], 3);
	ck_assert_int_eq(fake.last_family, TCPS_DUMP_IPV4);
	tcps_ctx_free(ctx);
	ck_assert_int_eq(fake.open_handles, 0);
}
END_TEST

START_TEST(reopen_failure_is_reported)
{
	struct tcps_read_report report;
	struct tcps_ctx *ctx = fake_ctx(false, true);

	fake.open_results[1] = -EMFILE;
	fake.open_results[2] = -EMFILE;
	fake.open_results[3] = -EMFILE;
	fake_add_step(&fake, five_established, 1, -EINTR);
	ck_assert_int_eq(tcps_ctx_read(ctx, &capture_sink, &report), -EMFILE);
	ck_assert_int_eq(report.attempts, 2);
	ck_assert_int_eq(got.n, 0);
	ck_assert_int_eq(fake.opens, 2);
	ck_assert_int_eq(tcps_ctx_read(ctx, &capture_sink, &report), -EMFILE);
	ck_assert_int_eq(got.n, 0);
	ck_assert_int_eq(fake.opens, 4);
	ck_assert_int_eq(fake.next_step, 1);
	tcps_ctx_free(ctx);
	ck_assert_int_eq(fake.open_handles, 0);
}
END_TEST

START_TEST(open_failure_at_start)
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

START_TEST(unknown_states_are_emitted)
{
	static const int odd[] = { 0, 12, 13, 200, 8 };
	struct tcps_read_report report;
	struct tcps_ctx *ctx = fake_ctx(true, true);

	fake_add_step(&fake, odd, 5, 0);
	ck_assert_int_eq(tcps_ctx_read(ctx, &capture_sink, &report), 0);
	ck_assert_str_eq(got.type_instance[11], "UNKNOWN");
	ck_assert_double_eq(got.value[11], 4);
	ck_assert_double_eq(got.value[7], 1);
	tcps_ctx_free(ctx);
}
END_TEST

Suite *collect_fake_suite(void)
{
	Suite *s = suite_create("collect-failures");
	TCase *tc = tcase_create("retry");

	tcase_add_checked_fixture(tc, fake_setup, NULL);
	tcase_add_test(tc, retry_after_interrupted_dump);
	tcase_add_test(tc, two_failures_emit_nothing);
	tcase_add_test(tc, reopen_failure_is_reported);
	tcase_add_test(tc, open_failure_at_start);
	tcase_add_test(tc, unknown_states_are_emitted);
	suite_add_tcase(s, tc);
	return s;
}

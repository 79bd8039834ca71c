/* One read against the real kernel (no root, no collectd needed). */
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

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

	ck_assert_int_lt(c->n, MAX_VALUES);
	ck_assert_str_eq(value->plugin_instance, "");
	strncpy(c->type[c->n], value->type, sizeof(c->type[0]) - 1);
	strncpy(c->type_instance[c->n], value->type_instance,
		sizeof(c->type_instance[0]) - 1);
	c->value[c->n++] = value->value;
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
	struct tcps_sink sink = { .value = capture, .data = &got };
	struct tcps_read_report report;
	struct tcps_ctx *ctx;
	int fd = listen_loopback();

	tcps_options_init(&opts);
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
	struct tcps_sink sink = { .value = capture, .data = &got };
	struct tcps_read_report report;
	struct tcps_ctx *ctx;
	int fd = listen_loopback();

	tcps_options_init(&opts);
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

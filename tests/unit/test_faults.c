/*
 * Faults of the netlink layer under a real diag handle (scripted socket):
 * a failed send, ENOBUFS, EINTR, a truncated message, NLMSG_ERROR, an
 * error inside NLMSG_DONE, NLM_F_DUMP_INTR, the socket closed under us, a
 * dump that never ends. For each: nothing emitted for the failed
 * interval, the report names the error, the next interval recovers; and
 * one failed attempt followed by a good one emits the good counts once.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "capture.h"
#include "fake_socket.h"
#include "suites.h"
#include "tcpstates/collect.h"

/* Short, so that a dump that never ends fails fast here. */
#define TEST_DEADLINE_MS 100

static struct fake_socket fake;
static struct capture cap;
static struct tcps_diag_config cfg;

static void setup(void)
{
	memset(&fake, 0, sizeof(fake));
	capture_reset(&cap);
	cfg = fake_socket_config(&fake, TEST_DEADLINE_MS);
}

static struct tcps_ctx *new_ctx(void)
{
	struct tcps_options opts;
	struct tcps_ctx *ctx;

	tcps_options_init(&opts);
	opts.process_states = 0; /* no /proc scan: the leak finder is apart */
	ck_assert_int_eq(
		tcps_ctx_new_source(&opts, &tcps_kernel_source, &cfg, &ctx), 0);
	return ctx;
}

/* Records that a broken attempt delivers before it breaks: they must
 * never show up in what is emitted. */
static struct fake_reply *partial_reply(void)
{
	struct fake_reply *reply = fake_socket_reply(&fake);
	struct nlb_sock s = { .family = AF_INET, .state = 1, .sport = 7 };

	for (int i = 0; i < 4; i++)
		nlb_put_sock(&reply->msg, &s);
	return reply;
}

static void send_fails(int attempt)
{
	fake.send_results[attempt] = -EPERM;
}

static void recv_enobufs(int attempt)
{
	(void)attempt;
	partial_reply();
	fake_socket_recv_error(&fake, -ENOBUFS);
}

/* A signal on every recv: repeated within the deadline, then given up. */
static void recv_eintr_forever(int attempt)
{
	struct fake_reply *reply;

	(void)attempt;
	partial_reply();
	reply = fake_socket_reply(&fake);
	reply->error = -EINTR;
	reply->forever = true;
}

static void truncated(int attempt)
{
	struct fake_reply *reply = partial_reply();

	(void)attempt;
	nlb_put_done(&reply->msg, 0);
	reply->cut = reply->msg.len - 6;
}

static void nlmsg_error(int attempt)
{
	(void)attempt;
	nlb_put_error(&partial_reply()->msg, -EACCES);
}

static void done_with_error(int attempt)
{
	(void)attempt;
	nlb_put_done(&partial_reply()->msg, -ENOMEM);
}

static void dump_interrupted(int attempt)
{
	struct fake_reply *reply = partial_reply();
	struct nlb_sock s = { .family = AF_INET, .state = 10 };
	struct nlmsghdr *nlh = nlb_put_sock(&reply->msg, &s);

	(void)attempt;
	nlh->nlmsg_flags |= NLM_F_DUMP_INTR;
	nlb_put_done(&reply->msg, 0);
}

static void socket_closed(int attempt)
{
	(void)attempt;
	partial_reply();
	fake_socket_recv_error(&fake, -EBADF);
}

static void socket_empty(int attempt)
{
	(void)attempt;
	partial_reply();
	fake_socket_reply(&fake); /* recv returns 0 bytes */
}

/* Records keep coming and NLMSG_DONE never does. */
static void never_ends(int attempt)
{
	(void)attempt;
	partial_reply()->forever = true;
}

struct fault {
	const char *name;
	void (*script)(int attempt); /* one failing attempt */
	int error;		     /* what the report says */
};

static const struct fault faults[] = {
	{ "send error", send_fails, -EPERM },
	{ "recv ENOBUFS", recv_enobufs, -ENOBUFS },
	{ "recv EINTR on every call", recv_eintr_forever, -ETIMEDOUT },
	{ "truncated message", truncated, -EBADMSG },
	{ "NLMSG_ERROR", nlmsg_error, -EACCES },
	{ "NLMSG_DONE with an error", done_with_error, -ENOMEM },
	{ "NLM_F_DUMP_INTR", dump_interrupted, -EINTR },
	{ "socket closed under us", socket_closed, -EBADF },
	{ "socket gives nothing", socket_empty, -ENODATA },
	{ "dump never ends", never_ends, -ETIMEDOUT },
};
#define FAULTS_NUM ((int)(sizeof(faults) / sizeof(faults[0])))

static void expect_counts(int established, int listen)
{
	ck_assert_double_eq(
		capture_get(&cap, "", "tcp_connections", "ESTABLISHED"),
		established);
	ck_assert_double_eq(capture_get(&cap, "", "tcp_connections", "LISTEN"),
			    listen);
	ck_assert_double_eq(
		capture_get(&cap, "", "tcp_connections", "CLOSE_WAIT"), 0);
}

/* Only one value per name: no interval is emitted twice. */
static void expect_each_once(void)
{
	for (int i = 0; i < cap.values_num; i++)
		for (int j = i + 1; j < cap.values_num; j++)
			ck_assert_msg(
				strcmp(cap.values[i].instance,
				       cap.values[j].instance) != 0 ||
					strcmp(cap.values[i].type,
					       cap.values[j].type) != 0 ||
					strcmp(cap.values[i].type_instance,
					       cap.values[j].type_instance) !=
						0,
				"%s/%s-%s emitted twice",
				cap.values[i].instance, cap.values[i].type,
				cap.values[i].type_instance);
}

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 +
	       (now.tv_nsec - since->tv_nsec) / 1000000;
}

START_TEST(tcps_ctx_read__fault_twice_emits_nothing_then_recovers)
{
	const struct fault *f = &faults[_i];
	struct tcps_read_report report;
	struct tcps_sink sink = capture_sink(&cap);
	struct tcps_ctx *ctx = new_ctx();
	struct timespec start;
	int ret;

	f->script(0);
	f->script(1);
	fake_socket_healthy(&fake, 5, 3);
	clock_gettime(CLOCK_MONOTONIC, &start);
	ret = tcps_ctx_read(ctx, &sink, &report);
	ck_assert_msg(ret == f->error, "%s: read returned %d, want %d", f->name,
		      ret, f->error);
	ck_assert_int_lt(elapsed_ms(&start), 4 * TEST_DEADLINE_MS + 3000);
	ck_assert_int_eq(report.attempts, 2);
	ck_assert_int_eq(report.first_error, f->error);
	ck_assert_int_eq(report.error, f->error);
	ck_assert_int_eq(cap.values_num, 0);
	ck_assert_int_eq(cap.notes_num, 0);
	ck_assert_int_eq(fake.open_socks, 0);
	/* The next interval: a fresh socket, the true counts. */
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), 0);
	ck_assert_int_eq(report.attempts, 1);
	ck_assert_int_eq(report.error, 0);
	expect_counts(5, 3);
	expect_each_once();
	ck_assert_int_eq(fake.next_reply, fake.replies_num);
	tcps_ctx_free(ctx);
	ck_assert_int_eq(fake.open_socks, 0);
	ck_assert_int_eq(fake.opens, fake.closes);
}
END_TEST

START_TEST(tcps_ctx_read__fault_once_is_retried)
{
	const struct fault *f = &faults[_i];
	struct tcps_read_report report;
	struct tcps_sink sink = capture_sink(&cap);
	struct tcps_ctx *ctx = new_ctx();
	int ret;

	f->script(0);
	fake_socket_healthy(&fake, 2, 6);
	ret = tcps_ctx_read(ctx, &sink, &report);
	ck_assert_msg(ret == 0, "%s: read returned %d", f->name, ret);
	ck_assert_int_eq(report.attempts, 2);
	ck_assert_int_eq(report.first_error, f->error);
	ck_assert_int_eq(report.error, 0);
	ck_assert_uint_eq(report.stats.records, 8);
	expect_counts(2, 6);
	expect_each_once();
	ck_assert_int_eq(fake.opens, 2);
	tcps_ctx_free(ctx);
	ck_assert_int_eq(fake.open_socks, 0);
}
END_TEST

/* A signal that interrupts one recv costs nothing: the same dump goes
 * on, no record is lost or counted twice. */
START_TEST(tcps_ctx_read__eintr_once_is_repeated_in_the_same_dump)
{
	struct tcps_read_report report;
	struct tcps_sink sink = capture_sink(&cap);
	struct tcps_ctx *ctx = new_ctx();
	struct fake_reply *reply = partial_reply();

	fake_socket_recv_error(&fake, -EINTR);
	reply = fake_socket_reply(&fake);
	nlb_put_sock(&reply->msg,
		     &(struct nlb_sock){ .family = AF_INET, .state = 10 });
	nlb_put_done(&reply->msg, 0);
	ck_assert_int_eq(tcps_ctx_read(ctx, &sink, &report), 0);
	ck_assert_int_eq(report.attempts, 1);
	ck_assert_int_eq(report.first_error, 0);
	ck_assert_uint_eq(report.stats.recv_calls, 2);
	expect_counts(4, 1);
	ck_assert_int_eq(fake.opens, 1);
	ck_assert_int_eq(fake.sends, 1);
	tcps_ctx_free(ctx);
}
END_TEST

static void ignore_record(const struct tcps_record *rec, void *data)
{
	(void)rec;
	(void)data;
}

/* The deadline bounds the whole dump, not one recv: a dump that keeps
 * sending data ends after about the deadline, not never. */
START_TEST(tcps_diag_dump__deadline_bounds_one_dump)
{
	struct tcps_diag *diag;
	struct tcps_dump_stats stats = { 0 };
	struct timespec start;
	long took;
	int ret;

	never_ends(0);
	ck_assert_int_eq(tcps_diag_open_config(&cfg, &diag), 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	ret = tcps_diag_dump(diag, TCPS_DUMP_BOTH, TCPS_DIAG_STATES_ALL,
			     ignore_record, NULL, &stats);
	took = elapsed_ms(&start);
	ck_assert_int_eq(ret, -ETIMEDOUT);
	ck_assert_int_ge(took, TEST_DEADLINE_MS - 5);	 /* ms rounding */
	ck_assert_int_lt(took, TEST_DEADLINE_MS + 2000); /* busy builders */
	ck_assert_uint_gt(stats.recv_calls, 1);
	tcps_diag_close(diag);
}
END_TEST

START_TEST(tcps_diag_open_config__default_deadline_is_used)
{
	struct tcps_diag *diag;

	cfg.deadline_ms = 0;
	ck_assert_int_eq(tcps_diag_open_config(&cfg, &diag), 0);
	tcps_diag_close(diag);
	ck_assert_int_eq(fake.closes, 1);
}
END_TEST

START_TEST(tcps_diag_open_config__open_error_is_returned_untouched)
{
	struct tcps_diag *diag = (struct tcps_diag *)&fake;

	fake.open_results[0] = -EMFILE;
	ck_assert_int_eq(tcps_diag_open_config(&cfg, &diag), -EMFILE);
	ck_assert_ptr_eq(diag, (struct tcps_diag *)&fake);
	ck_assert_int_eq(fake.open_socks, 0);
}
END_TEST

Suite *faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *each = tcase_create("each fault");
	TCase *details = tcase_create("details");

	tcase_add_checked_fixture(each, setup, NULL);
	tcase_add_loop_test(
		each, tcps_ctx_read__fault_twice_emits_nothing_then_recovers, 0,
		FAULTS_NUM);
	tcase_add_loop_test(each, tcps_ctx_read__fault_once_is_retried, 0,
			    FAULTS_NUM);
	suite_add_tcase(s, each);
	tcase_add_checked_fixture(details, setup, NULL);
	tcase_add_test(details,
		       tcps_ctx_read__eintr_once_is_repeated_in_the_same_dump);
	tcase_add_test(details, tcps_diag_dump__deadline_bounds_one_dump);
	tcase_add_test(details,
		       tcps_diag_open_config__default_deadline_is_used);
	tcase_add_test(details,
		       tcps_diag_open_config__open_error_is_returned_untouched);
	suite_add_tcase(s, details);
	return s;
}

/*
 * plugin/collectd_glue.c under a stubbed daemon, over a real core whose
 * netlink socket is scripted: a failing read dispatches nothing and logs
 * one rate-limited ERROR line, a retry that worked is a NOTICE, the read
 * after the failures dispatches the true counts and says so once. The
 * same holds when the glue's queue of values runs out of memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "collectd_stub.h"
#include "../unit/fake_socket.h"
#include "tcpstates/collect.h"
#include "tcpstates/netns.h"

#define FAILED "reading the socket table failed twice"
#define WORKS "reading the socket table works again"
#define RETRIED "failed (No buffer space available); the retry succeeded"
#define QUEUE_FAILED "out of memory queueing values: "
#define QUEUE_WORKS "queueing values works again"

static struct fake_socket fake;
static struct tcps_diag_config cfg;

/* The glue's contexts get the scripted socket (-Wl,--wrap). */
int __wrap_tcps_ctx_new(const struct tcps_options *opts, struct tcps_ctx **ret);
int __wrap_tcps_ctx_new(const struct tcps_options *opts, struct tcps_ctx **ret)
{
	return tcps_ctx_new_source(opts, &tcps_kernel_source, &cfg, ret);
}

/* Namespaces are not really entered (-Wl,--wrap): the thread stays where
 * it is; leave returns what a test sets; enter notes its thread. */
static int leave_error;
static pthread_t entering_thread;
static int enters;

int __wrap_tcps_netns_enter(const struct tcps_netns *ns, int *ret_saved);
int __wrap_tcps_netns_enter(const struct tcps_netns *ns, int *ret_saved)
{
	ck_assert_int_ge(ns->fd, 0);
	entering_thread = pthread_self();
	enters++;
	*ret_saved = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return *ret_saved < 0 ? -errno : 0;
}

/* pthread_create fails with this while it is not 0. */
static int thread_error;

int __real_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			  void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			  void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			  void *(*fn)(void *), void *arg)
{
	if (thread_error != 0)
		return thread_error;
	return __real_pthread_create(thread, attr, fn, arg);
}

int __wrap_tcps_netns_leave(int saved);
int __wrap_tcps_netns_leave(int saved)
{
	close(saved);
	return leave_error;
}

/*
 * The glue's queue of values can be made to run out of memory
 * (-Wl,--wrap): growing an array of value lists to more than
 * queue_limit elements fails. Only the glue keeps value lists, so the
 * core's own tables grow as usual.
 */
static size_t queue_limit = SIZE_MAX;
static int queue_failures;

int __real_tcps_grow(void **array, size_t *cap, size_t want, size_t size);
int __wrap_tcps_grow(void **array, size_t *cap, size_t want, size_t size);
int __wrap_tcps_grow(void **array, size_t *cap, size_t want, size_t size)
{
	if (size >= sizeof(value_list_t) && want > *cap && want > queue_limit) {
		queue_failures++;
		return -ENOMEM;
	}
	return __real_tcps_grow(array, cap, want, size);
}

static void start(oconfig_item_t *ci)
{
	stub_reset();
	memset(&fake, 0, sizeof(fake));
	cfg = fake_socket_config(&fake, 50);
	queue_limit = SIZE_MAX;
	queue_failures = 0;
	module_register();
	ck_assert_int_eq(stub.config(ci), 0);
	ck_assert_int_eq(stub.init(), 0);
	ck_assert_int_eq(stub.reads_registered, 1);
}

static void setup(void)
{
	oconfig_item_t ci = { .key = "Plugin" };

	start(&ci);
}

/* LocalPort 1 ... 8: 88 values more per read, so that a read holds more
 * values than the queue's first allocation (64). */
static void setup_many_values(void)
{
	oconfig_value_t ports[8];
	oconfig_item_t local_port = { .key = "LocalPort",
				      .values = ports,
				      .values_num = 8 };
	oconfig_item_t ci = { .key = "Plugin",
			      .children = &local_port,
			      .children_num = 1 };

	for (int i = 0; i < 8; i++)
		ports[i] = (oconfig_value_t){ .value.number = i + 1,
					      .type = OCONFIG_TYPE_NUMBER };
	start(&ci);
}

static void teardown(void)
{
	stub.read_data.free_func(stub.read_data.data);
	ck_assert_int_eq(stub.shutdown(), 0);
	ck_assert_int_eq(fake.open_socks, 0);
}

/* One read at the stub's clock, then the clock moves on. */
static int read_at(int seconds_later)
{
	int ret = stub.read(&stub.read_data);

	stub.now += TIME_T_TO_CDTIME_T(seconds_later);
	return ret;
}

/* Every dump from now on finds the same sockets. */
static void healthy_forever(int established, int listen)
{
	fake_socket_healthy(&fake, established, listen);
	fake.replies[fake.replies_num - 1].forever = true;
}

static void expect_true_counts(int established, int listen)
{
	ck_assert_double_eq(stub_value("tcpstates", "host", "tcp_connections",
				       "ESTABLISHED"),
			    established);
	ck_assert_double_eq(
		stub_value("tcpstates", "host", "tcp_connections", "LISTEN"),
		listen);
	ck_assert_double_eq(stub_value("tcpstates", "host", "tcp_connections",
				       "CLOSE_WAIT"),
			    0);
}

START_TEST(tcps_read__failing_reads_log_one_line_then_recover)
{
	fake.fail_every_recv = -ENOBUFS;
	for (int i = 0; i < 9; i++)
		ck_assert_int_ne(read_at(1), 0);
	ck_assert_int_eq(stub.values_num, 0);
	ck_assert_int_eq(stub.notifications_num, 0);
	ck_assert_int_eq(stub.logs_num, 1);
	ck_assert_int_eq(stub_logs_matching(LOG_ERR, FAILED), 1);
	ck_assert_int_eq(
		stub_logs_matching(LOG_ERR, "(No buffer space available)"), 1);
	ck_assert_int_eq(fake.opens, 1 + 2 * 9 - 1);
	/* The socket works again: the true counts, one line saying so. */
	fake.fail_every_recv = 0;
	fake_socket_healthy(&fake, 5, 3);
	ck_assert_int_eq(read_at(1), 0);
	expect_true_counts(5, 3);
	ck_assert_int_eq(stub_logs_matching(LOG_NOTICE, WORKS), 1);
	ck_assert_int_eq(stub.logs_num, 2);
	/* A later failure is news again: logged at once. */
	fake.fail_every_recv = -ETIMEDOUT;
	ck_assert_int_ne(read_at(1), 0);
	ck_assert_int_eq(stub_logs_matching(LOG_ERR, FAILED), 2);
	ck_assert_int_eq(stub.logs_num, 3);
}
END_TEST

/* Failing for 100 s at one read a second: lines at 0, 10, 30 and 70 s,
 * the quiet time doubling from the 10 s interval. */
START_TEST(tcps_read__lasting_failure_is_logged_ever_more_rarely)
{
	fake.fail_every_recv = -EBADF;
	for (int i = 0; i < 100; i++)
		ck_assert_int_ne(read_at(1), 0);
	ck_assert_int_eq(stub.values_num, 0);
	ck_assert_int_eq(stub_logs_matching(LOG_ERR, FAILED), 4);
	ck_assert_int_eq(stub.logs_num, 4);
}
END_TEST

START_TEST(tcps_read__retried_read_dispatches_once_and_notes_it)
{
	fake_socket_recv_error(&fake, -ENOBUFS);
	fake_socket_healthy(&fake, 4, 2);
	ck_assert_int_eq(read_at(1), 0);
	expect_true_counts(4, 2);
	ck_assert_int_eq(stub_logs_matching(LOG_NOTICE, RETRIED), 1);
	ck_assert_int_eq(stub.logs_num, 1);
}
END_TEST

/* The dump that never ends: the read comes back, logs, and the next one
 * works. */
START_TEST(tcps_read__endless_dump_times_out)
{
	struct fake_reply *endless = fake_socket_reply(&fake);

	nlb_put_sock(&endless->msg,
		     &(struct nlb_sock){ .family = AF_INET, .state = 1 });
	endless->forever = true;
	endless = fake_socket_reply(&fake);
	nlb_put_sock(&endless->msg,
		     &(struct nlb_sock){ .family = AF_INET, .state = 1 });
	endless->forever = true;
	fake_socket_healthy(&fake, 1, 1);
	ck_assert_int_ne(read_at(1), 0);
	ck_assert_int_eq(stub.values_num, 0);
	ck_assert_int_eq(stub_logs_matching(LOG_ERR, "(Connection timed out)"),
			 1);
	ck_assert_int_eq(read_at(1), 0);
	expect_true_counts(1, 1);
	ck_assert_int_eq(stub.logs_num, 2);
}
END_TEST

/* The 65th value cannot be queued: none of the read's values reach
 * collectd, the read fails, one line says so; the next read is whole. */
START_TEST(queue_value__out_of_memory_drops_the_whole_read)
{
	char lost[64];
	int whole;

	queue_limit = 64;
	healthy_forever(5, 3);
	ck_assert_int_ne(read_at(1), 0);
	ck_assert_int_gt(queue_failures, 0);
	ck_assert_int_eq(stub.values_num, 0);
	ck_assert_int_eq(stub_logs_matching(LOG_ERR, QUEUE_FAILED), 1);
	ck_assert_int_eq(stub.logs_num, 1);
	/* Memory is back. */
	queue_limit = SIZE_MAX;
	ck_assert_int_eq(read_at(1), 0);
	expect_true_counts(5, 3);
	ck_assert_double_eq(stub_value("tcpstates_local_listen", "host",
				       "tcp_connections", "8"),
			    0);
	whole = stub.values_num;
	ck_assert_int_gt(whole, 64);
	snprintf(lost, sizeof(lost), "%d of %d could not be queued", whole - 64,
		 whole);
	ck_assert_int_eq(stub_logs_matching(LOG_ERR, lost), 1);
	ck_assert_int_eq(stub_logs_matching(LOG_NOTICE, QUEUE_WORKS), 1);
	ck_assert_int_eq(stub.logs_num, 2);
}
END_TEST

/* Out of memory for 100 s at one read a second: nothing dispatched,
 * lines at 0, 10, 30 and 70 s as for a failing dump. */
START_TEST(log_queue__lasting_failure_is_logged_ever_more_rarely)
{
	queue_limit = 64;
	healthy_forever(5, 3);
	for (int i = 0; i < 100; i++)
		ck_assert_int_ne(read_at(1), 0);
	ck_assert_int_eq(stub.values_num, 0);
	ck_assert_int_eq(stub_logs_matching(LOG_ERR, QUEUE_FAILED), 4);
	ck_assert_int_eq(stub.logs_num, 4);
}
END_TEST

/* The config walk alone: no init, so no socket. */
static void setup_config(void)
{
	stub_reset();
	module_register();
}

static void teardown_config(void)
{
	ck_assert_int_eq(stub.shutdown(), 0);
}

/* A block named wrongly fails the config and init, with its name. */
static void expect_unknown_block(oconfig_item_t *block, const char *name)
{
	oconfig_item_t ci = { .key = "Plugin",
			      .children = block,
			      .children_num = 1 };
	char line[64];

	snprintf(line, sizeof(line), "unknown block <%s>", name);
	ck_assert_int_ne(stub.config(&ci), 0);
	ck_assert_int_eq(stub_logs_matching(LOG_ERR, line), 1);
	ck_assert_int_ne(stub.init(), 0);
	ck_assert_int_eq(stub.reads_registered, 0);
}

/* What a parser that keeps "<Watch>" "</Watch>" would hand over
 * (collectd 5.12's drops it: see tests/test-config.sh). */
START_TEST(tcps_config__empty_unknown_block_is_named)
{
	oconfig_item_t watch = { .key = "Watch" };

	expect_unknown_block(&watch, "Watch");
	ck_assert_int_eq(stub.logs_num, 2); /* and "not starting" */
}
END_TEST

START_TEST(tcps_config__unknown_block_without_argument_is_named)
{
	oconfig_value_t five = { .value.number = 5,
				 .type = OCONFIG_TYPE_NUMBER };
	oconfig_item_t interval = { .key = "Interval",
				    .values = &five,
				    .values_num = 1 };
	oconfig_item_t watch = { .key = "Watch",
				 .children = &interval,
				 .children_num = 1 };

	expect_unknown_block(&watch, "Watch");
}
END_TEST

/* "host" names the daemon's own namespace in every value: a block may
 * not take it, and the line says which option and value. */
START_TEST(tcps_config__namespace_host_is_refused)
{
	oconfig_value_t name = { .type = OCONFIG_TYPE_STRING,
				 .value.string = "host" };
	oconfig_value_t path = { .type = OCONFIG_TYPE_STRING,
				 .value.string = "/var/run/netns/host" };
	oconfig_item_t path_item = { .key = "Path",
				     .values = &path,
				     .values_num = 1 };
	oconfig_item_t block = { .key = "Namespace",
				 .values = &name,
				 .values_num = 1,
				 .children = &path_item,
				 .children_num = 1 };
	oconfig_item_t ci = { .key = "Plugin",
			      .children = &block,
			      .children_num = 1 };

	ck_assert_int_ne(stub.config(&ci), 0);
	ck_assert_int_eq(stub_logs_matching(LOG_ERR, "<Namespace \"host\">"),
			 1);
	ck_assert_int_ne(stub.init(), 0);
	ck_assert_int_eq(stub.reads_registered, 0);
}
END_TEST

/* Each read registers under its own name (collectd refuses a second one
 * of the same name): a <Namespace "discovered"> beside Discover too. */
START_TEST(tcps_init__namespace_named_discovered_beside_discover)
{
	oconfig_value_t name = { .type = OCONFIG_TYPE_STRING,
				 .value.string = "discovered" };
	oconfig_value_t path = { .type = OCONFIG_TYPE_STRING,
				 .value.string = "/var/run/netns/discovered" };
	oconfig_value_t yes = { .type = OCONFIG_TYPE_BOOLEAN,
				.value.boolean = 1 };
	oconfig_item_t path_item = { .key = "Path",
				     .values = &path,
				     .values_num = 1 };
	oconfig_item_t children[] = {
		{ .key = "Namespace",
		  .values = &name,
		  .values_num = 1,
		  .children = &path_item,
		  .children_num = 1 },
		{ .key = "Discover", .values = &yes, .values_num = 1 },
	};
	oconfig_item_t ci = { .key = "Plugin",
			      .children = children,
			      .children_num = 2 };

	ck_assert_int_eq(stub.config(&ci), 0);
	ck_assert_int_eq(stub.init(), 0);
	ck_assert_int_eq(stub.reads_registered, 3);
	ck_assert_int_eq(stub_logs_matching(LOG_WARNING, "already"), 0);
	for (int i = 0; i < stub.reads_num; i++)
		stub.reads[i].data.free_func(stub.reads[i].data.data);
}
END_TEST

/* ---- GroupBy "cgroup" on a kernel without socket cgroup ids ---- */

#define CGROUP_FALLBACK "GroupBy \"cgroup\" is not possible here"

static void setup_group_by_cgroup(void)
{
	oconfig_value_t cgroup = { .type = OCONFIG_TYPE_STRING,
				   .value.string = "cgroup" };
	oconfig_item_t group_by = { .key = "GroupBy",
				    .values = &cgroup,
				    .values_num = 1 };
	oconfig_item_t ci = { .key = "Plugin",
			      .children = &group_by,
			      .children_num = 1 };

	start(&ci);
}

/* An orphaned CLOSE_WAIT socket (no owner to look for), without the
 * cgroup id a 5.8+ kernel would add: one WARNING, however many reads. */
START_TEST(log_leaks__cgroup_fallback_is_said_once)
{
	struct fake_reply *reply = fake_socket_reply(&fake);

	nlb_put_sock(&reply->msg, &(struct nlb_sock){ .family = AF_INET,
						      .state = 8,
						      .cookie = 7 });
	nlb_put_done(&reply->msg, 0);
	reply->forever = true;
	ck_assert_int_eq(read_at(1), 0);
	ck_assert_double_eq(stub_value("tcpstates_proc_close_wait", "host",
				       "tcp_connections", "-unknown"),
			    1);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(read_at(1), 0);
	ck_assert_int_eq(stub_logs_matching(LOG_WARNING, CGROUP_FALLBACK), 1);
	ck_assert_int_eq(stub_logs_matching(LOG_WARNING, "Linux 5.8"), 1);
	ck_assert_int_eq(stub.logs_num, 1);
}
END_TEST

/* ---- a configured namespace ---- */

static char ns_path[64];

/* <Namespace "blue"> on a file standing for it; reads[1] is blue's. */
static void setup_namespace(void)
{
	oconfig_value_t name = { .type = OCONFIG_TYPE_STRING,
				 .value.string = "blue" };
	oconfig_value_t path = { .type = OCONFIG_TYPE_STRING,
				 .value.string = ns_path };
	oconfig_item_t path_item = { .key = "Path",
				     .values = &path,
				     .values_num = 1 };
	oconfig_item_t block = { .key = "Namespace",
				 .values = &name,
				 .values_num = 1,
				 .children = &path_item,
				 .children_num = 1 };
	oconfig_item_t ci = { .key = "Plugin",
			      .children = &block,
			      .children_num = 1 };
	int fd;

	snprintf(ns_path, sizeof(ns_path), "/tmp/tcps-glue-ns-XXXXXX");
	fd = mkstemp(ns_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	stub_reset();
	memset(&fake, 0, sizeof(fake));
	leave_error = 0;
	thread_error = 0;
	cfg = fake_socket_config(&fake, 50);
	module_register();
	ck_assert_int_eq(stub.config(&ci), 0);
	ck_assert_int_eq(stub.init(), 0);
	ck_assert_int_eq(stub.reads_num, 2);
}

static void teardown_namespace(void)
{
	for (int i = 0; i < stub.reads_num; i++)
		stub.reads[i].data.free_func(stub.reads[i].data.data);
	ck_assert_int_eq(stub.shutdown(), 0);
	ck_assert_int_eq(fake.open_socks, 0);
	unlink(ns_path);
}

/* A namespace is entered by a thread of its own, never collectd's read
 * thread; that thread failing to switch back ends with it: the read goes
 * on, its values go out, nothing is logged. */
START_TEST(tcps_read__namespace_entered_on_a_thread_of_its_own)
{
	fake_socket_healthy(&fake, 4, 2);
	leave_error = -EPERM;
	enters = 0;
	ck_assert_int_eq(stub.reads[1].callback(&stub.reads[1].data), 0);
	ck_assert_int_eq(enters, 1);
	ck_assert(!pthread_equal(entering_thread, pthread_self()));
	ck_assert_double_eq(stub_value("tcpstates", "blue", "tcp_connections",
				       "ESTABLISHED"),
			    4);
	ck_assert_int_eq(stub_logs_matching(LOG_ERR, ""), 0);
}
END_TEST

/* No thread to enter the namespace with: the namespace is not read this
 * time, said once as for one that is gone, and read at the next interval
 * when a thread can be made. */
START_TEST(tcps_read__no_thread_to_enter_with_is_retried)
{
	fake_socket_healthy(&fake, 4, 2);
	thread_error = EAGAIN;
	enters = 0;
	ck_assert_int_eq(stub.reads[1].callback(&stub.reads[1].data), 0);
	ck_assert_int_eq(enters, 0);
	ck_assert_double_eq(stub_value("tcpstates", "blue", "tcp_connections",
				       "ESTABLISHED"),
			    -1);
	ck_assert_int_eq(
		stub_logs_matching(LOG_WARNING,
				   "namespace blue (/tmp/tcps-glue-ns-"),
		1);
	thread_error = 0;
	stub.now += TIME_T_TO_CDTIME_T(10);
	ck_assert_int_eq(stub.reads[1].callback(&stub.reads[1].data), 0);
	ck_assert_int_eq(enters, 1);
	ck_assert_double_eq(stub_value("tcpstates", "blue", "tcp_connections",
				       "ESTABLISHED"),
			    4);
	ck_assert_int_eq(stub_logs_matching(LOG_NOTICE, "namespace blue"), 1);
}
END_TEST

static Suite *glue_suite(void)
{
	Suite *s = suite_create("glue");
	TCase *tc = tcase_create("faults");
	TCase *queue = tcase_create("queue");
	TCase *config = tcase_create("config");
	TCase *namespaces = tcase_create("namespaces");
	TCase *cgroup = tcase_create("cgroup");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tcps_read__failing_reads_log_one_line_then_recover);
	tcase_add_test(tc,
		       tcps_read__lasting_failure_is_logged_ever_more_rarely);
	tcase_add_test(tc,
		       tcps_read__retried_read_dispatches_once_and_notes_it);
	tcase_add_test(tc, tcps_read__endless_dump_times_out);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(queue, setup_many_values, teardown);
	tcase_add_test(queue, queue_value__out_of_memory_drops_the_whole_read);
	tcase_add_test(queue,
		       log_queue__lasting_failure_is_logged_ever_more_rarely);
	suite_add_tcase(s, queue);
	tcase_add_checked_fixture(config, setup_config, teardown_config);
	tcase_add_test(config, tcps_config__empty_unknown_block_is_named);
	tcase_add_test(config,
		       tcps_config__unknown_block_without_argument_is_named);
	tcase_add_test(config, tcps_config__namespace_host_is_refused);
	tcase_add_test(config,
		       tcps_init__namespace_named_discovered_beside_discover);
	suite_add_tcase(s, config);
	tcase_add_checked_fixture(namespaces, setup_namespace,
				  teardown_namespace);
	tcase_add_test(namespaces,
		       tcps_read__namespace_entered_on_a_thread_of_its_own);
	tcase_add_test(namespaces,
		       tcps_read__no_thread_to_enter_with_is_retried);
	suite_add_tcase(s, namespaces);
	tcase_add_checked_fixture(cgroup, setup_group_by_cgroup, teardown);
	tcase_add_test(cgroup, log_leaks__cgroup_fallback_is_said_once);
	suite_add_tcase(s, cgroup);
	return s;
}

int main(void)
{
	SRunner *runner = srunner_create(glue_suite());
	int failed;

	srunner_set_fork_status(runner, CK_FORK);
	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

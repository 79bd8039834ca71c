/* The leak finder on a fake /proc tree with records built here; with
 * GroupBy "cgroup", on a scripted cgroup tree. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "capture.h"
#include "fakeproc.h"
#include "suites.h"
#include "tcpstates/cgroup_names.h"
#include "tcpstates/leaks.h"
#include "tcpstates/record.h"
#include "tcpstates/tally.h"

#define CW "CLOSE_WAIT"
#define SECOND 1000ull

static struct fakeproc fp;
static struct tcps_leaks *leaks;
static struct capture cap;
static struct tcps_sink sink;

/* "proc_close_wait": the set of a state's groups, from its name. */
static const char *proc_set(const char *state)
{
	static char set[32];

	snprintf(set, sizeof(set), "proc_%s",
		 tcps_state_set_name(tcps_state_from_name(state)));
	return set;
}

/* A group's value, tcpstates_proc_<state>/<type>-<group>; fails the test
 * if absent. */
static double group_get(const char *group, const char *type, const char *state)
{
	return capture_get(&cap, proc_set(state), type, group);
}

static bool group_has(const char *group, const char *type, const char *state)
{
	return capture_has(&cap, proc_set(state), type, group);
}

static void setup(void)
{
	fakeproc_create(&fp);
	fakeproc_add(&fp, 100, "java", "/bin/java", "0::/a.service\n");
	fakeproc_add(&fp, 200, "nginx", "/bin/nginx", "0::/b.service\n");
	fakeproc_add(&fp, 300, "python3", "/bin/python3", "0::/c.service\n");
	leaks = NULL;
	capture_reset(&cap);
	sink = capture_sink(&cap);
}

static void teardown(void)
{
	tcps_leaks_free(leaks);
	fakeproc_destroy(&fp);
}

static void make_leaks(uint32_t top_n, uint32_t threshold, uint32_t age,
		       uint32_t max_tracked)
{
	struct tcps_leaks_config cfg = {
		.state_mask = 1u << TCPS_CLOSE_WAIT,
		.top_n = top_n,
		.max_tracked = max_tracked,
		.threshold = threshold,
		.max_age_s = age,
		.group_by = TCPS_GROUP_COMM,
		.proc_root = fp.root,
	};

	ck_assert_int_eq(tcps_leaks_new(&cfg, &leaks), 0);
}

/* A socket held by pid at fd, with inode = cookie = id. */
static void hold(int pid, int fd, uint32_t id)
{
	fakeproc_fd(&fp, pid, fd, id);
}

static struct tcps_record record_of(uint8_t state, uint32_t id, uint32_t rqueue)
{
	return (struct tcps_record){ .family = AF_INET,
				     .state = state,
				     .local_port = 8080,
				     .remote_port = 40000,
				     .local_addr = { 127, 0, 0, 1 },
				     .remote_addr = { 127, 0, 0, 2 },
				     .rqueue = rqueue,
				     .uid = getuid(),
				     .inode = id,
				     .cookie = id };
}

static void observe(uint8_t state, uint32_t id, uint32_t rqueue)
{
	struct tcps_record rec = record_of(state, id, rqueue);

	tcps_leaks_observe(leaks, &rec);
}

static void run_interval(uint64_t now_ms)
{
	capture_reset(&cap);
	ck_assert_int_eq(tcps_leaks_end(leaks, now_ms, &sink), 0);
}

/* java 5, nginx 3, python3 1, two orphans (inode 0). */
static void five_three_one(void)
{
	tcps_leaks_begin(leaks);
	for (uint32_t i = 0; i < 5; i++) {
		hold(100, 10 + (int)i, 1000 + i);
		observe(TCPS_CLOSE_WAIT, 1000 + i, 1);
	}
	for (uint32_t i = 0; i < 3; i++) {
		hold(200, 10 + (int)i, 2000 + i);
		observe(TCPS_CLOSE_WAIT, 2000 + i, 1);
	}
	hold(300, 10, 3000);
	observe(TCPS_CLOSE_WAIT, 3000, 1);
	observe(TCPS_CLOSE_WAIT, 0, 1);
	observe(TCPS_CLOSE_WAIT, 0, 1);
	observe(TCPS_ESTABLISHED, 9999, 0); /* not tracked */
}

START_TEST(tcps_leaks_end__ranks_with_other_and_unknown)
{
	make_leaks(2, 0, 0, 100);
	five_three_one();
	run_interval(0);
	ck_assert_double_eq(group_get("java", "tcp_connections", CW), 5);
	ck_assert_double_eq(group_get("nginx", "tcp_connections", CW), 3);
	ck_assert_double_eq(group_get("-other", "tcp_connections", CW), 1);
	ck_assert_double_eq(group_get("-unknown", "tcp_connections", CW), 2);
	ck_assert(!group_has("python3", "tcp_connections", CW));
	/* Three values per group and state: count, age, unread bytes. */
	ck_assert_int_eq(cap.values_num, 4 * 3);
	ck_assert_uint_eq(tcps_leaks_stats(leaks)->candidates, 11);
}
END_TEST

START_TEST(tcps_leaks_end__gone_groups_fall_to_zero_once)
{
	make_leaks(10, 0, 0, 100);
	five_three_one();
	run_interval(0);
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 1000, 1);
	run_interval(10 * SECOND);
	ck_assert_double_eq(group_get("java", "tcp_connections", CW), 1);
	ck_assert_double_eq(group_get("nginx", "tcp_connections", CW), 0);
	ck_assert_double_eq(group_get("nginx", "duration", CW), 0);
	ck_assert_double_eq(group_get("-unknown", "bytes", CW), 0);
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 1000, 1);
	run_interval(20 * SECOND);
	ck_assert(!group_has("nginx", "tcp_connections", CW));
	ck_assert_int_eq(cap.values_num, 3);
	/* Nothing tracked: no scan, and the last group falls to 0. */
	tcps_leaks_begin(leaks);
	run_interval(30 * SECOND);
	ck_assert_uint_eq(tcps_leaks_stats(leaks)->owners.links_read, 0);
	ck_assert_double_eq(group_get("java", "tcp_connections", CW), 0);
	tcps_leaks_begin(leaks);
	run_interval(40 * SECOND);
	ck_assert_int_eq(cap.values_num, 0);
}
END_TEST

START_TEST(tcps_leaks_end__ages_follow_cookies)
{
	make_leaks(10, 0, 0, 100);
	hold(100, 10, 1000);
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 1000, 1);
	run_interval(5 * SECOND);
	ck_assert_double_eq(group_get("java", "duration", CW), 0);
	hold(100, 11, 1001);
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 1000, 1);
	observe(TCPS_CLOSE_WAIT, 1001, 1);
	run_interval(65 * SECOND);
	ck_assert_double_eq(group_get("java", "duration", CW), 60);
	/* The old socket closes: the oldest is the newer one now. */
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 1001, 1);
	run_interval(95 * SECOND);
	ck_assert_double_eq(group_get("java", "duration", CW), 30);
}
END_TEST

START_TEST(tcps_leaks_end__a_socket_absent_once_starts_over)
{
	make_leaks(10, 0, 0, 100);
	hold(100, 10, 1000);
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 1000, 1);
	run_interval(0);
	tcps_leaks_begin(leaks);
	run_interval(10 * SECOND);
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 1000, 1);
	run_interval(20 * SECOND);
	ck_assert_double_eq(group_get("java", "duration", CW), 0);
}
END_TEST

START_TEST(tcps_leaks_end__state_change_restarts_age)
{
	struct tcps_leaks_config cfg = {
		.state_mask = 1u << TCPS_CLOSE_WAIT | 1u << TCPS_ESTABLISHED,
		.top_n = 10,
		.max_tracked = 100,
		.group_by = TCPS_GROUP_COMM,
		.proc_root = fp.root,
	};

	ck_assert_int_eq(tcps_leaks_new(&cfg, &leaks), 0);
	hold(100, 10, 1000);
	tcps_leaks_begin(leaks);
	observe(TCPS_ESTABLISHED, 1000, 0);
	run_interval(0);
	tcps_leaks_begin(leaks);
	observe(TCPS_ESTABLISHED, 1000, 0);
	run_interval(50 * SECOND);
	ck_assert_double_eq(group_get("java", "duration", "ESTABLISHED"), 50);
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 1000, 1);
	run_interval(60 * SECOND);
	ck_assert_double_eq(group_get("java", "duration", CW), 0);
	ck_assert_double_eq(group_get("java", "tcp_connections", "ESTABLISHED"),
			    0);
}
END_TEST

START_TEST(tcps_leaks_end__unread_bytes_without_the_fin)
{
	make_leaks(10, 0, 0, 100);
	hold(100, 10, 1000);
	hold(100, 11, 1001);
	hold(100, 12, 1002);
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 1000, 8);
	observe(TCPS_CLOSE_WAIT, 1001, 1);
	observe(TCPS_CLOSE_WAIT, 1002, 0);
	run_interval(0);
	ck_assert_double_eq(group_get("java", "bytes", CW), 7);
}
END_TEST

START_TEST(tcps_leaks_end__tracking_bound_keeps_counts_exact)
{
	make_leaks(10, 0, 0, 2);
	for (uint32_t i = 0; i < 4; i++)
		hold(100, 10 + (int)i, 1000 + i);
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 1000, 1);
	observe(TCPS_CLOSE_WAIT, 1001, 1);
	run_interval(0);
	tcps_leaks_begin(leaks);
	for (uint32_t i = 0; i < 4; i++)
		observe(TCPS_CLOSE_WAIT, 1003 - i, 1);
	run_interval(30 * SECOND);
	ck_assert_double_eq(group_get("java", "tcp_connections", CW), 4);
	/* The two already aged keep their age; the new two have none. */
	ck_assert_double_eq(group_get("java", "duration", CW), 30);
	ck_assert_uint_eq(tcps_leaks_stats(leaks)->untracked, 2);
}
END_TEST

static int notes_with(enum tcps_severity severity)
{
	int n = 0;

	for (int i = 0; i < cap.notes_num; i++)
		n += cap.notes[i].severity == severity;
	return n;
}

START_TEST(tcps_leaks_end__threshold_warns_once_then_okay)
{
	make_leaks(10, 4, 0, 100);
	five_three_one();
	run_interval(0);
	/* New sockets may be closing normally: nothing until they stay. */
	ck_assert_int_eq(cap.notes_num, 0);
	five_three_one();
	run_interval(5 * SECOND);
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_int_eq(cap.notes[0].severity, TCPS_SEVERITY_WARNING);
	ck_assert_str_eq(cap.notes[0].instance, "proc_close_wait");
	ck_assert_str_eq(cap.notes[0].type, "tcp_connections");
	ck_assert_str_eq(cap.notes[0].type_instance, "java");
	ck_assert_ptr_nonnull(strstr(cap.notes[0].message, "java (pid 100)"));
	ck_assert_ptr_nonnull(strstr(cap.notes[0].message, "holds 5"));
	ck_assert_ptr_nonnull(strstr(cap.notes[0].message,
				     "127.0.0.1:8080 -> 127.0.0.2:40000"));
	five_three_one();
	run_interval(10 * SECOND);
	ck_assert_int_eq(cap.notes_num, 0);
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 1000, 1);
	run_interval(20 * SECOND);
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_int_eq(notes_with(TCPS_SEVERITY_OKAY), 1);
	ck_assert_ptr_nonnull(strstr(cap.notes[0].message, "holds 1"));
	tcps_leaks_begin(leaks);
	run_interval(30 * SECOND);
	ck_assert_int_eq(cap.notes_num, 0);
}
END_TEST

START_TEST(tcps_leaks_end__transient_close_wait_raises_nothing)
{
	make_leaks(10, 3, 0, 100);
	/* Every read, 10 connections of java pass through CLOSE_WAIT and
	 * are gone by the next read: a busy server, not a leak. */
	for (uint32_t read = 0; read < 5; read++) {
		tcps_leaks_begin(leaks);
		for (uint32_t i = 0; i < 10; i++) {
			uint32_t id = 1000 + read * 10 + i;

			hold(100, 10 + (int)i, id);
			observe(TCPS_CLOSE_WAIT, id, 1);
		}
		run_interval(read * SECOND);
		ck_assert_int_eq(cap.notes_num, 0);
		ck_assert_double_eq(group_get("java", "tcp_connections", CW),
				    10);
	}
	/* Three of them stay: at the next read they count. */
	tcps_leaks_begin(leaks);
	for (uint32_t i = 0; i < 3; i++)
		observe(TCPS_CLOSE_WAIT, 1040 + i, 1);
	run_interval(5 * SECOND);
	ck_assert_int_eq(notes_with(TCPS_SEVERITY_WARNING), 1);
	ck_assert_ptr_nonnull(strstr(cap.notes[0].message, "holds 3"));
}
END_TEST

START_TEST(tcps_leaks_end__age_limit_warns_and_exit_clears)
{
	make_leaks(10, 0, 60, 100);
	hold(300, 10, 3000);
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 3000, 1);
	run_interval(0);
	ck_assert_int_eq(cap.notes_num, 0);
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 3000, 1);
	run_interval(61 * SECOND);
	ck_assert_int_eq(notes_with(TCPS_SEVERITY_WARNING), 1);
	ck_assert_ptr_nonnull(strstr(cap.notes[0].message, "oldest 61 s"));
	/* The process exits: its sockets go, the leak clears. */
	fakeproc_remove(&fp, 300);
	tcps_leaks_begin(leaks);
	run_interval(70 * SECOND);
	ck_assert_int_eq(notes_with(TCPS_SEVERITY_OKAY), 1);
	ck_assert_str_eq(cap.notes[0].instance, "proc_close_wait");
	ck_assert_str_eq(cap.notes[0].type_instance, "python3");
}
END_TEST

START_TEST(tcps_leaks_end__exec_keeps_the_socket_age)
{
	make_leaks(10, 0, 0, 100);
	hold(100, 10, 1000);
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 1000, 1);
	run_interval(0);
	/* The holder execs another program: same pid, same socket. */
	fakeproc_set_comm(&fp, 100, "worker");
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 1000, 1);
	run_interval(40 * SECOND);
	ck_assert_double_eq(group_get("worker", "duration", CW), 40);
	ck_assert_double_eq(group_get("java", "tcp_connections", CW), 0);
	/* A new socket reusing the inode is a new socket: age 0. */
	tcps_leaks_begin(leaks);
	{
		struct tcps_record rec = { .family = AF_INET,
					   .state = TCPS_CLOSE_WAIT,
					   .inode = 1000,
					   .cookie = 77777,
					   .uid = getuid() };

		tcps_leaks_observe(leaks, &rec);
	}
	run_interval(50 * SECOND);
	ck_assert_double_eq(group_get("worker", "duration", CW), 0);
	ck_assert_double_eq(group_get("worker", "tcp_connections", CW), 1);
}
END_TEST

START_TEST(tcps_leaks_abort__keeps_ages_and_alarms)
{
	make_leaks(10, 1, 0, 100);
	hold(100, 10, 1000);
	for (int read = 0; read < 2; read++) {
		tcps_leaks_begin(leaks);
		observe(TCPS_CLOSE_WAIT, 1000, 1);
		run_interval(0);
	}
	ck_assert_int_eq(notes_with(TCPS_SEVERITY_WARNING), 1);
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 1000, 1);
	tcps_leaks_abort(leaks);
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 1000, 1);
	run_interval(20 * SECOND);
	ck_assert_int_eq(cap.notes_num, 0);
	ck_assert_double_eq(group_get("java", "duration", CW), 20);
}
END_TEST

START_TEST(tcps_leaks_end__nothing_tracked_reads_no_proc)
{
	make_leaks(10, 1, 1, 100);
	tcps_leaks_begin(leaks);
	observe(TCPS_ESTABLISHED, 9999, 0);
	run_interval(0);
	ck_assert_int_eq(cap.values_num, 0);
	ck_assert_int_eq(cap.notes_num, 0);
	ck_assert_uint_eq(tcps_leaks_stats(leaks)->owners.links_read, 0);
}
END_TEST

START_TEST(tcps_leaks_end__memory_falls_after_a_burst)
{
	make_leaks(10, 0, 0, 100);
	tcps_leaks_begin(leaks);
	for (uint32_t i = 0; i < 50000; i++)
		observe(TCPS_CLOSE_WAIT, 0, 1); /* orphans: no /proc work */
	run_interval(0);
	ck_assert_uint_ge(tcps_leaks_stats(leaks)->candidates_capacity, 50000);
	ck_assert_uint_ge(tcps_leaks_stats(leaks)->owners_memory,
			  50000 * sizeof(struct tcps_owner_proc));
	ck_assert_double_eq(group_get("-unknown", "tcp_connections", CW),
			    50000);
	tcps_leaks_begin(leaks);
	observe(TCPS_CLOSE_WAIT, 0, 1);
	run_interval(SECOND);
	tcps_leaks_begin(leaks);
	run_interval(2 * SECOND);
	ck_assert_uint_le(tcps_leaks_stats(leaks)->candidates_capacity, 4096);
	/* The owner search's tables fall back too. */
	ck_assert_uint_le(tcps_leaks_stats(leaks)->owners_memory, 16 * 1024);
}
END_TEST

/* A smaller burst (room for 8192) followed by no socket at all: back to
 * the 4096 kept however few are tracked, not held at 8192. */
START_TEST(tcps_leaks_begin__small_burst_shrinks_to_the_floor)
{
	make_leaks(10, 0, 0, 100);
	tcps_leaks_begin(leaks);
	for (uint32_t i = 0; i < 5000; i++)
		observe(TCPS_CLOSE_WAIT, 0, 1);
	run_interval(0);
	ck_assert_uint_eq(tcps_leaks_stats(leaks)->candidates_capacity, 8192);
	tcps_leaks_begin(leaks);
	run_interval(SECOND);
	tcps_leaks_begin(leaks);
	run_interval(2 * SECOND);
	ck_assert_uint_eq(tcps_leaks_stats(leaks)->candidates_capacity, 4096);
}
END_TEST

/* Sockets handed from one generation of processes to the next, as a
 * pre-fork server recycles its workers: socket i is held at fd 10 by
 * pid holder_pid(generation, i), whose comm is "gen<generation>". */
#define HANDOFF_SOCKETS 100

static int holder_pid(int generation, uint32_t i)
{
	return 1000 * (generation + 1) + (int)i;
}

static void spawn_generation(int generation)
{
	char comm[16];

	snprintf(comm, sizeof(comm), "gen%d", generation);
	for (uint32_t i = 0; i < HANDOFF_SOCKETS; i++) {
		fakeproc_add(&fp, holder_pid(generation, i), comm, "/bin/srv",
			     "0::/srv.service\n");
		hold(holder_pid(generation, i), 10, 5000 + i);
	}
}

/* The captured tcp_connections-CLOSE_WAIT of every group, summed. */
static double close_wait_total(void)
{
	double total = 0;

	for (int i = 0; i < cap.values_num; i++)
		if (strcmp(cap.values[i].type, "tcp_connections") == 0 &&
		    strcmp(cap.values[i].instance, proc_set(CW)) == 0)
			total += cap.values[i].value;
	return total;
}

static double generation_value(int generation, const char *type)
{
	char group[32];

	snprintf(group, sizeof(group), "gen%d", generation);
	if (!group_has(group, type, CW))
		return 0;
	return group_get(group, type, CW);
}

/* One read of the handed-off sockets: the groups add up to the total
 * and no socket is left without an owner. */
static void handoff_read(uint64_t now_ms)
{
	tcps_leaks_begin(leaks);
	for (uint32_t i = 0; i < HANDOFF_SOCKETS; i++)
		observe(TCPS_CLOSE_WAIT, 5000 + i, 1);
	run_interval(now_ms);
	ck_assert_double_eq(close_wait_total(), HANDOFF_SOCKETS);
	ck_assert_uint_eq(tcps_leaks_stats(leaks)->owners.unattributed, 0);
}

START_TEST(tcps_leaks_end__owner_exits_and_its_child_holds)
{
	make_leaks(100, 0, 0, 1000);
	spawn_generation(0);
	handoff_read(0);
	ck_assert_double_eq(generation_value(0, "tcp_connections"),
			    HANDOFF_SOCKETS);
	for (int gen = 1; gen <= 4; gen++) {
		spawn_generation(gen);
		for (uint32_t i = 0; i < HANDOFF_SOCKETS; i++)
			fakeproc_remove(&fp, holder_pid(gen - 1, i));
		handoff_read((uint64_t)gen * 10 * SECOND);
		/* The old owners are gone: the new ones are found at once,
		 * and the sockets keep their age. */
		ck_assert_double_eq(generation_value(gen, "tcp_connections"),
				    HANDOFF_SOCKETS);
		ck_assert_double_eq(generation_value(gen, "duration"),
				    gen * 10);
		ck_assert_double_eq(
			generation_value(gen - 1, "tcp_connections"), 0);
	}
}
END_TEST

START_TEST(tcps_leaks_end__owner_lives_on_while_another_holds)
{
	make_leaks(100, 0, 0, 1000);
	spawn_generation(0);
	handoff_read(0);
	/* Each holder hands its socket to a new process, closes its own
	 * copy and lives on. */
	spawn_generation(1);
	for (uint32_t i = 0; i < HANDOFF_SOCKETS; i++)
		fakeproc_close_fd(&fp, holder_pid(0, i), 10);
	for (int read = 1; read <= TCPS_OWNERS_VERIFY_EVERY; read++) {
		double held;

		handoff_read((uint64_t)read * SECOND);
		held = generation_value(0, "tcp_connections") +
		       generation_value(1, "tcp_connections");
		ck_assert_double_eq(held, HANDOFF_SOCKETS);
	}
	/* Within one round of confirmations every socket has moved. */
	handoff_read(100 * SECOND);
	ck_assert_double_eq(generation_value(1, "tcp_connections"),
			    HANDOFF_SOCKETS);
	ck_assert_double_eq(generation_value(1, "duration"), 100);
	ck_assert_double_eq(generation_value(0, "tcp_connections"), 0);
}
END_TEST

/* A socket of its own cookie at a given inode, held by nobody yet. */
static void observe_cookie(uint32_t inode, uint64_t cookie)
{
	struct tcps_record rec = { .family = AF_INET,
				   .state = TCPS_CLOSE_WAIT,
				   .uid = getuid(),
				   .inode = inode,
				   .cookie = cookie };

	tcps_leaks_observe(leaks, &rec);
}

START_TEST(tcps_leaks_end__new_socket_on_a_reused_inode)
{
	make_leaks(10, 0, 0, 100);
	hold(100, 10, 1000);
	tcps_leaks_begin(leaks);
	observe_cookie(1000, 1);
	run_interval(0);
	ck_assert_double_eq(group_get("java", "tcp_connections", CW), 1);
	/* java closes it and lives on; before the next read a new socket,
	 * in nginx, gets the same inode number. java never held it. */
	fakeproc_close_fd(&fp, 100, 10);
	hold(200, 10, 1000);
	tcps_leaks_begin(leaks);
	observe_cookie(1000, 2);
	run_interval(10 * SECOND);
	ck_assert_double_eq(group_get("nginx", "tcp_connections", CW), 1);
	ck_assert_double_eq(group_get("java", "tcp_connections", CW), 0);
}
END_TEST

/* Ten states tracked, TopProcesses 1: java holds a socket in each, then
 * nginx (in -other) and sockets nobody holds (-unknown). */
static const uint8_t ten_states[] = {
	TCPS_ESTABLISHED, TCPS_SYN_SENT,  TCPS_SYN_RECV, TCPS_FIN_WAIT1,
	TCPS_FIN_WAIT2,	  TCPS_TIME_WAIT, TCPS_CLOSE,	 TCPS_CLOSE_WAIT,
	TCPS_LAST_ACK,	  TCPS_LISTEN,
};

static void ten_states_read(uint64_t now_ms)
{
	tcps_leaks_begin(leaks);
	for (uint32_t i = 0; i < 10; i++) {
		observe(ten_states[i], 1000 + i, 1);
		observe(ten_states[i], 2000 + i, 1);
		observe(ten_states[i], 3000 + i, 1);
	}
	run_interval(now_ms);
}

START_TEST(tcps_leaks_end__alarms_of_a_group_gone_make_room)
{
	struct tcps_leaks_config cfg = {
		.top_n = 1,
		.max_tracked = 100,
		.max_age_s = 10,
		.group_by = TCPS_GROUP_COMM,
		.proc_root = fp.root,
	};

	for (uint32_t i = 0; i < 10; i++) {
		cfg.state_mask |= 1u << ten_states[i];
		hold(100, 10 + (int)i, 1000 + i);
		hold(200, 10 + (int)i, 2000 + i);
	}
	ck_assert_int_eq(tcps_leaks_new(&cfg, &leaks), 0);
	ten_states_read(0);
	ten_states_read(20 * SECOND);
	ck_assert_int_eq(notes_with(TCPS_SEVERITY_WARNING), 30);
	/* java renames itself and falls to -other; nginx takes its
	 * place: its ten leaks are reported at once, while java's ten
	 * alarms, still out when nginx's are raised, clear. */
	fakeproc_set_comm(&fp, 100, "zzz");
	ten_states_read(30 * SECOND);
	ck_assert_int_eq(notes_with(TCPS_SEVERITY_OKAY), 10);
	ck_assert_int_eq(notes_with(TCPS_SEVERITY_WARNING), 10);
	for (int i = 0; i < cap.notes_num; i++)
		ck_assert_str_eq(cap.notes[i].type_instance,
				 cap.notes[i].severity == TCPS_SEVERITY_OKAY
					 ? "java"
					 : "nginx");
}
END_TEST

/* ---- GroupBy "cgroup" ---- */

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* The cgroups of the host: id 10 + i is cgroups[i]. */
static const char *const cgroups[] = {
	"/system.slice/nginx.service",
	"/machine.slice/libpod-" ID64 ".scope/container",
	"/",
};
static int cgroup_walks, cgroup_walk_error;

static int fake_walk(void *arg, tcps_cgroup_visit_fn *visit, void *data)
{
	(void)arg;
	cgroup_walks++;
	if (cgroup_walk_error)
		return cgroup_walk_error;
	for (size_t i = 0; i < sizeof(cgroups) / sizeof(cgroups[0]); i++)
		if (visit(data, 10 + i, cgroups[i]))
			return 1;
	return 0;
}

static const struct tcps_cgroups_source fake_tree = { .walk = fake_walk };

static void make_cgroup_leaks(uint32_t threshold, uint32_t state_mask)
{
	struct tcps_leaks_config cfg = {
		.state_mask = state_mask,
		.top_n = 10,
		.max_tracked = 100,
		.threshold = threshold,
		.group_by = TCPS_GROUP_CGROUP,
		.proc_root = fp.root,
		.cgroups_source = &fake_tree,
	};

	cgroup_walks = 0;
	cgroup_walk_error = 0;
	ck_assert_int_eq(tcps_leaks_new(&cfg, &leaks), 0);
}

/* The CLOSE_WAIT count of a group in the last read. */
static double close_wait_of(const char *group)
{
	return group_get(group, "tcp_connections", CW);
}

/* A socket in state made in cgroup id, with inode = cookie = sock, held
 * by java (pid 100) in the fake /proc: a scan would find it. */
static void observe_in(uint8_t state, uint32_t sock, uint64_t cgroup_id)
{
	struct tcps_record rec = record_of(state, sock, 1);

	rec.cgroup_id = cgroup_id;
	if (sock)
		hold(100, 10 + (int)(sock % 1000), sock);
	tcps_leaks_observe(leaks, &rec);
}

/* nginx 5, the podman container 3, the root 1, an id no walk finds 1,
 * and a socket without an id 1. */
static void cgroup_read(uint64_t now_ms)
{
	tcps_leaks_begin(leaks);
	for (uint32_t i = 0; i < 5; i++)
		observe_in(TCPS_CLOSE_WAIT, 1000 + i, 10);
	for (uint32_t i = 0; i < 3; i++)
		observe_in(TCPS_CLOSE_WAIT, 1100 + i, 11);
	observe_in(TCPS_CLOSE_WAIT, 1200, 12);
	observe_in(TCPS_CLOSE_WAIT, 1300, 999);
	observe_in(TCPS_CLOSE_WAIT, 1400, 0);
	run_interval(now_ms);
}

START_TEST(tcps_leaks_end__groups_by_cgroup_without_proc)
{
	make_cgroup_leaks(0, 1u << TCPS_CLOSE_WAIT);
	cgroup_read(0);
	ck_assert_double_eq(close_wait_of("nginx_service"), 5);
	ck_assert_double_eq(close_wait_of("podman-0123456789ab"), 3);
	ck_assert_double_eq(close_wait_of(TCPS_CGROUP_ROOT_NAME), 1);
	ck_assert_double_eq(close_wait_of(TCPS_CGROUP_UNKNOWN_NAME), 1);
	ck_assert_double_eq(close_wait_of("-unknown"), 1);
	ck_assert_double_eq(group_get("nginx_service", "bytes", CW), 0);
	/* Java holds every socket in /proc: it was never looked for. */
	ck_assert(!group_has("java", "tcp_connections", CW));
	ck_assert_uint_eq(tcps_leaks_stats(leaks)->owners.procs_scanned, 0);
	ck_assert_uint_eq(tcps_leaks_stats(leaks)->owners.links_read, 0);
	ck_assert_int_eq(tcps_leaks_stats(leaks)->cgroup_fallback, 0);
	ck_assert_uint_eq(tcps_leaks_stats(leaks)->cgroups.unknown, 1);
	ck_assert_int_eq(cap.values_num, 5 * 3);
}
END_TEST

/* Ages, ranking and zeros-once work as for processes; the tree is
 * walked again only when a new cgroup shows up. */
START_TEST(tcps_leaks_end__cgroup_groups_across_reads)
{
	make_cgroup_leaks(0, 1u << TCPS_CLOSE_WAIT);
	cgroup_read(0);
	cgroup_read(30 * SECOND);
	ck_assert_int_eq(cgroup_walks, 1);
	ck_assert_double_eq(group_get("nginx_service", "duration", CW), 30);
	tcps_leaks_begin(leaks);
	observe_in(TCPS_CLOSE_WAIT, 1000, 10);
	observe_in(TCPS_CLOSE_WAIT, 1500, 13); /* new, never found */
	run_interval(40 * SECOND);
	ck_assert_int_eq(cgroup_walks, 2);
	ck_assert_double_eq(close_wait_of("nginx_service"), 1);
	ck_assert_double_eq(close_wait_of("podman-0123456789ab"), 0);
	ck_assert_double_eq(close_wait_of(TCPS_CGROUP_UNKNOWN_NAME), 1);
}
END_TEST

/* A cgroup's leak is told by its name, with no pid: none was looked
 * for. */
START_TEST(tcps_leaks_end__cgroup_leak_warns_by_name)
{
	make_cgroup_leaks(4, 1u << TCPS_CLOSE_WAIT);
	cgroup_read(0);
	cgroup_read(5 * SECOND);
	ck_assert_int_eq(cap.notes_num, 1);
	ck_assert_str_eq(cap.notes[0].instance, "proc_close_wait");
	ck_assert_str_eq(cap.notes[0].type_instance, "nginx_service");
	ck_assert_ptr_nonnull(
		strstr(cap.notes[0].message, "leak: nginx_service holds 5"));
	ck_assert_ptr_null(strstr(cap.notes[0].message, "pid"));
}
END_TEST

/* A kernel before 5.8: full sockets without ids. Said once; grouped by
 * process name from then on, without another look at cgroups. */
START_TEST(tcps_leaks_end__no_cgroup_ids_falls_back_to_comm)
{
	make_cgroup_leaks(0, 1u << TCPS_CLOSE_WAIT);
	tcps_leaks_begin(leaks);
	observe_in(TCPS_CLOSE_WAIT, 1000, 0);
	observe_in(TCPS_CLOSE_WAIT, 1001, 0);
	run_interval(0);
	ck_assert_int_eq(tcps_leaks_stats(leaks)->cgroup_fallback, -ENODATA);
	ck_assert_double_eq(close_wait_of("java"), 2);
	cgroup_read(10 * SECOND);
	ck_assert_int_eq(tcps_leaks_stats(leaks)->cgroup_fallback, 0);
	ck_assert_double_eq(close_wait_of("java"), 11);
	ck_assert_int_eq(cgroup_walks, 0);
}
END_TEST

/* TIME_WAIT and request sockets never carry an id: a read with only
 * those is no sign of an old kernel. */
START_TEST(tcps_leaks_end__time_wait_alone_is_no_sign)
{
	make_cgroup_leaks(0, 1u << TCPS_TIME_WAIT | 1u << TCPS_SYN_RECV |
				     1u << TCPS_CLOSE_WAIT);
	tcps_leaks_begin(leaks);
	observe_in(TCPS_TIME_WAIT, 0, 0);
	observe_in(TCPS_SYN_RECV, 0, 0);
	run_interval(0);
	ck_assert_int_eq(tcps_leaks_stats(leaks)->cgroup_fallback, 0);
	ck_assert_double_eq(
		group_get("-unknown", "tcp_connections", "TIME_WAIT"), 1);
	cgroup_read(10 * SECOND);
	ck_assert_double_eq(close_wait_of("nginx_service"), 5);
}
END_TEST

/* Discover's shared owner search (prepare, one resolve for every
 * namespace, finish): by cgroup, a namespace asks it nothing, and what
 * it found or failed for the others changes nothing here. Without ids,
 * the fallback asks it for every socket. */
START_TEST(tcps_leaks_prepare__by_cgroup_asks_the_shared_search_nothing)
{
	struct tcps_owner_stats others = { .procs_scanned = 7,
					   .unattributed = 3 };
	struct tcps_owner_query *queries;
	struct tcps_owners *shared;
	size_t num;

	ck_assert_int_eq(tcps_owners_new(fp.root, TCPS_GROUP_COMM, &shared), 0);
	make_cgroup_leaks(0, 1u << TCPS_CLOSE_WAIT);
	tcps_leaks_begin(leaks);
	for (uint32_t i = 0; i < 5; i++)
		observe_in(TCPS_CLOSE_WAIT, 1000 + i, 10);
	ck_assert_int_eq(tcps_leaks_prepare(leaks, 0, &queries, &num), 0);
	ck_assert_uint_eq(num, 0);
	capture_reset(&cap);
	ck_assert_int_eq(
		tcps_leaks_finish(leaks, shared, -EACCES, &others, 0, &sink),
		0);
	ck_assert_double_eq(close_wait_of("nginx_service"), 5);
	ck_assert_int_eq(tcps_leaks_stats(leaks)->resolve_error, 0);
	ck_assert_uint_eq(tcps_leaks_stats(leaks)->owners.procs_scanned, 0);
	tcps_leaks_begin(leaks);
	observe_in(TCPS_CLOSE_WAIT, 1000, 0);
	ck_assert_int_eq(tcps_leaks_prepare(leaks, 0, &queries, &num), 0);
	ck_assert_uint_eq(num, 1);
	ck_assert_uint_eq(queries[0].inode, 1000);
	ck_assert_int_eq(tcps_owners_resolve(shared, queries, num, &others), 0);
	capture_reset(&cap);
	ck_assert_int_eq(tcps_leaks_finish(leaks, shared, 0, &others, 0, &sink),
			 0);
	ck_assert_int_eq(tcps_leaks_stats(leaks)->cgroup_fallback, -ENODATA);
	ck_assert_double_eq(close_wait_of("java"), 1);
	tcps_owners_free(shared);
}
END_TEST

/* cgroup v1 only: no cgroup2 tree to walk. Said once, then by name. */
START_TEST(tcps_leaks_end__no_cgroup2_tree_falls_back_to_comm)
{
	make_cgroup_leaks(0, 1u << TCPS_CLOSE_WAIT);
	cgroup_walk_error = -ENOENT;
	cgroup_read(0);
	ck_assert_int_eq(tcps_leaks_stats(leaks)->cgroup_fallback, -ENOENT);
	ck_assert_double_eq(close_wait_of("java"), 11);
	cgroup_read(10 * SECOND);
	ck_assert_int_eq(tcps_leaks_stats(leaks)->cgroup_fallback, 0);
	ck_assert_int_eq(cgroup_walks, 1);
}
END_TEST

Suite *leaks_suite(void)
{
	Suite *s = suite_create("leaks");
	TCase *tc = tcase_create("fake-proc");

	tcase_add_checked_fixture(tc, setup, teardown);
	/* Hundreds of fake processes: slow on a loaded machine, not wrong. */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, tcps_leaks_end__nothing_tracked_reads_no_proc);
	tcase_add_test(tc, tcps_leaks_end__memory_falls_after_a_burst);
	tcase_add_test(tc, tcps_leaks_begin__small_burst_shrinks_to_the_floor);
	tcase_add_test(tc, tcps_leaks_end__ranks_with_other_and_unknown);
	tcase_add_test(tc, tcps_leaks_end__gone_groups_fall_to_zero_once);
	tcase_add_test(tc, tcps_leaks_end__ages_follow_cookies);
	tcase_add_test(tc, tcps_leaks_end__a_socket_absent_once_starts_over);
	tcase_add_test(tc, tcps_leaks_end__state_change_restarts_age);
	tcase_add_test(tc, tcps_leaks_end__unread_bytes_without_the_fin);
	tcase_add_test(tc, tcps_leaks_end__tracking_bound_keeps_counts_exact);
	tcase_add_test(tc, tcps_leaks_end__threshold_warns_once_then_okay);
	tcase_add_test(tc, tcps_leaks_end__transient_close_wait_raises_nothing);
	tcase_add_test(tc, tcps_leaks_end__age_limit_warns_and_exit_clears);
	tcase_add_test(tc, tcps_leaks_end__exec_keeps_the_socket_age);
	tcase_add_test(tc, tcps_leaks_abort__keeps_ages_and_alarms);
	tcase_add_test(tc, tcps_leaks_end__owner_exits_and_its_child_holds);
	tcase_add_test(tc, tcps_leaks_end__owner_lives_on_while_another_holds);
	tcase_add_test(tc, tcps_leaks_end__new_socket_on_a_reused_inode);
	tcase_add_test(tc, tcps_leaks_end__alarms_of_a_group_gone_make_room);
	tcase_add_test(tc, tcps_leaks_end__groups_by_cgroup_without_proc);
	tcase_add_test(tc, tcps_leaks_end__cgroup_groups_across_reads);
	tcase_add_test(tc, tcps_leaks_end__cgroup_leak_warns_by_name);
	tcase_add_test(tc, tcps_leaks_end__no_cgroup_ids_falls_back_to_comm);
	tcase_add_test(tc, tcps_leaks_end__time_wait_alone_is_no_sign);
	tcase_add_test(tc, tcps_leaks_end__no_cgroup2_tree_falls_back_to_comm);
	tcase_add_test(
		tc,
		tcps_leaks_prepare__by_cgroup_asks_the_shared_search_nothing);
	suite_add_tcase(s, tc);
	return s;
}

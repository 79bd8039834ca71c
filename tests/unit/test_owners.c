#define _GNU_SOURCE /* setresuid */
/* Finding socket owners in a fake /proc tree. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fakeproc.h"
#include "suites.h"
#include "tcpstates/names.h"
#include "tcpstates/owners.h"

static struct fakeproc fp;
static struct tcps_owners *owners;
static struct tcps_owner_stats stats;

static void setup(void)
{
	fakeproc_create(&fp);
	fakeproc_add(&fp, 100, "java", "/usr/lib/jvm/bin/java",
		     "0::/system.slice/app.service\n");
	fakeproc_add(&fp, 200, "nginx", "/usr/sbin/nginx (deleted)",
		     "0::/system.slice/nginx.service\n");
	fakeproc_add(&fp, 300, "bash", "/bin/bash", "0::/user.slice\n");
	fakeproc_fd_text(&fp, 100, 0, "/dev/null");
	fakeproc_fd(&fp, 100, 7, 1001);
	fakeproc_fd(&fp, 100, 8, 1002);
	fakeproc_fd_text(&fp, 100, 9, "pipe:[1003]");
	fakeproc_fd(&fp, 200, 3, 2001);
	fakeproc_fd(&fp, 300, 1, 3001); /* a socket nobody asks about */
	owners = NULL;
	memset(&stats, 0, sizeof(stats));
}

static void teardown(void)
{
	tcps_owners_free(owners);
	fakeproc_destroy(&fp);
}

static void make_owners(enum tcps_group_by by)
{
	ck_assert_int_eq(tcps_owners_new(fp.root, by, &owners), 0);
}

static const char *group_of(const struct tcps_owner_query *q)
{
	const struct tcps_owner_proc *p = tcps_owners_proc(owners, q->owner);

	return p ? p->group : "(none)";
}

static int pid_of(const struct tcps_owner_query *q)
{
	const struct tcps_owner_proc *p = tcps_owners_proc(owners, q->owner);

	return p ? (int)p->pid : -1;
}

START_TEST(tcps_owners_resolve__finds_owners_by_comm)
{
	struct tcps_owner_query q[] = {
		{ .inode = 1001, .uid = getuid() },
		{ .inode = 2001, .uid = getuid() },
		{ .inode = 1002, .uid = getuid() },
		{ .inode = 0 },
		{ .inode = 1003, .uid = getuid() }, /* a pipe, not a socket */
	};

	make_owners(TCPS_GROUP_COMM);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 5, &stats), 0);
	ck_assert_str_eq(group_of(&q[0]), "java");
	ck_assert_int_eq(pid_of(&q[0]), 100);
	ck_assert_str_eq(group_of(&q[1]), "nginx");
	ck_assert_int_eq(pid_of(&q[2]), 100);
	ck_assert_int_eq(q[0].owner, q[2].owner);
	ck_assert_int_eq(q[3].owner, -1);
	ck_assert_int_eq(q[4].owner, -1);
	ck_assert_uint_eq(stats.unattributed, 1);
	ck_assert(stats.full_scan); /* 1003 was never found */
}
END_TEST

START_TEST(tcps_owners_resolve__second_interval_uses_the_cache)
{
	struct tcps_owner_query q[] = {
		{ .inode = 1001, .uid = getuid() },
		{ .inode = 2001, .uid = getuid() },
	};

	make_owners(TCPS_GROUP_COMM);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 2, &stats), 0);
	ck_assert_uint_gt(stats.procs_scanned, 0);
	ck_assert(!stats.full_scan);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 2, &stats), 0);
	ck_assert_uint_eq(stats.cache_hits, 2);
	ck_assert_uint_eq(stats.procs_scanned, 0);
	ck_assert_uint_le(stats.links_read, 2);
	ck_assert_str_eq(group_of(&q[0]), "java");
	ck_assert_str_eq(group_of(&q[1]), "nginx");
}
END_TEST

START_TEST(tcps_owners_resolve__nothing_wanted_reads_nothing)
{
	struct tcps_owner_query q[] = { { .inode = 0 } };

	make_owners(TCPS_GROUP_COMM);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_uint_eq(stats.procs_scanned, 0);
	ck_assert_uint_eq(stats.links_read, 0);
	ck_assert_int_eq(tcps_owners_resolve(owners, NULL, 0, &stats), 0);
	ck_assert_uint_eq(stats.links_read, 0);
}
END_TEST

START_TEST(tcps_owners_resolve__moved_socket_follows_its_new_owner)
{
	struct tcps_owner_query q[] = { { .inode = 1001, .uid = getuid() } };

	make_owners(TCPS_GROUP_COMM);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_int_eq(pid_of(&q[0]), 100);
	/* pid 100 hands the socket to pid 300 and closes its fd; it lives
	 * on, so the move is seen when the socket's turn to be confirmed
	 * comes, within TCPS_OWNERS_VERIFY_EVERY intervals. */
	fakeproc_fd_text(&fp, 100, 7, "pipe:[5]");
	fakeproc_fd(&fp, 300, 4, 1001);
	for (int i = 0; i < TCPS_OWNERS_VERIFY_EVERY && pid_of(&q[0]) != 300;
	     i++) {
		ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
		ck_assert_int_ne(q[0].owner, -1);
	}
	ck_assert_int_eq(pid_of(&q[0]), 300);
	ck_assert_str_eq(group_of(&q[0]), "bash");
}
END_TEST

START_TEST(tcps_owners_resolve__reused_inode_is_another_socket)
{
	struct tcps_owner_query q[] = {
		{ .inode = 1001, .uid = getuid(), .cookie = 1 },
	};

	make_owners(TCPS_GROUP_COMM);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_int_eq(pid_of(&q[0]), 100);
	/* pid 100 closes the socket and lives on; a new socket (another
	 * cookie) in pid 200 gets the same inode number. */
	fakeproc_fd_text(&fp, 100, 7, "pipe:[5]");
	fakeproc_fd(&fp, 200, 4, 1001);
	q[0].cookie = 2;
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_int_eq(pid_of(&q[0]), 200);
	ck_assert_uint_eq(stats.cache_hits, 0);
}
END_TEST

START_TEST(tcps_owners_resolve__meets_more_processes_than_queries)
{
	struct tcps_owner_query q[] = { { .inode = 1001, .uid = getuid() } };

	make_owners(TCPS_GROUP_COMM);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_uint_eq(tcps_owners_procs_num(owners), 1);
	/* The remembered owner exits; a process it made holds the socket:
	 * one query, two processes met (the remembered one, the holder). */
	fakeproc_remove(&fp, 100);
	fakeproc_add(&fp, 101, "java", "/usr/lib/jvm/bin/java",
		     "0::/system.slice/app.service\n");
	fakeproc_fd(&fp, 101, 7, 1001);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_int_eq(pid_of(&q[0]), 101);
	ck_assert_uint_eq(tcps_owners_procs_num(owners), 2);
	ck_assert_int_lt(q[0].owner, (int)tcps_owners_procs_num(owners));
	ck_assert_ptr_null(tcps_owners_proc(owners, 2));
}
END_TEST

START_TEST(tcps_owners_resolve__handed_on_socket_skips_backoff)
{
	struct tcps_owner_query q[] = { { .inode = 1001, .uid = getuid() } };

	make_owners(TCPS_GROUP_COMM);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_int_eq(pid_of(&q[0]), 100);
	/* Its owner exits while handing it on; the receiver is not in the
	 * listing of this scan. */
	fakeproc_remove(&fp, 100);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_int_eq(q[0].owner, -1);
	/* The receiver shows up: found at the next resolve, no backoff. */
	fakeproc_add(&fp, 400, "worker", "/bin/worker", "0::/w.service\n");
	fakeproc_fd(&fp, 400, 5, 1001);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_uint_eq(stats.excused, 0);
	ck_assert_int_eq(pid_of(&q[0]), 400);
}
END_TEST

START_TEST(tcps_owners_resolve__zombie_owner_is_not_trusted)
{
	struct tcps_owner_query q[] = { { .inode = 1001, .uid = getuid() } };
	char path[128], stat[512];
	FILE *f;
	size_t n;
	char *state;

	make_owners(TCPS_GROUP_COMM);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_int_eq(pid_of(&q[0]), 100);
	/* pid 100 exits unreaped (same start time, state Z, no fds); the
	 * child it forked holds the socket. */
	snprintf(path, sizeof(path), "%s/100/stat", fp.root);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = '\0';
	state = strstr(stat, ") S ");
	ck_assert_ptr_nonnull(state);
	state[2] = 'Z';
	fakeproc_write(&fp, 100, "stat", stat);
	fakeproc_close_fd(&fp, 100, 7);
	fakeproc_fd(&fp, 300, 9, 1001);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_int_eq(pid_of(&q[0]), 300);
}
END_TEST

START_TEST(tcps_owners_resolve__exited_process_is_skipped)
{
	struct tcps_owner_query q[] = {
		{ .inode = 2001, .uid = getuid() },
		{ .inode = 1001, .uid = getuid() },
	};

	make_owners(TCPS_GROUP_COMM);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 2, &stats), 0);
	fakeproc_remove(&fp, 200);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 2, &stats), 0);
	ck_assert_int_eq(q[0].owner, -1);
	ck_assert_int_eq(pid_of(&q[1]), 100);
	ck_assert_uint_eq(stats.unattributed, 1);
}
END_TEST

START_TEST(tcps_owners_resolve__pid_reused_by_another_program)
{
	struct tcps_owner_query q[] = { { .inode = 1001, .uid = getuid() } };

	make_owners(TCPS_GROUP_COMM);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	/* pid 100 exits; a new process gets pid 100 without that socket. */
	fakeproc_remove(&fp, 100);
	fakeproc_add(&fp, 100, "cron", "/usr/sbin/cron", "0::/\n");
	fakeproc_fd(&fp, 100, 7, 4242);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_int_eq(q[0].owner, -1);
}
END_TEST

START_TEST(tcps_owners_resolve__foreign_uid_forces_full_scan)
{
	struct tcps_owner_query q[] = { { .inode = 2001, .uid = 4242 } };

	make_owners(TCPS_GROUP_COMM);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert(stats.full_scan);
	ck_assert_str_eq(group_of(&q[0]), "nginx");
}
END_TEST

START_TEST(tcps_owners_resolve__groups_by_exe_and_unit)
{
	struct tcps_owner_query q[] = {
		{ .inode = 1001, .uid = getuid() },
		{ .inode = 2001, .uid = getuid() },
	};

	make_owners(TCPS_GROUP_EXE);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 2, &stats), 0);
	ck_assert_str_eq(group_of(&q[0]), "java");
	ck_assert_str_eq(group_of(&q[1]), "nginx");
	tcps_owners_free(owners);
	make_owners(TCPS_GROUP_UNIT);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 2, &stats), 0);
	ck_assert_str_eq(group_of(&q[0]), "app_service");
	ck_assert_str_eq(group_of(&q[1]), "nginx_service");
}
END_TEST

START_TEST(tcps_owners_resolve__cleans_a_hostile_comm)
{
	struct tcps_owner_query q[] = { { .inode = 1001, .uid = getuid() } };

	fakeproc_set_comm(&fp, 100, "a.b/c d\"e");
	make_owners(TCPS_GROUP_COMM);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_str_eq(group_of(&q[0]), "a_b_c_d_e");
}
END_TEST

START_TEST(tcps_owners_resolve__missing_proc_root_fails)
{
	struct tcps_owner_query q[] = { { .inode = 1001, .uid = 0 } };

	ck_assert_int_eq(
		tcps_owners_new("/nonexistent/proc", TCPS_GROUP_COMM, &owners),
		0);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), -ENOENT);
	ck_assert_int_eq(q[0].owner, -1);
	ck_assert_uint_eq(stats.unattributed, 1);
}
END_TEST

/* Without the right to read other users' fd folders the owner stays
 * unknown and the refusal is counted (root drops to nobody here). */
START_TEST(tcps_owners_resolve__counts_permission_denied)
{
	struct tcps_owner_query q[] = { { .inode = 1001, .uid = 0 } };

	if (getuid() != 0)
		return; /* only root can drop to another user */
	make_owners(TCPS_GROUP_COMM);
	/* The saved uid stays 0 so teardown can take root back. */
	ck_assert_int_eq(setresuid(65534, 65534, 0), 0);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_int_eq(setresuid(0, 0, 0), 0);
	ck_assert_int_eq(q[0].owner, -1);
	ck_assert_uint_ge(stats.denied, 1);
}
END_TEST

START_TEST(tcps_owners_resolve__many_sockets_grow_the_tables)
{
	enum { N = 3000 };
	static struct tcps_owner_query q[N];

	for (int i = 0; i < N; i++) {
		fakeproc_fd(&fp, 300, 100 + i, 50000 + (uint32_t)i);
		q[i].inode = 50000 + (uint32_t)i;
		q[i].uid = getuid();
	}
	make_owners(TCPS_GROUP_COMM);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, N, &stats), 0);
	ck_assert_uint_eq(stats.unattributed, 0);
	ck_assert_str_eq(group_of(&q[N - 1]), "bash");
	ck_assert_int_eq(tcps_owners_resolve(owners, q, N, &stats), 0);
	ck_assert_uint_eq(stats.cache_hits, N);
}
END_TEST

START_TEST(tcps_owners_resolve__remembered_owners_need_few_links)
{
	enum { N = 800 };
	static struct tcps_owner_query q[N];
	uint64_t links = 0;

	for (int i = 0; i < N; i++) {
		fakeproc_fd(&fp, 300, 100 + i, 60000 + (uint32_t)i);
		q[i].inode = 60000 + (uint32_t)i;
		q[i].uid = getuid();
	}
	make_owners(TCPS_GROUP_COMM);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, N, &stats), 0);
	for (int round = 0; round < TCPS_OWNERS_VERIFY_EVERY; round++) {
		ck_assert_int_eq(tcps_owners_resolve(owners, q, N, &stats), 0);
		ck_assert_uint_eq(stats.cache_hits, N);
		ck_assert_uint_eq(stats.procs_scanned, 0);
		links += stats.links_read;
	}
	/* Over a full rotation every socket was confirmed exactly once. */
	ck_assert_uint_eq(links, N);
}
END_TEST

START_TEST(tcps_owners_resolve__backs_off_an_unfindable_socket)
{
	struct tcps_owner_query q[] = { { .inode = 7777, .uid = getuid() } };
	int scans[12];

	make_owners(TCPS_GROUP_COMM);
	for (int round = 1; round <= 11; round++) {
		ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
		ck_assert_int_eq(q[0].owner, -1);
		scans[round] = stats.procs_scanned > 0;
		ck_assert_uint_eq(stats.excused, !scans[round]);
	}
	/* Searched at 1, then after 2, 4, 8 more resolves. */
	ck_assert_int_eq(scans[1] + scans[2] + scans[3], 2);
	ck_assert(scans[1] && !scans[2] && scans[3]);
	ck_assert(!scans[4] && !scans[5] && !scans[6] && scans[7]);
	/* It appears in a process: found at the next search, at the latest. */
	fakeproc_fd(&fp, 200, 9, 7777);
	for (int i = 0; i < 64 && q[0].owner < 0; i++)
		ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_int_eq(pid_of(&q[0]), 200);
}
END_TEST

START_TEST(tcps_owners_resolve__known_owner_is_read_first)
{
	struct tcps_owner_query q[] = {
		{ .inode = 1001, .uid = 4242 },
		{ .inode = 1009, .uid = 4242 },
	};

	make_owners(TCPS_GROUP_COMM);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_int_eq(pid_of(&q[0]), 100);
	/* pid 100 leaks one more socket: found in pid 100 alone. */
	fakeproc_fd(&fp, 100, 20, 1009);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 2, &stats), 0);
	ck_assert_int_eq(pid_of(&q[1]), 100);
	ck_assert_uint_eq(stats.procs_scanned, 1);
	ck_assert(!stats.full_scan);
}
END_TEST

START_TEST(tcps_owners_set_budget__spreads_a_long_scan)
{
	enum { FDS = 20000 };
	struct tcps_owner_query q[] = { { .inode = 99999, .uid = getuid() } };
	int resolves = 0;

	fakeproc_add(&fp, 400, "holder", "/bin/holder", "0::/\n");
	for (int i = 0; i < FDS; i++)
		fakeproc_fd(&fp, 400, i, 200000 + (uint32_t)i);
	fakeproc_fd(&fp, 400, FDS, 99999);
	make_owners(TCPS_GROUP_COMM);
	tcps_owners_set_budget(owners, 1);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert(stats.out_of_time);
	ck_assert_int_eq(q[0].owner, -1);
	while (q[0].owner < 0 && resolves++ < 1000) {
		ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
		/* Not a miss while the scan was cut short: never excused. */
		ck_assert_uint_eq(stats.excused, 0);
	}
	ck_assert_int_eq(pid_of(&q[0]), 400);
	tcps_owners_set_budget(owners, 0);
}
END_TEST

/* ---- hostile /proc content: names never escape, garbage is skipped ---- */

/* A group name usable in every identifier: [A-Za-z0-9_-], at most 63;
 * empty only when the name could not be read (counted as unknown). */
static void assert_safe_group(const char *group)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
	size_t len = strlen(group);

	ck_assert_msg(len <= TCPS_NAME_MAX, "length %zu", len);
	ck_assert_msg(strspn(group, safe) == len, "unsafe group \"%s\"", group);
}

/* The group of the owner of socket 1001 (pid 100), under GROUP_BY. */
static const char *resolve_1001(enum tcps_group_by by)
{
	static struct tcps_owner_query q[1];

	tcps_owners_free(owners);
	owners = NULL;
	q[0] = (struct tcps_owner_query){ .inode = 1001, .uid = getuid() };
	make_owners(by);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_int_eq(pid_of(&q[0]), 100);
	assert_safe_group(group_of(&q[0]));
	return group_of(&q[0]);
}

START_TEST(tcps_owners_resolve__cleans_hostile_comm_files)
{
	static const struct {
		const char *comm, *group;
	} cases[] = {
		{ "a/b\n", "a_b" },
		{ "..\n", TCPS_NAME_EMPTY },
		{ ".\n", TCPS_NAME_EMPTY },
		{ "\n", TCPS_NAME_EMPTY },
		{ "", "" }, /* an empty file: the name is unknown */
		{ "x.y z\n", "x_y_z" },
		{ "two\nlines\n", "two_lines" },
		{ "\x01\x1b[31mred\x7f\n", "_31mred_" },
		{ "\xff\xfe\xc3(\n", TCPS_NAME_EMPTY },
		/* UTF-8 and a right-to-left override */
		{ "caf\xc3\xa9-\xe2\x80\xae"
		  "evil\n",
		  "caf_-_evil" },
		{ "../../etc/passwd\n", "_etc_passwd" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fakeproc_write(&fp, 100, "comm", cases[i].comm);
		ck_assert_str_eq(resolve_1001(TCPS_GROUP_COMM), cases[i].group);
	}
}
END_TEST

/* comm files far longer than the kernel's 16 bytes: 4096 and more. */
START_TEST(tcps_owners_resolve__bounds_huge_comm_files)
{
	static char text[6001];

	for (size_t i = 0; i < sizeof(text) - 1; i++)
		text[i] = "a/. \n\x01"[i % 6];
	text[sizeof(text) - 1] = '\0';
	fakeproc_write(&fp, 100, "comm", text);
	ck_assert_uint_eq(strlen(resolve_1001(TCPS_GROUP_COMM)), TCPS_NAME_MAX);
	text[4096] = '\0';
	fakeproc_write(&fp, 100, "comm", text);
	ck_assert_uint_eq(strlen(resolve_1001(TCPS_GROUP_COMM)), TCPS_NAME_MAX);
}
END_TEST

START_TEST(tcps_owners_resolve__cleans_hostile_exe_and_cgroup)
{
	static char cgroup[5001];

	fakeproc_set_exe(&fp, 100, "/tmp/a dir/../x.y\nz (deleted)");
	ck_assert_str_eq(resolve_1001(TCPS_GROUP_EXE), "x_y_z");
	fakeproc_set_exe(&fp, 100, "/");
	ck_assert_str_eq(resolve_1001(TCPS_GROUP_EXE), TCPS_NAME_EMPTY);
	fakeproc_set_exe(&fp, 100, "/usr/bin/..");
	ck_assert_str_eq(resolve_1001(TCPS_GROUP_EXE), TCPS_NAME_EMPTY);
	/* Only a suffix is cut: a name that is all suffix stays a name. */
	fakeproc_set_exe(&fp, 100, " (deleted)");
	ck_assert_str_eq(resolve_1001(TCPS_GROUP_EXE), "_deleted_");
	for (size_t i = 0; i < sizeof(cgroup) - 1; i++)
		cgroup[i] = "0::/\xff.\n:"[i % 8];
	cgroup[sizeof(cgroup) - 1] = '\0';
	fakeproc_write(&fp, 100, "cgroup", cgroup);
	resolve_1001(TCPS_GROUP_UNIT);
	fakeproc_write(&fp, 100, "cgroup", "0::/a.slice/b\x1b[0m c.scope\n");
	ck_assert_str_eq(resolve_1001(TCPS_GROUP_UNIT), "b_0m_c_scope");
}
END_TEST

/* A stat line we cannot parse loses the start time (no pid-reuse check,
 * so no trust across intervals), never the owner. */
START_TEST(tcps_owners_resolve__garbage_stat_keeps_the_owner)
{
	static const char *const stats_text[] = {
		"",
		"garbage",
		"100 (java S 1 2 3",
		"100 (java) S",
		"100 (java) S 1 100 100 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 "
		"0 99999999999999999999999 1000000 100",
		"100 (a) b) c) S \n\n\n) 1 2",
	};

	for (size_t i = 0; i < sizeof(stats_text) / sizeof(stats_text[0]);
	     i++) {
		fakeproc_write(&fp, 100, "stat", stats_text[i]);
		ck_assert_str_eq(resolve_1001(TCPS_GROUP_COMM), "java");
		/* The second interval finds it again. */
		struct tcps_owner_query q[] = { { .inode = 1001,
						  .uid = getuid() } };
		ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
		ck_assert_int_eq(pid_of(&q[0]), 100);
	}
}
END_TEST

/* fd entries that only look like socket 1001 never make an owner. */
START_TEST(tcps_owners_resolve__skips_fds_not_sockets)
{
	static const char *const links[] = {
		"anon_inode:[eventfd]",
		"/tmp/socket:[1001]",
		"socket:[1001] (deleted)",
		"socket:[1001]x",
		" socket:[1001]",
		"socket:[+1001]",
		"socket:[1001]                                             "
		"            (longer than any real link)",
		"net:[1001]",
	};
	struct tcps_owner_query q[] = { { .inode = 1001, .uid = getuid() } };
	char name[16];

	fakeproc_close_fd(&fp, 100, 7);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(name, sizeof(name), "fd/%zu", 40 + i);
		fakeproc_write(&fp, 300, name, ""); /* a plain file first */
		fakeproc_fd_text(&fp, 300, 40 + (int)i, links[i]);
	}
	fakeproc_write(&fp, 300, "fd/12", "socket:[1001]"); /* not a link */
	fakeproc_write(&fp, 300, "fd/x7", "");
	fakeproc_fd_text(&fp, 200, 99, "socket:[2001]");
	make_owners(TCPS_GROUP_COMM);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_int_eq(q[0].owner, -1);
	ck_assert_uint_eq(stats.unattributed, 1);
}
END_TEST

/* Root entries that are not pids are never read as processes, even with
 * an fd folder holding the socket. */
START_TEST(tcps_owners_resolve__skips_entries_that_are_not_pids)
{
	static const char *const names[] = {
		"0",   "-5", "12ab", "+7", "4294967396", "99999999999999999999",
		"..5", " 5",
	};
	struct tcps_owner_query q[] = { { .inode = 1001, .uid = getuid() } };

	fakeproc_close_fd(&fp, 100, 7);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		fakeproc_entry(&fp, names[i], 1001);
	make_owners(TCPS_GROUP_COMM);
	ck_assert_int_eq(tcps_owners_resolve(owners, q, 1, &stats), 0);
	ck_assert_int_eq(q[0].owner, -1);
}
END_TEST

Suite *owners_suite(void)
{
	Suite *s = suite_create("owners");
	TCase *tc = tcase_create("fake-proc");

	tcase_add_checked_fixture(tc, setup, teardown);
	/* Thousands of fake links: slow on a loaded machine, not wrong. */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, tcps_owners_resolve__finds_owners_by_comm);
	tcase_add_test(tc, tcps_owners_resolve__second_interval_uses_the_cache);
	tcase_add_test(tc, tcps_owners_resolve__nothing_wanted_reads_nothing);
	tcase_add_test(tc,
		       tcps_owners_resolve__moved_socket_follows_its_new_owner);
	tcase_add_test(tc, tcps_owners_resolve__exited_process_is_skipped);
	tcase_add_test(tc,
		       tcps_owners_resolve__meets_more_processes_than_queries);
	tcase_add_test(tc, tcps_owners_resolve__handed_on_socket_skips_backoff);
	tcase_add_test(tc, tcps_owners_resolve__zombie_owner_is_not_trusted);
	tcase_add_test(tc, tcps_owners_resolve__reused_inode_is_another_socket);
	tcase_add_test(tc, tcps_owners_resolve__pid_reused_by_another_program);
	tcase_add_test(tc, tcps_owners_resolve__foreign_uid_forces_full_scan);
	tcase_add_test(tc, tcps_owners_resolve__groups_by_exe_and_unit);
	tcase_add_test(tc, tcps_owners_resolve__cleans_a_hostile_comm);
	tcase_add_test(tc, tcps_owners_resolve__missing_proc_root_fails);
	tcase_add_test(tc, tcps_owners_resolve__counts_permission_denied);
	tcase_add_test(tc, tcps_owners_resolve__many_sockets_grow_the_tables);
	tcase_add_test(tc,
		       tcps_owners_resolve__remembered_owners_need_few_links);
	tcase_add_test(tc, tcps_owners_resolve__backs_off_an_unfindable_socket);
	tcase_add_test(tc, tcps_owners_resolve__known_owner_is_read_first);
	tcase_add_test(tc, tcps_owners_set_budget__spreads_a_long_scan);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile proc");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tcps_owners_resolve__cleans_hostile_comm_files);
	tcase_add_test(tc, tcps_owners_resolve__bounds_huge_comm_files);
	tcase_add_test(tc, tcps_owners_resolve__cleans_hostile_exe_and_cgroup);
	tcase_add_test(tc, tcps_owners_resolve__garbage_stat_keeps_the_owner);
	tcase_add_test(tc, tcps_owners_resolve__skips_fds_not_sockets);
	tcase_add_test(tc,
		       tcps_owners_resolve__skips_entries_that_are_not_pids);
	suite_add_tcase(s, tc);
	return s;
}

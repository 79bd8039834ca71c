/* The discovered namespaces over sequences of reads: values under each
 * name, discovery every N reads, zeros once for a namespace that goes,
 * the maximum, names that never clash. Each "namespace" is a real one,
 * made by a child process that unshares it (entering it needs root),
 * and reached through a symlink to the child's /proc entry; the records
 * come from a source that sends the same sockets in every namespace. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "capture.h"
#include "fakeproc.h"
#include "child_netns.h"
#include "suites.h"
#include "tcpstates/namespaces.h"

#define MAX_FOUND 8

static struct capture cap;
static char dir[] = "/tmp/tcps-namespaces-XXXXXX";

/* What the scripted discovery returns, and how often it was asked. */
static struct tcps_namespace_found script[MAX_FOUND];
static size_t script_num;
static int discoveries, discover_result;
static int opens, closes;
/* Set by a test: once the next discovery has listed namespace n, its
 * link moves, as a pin deleted just after discovery looked. */
static int move_after_discovery = -1, move_to_tag;

static void move_namespace(size_t n, int tag);

static int scripted_discover(void *arg, struct tcps_namespace_found **ret,
			     size_t *ret_num)
{
	(void)arg;
	discoveries++;
	if (discover_result < 0)
		return discover_result;
	*ret = malloc(sizeof(script));
	ck_assert_ptr_nonnull(*ret);
	memcpy(*ret, script, sizeof(script));
	*ret_num = script_num;
	if (move_after_discovery >= 0)
		move_namespace((size_t)move_after_discovery, move_to_tag);
	move_after_discovery = -1;
	return 0;
}

/* The n-th socket opened belongs to the n-th namespace read first. */
static int handles[MAX_FOUND];

static int steady_open(void *arg, void **ret_handle)
{
	(void)arg;
	ck_assert_int_lt(opens, MAX_FOUND);
	handles[opens] = opens;
	*ret_handle = &handles[opens];
	opens++;
	return 0;
}

static void steady_close(void *handle)
{
	(void)handle;
	closes++;
}

/* Inodes of the CLOSE_WAIT sockets (0: none), by handle: set by a test
 * whose fake /proc holds them. */
static uint32_t close_wait_inode[MAX_FOUND];

/* Set by a test: the namespaces hold no CLOSE_WAIT socket. */
static bool no_close_wait;

/* The cgroup id of the CLOSE_WAIT socket (0: none), by handle. */
static uint64_t close_wait_cgroup[MAX_FOUND];
/* Set by a test before make(): GroupBy "cgroup"; walks of its tree. */
static bool group_by_cgroup;
static int cgroup_walks;

/* Two ESTABLISHED sockets and one CLOSE_WAIT, in every namespace. */
static int steady_dump(void *handle, enum tcps_dump_family family,
		       uint32_t state_mask, tcps_record_fn fn, void *data,
		       struct tcps_dump_stats *stats)
{
	static const uint8_t states[] = { 1, 1, 8 };
	int n = *(const int *)handle;

	(void)family;
	(void)state_mask;
	for (size_t i = 0; i < sizeof(states) - no_close_wait; i++) {
		struct tcps_record rec = {
			.family = AF_INET,
			.state = states[i],
			.inode = states[i] == 8 ? close_wait_inode[n] : 0,
			.cgroup_id = states[i] == 8 ? close_wait_cgroup[n] : 0,
			.cookie = 1000 + 10 * (uint64_t)n + i
		};

		stats->records++;
		fn(&rec, data);
	}
	return 0;
}

static const struct tcps_source_ops steady_source = {
	.open = steady_open,
	.close = steady_close,
	.dump = steady_dump,
};

/* The real namespaces of a test, each made for a tag (101, 102 ...) by
 * a child that holds it; they die with the test. */
struct real_namespace {
	int tag;
	pid_t pid;
	struct stat st; /* its identity */
};

static struct real_namespace pool[MAX_FOUND];
static size_t pool_num;

static const struct real_namespace *real_namespace(int tag)
{
	struct real_namespace *ns;
	char path[64];

	for (size_t i = 0; i < pool_num; i++)
		if (pool[i].tag == tag)
			return &pool[i];
	ck_assert_uint_lt(pool_num, MAX_FOUND);
	ns = &pool[pool_num++];
	ns->tag = tag;
	ns->pid = child_netns_spawn(false);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)ns->pid);
	ck_assert_int_eq(stat(path, &ns->st), 0);
	return ns;
}

/* The inode of the namespace made for tag. */
static uint64_t ino_of(int tag)
{
	return (uint64_t)real_namespace(tag)->st.st_ino;
}

/* Points the symlink at path to the namespace of tag. */
static void point(const char *path, int tag)
{
	char target[64];

	snprintf(target, sizeof(target), "/proc/%d/ns/net",
		 (int)real_namespace(tag)->pid);
	unlink(path);
	ck_assert_int_eq(symlink(target, path), 0);
}

/* Namespace n of the script: the namespace of tag, under name, through
 * a symlink of its own ("NAME-n"). */
static void script_namespace(size_t n, const char *name, int tag)
{
	struct tcps_namespace_found *f = &script[n];
	const struct real_namespace *ns = real_namespace(tag);

	memset(f, 0, sizeof(*f));
	f->dev = (uint64_t)ns->st.st_dev;
	f->ino = (uint64_t)ns->st.st_ino;
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->path, sizeof(f->path), "%s/%s-%zu", dir, name, n);
	point(f->path, tag);
	if (n >= script_num)
		script_num = n + 1;
}

/* Namespace n of the script is reached through another link now (its
 * pin deleted, its first process exited): discovery gives that path,
 * under the same name, and the old link is gone. */
static void move_namespace(size_t n, int tag)
{
	char old_path[TCPS_NAMESPACE_PATH_MAX], name[TCPS_NAME_MAX + 1];

	snprintf(old_path, sizeof(old_path), "%s", script[n].path);
	snprintf(name, sizeof(name), "%s", script[n].name);
	script_namespace(n, "moved", tag);
	snprintf(script[n].name, sizeof(script[n].name), "%s", name);
	unlink(old_path);
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	script_num = 0;
	pool_num = 0;
	discoveries = discover_result = opens = closes = 0;
	move_after_discovery = -1;
	no_close_wait = false;
	memset(close_wait_cgroup, 0, sizeof(close_wait_cgroup));
	group_by_cgroup = false;
	cgroup_walks = 0;
	capture_reset(&cap);
}

static void teardown(void)
{
	for (size_t i = 0; i < MAX_FOUND; i++)
		if (script[i].path[0])
			unlink(script[i].path);
	rmdir(dir);
	for (size_t i = 0; i < pool_num; i++)
		child_netns_end(pool[i].pid);
}

/* The host's cgroups for GroupBy "cgroup": id 20 + i is cgroups[i]. */
static const char *const cgroups[] = {
	"/system.slice/web.service",
	"/system.slice/db.service",
};
static int fake_walk(void *arg, tcps_cgroup_visit_fn *visit, void *data)
{
	(void)arg;
	cgroup_walks++;
	for (size_t i = 0; i < sizeof(cgroups) / sizeof(cgroups[0]); i++)
		if (visit(data, 20 + i, cgroups[i]))
			return 1;
	return 0;
}

static const struct tcps_cgroups_source fake_tree = { .walk = fake_walk };

static struct tcps_namespaces *make_in(uint32_t every, uint32_t max,
				       const char *proc_root)
{
	struct tcps_namespaces_config cfg = {
		.discover_every = every,
		.max_namespaces = max,
		.discover = scripted_discover,
		.source = &steady_source,
	};
	struct tcps_namespaces *set;

	tcps_options_init(&cfg.opts);
	cfg.opts.value_sets = 0; /* states and leaks only */
	cfg.opts.process_scan_budget = 0;
	if (proc_root)
		cfg.opts.proc_root = proc_root;
	if (group_by_cgroup) {
		cfg.opts.group_by = TCPS_GROUP_CGROUP;
		cfg.opts.cgroups_source = &fake_tree;
	}
	ck_assert_int_eq(tcps_namespaces_new(&cfg, &set), 0);
	return set;
}

static struct tcps_namespaces *make(uint32_t every, uint32_t max)
{
	return make_in(every, max, NULL);
}

static void read_once(struct tcps_namespaces *set,
		      struct tcps_namespaces_report *report)
{
	struct tcps_sink sink = capture_sink(&cap);

	capture_reset(&cap);
	ck_assert_int_eq(tcps_namespaces_read(set, &sink, report), 0);
}

/* The states of namespace name are its values of the set "". */
static const char *states_of(const char *name)
{
	static char instance[96];

	snprintf(instance, sizeof(instance), "%s/", name);
	return instance;
}

static double established(const char *name)
{
	return capture_get(&cap, states_of(name), "tcp_connections",
			   "ESTABLISHED");
}

START_TEST(tcps_namespaces_read__values_under_each_name)
{
	struct tcps_namespaces *set = make(1, 8);
	struct tcps_namespaces_report report;

	script_namespace(0, "web", 101);
	script_namespace(1, "db", 102);
	read_once(set, &report);
	ck_assert(report.discovered);
	ck_assert_uint_eq(report.added, 2);
	ck_assert_uint_eq(report.reading, 2);
	ck_assert_uint_eq(report.failed, 0);
	ck_assert_double_eq(established("web"), 2);
	ck_assert_double_eq(established("db"), 2);
	ck_assert_double_eq(
		capture_get(&cap, "db/", "tcp_connections", "CLOSE_WAIT"), 1);
	/* The leak finder's groups carry the name too. */
	ck_assert_int_gt(capture_count(&cap, "web/proc_close_wait",
				       "tcp_connections", "-unknown"),
			 0);
	/* No value without a name: the host's own are not ours to send. */
	ck_assert(!capture_has(&cap, "", "tcp_connections", "ESTABLISHED"));
	tcps_namespaces_free(set);
}
END_TEST

START_TEST(tcps_namespaces_read__discovers_every_n_reads)
{
	struct tcps_namespaces *set = make(3, 8);
	struct tcps_namespaces_report report;

	script_namespace(0, "web", 101);
	for (int read = 0; read < 7; read++) {
		read_once(set, &report);
		ck_assert(report.discovered == (read % 3 == 0));
		ck_assert_double_eq(established("web"), 2);
	}
	ck_assert_int_eq(discoveries, 3);
	/* One socket per namespace, made at its first read and kept. */
	ck_assert_int_eq(opens, 1);
	tcps_namespaces_free(set);
	ck_assert_int_eq(closes, 1);
}
END_TEST

START_TEST(tcps_namespaces_read__gone_sends_zeros_once)
{
	struct tcps_namespaces *set = make(2, 8);
	struct tcps_namespaces_report report;

	script_namespace(0, "web", 101);
	script_namespace(1, "db", 102);
	read_once(set, &report);
	ck_assert_str_eq(report.added_names, "web, db");
	ck_assert_str_eq(report.gone_names, "");
	/* No longer found at the next discovery (read 3). */
	script_num = 1;
	read_once(set, &report);
	ck_assert_double_eq(established("db"), 2); /* not due yet */
	read_once(set, &report);
	ck_assert_uint_eq(report.gone, 1);
	ck_assert_str_eq(report.gone_names, "db");
	ck_assert_str_eq(report.added_names, "");
	ck_assert_uint_eq(report.failed, 0);
	ck_assert_double_eq(established("db"), 0);
	ck_assert_double_eq(
		capture_get(&cap, "db/", "tcp_connections", "CLOSE_WAIT"), 0);
	ck_assert_int_eq(
		capture_count(&cap, "db/", "tcp_connections", "ESTABLISHED"),
		1);
	ck_assert_double_eq(established("web"), 2);
	read_once(set, &report);
	ck_assert_int_eq(capture_count_netns(&cap, "db"), 0);
	ck_assert_uint_eq(tcps_namespaces_count(set), 1);
	tcps_namespaces_free(set);
}
END_TEST

/* A container found before its runtime wrote its name: its values end
 * under the name it had, and go on under its own; no other change of
 * name is followed. */
START_TEST(tcps_namespaces_read__named_otherwise_later_moves_its_values)
{
	struct tcps_namespaces *set = make(1, 8);
	struct tcps_namespaces_report report;

	script_namespace(0, "netns-101", 101);
	read_once(set, &report);
	ck_assert_double_eq(established("netns-101"), 2);
	/* Another name, not from a runtime: not followed. */
	snprintf(script[0].name, sizeof(script[0].name), "netns-pin");
	read_once(set, &report);
	ck_assert_uint_eq(report.gone, 0);
	ck_assert_double_eq(established("netns-101"), 2);
	snprintf(script[0].name, sizeof(script[0].name), "web");
	script[0].from_runtime = true;
	read_once(set, &report);
	ck_assert_uint_eq(report.gone, 1);
	ck_assert_uint_eq(report.added, 1);
	ck_assert_double_eq(established("netns-101"), 0);
	ck_assert_double_eq(established("web"), 2);
	read_once(set, &report);
	ck_assert_int_eq(capture_count_netns(&cap, "netns-101"), 0);
	ck_assert_double_eq(established("web"), 2);
	ck_assert_uint_eq(tcps_namespaces_count(set), 1);
	/* A runtime's name is kept: the container renamed stays put. */
	snprintf(script[0].name, sizeof(script[0].name), "web2");
	read_once(set, &report);
	ck_assert_uint_eq(report.gone, 0);
	ck_assert_double_eq(established("web"), 2);
	tcps_namespaces_free(set);
}
END_TEST

START_TEST(tcps_namespaces_read__vanished_between_discoveries)
{
	struct tcps_namespaces *set = make(100, 8);
	struct tcps_namespaces_report report;

	script_namespace(0, "web", 101);
	script_namespace(1, "db", 102);
	read_once(set, &report);
	/* Its container stopped: its pin is gone, and discovery will not
	 * find it. Nothing until a discovery says so, at the next read. */
	unlink(script[1].path);
	script_num = 1;
	read_once(set, &report);
	ck_assert(!report.discovered);
	ck_assert_uint_eq(report.gone, 0);
	ck_assert_uint_eq(report.failed, 0); /* normal, not an error */
	ck_assert_int_eq(capture_count_netns(&cap, "db"), 0);
	ck_assert_double_eq(established("web"), 2);
	read_once(set, &report);
	ck_assert(report.discovered);
	ck_assert_uint_eq(report.gone, 1);
	ck_assert_double_eq(established("db"), 0);
	ck_assert_uint_eq(tcps_namespaces_count(set), 1);
	read_once(set, &report);
	ck_assert_int_eq(capture_count_netns(&cap, "db"), 0);
	tcps_namespaces_free(set);
}
END_TEST

/* Its pin deleted (or its first process gone) between discoveries, the
 * namespace itself lives on: no zeros for it, a discovery at the next
 * read, and it goes on there under its name. */
START_TEST(tcps_namespaces_read__path_gone_namespace_lives_on)
{
	struct tcps_namespaces *set = make(100, 8);
	struct tcps_namespaces_report report;

	script_namespace(0, "web", 101);
	read_once(set, &report);
	move_namespace(0, 101);
	read_once(set, &report);
	ck_assert(!report.discovered);
	ck_assert_uint_eq(report.gone, 0);
	ck_assert_uint_eq(report.failed, 0);
	ck_assert_int_eq(capture_count_netns(&cap, "web"), 0);
	ck_assert_uint_eq(tcps_namespaces_count(set), 1);
	read_once(set, &report);
	ck_assert(report.discovered);
	ck_assert_uint_eq(report.gone, 0);
	ck_assert_uint_eq(report.added, 0);
	ck_assert_double_eq(established("web"), 2);
	tcps_namespaces_free(set);
}
END_TEST

/* Found, then gone before its first read (its pin deleted meanwhile, or
 * a race with a <Namespace> block's namespace that was being made
 * again): it never sent a value, so it sends no zeros either. */
START_TEST(tcps_namespaces_read__gone_before_its_first_read_sends_nothing)
{
	struct tcps_namespaces *set = make(1, 8);
	struct tcps_namespaces_report report;

	script_namespace(0, "web", 101);
	script_namespace(1, "db", 102);
	unlink(script[1].path);
	read_once(set, &report);
	ck_assert_uint_eq(report.added, 2);
	ck_assert_uint_eq(report.gone, 0);
	ck_assert_double_eq(established("web"), 2);
	ck_assert_int_eq(capture_count_netns(&cap, "db"), 0);
	/* The next discovery, as a real one, no longer lists it. */
	script_num = 1;
	read_once(set, &report);
	ck_assert(report.discovered);
	ck_assert_uint_eq(report.gone, 1);
	ck_assert_int_eq(capture_count_netns(&cap, "db"), 0);
	ck_assert_uint_eq(tcps_namespaces_count(set), 1);
	tcps_namespaces_free(set);
}
END_TEST

/* Its pin goes between the discovery that listed it and its dump, in the
 * same read: it lives on, is found again through its other path at the
 * next read (which discovers again, whatever DiscoverEvery says), keeps
 * its name and never sends a false zero. */
START_TEST(tcps_namespaces_read__pin_gone_just_after_its_discovery)
{
	struct tcps_namespaces *set = make(10, 8);
	struct tcps_namespaces_report report;

	script_namespace(0, "web", 101);
	move_after_discovery = 0;
	move_to_tag = 101;
	read_once(set, &report);
	ck_assert(report.discovered);
	ck_assert_uint_eq(report.added, 1);
	ck_assert_uint_eq(report.gone, 0);
	ck_assert_int_eq(capture_count_netns(&cap, "web"), 0);
	read_once(set, &report);
	ck_assert(report.discovered);
	ck_assert_uint_eq(report.gone, 0);
	ck_assert_uint_eq(report.added, 0);
	ck_assert_double_eq(established("web"), 2);
	ck_assert_uint_eq(tcps_namespaces_count(set), 1);
	read_once(set, &report);
	ck_assert(!report.discovered);
	ck_assert_double_eq(established("web"), 2);
	tcps_namespaces_free(set);
}
END_TEST

/* GroupBy "cgroup": one map of cgroup ids serves every namespace (ids
 * are host-wide): ids new in any namespace are looked for in one walk
 * per read, each namespace's groups come from its own sockets, and a
 * socket that moves to a known cgroup needs no walk. */
START_TEST(tcps_namespaces_read__one_cgroup_map_serves_every_namespace)
{
	struct tcps_namespaces *set;
	struct tcps_namespaces_report report;

	group_by_cgroup = true;
	set = make(1, 8);
	script_namespace(0, "web", 101);
	script_namespace(1, "db", 102);
	close_wait_cgroup[0] = 20;
	close_wait_cgroup[1] = 21;
	read_once(set, &report);
	ck_assert_int_eq(cgroup_walks, 1);
	ck_assert_double_eq(capture_get(&cap, "web/proc_close_wait",
					"tcp_connections", "web_service"),
			    1);
	ck_assert_double_eq(capture_get(&cap, "db/proc_close_wait",
					"tcp_connections", "db_service"),
			    1);
	ck_assert(!capture_has(&cap, "web/proc_close_wait", "tcp_connections",
			       "db_service"));

	/* db's socket is in web's cgroup now: known, no walk. */
	close_wait_cgroup[1] = 20;
	read_once(set, &report);
	ck_assert_int_eq(cgroup_walks, 1);
	ck_assert_double_eq(capture_get(&cap, "db/proc_close_wait",
					"tcp_connections", "web_service"),
			    1);
	ck_assert_double_eq(capture_get(&cap, "db/proc_close_wait",
					"tcp_connections", "db_service"),
			    0);
	ck_assert_double_eq(capture_get(&cap, "web/proc_close_wait",
					"tcp_connections", "web_service"),
			    1);
	tcps_namespaces_free(set);
}
END_TEST

/* The names of those added fill the log line's list as far as they fit
 * whole, then "...". */
START_TEST(tcps_namespaces_read__names_what_came_as_far_as_it_fits)
{
	struct tcps_namespaces *set = make(1, 8);
	struct tcps_namespaces_report report;
	char name[TCPS_NAME_MAX + 1];

	for (int i = 0; i < 5; i++) {
		memset(name, 'a' + i, 60);
		name[60] = '\0';
		script_namespace((size_t)i, name, 101 + i);
	}
	read_once(set, &report);
	ck_assert_uint_eq(report.added, 5);
	/* Four of 60 and their commas fit in 256 with room for ", ...";
	 * the fifth does not. */
	ck_assert_uint_eq(strlen(report.added_names), 4 * 60 + 4 * 2 + 3);
	ck_assert_str_eq(report.added_names + 4 * 60 + 4 * 2, "...");
	ck_assert_int_eq(report.added_names[0], 'a');
	ck_assert_int_eq(report.added_names[62], 'b');
	tcps_namespaces_free(set);
}
END_TEST

/* A runtime names a namespace whose name it already has: "web" is
 * another's, so made unique it is "web-<inode>", the name its pin gave
 * it. It stays, with no zeros and no second start under that name. */
START_TEST(tcps_namespaces_read__runtime_name_it_already_has_changes_nothing)
{
	struct tcps_namespaces *set = make(1, 8);
	struct tcps_namespaces_report report;
	char suffixed[TCPS_NAME_MAX + 1];
	uint64_t dev, ino;

	script_namespace(0, "web", 101);
	script[0].from_runtime = true;
	snprintf(suffixed, sizeof(suffixed), "web-%llu",
		 (unsigned long long)ino_of(102));
	script_namespace(1, suffixed, 102); /* a pin of that name */
	read_once(set, &report);
	ck_assert_str_eq(tcps_namespaces_member(set, 1, &dev, &ino), suffixed);

	/* Its runtime wrote its files: it calls it "web". */
	snprintf(script[1].name, sizeof(script[1].name), "web");
	script[1].from_runtime = true;
	read_once(set, &report);
	ck_assert_uint_eq(report.gone, 0);
	ck_assert_uint_eq(report.added, 0);
	ck_assert_str_eq(tcps_namespaces_member(set, 1, &dev, &ino), suffixed);
	ck_assert_int_eq(capture_count(&cap, states_of(suffixed),
				       "tcp_connections", "ESTABLISHED"),
			 1);
	ck_assert_double_eq(established(suffixed), 2);
	tcps_namespaces_free(set);
}
END_TEST

START_TEST(tcps_namespaces_read__maximum_leaves_the_rest_out)
{
	struct tcps_namespaces *set = make(1, 2);
	struct tcps_namespaces_report report;

	script_namespace(0, "a", 101);
	script_namespace(1, "b", 102);
	script_namespace(2, "c", 103);
	read_once(set, &report);
	ck_assert_uint_eq(report.reading, 2);
	ck_assert_uint_eq(report.left_out, 1);
	ck_assert(!capture_has(&cap, "c/", "tcp_connections", "ESTABLISHED"));
	/* When one goes, the one left out takes its place. */
	script[0] = script[2];
	script_num = 2;
	read_once(set, &report);
	ck_assert_uint_eq(report.left_out, 0);
	ck_assert_double_eq(established("c"), 2);
	ck_assert_double_eq(established("a"), 0);
	tcps_namespaces_free(set);
}
END_TEST

START_TEST(tcps_namespaces_read__a_new_namespace_never_takes_a_used_name)
{
	struct tcps_namespaces *set = make(1, 8);
	struct tcps_namespaces_report report;

	char second[64];

	script_namespace(0, "web", 101);
	read_once(set, &report);
	/* Another namespace under the same name, the first still there. */
	script_namespace(1, "web", 202);
	read_once(set, &report);
	ck_assert_double_eq(established("web"), 2);
	snprintf(second, sizeof(second), "web-%llu",
		 (unsigned long long)ino_of(202));
	ck_assert_double_eq(established(second), 2);
	tcps_namespaces_free(set);
}
END_TEST

/* A namespace that discovery would call "host" (a runtime may name a
 * container so) never speaks as the daemon's own namespace. */
START_TEST(tcps_namespaces_read__host_is_never_taken)
{
	struct tcps_namespaces *set = make(1, 8);
	struct tcps_namespaces_report report;
	char suffixed[64];

	script_namespace(0, "host", 101);
	read_once(set, &report);
	ck_assert_int_eq(capture_count_netns(&cap, "host"), 0);
	snprintf(suffixed, sizeof(suffixed), "host-%llu",
		 (unsigned long long)ino_of(101));
	ck_assert_double_eq(established(suffixed), 2);
	tcps_namespaces_free(set);
}
END_TEST

/* A namespace already read under "web-<inode>" (its own name, as an
 * operator may pin one): the newcomer called "web" with that inode goes
 * on to "web-<inode>-2", as discovery itself does. */
START_TEST(tcps_namespaces_read__a_suffixed_name_never_meets_another)
{
	struct tcps_namespaces *set = make(1, 8);
	struct tcps_namespaces_report report;
	char taken[64], third[80];

	snprintf(taken, sizeof(taken), "web-%llu",
		 (unsigned long long)ino_of(202));
	script_namespace(0, "web", 101);
	script_namespace(1, taken, 150);
	read_once(set, &report);
	script_namespace(2, "web", 202);
	read_once(set, &report);
	ck_assert_uint_eq(report.added, 1);
	snprintf(third, sizeof(third), "%s-2", taken);
	ck_assert_int_eq(
		capture_count(&cap, "web/", "tcp_connections", "ESTABLISHED"),
		1);
	ck_assert_int_eq(capture_count(&cap, states_of(taken),
				       "tcp_connections", "ESTABLISHED"),
			 1);
	ck_assert_double_eq(established(third), 2);
	tcps_namespaces_free(set);
}
END_TEST

START_TEST(tcps_namespaces_member__names_each_namespace_read)
{
	struct tcps_namespaces *set = make(1, 8);
	struct tcps_namespaces_report report;
	uint64_t dev = 0, ino = 0;
	char second[64];

	script_namespace(0, "web", 101);
	script_namespace(1, "web", 202);
	read_once(set, &report);
	ck_assert_str_eq(tcps_namespaces_member(set, 0, &dev, &ino), "web");
	ck_assert_uint_eq(dev, script[0].dev);
	ck_assert_uint_eq(ino, ino_of(101));
	snprintf(second, sizeof(second), "web-%llu",
		 (unsigned long long)ino_of(202));
	ck_assert_str_eq(tcps_namespaces_member(set, 1, &dev, &ino), second);
	ck_assert_uint_eq(ino, ino_of(202));
	ck_assert_ptr_null(tcps_namespaces_member(set, 2, &dev, &ino));
	tcps_namespaces_free(set);
}
END_TEST

START_TEST(tcps_namespaces_read__new_path_keeps_the_namespace)
{
	struct tcps_namespaces *set = make(1, 8);
	struct tcps_namespaces_report report;

	script_namespace(0, "web", 101);
	read_once(set, &report);
	/* Its first process exited; another path names it now. */
	move_namespace(0, 101);
	read_once(set, &report);
	ck_assert_uint_eq(report.gone, 0);
	ck_assert_uint_eq(report.added, 0);
	ck_assert_uint_eq(report.failed, 0);
	ck_assert_double_eq(established("web"), 2);
	ck_assert_int_eq(opens, 2); /* opened again inside */
	tcps_namespaces_free(set);
}
END_TEST

/* Between two discoveries the path comes to name another namespace (a
 * pid taken by a process of another container): its sockets are not
 * web's. web sends nothing; the next read's discovery finds what is
 * there now, and web's zeros go out once. */
START_TEST(tcps_namespaces_read__path_taken_over_is_not_read_as_the_first)
{
	struct tcps_namespaces *set = make(3, 8);
	struct tcps_namespaces_report report;

	script_namespace(0, "web", 101);
	read_once(set, &report);
	point(script[0].path, 102);
	read_once(set, &report);
	ck_assert(!report.discovered);
	ck_assert_uint_eq(report.gone, 0);
	ck_assert_uint_eq(report.failed, 0);
	ck_assert_int_eq(capture_count_netns(&cap, "web"), 0);
	/* Discovered as what it is now. */
	script[0].ino = ino_of(102);
	snprintf(script[0].name, sizeof(script[0].name), "api");
	read_once(set, &report);
	ck_assert(report.discovered);
	ck_assert_uint_eq(report.gone, 1);
	ck_assert_uint_eq(report.added, 1);
	ck_assert_int_eq(
		capture_count(&cap, "web/", "tcp_connections", "ESTABLISHED"),
		1);
	ck_assert_double_eq(established("web"), 0);
	ck_assert_double_eq(established("api"), 2);
	read_once(set, &report);
	ck_assert_int_eq(capture_count_netns(&cap, "web"), 0);
	tcps_namespaces_free(set);
}
END_TEST

START_TEST(tcps_namespaces_read__failed_discovery_keeps_what_is_read)
{
	struct tcps_namespaces *set = make(1, 8);
	struct tcps_namespaces_report report;

	script_namespace(0, "web", 101);
	read_once(set, &report);
	discover_result = -EACCES;
	read_once(set, &report);
	ck_assert_int_eq(report.discover_error, -EACCES);
	ck_assert_uint_eq(report.gone, 0);
	ck_assert_double_eq(established("web"), 2);
	tcps_namespaces_free(set);
}
END_TEST

START_TEST(tcps_namespaces_read__one_owner_search_serves_every_namespace)
{
	struct fakeproc fp;
	struct tcps_namespaces *set;
	struct tcps_namespaces_report report;

	fakeproc_create(&fp);
	fakeproc_add(&fp, 10, "nginx", "/usr/sbin/nginx", "0::/");
	fakeproc_fd(&fp, 10, 7, 5001);
	fakeproc_add(&fp, 20, "java", "/usr/bin/java", "0::/");
	fakeproc_fd(&fp, 20, 9, 5002);
	close_wait_inode[0] = 5001; /* in the first namespace read */
	close_wait_inode[1] = 5002;
	set = make_in(1, 8, fp.root);
	script_namespace(0, "web", 101);
	script_namespace(1, "db", 102);
	for (int read = 0; read < 3; read++) {
		read_once(set, &report);
		ck_assert_int_eq(report.resolve_error, 0);
		ck_assert_uint_eq(report.owners.unattributed, 0);
		ck_assert_double_eq(capture_get(&cap, "web/proc_close_wait",
						"tcp_connections", "nginx"),
				    1);
		ck_assert_double_eq(capture_get(&cap, "db/proc_close_wait",
						"tcp_connections", "java"),
				    1);
		ck_assert(!capture_has(&cap, "web/proc_close_wait",
				       "tcp_connections", "java"));
		/* One pass over the two processes at most, for both. */
		ck_assert_uint_le(report.owners.procs_scanned, 2);
	}
	/* After the first read the owners are remembered: no scan. */
	ck_assert_uint_eq(report.owners.procs_scanned, 0);
	ck_assert_uint_eq(report.owners.cache_hits, 2);
	tcps_namespaces_free(set);
	fakeproc_destroy(&fp);
}
END_TEST

/* Nothing for the owner search: no namespace hands it a query (under
 * UBSan, copying a namespace's absent queries was undefined). */
START_TEST(tcps_namespaces_read__no_socket_to_place)
{
	struct tcps_namespaces *set = make(1, 8);
	struct tcps_namespaces_report report;

	no_close_wait = true;
	script_namespace(0, "web", 101);
	script_namespace(1, "db", 102);
	for (int read = 0; read < 2; read++) {
		read_once(set, &report);
		ck_assert_int_eq(report.resolve_error, 0);
		ck_assert_double_eq(established("web"), 2);
		ck_assert_double_eq(capture_get(&cap, "db/", "tcp_connections",
						"CLOSE_WAIT"),
				    0);
	}
	tcps_namespaces_free(set);
}
END_TEST

START_TEST(tcps_namespaces_new__needs_a_discovery)
{
	struct tcps_namespaces_config cfg = { .max_namespaces = 1 };
	struct tcps_namespaces *set;

	ck_assert_int_eq(tcps_namespaces_new(&cfg, &set), -EINVAL);
	tcps_namespaces_free(NULL);
}
END_TEST

Suite *namespaces_suite(void)
{
	Suite *s = suite_create("namespaces");
	TCase *config = tcase_create("config");

	tcase_add_test(config, tcps_namespaces_new__needs_a_discovery);
	suite_add_tcase(s, config);
	/* Entering a namespace, even our own, takes CAP_SYS_ADMIN. */
	if (geteuid() == 0) {
		TCase *reads = tcase_create("reads");

		tcase_add_checked_fixture(reads, setup, teardown);
		tcase_add_test(reads,
			       tcps_namespaces_read__values_under_each_name);
		tcase_add_test(reads,
			       tcps_namespaces_read__discovers_every_n_reads);
		tcase_add_test(reads,
			       tcps_namespaces_read__gone_sends_zeros_once);
		tcase_add_test(
			reads,
			tcps_namespaces_read__vanished_between_discoveries);
		tcase_add_test(
			reads,
			tcps_namespaces_read__named_otherwise_later_moves_its_values);
		tcase_add_test(
			reads,
			tcps_namespaces_read__path_gone_namespace_lives_on);
		tcase_add_test(
			reads,
			tcps_namespaces_read__gone_before_its_first_read_sends_nothing);
		tcase_add_test(
			reads,
			tcps_namespaces_read__pin_gone_just_after_its_discovery);
		tcase_add_test(
			reads,
			tcps_namespaces_read__maximum_leaves_the_rest_out);
		tcase_add_test(
			reads,
			tcps_namespaces_read__runtime_name_it_already_has_changes_nothing);
		tcase_add_test(
			reads,
			tcps_namespaces_read__names_what_came_as_far_as_it_fits);
		tcase_add_test(
			reads,
			tcps_namespaces_read__one_cgroup_map_serves_every_namespace);
		tcase_add_test(
			reads,
			tcps_namespaces_read__a_new_namespace_never_takes_a_used_name);
		tcase_add_test(
			reads,
			tcps_namespaces_read__a_suffixed_name_never_meets_another);
		tcase_add_test(
			reads,
			tcps_namespaces_member__names_each_namespace_read);
		tcase_add_test(
			reads,
			tcps_namespaces_read__new_path_keeps_the_namespace);
		tcase_add_test(
			reads,
			tcps_namespaces_read__failed_discovery_keeps_what_is_read);
		tcase_add_test(
			reads,
			tcps_namespaces_read__path_taken_over_is_not_read_as_the_first);
		tcase_add_test(
			reads,
			tcps_namespaces_read__one_owner_search_serves_every_namespace);
		tcase_add_test(reads, tcps_namespaces_read__no_socket_to_place);
		tcase_add_test(reads,
			       tcps_namespaces_read__host_is_never_taken);
		suite_add_tcase(s, reads);
	}
	return s;
}

/* The cgroup id -> name map over sequences of reads, on a scripted tree
 * (a real cgroup2 folder's id needs a cgroup2 file system: the shell
 * test test-cgroup-owners.sh walks one), and the mountinfo parser. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "suites.h"
#include "tcpstates/cgroup_names.h"
#include "tcpstates/cgroups.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define TREE_MAX 32

/* A tree the test changes between reads. */
struct fake_tree {
	struct {
		uint64_t id;
		const char *path;
	} cgroups[TREE_MAX];
	size_t num;
	uint64_t extra; /* then this many more, ids 1000000 on */
	int walks;	/* walk() calls */
	int error;	/* walk() returns it when not 0 */
	int sleep_at;	/* sleeps 150 ms before this visit (1-based) */
};

static struct fake_tree tree;
static struct tcps_cgroups *cg;

static int fake_walk(void *arg, tcps_cgroup_visit_fn *visit, void *data)
{
	struct fake_tree *t = arg;
	char path[32];
	int visits = 0;

	t->walks++;
	if (t->error)
		return t->error;
	for (size_t i = 0; i < t->num + t->extra; i++) {
		uint64_t id =
			i < t->num ? t->cgroups[i].id : 1000000 + (i - t->num);

		snprintf(path, sizeof(path), "/c%llu", (unsigned long long)id);
		if (++visits == t->sleep_at)
			usleep(150 * 1000);
		if (visit(data, id, i < t->num ? t->cgroups[i].path : path))
			return 1;
	}
	return 0;
}

static void add(uint64_t id, const char *path)
{
	ck_assert_uint_lt(tree.num, TREE_MAX);
	tree.cgroups[tree.num].id = id;
	tree.cgroups[tree.num++].path = path;
}

/* Deleted: the last cgroup added goes. */
static void remove_last(void)
{
	tree.num--;
}

static void setup(void)
{
	const struct tcps_cgroups_source source = { .walk = fake_walk,
						    .arg = &tree };

	memset(&tree, 0, sizeof(tree));
	add(1, "/");
	add(10, "/system.slice/nginx.service");
	add(11, "/machine.slice/libpod-" ID64 ".scope");
	add(12, "/user.slice/user-1000.slice/user@1000.service/init.scope");
	ck_assert_int_eq(tcps_cgroups_new("/proc", &source, &cg), 0);
}

static void teardown(void)
{
	tcps_cgroups_free(cg);
}

/* One read whose sockets show these ids (0 ends the list). */
static int read_ids(const uint64_t *ids)
{
	tcps_cgroups_begin(cg);
	for (size_t i = 0; ids[i]; i++)
		tcps_cgroups_use(cg, ids[i]);
	return tcps_cgroups_resolve(cg);
}

static const char *name(uint64_t id)
{
	size_t key = tcps_cgroups_key(cg, id);

	ck_assert_uint_lt(key, tcps_cgroups_keys(cg));
	return tcps_cgroups_name(cg, key);
}

START_TEST(tcps_cgroups_resolve__one_walk_names_every_id)
{
	ck_assert_int_eq(read_ids((uint64_t[]){ 10, 11, 12, 1, 10, 0 }), 0);
	ck_assert_int_eq(tree.walks, 1);
	ck_assert_str_eq(name(10), "nginx_service");
	ck_assert_str_eq(name(11), "podman-0123456789ab");
	ck_assert_str_eq(name(12), "user_1000_service");
	ck_assert_str_eq(name(1), TCPS_CGROUP_ROOT_NAME);
	ck_assert_uint_ne(tcps_cgroups_key(cg, 10), tcps_cgroups_key(cg, 11));
	ck_assert_uint_eq(tcps_cgroups_stats(cg)->walks, 1);
	ck_assert_uint_eq(tcps_cgroups_stats(cg)->walk_cgroups, 4);
	ck_assert_uint_eq(tcps_cgroups_stats(cg)->entries, 4);
	ck_assert(!tcps_cgroups_stats(cg)->walk_cut);
}
END_TEST

/* Ids a walk met, used or not, need no walk; a read without ids none. */
START_TEST(tcps_cgroups_resolve__known_ids_need_no_walk)
{
	ck_assert_int_eq(read_ids((uint64_t[]){ 10, 0 }), 0);
	for (int i = 0; i < 3 * TCPS_CGROUPS_FORGET_READS; i++)
		ck_assert_int_eq(read_ids((uint64_t[]){ 0 }), 0);
	ck_assert_int_eq(read_ids((uint64_t[]){ 10, 11, 12, 0 }), 0);
	ck_assert_int_eq(tree.walks, 1);
	ck_assert_str_eq(name(11), "podman-0123456789ab");
}
END_TEST

/* A new container: one walk in the read that first shows it, however
 * many sockets show it. An id no complete walk finds (its cgroup went
 * before we looked) is unknown, and is not looked for again. */
START_TEST(tcps_cgroups_resolve__new_ids_walk_once_per_read)
{
	ck_assert_int_eq(read_ids((uint64_t[]){ 10, 0 }), 0);
	add(20, "/system.slice/docker-" ID64 ".scope");
	ck_assert_int_eq(read_ids((uint64_t[]){ 20, 20, 99, 99, 10, 0 }), 0);
	ck_assert_int_eq(tree.walks, 2);
	ck_assert_str_eq(name(20), "docker-0123456789ab");
	ck_assert_str_eq(name(99), TCPS_CGROUP_UNKNOWN_NAME);
	ck_assert_uint_eq(tcps_cgroups_stats(cg)->unknown, 1);
	ck_assert_uint_ne(tcps_cgroups_key(cg, 99), tcps_cgroups_key(cg, 20));
	ck_assert_int_eq(read_ids((uint64_t[]){ 99, 20, 0 }), 0);
	ck_assert_int_eq(tree.walks, 2);
	ck_assert_str_eq(name(99), TCPS_CGROUP_UNKNOWN_NAME);
}
END_TEST

/* A deleted cgroup keeps its name while sockets show its id; once none
 * has for TCPS_CGROUPS_FORGET_READS reads, it is forgotten. */
START_TEST(tcps_cgroups_resolve__deleted_cgroups_are_forgotten)
{
	add(30, "/system.slice/old.service");
	ck_assert_int_eq(read_ids((uint64_t[]){ 30, 0 }), 0);
	remove_last();
	add(31, "/system.slice/new.service");
	ck_assert_int_eq(read_ids((uint64_t[]){ 30, 31, 0 }), 0);
	ck_assert_int_eq(tree.walks, 2);
	ck_assert_str_eq(name(30), "old_service");
	for (int i = 0; i < TCPS_CGROUPS_FORGET_READS; i++)
		ck_assert_int_eq(read_ids((uint64_t[]){ 30, 0 }), 0);
	ck_assert_str_eq(name(30), "old_service");
	for (int i = 0; i <= 2 * TCPS_CGROUPS_FORGET_READS; i++)
		ck_assert_int_eq(read_ids((uint64_t[]){ 31, 0 }), 0);
	ck_assert_int_eq(tree.walks, 2);
	ck_assert_uint_eq(tcps_cgroups_key(cg, 30), tcps_cgroups_keys(cg) - 1);
	ck_assert_uint_eq(tcps_cgroups_stats(cg)->entries, 5);
	/* Back: looked for again, and not found. */
	ck_assert_int_eq(read_ids((uint64_t[]){ 30, 0 }), 0);
	ck_assert_int_eq(tree.walks, 3);
	ck_assert_str_eq(name(30), TCPS_CGROUP_UNKNOWN_NAME);
}
END_TEST

/* Unknown ids are forgotten too: a stream of ids of cgroups that never
 * existed leaves the map no larger than its last reads' ids. */
START_TEST(tcps_cgroups_resolve__unknown_ids_are_forgotten)
{
	for (uint64_t i = 0; i < 10 * TCPS_CGROUPS_FORGET_READS; i++)
		ck_assert_int_eq(read_ids((uint64_t[]){ 5000 + i, 0 }), 0);
	ck_assert_int_le(tcps_cgroups_stats(cg)->entries,
			 4 + 2 * TCPS_CGROUPS_FORGET_READS);
	ck_assert_int_eq(tree.walks, 10 * TCPS_CGROUPS_FORGET_READS);
}
END_TEST

/* A tree larger than the map: the walk stops at TCPS_CGROUPS_MAX, ids
 * beyond are unknown, and walks back off, 1, 2, 4 ... reads apart. */
START_TEST(tcps_cgroups_resolve__room_bounds_the_walk)
{
	uint64_t beyond = 1000000 + TCPS_CGROUPS_MAX + 5;
	int walks_at[8], n = 0;

	tree.extra = TCPS_CGROUPS_MAX + 10;
	for (int read = 1; read <= 12; read++) {
		int before = tree.walks;

		ck_assert_int_eq(read_ids((uint64_t[]){ 10, beyond, 0 }), 0);
		if (tree.walks > before && n < 8)
			walks_at[n++] = read;
		ck_assert_str_eq(name(beyond), TCPS_CGROUP_UNKNOWN_NAME);
		ck_assert_str_eq(name(10), "nginx_service");
		ck_assert_uint_le(tcps_cgroups_stats(cg)->entries,
				  TCPS_CGROUPS_MAX);
	}
	ck_assert(tcps_cgroups_stats(cg)->walk_cut);
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(walks_at[0], 1);
	ck_assert_int_eq(walks_at[1], 3);
	ck_assert_int_eq(walks_at[2], 6);
	ck_assert_int_eq(walks_at[3], 11);
}
END_TEST

START_TEST(tcps_cgroups_resolve__time_bounds_the_walk)
{
	tree.extra = 1000;
	tree.sleep_at = 10;
	ck_assert_int_eq(read_ids((uint64_t[]){ 1000999, 0 }), 0);
	ck_assert(tcps_cgroups_stats(cg)->walk_cut);
	ck_assert_uint_lt(tcps_cgroups_stats(cg)->walk_cgroups, 200);
	ck_assert_str_eq(name(1000999), TCPS_CGROUP_UNKNOWN_NAME);
	/* Without the pause, the next allowed walk finds it. */
	tree.sleep_at = 0;
	ck_assert_int_eq(read_ids((uint64_t[]){ 1000999, 0 }), 0);
	ck_assert_int_eq(read_ids((uint64_t[]){ 1000999, 0 }), 0);
	ck_assert_int_eq(tree.walks, 2);
	ck_assert_str_eq(name(1000999), "c1000999");
}
END_TEST

/* No tree (cgroup v1 only): said once per read, no walk after the first. */
START_TEST(tcps_cgroups_resolve__no_tree_is_an_error)
{
	tree.error = -ENOENT;
	ck_assert_int_eq(read_ids((uint64_t[]){ 0 }), 0);
	ck_assert_int_eq(read_ids((uint64_t[]){ 10, 0 }), -ENOENT);
	ck_assert_int_eq(read_ids((uint64_t[]){ 10, 0 }), -ENOENT);
	ck_assert_int_eq(tree.walks, 1);
	ck_assert_str_eq(name(10), TCPS_CGROUP_UNKNOWN_NAME);
}
END_TEST

/* The real source, on a fake /proc: mountinfo is where the mount is
 * looked for, the whole hierarchy (root "/") is preferred, and a folder
 * that is not a cgroup2 file system is refused. */
static char fake_root[64];

static void write_mountinfo(const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/self", fake_root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/self/mountinfo", fake_root);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static int real_source_read(void)
{
	struct tcps_cgroups *real;
	int ret;

	ck_assert_int_eq(tcps_cgroups_new(fake_root, NULL, &real), 0);
	tcps_cgroups_begin(real);
	tcps_cgroups_use(real, 10);
	ret = tcps_cgroups_resolve(real);
	tcps_cgroups_free(real);
	return ret;
}

START_TEST(tcps_cgroups_resolve__real_source_finds_the_mount)
{
	char text[1024];

	snprintf(fake_root, sizeof(fake_root), "/tmp/tcps-cg-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fake_root));
	ck_assert_int_eq(real_source_read(), -ENOENT); /* no mountinfo */
	write_mountinfo("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup "
			"rw,cpu\n");
	ck_assert_int_eq(real_source_read(), -ENOENT); /* v1 only */
	/* A subtree first (its mount point a file: ENOTDIR), then the
	 * whole hierarchy (a folder, but not cgroup2). */
	snprintf(text, sizeof(text),
		 "40 31 0:38 /sub %s/self/mountinfo rw - cgroup2 cgroup2 rw\n"
		 "41 31 0:38 / %s rw shared:9 - cgroup2 cgroup2 rw\n",
		 fake_root, fake_root);
	write_mountinfo(text);
	ck_assert_int_eq(real_source_read(), -EMEDIUMTYPE);
	snprintf(text, sizeof(text),
		 "40 31 0:38 /sub %s/self/mountinfo rw - cgroup2 cgroup2 rw\n",
		 fake_root);
	write_mountinfo(text);
	ck_assert_int_eq(real_source_read(), -ENOTDIR);
	snprintf(text, sizeof(text), "rm -rf %s", fake_root);
	ck_assert_int_eq(system(text), 0);
}
END_TEST

/* ---- mountinfo lines ---- */

static int line(const char *text, char *dir, char *root, size_t size)
{
	return tcps_mountinfo_cgroup2(text, strlen(text), dir, root, size);
}

START_TEST(tcps_mountinfo_cgroup2__real_lines)
{
	char dir[64], root[64];

	ck_assert_int_eq(line("41 31 0:38 / /sys/fs/cgroup/unified rw,relatime"
			      " - cgroup2 cgroup2 rw",
			      dir, root, sizeof(dir)),
			 0);
	ck_assert_str_eq(dir, "/sys/fs/cgroup/unified");
	ck_assert_str_eq(root, "/");
	ck_assert_int_eq(line("35 25 0:30 / /sys/fs/cgroup rw,nosuid,nodev,"
			      "noexec,relatime shared:9 master:2 - cgroup2 "
			      "cgroup2 rw,nsdelegate,memory_recursiveprot",
			      dir, root, sizeof(dir)),
			 0);
	ck_assert_str_eq(dir, "/sys/fs/cgroup");
	/* A container's view with cgroup namespaces off: a subtree. */
	ck_assert_int_eq(line("1203 1198 0:30 /machine.slice/libpod-1.scope "
			      "/sys/fs/cgroup ro - cgroup2 cgroup2 rw",
			      dir, root, sizeof(dir)),
			 0);
	ck_assert_str_eq(root, "/machine.slice/libpod-1.scope");
}
END_TEST

START_TEST(tcps_mountinfo_cgroup2__other_file_systems)
{
	char dir[64] = "same", root[64] = "same";

	ck_assert_int_eq(line("32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - "
			      "cgroup cgroup rw,cpu",
			      dir, root, sizeof(dir)),
			 -ENOENT);
	ck_assert_int_eq(line("31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs "
			      "rw,mode=755",
			      dir, root, sizeof(dir)),
			 -ENOENT);
	ck_assert_int_eq(
		line("1 2 0:3 / /x rw - cgroup2x c rw", dir, root, sizeof(dir)),
		-ENOENT);
	ck_assert_str_eq(dir, "same");
	ck_assert_str_eq(root, "same");
}
END_TEST

/* Mount points with spaces come as \040; a mount point "-" is not the
 * separator; broken lines are refused, outputs untouched. */
START_TEST(tcps_mountinfo_cgroup2__escapes_and_broken_lines)
{
	char dir[64] = "same", root[64] = "same";

	ck_assert_int_eq(line("50 25 0:40 /sub\\040dir /mnt/my\\040cg\\134x rw "
			      "- cgroup2 none rw",
			      dir, root, sizeof(dir)),
			 0);
	ck_assert_str_eq(dir, "/mnt/my cg\\x");
	ck_assert_str_eq(root, "/sub dir");
	ck_assert_int_eq(
		line("1 2 0:3 / - rw - cgroup2 c rw", dir, root, sizeof(dir)),
		0);
	ck_assert_str_eq(dir, "-");
	strcpy(dir, "same");
	strcpy(root, "same");
	ck_assert_int_eq(line("", dir, root, sizeof(dir)), -EINVAL);
	ck_assert_int_eq(line("1 2 0:3 / /x", dir, root, sizeof(dir)), -EINVAL);
	ck_assert_int_eq(
		line("1 2 0:3 / /x rw cgroup2 c rw", dir, root, sizeof(dir)),
		-EINVAL);
	ck_assert_int_eq(line("1 2 0:3 / /x rw -", dir, root, sizeof(dir)),
			 -EINVAL);
	ck_assert_int_eq(line("1 2 0:3 / /x\\000y rw - cgroup2 c rw", dir, root,
			      sizeof(dir)),
			 -EINVAL);
	ck_assert_int_eq(
		line("1 2 0:3 / /0123456789 rw - cgroup2 c rw", dir, root, 11),
		-ENAMETOOLONG);
	ck_assert_int_eq(
		line("1 2 0:3 / /012345678 rw - cgroup2 c rw", dir, root, 11),
		0);
	ck_assert_str_eq(dir, "/012345678");
	/* len ends the line: the type cut to "cgroup". */
	ck_assert_int_eq(tcps_mountinfo_cgroup2("1 2 0:3 / /x rw - cgroup2", 23,
						dir, root, sizeof(dir)),
			 -ENOENT);
}
END_TEST

Suite *cgroups_suite(void)
{
	Suite *s = suite_create("cgroups");
	TCase *map = tcase_create("map");
	TCase *mountinfo = tcase_create("mountinfo");

	tcase_add_checked_fixture(map, setup, teardown);
	tcase_add_test(map, tcps_cgroups_resolve__one_walk_names_every_id);
	tcase_add_test(map, tcps_cgroups_resolve__known_ids_need_no_walk);
	tcase_add_test(map, tcps_cgroups_resolve__new_ids_walk_once_per_read);
	tcase_add_test(map,
		       tcps_cgroups_resolve__deleted_cgroups_are_forgotten);
	tcase_add_test(map, tcps_cgroups_resolve__unknown_ids_are_forgotten);
	tcase_add_test(map, tcps_cgroups_resolve__room_bounds_the_walk);
	tcase_add_test(map, tcps_cgroups_resolve__time_bounds_the_walk);
	tcase_add_test(map, tcps_cgroups_resolve__no_tree_is_an_error);
	tcase_add_test(map, tcps_cgroups_resolve__real_source_finds_the_mount);
	tcase_add_test(mountinfo, tcps_mountinfo_cgroup2__real_lines);
	tcase_add_test(mountinfo, tcps_mountinfo_cgroup2__other_file_systems);
	tcase_add_test(mountinfo,
		       tcps_mountinfo_cgroup2__escapes_and_broken_lines);
	suite_add_tcase(s, map);
	suite_add_tcase(s, mountinfo);
	return s;
}

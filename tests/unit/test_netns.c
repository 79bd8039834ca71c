/* Holding, refreshing, entering and leaving another network namespace,
 * with real namespaces: a child process unshares one (root only). */
#define _GNU_SOURCE /* unshare */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "netns_child.h"
#include "suites.h"
#include "tcpstates/netns.h"

/* The inode of the calling thread's network namespace. */
static ino_t own_namespace(void)
{
	struct stat st;

	ck_assert_int_eq(stat("/proc/thread-self/ns/net", &st), 0);
	return st.st_ino;
}

/* A symlink the test can point at one namespace, then another. */
static void point(const char *link, const char *target)
{
	unlink(link);
	ck_assert_int_eq(symlink(target, link), 0);
}

START_TEST(tcps_netns_init__copies_the_path_opens_nothing)
{
	char path[] = "/proc/self/ns/net";
	struct tcps_netns ns;

	ck_assert_int_eq(tcps_netns_init(&ns, path), 0);
	path[0] = 'X';
	ck_assert_str_eq(ns.path, "/proc/self/ns/net");
	ck_assert_int_eq(ns.fd, -1);
	tcps_netns_release(&ns);
	ck_assert_ptr_null(ns.path);
	tcps_netns_release(&ns); /* twice is harmless */
}
END_TEST

START_TEST(tcps_netns_refresh__missing_path_is_enoent)
{
	struct tcps_netns ns;

	ck_assert_int_eq(tcps_netns_init(&ns, "/nonexistent/ns/net"), 0);
	ck_assert_int_eq(tcps_netns_refresh(&ns), -ENOENT);
	ck_assert_int_eq(ns.fd, -1);
	tcps_netns_release(&ns);
}
END_TEST

START_TEST(tcps_netns_refresh__opens_once_then_keeps)
{
	struct tcps_netns ns;
	int fd;

	ck_assert_int_eq(tcps_netns_init(&ns, "/proc/self/ns/net"), 0);
	ck_assert_int_eq(tcps_netns_refresh(&ns), 1);
	fd = ns.fd;
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq(ns.ino, own_namespace());
	ck_assert_int_eq(tcps_netns_refresh(&ns), 0);
	ck_assert_int_eq(ns.fd, fd);
	tcps_netns_release(&ns);
	ck_assert_int_eq(ns.fd, -1);
}
END_TEST

START_TEST(tcps_netns_enter__refuses_a_file_that_is_no_namespace)
{
	struct tcps_netns ns;
	int saved = -7;

	ck_assert_int_eq(tcps_netns_init(&ns, "/proc/self/stat"), 0);
	ck_assert_int_eq(tcps_netns_refresh(&ns), 1);
	ck_assert_int_eq(tcps_netns_enter(&ns, &saved), -EINVAL);
	ck_assert_int_eq(saved, -7); /* untouched */
	tcps_netns_release(&ns);
}
END_TEST

START_TEST(tcps_netns_refresh__replaced_then_gone)
{
	char dir[] = "/tmp/tcps-netns-XXXXXX", link[PATH_MAX], target[64];
	struct tcps_netns ns;
	pid_t child;
	ino_t first;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/ns", dir);
	point(link, "/proc/self/ns/net");
	ck_assert_int_eq(tcps_netns_init(&ns, link), 0);
	ck_assert_int_eq(tcps_netns_refresh(&ns), 1);
	first = ns.ino;

	/* The same path now names another namespace: reopened. */
	child = spawn_in_new_namespace();
	snprintf(target, sizeof(target), "/proc/%d/ns/net", (int)child);
	point(link, target);
	ck_assert_int_eq(tcps_netns_refresh(&ns), 1);
	ck_assert_uint_ne(ns.ino, first);
	ck_assert_int_eq(tcps_netns_refresh(&ns), 0);

	/* Its process is gone, so is the path: gone, fd closed. */
	end_child(child);
	ck_assert_int_eq(tcps_netns_refresh(&ns), -ENOENT);
	ck_assert_int_eq(ns.fd, -1);
	tcps_netns_release(&ns);
	unlink(link);
	rmdir(dir);
}
END_TEST

START_TEST(tcps_netns_enter__switches_and_leave_switches_back)
{
	char path[64];
	struct tcps_netns ns;
	ino_t home = own_namespace();
	pid_t child = spawn_in_new_namespace();
	int saved = -1;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)child);
	ck_assert_int_eq(tcps_netns_init(&ns, path), 0);
	ck_assert_int_eq(tcps_netns_refresh(&ns), 1);
	ck_assert_uint_ne(ns.ino, home);
	ck_assert_int_eq(tcps_netns_enter(&ns, &saved), 0);
	ck_assert_int_ge(saved, 0);
	ck_assert_uint_eq(own_namespace(), ns.ino);
	ck_assert_int_eq(tcps_netns_leave(saved), 0);
	ck_assert_uint_eq(own_namespace(), home);
	/* leave closed saved: a second leave has nothing to switch to. */
	ck_assert_int_eq(tcps_netns_leave(saved), -EBADF);
	tcps_netns_release(&ns);
	end_child(child);
}
END_TEST

Suite *netns_suite(void)
{
	Suite *s = suite_create("netns");
	TCase *paths = tcase_create("paths");

	tcase_add_test(paths, tcps_netns_init__copies_the_path_opens_nothing);
	tcase_add_test(paths, tcps_netns_refresh__missing_path_is_enoent);
	tcase_add_test(paths, tcps_netns_refresh__opens_once_then_keeps);
	tcase_add_test(paths,
		       tcps_netns_enter__refuses_a_file_that_is_no_namespace);
	suite_add_tcase(s, paths);
	/* Making a namespace takes CAP_SYS_ADMIN: make check runs as root. */
	if (geteuid() == 0) {
		TCase *namespaces = tcase_create("namespaces");

		tcase_add_test(namespaces,
			       tcps_netns_refresh__replaced_then_gone);
		tcase_add_test(
			namespaces,
			tcps_netns_enter__switches_and_leave_switches_back);
		suite_add_tcase(s, namespaces);
	}
	return s;
}

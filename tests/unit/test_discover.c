/* Every namespace of a fake host found once and named: containers of each
 * runtime, a Podman pod, pins, namespaces nothing names. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fakehost.h"
#include "suites.h"
#include "tcpstates/containers.h"
#include "tcpstates/discover.h"

/* One line per hierarchy, as a cgroup v1 + v2 ("hybrid") host writes
 * them; this is what Podman 4.3 (cgroupfs manager) gave its container on
 * such a host. */
#define HYBRID(path)                                                           \
	"9:name=systemd:" path "\n8:pids:" path "\n7:blkio:" path              \
	"\n6:freezer:" path "\n5:devices:" path "\n4:memory:" path             \
	"\n3:cpuset:" path "\n2:cpuacct:" path "\n1:cpu:" path "\n0::" path    \
	"\n"

static struct fakehost host;
static struct tcps_discovered *found;
static size_t found_num;
static uint64_t skipped;

static void setup(void)
{
	fakehost_create(&host);
	fakehost_process(&host, 1, "own", "0::/init.scope\n");
	fakehost_process(&host, 2, "own", "0::/\n"); /* a kernel thread */
	found = NULL;
	found_num = 0;
	skipped = 0;
}

static void teardown(void)
{
	tcps_discovered_free(found);
	fakehost_destroy(&host);
}

static void discover(void)
{
	tcps_discovered_free(found);
	found = NULL;
	ck_assert_int_eq(tcps_discover(&host.roots, host.own_dev, host.own_ino,
				       &found, &found_num, &skipped),
			 0);
}

static const struct tcps_discovered *named(const char *name)
{
	for (size_t i = 0; i < found_num; i++)
		if (strcmp(found[i].name, name) == 0)
			return &found[i];
	ck_abort_msg("no namespace named %s", name);
	return NULL;
}

static const struct tcps_discovered *of(const char *label)
{
	uint64_t ino = fakehost_netns(&host, label);

	for (size_t i = 0; i < found_num; i++)
		if (found[i].ino == ino)
			return &found[i];
	ck_abort_msg("namespace %s not found", label);
	return NULL;
}

static void expect_path(const struct tcps_discovered *d, const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", host.root, rel);
	ck_assert_str_eq(d->path, path);
}

/* A host running one of each: the layouts containers.c reads. */
static void busy_host(void)
{
	const char *const ids[] = { WEB_ID, INFRA_ID, MEMBER_A };
	const char *const names[] = { "h7-web", "0ea22215fe0f-infra",
				      "h7-pod-a" };

	/* Docker (cgroupfs on a hybrid host: the cgroup2 line is the
	 * shim's), pinned by Docker. */
	fakehost_process(&host, 100, "docker",
			 "4:memory:/docker/" DOCKER_ID
			 "\n1:name=systemd:/docker/" DOCKER_ID
			 "\n0::/system.slice/containerd.service\n");
	fakehost_pin(&host, "docker/netns", "3f1c2b9a8d7e", "docker");
	fakehost_docker(&host, DOCKER_ID, "/web");
	/* Podman: a container and a pod of an infra and a member. */
	fakehost_podman_containers(&host, ids, names, 3);
	fakehost_podman_config(&host, WEB_ID, "d83456854ab4", NULL,
			       "/libpod_parent/libpod-" WEB_ID);
	fakehost_podman_config(&host, INFRA_ID, "h7-pod", NULL,
			       "/libpod_parent/" POD_ID "/libpod-" INFRA_ID);
	fakehost_podman_config(&host, MEMBER_A, NULL, INFRA_ID,
			       "/libpod_parent/" POD_ID "/libpod-" MEMBER_A);
	fakehost_process(&host, 200, "podman-web",
			 HYBRID("/libpod_parent/libpod-" WEB_ID));
	fakehost_pin(&host, "netns",
		     "netns-44ed0044-a0e9-3fbe-3019-9df35e48696d",
		     "podman-web");
	fakehost_process(&host, 301, "podman-pod",
			 HYBRID("/libpod_parent/" POD_ID "/libpod-" MEMBER_A));
	fakehost_process(&host, 300, "podman-pod",
			 HYBRID("/libpod_parent/" POD_ID "/libpod-" INFRA_ID));
	fakehost_pin(&host, "netns",
		     "netns-01c0595b-ed48-d938-8769-a0f19c79bc84",
		     "podman-pod");
	/* containerd under Kubernetes: a pod's pause and its container. */
	fakehost_containerd(&host, SANDBOX_ID, "shop", "web-7d4b9c", 1);
	fakehost_containerd(&host, CTR_ID, "shop", "web-7d4b9c", 0);
	fakehost_process(&host, 401, "k8s-pod",
			 "0::" KUBE_SLICE "cri-containerd-" CTR_ID ".scope\n");
	fakehost_process(&host, 400, "k8s-pod",
			 "0::" KUBE_SLICE "cri-containerd-" SANDBOX_ID
			 ".scope\n");
	fakehost_pin(&host, "netns", "cni-4b0f3e1c-8e0a-2d8f-5c1b-9a7e6d5c4b3a",
		     "k8s-pod");
	/* CRI-O, no infra process (drop_infra_ctr): the container alone. */
	fakehost_crio(&host, CRIO_ID, "kube-system", "coredns-x", 0);
	fakehost_process(&host, 500, "crio-pod",
			 "0::/kubepods.slice/kubepods-burstable.slice/"
			 "kubepods-burstable-pod5e2c9a7b.slice/crio-" CRIO_ID
			 ".scope\n");
	/* `ip netns add blue`, nothing inside yet. */
	fakehost_pin(&host, "netns", "blue", "blue");
	/* A service with a namespace of its own (PrivateNetwork=yes). */
	fakehost_process(&host, 700, "private",
			 "0::/system.slice/sandboxed.service\n");
}

START_TEST(tcps_discover__names_every_runtime_and_pod)
{
	const struct tcps_discovered *d;
	char name[32];

	busy_host();
	discover();
	ck_assert_uint_eq(found_num, 7);
	ck_assert_uint_eq(skipped, 0);
	d = named("web");
	ck_assert_str_eq(d->runtime, "docker");
	ck_assert_int_eq(d->pid, 100);
	expect_path(d, "run/docker/netns/3f1c2b9a8d7e");
	d = named("h7-web");
	ck_assert_str_eq(d->runtime, "podman");
	expect_path(d, "run/netns/netns-44ed0044-a0e9-3fbe-3019-9df35e48696d");
	d = named("h7-pod");
	ck_assert_str_eq(d->runtime, "podman");
	ck_assert_int_eq(d->pid, 300);
	d = named("shop_web-7d4b9c");
	ck_assert_str_eq(d->runtime, "containerd");
	ck_assert_int_eq(d->pid, 400);
	d = named("kube-system_coredns-x");
	ck_assert_str_eq(d->runtime, "crio");
	expect_path(d, "proc/500/ns/net");
	d = named("blue");
	ck_assert_str_eq(d->runtime, "");
	ck_assert_int_eq(d->pid, 0);
	expect_path(d, "run/netns/blue");
	snprintf(name, sizeof(name), "netns-%llu",
		 (unsigned long long)fakehost_netns(&host, "private"));
	d = named(name);
	ck_assert_int_eq(d->pid, 700);
	expect_path(d, "proc/700/ns/net");
}
END_TEST

START_TEST(tcps_discover__sorted_by_inode_with_identities)
{
	busy_host();
	discover();
	for (size_t i = 0; i < found_num; i++) {
		struct stat st;

		ck_assert_int_eq(stat(found[i].path, &st), 0);
		ck_assert_uint_eq(found[i].ino, (uint64_t)st.st_ino);
		ck_assert_uint_eq(found[i].dev, (uint64_t)st.st_dev);
		if (i > 0)
			ck_assert_uint_gt(found[i].ino, found[i - 1].ino);
	}
}
END_TEST

START_TEST(tcps_discover__leaves_out_its_own_namespace)
{
	/* Docker pins the host's namespace as "default". */
	fakehost_pin(&host, "docker/netns", "default", "own");
	fakehost_pin(&host, "netns", "host", "own");
	discover();
	ck_assert_uint_eq(found_num, 0);
	ck_assert_ptr_null(found);
}
END_TEST

START_TEST(tcps_discover__lowest_pid_speaks_for_its_namespace)
{
	fakehost_process(&host, 900, "app", "0::/system.slice/a.service\n");
	fakehost_process(&host, 12, "app", "0::/docker/" DOCKER_ID "\n");
	fakehost_process(&host, 4000, "app", "0::/system.slice/b.service\n");
	fakehost_docker(&host, DOCKER_ID, "/early");
	discover();
	ck_assert_uint_eq(found_num, 1);
	ck_assert_int_eq(found[0].pid, 12);
	ck_assert_str_eq(found[0].name, "early");
	expect_path(&found[0], "proc/12/ns/net");
}
END_TEST

START_TEST(tcps_discover__pin_prefers_netns_then_the_first_name)
{
	fakehost_process(&host, 50, "x", "0::/\n");
	fakehost_pin(&host, "docker/netns", "0a1b2c3d4e5f", "x");
	fakehost_pin(&host, "netns", "zeta", "x");
	fakehost_pin(&host, "netns", "alpha", "x");
	discover();
	ck_assert_uint_eq(found_num, 1);
	expect_path(&found[0], "run/netns/alpha");
	ck_assert_str_eq(found[0].name, "alpha");
	ck_assert_int_eq(found[0].pid, 50);
}
END_TEST

START_TEST(tcps_discover__pins_that_cannot_be_namespaces_are_ignored)
{
	char rel[300], name[256];

	fakehost_write(&host, "run/netns/folder/inside", "");
	/* A name too long for TCPS_DISCOVER_PATH_MAX. */
	memset(name, 'n', 200);
	name[200] = '\0';
	snprintf(rel, sizeof(rel), "netns");
	fakehost_pin(&host, rel, name, "long");
	fakehost_pin(&host, "netns", ".hidden", "hidden");
	discover();
	ck_assert_uint_eq(found_num, 0);
}
END_TEST

START_TEST(tcps_discover__pin_names_are_cleaned)
{
	fakehost_pin(&host, "netns", "we.ird name", "w");
	discover();
	ck_assert_uint_eq(found_num, 1);
	ck_assert_str_eq(found[0].name, "we_ird_name");
}
END_TEST

/* "host" is the daemon's own namespace in every identifier: a pin of
 * that name gets its inode like any name already taken. */
START_TEST(tcps_discover__host_is_never_a_discovered_name)
{
	char expected[64];

	fakehost_pin(&host, "netns", "host", "h");
	discover();
	ck_assert_uint_eq(found_num, 1);
	snprintf(expected, sizeof(expected), "host-%llu",
		 (unsigned long long)found[0].ino);
	ck_assert_str_eq(found[0].name, expected);
}
END_TEST

START_TEST(tcps_discover__clashing_names_get_their_inode)
{
	const struct tcps_discovered *first, *second;
	char expected[64];

	/* A pod whose containers do not share a namespace: both say
	 * "shop_web-7d4b9c". */
	fakehost_containerd(&host, SANDBOX_ID, "shop", "web-7d4b9c", 1);
	fakehost_containerd(&host, CTR_ID, "shop", "web-7d4b9c", 0);
	fakehost_process(&host, 10, "one",
			 "0::" KUBE_SLICE "cri-containerd-" SANDBOX_ID
			 ".scope\n");
	fakehost_process(&host, 11, "two",
			 "0::" KUBE_SLICE "cri-containerd-" CTR_ID ".scope\n");
	discover();
	ck_assert_uint_eq(found_num, 2);
	first = &found[0];
	second = &found[1];
	ck_assert_uint_lt(first->ino, second->ino);
	ck_assert_str_eq(first->name, "shop_web-7d4b9c");
	snprintf(expected, sizeof(expected), "shop_web-7d4b9c-%llu",
		 (unsigned long long)second->ino);
	ck_assert_str_eq(second->name, expected);
}
END_TEST

START_TEST(tcps_discover__a_suffixed_name_never_meets_another)
{
	const char *label[3] = { "a", "b", "c" };
	uint64_t ino[3];
	char taken[64], expected[96];

	for (int i = 0; i < 3; i++)
		ino[i] = fakehost_netns(&host, label[i]);
	/* The roles go by inode order, which the file system chooses. */
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (ino[j] < ino[i]) {
				uint64_t t = ino[i];
				const char *l = label[i];

				ino[i] = ino[j];
				label[i] = label[j];
				ino[j] = t;
				label[j] = l;
			}
	/* The second's name once suffixed is the third's own pin name: the
	 * third must move on too, and nothing may end up twice. */
	snprintf(taken, sizeof(taken), "x-%llu", (unsigned long long)ino[1]);
	fakehost_pin(&host, "netns", "x", label[0]);
	fakehost_pin(&host, "docker/netns", "x", label[1]);
	fakehost_pin(&host, "netns", taken, label[2]);
	discover();
	ck_assert_uint_eq(found_num, 3);
	ck_assert_str_eq(of(label[0])->name, "x");
	ck_assert_str_eq(of(label[1])->name, taken);
	snprintf(expected, sizeof(expected), "%s-%llu", taken,
		 (unsigned long long)ino[2]);
	ck_assert_str_eq(of(label[2])->name, expected);
}
END_TEST

START_TEST(tcps_discover__suffix_fits_a_long_name)
{
	char name[TCPS_NAME_MAX + 8];

	memset(name, 'p', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	fakehost_pin(&host, "netns", name, "a");
	fakehost_pin(&host, "docker/netns", name, "b");
	discover();
	ck_assert_uint_eq(found_num, 2);
	for (size_t i = 0; i < found_num; i++)
		ck_assert_uint_eq(strlen(found[i].name), TCPS_NAME_MAX);
	ck_assert_str_ne(found[0].name, found[1].name);
}
END_TEST

START_TEST(tcps_discover__vanished_processes_are_counted)
{
	char path[256];

	/* Exited between readdir and stat: a folder with nothing left. */
	fakehost_write(&host, "proc/800/comm", "gone\n");
	/* Its cgroup file went away after the stat. */
	fakehost_process(&host, 801, "half", "0::/docker/" DOCKER_ID "\n");
	snprintf(path, sizeof(path), "%s/801/cgroup", host.proc);
	ck_assert_int_eq(unlink(path), 0);
	fakehost_docker(&host, DOCKER_ID, "/web");
	discover();
	ck_assert_uint_eq(found_num, 1);
	ck_assert_uint_eq(skipped, 2);
	ck_assert_int_eq(strncmp(found[0].name, "netns-", 6), 0);
}
END_TEST

START_TEST(tcps_discover__oversized_state_is_counted_and_named_otherwise)
{
	static char big[TCPS_CONTAINERS_FILE_MAX + 2];
	char rel[256];

	memset(big, ' ', sizeof(big) - 1);
	fakehost_docker_path(rel, sizeof(rel), DOCKER_ID);
	fakehost_write(&host, rel, big);
	fakehost_process(&host, 60, "big", "0::/docker/" DOCKER_ID "\n");
	fakehost_pin(&host, "docker/netns", "3f1c2b9a8d7e", "big");
	discover();
	ck_assert_uint_eq(found_num, 1);
	ck_assert_uint_eq(skipped, 1);
	ck_assert_str_eq(found[0].name, "3f1c2b9a8d7e");
	ck_assert_str_eq(found[0].runtime, "");
}
END_TEST

START_TEST(tcps_discover__hybrid_host_falls_back_to_v1_lines)
{
	fakehost_docker(&host, DOCKER_ID, "/legacy");
	fakehost_process(&host, 70, "legacy",
			 "12:pids:/docker/" DOCKER_ID "\n"
			 "4:memory:/docker/" DOCKER_ID "\n"
			 "1:name=systemd:/docker/" DOCKER_ID "\n"
			 "0::/system.slice/containerd.service\n");
	discover();
	ck_assert_uint_eq(found_num, 1);
	ck_assert_str_eq(found[0].name, "legacy");
}
END_TEST

START_TEST(tcps_discover__hostile_cgroup_text_names_nothing)
{
	fakehost_process(&host, 80, "h1", "no colon at all");
	fakehost_process(&host, 81, "h2", ":::::\n\n\n0::\n::/docker/x\n");
	fakehost_process(&host, 82, "h3", "");
	discover();
	ck_assert_uint_eq(found_num, 3);
	for (size_t i = 0; i < found_num; i++)
		ck_assert_int_eq(strncmp(found[i].name, "netns-", 6), 0);
}
END_TEST

START_TEST(tcps_discover__same_host_same_answer)
{
	struct tcps_discovered *before;
	size_t before_num;

	busy_host();
	discover();
	before = found;
	before_num = found_num;
	found = NULL;
	discover();
	ck_assert_uint_eq(found_num, before_num);
	for (size_t i = 0; i < found_num; i++) {
		ck_assert_uint_eq(found[i].ino, before[i].ino);
		ck_assert_int_eq(found[i].pid, before[i].pid);
		ck_assert_str_eq(found[i].name, before[i].name);
		ck_assert_str_eq(found[i].path, before[i].path);
		ck_assert_str_eq(found[i].runtime, before[i].runtime);
	}
	tcps_discovered_free(before);
}
END_TEST

START_TEST(tcps_discover__stops_at_its_limit_and_counts_the_rest)
{
	char name[32];

	for (int i = 0; i < TCPS_DISCOVER_MAX + 16; i++) {
		snprintf(name, sizeof(name), "ns%d", i);
		fakehost_pin(&host, "netns", name, name);
	}
	discover();
	ck_assert_uint_eq(found_num, TCPS_DISCOVER_MAX);
	ck_assert_uint_eq(skipped, 16);
	for (size_t i = 1; i < found_num; i++)
		ck_assert_uint_gt(found[i].ino, found[i - 1].ino);
}
END_TEST

START_TEST(tcps_discover__missing_roots)
{
	struct tcps_discover_roots roots = host.roots;
	struct tcps_discovered *list = (void *)&roots;
	size_t num = 99;

	/* No /run, no /var/lib: processes still found. */
	roots.run = "/nonexistent-run";
	roots.var_lib = "/nonexistent-var-lib";
	fakehost_process(&host, 90, "p", "0::/docker/" DOCKER_ID "\n");
	ck_assert_int_eq(tcps_discover(&roots, host.own_dev, host.own_ino,
				       &list, &num, NULL),
			 0);
	ck_assert_uint_eq(num, 1);
	tcps_discovered_free(list);
	/* No /proc: an error, the outputs untouched. */
	list = (void *)&roots;
	num = 99;
	roots.proc = "/nonexistent-proc";
	ck_assert_int_eq(tcps_discover(&roots, host.own_dev, host.own_ino,
				       &list, &num, NULL),
			 -ENOENT);
	ck_assert_ptr_eq(list, (void *)&roots);
	ck_assert_uint_eq(num, 99);
	tcps_discovered_free(NULL);
}
END_TEST

Suite *discover_suite(void)
{
	Suite *s = suite_create("discover");
	TCase *tc = tcase_create("naming");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tcps_discover__names_every_runtime_and_pod);
	tcase_add_test(tc, tcps_discover__sorted_by_inode_with_identities);
	tcase_add_test(tc, tcps_discover__leaves_out_its_own_namespace);
	tcase_add_test(tc, tcps_discover__lowest_pid_speaks_for_its_namespace);
	tcase_add_test(tc,
		       tcps_discover__pin_prefers_netns_then_the_first_name);
	tcase_add_test(
		tc, tcps_discover__pins_that_cannot_be_namespaces_are_ignored);
	tcase_add_test(tc, tcps_discover__pin_names_are_cleaned);
	tcase_add_test(tc, tcps_discover__hybrid_host_falls_back_to_v1_lines);
	tcase_add_test(tc, tcps_discover__same_host_same_answer);
	suite_add_tcase(s, tc);

	tc = tcase_create("unique names");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tcps_discover__host_is_never_a_discovered_name);
	tcase_add_test(tc, tcps_discover__clashing_names_get_their_inode);
	tcase_add_test(tc, tcps_discover__a_suffixed_name_never_meets_another);
	tcase_add_test(tc, tcps_discover__suffix_fits_a_long_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile host");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tcps_discover__vanished_processes_are_counted);
	tcase_add_test(
		tc,
		tcps_discover__oversized_state_is_counted_and_named_otherwise);
	tcase_add_test(tc, tcps_discover__hostile_cgroup_text_names_nothing);
	tcase_add_test(tc, tcps_discover__missing_roots);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc,
		       tcps_discover__stops_at_its_limit_and_counts_the_rest);
	suite_add_tcase(s, tc);
	return s;
}

/* Container names from cgroup paths and the runtimes' state files, on
 * fake hosts laid out as Docker, Podman, containerd and CRI-O lay them
 * out. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fakehost.h"
#include "suites.h"
#include "tcpstates/containers.h"

#define POD_UID "0b6d1c52_3d1f_4a8e_9c55_2f1a7e9d4b20"

static struct fakehost host;

static void setup(void)
{
	fakehost_create(&host);
}

static void teardown(void)
{
	fakehost_destroy(&host);
}

static struct tcps_container_ref parse_ok(const char *path)
{
	struct tcps_container_ref ref;

	memset(&ref, 0x5a, sizeof(ref));
	ck_assert_msg(tcps_container_ref_parse(path, strlen(path), &ref) == 0,
		      "no container in %s", path);
	return ref;
}

static void parse_fails(const char *path)
{
	struct tcps_container_ref ref = { .runtime = TCPS_RUNTIME_NUM };

	ck_assert_msg(tcps_container_ref_parse(path, strlen(path), &ref) ==
			      -ENOENT,
		      "a container in %s", path);
	ck_assert_int_eq(ref.runtime, TCPS_RUNTIME_NUM); /* untouched */
}

START_TEST(tcps_container_ref_parse__podman_cgroupfs_as_podman_wrote_it)
{
	struct tcps_container_ref ref =
		parse_ok("/libpod_parent/libpod-" WEB_ID);

	ck_assert_int_eq(ref.runtime, TCPS_RUNTIME_PODMAN);
	ck_assert_str_eq(ref.id, WEB_ID);
	ck_assert_str_eq(ref.pod_id, "");
	ref = parse_ok("/libpod_parent/" POD_ID "/libpod-" MEMBER_A);
	ck_assert_int_eq(ref.runtime, TCPS_RUNTIME_PODMAN);
	ck_assert_str_eq(ref.id, MEMBER_A);
	ck_assert_str_eq(ref.pod_id, POD_ID);
}
END_TEST

START_TEST(tcps_container_ref_parse__podman_systemd_scopes_and_pod_slices)
{
	struct tcps_container_ref ref =
		parse_ok("/machine.slice/libpod-" WEB_ID ".scope");

	ck_assert_int_eq(ref.runtime, TCPS_RUNTIME_PODMAN);
	ck_assert_str_eq(ref.pod_id, "");
	ref = parse_ok("/machine.slice/machine-libpod_pod_" POD_ID
		       ".slice/libpod-" MEMBER_A ".scope");
	ck_assert_str_eq(ref.id, MEMBER_A);
	ck_assert_str_eq(ref.pod_id, POD_ID);
	/* A container running systemd: its processes one folder down. */
	ref = parse_ok("/machine.slice/libpod-" WEB_ID ".scope/container");
	ck_assert_str_eq(ref.id, WEB_ID);
	/* Rootless. */
	ref = parse_ok("/user.slice/user-1000.slice/user@1000.service/"
		       "user.slice/user-libpod_pod_" POD_ID
		       ".slice/libpod-" MEMBER_B ".scope");
	ck_assert_str_eq(ref.pod_id, POD_ID);
}
END_TEST

START_TEST(tcps_container_ref_parse__conmon_is_not_the_container)
{
	parse_fails("/machine.slice/libpod-conmon-" WEB_ID ".scope");
	parse_fails("/libpod_parent/conmon");
	parse_fails("/kubepods.slice/kubepods-burstable.slice/"
		    "kubepods-burstable-pod5e2c9a7b.slice/crio-conmon-" CTR_ID
		    ".scope");
}
END_TEST

START_TEST(tcps_container_ref_parse__docker_cgroupfs_and_systemd)
{
	struct tcps_container_ref ref = parse_ok("/docker/" DOCKER_ID);

	ck_assert_int_eq(ref.runtime, TCPS_RUNTIME_DOCKER);
	ck_assert_str_eq(ref.id, DOCKER_ID);
	ref = parse_ok("/system.slice/docker-" DOCKER_ID ".scope");
	ck_assert_int_eq(ref.runtime, TCPS_RUNTIME_DOCKER);
	parse_fails("/system.slice/docker.service");
	parse_fails("/system.slice/containerd.service");
}
END_TEST

START_TEST(tcps_container_ref_parse__kubernetes_runtimes)
{
	struct tcps_container_ref ref =
		parse_ok("/kubepods.slice/kubepods-besteffort.slice/"
			 "kubepods-besteffort-pod" POD_UID
			 ".slice/cri-containerd-" CTR_ID ".scope");

	ck_assert_int_eq(ref.runtime, TCPS_RUNTIME_CONTAINERD);
	ck_assert_str_eq(ref.id, CTR_ID);
	ref = parse_ok("/kubepods/besteffort/pod0b6d1c52-3d1f-4a8e-9c55-"
		       "2f1a7e9d4b20/" CTR_ID);
	ck_assert_int_eq(ref.runtime, TCPS_RUNTIME_KUBEPODS);
	ref = parse_ok("/kubepods.slice/kubepods-burstable.slice/"
		       "kubepods-burstable-pod5e2c9a7b.slice/crio-" CTR_ID
		       ".scope");
	ck_assert_int_eq(ref.runtime, TCPS_RUNTIME_CRIO);
	ref = parse_ok("/kubepods/burstable/pod5e2c9a7b/crio-" CTR_ID);
	ck_assert_int_eq(ref.runtime, TCPS_RUNTIME_CRIO);
	/* A bare id counts only in a kubelet's pod folder. */
	parse_fails("/pod5e2c9a7b/" CTR_ID);
	parse_fails("/kubepods/besteffort/" CTR_ID);
}
END_TEST

START_TEST(tcps_container_ref_parse__outermost_container_wins)
{
	/* A process may make cgroups below its own: a folder named after
	 * another container inside one must not make it that one. */
	struct tcps_container_ref ref =
		parse_ok("/docker/" DOCKER_ID "/docker/" CTR_ID);

	ck_assert_str_eq(ref.id, DOCKER_ID);
	ref = parse_ok("/libpod_parent/libpod-" WEB_ID "/" POD_ID
		       "/libpod-" MEMBER_A);
	ck_assert_str_eq(ref.id, WEB_ID);
	ck_assert_str_eq(ref.pod_id, "");
	ref = parse_ok("/system.slice/docker-" DOCKER_ID
		       ".scope/kubepods/pod1/" CTR_ID);
	ck_assert_int_eq(ref.runtime, TCPS_RUNTIME_DOCKER);
	ck_assert_str_eq(ref.id, DOCKER_ID);
}
END_TEST

START_TEST(tcps_container_ref_parse__only_whole_lowercase_ids)
{
	char cut[128];

	parse_fails("");
	parse_fails("/");
	parse_fails("//docker//");
	parse_fails("/docker/"
		    "3F1C2B9A8D7E6F5A4B3C2D1E0F9A8B7C6D5E4F3A2B1C0D9E8F7A6B5C4D"
		    "3E2F1A");
	parse_fails("/docker/" DOCKER_ID "0");
	parse_fails("/docker/"
		    "3f1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
		    "3e2f1");
	parse_fails("/machine.slice/libpod-" WEB_ID ".scopex");
	parse_fails("/machine.slice/libpod-" WEB_ID ".service");
	parse_fails("/machine.slice/libpod-" WEB_ID ".scope.scope");
	parse_fails("/system.slice/docker-" DOCKER_ID " (deleted)");
	/* The path ends where len says, not at a NUL. */
	snprintf(cut, sizeof(cut), "/docker/%s", DOCKER_ID);
	ck_assert_int_eq(
		tcps_container_ref_parse(cut, strlen(cut) - 1,
					 &(struct tcps_container_ref){ 0 }),
		-ENOENT);
}
END_TEST

/* The name of path on the fake host; runtime in *runtime_out. */
static int name_of(const char *path, char *name, char *runtime)
{
	return tcps_container_name(&host.roots, path, name, TCPS_NAME_MAX + 1,
				   runtime);
}

static void expect_name(const char *path, const char *name, const char *runtime)
{
	char got[TCPS_NAME_MAX + 1] = "", got_runtime[16] = "";
	int err = name_of(path, got, got_runtime);

	ck_assert_msg(err == 0, "%s: %s", path, strerror(-err));
	ck_assert_str_eq(got, name);
	ck_assert_str_eq(got_runtime, runtime);
}

static void expect_error(const char *path, int error)
{
	char got[TCPS_NAME_MAX + 1] = "untouched", runtime[16] = "untouched";

	ck_assert_int_eq(name_of(path, got, runtime), error);
	ck_assert_str_eq(got, "untouched");
	ck_assert_str_eq(runtime, "untouched");
}

START_TEST(tcps_container_name__docker_name_without_its_slash)
{
	fakehost_docker(&host, DOCKER_ID, "/web");
	expect_name("/docker/" DOCKER_ID, "web", "docker");
	expect_name("/system.slice/docker-" DOCKER_ID ".scope", "web",
		    "docker");
}
END_TEST

START_TEST(tcps_container_name__docker_in_kubernetes_names_the_pod)
{
	fakehost_docker_k8s(&host, DOCKER_ID, "shop", "web-7d4b9c");
	expect_name("/kubepods.slice/kubepods-besteffort.slice/"
		    "kubepods-besteffort-pod" POD_UID ".slice/docker-" DOCKER_ID
		    ".scope",
		    "shop_web-7d4b9c", "docker");
	/* cgroupfs driver: a bare id, containerd's state tried first. */
	expect_name("/kubepods/besteffort/pod" POD_UID "/" DOCKER_ID,
		    "shop_web-7d4b9c", "docker");
}
END_TEST

static void podman_host(void)
{
	const char *const ids[] = { WEB_ID, INFRA_ID, MEMBER_A, MEMBER_B };
	const char *const names[] = { "h7-web", "0ea22215fe0f-infra",
				      "h7-pod-a", "h7-pod-b" };

	fakehost_podman_containers(&host, ids, names, 4);
	fakehost_podman_config(&host, WEB_ID, "d83456854ab4", NULL,
			       "/libpod_parent/libpod-" WEB_ID);
	fakehost_podman_config(&host, INFRA_ID, "h7-pod", NULL,
			       "/libpod_parent/" POD_ID "/libpod-" INFRA_ID);
	fakehost_podman_config(&host, MEMBER_A, NULL, INFRA_ID,
			       "/libpod_parent/" POD_ID "/libpod-" MEMBER_A);
	fakehost_podman_config(&host, MEMBER_B, NULL, INFRA_ID,
			       "/libpod_parent/" POD_ID "/libpod-" MEMBER_B);
}

START_TEST(tcps_container_name__podman_container_from_containers_json)
{
	podman_host();
	expect_name("/libpod_parent/libpod-" WEB_ID, "h7-web", "podman");
	expect_name("/machine.slice/libpod-" WEB_ID ".scope", "h7-web",
		    "podman");
}
END_TEST

START_TEST(tcps_container_name__podman_pod_gives_one_name)
{
	podman_host();
	expect_name("/libpod_parent/" POD_ID "/libpod-" INFRA_ID, "h7-pod",
		    "podman");
	expect_name("/libpod_parent/" POD_ID "/libpod-" MEMBER_A, "h7-pod",
		    "podman");
	expect_name("/machine.slice/machine-libpod_pod_" POD_ID
		    ".slice/libpod-" MEMBER_B ".scope",
		    "h7-pod", "podman");
}
END_TEST

START_TEST(tcps_container_name__podman_pod_without_its_infra_is_unnamed)
{
	char rel[512], path[600];

	podman_host();
	fakehost_podman_config_path(rel, sizeof(rel), INFRA_ID);
	snprintf(path, sizeof(path), "%s/%s", host.root, rel);
	ck_assert_int_eq(unlink(path), 0);
	expect_error("/libpod_parent/" POD_ID "/libpod-" MEMBER_A, -ENOENT);
	/* Not in containers.json at all. */
	expect_error("/libpod_parent/libpod-" DOCKER_ID, -ENOENT);
}
END_TEST

START_TEST(tcps_container_name__containerd_pod_from_cri_annotations)
{
	fakehost_containerd(&host, SANDBOX_ID, "shop", "web-7d4b9c", 1);
	fakehost_containerd(&host, CTR_ID, "shop", "web-7d4b9c", 0);
	expect_name("/kubepods.slice/kubepods-besteffort.slice/"
		    "kubepods-besteffort-pod" POD_UID
		    ".slice/cri-containerd-" SANDBOX_ID ".scope",
		    "shop_web-7d4b9c", "containerd");
	expect_name("/kubepods.slice/kubepods-besteffort.slice/"
		    "kubepods-besteffort-pod" POD_UID
		    ".slice/cri-containerd-" CTR_ID ".scope",
		    "shop_web-7d4b9c", "containerd");
	expect_name("/kubepods/besteffort/pod" POD_UID "/" CTR_ID,
		    "shop_web-7d4b9c", "containerd");
}
END_TEST

START_TEST(tcps_container_name__crio_pod_from_its_run_folder)
{
	fakehost_crio(&host, SANDBOX_ID, "kube-system", "coredns-5d78c9869d-x",
		      1);
	fakehost_crio(&host, CTR_ID, "kube-system", "coredns-5d78c9869d-x", 0);
	expect_name("/kubepods.slice/kubepods-burstable.slice/"
		    "kubepods-burstable-pod5e2c9a7b.slice/crio-" SANDBOX_ID
		    ".scope",
		    "kube-system_coredns-5d78c9869d-x", "crio");
	expect_name("/kubepods/burstable/pod5e2c9a7b/crio-" CTR_ID,
		    "kube-system_coredns-5d78c9869d-x", "crio");
}
END_TEST

START_TEST(tcps_container_name__missing_state_names_nothing)
{
	expect_error("/docker/" DOCKER_ID, -ENOENT);
	expect_error("/libpod_parent/libpod-" WEB_ID, -ENOENT);
	expect_error("/kubepods/besteffort/pod" POD_UID "/" CTR_ID, -ENOENT);
	expect_error("/system.slice/crio-" CTR_ID ".scope", -ENOENT);
	expect_error("/system.slice/cron.service", -ENOENT);
	expect_error("/", -ENOENT);
}
END_TEST

START_TEST(tcps_container_name__malformed_state_names_nothing)
{
	const char *const bad[] = {
		"",
		"{\"Name\":\"/web\"",  /* cut short */
		"[\"Name\",\"/web\"]", /* not an object */
		"{\"Name\":42}",       /* not a string */
		"{\"Name\":\"/\"}",    /* nothing left */
		"{\"Name\":null}",     /* null */
		"\"Name\"",	       /* a lone string */
		"{\"Config\":{\"Labels\":{\"io.kubernetes.pod.namespace\":"
		"\"shop\"}}}", /* half a pod, and no Name */
	};
	char rel[512];

	fakehost_docker_path(rel, sizeof(rel), DOCKER_ID);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fakehost_write(&host, rel, bad[i]);
		expect_error("/docker/" DOCKER_ID, -ENOENT);
	}
	fakehost_write(&host, FAKEHOST_PODMAN_CONTAINERS,
		       "[{\"id\":\"" WEB_ID "\",\"names\":\"h7-web\"},"
		       "{\"id\":\"" MEMBER_A "\",\"names\":[]},"
		       "{\"id\":\"" MEMBER_B "\",\"names\":[7]},42,null]");
	expect_error("/libpod_parent/libpod-" WEB_ID, -ENOENT);
	expect_error("/libpod_parent/libpod-" MEMBER_A, -ENOENT);
	expect_error("/libpod_parent/libpod-" MEMBER_B, -ENOENT);
}
END_TEST

START_TEST(tcps_container_name__state_file_over_the_cap_is_not_read)
{
	static char big[TCPS_CONTAINERS_FILE_MAX + 64];
	char rel[512];
	int n;

	/* Valid JSON, one byte over: never parsed. */
	n = snprintf(big, sizeof(big), "{\"Name\":\"/web\",\"pad\":\"");
	memset(big + n, 'x', TCPS_CONTAINERS_FILE_MAX - (size_t)n - 1);
	memcpy(big + TCPS_CONTAINERS_FILE_MAX - 1, "\"}", 3);
	fakehost_docker_path(rel, sizeof(rel), DOCKER_ID);
	fakehost_write(&host, rel, big);
	expect_error("/docker/" DOCKER_ID, -EFBIG);
	/* At the cap exactly: read. */
	memcpy(big + TCPS_CONTAINERS_FILE_MAX - 2, "\"}", 3);
	fakehost_write(&host, rel, big);
	expect_name("/docker/" DOCKER_ID, "web", "docker");
}
END_TEST

START_TEST(tcps_container_name__state_that_is_not_a_file_is_not_read)
{
	char rel[512], path[600];

	fakehost_docker_path(rel, sizeof(rel), DOCKER_ID);
	snprintf(path, sizeof(path), "%s/%s", host.root, rel);
	fakehost_write(&host, rel, "{}");
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkfifo(path, 0600), 0); /* would block a read */
	expect_error("/docker/" DOCKER_ID, -ENOENT);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	expect_error("/docker/" DOCKER_ID, -ENOENT);
}
END_TEST

START_TEST(tcps_container_name__hostile_names_come_out_clean)
{
	char name[TCPS_NAME_MAX + 1];
	char long_name[300];

	fakehost_docker(&host, DOCKER_ID, "/../../etc/x\n\"y\" z\x01\xc3\xa9");
	expect_name("/docker/" DOCKER_ID, "_etc_x_y_z_", "docker");
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	fakehost_docker(&host, DOCKER_ID, long_name);
	ck_assert_int_eq(name_of("/docker/" DOCKER_ID, name, NULL), 0);
	ck_assert_uint_eq(strlen(name), TCPS_NAME_MAX);
	fakehost_containerd(&host, CTR_ID, "a.b/c", "d\te", 1);
	expect_name("/kubepods/besteffort/pod" POD_UID "/" CTR_ID, "a_b_c_d_e",
		    "containerd");
}
END_TEST

START_TEST(tcps_container_name__a_json_nul_ends_the_name)
{
	char rel[512];

	fakehost_docker_path(rel, sizeof(rel), DOCKER_ID);
	fakehost_write(&host, rel, "{\"Name\":\"/we\\u0000b\"}");
	expect_name("/docker/" DOCKER_ID, "we", "docker");
}
END_TEST

START_TEST(tcps_container_name__cut_to_the_size_given)
{
	char name[5];

	fakehost_docker(&host, DOCKER_ID, "/webserver");
	ck_assert_int_eq(tcps_container_name(&host.roots, "/docker/" DOCKER_ID,
					     name, sizeof(name), NULL),
			 0);
	ck_assert_str_eq(name, "webs");
	ck_assert_int_eq(tcps_container_name(&host.roots, "/docker/" DOCKER_ID,
					     name, 0, NULL),
			 -EINVAL);
}
END_TEST

static void lookup(struct tcps_containers *cache, const char *path,
		   const char *expected)
{
	char name[TCPS_NAME_MAX + 1];

	ck_assert_int_eq(
		tcps_containers_name(cache, path, name, sizeof(name), NULL), 0);
	ck_assert_str_eq(name, expected);
}

START_TEST(tcps_containers_name__parses_containers_json_once)
{
	const char *const ids[] = { WEB_ID };
	const char *const first[] = { "alpha" }, *const second[] = { "omega" };
	struct tcps_containers *cache;
	char path[600];
	struct stat st;
	int fd;

	podman_host();
	fakehost_podman_containers(&host, ids, first, 1);
	ck_assert_int_eq(tcps_containers_new(&host.roots, &cache), 0);
	lookup(cache, "/libpod_parent/libpod-" WEB_ID, "alpha");
	/* Changed in place, same size, same times: the parse is kept. */
	snprintf(path, sizeof(path), "%s/%s", host.root,
		 FAKEHOST_PODMAN_CONTAINERS);
	ck_assert_int_eq(stat(path, &st), 0);
	fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "[]", 2, 0), 2);
	ck_assert_int_eq(
		futimens(fd, (struct timespec[]){ st.st_atim, st.st_mtim }), 0);
	close(fd);
	lookup(cache, "/libpod_parent/libpod-" WEB_ID, "alpha");
	/* Rewritten as Podman does (a new file): parsed again. */
	fakehost_podman_containers(&host, ids, second, 1);
	lookup(cache, "/libpod_parent/libpod-" WEB_ID, "omega");
	tcps_containers_free(cache);
	tcps_containers_free(NULL);
}
END_TEST

Suite *containers_suite(void)
{
	Suite *s = suite_create("containers");
	TCase *tc = tcase_create("cgroup paths");

	tcase_add_test(
		tc,
		tcps_container_ref_parse__podman_cgroupfs_as_podman_wrote_it);
	tcase_add_test(
		tc,
		tcps_container_ref_parse__podman_systemd_scopes_and_pod_slices);
	tcase_add_test(tc,
		       tcps_container_ref_parse__conmon_is_not_the_container);
	tcase_add_test(tc,
		       tcps_container_ref_parse__docker_cgroupfs_and_systemd);
	tcase_add_test(tc, tcps_container_ref_parse__kubernetes_runtimes);
	tcase_add_test(tc, tcps_container_ref_parse__outermost_container_wins);
	tcase_add_test(tc, tcps_container_ref_parse__only_whole_lowercase_ids);
	suite_add_tcase(s, tc);

	tc = tcase_create("runtime state");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tcps_container_name__docker_name_without_its_slash);
	tcase_add_test(tc,
		       tcps_container_name__docker_in_kubernetes_names_the_pod);
	tcase_add_test(
		tc, tcps_container_name__podman_container_from_containers_json);
	tcase_add_test(tc, tcps_container_name__podman_pod_gives_one_name);
	tcase_add_test(
		tc,
		tcps_container_name__podman_pod_without_its_infra_is_unnamed);
	tcase_add_test(
		tc, tcps_container_name__containerd_pod_from_cri_annotations);
	tcase_add_test(tc, tcps_container_name__crio_pod_from_its_run_folder);
	tcase_add_test(tc, tcps_containers_name__parses_containers_json_once);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile state");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tcps_container_name__missing_state_names_nothing);
	tcase_add_test(tc, tcps_container_name__malformed_state_names_nothing);
	tcase_add_test(
		tc, tcps_container_name__state_file_over_the_cap_is_not_read);
	tcase_add_test(
		tc, tcps_container_name__state_that_is_not_a_file_is_not_read);
	tcase_add_test(tc, tcps_container_name__hostile_names_come_out_clean);
	tcase_add_test(tc, tcps_container_name__a_json_nul_ends_the_name);
	tcase_add_test(tc, tcps_container_name__cut_to_the_size_given);
	suite_add_tcase(s, tc);
	return s;
}

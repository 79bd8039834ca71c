/* cgroup v2 paths, as systemd, podman, docker, containerd, CRI-O and
 * the kubelet make them, to group names. */
#include <string.h>

#include "fakehost.h"
#include "suites.h"
#include "tcpstates/cgroup_names.h"
#include "tcpstates/containers.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define OTHER64                                                                \
	"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define POD_UID "4a6f1c2e-9b1d-4e3b-8f00-0123456789ab"
#define POD_UID_ "4a6f1c2e_9b1d_4e3b_8f00_0123456789ab"

static const char *name_of(const char *path)
{
	static char out[TCPS_NAME_MAX + 1];

	memset(out, 'x', sizeof(out));
	tcps_cgroup_group_name(path, strlen(path), out);
	return out;
}

START_TEST(tcps_cgroup_group_name__systemd_units)
{
	ck_assert_str_eq(name_of("/system.slice/nginx.service"),
			 "nginx_service");
	ck_assert_str_eq(name_of("/system.slice/system-getty.slice/"
				 "getty@tty1.service"),
			 "getty_tty1_service");
	ck_assert_str_eq(name_of("/user.slice/user-1000.slice/session-3.scope"),
			 "session-3_scope");
	ck_assert_str_eq(name_of("/init.scope"), "init_scope");
	/* A unit's own sub-cgroups (Delegate=yes) belong to it. */
	ck_assert_str_eq(name_of("/system.slice/postgresql@15-main.service/"
				 "worker/sub"),
			 "postgresql_15-main_service");
}
END_TEST

/* The user manager sits in init.scope of its unit; the user's own
 * units and rootless containers, below it, are the user's: the user
 * names them. */
START_TEST(tcps_cgroup_group_name__user_manager_and_its_units)
{
	ck_assert_str_eq(name_of("/user.slice/user-1000.slice/"
				 "user@1000.service/init.scope"),
			 "user_1000_service");
	ck_assert_str_eq(name_of("/user.slice/user-1000.slice/"
				 "user@1000.service/app.slice/"
				 "dbus-broker.service"),
			 "user_1000_service");
	ck_assert_str_eq(name_of("/user.slice/user-1000.slice/"
				 "user@1000.service/app.slice"),
			 "user_1000_service");
	ck_assert_str_eq(name_of("/user.slice/user-1000.slice/"
				 "user@1000.service/user.slice/libpod-" ID64
				 ".scope"),
			 "user_1000_service");
}
END_TEST

/* A service may make cgroups below its own, named as it likes: they
 * are still the service's. */
START_TEST(tcps_cgroup_group_name__nothing_passes_for_what_is_above)
{
	ck_assert_str_eq(name_of("/system.slice/evil.service/nginx.service"),
			 "evil_service");
	ck_assert_str_eq(
		name_of("/system.slice/evil.service/docker-" ID64 ".scope"),
		"evil_service");
	ck_assert_str_eq(name_of("/system.slice/evil.service/kubepods-pod"
				 "4a6f1c2e_9b1d_4e3b_8f00_0123456789ab.slice"),
			 "evil_service");
	/* A container cannot pass for another by nesting one. */
	ck_assert_str_eq(name_of("/system.slice/docker-" ID64
				 ".scope/docker-" OTHER64 ".scope"),
			 "docker-0123456789ab");
}
END_TEST

START_TEST(tcps_cgroup_group_name__containers_by_short_id)
{
	ck_assert_str_eq(name_of("/machine.slice/libpod-" ID64 ".scope"),
			 "podman-0123456789ab");
	/* podman's systemd manager nests the payload one level down. */
	ck_assert_str_eq(
		name_of("/machine.slice/libpod-" ID64 ".scope/container"),
		"podman-0123456789ab");
	ck_assert_str_eq(name_of("/libpod_parent/libpod-" ID64),
			 "podman-0123456789ab");
	ck_assert_str_eq(name_of("/system.slice/docker-" ID64 ".scope"),
			 "docker-0123456789ab");
	ck_assert_str_eq(name_of("/docker/" ID64), "docker-0123456789ab");
	ck_assert_str_eq(name_of("/system.slice/crio-" ID64 ".scope"),
			 "crio-0123456789ab");
	ck_assert_str_eq(name_of("/system.slice/cri-containerd-" ID64 ".scope"),
			 "containerd-0123456789ab");
	/* A systemd inside the container: the container is the owner. */
	ck_assert_str_eq(name_of("/machine.slice/libpod-" ID64
				 ".scope/system.slice/nginx.service"),
			 "podman-0123456789ab");
}
END_TEST

/* name is full, cleaned (full is clean already) and cut to the bound. */
static void ck_cut(const char *name, const char *full)
{
	ck_assert_uint_eq(strlen(name), TCPS_NAME_MAX);
	ck_assert(strncmp(name, full, TCPS_NAME_MAX) == 0);
}

/* The runtimes' own services and monitors are not containers, nor are
 * ids too short, with a foreign byte, or outside a runtime's folder. */
START_TEST(tcps_cgroup_group_name__lookalikes_are_not_containers)
{
	ck_assert_str_eq(name_of("/system.slice/docker.service"),
			 "docker_service");
	ck_cut(name_of("/machine.slice/libpod-conmon-" ID64 ".scope"),
	       "libpod-conmon-" ID64);
	ck_assert_str_eq(name_of("/system.slice/docker-0123.scope"),
			 "docker-0123_scope");
	ck_cut(name_of("/system.slice/docker-" ID64 "X.scope"),
	       "docker-" ID64 "X");
	ck_cut(name_of("/other/" ID64), ID64);
	ck_cut(name_of("/libpod_parent/libpod-" ID64 ".scopeX"),
	       "libpod-" ID64);
}
END_TEST

START_TEST(tcps_cgroup_group_name__kubernetes_pods)
{
	ck_assert_str_eq(name_of("/kubepods.slice/kubepods-burstable.slice/"
				 "kubepods-burstable-pod" POD_UID_
				 ".slice/cri-containerd-" ID64 ".scope"),
			 "pod-4a6f1c2e-9b1d");
	ck_assert_str_eq(name_of("/kubepods.slice/kubepods-pod" POD_UID_
				 ".slice/crio-" ID64 ".scope"),
			 "pod-4a6f1c2e-9b1d");
	/* The pod's own slice: its sandbox's sockets. */
	ck_assert_str_eq(name_of("/kubepods.slice/kubepods-besteffort.slice/"
				 "kubepods-besteffort-pod" POD_UID_ ".slice"),
			 "pod-4a6f1c2e-9b1d");
	/* cgroupfs driver. */
	ck_assert_str_eq(name_of("/kubepods/burstable/pod" POD_UID "/" ID64),
			 "pod-4a6f1c2e-9b1d");
	ck_assert_str_eq(name_of("/kubepods/pod" POD_UID "/" ID64),
			 "pod-4a6f1c2e-9b1d");
	/* The QoS slices hold no pod: their own names. */
	ck_assert_str_eq(name_of("/kubepods.slice/kubepods-burstable.slice"),
			 "kubepods-burstable_slice");
	/* pod<uid> outside kubepods is a folder like any other. */
	ck_assert_str_eq(name_of("/pod" POD_UID), "pod4a6f1c2e-9b1d-4e3b-8f00-"
						  "0123456789ab");
	ck_assert_str_eq(name_of("/kubepods/burstable/podnot-a-uid"),
			 "podnot-a-uid");
}
END_TEST

START_TEST(tcps_cgroup_group_name__plain_folders_and_root)
{
	ck_assert_str_eq(name_of("/tcps-test/svc-a"), "svc-a");
	ck_assert_str_eq(name_of("/my.slice"), "my_slice");
	ck_assert_str_eq(name_of("/a//b/"), "b");
	ck_assert_str_eq(name_of("/"), TCPS_CGROUP_ROOT_NAME);
	ck_assert_str_eq(name_of(""), TCPS_CGROUP_ROOT_NAME);
	ck_assert_str_eq(name_of("///"), TCPS_CGROUP_ROOT_NAME);
	/* Only the unit suffix: not a unit. */
	ck_assert_str_eq(name_of("/a/.service"), "_service");
}
END_TEST

/* Anyone allowed to make a cgroup names it: the name stays bounded and
 * of [A-Za-z0-9_-]; nothing is read past len. */
START_TEST(tcps_cgroup_group_name__hostile_paths)
{
	static char path[5000];
	char out[TCPS_NAME_MAX + 1];

	ck_assert_str_eq(name_of("/evil\n\"name\x1b[0m.service"),
			 "evil_name_0m_service");
	ck_assert_str_eq(name_of("/../.."), TCPS_NAME_EMPTY);
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	ck_assert_uint_eq(strlen(name_of(path)), TCPS_NAME_MAX);
	/* 2,499 components: each read once or twice, not once per prefix. */
	memset(path, 0, sizeof(path));
	for (size_t i = 0; i + 2 < sizeof(path); i += 2)
		memcpy(path + i, "/a", 2);
	ck_assert_str_eq(name_of(path), "a");
	/* len ends the path, not the NUL: "/x.service" cut to "/x.serv". */
	tcps_cgroup_group_name("/x.service/y", 7, out);
	ck_assert_str_eq(out, "x_serv");
	tcps_cgroup_group_name("/kubepods/pod" POD_UID, 20, out);
	ck_assert_str_eq(out, "pod4a6f1c2");
}
END_TEST

START_TEST(tcps_cgroup_group_name_in__container_by_its_runtime_name)
{
	static const char path[] = "/system.slice/docker-" CTR_ID ".scope";
	struct tcps_containers *containers;
	struct fakehost h;
	char out[TCPS_NAME_MAX + 1];

	fakehost_create(&h);
	fakehost_docker(&h, CTR_ID, "/billing-api");
	ck_assert_int_eq(tcps_containers_new(&h.roots, &containers), 0);
	tcps_cgroup_group_name_in(path, strlen(path), containers, out);
	ck_assert_str_eq(out, "billing-api");
	/* No runtime file for it, or no cache: its short id. */
	tcps_cgroup_group_name_in(path, strlen(path), NULL, out);
	ck_assert_str_eq(out, "docker-c0ffee001122");
	fakehost_destroy(&h);
	fakehost_create(&h);
	tcps_containers_free(containers);
	ck_assert_int_eq(tcps_containers_new(&h.roots, &containers), 0);
	tcps_cgroup_group_name_in(path, strlen(path), containers, out);
	ck_assert_str_eq(out, "docker-c0ffee001122");
	tcps_containers_free(containers);
	fakehost_destroy(&h);
}
END_TEST

Suite *cgroup_names_suite(void)
{
	Suite *s = suite_create("cgroup_names");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, tcps_cgroup_group_name__systemd_units);
	tcase_add_test(
		tc, tcps_cgroup_group_name_in__container_by_its_runtime_name);
	tcase_add_test(tc, tcps_cgroup_group_name__user_manager_and_its_units);
	tcase_add_test(
		tc, tcps_cgroup_group_name__nothing_passes_for_what_is_above);
	tcase_add_test(tc, tcps_cgroup_group_name__containers_by_short_id);
	tcase_add_test(tc,
		       tcps_cgroup_group_name__lookalikes_are_not_containers);
	tcase_add_test(tc, tcps_cgroup_group_name__kubernetes_pods);
	tcase_add_test(tc, tcps_cgroup_group_name__plain_folders_and_root);
	tcase_add_test(tc, tcps_cgroup_group_name__hostile_paths);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * libFuzzer target: container names (containers.h), from the cgroup
 * path, which a process can shape below its own cgroup, and from the
 * runtimes' state files, which hold what whoever started a container
 * chose (names, labels, annotations).
 *
 * Input: byte 0 picks the state file the rest goes to (taken % 6):
 *   0 Docker's config.v2.json of A    1 Podman's containers.json
 *   2 Podman's config.json of A, a member of pod P whose infra B says
 *     hostname "infra-pod"            3 that of the infra B (A names B)
 *   4 containerd's task config.json of A    5 CRI-O's config.json of A
 * then a cgroup path, up to the first NUL, then the file's bytes. Each
 * run writes the file into a fake host (fakehost.h) under TMPDIR and
 * asks for the name of A through the cgroup path of its runtime, then
 * through the input's own path (ids A, B and P are in containers.dict);
 * the input's path is also parsed alone, as len bytes with no NUL.
 * Checked: a parsed id is 64 lowercase hex digits found in the path;
 * a name is 1 to 63 of [A-Za-z0-9_-] and the runtime one of the four;
 * a failure is -ENOENT or -EFBIG and leaves the outputs untouched.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/fakehost.h"
#include "tcpstates/containers.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_P "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UNTOUCHED "untouched"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct layout {
	void (*path_of)(char *buf, size_t size, const char *id);
	const char *id;	    /* whose file the input is */
	const char *cgroup; /* the path that names A */
	bool podman_pod;    /* B's or A's config.json is written too */
};

static void containers_json_path(char *buf, size_t size, const char *id)
{
	(void)id;
	snprintf(buf, size, "%s", FAKEHOST_PODMAN_CONTAINERS);
}

static const struct layout layouts[] = {
	{ fakehost_docker_path, ID_A, "/docker/" ID_A, false },
	{ containers_json_path, ID_A, "/libpod_parent/libpod-" ID_A, false },
	{ fakehost_podman_config_path, ID_A,
	  "/libpod_parent/" ID_P "/libpod-" ID_A, true },
	{ fakehost_podman_config_path, ID_B,
	  "/libpod_parent/" ID_P "/libpod-" ID_A, true },
	{ fakehost_containerd_path, ID_A,
	  "/kubepods/besteffort/pod0b6d1c52/" ID_A, false },
	{ fakehost_crio_path, ID_A, "/kubepods.slice/crio-" ID_A ".scope",
	  false },
};

static struct fakehost host;

static void remove_host(void)
{
	fakehost_destroy(&host);
}

static void set_up_once(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	fakehost_create(&host);
	atexit(remove_host);
}

static bool is_safe(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static void check_parse(const char *path, size_t len)
{
	struct tcps_container_ref ref = { .runtime = TCPS_RUNTIME_NUM };
	int err = tcps_container_ref_parse(path, len, &ref);

	if (err == -ENOENT && ref.runtime == TCPS_RUNTIME_NUM)
		return;
	if (err != 0 || ref.runtime <= TCPS_RUNTIME_NONE ||
	    ref.runtime >= TCPS_RUNTIME_NUM ||
	    strlen(ref.id) != TCPS_CONTAINER_ID_LEN ||
	    strspn(ref.id, "0123456789abcdef") != TCPS_CONTAINER_ID_LEN ||
	    !memmem(path, len, ref.id, TCPS_CONTAINER_ID_LEN))
		abort();
	if (ref.pod_id[0] &&
	    (ref.runtime != TCPS_RUNTIME_PODMAN ||
	     strspn(ref.pod_id, "0123456789abcdef") != TCPS_CONTAINER_ID_LEN ||
	     !memmem(path, len, ref.pod_id, TCPS_CONTAINER_ID_LEN)))
		abort();
}

static void check_name(const char *cgroup)
{
	char name[TCPS_NAME_MAX + 1] = UNTOUCHED, runtime[16] = UNTOUCHED;
	int err = tcps_container_name(&host.roots, cgroup, name, sizeof(name),
				      runtime);
	size_t len = strlen(name);

	if (err != 0) {
		if ((err != -ENOENT && err != -EFBIG) ||
		    strcmp(name, UNTOUCHED) != 0 ||
		    strcmp(runtime, UNTOUCHED) != 0)
			abort();
		return;
	}
	if (len == 0 || len > TCPS_NAME_MAX)
		abort();
	for (size_t i = 0; i < len; i++)
		if (!is_safe(name[i]))
			abort();
	if (strcmp(runtime, "docker") != 0 && strcmp(runtime, "podman") != 0 &&
	    strcmp(runtime, "containerd") != 0 && strcmp(runtime, "crio") != 0)
		abort();
}

/* The other half of a pod: the infra B for a member's file, the member
 * A (naming B) for the infra's. */
static void write_pod_partner(const struct layout *l)
{
	if (strcmp(l->id, ID_A) == 0)
		fakehost_podman_config(&host, ID_B, "infra-pod", NULL,
				       "/libpod_parent/" ID_P "/libpod-" ID_B);
	else
		fakehost_podman_config(&host, ID_A, NULL, ID_B,
				       "/libpod_parent/" ID_P "/libpod-" ID_A);
}

static void remove_rel(void (*path_of)(char *, size_t, const char *),
		       const char *id)
{
	char rel[512], path[640];

	path_of(rel, sizeof(rel), id);
	snprintf(path, sizeof(path), "%s/%s", host.root, rel);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct layout *l;
	const uint8_t *nul;
	size_t path_len;
	char rel[512], *path;

	if (size < 1)
		return 0;
	set_up_once();
	l = &layouts[data[0] % (sizeof(layouts) / sizeof(layouts[0]))];
	nul = memchr(data + 1, '\0', size - 1);
	path_len = nul ? (size_t)(nul - data - 1) : size - 1;
	/* Exactly len bytes, no NUL after them: the parser must not read
	 * past the end. */
	path = malloc(path_len ? path_len : 1);
	if (!path)
		abort();
	memcpy(path, data + 1, path_len);
	check_parse(path, path_len);
	free(path);

	l->path_of(rel, sizeof(rel), l->id);
	fakehost_write_bytes(&host, rel, nul ? nul + 1 : data + size,
			     nul ? size - (size_t)(nul - data) - 1 : 0);
	if (l->podman_pod)
		write_pod_partner(l);
	check_name(l->cgroup);
	path = strndup((const char *)data + 1, path_len);
	if (!path)
		abort();
	check_name(path);
	free(path);
	remove_rel(l->path_of, ID_A);
	remove_rel(l->path_of, ID_B);
	return 0;
}

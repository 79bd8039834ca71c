/*
 * A cgroup v2 path -> the group it stands for: pod, container, systemd
 * unit or folder. Paths are read as text only: anyone allowed to make a
 * cgroup chooses its name, so nothing here trusts one.
 */
#define _GNU_SOURCE /* memmem */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tcpstates/cgroup_names.h"
#include "tcpstates/containers.h"

#define SHORT_ID 12 /* hex digits of the short container id */

struct component {
	const char *text;
	size_t len;
};

/* The runtime a container's group is named after (its short id
 * follows); a bare id under a kubelet pod is containerd's or Docker's
 * through cri-dockerd, but the pod names that group anyway. */
static const char *const runtime_names[TCPS_RUNTIME_NUM] = {
	[TCPS_RUNTIME_NONE] = "container",
	[TCPS_RUNTIME_DOCKER] = "docker",
	[TCPS_RUNTIME_PODMAN] = "podman",
	[TCPS_RUNTIME_CONTAINERD] = "containerd",
	[TCPS_RUNTIME_KUBEPODS] = "containerd",
	[TCPS_RUNTIME_CRIO] = "crio",
};

static bool next_component(const char *path, size_t len, size_t *pos,
			   struct component *ret)
{
	size_t start = *pos;
	const char *slash;

	while (start < len && path[start] == '/')
		start++;
	if (start >= len)
		return false;
	slash = memchr(path + start, '/', len - start);
	ret->text = path + start;
	ret->len = slash ? (size_t)(slash - ret->text) : len - start;
	*pos = start + ret->len;
	return true;
}

static bool starts_with(const struct component *c, const char *prefix)
{
	size_t n = strlen(prefix);

	return c->len >= n && memcmp(c->text, prefix, n) == 0;
}

static bool ends_with(const struct component *c, const char *suffix)
{
	size_t n = strlen(suffix);

	return c->len > n && memcmp(c->text + c->len - n, suffix, n) == 0;
}

static bool is_hex(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((text[i] >= '0' && text[i] <= '9') ||
		      (text[i] >= 'a' && text[i] <= 'f')))
			return false;
	return true;
}

/* A pod uid as written (8-4-4-4-12 hex digits; systemd slice names
 * write '_' for '-'): "pod-" and its first two groups. */
static bool pod_uid_name(const char *uid, size_t len, char *out)
{
	if (len < 13 || !is_hex(uid, 8) || (uid[8] != '-' && uid[8] != '_') ||
	    !is_hex(uid + 9, 4))
		return false;
	snprintf(out, TCPS_NAME_MAX + 1, "pod-%.8s-%.4s", uid, uid + 9);
	return true;
}

/* kubepods-<qos>-pod<uid>.slice, kubepods-pod<uid>.slice (systemd
 * driver), or pod<uid> under kubepods (cgroupfs driver). */
static bool pod_name(const struct component *c, bool under_kubepods, char *out)
{
	const char *pod;
	size_t end;

	if (under_kubepods && starts_with(c, "pod"))
		return pod_uid_name(c->text + 3, c->len - 3, out);
	if (!starts_with(c, "kubepods") || !ends_with(c, ".slice"))
		return false;
	end = c->len - strlen(".slice");
	pod = memmem(c->text, end, "-pod", 4);
	if (!pod)
		return false;
	pod += 4;
	return pod_uid_name(pod, (size_t)(c->text + end - pod), out);
}

/* The outermost container in path[0..len), as containers.c finds them:
 * its name where the runtime's files give one, else "<runtime>-<short
 * id>". */
static bool container_name(const char *path, size_t len,
			   struct tcps_containers *containers, char *out)
{
	struct tcps_container_ref ref;
	char copy[4096];

	if (tcps_container_ref_parse(path, len, &ref) != 0)
		return false;
	if (containers && len < sizeof(copy)) {
		memcpy(copy, path, len);
		copy[len] = '\0';
		if (tcps_containers_name(containers, copy, out,
					 TCPS_NAME_MAX + 1, NULL) == 0)
			return true;
	}
	snprintf(
		out, TCPS_NAME_MAX + 1, "%s-%.*s",
		runtime_names[ref.runtime < TCPS_RUNTIME_NUM ? ref.runtime : 0],
		SHORT_ID, ref.id);
	return true;
}

/* What component c names, if anything: a pod, or a systemd unit (its
 * name as written). */
static bool pod_or_unit(const struct component *c, bool under_kubepods,
			char *out)
{
	if (pod_name(c, under_kubepods, out))
		return true;
	if (!ends_with(c, ".service") && !ends_with(c, ".scope"))
		return false;
	snprintf(out, TCPS_NAME_MAX + 1, "%.*s", (int)c->len, c->text);
	return true;
}

/* The outermost pod or unit of path[0..len): its name to out, and where
 * its component ends; else 0, and the last component to *ret_last. */
static size_t outermost_pod_or_unit(const char *path, size_t len, char *out,
				    struct component *ret_last)
{
	struct component c;
	bool under_kubepods = false;
	size_t pos = 0;

	ret_last->len = 0;
	while (next_component(path, len, &pos, &c)) {
		if (pod_or_unit(&c, under_kubepods, out))
			return pos;
		under_kubepods |= starts_with(&c, "kubepods");
		*ret_last = c;
	}
	return 0;
}

void tcps_cgroup_group_name(const char *path, size_t len, char *out)
{
	tcps_cgroup_group_name_in(path, len, NULL, out);
}

void tcps_cgroup_group_name_in(const char *path, size_t len,
			       struct tcps_containers *containers, char *out)
{
	char named[TCPS_NAME_MAX + 1], container[TCPS_NAME_MAX + 1];
	struct component last;
	size_t end = outermost_pod_or_unit(path, len, named, &last);

	/* Outermost first: a cgroup's owner can make any name below it,
	 * never above it. A container at or above the pod or unit wins
	 * (docker-<id>.scope is both a unit and a container). */
	if (container_name(path, end ? end : len, containers, container))
		tcps_name_clean(container, strlen(container), out);
	else if (end)
		tcps_name_clean(named, strlen(named), out);
	else if (last.len > 0)
		tcps_name_clean(last.text, last.len, out);
	else
		tcps_name_clean(TCPS_CGROUP_ROOT_NAME,
				strlen(TCPS_CGROUP_ROOT_NAME), out);
}

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

#define SHORT_ID 12 /* hex digits of the short container id */

struct component {
	const char *text;
	size_t len;
};

/* A container cgroup: prefix, the id (hex), suffix, and for the
 * cgroupfs layouts the folder it must sit in. */
struct container_pattern {
	const char *prefix, *suffix, *parent, *runtime;
};

static const struct container_pattern container_patterns[] = {
	{ .prefix = "libpod-", .suffix = ".scope", .runtime = "podman" },
	{ .prefix = "libpod-", .suffix = "", .runtime = "podman" },
	{ .prefix = "docker-", .suffix = ".scope", .runtime = "docker" },
	{ .prefix = "", .suffix = "", .parent = "docker", .runtime = "docker" },
	{ .prefix = "cri-containerd-",
	  .suffix = ".scope",
	  .runtime = "containerd" },
	{ .prefix = "crio-", .suffix = ".scope", .runtime = "crio" },
};

/* What the components seen so far matched; the deepest match wins. */
struct path_scan {
	struct component parent, unit, last;
	bool kubepods; /* a component so far starts with "kubepods" */
	char pod[TCPS_NAME_MAX + 1], container[TCPS_NAME_MAX + 1];
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

	return c->len >= n && memcmp(c->text + c->len - n, suffix, n) == 0;
}

static bool equals(const struct component *c, const char *text)
{
	return c->len == strlen(text) && memcmp(c->text, text, c->len) == 0;
}

static bool is_hex(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((text[i] >= '0' && text[i] <= '9') ||
		      (text[i] >= 'a' && text[i] <= 'f')))
			return false;
	return true;
}

static bool match_container(const struct container_pattern *p,
			    const struct component *c,
			    const struct component *parent)
{
	size_t pre = strlen(p->prefix), suf = strlen(p->suffix);

	if (p->parent && !equals(parent, p->parent))
		return false;
	if (c->len < pre + SHORT_ID + suf || !starts_with(c, p->prefix) ||
	    !ends_with(c, p->suffix))
		return false;
	return is_hex(c->text + pre, c->len - pre - suf);
}

static bool container_name(const struct component *c,
			   const struct component *parent, char *out)
{
	const size_t count =
		sizeof(container_patterns) / sizeof(container_patterns[0]);

	for (size_t i = 0; i < count; i++) {
		const struct container_pattern *p = &container_patterns[i];

		if (!match_container(p, c, parent))
			continue;
		snprintf(out, TCPS_NAME_MAX + 1, "%s-%.*s", p->runtime,
			 SHORT_ID, c->text + strlen(p->prefix));
		return true;
	}
	return false;
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

static bool is_unit(const struct component *c)
{
	return (ends_with(c, ".service") && c->len > strlen(".service")) ||
	       (ends_with(c, ".scope") && c->len > strlen(".scope"));
}

static void scan_component(struct path_scan *s, const struct component *c)
{
	char found[TCPS_NAME_MAX + 1];

	if (pod_name(c, s->kubepods, found))
		memcpy(s->pod, found, sizeof(found));
	else if (container_name(c, &s->parent, found))
		memcpy(s->container, found, sizeof(found));
	/* systemd's own process in a unit that has others beside it. */
	else if (is_unit(c) && !(s->unit.len > 0 && equals(c, "init.scope")))
		s->unit = *c;
	s->kubepods |= starts_with(c, "kubepods");
	s->parent = *c;
	s->last = *c;
}

void tcps_cgroup_group_name(const char *path, size_t len, char *out)
{
	struct path_scan scan = { .pod = "", .container = "" };
	struct component c;
	size_t pos = 0;

	while (next_component(path, len, &pos, &c))
		scan_component(&scan, &c);
	if (scan.pod[0])
		tcps_name_clean(scan.pod, strlen(scan.pod), out);
	else if (scan.container[0])
		tcps_name_clean(scan.container, strlen(scan.container), out);
	else if (scan.unit.len > 0)
		tcps_name_clean(scan.unit.text, scan.unit.len, out);
	else if (scan.last.len > 0)
		tcps_name_clean(scan.last.text, scan.last.len, out);
	else
		tcps_name_clean(TCPS_CGROUP_ROOT_NAME,
				strlen(TCPS_CGROUP_ROOT_NAME), out);
}

/*
 * cgroup path -> container id -> the name its runtime keeps in its own
 * state files (see containers.h for the layouts). The files are the
 * runtimes' and root's, but what they hold came from whoever started the
 * container: every name is cleaned, every file is bounded, and the JSON
 * is parsed by json-c.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <json.h>

#include "tcpstates/containers.h"
#include "tcpstates/names.h"

#define RUNTIME_TEXT_MAX 16
#define STATE_PATH_MAX 512
/* Runtime state files nest a few levels (OCI specs: seccomp rules). */
#define JSON_DEPTH 32
/* Room for "<namespace>_<pod>" from two cleaned names. */
#define RAW_NAME_MAX (2 * TCPS_NAME_MAX + 2)

/* containers/storage: Podman's under /var/lib (its graph root), CRI-O's
 * under /run (its run root, where it writes each spec too). */
#define STORAGE "containers/storage/overlay-containers"
#define CONTAINERD_TASKS "containerd/io.containerd.runtime.v2.task/k8s.io"

struct component {
	const char *text;
	size_t len;
};

/* A cgroup folder a runtime makes for a container: prefix, then the id,
 * then optionally ".scope"; or a bare id below a parent folder. */
struct pattern {
	const char *prefix;
	const char *parent; /* the folder above: equal, or with this prefix */
	bool parent_is_prefix;
	bool below_kubepods; /* only under a kubelet's "kubepods..." folder */
	enum tcps_runtime runtime;
};

static const struct pattern patterns[] = {
	{ .prefix = "libpod-", .runtime = TCPS_RUNTIME_PODMAN },
	{ .prefix = "docker-", .runtime = TCPS_RUNTIME_DOCKER },
	{ .prefix = "cri-containerd-", .runtime = TCPS_RUNTIME_CONTAINERD },
	{ .prefix = "crio-", .runtime = TCPS_RUNTIME_CRIO },
	{ .prefix = "", .parent = "docker", .runtime = TCPS_RUNTIME_DOCKER },
	{ .prefix = "",
	  .parent = "pod",
	  .parent_is_prefix = true,
	  .below_kubepods = true,
	  .runtime = TCPS_RUNTIME_KUBEPODS },
};

static const char *const runtime_names[TCPS_RUNTIME_NUM] = {
	[TCPS_RUNTIME_NONE] = "",
	[TCPS_RUNTIME_DOCKER] = "docker",
	[TCPS_RUNTIME_PODMAN] = "podman",
	[TCPS_RUNTIME_CONTAINERD] = "containerd",
	[TCPS_RUNTIME_KUBEPODS] = "containerd",
	[TCPS_RUNTIME_CRIO] = "crio",
};

/* Podman's containers.json as last parsed, and the file it came from. */
struct parsed_file {
	struct json_object *root; /* NULL when it could not be parsed */
	int error;		  /* why root is NULL */
	bool valid;		  /* the fields below describe the file */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct tcps_containers {
	const struct tcps_discover_roots *roots;
	struct parsed_file podman_containers;
};

/* What a lookup found: a name not cleaned yet, and whose it is. */
struct found {
	char raw[RAW_NAME_MAX + 1];
	enum tcps_runtime runtime;
};

static bool is_id(const char *text, size_t len)
{
	if (len != TCPS_CONTAINER_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((text[i] >= '0' && text[i] <= '9') ||
		      (text[i] >= 'a' && text[i] <= 'f')))
			return false;
	return true;
}

static bool has_prefix(const struct component *c, const char *prefix)
{
	size_t len = strlen(prefix);

	return c->len >= len && memcmp(c->text, prefix, len) == 0;
}

static bool is_exactly(const struct component *c, const char *text)
{
	return c->len == strlen(text) && memcmp(c->text, text, c->len) == 0;
}

/* The id in c after prefix, with an optional ".scope" after it. */
static bool id_after(const struct component *c, const char *prefix,
		     char *ret_id)
{
	size_t start = strlen(prefix), end = c->len;

	if (!has_prefix(c, prefix))
		return false;
	if (end >= start + 6 && memcmp(c->text + end - 6, ".scope", 6) == 0)
		end -= 6;
	if (!is_id(c->text + start, end - start))
		return false;
	memcpy(ret_id, c->text + start, TCPS_CONTAINER_ID_LEN);
	ret_id[TCPS_CONTAINER_ID_LEN] = '\0';
	return true;
}

static bool parent_matches(const struct pattern *p,
			   const struct component *parent, bool kubepods)
{
	if (!p->parent)
		return true;
	if (!parent || (p->below_kubepods && !kubepods))
		return false;
	return p->parent_is_prefix ? has_prefix(parent, p->parent)
				   : is_exactly(parent, p->parent);
}

/* A Podman pod's cgroup: <pod id> (cgroupfs) or
 * machine-libpod_pod_<pod id>.slice (systemd; user-... when rootless). */
static void podman_pod_id(const struct component *parent, char *ret_pod_id)
{
	static const char marker[] = "libpod_pod_";
	const size_t marker_len = sizeof(marker) - 1;
	const char *at;
	struct component rest;

	ret_pod_id[0] = '\0';
	if (!parent)
		return;
	if (id_after(parent, "", ret_pod_id))
		return;
	at = memmem(parent->text, parent->len, marker, marker_len);
	if (!at)
		return;
	rest.text = at + marker_len;
	rest.len = (size_t)(parent->text + parent->len - rest.text);
	if (rest.len == TCPS_CONTAINER_ID_LEN + 6 &&
	    memcmp(rest.text + TCPS_CONTAINER_ID_LEN, ".slice", 6) == 0 &&
	    is_id(rest.text, TCPS_CONTAINER_ID_LEN)) {
		memcpy(ret_pod_id, rest.text, TCPS_CONTAINER_ID_LEN);
		ret_pod_id[TCPS_CONTAINER_ID_LEN] = '\0';
	}
}

static bool match_component(const struct component *c,
			    const struct component *parent, bool kubepods,
			    struct tcps_container_ref *ref)
{
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		const struct pattern *p = &patterns[i];

		if (!parent_matches(p, parent, kubepods) ||
		    !id_after(c, p->prefix, ref->id))
			continue;
		ref->runtime = p->runtime;
		ref->pod_id[0] = '\0';
		if (p->runtime == TCPS_RUNTIME_PODMAN)
			podman_pod_id(parent, ref->pod_id);
		return true;
	}
	return false;
}

int tcps_container_ref_parse(const char *path, size_t len,
			     struct tcps_container_ref *ret)
{
	struct component c, parent;
	struct tcps_container_ref ref;
	const char *end = path + len, *p = path;
	bool have_parent = false, kubepods = false;

	while (p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));

		c.text = p;
		c.len = (size_t)((slash ? slash : end) - p);
		p = slash ? slash + 1 : end;
		if (c.len == 0)
			continue;
		if (match_component(&c, have_parent ? &parent : NULL, kubepods,
				    &ref)) {
			*ret = ref;
			return 0;
		}
		kubepods |= has_prefix(&c, "kubepods");
		parent = c;
		have_parent = true;
	}
	return -ENOENT;
}

/* Reads the whole of len bytes or up to end of file. */
static ssize_t read_all(int fd, char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int parse_json(const char *text, size_t len, struct json_object **ret)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
	struct json_object *root;
	int err = 0;

	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(root);
		err = -ENOENT; /* not JSON, or cut short */
	}
	json_tokener_free(tok);
	if (err == 0)
		*ret = root;
	return err;
}

/* The JSON document in the regular file fd: 0, -ENOENT when it is not
 * one, -EFBIG when it is over TCPS_CONTAINERS_FILE_MAX. */
static int read_json_fd(int fd, const struct stat *st, struct json_object **ret)
{
	size_t want;
	ssize_t n;
	char *buf;
	int err;

	if (!S_ISREG(st->st_mode))
		return -ENOENT;
	if (st->st_size > TCPS_CONTAINERS_FILE_MAX)
		return -EFBIG;
	/* One byte more than it had: a file that grew is noticed. */
	want = (size_t)st->st_size + 1;
	buf = malloc(want);
	if (!buf)
		return -ENOMEM;
	n = read_all(fd, buf, want);
	if (n < 0)
		err = -ENOENT;
	else if ((size_t)n > TCPS_CONTAINERS_FILE_MAX)
		err = -EFBIG;
	else
		err = parse_json(buf, (size_t)n, ret);
	free(buf);
	return err;
}

/* Opens path for reading without blocking on a FIFO, and stats it. */
static int open_state(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, st) != 0) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

static int read_json(const char *path, struct json_object **ret)
{
	struct stat st;
	int fd = open_state(path, &st);
	int err;

	if (fd < 0)
		return fd;
	err = read_json_fd(fd, &st, ret);
	close(fd);
	return err;
}

/* The string at obj.keys[0].keys[1]..., with its length; NULL when any
 * step is missing or the end is not a string. */
static const char *string_at(struct json_object *obj, const char *const *keys,
			     size_t keys_num, size_t *ret_len)
{
	for (size_t i = 0; i < keys_num; i++)
		if (!json_object_object_get_ex(obj, keys[i], &obj))
			return NULL;
	if (!json_object_is_type(obj, json_type_string))
		return NULL;
	*ret_len = (size_t)json_object_get_string_len(obj);
	return json_object_get_string(obj);
}

static void set_raw(struct found *out, const char *text, size_t len)
{
	if (len > RAW_NAME_MAX)
		len = RAW_NAME_MAX;
	memcpy(out->raw, text, len);
	out->raw[len] = '\0';
}

/* "<namespace>_<pod>", each part cleaned first: bounded, and a NUL in
 * one cannot cut the other off. The whole is cleaned (and cut) again at
 * the end. */
static int set_pod(struct found *out, struct json_object *obj,
		   const char *const *ns_keys, const char *const *pod_keys,
		   size_t keys_num)
{
	char ns_clean[TCPS_NAME_MAX + 1], pod_clean[TCPS_NAME_MAX + 1];
	size_t ns_len, pod_len;
	const char *ns = string_at(obj, ns_keys, keys_num, &ns_len);
	const char *pod = string_at(obj, pod_keys, keys_num, &pod_len);

	if (!ns || !pod)
		return -ENOENT;
	tcps_name_clean(ns, ns_len, ns_clean);
	tcps_name_clean(pod, pod_len, pod_clean);
	snprintf(out->raw, sizeof(out->raw), "%s_%s", ns_clean, pod_clean);
	return 0;
}

static int state_path(char *buf, const char *root, const char *folder,
		      const char *id, const char *file)
{
	int n = snprintf(buf, STATE_PATH_MAX, "%s/%s/%s/%s", root, folder, id,
			 file);

	return n > 0 && n < STATE_PATH_MAX ? 0 : -ENAMETOOLONG;
}

/* "Name" without its "/": "/web" for `docker run --name web`. */
static int docker_plain_name(struct json_object *root, struct found *out)
{
	static const char *const name_key[] = { "Name" };
	size_t len;
	const char *name = string_at(root, name_key, 1, &len);

	if (!name)
		return -ENOENT;
	if (len > 0 && name[0] == '/') {
		name++;
		len--;
	}
	set_raw(out, name, len);
	return 0;
}

/* Pods through cri-dockerd carry the kubelet's labels: the pod's name
 * for all its containers. */
static int docker_name(struct tcps_containers *cache,
		       const struct tcps_container_ref *ref, struct found *out)
{
	static const char *const ns[] = { "Config", "Labels",
					  "io.kubernetes.pod.namespace" };
	static const char *const pod[] = { "Config", "Labels",
					   "io.kubernetes.pod.name" };
	char path[STATE_PATH_MAX];
	struct json_object *root;
	int err;

	out->runtime = TCPS_RUNTIME_DOCKER;
	err = state_path(path, cache->roots->var_lib, "docker/containers",
			 ref->id, "config.v2.json");
	if (err == 0)
		err = read_json(path, &root);
	if (err)
		return err;
	if (set_pod(out, root, ns, pod, 3) != 0)
		err = docker_plain_name(root, out);
	json_object_put(root);
	return err;
}

/* Where a CRI runtime keeps a container's OCI spec under /run, and the
 * annotations that name the container's Kubernetes pod there. */
struct cri_layout {
	const char *folder, *file;
	const char *ns_key, *pod_key;
	enum tcps_runtime runtime;
};

static const struct cri_layout containerd_layout = {
	.folder = CONTAINERD_TASKS,
	.file = "config.json",
	.ns_key = "io.kubernetes.cri.sandbox-namespace",
	.pod_key = "io.kubernetes.cri.sandbox-name",
	.runtime = TCPS_RUNTIME_CONTAINERD,
};

static const struct cri_layout crio_layout = {
	.folder = STORAGE,
	.file = "userdata/config.json",
	.ns_key = "io.kubernetes.pod.namespace",
	.pod_key = "io.kubernetes.pod.name",
	.runtime = TCPS_RUNTIME_CRIO,
};

static int cri_name(struct tcps_containers *cache,
		    const struct tcps_container_ref *ref,
		    const struct cri_layout *layout, struct found *out)
{
	const char *const ns[] = { "annotations", layout->ns_key };
	const char *const pod[] = { "annotations", layout->pod_key };
	char path[STATE_PATH_MAX];
	struct json_object *root;
	int err = state_path(path, cache->roots->run, layout->folder, ref->id,
			     layout->file);

	out->runtime = layout->runtime;
	if (err == 0)
		err = read_json(path, &root);
	if (err)
		return err;
	err = set_pod(out, root, ns, pod, 2);
	json_object_put(root);
	return err;
}

static int containerd_name(struct tcps_containers *cache,
			   const struct tcps_container_ref *ref,
			   struct found *out)
{
	return cri_name(cache, ref, &containerd_layout, out);
}

static int crio_name(struct tcps_containers *cache,
		     const struct tcps_container_ref *ref, struct found *out)
{
	return cri_name(cache, ref, &crio_layout, out);
}

/* A bare id in a kubelet's pod cgroup: containerd's, else Docker's. */
static int kubepods_name(struct tcps_containers *cache,
			 const struct tcps_container_ref *ref,
			 struct found *out)
{
	int err = containerd_name(cache, ref, out);

	if (err == 0)
		return 0;
	if (docker_name(cache, ref, out) == 0)
		return 0;
	return err;
}

static bool same_file(const struct parsed_file *f, const struct stat *st)
{
	return f->valid && f->dev == st->st_dev && f->ino == st->st_ino &&
	       f->size == st->st_size &&
	       f->mtime.tv_sec == st->st_mtim.tv_sec &&
	       f->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static void forget_file(struct parsed_file *f)
{
	json_object_put(f->root);
	memset(f, 0, sizeof(*f));
}

/* Parses path into f unless f already holds this very file. A failure
 * is remembered too, so that a bad file is not read once per lookup. */
static int refresh_file(struct parsed_file *f, const char *path)
{
	struct stat st;
	int fd = open_state(path, &st);

	if (fd < 0) {
		forget_file(f);
		return fd;
	}
	if (!same_file(f, &st)) {
		forget_file(f);
		f->error = read_json_fd(fd, &st, &f->root);
		f->valid = f->error != -ENOMEM;
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		f->size = st.st_size;
		f->mtime = st.st_mtim;
	}
	close(fd);
	return f->error;
}

/* The entry of containers.json ([{"id": "<id>", "names": ["web"]},
 * ...]) for id, or NULL. */
static struct json_object *podman_entry(struct json_object *list,
					const char *id)
{
	static const char *const id_key[] = { "id" };

	if (!json_object_is_type(list, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *entry = json_object_array_get_idx(list, i);
		size_t len;
		const char *entry_id = string_at(entry, id_key, 1, &len);

		if (entry_id && len == TCPS_CONTAINER_ID_LEN &&
		    memcmp(entry_id, id, len) == 0)
			return entry;
	}
	return NULL;
}

static int podman_container_name(struct tcps_containers *cache, const char *id,
				 struct found *out)
{
	struct parsed_file *f = &cache->podman_containers;
	char path[STATE_PATH_MAX];
	struct json_object *names, *first;
	int n = snprintf(path, sizeof(path), "%s/%s/containers.json",
			 cache->roots->var_lib, STORAGE);
	int err;

	if (n <= 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	err = refresh_file(f, path);
	if (err)
		return err;
	if (!json_object_object_get_ex(podman_entry(f->root, id), "names",
				       &names) ||
	    !json_object_is_type(names, json_type_array))
		return -ENOENT;
	first = json_object_array_get_idx(names, 0);
	if (!json_object_is_type(first, json_type_string))
		return -ENOENT;
	set_raw(out, json_object_get_string(first),
		(size_t)json_object_get_string_len(first));
	return 0;
}

static int podman_config(struct tcps_containers *cache, const char *id,
			 struct json_object **ret)
{
	char path[STATE_PATH_MAX];
	int err = state_path(path, cache->roots->var_lib, STORAGE, id,
			     "userdata/config.json");

	return err ? err : read_json(path, ret);
}

/*
 * Podman 4 keeps a pod's name only in its database (libpod's
 * bolt_state.db). In plain files it shows as the hostname of the pod's
 * infra container, which Podman sets to the pod's name unless the pod
 * was made with --hostname. The infra is the container the others name
 * in their SandboxID annotation, or the container itself.
 */
static int podman_pod_name(struct tcps_containers *cache,
			   const struct tcps_container_ref *ref,
			   struct found *out)
{
	static const char *const sandbox[] = {
		"annotations", "io.kubernetes.cri-o.SandboxID"
	};
	static const char *const hostname[] = { "hostname" };
	char infra_id[TCPS_CONTAINER_ID_LEN + 1];
	struct json_object *root;
	const char *text;
	size_t len;
	int err = podman_config(cache, ref->id, &root);

	if (err)
		return err;
	text = string_at(root, sandbox, 2, &len);
	if (text && is_id(text, len) && memcmp(text, ref->id, len) != 0) {
		memcpy(infra_id, text, len);
		infra_id[len] = '\0';
		json_object_put(root);
		err = podman_config(cache, infra_id, &root);
		if (err)
			return err;
	}
	text = string_at(root, hostname, 1, &len);
	if (text)
		set_raw(out, text, len);
	json_object_put(root);
	return text ? 0 : -ENOENT;
}

static int podman_name(struct tcps_containers *cache,
		       const struct tcps_container_ref *ref, struct found *out)
{
	out->runtime = TCPS_RUNTIME_PODMAN;
	if (ref->pod_id[0])
		return podman_pod_name(cache, ref, out);
	return podman_container_name(cache, ref->id, out);
}

typedef int lookup_fn(struct tcps_containers *cache,
		      const struct tcps_container_ref *ref, struct found *out);

static lookup_fn *const lookups[TCPS_RUNTIME_NUM] = {
	[TCPS_RUNTIME_DOCKER] = docker_name,
	[TCPS_RUNTIME_PODMAN] = podman_name,
	[TCPS_RUNTIME_CONTAINERD] = containerd_name,
	[TCPS_RUNTIME_KUBEPODS] = kubepods_name,
	[TCPS_RUNTIME_CRIO] = crio_name,
};

int tcps_containers_new(const struct tcps_discover_roots *roots,
			struct tcps_containers **ret)
{
	struct tcps_containers *cache = calloc(1, sizeof(*cache));

	if (!cache)
		return -ENOMEM;
	cache->roots = roots;
	*ret = cache;
	return 0;
}

void tcps_containers_free(struct tcps_containers *cache)
{
	if (!cache)
		return;
	forget_file(&cache->podman_containers);
	free(cache);
}

int tcps_containers_name(struct tcps_containers *cache, const char *cgroup_path,
			 char *name, size_t size, char *runtime)
{
	struct tcps_container_ref ref;
	struct found found = { .runtime = TCPS_RUNTIME_NONE };
	char cleaned[TCPS_NAME_MAX + 1];
	int err;

	if (size == 0)
		return -EINVAL;
	err = tcps_container_ref_parse(cgroup_path, strlen(cgroup_path), &ref);
	if (err == 0 && lookups[ref.runtime])
		err = lookups[ref.runtime](cache, &ref, &found);
	else if (err == 0)
		err = -ENOENT;
	if (err)
		return err == -EFBIG || err == -ENOMEM ? err : -ENOENT;
	/* Nothing to go by: the namespace is named some other way. */
	if (found.raw[0] == '\0')
		return -ENOENT;
	tcps_name_clean(found.raw, strlen(found.raw), cleaned);
	snprintf(name, size, "%s", cleaned);
	if (runtime)
		snprintf(runtime, RUNTIME_TEXT_MAX, "%s",
			 runtime_names[found.runtime]);
	return 0;
}

int tcps_container_name(const struct tcps_discover_roots *roots,
			const char *cgroup_path, char *name, size_t size,
			char *runtime)
{
	struct tcps_containers cache = { .roots = roots };
	int err =
		tcps_containers_name(&cache, cgroup_path, name, size, runtime);

	forget_file(&cache.podman_containers);
	return err;
}

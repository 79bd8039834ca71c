/*
 * cgroup v2 ids -> group names: walks of the cgroup2 tree, kept in an
 * open-addressing table across reads.
 */
#define _GNU_SOURCE /* name_to_handle_at */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/statfs.h>

#include "tcpstates/cgroup_names.h"
#include "tcpstates/cgroups.h"
#include "tcpstates/containers.h"
#include "tcpstates/discover.h"
#include "tcpstates/util.h"

#define FIRST_CAPACITY 64
#define CLOCK_EVERY 64 /* cgroups a walk meets between two clock reads */
/* file_handle.handle_type of a kernfs (cgroup2) folder: its 8-byte id. */
#define KERNFS_HANDLE_TYPE 0xfe

enum entry_state {
	ENTRY_PENDING, /* a socket showed it; no complete walk since */
	ENTRY_FOUND,   /* a walk met its cgroup: name is its name */
	ENTRY_MISSING, /* a complete walk did not meet it */
};

struct entry {
	uint64_t id;	    /* 0: an empty slot */
	uint32_t used_read; /* the read that last met a socket with it */
	uint32_t walk;	    /* the walk that last met it; 0: none */
	uint8_t state;
	char name[TCPS_NAME_MAX + 1];
};

struct tcps_cgroups {
	struct entry *slots;
	size_t cap, used, pending; /* pending: entries ENTRY_PENDING */
	uint32_t reads, walks;
	uint32_t last_complete; /* the last walk that met every cgroup */
	uint32_t walk_backoff, walk_wait; /* reads, after a walk cut short */
	struct tcps_cgroups_source source;
	int tree_error; /* the source has no tree: nothing to walk */
	/* The cgroup2 tree, looked up in mountinfo at the first walk. */
	char *proc_root, *mount_dir, *mount_root;
	/* Container names from the runtimes' files, for the cgroups of
	 * containers (NULL: short ids only). */
	struct tcps_discover_roots roots;
	struct tcps_containers *containers;
	/* The walk under way. */
	uint64_t walk_deadline;
	size_t walk_met;
	bool walk_cut;
	struct tcps_cgroups_stats stats;
};

/* ---- the table ---- */

static bool entry_stop(const void *slot, const void *key)
{
	uint64_t id = ((const struct entry *)slot)->id;

	return id == 0 || id == *(const uint64_t *)key;
}

/* The id's slot, or the empty one it would take (id not 0, cap > 0). */
static size_t probe(const struct entry *slots, size_t cap, uint64_t id)
{
	return tcps_probe(slots, sizeof(*slots), cap, tcps_mix64(id),
			  entry_stop, &id);
}

static struct entry *find(const struct tcps_cgroups *cg, uint64_t id)
{
	struct entry *e;

	if (cg->cap == 0 || id == 0)
		return NULL;
	e = &cg->slots[probe(cg->slots, cg->cap, id)];
	return e->id == id ? e : NULL;
}

/* Moves the entries for which keep() is true into a table of cap slots
 * (at least twice as many as they are). Returns 0 or -ENOMEM (then the
 * table is as it was). */
static int rebuild(struct tcps_cgroups *cg, size_t cap,
		   bool (*keep)(const struct tcps_cgroups *cg,
				const struct entry *e))
{
	struct entry *slots = calloc(cap, sizeof(*slots));
	size_t used = 0, pending = 0;

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < cg->cap; i++) {
		const struct entry *e = &cg->slots[i];

		if (e->id == 0 || !keep(cg, e))
			continue;
		slots[probe(slots, cap, e->id)] = *e;
		used++;
		pending += e->state == ENTRY_PENDING;
	}
	free(cg->slots);
	cg->slots = slots;
	cg->cap = cap;
	cg->used = used;
	cg->pending = pending;
	return 0;
}

static bool keep_all(const struct tcps_cgroups *cg, const struct entry *e)
{
	(void)cg;
	(void)e;
	return true;
}

/* A new entry for id (not in the table), or NULL when the table holds
 * TCPS_CGROUPS_MAX or cannot grow. Kept at most half full. */
static struct entry *insert(struct tcps_cgroups *cg, uint64_t id,
			    enum entry_state state)
{
	struct entry *e;

	if (cg->used >= TCPS_CGROUPS_MAX)
		return NULL;
	if ((cg->used + 1) * 2 > cg->cap &&
	    rebuild(cg, cg->cap ? cg->cap * 2 : FIRST_CAPACITY, keep_all) != 0)
		return NULL;
	e = &cg->slots[probe(cg->slots, cg->cap, id)];
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->state = (uint8_t)state;
	e->used_read = cg->reads;
	cg->used++;
	cg->pending += state == ENTRY_PENDING;
	return e;
}

/* Kept: what the last complete walk (or a later one) met, and any id a
 * socket showed within TCPS_CGROUPS_FORGET_READS reads, so a deleted
 * cgroup's name outlives it while its sockets do. */
static bool keep_recent(const struct tcps_cgroups *cg, const struct entry *e)
{
	if (e->walk != 0 && e->walk >= cg->last_complete)
		return true;
	return cg->reads - e->used_read <= TCPS_CGROUPS_FORGET_READS;
}

/* Forgets, and gives memory back when far fewer ids are kept. */
static void forget(struct tcps_cgroups *cg)
{
	size_t kept = 0, cap = FIRST_CAPACITY;

	for (size_t i = 0; i < cg->cap; i++)
		kept += cg->slots[i].id != 0 && keep_recent(cg, &cg->slots[i]);
	while (cap < kept * 2)
		cap *= 2;
	if (kept == cg->used && cap * 4 > cg->cap)
		return;
	(void)rebuild(cg, cap, keep_recent);
}

/* ---- one walk ---- */

static void name_entry(struct tcps_cgroups *cg, struct entry *e,
		       const char *path)
{
	tcps_cgroup_group_name_in(path, strlen(path), cg->containers, e->name);
}

static int remember_cgroup(void *data, uint64_t id, const char *path)
{
	struct tcps_cgroups *cg = data;
	struct entry *e;

	if (++cg->walk_met % CLOCK_EVERY == 0 &&
	    tcps_monotonic_ms() >= cg->walk_deadline) {
		cg->walk_cut = true;
		return 1;
	}
	if (id == 0)
		return 0;
	/* A name is made once, when a walk first meets the cgroup (ids are
	 * never reused while the kernel runs). */
	e = find(cg, id);
	if (!e) {
		e = insert(cg, id, ENTRY_FOUND);
		if (!e) {
			cg->walk_cut = true;
			return 1;
		}
		name_entry(cg, e, path);
	} else if (e->state != ENTRY_FOUND) {
		cg->pending -= e->state == ENTRY_PENDING;
		e->state = ENTRY_FOUND;
		name_entry(cg, e, path);
	}
	e->walk = cg->walks;
	return 0;
}

static void walk_ended(struct tcps_cgroups *cg)
{
	if (cg->walk_cut) {
		cg->walk_backoff = cg->walk_backoff ? cg->walk_backoff * 2 : 1;
		if (cg->walk_backoff > TCPS_CGROUPS_WALK_BACKOFF_MAX)
			cg->walk_backoff = TCPS_CGROUPS_WALK_BACKOFF_MAX;
		cg->walk_wait = cg->walk_backoff;
		return;
	}
	cg->walk_backoff = 0;
	cg->last_complete = cg->walks;
	for (size_t i = 0; i < cg->cap; i++)
		if (cg->slots[i].id != 0 && cg->slots[i].state == ENTRY_PENDING)
			cg->slots[i].state = ENTRY_MISSING;
	cg->pending = 0;
}

static int walk(struct tcps_cgroups *cg)
{
	uint64_t start = tcps_monotonic_ms();
	int ret;

	cg->walks++;
	cg->walk_met = 0;
	cg->walk_cut = false;
	cg->walk_deadline = start + TCPS_CGROUPS_WALK_MS;
	ret = cg->source.walk(cg->source.arg, remember_cgroup, cg);
	if (ret < 0)
		return ret;
	cg->walk_cut |= ret > 0;
	walk_ended(cg);
	cg->stats.walks++;
	cg->stats.walk_cgroups = cg->walk_met;
	cg->stats.walk_ms = tcps_monotonic_ms() - start;
	cg->stats.walk_cut = cg->walk_cut;
	return 0;
}

/* ---- the read's lookups ---- */

void tcps_cgroups_begin(struct tcps_cgroups *cg)
{
	cg->reads++;
	cg->stats.unknown = 0;
}

void tcps_cgroups_use(struct tcps_cgroups *cg, uint64_t id)
{
	struct entry *e = find(cg, id);

	if (id == 0)
		return;
	if (!e)
		e = insert(cg, id, ENTRY_PENDING);
	if (e)
		e->used_read = cg->reads;
}

static void count_unknown(struct tcps_cgroups *cg)
{
	cg->stats.unknown = 0;
	for (size_t i = 0; i < cg->cap; i++)
		cg->stats.unknown += cg->slots[i].id != 0 &&
				     cg->slots[i].state != ENTRY_FOUND &&
				     cg->slots[i].used_read == cg->reads;
}

int tcps_cgroups_resolve(struct tcps_cgroups *cg)
{
	bool walked = false;
	int err;

	if (cg->tree_error < 0)
		return cg->tree_error;
	if (cg->pending > 0 && cg->walk_wait > 0) {
		cg->walk_wait--;
	} else if (cg->pending > 0) {
		err = walk(cg);
		if (err < 0)
			return cg->tree_error = err;
		walked = true;
	}
	if (walked || cg->reads % TCPS_CGROUPS_FORGET_READS == 0)
		forget(cg);
	count_unknown(cg);
	cg->stats.entries = cg->used;
	return 0;
}

size_t tcps_cgroups_keys(const struct tcps_cgroups *cg)
{
	return cg->cap + 1;
}

size_t tcps_cgroups_key(const struct tcps_cgroups *cg, uint64_t id)
{
	const struct entry *e = find(cg, id);

	return e ? (size_t)(e - cg->slots) : cg->cap;
}

int tcps_cgroups_error(const struct tcps_cgroups *cg)
{
	return cg->tree_error;
}

const char *tcps_cgroups_name(const struct tcps_cgroups *cg, size_t key)
{
	if (key >= cg->cap || cg->slots[key].state != ENTRY_FOUND)
		return TCPS_CGROUP_UNKNOWN_NAME;
	return cg->slots[key].name;
}

const struct tcps_cgroups_stats *
tcps_cgroups_stats(const struct tcps_cgroups *cg)
{
	return &cg->stats;
}

/* ---- the cgroup2 tree ---- */

/* Undoes mountinfo's octal escapes (\040 for a space) of text[0..len)
 * into out (size bytes, NUL-terminated); out NULL only measures. Returns
 * the length, or -EINVAL for a NUL, -ENAMETOOLONG when it does not fit. */
static ssize_t unescape(const char *text, size_t len, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++, n++) {
		char c = text[i];

		if (c == '\\' && len - i >= 4 && text[i + 1] >= '0' &&
		    text[i + 1] <= '3' && text[i + 2] >= '0' &&
		    text[i + 2] <= '7' && text[i + 3] >= '0' &&
		    text[i + 3] <= '7') {
			c = (char)((text[i + 1] - '0') * 64 +
				   (text[i + 2] - '0') * 8 +
				   (text[i + 3] - '0'));
			i += 3;
		}
		if (c == '\0')
			return -EINVAL;
		if (out && n + 1 < size)
			out[n] = c;
	}
	if (n >= size)
		return -ENAMETOOLONG;
	if (out)
		out[n] = '\0';
	return (ssize_t)n;
}

struct field {
	const char *text;
	size_t len;
};

/* The next space-separated field of line[0..len) from *pos. */
static bool next_field(const char *line, size_t len, size_t *pos,
		       struct field *ret)
{
	size_t start = *pos, end;

	while (start < len && line[start] == ' ')
		start++;
	if (start >= len)
		return false;
	for (end = start; end < len && line[end] != ' '; end++)
		;
	ret->text = line + start;
	ret->len = end - start;
	*pos = end;
	return true;
}

static bool field_is(const struct field *f, const char *text)
{
	return f->len == strlen(text) && memcmp(f->text, text, f->len) == 0;
}

/* "36 25 0:31 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw":
 * id, parent, device, root, mount point, options, optional fields, "-",
 * file system type. */
int tcps_mountinfo_cgroup2(const char *line, size_t len, char *ret_dir,
			   char *ret_root, size_t size)
{
	struct field f[6], fstype;
	size_t pos = 0, n = 0;
	ssize_t dir_len, root_len;

	while (n < 6 && next_field(line, len, &pos, &f[n]))
		n++;
	if (n < 6)
		return -EINVAL;
	do {
		if (!next_field(line, len, &pos, &fstype))
			return -EINVAL;
	} while (!field_is(&fstype, "-"));
	if (!next_field(line, len, &pos, &fstype))
		return -EINVAL;
	if (!field_is(&fstype, "cgroup2"))
		return -ENOENT;
	root_len = unescape(f[3].text, f[3].len, NULL, size);
	dir_len = unescape(f[4].text, f[4].len, NULL, size);
	if (root_len < 0 || dir_len < 0)
		return root_len < 0 ? (int)root_len : (int)dir_len;
	unescape(f[3].text, f[3].len, ret_root, size);
	unescape(f[4].text, f[4].len, ret_dir, size);
	return 0;
}

/* The first cgroup2 mount that shows the whole hierarchy (root "/"), or
 * else the first at all, to dir and root (PATH_MAX each, dir empty on
 * entry). Returns 0 or -ENOENT. */
static int find_mount_in(FILE *f, char *dir, char *root)
{
	char *line = NULL, line_dir[PATH_MAX], line_root[PATH_MAX];
	size_t line_cap = 0;
	ssize_t len;

	while (strcmp(root, "/") != 0 &&
	       (len = getline(&line, &line_cap, f)) > 0) {
		if (line[len - 1] == '\n')
			len--;
		if (tcps_mountinfo_cgroup2(line, (size_t)len, line_dir,
					   line_root, PATH_MAX) != 0)
			continue;
		if (dir[0] == '\0' || strcmp(line_root, "/") == 0) {
			memcpy(dir, line_dir, PATH_MAX);
			memcpy(root, line_root, PATH_MAX);
		}
	}
	free(line);
	return dir[0] ? 0 : -ENOENT;
}

static int find_mount(struct tcps_cgroups *cg)
{
	char path[PATH_MAX], dir[PATH_MAX] = "", root[PATH_MAX] = "";
	FILE *f;
	int err;

	if (cg->mount_dir)
		return 0;
	snprintf(path, sizeof(path), "%s/self/mountinfo", cg->proc_root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	err = find_mount_in(f, dir, root);
	fclose(f);
	if (err < 0)
		return err;
	cg->mount_dir = strdup(dir);
	cg->mount_root = strdup(root);
	if (cg->mount_dir && cg->mount_root)
		return 0;
	free(cg->mount_dir);
	free(cg->mount_root);
	cg->mount_dir = cg->mount_root = NULL;
	return -ENOMEM;
}

/* The id in a cgroup2 folder's handle, or 0. */
static uint64_t cgroup_id_at(int dir_fd, const char *name, int flags)
{
	uint8_t raw[sizeof(struct file_handle) + sizeof(uint64_t)]
		__attribute__((aligned(8)));
	struct file_handle *handle = (struct file_handle *)raw;
	uint64_t id;
	int mount_id;

	handle->handle_bytes = sizeof(id);
	if (name_to_handle_at(dir_fd, name, handle, &mount_id, flags) != 0 ||
	    handle->handle_type != KERNFS_HANDLE_TYPE ||
	    handle->handle_bytes != sizeof(id))
		return 0;
	memcpy(&id, handle->f_handle, sizeof(id));
	return id;
}

struct tree_walk {
	tcps_cgroup_visit_fn *visit;
	void *data;
	char path[PATH_MAX]; /* the folder's cgroup path */
};

static int walk_folder(struct tree_walk *w, int fd, size_t path_len, int depth);

/* One folder below the one at path_len: its id, then what is below it.
 * Returns 1 when the visit stopped the walk. */
static int walk_child(struct tree_walk *w, int parent_fd, const char *name,
		      size_t path_len, int depth)
{
	size_t len = path_len, name_len = strlen(name);
	int fd, ret = 0;
	uint64_t id;

	if (w->path[len - 1] != '/')
		w->path[len++] = '/';
	if (len + name_len >= sizeof(w->path))
		goto out; /* a path nothing could open: not walked */
	memcpy(w->path + len, name, name_len + 1);
	id = cgroup_id_at(parent_fd, name, 0);
	if (id != 0 && w->visit(w->data, id, w->path) != 0) {
		ret = 1;
		goto out;
	}
	if (depth + 1 >= TCPS_CGROUPS_WALK_DEPTH)
		goto out;
	fd = openat(parent_fd, name,
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0)
		ret = walk_folder(w, fd, len + name_len, depth + 1);
out:
	w->path[path_len] = '\0';
	return ret;
}

/* The folders below fd (closed here); a folder we may not read is
 * skipped. Returns 1 when the visit stopped the walk. */
static int walk_folder(struct tree_walk *w, int fd, size_t path_len, int depth)
{
	DIR *dir = fdopendir(fd);
	struct dirent *de;
	int ret = 0;

	if (!dir) {
		close(fd);
		return 0;
	}
	while (ret == 0 && (de = readdir(dir)) != NULL)
		if (de->d_type == DT_DIR && de->d_name[0] != '.')
			ret = walk_child(w, dirfd(dir), de->d_name, path_len,
					 depth);
	closedir(dir);
	return ret;
}

/* The source of a real system: the cgroup2 mount, from its root down. */
static int walk_tree(void *arg, tcps_cgroup_visit_fn *visit, void *data)
{
	struct tcps_cgroups *cg = arg;
	struct tree_walk *w;
	struct statfs fs;
	uint64_t id;
	int fd, ret = find_mount(cg);

	if (ret < 0)
		return ret;
	fd = open(cg->mount_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC) {
		close(fd);
		return -EMEDIUMTYPE;
	}
	/* The path buffer stays off collectd's read-thread stack. */
	w = malloc(sizeof(*w));
	if (!w) {
		close(fd);
		return -ENOMEM;
	}
	*w = (struct tree_walk){ .visit = visit, .data = data };
	snprintf(w->path, sizeof(w->path), "%s", cg->mount_root);
	id = cgroup_id_at(fd, "", AT_EMPTY_PATH);
	if (id != 0 && visit(data, id, w->path) != 0) {
		close(fd);
		ret = 1;
	} else {
		ret = walk_folder(w, fd, strlen(w->path), 0);
	}
	free(w);
	return ret;
}

int tcps_cgroups_new(const char *proc_root,
		     const struct tcps_cgroups_source *source,
		     struct tcps_cgroups **ret)
{
	struct tcps_cgroups *cg = calloc(1, sizeof(*cg));

	if (!cg)
		return -ENOMEM;
	cg->proc_root = strdup(proc_root);
	if (!cg->proc_root) {
		free(cg);
		return -ENOMEM;
	}
	cg->roots = (struct tcps_discover_roots){ .proc = cg->proc_root,
						  .run = "/run",
						  .var_lib = "/var/lib" };
	/* Without it containers keep their short ids. */
	(void)tcps_containers_new(&cg->roots, &cg->containers);
	if (source)
		cg->source = *source;
	else
		cg->source = (struct tcps_cgroups_source){ .walk = walk_tree,
							   .arg = cg };
	*ret = cg;
	return 0;
}

void tcps_cgroups_free(struct tcps_cgroups *cg)
{
	if (!cg)
		return;
	free(cg->slots);
	tcps_containers_free(cg->containers);
	free(cg->proc_root);
	free(cg->mount_dir);
	free(cg->mount_root);
	free(cg);
}

/*
 * Every network namespace on the host, at a cost that stays low with
 * thousands of processes: one readdir of /proc and one stat of each
 * process's ns/net (namespaces deduplicated by their inode as they are
 * met), the pins in /run/netns and /run/docker/netns, then per namespace
 * (not per process) one cgroup file and its runtime's state files
 * (containers.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "tcpstates/containers.h"
#include "tcpstates/discover.h"
#include "tcpstates/util.h"

/* A cgroup file names each hierarchy once: a dozen lines on a v1 host. */
#define CGROUP_FILE_MAX 16384
#define CGROUP_PATHS_MAX 16

enum pin_rank {
	PIN_NONE,
	PIN_NETNS,  /* /run/netns/NAME: ip netns, Podman, CNI */
	PIN_DOCKER, /* /run/docker/netns/ID */
};

struct scan {
	const struct tcps_discover_roots *roots;
	uint64_t own_dev, own_ino;
	struct tcps_discovered *list;
	size_t num, cap;
	uint8_t *pins; /* per entry of list: enum pin_rank */
	size_t pins_cap;
	uint32_t *index; /* (dev, ino) -> position in list + 1; 0 = empty */
	size_t index_cap;
	uint64_t skipped;
};

struct ns_key {
	const struct tcps_discovered *list;
	uint64_t dev, ino;
};

static bool ns_slot_stop(const void *slot, const void *key)
{
	uint32_t at = *(const uint32_t *)slot;
	const struct ns_key *k = key;

	return at == 0 ||
	       (k->list[at - 1].ino == k->ino && k->list[at - 1].dev == k->dev);
}

static uint32_t *ns_slot(const struct scan *s, uint64_t dev, uint64_t ino)
{
	struct ns_key key = { .list = s->list, .dev = dev, .ino = ino };

	return &s->index[tcps_probe(s->index, sizeof(*s->index), s->index_cap,
				    tcps_mix64(ino ^ (dev << 40)), ns_slot_stop,
				    &key)];
}

/* Keeps the index at most half full: rebuilt twice as large. */
static int grow_index(struct scan *s)
{
	size_t cap = s->index_cap ? s->index_cap * 2 : 64;
	uint32_t *old = s->index;

	if (s->index_cap > 2 * (s->num + 1))
		return 0;
	s->index = calloc(cap, sizeof(*s->index));
	if (!s->index) {
		s->index = old;
		return -ENOMEM;
	}
	free(old);
	s->index_cap = cap;
	for (size_t i = 0; i < s->num; i++)
		*ns_slot(s, s->list[i].dev, s->list[i].ino) = (uint32_t)i + 1;
	return 0;
}

/* The entry of (dev, ino), added when new; NULL when there is no room
 * (counted) or no memory (*err). */
static struct tcps_discovered *ns_entry(struct scan *s, uint64_t dev,
					uint64_t ino, int *err)
{
	uint32_t *slot = ns_slot(s, dev, ino);
	struct tcps_discovered *d;

	if (*slot)
		return &s->list[*slot - 1];
	if (s->num >= TCPS_DISCOVER_MAX) {
		s->skipped++;
		return NULL;
	}
	*err = tcps_grow((void **)&s->list, &s->cap, s->num + 1,
			 sizeof(*s->list));
	if (*err == 0)
		*err = tcps_grow((void **)&s->pins, &s->pins_cap, s->num + 1,
				 sizeof(*s->pins));
	if (*err == 0)
		*err = grow_index(s);
	if (*err)
		return NULL;
	d = &s->list[s->num];
	memset(d, 0, sizeof(*d));
	d->dev = dev;
	d->ino = ino;
	s->pins[s->num] = PIN_NONE;
	*ns_slot(s, dev, ino) = (uint32_t)++s->num;
	return d;
}

static int parse_pid(const char *name)
{
	const char *end = name + strlen(name);
	uint64_t value;

	if (tcps_parse_decimal(name, end, INT_MAX, &value) != end || value == 0)
		return 0;
	return (int)value;
}

static int add_process(struct scan *s, int proc_fd, int pid)
{
	char path[32];
	struct stat st;
	struct tcps_discovered *d;
	int err = 0;

	snprintf(path, sizeof(path), "%d/ns/net", pid);
	if (fstatat(proc_fd, path, &st, 0) != 0) {
		s->skipped++; /* exited, or not ours to look at */
		return 0;
	}
	if ((uint64_t)st.st_dev == s->own_dev &&
	    (uint64_t)st.st_ino == s->own_ino)
		return 0;
	d = ns_entry(s, st.st_dev, st.st_ino, &err);
	if (d && (d->pid == 0 || pid < d->pid))
		d->pid = pid;
	return err;
}

static int scan_processes(struct scan *s, DIR *proc)
{
	struct dirent *entry;
	int err = 0;

	while (err == 0 && (entry = readdir(proc))) {
		int pid = parse_pid(entry->d_name);

		if (pid > 0)
			err = add_process(s, dirfd(proc), pid);
	}
	return err;
}

/* A pin ranks before another from an earlier folder, then by path, so
 * that the same pins always give the same answer. */
static bool pin_wins(const struct scan *s, size_t at, enum pin_rank rank,
		     const char *path)
{
	return s->pins[at] == PIN_NONE || rank < s->pins[at] ||
	       (rank == s->pins[at] && strcmp(path, s->list[at].path) < 0);
}

static int add_pin(struct scan *s, int dir_fd, const char *folder,
		   const char *name, enum pin_rank rank)
{
	char path[TCPS_DISCOVER_PATH_MAX];
	struct tcps_discovered *d;
	struct stat st;
	int err = 0, n = snprintf(path, sizeof(path), "%s/%s", folder, name);

	/* A pin left behind by a runtime that died is a plain file, not
	 * one of nsfs: its device is not the namespaces' device. */
	if (n <= 0 || (size_t)n >= sizeof(path) ||
	    fstatat(dir_fd, name, &st, 0) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_dev != s->own_dev ||
	    (uint64_t)st.st_ino == s->own_ino)
		return 0;
	d = ns_entry(s, st.st_dev, st.st_ino, &err);
	if (d && pin_wins(s, (size_t)(d - s->list), rank, path)) {
		memcpy(d->path, path, (size_t)n + 1);
		s->pins[d - s->list] = rank;
	}
	return err;
}

static int scan_pins(struct scan *s, const char *folder_in_run,
		     enum pin_rank rank)
{
	char folder[TCPS_DISCOVER_PATH_MAX];
	struct dirent *entry;
	DIR *dir;
	int err = 0, n = snprintf(folder, sizeof(folder), "%s/%s",
				  s->roots->run, folder_in_run);

	if (n <= 0 || (size_t)n >= sizeof(folder))
		return 0;
	dir = opendir(folder);
	if (!dir)
		return 0; /* that runtime is not used here */
	while (err == 0 && (entry = readdir(dir)))
		if (entry->d_name[0] != '.')
			err = add_pin(s, dirfd(dir), folder, entry->d_name,
				      rank);
	closedir(dir);
	return err;
}

static bool is_known_path(const char *const *paths, size_t num,
			  const char *path)
{
	for (size_t i = 0; i < num; i++)
		if (strcmp(paths[i], path) == 0)
			return true;
	return false;
}

/*
 * The distinct paths of a cgroup file's lines ("ID:CONTROLLERS:PATH"),
 * cut apart in text, the cgroup2 line's ("0::") first: on a hybrid host
 * a runtime may show in some hierarchies only. Returns their number.
 */
static size_t cgroup_paths(char *text, const char **paths)
{
	size_t num = 0;

	for (char *line = text, *next; line && *line; line = next) {
		char *path;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		path = strchr(line, ':');
		path = path ? strchr(path + 1, ':') : NULL;
		if (!path || is_known_path(paths, num, ++path) ||
		    num == CGROUP_PATHS_MAX)
			continue;
		if (strncmp(line, "0::", 3) == 0) {
			memmove(paths + 1, paths, num * sizeof(*paths));
			paths[0] = path;
		} else {
			paths[num] = path;
		}
		num++;
	}
	return num;
}

static ssize_t read_cgroup(int proc_fd, int pid, char *buf, size_t size)
{
	char path[32];

	snprintf(path, sizeof(path), "%d/cgroup", pid);
	return tcps_read_small_at(proc_fd, path, buf, size);
}

/* The container's name from the cgroup of the namespace's process:
 * 0, -ENOENT when none names one, -ENOMEM. */
static int container_name(struct scan *s, struct tcps_containers *cache,
			  int proc_fd, struct tcps_discovered *d)
{
	char text[CGROUP_FILE_MAX];
	const char *paths[CGROUP_PATHS_MAX];
	size_t num;

	if (read_cgroup(proc_fd, d->pid, text, sizeof(text)) < 0) {
		s->skipped++; /* the process left meanwhile */
		return -ENOENT;
	}
	num = cgroup_paths(text, paths);
	for (size_t i = 0; i < num; i++) {
		int err = tcps_containers_name(cache, paths[i], d->name,
					       sizeof(d->name), d->runtime);

		if (err == 0 || err == -ENOMEM)
			return err;
		if (err == -EFBIG)
			s->skipped++;
	}
	return -ENOENT;
}

/* A container's name, else the pin's, else one from the inode. */
static int name_entry(struct scan *s, struct tcps_containers *cache,
		      int proc_fd, size_t at)
{
	struct tcps_discovered *d = &s->list[at];
	const char *pin_name;
	int err;

	if (d->pid > 0) {
		err = container_name(s, cache, proc_fd, d);
		if (err != -ENOENT)
			return err;
	}
	if (s->pins[at] != PIN_NONE) {
		pin_name = strrchr(d->path, '/') + 1;
		tcps_name_clean(pin_name, strlen(pin_name), d->name);
		return 0;
	}
	snprintf(d->name, sizeof(d->name), "netns-%llu",
		 (unsigned long long)d->ino);
	return 0;
}

/* Names every entry; a namespace without a pin is opened through its
 * process. */
static int name_entries(struct scan *s, int proc_fd)
{
	struct tcps_containers *cache;
	int err = tcps_containers_new(s->roots, &cache);

	for (size_t i = 0; err == 0 && i < s->num; i++) {
		struct tcps_discovered *d = &s->list[i];

		if (s->pins[i] == PIN_NONE)
			snprintf(d->path, sizeof(d->path), "%s/%d/ns/net",
				 s->roots->proc, d->pid);
		err = name_entry(s, cache, proc_fd, i);
	}
	tcps_containers_free(cache);
	return err;
}

static int by_inode(const void *a, const void *b)
{
	const struct tcps_discovered *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return 0;
}

struct name_key {
	const struct tcps_discovered *list;
	const char *name;
};

static bool name_slot_stop(const void *slot, const void *key)
{
	uint32_t at = *(const uint32_t *)slot;
	const struct name_key *k = key;

	return at == 0 || strcmp(k->list[at - 1].name, k->name) == 0;
}

static uint64_t name_hash(const char *name)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ULL;
	return tcps_mix64(h);
}

static uint32_t *name_slot(uint32_t *table, size_t cap,
			   const struct tcps_discovered *list, const char *name)
{
	struct name_key key = { .list = list, .name = name };

	return &table[tcps_probe(table, sizeof(*table), cap, name_hash(name),
				 name_slot_stop, &key)];
}

/*
 * In inode order, a name already given, or reserved ("host" is the
 * daemon's own namespace), gets "-<inode>" appended (then "-<inode>-2",
 * "-3" ... should even that be taken): the result depends only on the
 * namespaces, never on the order /proc listed them in.
 */
static int make_names_unique(struct tcps_discovered *list, size_t num)
{
	size_t cap = 64;
	uint32_t *table;

	while (cap < num * 2 + 2)
		cap *= 2;
	table = calloc(cap, sizeof(*table));
	if (!table)
		return -ENOMEM;
	for (size_t i = 0; i < num; i++) {
		char base[TCPS_NAME_MAX + 1];
		uint32_t *slot = name_slot(table, cap, list, list[i].name);

		memcpy(base, list[i].name, sizeof(base));
		for (unsigned attempt = 0;
		     *slot || tcps_name_reserved(list[i].name); attempt++) {
			tcps_name_suffix(list[i].name, base, list[i].ino,
					 attempt ? attempt + 1 : 0);
			slot = name_slot(table, cap, list, list[i].name);
		}
		*slot = (uint32_t)i + 1;
	}
	free(table);
	return 0;
}

static void scan_free(struct scan *s)
{
	free(s->list);
	free(s->pins);
	free(s->index);
}

static int scan_all(struct scan *s)
{
	DIR *proc = opendir(s->roots->proc);
	int err;

	if (!proc)
		return -errno;
	err = grow_index(s); /* the first lookup needs a table */
	if (err == 0)
		err = scan_processes(s, proc);
	if (err == 0)
		err = scan_pins(s, "netns", PIN_NETNS);
	if (err == 0)
		err = scan_pins(s, "docker/netns", PIN_DOCKER);
	if (err == 0)
		err = name_entries(s, dirfd(proc));
	closedir(proc);
	return err;
}

int tcps_discover(const struct tcps_discover_roots *roots, uint64_t own_dev,
		  uint64_t own_ino, struct tcps_discovered **ret,
		  size_t *ret_num, uint64_t *ret_skipped)
{
	struct scan s = { .roots = roots,
			  .own_dev = own_dev,
			  .own_ino = own_ino };
	int err;

	/* Room for "/<pid>/ns/net" after it in every path given out. */
	if (strlen(roots->proc) + 24 > TCPS_DISCOVER_PATH_MAX)
		return -ENAMETOOLONG;
	err = scan_all(&s);
	if (err == 0 && s.num > 0) {
		qsort(s.list, s.num, sizeof(*s.list), by_inode);
		err = make_names_unique(s.list, s.num);
	}
	if (err) {
		scan_free(&s);
		return err;
	}
	free(s.pins);
	free(s.index);
	*ret = s.list;
	*ret_num = s.num;
	if (ret_skipped)
		*ret_skipped = s.skipped;
	return 0;
}

void tcps_discovered_free(struct tcps_discovered *list)
{
	free(list);
}

/*
 * cgroup v2 ids -> group names, for GroupBy "cgroup". The kernel tags
 * every full socket with the id of the cgroup it was made in
 * (INET_DIAG_CGROUP_ID); the cgroup2 tree is walked once to learn the
 * ids (name_to_handle_at on a cgroup2 folder gives its id), and again,
 * at most once per read, only when a socket shows an id no walk has met:
 * a new service or container. Each cgroup's name (cgroup_names.h) is
 * made when a walk first meets it and kept across reads, bounded.
 */
#ifndef TCPSTATES_CGROUPS_H
#define TCPSTATES_CGROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Cgroups remembered at once; a walk that meets more stops there. */
#define TCPS_CGROUPS_MAX 16384
/* One walk stops after this long (checked every 64 cgroups). */
#define TCPS_CGROUPS_WALK_MS 100
/* Folders deeper than this below the cgroup2 mount are not walked. */
#define TCPS_CGROUPS_WALK_DEPTH 32
/* An id no socket has shown for this many reads is forgotten, unless
 * the last complete walk met its cgroup. */
#define TCPS_CGROUPS_FORGET_READS 64
/* After a walk cut short, the next waits 1, 2, 4 ... this many reads. */
#define TCPS_CGROUPS_WALK_BACKOFF_MAX 64

/* Called for each cgroup a walk meets: its id and its path from the
 * root of the hierarchy ("/" for the root). Non-zero stops the walk. */
typedef int tcps_cgroup_visit_fn(void *data, uint64_t id, const char *path);

/*
 * Where cgroups come from: the cgroup2 tree, or a test's list. walk()
 * calls visit for each cgroup, a folder before those below it, and
 * returns 0 when it met them all, 1 when visit stopped it, or -errno
 * when there is no tree to walk (folders it may not read are skipped).
 */
struct tcps_cgroups_source {
	int (*walk)(void *arg, tcps_cgroup_visit_fn *visit, void *data);
	void *arg;
};

struct tcps_cgroups_stats {
	uint64_t walks;	       /* walks so far */
	uint64_t walk_cgroups; /* cgroups the last walk met */
	uint64_t walk_ms;      /* how long the last walk took */
	bool walk_cut;	       /* it stopped early: time or room ran out */
	uint64_t entries;      /* ids remembered */
	uint64_t unknown;      /* ids of this read no walk has found */
};

struct tcps_cgroups;

/*
 * source NULL: the first cgroup2 mount in <proc_root>/self/mountinfo
 * (proc_root is copied), found at the first walk. Returns 0 or -ENOMEM.
 */
int tcps_cgroups_new(const char *proc_root,
		     const struct tcps_cgroups_source *source,
		     struct tcps_cgroups **ret);
void tcps_cgroups_free(struct tcps_cgroups *cg);

/* A read's lookups: begin, use() for each socket's id (not 0), then
 * resolve(); the keys stay valid until the next begin(). */
void tcps_cgroups_begin(struct tcps_cgroups *cg);
void tcps_cgroups_use(struct tcps_cgroups *cg, uint64_t id);

/*
 * Walks the tree when a used id is new (unless walks are backing off
 * after one cut short), then forgets what the limits say to. An id a
 * complete walk did not find is remembered as unknown, so it is not
 * looked for again. Returns 0, or the -errno of a source that has no
 * tree (-ENOENT: no cgroup2 mount; -EMEDIUMTYPE: the mount is not
 * cgroup2; what open or reading mountinfo failed with): nothing can be
 * named then, and later reads fail the same way without a walk.
 */
int tcps_cgroups_resolve(struct tcps_cgroups *cg);

/* The key of id: an index below tcps_cgroups_keys(), the same for one
 * id within a read. An id not remembered (no room, walk cut short) has
 * the key of TCPS_CGROUP_UNKNOWN_NAME. */
size_t tcps_cgroups_key(const struct tcps_cgroups *cg, uint64_t id);
size_t tcps_cgroups_keys(const struct tcps_cgroups *cg);

/* The group name of a key: cleaned, never empty. */
const char *tcps_cgroups_name(const struct tcps_cgroups *cg, size_t key);

const struct tcps_cgroups_stats *
tcps_cgroups_stats(const struct tcps_cgroups *cg);

/* What every tcps_cgroups_resolve returns from now on: 0 while the tree
 * can be walked, or its -errno for good. */
int tcps_cgroups_error(const struct tcps_cgroups *cg);

/*
 * Reads one line of /proc/PID/mountinfo (len bytes, no NUL needed). For a
 * cgroup2 mount, writes its mount point and the cgroup path it shows
 * (octal escapes undone) to ret_dir and ret_root, each of size bytes,
 * and returns 0. Returns -ENOENT for another file system, -EINVAL for a
 * line that is not mountinfo, -ENAMETOOLONG when a path does not fit;
 * ret_dir and ret_root are untouched then.
 */
int tcps_mountinfo_cgroup2(const char *line, size_t len, char *ret_dir,
			   char *ret_root, size_t size);

#endif

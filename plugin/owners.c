/*
 * Socket inode -> process, by the links in /proc/PID/fd. The answer of
 * the last interval is confirmed with one readlink per socket; /proc is
 * scanned only for sockets still unknown, processes of the sockets' uids
 * first, and the scan stops as soon as every socket has an owner. What
 * the files of /proc say is read by procfs.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "tcpstates/owners.h"
#include "tcpstates/procfs.h"
#include "tcpstates/util.h"

#define LINK_MAX_TEXT 64
#define NAME_FILE_MAX 4096
#define QUERY_EXCUSED 1u     /* not looked for in this resolve */
#define QUERY_HELD_BEFORE 2u /* a remembered owner held it last time */

struct inode_slot {
	uint32_t inode; /* 0 = empty; first, as in missing_slot */
	int32_t query;
};

struct pid_slot {
	pid_t pid; /* 0 = empty */
	int32_t proc;
	bool scanned; /* its fd folder was read in this resolve */
};

/* A socket a complete scan did not find: looked for again only after
 * 1, 2, 4 ... 64 resolves, so a socket no process holds (kept by the
 * kernel, or by a process out of sight) does not cost a scan each time. */
struct missing_slot {
	uint32_t inode; /* 0 = empty; first, as in inode_slot */
	uint32_t misses;
	uint64_t retry_round;
};

struct missing_table {
	struct missing_slot *slots;
	size_t cap;
};

struct remembered {
	uint32_t inode;
	pid_t pid;
	int fd;
	uint64_t start_time;
	uint64_t cookie; /* a new socket reusing the inode is not this one */
};

struct remembered_list {
	struct remembered *items;
	size_t num, cap;
};

struct tcps_owners {
	char *proc_root;
	enum tcps_group_by group_by;
	uint32_t budget_ms; /* 0: no limit */
	int proc_fd;
	/* What crosses resolves. */
	uint64_t round; /* resolves so far: picks the sockets to confirm */
	struct remembered_list cache; /* the owners found last time */
	struct missing_table missing;
	pid_t resume_pid; /* where the last scan ran out of time: process */
	int resume_fd;	  /* and the first fd not read yet */
	/* The processes the last resolve met: its answer. */
	struct tcps_owner_proc *procs;
	size_t procs_num, procs_cap;
	/* Memory each resolve works in, kept for the next one so that a
	 * steady load allocates nothing; emptied as a resolve starts. */
	struct remembered_list next_cache; /* the owners found now */
	struct missing_table next_missing;
	struct inode_slot *inodes; /* inode -> query */
	size_t inodes_cap;
	struct pid_slot *pids; /* pid -> procs */
	size_t pids_cap;
	uid_t *uids; /* distinct uids of the sockets still looked for */
	size_t uids_cap;
	uint8_t *query_flags; /* per query: QUERY_* */
	size_t query_flags_cap;
};

/* One call of tcps_owners_resolve(), on its stack: what it was asked,
 * how much is left to find, and when it must stop. */
struct resolve {
	struct tcps_owner_query *queries;
	size_t count;
	struct tcps_owner_stats *stats;
	size_t remaining;     /* distinct sockets still looked for */
	size_t uids_num;      /* of owners->uids */
	uint64_t deadline_ms; /* CLOCK_MONOTONIC; 0: no limit */
	bool out_of_time;     /* the deadline has passed */
};

int tcps_owners_new(const char *proc_root, enum tcps_group_by group_by,
		    struct tcps_owners **ret)
{
	struct tcps_owners *owners = calloc(1, sizeof(*owners));

	if (!owners)
		return -ENOMEM;
	owners->proc_root = strdup(proc_root);
	owners->group_by = group_by;
	owners->proc_fd = -1;
	if (!owners->proc_root) {
		free(owners);
		return -ENOMEM;
	}
	*ret = owners;
	return 0;
}

void tcps_owners_free(struct tcps_owners *owners)
{
	if (!owners)
		return;
	if (owners->proc_fd >= 0)
		close(owners->proc_fd);
	free(owners->proc_root);
	free(owners->inodes);
	free(owners->pids);
	free(owners->procs);
	free(owners->cache.items);
	free(owners->next_cache.items);
	free(owners->uids);
	free(owners->query_flags);
	free(owners->missing.slots);
	free(owners->next_missing.slots);
	free(owners);
}

void tcps_owners_set_budget(struct tcps_owners *owners, uint32_t budget_ms)
{
	owners->budget_ms = budget_ms;
}

size_t tcps_owners_memory(const struct tcps_owners *owners)
{
	return owners->inodes_cap * sizeof(*owners->inodes) +
	       owners->pids_cap * sizeof(*owners->pids) +
	       owners->procs_cap * sizeof(*owners->procs) +
	       owners->uids_cap * sizeof(*owners->uids) +
	       owners->query_flags_cap * sizeof(*owners->query_flags) +
	       (owners->cache.cap + owners->next_cache.cap) *
		       sizeof(struct remembered) +
	       (owners->missing.cap + owners->next_missing.cap) *
		       sizeof(struct missing_slot);
}

size_t tcps_owners_procs_num(const struct tcps_owners *owners)
{
	return owners->procs_num;
}

const struct tcps_owner_proc *tcps_owners_proc(const struct tcps_owners *owners,
					       int32_t index)
{
	if (index < 0 || (size_t)index >= owners->procs_num)
		return NULL;
	return &owners->procs[index];
}

static size_t table_size_for(size_t count)
{
	size_t cap = 16;

	while (cap < count * 2)
		cap <<= 1;
	return cap;
}

/* Sizes a hash table for want slots and zeroes it; contents are
 * discarded. A table four times larger than needed (after a burst) is
 * replaced by a smaller one when memory allows. */
static int reserve_table(void **table, size_t *cap, size_t want,
			 size_t elem_size)
{
	if (*cap < want || *cap > want * 4) {
		void *fresh = calloc(want, elem_size);

		if (fresh) {
			free(*table);
			*table = fresh;
			*cap = want;
			return 0;
		}
		if (*cap < want)
			return -ENOMEM;
	}
	memset(*table, 0, *cap * elem_size);
	return 0;
}

/* Probe stops (tcps_probe) of the tables keyed by inode (their slots
 * start with it) or by pid. */
static bool inode_slot_stop(const void *slot, const void *key)
{
	uint32_t inode = *(const uint32_t *)slot;

	return inode == 0 || inode == *(const uint32_t *)key;
}

static bool pid_slot_stop(const void *slot, const void *key)
{
	pid_t pid = ((const struct pid_slot *)slot)->pid;

	return pid == 0 || pid == *(const pid_t *)key;
}

/* The inode's slot in the query index, or the empty one it would take. */
static struct inode_slot *inode_slot(const struct tcps_owners *owners,
				     uint32_t inode)
{
	return &owners->inodes[tcps_probe(
		owners->inodes, sizeof(*owners->inodes), owners->inodes_cap,
		tcps_mix32(inode), inode_slot_stop, &inode)];
}

static int32_t find_query(const struct tcps_owners *owners, uint32_t inode)
{
	const struct inode_slot *slot = inode_slot(owners, inode);

	return slot->inode == inode ? slot->query : -1;
}

static void index_queries(struct tcps_owners *owners, struct resolve *resolve)
{
	resolve->remaining = 0;
	for (size_t q = 0; q < resolve->count; q++) {
		uint32_t inode = resolve->queries[q].inode;
		struct inode_slot *slot;

		resolve->queries[q].owner = -1;
		owners->query_flags[q] = 0;
		if (inode == 0)
			continue;
		slot = inode_slot(owners, inode);
		if (slot->inode == inode)
			continue; /* the same socket twice: counted once */
		slot->inode = inode;
		slot->query = (int32_t)q;
		resolve->remaining++;
	}
}

static void group_from_exe(int proc_fd, const char *pid_text, char *group)
{
	char path[32], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/exe", pid_text);
	n = readlinkat(proc_fd, path, target, sizeof(target));
	if (n <= 0) {
		group[0] = '\0';
		return;
	}
	tcps_exe_name(target, (size_t)n, group);
}

static void read_group(const struct tcps_owners *owners, pid_t pid, char *group)
{
	char path[32], pid_text[16], buf[NAME_FILE_MAX];
	ssize_t n;

	snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
	if (owners->group_by == TCPS_GROUP_EXE) {
		group_from_exe(owners->proc_fd, pid_text, group);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", pid_text,
		 owners->group_by == TCPS_GROUP_UNIT ? "cgroup" : "comm");
	n = tcps_read_small_at(owners->proc_fd, path, buf, sizeof(buf));
	if (n <= 0) {
		group[0] = '\0'; /* gone or unreadable: counted as unknown */
		return;
	}
	if (owners->group_by == TCPS_GROUP_UNIT) {
		tcps_unit_from_cgroup(buf, (size_t)n, group);
		return;
	}
	tcps_comm_name(buf, (size_t)n, group);
}

/* The start time of a living process; 0 when it is gone, unreadable or
 * a zombie (exited, not yet reaped: its fds are closed, so what it held
 * is elsewhere now). */
static uint64_t read_start_time(int proc_fd, pid_t pid)
{
	char path[32], buf[1024];
	ssize_t n;

	snprintf(path, sizeof(path), "%d/stat", (int)pid);
	n = tcps_read_small_at(proc_fd, path, buf, sizeof(buf));
	if (n <= 0 || tcps_stat_is_zombie(buf, (size_t)n))
		return 0;
	return tcps_parse_start_time(buf, (size_t)n);
}

static struct pid_slot *pid_slot(const struct tcps_owners *owners, pid_t pid)
{
	return &owners->pids[tcps_probe(
		owners->pids, sizeof(*owners->pids), owners->pids_cap,
		tcps_mix32((uint32_t)pid), pid_slot_stop, &pid)];
}

/* The proc entry of pid for this resolve, created on first use. */
static int32_t proc_index(struct tcps_owners *owners, pid_t pid)
{
	struct pid_slot *slot = pid_slot(owners, pid);
	struct tcps_owner_proc *proc;

	if (slot->pid == pid)
		return slot->proc;
	/* procs_cap >= 2 * queries, pids_cap >= 2 * procs_cap: never full. */
	proc = &owners->procs[owners->procs_num];
	proc->pid = pid;
	proc->start_time = read_start_time(owners->proc_fd, pid);
	read_group(owners, pid, proc->group);
	slot->pid = pid;
	slot->proc = (int32_t)owners->procs_num;
	return (int32_t)owners->procs_num++;
}

static void attribute(struct tcps_owners *owners, struct resolve *resolve,
		      int32_t q, pid_t pid, int fd)
{
	struct tcps_owner_query *query = &resolve->queries[q];
	struct remembered *found =
		&owners->next_cache.items[owners->next_cache.num++];

	query->owner = proc_index(owners, pid);
	if (!(owners->query_flags[q] & QUERY_EXCUSED))
		resolve->remaining--;
	found->inode = query->inode;
	found->pid = pid;
	found->fd = fd;
	found->start_time = owners->procs[query->owner].start_time;
	found->cookie = query->cookie;
}

/* The socket inode behind one fd link, or 0. */
static uint32_t link_inode(int dir_fd, const char *name,
			   struct tcps_owner_stats *stats)
{
	char text[LINK_MAX_TEXT];
	uint32_t inode;
	ssize_t n;

	stats->links_read++;
	n = readlinkat(dir_fd, name, text, sizeof(text));
	if (n <= 0 || (size_t)n >= sizeof(text))
		return 0;
	if (tcps_parse_socket_link(text, (size_t)n, &inode) != 0)
		return 0;
	return inode;
}

/* Whether last time's owner still holds the socket. A process that
 * lives on (same start time: not a reused pid) is trusted; one socket in
 * TCPS_OWNERS_VERIFY_EVERY, rotating, is confirmed by its fd link. */
static bool still_held(struct tcps_owners *owners, struct resolve *resolve,
		       const struct remembered *last)
{
	const struct tcps_owner_proc *proc =
		&owners->procs[proc_index(owners, last->pid)];
	char path[48];

	if (proc->start_time == 0 || proc->start_time != last->start_time)
		return false;
	if ((last->inode + owners->round) % TCPS_OWNERS_VERIFY_EVERY != 0)
		return true;
	snprintf(path, sizeof(path), "%d/fd/%d", (int)last->pid, last->fd);
	return link_inode(owners->proc_fd, path, resolve->stats) == last->inode;
}

static void confirm_remembered(struct tcps_owners *owners,
			       struct resolve *resolve)
{
	for (size_t i = 0; i < owners->cache.num && resolve->remaining > 0;
	     i++) {
		const struct remembered *last = &owners->cache.items[i];
		int32_t q = find_query(owners, last->inode);

		/* A new socket that got the inode number was never held by
		 * the remembered owner: it is searched for as any new one. */
		if (q < 0 || resolve->queries[q].owner >= 0 ||
		    resolve->queries[q].cookie != last->cookie)
			continue;
		owners->query_flags[q] |= QUERY_HELD_BEFORE;
		if (!still_held(owners, resolve, last))
			continue;
		resolve->stats->cache_hits++;
		attribute(owners, resolve, q, last->pid, last->fd);
	}
}

static int parse_pid(const char *name, pid_t *ret)
{
	const char *end = name + strlen(name);
	uint64_t value;

	if (tcps_parse_decimal(name, end, INT_MAX, &value) != end || value == 0)
		return -EINVAL;
	*ret = (pid_t)value;
	return 0;
}

/* Gives budget_ms (0: no limit) from now to what follows. */
static void start_clock(struct resolve *resolve, uint32_t budget_ms)
{
	resolve->deadline_ms = budget_ms ? tcps_monotonic_ms() + budget_ms : 0;
	resolve->out_of_time = false;
}

/* The scan budget is spent: the rest waits for the next resolve. */
static bool out_of_time(struct resolve *resolve)
{
	if (resolve->deadline_ms == 0)
		return false;
	if (!resolve->out_of_time &&
	    tcps_monotonic_ms() >= resolve->deadline_ms)
		resolve->out_of_time = true;
	return resolve->out_of_time;
}

static DIR *open_fd_folder(const struct tcps_owners *owners,
			   struct resolve *resolve, pid_t pid)
{
	char path[32];
	DIR *dir;
	int fd;

	snprintf(path, sizeof(path), "%d/fd", (int)pid);
	fd = openat(owners->proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == EACCES || errno == EPERM)
			resolve->stats->denied++;
		return NULL; /* also: the process exited meanwhile */
	}
	dir = fdopendir(fd);
	if (!dir)
		close(fd);
	return dir;
}

/* The fd number an fd folder entry names; -1 for anything else. Called
 * for every open file of a scanned process: no strtol. */
static int fd_number(const char *name)
{
	const char *end = name + strlen(name);
	uint64_t fd;

	if (tcps_parse_decimal(name, end, INT_MAX, &fd) != end)
		return -1;
	return (int)fd;
}

/*
 * Reads one process's fd links. Returns false when time ran out. A
 * resumable scan starts at the fd where the last one stopped in this
 * process and records where it stops (procfs lists fds in order).
 */
static bool scan_fds(struct tcps_owners *owners, struct resolve *resolve,
		     pid_t pid, bool resumable)
{
	int first =
		resumable && pid == owners->resume_pid ? owners->resume_fd : 0;
	struct dirent *entry;
	unsigned int seen = 0;
	DIR *dir = open_fd_folder(owners, resolve, pid);

	if (!dir)
		return true;
	resolve->stats->procs_scanned++;
	while (resolve->remaining > 0 && (entry = readdir(dir))) {
		int fd = fd_number(entry->d_name);
		uint32_t inode;
		int32_t q;

		if (fd < 0 || fd < first)
			continue;
		/* Huge fd tables exist: look at the clock now and then. */
		if (++seen % 256 == 0 && out_of_time(resolve)) {
			if (resumable) {
				owners->resume_pid = pid;
				owners->resume_fd = fd;
			}
			break;
		}
		inode = link_inode(dirfd(dir), entry->d_name, resolve->stats);
		q = inode ? find_query(owners, inode) : -1;
		if (q >= 0 && resolve->queries[q].owner < 0)
			attribute(owners, resolve, q, pid, fd);
	}
	closedir(dir);
	return !resolve->out_of_time;
}

static bool uid_wanted(const struct tcps_owners *owners,
		       const struct resolve *resolve, uid_t uid)
{
	for (size_t i = 0; i < resolve->uids_num; i++)
		if (owners->uids[i] == uid)
			return true;
	return false;
}

/* Distinct uids of the sockets still without an owner. */
static void collect_uids(struct tcps_owners *owners, struct resolve *resolve)
{
	resolve->uids_num = 0;
	for (size_t q = 0; q < resolve->count; q++) {
		const struct tcps_owner_query *query = &resolve->queries[q];

		if (query->inode == 0 || query->owner >= 0 ||
		    uid_wanted(owners, resolve, query->uid))
			continue;
		owners->uids[resolve->uids_num++] = query->uid;
	}
}

/* Scans one process unless it was scanned already in this resolve or
 * is not the kind this pass wants. Returns false when time ran out. */
static bool visit_process(struct tcps_owners *owners, struct resolve *resolve,
			  const char *name, pid_t pid, bool narrow)
{
	struct pid_slot *slot = pid_slot(owners, pid);
	struct stat st;

	if (slot->pid == pid && slot->scanned)
		return true;
	if (fstatat(owners->proc_fd, name, &st, 0) != 0)
		return true; /* exited */
	if (uid_wanted(owners, resolve, st.st_uid) != narrow)
		return true;
	if (out_of_time(resolve)) {
		owners->resume_pid = pid;
		owners->resume_fd = 0;
		return false;
	}
	return scan_fds(owners, resolve, pid, true);
}

/* Visits the processes listed in dir from pid start on, then those
 * below it. Returns false when time ran out. */
static bool sweep(struct tcps_owners *owners, struct resolve *resolve, DIR *dir,
		  pid_t start, bool narrow)
{
	struct dirent *entry;

	for (int pass = 0; pass < 2 && resolve->remaining > 0; pass++) {
		/* The duplicate shares its position with proc_fd. */
		rewinddir(dir);
		while (resolve->remaining > 0 && (entry = readdir(dir))) {
			pid_t pid;

			if (parse_pid(entry->d_name, &pid) != 0 ||
			    (pass == 0) != (pid >= start))
				continue;
			if (!visit_process(owners, resolve, entry->d_name, pid,
					   narrow))
				return false;
		}
	}
	return true;
}

/*
 * narrow: only processes whose /proc/PID belongs to a wanted uid;
 * otherwise only the others (the narrow pass already saw those). The
 * sweep starts where the last one ran out of time and wraps around, so a
 * scan cut short by the budget makes progress from one resolve to the
 * next.
 */
static int scan_processes(struct tcps_owners *owners, struct resolve *resolve,
			  bool narrow)
{
	DIR *dir;
	int fd = dup(owners->proc_fd);

	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	if (sweep(owners, resolve, dir, owners->resume_pid, narrow)) {
		owners->resume_pid = 0;
		owners->resume_fd = 0;
	}
	closedir(dir);
	return 0;
}

/* The processes that held tracked sockets last time are the likeliest
 * owners of new ones (a leaking program keeps leaking): read them first,
 * on a budget of their own so that a huge one cannot starve the scan. */
static void scan_known_owners(struct tcps_owners *owners,
			      struct resolve *resolve)
{
	size_t known = owners->procs_num;

	for (size_t i = 0; i < known && resolve->remaining > 0; i++) {
		struct pid_slot *slot = pid_slot(owners, owners->procs[i].pid);

		if (owners->procs[i].start_time == 0 || slot->scanned)
			continue;
		if (!scan_fds(owners, resolve, owners->procs[i].pid, false))
			break;
		slot->scanned = true; /* read through: not again this time */
	}
}

/* Tables for one resolve of count queries, grown or shrunk to fit. The
 * remembered owners of the last resolve (cache.num) are kept. */
static int reserve(struct tcps_owners *owners, size_t count)
{
	/* Every query meets at most one remembered pid and one found pid. */
	size_t procs = count * 2;
	size_t cached = owners->cache.num > count ? owners->cache.num : count;

	if (reserve_table((void **)&owners->inodes, &owners->inodes_cap,
			  table_size_for(count),
			  sizeof(*owners->inodes)) != 0 ||
	    reserve_table((void **)&owners->pids, &owners->pids_cap,
			  table_size_for(procs), sizeof(*owners->pids)) != 0)
		return -ENOMEM;
	if (tcps_fit((void **)&owners->procs, &owners->procs_cap, procs,
		     sizeof(*owners->procs)) != 0 ||
	    tcps_fit((void **)&owners->uids, &owners->uids_cap, count,
		     sizeof(*owners->uids)) != 0)
		return -ENOMEM;
	if (tcps_fit((void **)&owners->query_flags, &owners->query_flags_cap,
		     count, sizeof(*owners->query_flags)) != 0)
		return -ENOMEM;
	if (tcps_fit((void **)&owners->cache.items, &owners->cache.cap, cached,
		     sizeof(struct remembered)) != 0 ||
	    tcps_fit((void **)&owners->next_cache.items,
		     &owners->next_cache.cap, count,
		     sizeof(struct remembered)) != 0)
		return -ENOMEM;
	return 0;
}

static int open_proc(struct tcps_owners *owners)
{
	if (owners->proc_fd >= 0)
		return 0;
	owners->proc_fd =
		open(owners->proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return owners->proc_fd < 0 ? -errno : 0;
}

static struct missing_slot *missing_find(const struct missing_table *table,
					 uint32_t inode)
{
	if (table->cap == 0)
		return NULL;
	return &table->slots[tcps_probe(table->slots, sizeof(*table->slots),
					table->cap, tcps_mix32(inode),
					inode_slot_stop, &inode)];
}

/* Whether query q is the one the query index holds for its socket (a
 * socket listed twice is looked for once, under its first query). */
static bool indexed(const struct tcps_owners *owners,
		    const struct resolve *resolve, size_t q)
{
	return find_query(owners, resolve->queries[q].inode) == (int32_t)q;
}

/* Sockets a recent complete scan did not find, not due again yet, are
 * not looked for: they stay without an owner for now. */
static void excuse_missing(struct tcps_owners *owners, struct resolve *resolve)
{
	for (size_t q = 0; q < resolve->count; q++) {
		const struct tcps_owner_query *query = &resolve->queries[q];
		const struct missing_slot *miss;

		if (query->inode == 0 || query->owner >= 0 ||
		    !indexed(owners, resolve, q))
			continue;
		miss = missing_find(&owners->missing, query->inode);
		if (!miss || miss->inode == 0 ||
		    miss->retry_round <= owners->round)
			continue;
		owners->query_flags[q] |= QUERY_EXCUSED;
		resolve->remaining--;
		resolve->stats->excused++;
	}
}

static void remember_one_missing(struct tcps_owners *owners, size_t q,
				 uint32_t inode, bool complete)
{
	struct missing_slot *old = missing_find(&owners->missing, inode);
	struct missing_slot *next = missing_find(&owners->next_missing, inode);
	uint32_t misses;

	if (old && old->inode == 0)
		old = NULL;
	if ((owners->query_flags[q] & QUERY_EXCUSED) || !complete) {
		if (old)
			*next = *old; /* not searched this time: no new miss */
		return;
	}
	/* A socket whose owner let go of it is on the move (passed to a
	 * process the scan had listed already, or started after it): look
	 * again at the next resolve before backing off. */
	if (old)
		misses = old->misses + 1;
	else
		misses = (owners->query_flags[q] & QUERY_HELD_BEFORE) ? 0 : 1;
	next->inode = inode;
	next->misses = misses;
	next->retry_round = owners->round + (1u << (misses < 6 ? misses : 6));
}

/* Carries the missing sockets still present into the next resolve. */
static int remember_missing(struct tcps_owners *owners,
			    const struct resolve *resolve, bool complete)
{
	struct missing_table last;

	if (reserve_table((void **)&owners->next_missing.slots,
			  &owners->next_missing.cap,
			  table_size_for(resolve->count),
			  sizeof(struct missing_slot)) != 0)
		return -ENOMEM;
	for (size_t q = 0; q < resolve->count; q++)
		if (resolve->queries[q].inode != 0 &&
		    resolve->queries[q].owner < 0 &&
		    indexed(owners, resolve, q))
			remember_one_missing(
				owners, q, resolve->queries[q].inode, complete);
	last = owners->missing;
	owners->missing = owners->next_missing;
	owners->next_missing = last;
	return 0;
}

static int search(struct tcps_owners *owners, struct resolve *resolve)
{
	uint32_t budget_ms = owners->budget_ms;
	int ret = 0;

	index_queries(owners, resolve);
	confirm_remembered(owners, resolve);
	excuse_missing(owners, resolve);
	/* Half the budget for the known owners, the whole of it after. */
	start_clock(resolve, budget_ms / 2 + budget_ms % 2);
	scan_known_owners(owners, resolve);
	start_clock(resolve, budget_ms);
	if (resolve->remaining > 0 && !resolve->out_of_time) {
		collect_uids(owners, resolve);
		ret = scan_processes(owners, resolve, true);
	}
	if (ret == 0 && resolve->remaining > 0 && !resolve->out_of_time) {
		resolve->stats->full_scan = true;
		ret = scan_processes(owners, resolve, false);
	}
	if (ret == 0)
		ret = remember_missing(owners, resolve, !resolve->out_of_time);
	resolve->stats->out_of_time = resolve->out_of_time;
	return ret;
}

int tcps_owners_resolve(struct tcps_owners *owners,
			struct tcps_owner_query *queries, size_t count,
			struct tcps_owner_stats *stats)
{
	struct resolve resolve = { .queries = queries,
				   .count = count,
				   .stats = stats };
	struct remembered_list last;
	int ret = 0;

	memset(stats, 0, sizeof(*stats));
	owners->procs_num = 0;
	owners->next_cache.num = 0;
	/* Even with nothing to find: the tables fall back after a burst. */
	ret = reserve(owners, count);
	if (ret == 0 && count > 0)
		ret = open_proc(owners);
	if (ret < 0) {
		owners->cache.num = 0;
		for (size_t q = 0; q < count; q++)
			queries[q].owner = -1;
		stats->unattributed = count;
		return ret;
	}
	owners->round++;
	ret = search(owners, &resolve);
	stats->unattributed = 0;
	for (size_t q = 0; q < count; q++)
		stats->unattributed +=
			queries[q].inode != 0 && queries[q].owner < 0;
	last = owners->cache;
	owners->cache = owners->next_cache;
	owners->next_cache = last;
	return ret;
}

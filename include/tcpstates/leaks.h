/*
 * The leak finder: which process groups hold sockets in the tracked
 * states (CLOSE_WAIT by default), how many, how old, how much unread.
 */
#ifndef TCPSTATES_LEAKS_H
#define TCPSTATES_LEAKS_H

#include <stdint.h>

#include "tcpstates/cgroups.h"
#include "tcpstates/owners.h"
#include "tcpstates/record.h"
#include "tcpstates/sink.h"

struct tcps_leaks_config {
	uint32_t state_mask;  /* 1 << state for every ProcessStates state */
	uint32_t top_n;	      /* TopProcesses: named groups; others "-other" */
	uint32_t max_tracked; /* MaxTrackedSockets: bound of the age table */
	uint32_t threshold;   /* LeakThreshold, sockets; 0 = off */
	uint32_t max_age_s;   /* LeakAge, seconds; 0 = off */
	enum tcps_group_by group_by;
	uint32_t scan_budget_ms; /* ProcessScanBudget; 0 = no limit */
	const char *proc_root;	 /* copied */
	/* GroupBy "cgroup": where cgroups come from; NULL for the cgroup2
	 * tree in <proc_root>/self/mountinfo (tests script one). */
	const struct tcps_cgroups_source *cgroups_source;
	/* GroupBy "cgroup" with one map for several namespaces (Discover;
	 * borrowed, NULL: a map of its own). Its owner drives each read:
	 * tcps_cgroups_begin before any namespace's tcps_leaks_prepare,
	 * which only marks its ids used, tcps_cgroups_resolve after the
	 * last, before any tcps_leaks_finish, which takes the keys. */
	struct tcps_cgroups *shared_cgroups;
};

struct tcps_leaks_stats {
	struct tcps_owner_stats owners; /* of the last resolve */
	uint64_t candidates;		/* sockets in tracked states */
	uint64_t candidates_capacity;	/* room kept for them */
	uint64_t owners_memory;		/* bytes of the owner search */
	uint64_t untracked; /* sockets the age table had no room for */
	int resolve_error;  /* -errno of the last resolve, or 0 */
	/* GroupBy "cgroup" gave way to "comm" at this read, for good (set
	 * at that one read only): -ENODATA, full sockets in tracked states
	 * came without cgroup ids (a kernel before 5.8); else no cgroup2
	 * tree could be walked (tcps_cgroups_resolve: -ENOENT cgroup v1
	 * only). 0 otherwise. */
	int cgroup_fallback;
	struct tcps_cgroups_stats cgroups; /* GroupBy "cgroup": the map */
	/* CPU time of the calling thread in the last tcps_leaks_end(): the
	 * leak finder's own cost beyond the dump, for the benchmark. */
	uint64_t end_cpu_ns;
};

struct tcps_leaks;

int tcps_leaks_new(const struct tcps_leaks_config *cfg,
		   struct tcps_leaks **ret);
void tcps_leaks_free(struct tcps_leaks *leaks);

void tcps_leaks_begin(struct tcps_leaks *leaks);
void tcps_leaks_observe(struct tcps_leaks *leaks,
			const struct tcps_record *rec);
/* After a failed dump: forget the interval, keep ages and alarms. */
void tcps_leaks_abort(struct tcps_leaks *leaks);

/*
 * After a successful dump: finds owners, ages the sockets (now_ms is a
 * monotonic clock), emits per-group values and leak notifications.
 * Returns 0, or -errno when memory ran out (values are still emitted,
 * with the owners that could not be found under "unknown").
 */
int tcps_leaks_end(struct tcps_leaks *leaks, uint64_t now_ms,
		   const struct tcps_sink *sink);

/*
 * tcps_leaks_end in two halves, around an owner search shared with other
 * namespaces (Discover: socket inodes are unique host-wide, so one
 * resolve of every namespace's queries serves them all).
 * tcps_leaks_prepare ages this interval's sockets and gives the owner
 * queries they need (*ret points inside the leak finder, valid until
 * tcps_leaks_finish). Returns 0 or -ENOMEM (then no queries).
 * tcps_leaks_finish takes the search whose last resolve wrote the
 * queries' owners, what that resolve returned (or -ENOMEM from prepare)
 * and its stats, and groups, emits and notifies as tcps_leaks_end.
 */
int tcps_leaks_prepare(struct tcps_leaks *leaks, uint64_t now_ms,
		       struct tcps_owner_query **ret, size_t *ret_num);
int tcps_leaks_finish(struct tcps_leaks *leaks,
		      const struct tcps_owners *owners, int resolve_error,
		      const struct tcps_owner_stats *stats, uint64_t now_ms,
		      const struct tcps_sink *sink);

const struct tcps_leaks_stats *tcps_leaks_stats(const struct tcps_leaks *leaks);

#endif

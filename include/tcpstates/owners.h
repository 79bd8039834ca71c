/* Which process holds a socket: /proc/PID/fd links, with a cache. */
#ifndef TCPSTATES_OWNERS_H
#define TCPSTATES_OWNERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tcpstates/names.h"

enum tcps_group_by {
	TCPS_GROUP_COMM, /* /proc/PID/comm */
	TCPS_GROUP_EXE,	 /* file name of /proc/PID/exe */
	TCPS_GROUP_UNIT, /* last component of the cgroup v2 path */
	/* The socket's own cgroup (leaks.c, cgroups.h): no owner search;
	 * the owner search treats it as TCPS_GROUP_COMM. */
	TCPS_GROUP_CGROUP,
};

/* One socket to attribute. owner is written: an index for
 * tcps_owners_proc(), or -1 when no owner was found. cookie tells a
 * socket from a newer one that got the same inode number: a remembered
 * owner is trusted only for the socket it held. */
struct tcps_owner_query {
	uint32_t inode;
	uint32_t uid;
	uint64_t cookie;
	int32_t owner;
};

struct tcps_owner_proc {
	pid_t pid;
	uint64_t start_time; /* /proc/PID/stat field 22; 0 if unreadable */
	char group[TCPS_NAME_MAX + 1]; /* cleaned; "" if unreadable */
};

/* A remembered owner is trusted while its process lives on (same pid,
 * same start time) and the socket is the same (same inode and cookie);
 * one socket in this many is still confirmed with a
 * readlink each interval, so a socket handed to another process is
 * found again within that many intervals. */
#define TCPS_OWNERS_VERIFY_EVERY 32

/* What one resolve did, for logs and the benchmark. */
struct tcps_owner_stats {
	uint64_t cache_hits;	/* sockets whose remembered owner held */
	uint64_t procs_scanned; /* fd folders listed */
	uint64_t links_read;	/* readlink calls */
	uint64_t denied;	/* fd folders we may not read */
	bool full_scan;		/* the uid-narrowed scan was not enough */
	bool out_of_time;	/* the scan budget ran out: resumed next time */
	uint64_t excused;	/* not looked for: a recent scan missed them */
	uint64_t unattributed;	/* sockets left without an owner */
};

struct tcps_owners;

/* proc_root is copied ("/proc" on a real system). Returns 0 or -errno. */
int tcps_owners_new(const char *proc_root, enum tcps_group_by group_by,
		    struct tcps_owners **ret);
void tcps_owners_free(struct tcps_owners *owners);

/* Wall-clock milliseconds one resolve may spend scanning /proc (0: no
 * limit). A scan cut short resumes where it stopped at the next resolve;
 * sockets not reached meanwhile have no owner. */
void tcps_owners_set_budget(struct tcps_owners *owners, uint32_t budget_ms);

/*
 * Finds the owner of every query with a non-zero inode: first the owner
 * remembered from the last call (kept while that process lives on, and
 * for a rotating share of sockets confirmed with a readlink), then a
 * scan of processes owned by the sockets' uids, then, only if sockets are
 * still unattributed, of all other processes; stops as soon as every
 * socket is attributed. The processes that held tracked sockets last
 * time are read first. A socket a complete scan did not find is looked
 * for again only after 2, 4 ... 64 resolves. Processes that exit
 * meanwhile are skipped.
 * Returns 0 or -errno (-ENOMEM; /proc unreadable gives -errno of opendir).
 */
int tcps_owners_resolve(struct tcps_owners *owners,
			struct tcps_owner_query *queries, size_t count,
			struct tcps_owner_stats *stats);

/* Bytes held by the owner search's tables: they follow the last
 * resolves' needs, and fall back after a burst. */
size_t tcps_owners_memory(const struct tcps_owners *owners);

/* How many processes the last resolve met: every owner index it wrote
 * is below this. A resolve can meet more processes than it has queries
 * (a remembered owner that no longer holds the socket, then the one that
 * does), so size anything indexed by owner with this, after the resolve. */
size_t tcps_owners_procs_num(const struct tcps_owners *owners);

/* The process behind an owner index of the last resolve, or NULL. */
const struct tcps_owner_proc *tcps_owners_proc(const struct tcps_owners *owners,
					       int32_t index);

#endif

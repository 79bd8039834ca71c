/*
 * What the leak finder may say about the fuzz-leaks world, checked after
 * every read; a broken promise abort()s, which libFuzzer reports as a
 * crash with the script that led to it.
 *
 * Per tracked state, after every read:
 *  - the groups (named, -other, -unknown) add up to the sockets
 *    observed, and their unread bytes to the bytes observed;
 *  - a named group holds no more sockets than there are sockets in that
 *    state which a live process of that name ever held (per inode and
 *    cookie); -other likewise with the names not emitted; together no
 *    more than the sockets some live process ever held;
 *  - with no scan budget: a socket its holders list in readable fd
 *    folders (and no recent scan missed) is not left to -unknown;
 *  - an age never exceeds the time the oldest possible member stayed in
 *    the state by its cookie, and does not go back while a group's
 *    possible members stay the same;
 *  - named groups at most TopProcesses, -other only past them, a
 *    group gone since the last read sent as zeros once;
 *  - WARNING and OKAY alternate per (group, state), OKAY never first, a
 *    WARNING only where a limit is crossed, none outstanding where the
 *    group no longer can be leaking, none missing where the age says so;
 *  - the candidate array and the owner search's tables stay within what
 *    this read and the last one need (so they fall back after a burst).
 */
#ifndef TCPSTATES_FUZZ_LEAKS_ORACLE_H
#define TCPSTATES_FUZZ_LEAKS_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leaks_world.h"
#include "tcpstates/leaks.h"
#include "tcpstates/record.h"

#define ORACLE_RECORDS (2 * WORLD_SOCKS)
#define ORACLE_VIEWS 32
#define ORACLE_NOTES 128
#define ORACLE_INSTANCE_MAX 80

/* One record of the world's sockets as the read fed it. */
struct oracle_record {
	uint32_t inode;
	uint64_t cookie;
	uint8_t state; /* kernel state number */
	uint32_t unread;
	bool first; /* false: the second listing of a socket */
};

/* What one read fed the leak finder. */
struct oracle_read {
	uint64_t now_ms;
	struct oracle_record recs[ORACLE_RECORDS];
	size_t recs_num;
	/* Orphans of a burst: inode 0, a cookie never seen again. */
	uint64_t burst;
	uint8_t burst_state;
};

/* One group as emitted this read. */
struct oracle_view {
	char instance[ORACLE_INSTANCE_MAX];
	double count[TCPS_STATE_COUNT], duration[TCPS_STATE_COUNT],
		bytes[TCPS_STATE_COUNT];
	uint8_t have[TCPS_STATE_COUNT]; /* bit per type: count, age, bytes */
	/* Of its possible members: how many, a digest of their cookies,
	 * whether the digest identifies them (cookies unique, non-zero),
	 * since when the oldest stayed in the state, and how many were
	 * seen at the last read too (the most that can count as settled). */
	uint64_t members[TCPS_STATE_COUNT];
	uint64_t digest[TCPS_STATE_COUNT];
	bool digest_ok[TCPS_STATE_COUNT];
	uint64_t oldest_ms[TCPS_STATE_COUNT];
	uint64_t settled[TCPS_STATE_COUNT];
};

struct oracle_note {
	int severity;
	int state;
	char instance[ORACLE_INSTANCE_MAX];
};

struct oracle_alarm {
	char instance[ORACLE_INSTANCE_MAX];
	int state;
};

struct oracle {
	struct tcps_leaks_config cfg;
	bool trace;	/* FUZZ_LEAKS_TRACE set: print what each read sent */
	uint64_t reads; /* completed reads of this script */
	struct oracle_view views[ORACLE_VIEWS], last_views[ORACLE_VIEWS];
	size_t views_num, last_views_num;
	struct oracle_note notes[ORACLE_NOTES];
	size_t notes_num;
	/* (group, state) pairs whose WARNING is out and OKAY not yet. */
	struct oracle_alarm alarms[ORACLE_VIEWS * TCPS_STATE_COUNT];
	size_t alarms_num;
	/* Per (cookie, state): seen at the last read, since when in a row. */
	bool seen_last[WORLD_COOKIES][TCPS_STATE_COUNT];
	uint64_t since_ms[WORLD_COOKIES][TCPS_STATE_COUNT];
	uint32_t cookie_uses_last[WORLD_COOKIES];
	/* Per inode: listed at the last read; the read its current run of
	 * listings began; the last read no readable fd folder showed it. */
	bool inode_last[WORLD_INODES + 1];
	uint64_t run_start[WORLD_INODES + 1];
	int64_t unfindable[WORLD_INODES + 1];
	uint64_t cands_left;	/* the leak finder's candidates now */
	uint64_t begin_left;	/* and when this read began */
	uint64_t last_resolved; /* candidates of the last completed read */
};

void oracle_start(struct oracle *o, const struct tcps_leaks_config *cfg);
/* The sink to hand tcps_leaks_end(): it records and checks the form of
 * every value and notification. */
struct tcps_sink oracle_sink(struct oracle *o);
/* Before tcps_leaks_begin() of a read at now_ms. */
void oracle_begin(struct oracle *o, uint64_t now_ms);
/* After a read the leak finder dropped (tcps_leaks_abort()). */
void oracle_aborted(struct oracle *o);
/* After tcps_leaks_end() returned end_ret: every check above. */
void oracle_check(struct oracle *o, const struct world *w,
		  const struct oracle_read *in,
		  const struct tcps_leaks_stats *st, int end_ret);

#endif

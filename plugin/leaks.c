/*
 * The leak finder. Every interval: keep the sockets in tracked states
 * (candidates), find their owners (or, with GroupBy "cgroup", their
 * cgroups), age them by socket cookie across intervals, group them by
 * name, rank, emit, and raise or clear leak notifications.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "tcpstates/ages.h"
#include "tcpstates/cgroups.h"
#include "tcpstates/leaks.h"
#include "tcpstates/tally.h"
#include "tcpstates/util.h"

/* The groups beyond TopProcesses and the sockets whose owner was not
 * found. A cleaned name never starts with '-': no process takes these. */
#define GROUP_OTHER "-other"
#define GROUP_UNKNOWN "-unknown"
#define GROUP_NAME_MAX (TCPS_NAME_MAX + 1)
#define SET_MAX 32	  /* "proc_<state>" */
#define MESSAGE_MAX 256	  /* collectd's notification message size */
#define SHRINK_ABOVE 4096 /* candidates kept however few are tracked */
#define NO_GROUP (-1)	  /* group_of_key: the key has no group yet */

struct candidate {
	uint64_t cookie;
	uint64_t first_seen_ms;
	uint64_t cgroup_id;
	uint32_t inode, uid, unread;
	uint8_t state, family;
	bool settled; /* in this state at the last read too */
	uint16_t local_port, remote_port;
	uint8_t local_addr[16], remote_addr[16];
};

struct state_acc {
	uint64_t count, unread, oldest_ms;
	uint64_t settled; /* of count: seen at an earlier read too */
	int64_t oldest;	  /* candidate index of the oldest socket, -1 none */
};

struct group {
	char name[GROUP_NAME_MAX];
	int pid; /* one process of the group, 0 if none known */
	uint64_t total;
	struct state_acc acc[TCPS_STATE_COUNT];
};

/* A (group, state) whose WARNING was sent and whose OKAY is due. */
struct alarm {
	char name[GROUP_NAME_MAX];
	uint8_t state;
	bool still_leaking; /* at this read too: no OKAY due */
};

struct tcps_leaks {
	struct tcps_leaks_config cfg;
	struct tcps_owners *owners;
	/* The owner search whose last resolve answered this interval's
	 * queries: owners, or one shared with other namespaces. */
	const struct tcps_owners *answer;
	uint64_t end_cpu_start;
	/* GroupBy "cgroup" until it falls back to the owners (NULL). */
	struct tcps_cgroups *cgroups;
	int prepare_error; /* -ENOMEM: this read's queries could not be made */
	/* Of this read's candidates, the full sockets (neither TIME_WAIT
	 * nor requests), and those of them the kernel gave a cgroup id. */
	uint64_t full_sockets, with_cgroup_id;
	struct candidate *cands;
	size_t cands_num, cands_cap;
	uint64_t dropped[TCPS_STATE_COUNT]; /* no memory for a candidate */
	struct tcps_owner_query *queries;
	size_t queries_cap;
	struct tcps_ages ages;
	struct group *groups; /* named groups of this interval */
	size_t groups_num, groups_cap;
	/* The group of each key of the last search: an owner index, or a
	 * cgroup key with GroupBy "cgroup". */
	int32_t *group_of_key;
	size_t group_of_key_cap;
	struct group other, unknown;
	struct group **emitting; /* the groups emitted this interval */
	size_t emitting_num;
	/* The groups emitted last interval. */
	char (*emitted_last)[GROUP_NAME_MAX];
	size_t emitted_last_num;
	struct alarm *alarms;
	size_t alarms_num, alarms_cap;
	struct tcps_leaks_stats stats;
};

static size_t emit_capacity(const struct tcps_leaks_config *cfg)
{
	return (size_t)cfg->top_n + 2; /* named, other, unknown */
}

/* Frees the cgroup map if it is this leak finder's own. */
static void drop_cgroups(struct tcps_leaks *leaks)
{
	if (leaks->cgroups != leaks->cfg.shared_cgroups)
		tcps_cgroups_free(leaks->cgroups);
	leaks->cgroups = NULL;
}

int tcps_leaks_new(const struct tcps_leaks_config *cfg, struct tcps_leaks **ret)
{
	struct tcps_leaks *leaks = calloc(1, sizeof(*leaks));
	int err;

	if (!leaks)
		return -ENOMEM;
	leaks->cfg = *cfg;
	leaks->cfg.proc_root = NULL; /* the owners keep their own copy */
	leaks->alarms_cap = emit_capacity(cfg) * TCPS_STATE_COUNT;
	leaks->emitting = calloc(emit_capacity(cfg), sizeof(*leaks->emitting));
	leaks->emitted_last =
		calloc(emit_capacity(cfg), sizeof(*leaks->emitted_last));
	leaks->alarms = calloc(leaks->alarms_cap, sizeof(*leaks->alarms));
	/* With GroupBy "cgroup" the owners are the fallback, by name. */
	err = tcps_owners_new(cfg->proc_root,
			      cfg->group_by == TCPS_GROUP_CGROUP
				      ? TCPS_GROUP_COMM
				      : cfg->group_by,
			      &leaks->owners);
	if (err == 0 && cfg->group_by == TCPS_GROUP_CGROUP &&
	    cfg->shared_cgroups)
		leaks->cgroups = cfg->shared_cgroups;
	else if (err == 0 && cfg->group_by == TCPS_GROUP_CGROUP)
		err = tcps_cgroups_new(cfg->proc_root, cfg->cgroups_source,
				       &leaks->cgroups);
	if (err == 0)
		tcps_owners_set_budget(leaks->owners, cfg->scan_budget_ms);
	if (err == 0 &&
	    (!leaks->emitting || !leaks->emitted_last || !leaks->alarms))
		err = -ENOMEM;
	if (err < 0) {
		tcps_leaks_free(leaks);
		return err;
	}
	*ret = leaks;
	return 0;
}

void tcps_leaks_free(struct tcps_leaks *leaks)
{
	if (!leaks)
		return;
	tcps_owners_free(leaks->owners);
	drop_cgroups(leaks);
	free(leaks->cands);
	free(leaks->queries);
	tcps_ages_release(&leaks->ages);
	free(leaks->groups);
	free(leaks->group_of_key);
	free(leaks->emitting);
	free(leaks->emitted_last);
	free(leaks->alarms);
	free(leaks);
}

const struct tcps_leaks_stats *tcps_leaks_stats(const struct tcps_leaks *leaks)
{
	return &leaks->stats;
}

/* The candidates of one read cost ~72 bytes per tracked socket; after a
 * burst the array shrinks back instead of keeping its peak forever. */
static void shrink_candidates(struct tcps_leaks *leaks)
{
	size_t want = leaks->cands_num * 2;
	struct candidate *smaller;

	/* Not tcps_fit: the same rule (shrink to twice the need once under
	 * a quarter is used), but never below SHRINK_ABOVE. */
	if (leaks->cands_cap <= SHRINK_ABOVE ||
	    leaks->cands_cap <= leaks->cands_num * 4)
		return;
	if (want < SHRINK_ABOVE)
		want = SHRINK_ABOVE;
	smaller = realloc(leaks->cands, want * sizeof(*leaks->cands));
	if (!smaller)
		return;
	leaks->cands = smaller;
	leaks->cands_cap = want;
}

void tcps_leaks_begin(struct tcps_leaks *leaks)
{
	shrink_candidates(leaks);
	leaks->cands_num = 0;
	leaks->full_sockets = 0;
	leaks->with_cgroup_id = 0;
	memset(leaks->dropped, 0, sizeof(leaks->dropped));
}

void tcps_leaks_abort(struct tcps_leaks *leaks)
{
	tcps_leaks_begin(leaks);
}

/* Bytes the application has not read. In states after the peer's FIN the
 * kernel counts the FIN as one byte of the receive queue. */
static uint32_t unread_bytes(const struct tcps_record *rec)
{
	bool fin_received = rec->state == TCPS_CLOSE_WAIT ||
			    rec->state == TCPS_LAST_ACK ||
			    rec->state == TCPS_CLOSING;

	if (fin_received && rec->rqueue > 0)
		return rec->rqueue - 1;
	return rec->rqueue;
}

void tcps_leaks_observe(struct tcps_leaks *leaks, const struct tcps_record *rec)
{
	struct candidate *c;

	if (rec->state >= TCPS_STATE_UNKNOWN ||
	    !(leaks->cfg.state_mask & (1u << rec->state)))
		return;
	if (tcps_grow((void **)&leaks->cands, &leaks->cands_cap,
		      leaks->cands_num + 1, sizeof(*leaks->cands)) != 0) {
		leaks->dropped[rec->state]++;
		return;
	}
	c = &leaks->cands[leaks->cands_num++];
	c->cookie = rec->cookie;
	c->cgroup_id = rec->cgroup_id;
	/* TIME_WAIT and request (SYN_RECV) sockets never carry an id. */
	if (rec->state != TCPS_TIME_WAIT && rec->state != TCPS_SYN_RECV) {
		leaks->full_sockets++;
		leaks->with_cgroup_id += rec->cgroup_id != 0;
	}
	c->first_seen_ms = 0;
	c->settled = false;
	c->inode = rec->inode;
	c->uid = rec->uid;
	c->unread = unread_bytes(rec);
	c->state = rec->state;
	c->family = rec->family;
	c->local_port = rec->local_port;
	c->remote_port = rec->remote_port;
	memcpy(c->local_addr, rec->local_addr, sizeof(c->local_addr));
	memcpy(c->remote_addr, rec->remote_addr, sizeof(c->remote_addr));
}

/* Sockets already aged keep their place first; new ones take what room
 * is left, so past MaxTrackedSockets only the newest lose their age. */
static void age_candidates(struct tcps_leaks *leaks, uint64_t now_ms)
{
	size_t max = leaks->cfg.max_tracked;

	leaks->stats.untracked = 0;
	if (tcps_ages_begin(&leaks->ages,
			    leaks->cands_num < max ? leaks->cands_num : max) !=
	    0)
		max = 0;
	for (size_t i = 0; i < leaks->cands_num; i++) {
		struct candidate *c = &leaks->cands[i];
		const struct tcps_age *age =
			tcps_ages_last(&leaks->ages, c->cookie);

		c->first_seen_ms = now_ms;
		if (age && age->state == c->state) {
			c->first_seen_ms = age->first_seen_ms;
			c->settled = true;
			if (!tcps_ages_keep(&leaks->ages, c->cookie,
					    c->first_seen_ms, c->state, max))
				leaks->stats.untracked++;
		}
	}
	for (size_t i = 0; i < leaks->cands_num; i++) {
		const struct candidate *c = &leaks->cands[i];

		if (c->first_seen_ms == now_ms &&
		    !tcps_ages_keep(&leaks->ages, c->cookie, now_ms, c->state,
				    max))
			leaks->stats.untracked++;
	}
	tcps_ages_end(&leaks->ages);
}

static int fill_queries(struct tcps_leaks *leaks)
{
	int err;

	err = tcps_fit((void **)&leaks->queries, &leaks->queries_cap,
		       leaks->cands_num, sizeof(*leaks->queries));
	if (err < 0)
		return err;
	for (size_t i = 0; i < leaks->cands_num; i++) {
		leaks->queries[i].inode = leaks->cands[i].inode;
		leaks->queries[i].uid = leaks->cands[i].uid;
		leaks->queries[i].cookie = leaks->cands[i].cookie;
		leaks->queries[i].owner = -1;
	}
	return 0;
}

/* GroupBy "cgroup" gives way to the owner search for good (err says
 * why, in the stats of this read only). */
static void give_up_cgroups(struct tcps_leaks *leaks, int err)
{
	drop_cgroups(leaks);
	leaks->stats.cgroup_fallback = err;
}

/* Marks this read's candidates' ids used. Returns 0, or -ENODATA when
 * full sockets came without ids: GroupBy "cgroup" cannot work here. */
static int use_cgroups(struct tcps_leaks *leaks)
{
	if (leaks->full_sockets > 0 && leaks->with_cgroup_id == 0)
		return -ENODATA;
	for (size_t i = 0; i < leaks->cands_num; i++)
		tcps_cgroups_use(leaks->cgroups, leaks->cands[i].cgroup_id);
	return 0;
}

/* The queries' owners: each candidate's key is its cgroup's (-1: it has
 * no id, the unknown group), once the map resolved this read's ids. */
static void take_cgroup_keys(struct tcps_leaks *leaks)
{
	leaks->stats.cgroups = *tcps_cgroups_stats(leaks->cgroups);
	for (size_t i = 0; i < leaks->cands_num; i++) {
		uint64_t id = leaks->cands[i].cgroup_id;

		leaks->queries[i].owner =
			id ? (int32_t)tcps_cgroups_key(leaks->cgroups, id) : -1;
	}
}

/*
 * GroupBy "cgroup", with the queries filled: with a map of its own, the
 * ids are looked up now (at most one walk of the cgroup2 tree) and no
 * owner is looked for; with a shared one, they are only marked used, and
 * the keys come at tcps_leaks_finish, after the map's owner resolved
 * every namespace's ids. Returns 0, or 1 when the kernel or the host
 * cannot give cgroups and the owner search takes over.
 */
static int find_cgroups(struct tcps_leaks *leaks)
{
	bool shared = leaks->cfg.shared_cgroups != NULL;
	int err;

	if (!shared)
		tcps_cgroups_begin(leaks->cgroups);
	err = use_cgroups(leaks);
	if (err == 0 && !shared) {
		err = tcps_cgroups_resolve(leaks->cgroups);
		if (err == 0)
			take_cgroup_keys(leaks);
	}
	if (err < 0) {
		give_up_cgroups(leaks, err);
		return 1;
	}
	return 0;
}

/* How many keys the last search can have given: processes the owner
 * search met, or cgroup keys. */
static size_t keys_num(const struct tcps_leaks *leaks)
{
	if (leaks->cgroups)
		return tcps_cgroups_keys(leaks->cgroups);
	return tcps_owners_procs_num(leaks->answer);
}

/* One entry per key, none in a group yet. Returns 0 or -ENOMEM. */
static int prepare_group_of_key(struct tcps_leaks *leaks)
{
	size_t keys = keys_num(leaks);

	if (tcps_fit((void **)&leaks->group_of_key, &leaks->group_of_key_cap,
		     keys, sizeof(*leaks->group_of_key)) != 0)
		return -ENOMEM;
	for (size_t i = 0; i < keys; i++)
		leaks->group_of_key[i] = NO_GROUP;
	return 0;
}

/* The group name of a key, and a process holding it (0: none known);
 * NULL when the owner's name could not be read. */
static const char *key_name(const struct tcps_leaks *leaks, int32_t key,
			    int *ret_pid)
{
	const struct tcps_owner_proc *p;

	*ret_pid = 0;
	if (leaks->cgroups)
		return tcps_cgroups_name(leaks->cgroups, (size_t)key);
	p = tcps_owners_proc(leaks->answer, key);
	if (!p || p->group[0] == '\0')
		return NULL;
	*ret_pid = (int)p->pid;
	return p->group;
}

static void group_reset(struct group *g, const char *name)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	for (int state = 0; state < TCPS_STATE_COUNT; state++) {
		g->acc[state].oldest = -1;
		g->acc[state].oldest_ms = UINT64_MAX;
	}
}

static void group_add(struct group *g, const struct candidate *c, int64_t index,
		      int pid)
{
	struct state_acc *acc = &g->acc[c->state];

	acc->count++;
	acc->settled += c->settled;
	acc->unread += c->unread;
	if (c->first_seen_ms < acc->oldest_ms) {
		acc->oldest_ms = c->first_seen_ms;
		acc->oldest = index;
	}
	g->total++;
	if (g->pid == 0)
		g->pid = pid;
}

static void group_merge(struct group *dst, const struct group *src)
{
	for (int state = 0; state < TCPS_STATE_COUNT; state++) {
		struct state_acc *d = &dst->acc[state];
		const struct state_acc *a = &src->acc[state];

		d->count += a->count;
		d->settled += a->settled;
		d->unread += a->unread;
		if (a->oldest_ms < d->oldest_ms) {
			d->oldest_ms = a->oldest_ms;
			d->oldest = a->oldest;
		}
	}
	dst->total += src->total;
	if (dst->pid == 0)
		dst->pid = src->pid;
}

/* The named group of a key, created on first use; NULL = unknown. A
 * cgroup's group is named like a process's: the identifiers stay those
 * the man page promises, whatever GroupBy says. */
static struct group *group_of(struct tcps_leaks *leaks, int32_t key,
			      int *ret_pid)
{
	const char *name = key_name(leaks, key, ret_pid);

	if (!name)
		return NULL;
	if (leaks->group_of_key[key] != NO_GROUP)
		return &leaks->groups[leaks->group_of_key[key]];
	for (size_t i = 0; i < leaks->groups_num; i++) {
		if (strcmp(leaks->groups[i].name, name) == 0) {
			leaks->group_of_key[key] = (int32_t)i;
			return &leaks->groups[i];
		}
	}
	if (tcps_grow((void **)&leaks->groups, &leaks->groups_cap,
		      leaks->groups_num + 1, sizeof(*leaks->groups)) != 0)
		return NULL;
	group_reset(&leaks->groups[leaks->groups_num], name);
	leaks->group_of_key[key] = (int32_t)leaks->groups_num;
	return &leaks->groups[leaks->groups_num++];
}

/* owners_known: the queries hold a resolve's answer (not after ENOMEM). */
static void build_groups(struct tcps_leaks *leaks, bool owners_known)
{
	leaks->groups_num = 0;
	group_reset(&leaks->other, GROUP_OTHER);
	group_reset(&leaks->unknown, GROUP_UNKNOWN);
	for (size_t i = 0; i < leaks->cands_num; i++) {
		int32_t key = owners_known ? leaks->queries[i].owner : -1;
		int pid = 0;
		struct group *g = key >= 0 ? group_of(leaks, key, &pid) : NULL;

		group_add(g ? g : &leaks->unknown, &leaks->cands[i], (int64_t)i,
			  g ? pid : 0);
	}
	for (int state = 0; state < TCPS_STATE_COUNT; state++) {
		leaks->unknown.acc[state].count += leaks->dropped[state];
		leaks->unknown.total += leaks->dropped[state];
	}
}

static int by_total_then_name(const void *a, const void *b)
{
	const struct group *ga = a, *gb = b;

	if (ga->total != gb->total)
		return ga->total > gb->total ? -1 : 1;
	return strcmp(ga->name, gb->name);
}

/* Top groups by socket count keep their name; the rest become "other". */
static void rank_groups(struct tcps_leaks *leaks)
{
	if (leaks->groups_num > 1) /* groups is NULL before the first group */
		qsort(leaks->groups, leaks->groups_num, sizeof(*leaks->groups),
		      by_total_then_name);
	leaks->emitting_num = 0;
	for (size_t i = 0; i < leaks->groups_num; i++) {
		if (i < leaks->cfg.top_n)
			leaks->emitting[leaks->emitting_num++] =
				&leaks->groups[i];
		else
			group_merge(&leaks->other, &leaks->groups[i]);
	}
	if (leaks->other.total > 0)
		leaks->emitting[leaks->emitting_num++] = &leaks->other;
	if (leaks->unknown.total > 0)
		leaks->emitting[leaks->emitting_num++] = &leaks->unknown;
}

static double age_seconds(const struct state_acc *acc, uint64_t now_ms)
{
	if (acc->count == 0 || acc->oldest_ms > now_ms)
		return 0;
	return (double)(now_ms - acc->oldest_ms) / 1000.0;
}

static bool tracked(const struct tcps_leaks *leaks, int state)
{
	return (leaks->cfg.state_mask >> state) & 1;
}

/* "proc_close_wait": the set of one tracked state's groups. */
static void proc_set(int state, char *buf)
{
	snprintf(buf, SET_MAX, "proc_%s", tcps_state_set_name(state));
}

static void emit_group(const struct tcps_leaks *leaks, const struct group *g,
		       uint64_t now_ms, const struct tcps_sink *sink)
{
	char set[SET_MAX];

	for (int state = TCPS_STATE_FIRST; state < TCPS_STATE_UNKNOWN;
	     state++) {
		const struct state_acc *acc = &g->acc[state];

		if (!tracked(leaks, state))
			continue;
		proc_set(state, set);
		tcps_sink_value(sink, set, "tcp_connections", g->name,
				(double)acc->count);
		tcps_sink_value(sink, set, "duration", g->name,
				age_seconds(acc, now_ms));
		tcps_sink_value(sink, set, "bytes", g->name,
				(double)acc->unread);
	}
}

/* The group emitted this interval under name, or NULL. */
static const struct group *emitting_group(const struct tcps_leaks *leaks,
					  const char *name)
{
	for (size_t i = 0; i < leaks->emitting_num; i++)
		if (strcmp(leaks->emitting[i]->name, name) == 0)
			return leaks->emitting[i];
	return NULL;
}

/* Groups sent last interval and gone now get zeros once: graphs fall. */
static void emit_all(struct tcps_leaks *leaks, uint64_t now_ms,
		     const struct tcps_sink *sink)
{
	struct group gone;

	for (size_t i = 0; i < leaks->emitted_last_num; i++) {
		if (emitting_group(leaks, leaks->emitted_last[i]))
			continue;
		group_reset(&gone, leaks->emitted_last[i]);
		emit_group(leaks, &gone, now_ms, sink);
	}
	for (size_t i = 0; i < leaks->emitting_num; i++) {
		emit_group(leaks, leaks->emitting[i], now_ms, sink);
		snprintf(leaks->emitted_last[i], sizeof(leaks->emitted_last[i]),
			 "%s", leaks->emitting[i]->name);
	}
	leaks->emitted_last_num = leaks->emitting_num;
}

static void format_endpoint(uint8_t family, const uint8_t *addr, uint16_t port,
			    char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN] = "?";

	inet_ntop(family, addr, text, sizeof(text));
	if (family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", text, port);
	else
		snprintf(buf, size, "%s:%u", text, port);
}

/* The group's name as an operator reads it: "java", "other", ... */
static const char *display_name(const char *name)
{
	return name[0] == '-' ? name + 1 : name;
}

static struct alarm *alarm_find(struct tcps_leaks *leaks, const char *name,
				int state)
{
	for (size_t i = 0; i < leaks->alarms_num; i++)
		if (leaks->alarms[i].state == state &&
		    strcmp(leaks->alarms[i].name, name) == 0)
			return &leaks->alarms[i];
	return NULL;
}

/* A socket closing normally passes through CLOSE_WAIT for milliseconds:
 * the count limit weighs only sockets seen in the state at two reads or
 * more, so many connections closing at once raise nothing. */
static bool leaking(const struct tcps_leaks *leaks, const struct state_acc *acc,
		    uint64_t now_ms)
{
	if (acc->count == 0)
		return false;
	if (leaks->cfg.threshold > 0 && acc->settled >= leaks->cfg.threshold)
		return true;
	return leaks->cfg.max_age_s > 0 &&
	       age_seconds(acc, now_ms) >= (double)leaks->cfg.max_age_s;
}

static void raise_alarm(struct tcps_leaks *leaks, const struct group *g,
			int state, uint64_t now_ms,
			const struct tcps_sink *sink)
{
	const struct state_acc *acc = &g->acc[state];
	const struct candidate *c = &leaks->cands[acc->oldest];
	char message[MESSAGE_MAX], pid[24] = "", local[64], remote[64];
	char set[SET_MAX];
	struct alarm *a;

	if (leaks->alarms_num >= leaks->alarms_cap)
		return; /* cannot remember it, so do not start it */
	if (g->pid > 0)
		snprintf(pid, sizeof(pid), " (pid %d)", g->pid);
	format_endpoint(c->family, c->local_addr, c->local_port, local,
			sizeof(local));
	format_endpoint(c->family, c->remote_addr, c->remote_port, remote,
			sizeof(remote));
	/* Cut at collectd's size if need be: the example endpoints, last,
	 * are what goes (the test keeps gcc from warning about that). */
	if (snprintf(message, sizeof(message),
		     "%s leak: %s%s holds %llu %s sockets, oldest %.0f s, %llu "
		     "bytes unread (limits %u sockets, %u s); e.g. %s -> %s",
		     tcps_state_name(state), display_name(g->name), pid,
		     (unsigned long long)acc->count, tcps_state_name(state),
		     age_seconds(acc, now_ms), (unsigned long long)acc->unread,
		     leaks->cfg.threshold, leaks->cfg.max_age_s, local,
		     remote) >= (int)sizeof(message))
		message[sizeof(message) - 1] = '\0';
	proc_set(state, set);
	tcps_sink_notify(sink, TCPS_SEVERITY_WARNING, set, "tcp_connections",
			 g->name, message);
	a = &leaks->alarms[leaks->alarms_num++];
	snprintf(a->name, sizeof(a->name), "%s", g->name);
	a->state = (uint8_t)state;
	a->still_leaking = true;
}

static uint64_t count_now(const struct tcps_leaks *leaks, const char *name,
			  int state)
{
	const struct group *g = emitting_group(leaks, name);

	return g ? g->acc[state].count : 0;
}

static void clear_alarm(struct tcps_leaks *leaks, size_t index,
			const struct tcps_sink *sink)
{
	const struct alarm *a = &leaks->alarms[index];
	char message[MESSAGE_MAX], set[SET_MAX];

	snprintf(message, sizeof(message),
		 "%s leak cleared: %s holds %llu %s sockets (limits %u "
		 "sockets, %u s)",
		 tcps_state_name(a->state), display_name(a->name),
		 (unsigned long long)count_now(leaks, a->name, a->state),
		 tcps_state_name(a->state), leaks->cfg.threshold,
		 leaks->cfg.max_age_s);
	proc_set(a->state, set);
	tcps_sink_notify(sink, TCPS_SEVERITY_OKAY, set, "tcp_connections",
			 a->name, message);
	leaks->alarms[index] = leaks->alarms[--leaks->alarms_num];
}

static void raise_new_alarms(struct tcps_leaks *leaks, const struct group *g,
			     uint64_t now_ms, const struct tcps_sink *sink)
{
	for (int state = TCPS_STATE_FIRST; state < TCPS_STATE_UNKNOWN; state++)
		if (tracked(leaks, state) &&
		    leaking(leaks, &g->acc[state], now_ms) &&
		    g->acc[state].oldest >= 0 &&
		    !alarm_find(leaks, g->name, state))
			raise_alarm(leaks, g, state, now_ms, sink);
}

/* One WARNING when a group crosses a limit, one OKAY when it is back
 * under both or gone; nothing while it stays where it is. Alarms that
 * end are cleared before new ones are raised: the table has room for
 * the groups emitted, not for those and the ones that just went. */
static void check_alarms(struct tcps_leaks *leaks, uint64_t now_ms,
			 const struct tcps_sink *sink)
{
	for (size_t i = 0; i < leaks->alarms_num; i++)
		leaks->alarms[i].still_leaking = false;
	for (size_t i = 0; i < leaks->emitting_num; i++) {
		const struct group *g = leaks->emitting[i];

		for (int state = TCPS_STATE_FIRST; state < TCPS_STATE_UNKNOWN;
		     state++) {
			struct alarm *a = alarm_find(leaks, g->name, state);

			if (a)
				a->still_leaking =
					tracked(leaks, state) &&
					leaking(leaks, &g->acc[state], now_ms);
		}
	}
	for (size_t i = leaks->alarms_num; i-- > 0;)
		if (!leaks->alarms[i].still_leaking)
			clear_alarm(leaks, i, sink);
	for (size_t i = 0; i < leaks->emitting_num; i++)
		raise_new_alarms(leaks, leaks->emitting[i], now_ms, sink);
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int tcps_leaks_prepare(struct tcps_leaks *leaks, uint64_t now_ms,
		       struct tcps_owner_query **ret, size_t *ret_num)
{
	int err;

	leaks->end_cpu_start = thread_cpu_ns();
	leaks->stats.candidates = leaks->cands_num;
	leaks->stats.candidates_capacity = leaks->cands_cap;
	leaks->stats.resolve_error = 0;
	leaks->stats.cgroup_fallback = 0;
	memset(&leaks->stats.owners, 0, sizeof(leaks->stats.owners));
	if (leaks->cands_num > 0) {
		age_candidates(leaks, now_ms);
	} else {
		tcps_ages_forget(&leaks->ages);
		leaks->stats.untracked = 0;
	}
	*ret = NULL;
	*ret_num = 0;
	err = fill_queries(leaks);
	leaks->prepare_error = err;
	if (err < 0)
		return err;
	/* Grouped by cgroup: nothing for the owner search to find. */
	if (leaks->cgroups && find_cgroups(leaks) == 0)
		return 0;
	*ret = leaks->queries;
	*ret_num = leaks->cands_num;
	return 0;
}

int tcps_leaks_finish(struct tcps_leaks *leaks,
		      const struct tcps_owners *owners, int resolve_error,
		      const struct tcps_owner_stats *stats, uint64_t now_ms,
		      const struct tcps_sink *sink)
{
	int err;

	/* A shared map resolved every namespace's ids since prepare. */
	if (leaks->cgroups && leaks->cfg.shared_cgroups &&
	    leaks->prepare_error == 0) {
		err = tcps_cgroups_error(leaks->cgroups);
		if (err < 0)
			give_up_cgroups(leaks, err);
		else
			take_cgroup_keys(leaks);
	}
	err = leaks->cgroups ? leaks->prepare_error : resolve_error;
	leaks->answer = owners;
	/* By cgroup, another namespace's search is none of ours. */
	if (!leaks->cgroups)
		leaks->stats.owners = *stats;
	if (err != -ENOMEM && prepare_group_of_key(leaks) != 0)
		err = -ENOMEM;
	leaks->stats.resolve_error = err;
	build_groups(leaks, err != -ENOMEM);
	rank_groups(leaks);
	emit_all(leaks, now_ms, sink);
	check_alarms(leaks, now_ms, sink);
	leaks->stats.owners_memory = tcps_owners_memory(owners);
	leaks->stats.end_cpu_ns = thread_cpu_ns() - leaks->end_cpu_start;
	return err == -ENOMEM ? err : 0;
}

int tcps_leaks_end(struct tcps_leaks *leaks, uint64_t now_ms,
		   const struct tcps_sink *sink)
{
	struct tcps_owner_stats stats = { 0 };
	struct tcps_owner_query *queries;
	size_t num;
	int err;

	/* Nothing in a tracked state: still resolved, so that the owner
	 * search's tables shrink back. */
	err = tcps_leaks_prepare(leaks, now_ms, &queries, &num);
	if (err == 0)
		err = tcps_owners_resolve(leaks->owners, queries, num, &stats);
	else
		stats.unattributed = leaks->cands_num;
	return tcps_leaks_finish(leaks, leaks->owners, err, &stats, now_ms,
				 sink);
}

/* The discovered network namespaces, read together from one callback. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstates/cgroups.h"
#include "tcpstates/namespaces.h"
#include "tcpstates/util.h"

struct member {
	uint64_t dev, ino;
	char name[TCPS_NAME_MAX + 1];
	char found_name[TCPS_NAME_MAX + 1]; /* as discovery named it */
	bool from_runtime;		    /* a runtime named it */
	/* This discovery: its runtime's name, where another named it. */
	const struct tcps_namespace_found *renamed;
	struct tcps_ctx *ctx;
	bool found;   /* in the last discovery's list */
	bool emitted; /* has sent values: it owes its zeros when it goes */
	/* This read: dumped (to be emitted), or gone (to be dropped); the
	 * leak finder's owner queries. */
	bool collected, gone;
	struct tcps_owner_query *queries;
	size_t queries_num;
};

struct tcps_namespaces {
	struct tcps_namespaces_config cfg;
	struct member *members;
	size_t members_num, members_cap;
	uint32_t reads_to_discovery; /* 0: discover at the next read */
	/* One owner search for every namespace: socket inodes are unique
	 * host-wide, so one resolve of all their queries serves them all
	 * (NULL when the leak finder is off). */
	struct tcps_owners *owners;
	struct tcps_owner_query *queries;
	size_t queries_cap;
	/* GroupBy "cgroup": one map of cgroup ids for every namespace, as
	 * cgroup ids are host-wide too (NULL otherwise). */
	struct tcps_cgroups *cgroups;
};

/* A sink that says which namespace each value and notification is of. */
struct named_sink {
	const struct tcps_sink *out;
	const char *name;
};

static int named_value(void *data, const struct tcps_value *value)
{
	const struct named_sink *named = data;
	struct tcps_value renamed = *value;

	renamed.netns = named->name;
	return named->out->value(named->out->data, &renamed);
}

static int named_notify(void *data, const struct tcps_notification *notif)
{
	const struct named_sink *named = data;
	struct tcps_notification renamed = *notif;

	if (!named->out->notify)
		return 0;
	renamed.netns = named->name;
	return named->out->notify(named->out->data, &renamed);
}

int tcps_namespaces_new(const struct tcps_namespaces_config *cfg,
			struct tcps_namespaces **ret)
{
	struct tcps_namespaces *set;

	if (!cfg->discover)
		return -EINVAL;
	set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	set->cfg = *cfg;
	if (set->cfg.discover_every == 0)
		set->cfg.discover_every = 1;
	if (!set->cfg.source)
		set->cfg.source = &tcps_kernel_source;
	if (cfg->opts.process_states != 0) {
		int err = tcps_owners_new(cfg->opts.proc_root,
					  cfg->opts.group_by, &set->owners);

		if (err < 0) {
			free(set);
			return err;
		}
		tcps_owners_set_budget(set->owners,
				       cfg->opts.process_scan_budget);
	}
	if (cfg->opts.process_states != 0 &&
	    cfg->opts.group_by == TCPS_GROUP_CGROUP) {
		int err = tcps_cgroups_new(cfg->opts.proc_root,
					   cfg->opts.cgroups_source,
					   &set->cgroups);

		if (err < 0) {
			tcps_namespaces_free(set);
			return err;
		}
		set->cfg.opts.shared_cgroups = set->cgroups;
	}
	*ret = set;
	return 0;
}

void tcps_namespaces_free(struct tcps_namespaces *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->members_num; i++)
		tcps_ctx_free(set->members[i].ctx);
	free(set->members);
	tcps_owners_free(set->owners);
	tcps_cgroups_free(set->cgroups);
	free(set->queries);
	free(set);
}

size_t tcps_namespaces_count(const struct tcps_namespaces *set)
{
	return set->members_num;
}

const char *tcps_namespaces_member(const struct tcps_namespaces *set,
				   size_t index, uint64_t *ret_dev,
				   uint64_t *ret_ino)
{
	if (index >= set->members_num)
		return NULL;
	*ret_dev = set->members[index].dev;
	*ret_ino = set->members[index].ino;
	return set->members[index].name;
}

/* Adds name to a report's list; once one does not fit whole, the list
 * ends with "..." (room for it is always kept). */
static void list_name(char *list, const char *name)
{
	static const char more[] = ", ...";
	size_t len = strlen(list), sep = len ? 2 : 0;

	if (len >= 3 && strcmp(list + len - 3, "...") == 0)
		return;
	if (len + sep + strlen(name) + sizeof(more) <= TCPS_NAMES_LIST_MAX)
		snprintf(list + len, TCPS_NAMES_LIST_MAX - len, "%s%s",
			 sep ? ", " : "", name);
	else
		snprintf(list + len, TCPS_NAMES_LIST_MAX - len, "%s",
			 more + 2 - sep);
}

/* Sends the member's values once more as zeros (if it ever sent any: one
 * never read goes without a word) and frees it; the last member takes its
 * place. */
static void drop_member(struct tcps_namespaces *set, size_t index,
			const struct tcps_sink *sink)
{
	struct member *m = &set->members[index];
	struct named_sink named = { .out = sink, .name = m->name };
	const struct tcps_sink farewell = { .value = named_value,
					    .notify = named_notify,
					    .data = &named };

	if (m->emitted)
		tcps_ctx_farewell(m->ctx, &farewell);
	tcps_ctx_free(m->ctx);
	*m = set->members[--set->members_num];
}

static struct member *find_member(struct tcps_namespaces *set, uint64_t dev,
				  uint64_t ino)
{
	for (size_t i = 0; i < set->members_num; i++)
		if (set->members[i].dev == dev && set->members[i].ino == ino)
			return &set->members[i];
	return NULL;
}

static bool name_taken(const struct tcps_namespaces *set, const char *name)
{
	if (tcps_name_reserved(name))
		return true;
	for (size_t i = 0; i < set->members_num; i++)
		if (strcmp(set->members[i].name, name) == 0)
			return true;
	return false;
}

/* Two namespaces never share a name, even across discoveries: a name in
 * use gets "-<inode>", then "-<inode>-2" ..., as discovery does within
 * one list. Each attempt gives a new name: it ends before the members. */
static void unique_name(const struct tcps_namespaces *set, const char *name,
			uint64_t ino, char *out)
{
	snprintf(out, TCPS_NAME_MAX + 1, "%s", name);
	for (unsigned attempt = 0; name_taken(set, out); attempt++)
		tcps_name_suffix(out, name, ino, attempt ? attempt + 1 : 0);
}

/* A namespace found for the first time gets a context; its socket is
 * made inside it at its first read. */
static int add_member(struct tcps_namespaces *set,
		      const struct tcps_namespace_found *found)
{
	struct tcps_options opts = set->cfg.opts;
	struct member *m;
	int err;

	err = tcps_grow((void **)&set->members, &set->members_cap,
			set->members_num + 1, sizeof(*set->members));
	if (err < 0)
		return err;
	m = &set->members[set->members_num];
	memset(m, 0, sizeof(*m));
	m->dev = found->dev;
	m->ino = found->ino;
	m->found = true;
	snprintf(m->found_name, sizeof(m->found_name), "%s", found->name);
	m->from_runtime = found->from_runtime;
	unique_name(set, found->name, found->ino, m->name);
	opts.netns_path = found->path;
	err = tcps_ctx_new_source(&opts, set->cfg.source, set->cfg.source_arg,
				  &m->ctx);
	if (err < 0)
		return err;
	tcps_ctx_expect_netns(m->ctx, found->dev, found->ino);
	set->members_num++;
	return 0;
}

/*
 * A member its runtime names now, once those gone are dropped: it goes
 * (zeros under its old name) and comes back as new, under the runtime's
 * name made unique; unless that is the name it has (the suffix it got
 * when another held the runtime's name, say): then it stays as it is.
 */
static void follow_renames(struct tcps_namespaces *set,
			   const struct tcps_sink *sink,
			   struct tcps_namespaces_report *report)
{
	char name[TCPS_NAME_MAX + 1], own[TCPS_NAME_MAX + 1];

	for (size_t i = set->members_num; i-- > 0;) {
		struct member *m = &set->members[i];
		const struct tcps_namespace_found *to = m->renamed;

		m->renamed = NULL;
		if (!to)
			continue;
		snprintf(own, sizeof(own), "%s", m->name);
		m->name[0] = '\0'; /* not taken by itself */
		unique_name(set, to->name, to->ino, name);
		snprintf(m->name, sizeof(m->name), "%s", own);
		if (strcmp(name, own) == 0) {
			snprintf(m->found_name, sizeof(m->found_name), "%s",
				 to->name);
			m->from_runtime = true;
			(void)tcps_ctx_set_netns(m->ctx, to->path);
			continue;
		}
		list_name(report->gone_names, m->name);
		drop_member(set, i, sink);
		report->gone++;
		/* At once: the name just made unique is the one it gets. */
		if (add_member(set, to) == 0) {
			list_name(report->added_names,
				  set->members[set->members_num - 1].name);
			report->added++;
		} else if (report->discover_error == 0) {
			report->discover_error = -ENOMEM;
		}
	}
}

/* Keeps the members still found (following a new path to them), drops
 * those gone, adds new ones up to the maximum. */
static void apply_discovery(struct tcps_namespaces *set,
			    const struct tcps_namespace_found *found,
			    size_t found_num, const struct tcps_sink *sink,
			    struct tcps_namespaces_report *report)
{
	for (size_t i = 0; i < set->members_num; i++)
		set->members[i].found = false;
	for (size_t i = 0; i < found_num; i++) {
		struct member *m = find_member(set, found[i].dev, found[i].ino);

		/* A name from its runtime now, where a pin or an inode named
		 * it before (the runtime wrote its files after the discovery
		 * that first found it): its values end under the old name
		 * and start under the new. Any other new name (its pin gone,
		 * the container renamed) is not followed: the series stays. */
		if (!m)
			continue;
		m->found = true;
		m->renamed = NULL;
		if (m->from_runtime || !found[i].from_runtime ||
		    strcmp(m->found_name, found[i].name) == 0)
			(void)tcps_ctx_set_netns(m->ctx, found[i].path);
		else
			m->renamed = &found[i];
	}
	for (size_t i = set->members_num; i-- > 0;) {
		if (!set->members[i].found) {
			list_name(report->gone_names, set->members[i].name);
			drop_member(set, i, sink);
			report->gone++;
		}
	}
	follow_renames(set, sink, report);
	for (size_t i = 0; i < found_num; i++) {
		if (find_member(set, found[i].dev, found[i].ino))
			continue;
		if (set->members_num >= set->cfg.max_namespaces) {
			report->left_out++;
			continue;
		}
		if (add_member(set, &found[i]) == 0) {
			list_name(report->added_names,
				  set->members[set->members_num - 1].name);
			report->added++;
		} else if (report->discover_error == 0)
			report->discover_error = -ENOMEM;
	}
}

static void discover(struct tcps_namespaces *set, const struct tcps_sink *sink,
		     struct tcps_namespaces_report *report)
{
	struct tcps_namespace_found *found = NULL;
	size_t found_num = 0;
	int err;

	report->discovered = true;
	err = set->cfg.discover(set->cfg.discover_arg, &found, &found_num);
	if (err < 0) {
		/* Nothing known changed: the namespaces read so far stay. */
		report->discover_error = err;
		return;
	}
	apply_discovery(set, found, found_num, sink, report);
	free(found);
}

static void note_failure(struct tcps_namespaces_report *report,
			 const struct member *m, int err)
{
	report->failed++;
	if (err == -EPERM)
		report->denied = true;
	if (report->first_error == 0) {
		report->first_error = err;
		snprintf(report->first_failed, sizeof(report->first_failed),
			 "%s", m->name);
	}
}

/* Dumps one member inside its namespace. */
static void collect_member(struct member *m,
			   struct tcps_namespaces_report *report)
{
	struct tcps_read_report read;

	m->collected = false;
	m->gone = false;
	(void)tcps_ctx_collect(m->ctx, &read, &m->queries, &m->queries_num);
	/* Its path names nothing, or another namespace: this one is gone
	 * from there (the next discovery finds it if it lives on). */
	if (read.netns_error == -ENOENT || read.netns_error == -ESTALE)
		m->gone = true;
	else if (read.netns_error < 0)
		note_failure(report, m, read.netns_error);
	else if (read.error < 0)
		note_failure(report, m, read.error);
	else
		m->collected = true;
}

/* One resolve for the queries of every namespace dumped, its answers
 * written back to each. */
static int resolve_owners(struct tcps_namespaces *set,
			  struct tcps_owner_stats *stats)
{
	size_t total = 0, at = 0;
	int err;

	memset(stats, 0, sizeof(*stats));
	if (!set->owners)
		return 0;
	for (size_t i = 0; i < set->members_num; i++)
		if (set->members[i].collected)
			total += set->members[i].queries_num;
	err = tcps_fit((void **)&set->queries, &set->queries_cap, total,
		       sizeof(*set->queries));
	if (err < 0) {
		stats->unattributed = total;
		return err;
	}
	for (size_t i = 0; i < set->members_num; i++) {
		const struct member *m = &set->members[i];

		/* No queries: both arrays may be NULL, which memcpy may not
		 * be given even for 0 bytes. */
		if (!m->collected || m->queries_num == 0)
			continue;
		memcpy(set->queries + at, m->queries,
		       m->queries_num * sizeof(*m->queries));
		at += m->queries_num;
	}
	/* With nothing to find too: the search's tables shrink back. */
	err = tcps_owners_resolve(set->owners, set->queries, total, stats);
	at = 0;
	for (size_t i = 0; i < set->members_num; i++) {
		struct member *m = &set->members[i];

		if (!m->collected)
			continue;
		for (size_t q = 0; q < m->queries_num; q++)
			m->queries[q].owner = set->queries[at + q].owner;
		at += m->queries_num;
	}
	return err;
}

static void emit_member(struct tcps_namespaces *set, struct member *m,
			int resolve_error, const struct tcps_owner_stats *stats,
			const struct tcps_sink *sink)
{
	struct named_sink named = { .out = sink, .name = m->name };
	const struct tcps_sink prefixed = { .value = named_value,
					    .notify = named_notify,
					    .data = &named };
	struct tcps_read_report read;

	tcps_ctx_emit_shared(m->ctx, &prefixed, set->owners, resolve_error,
			     stats, &read);
	m->emitted = true;
}

/*
 * A namespace whose path names nothing now, or another namespace, is gone
 * from there; it may live on elsewhere (its pin deleted, not it; its first
 * process exited), even when the path came from this read's discovery:
 * the pin may go between the discovery and the dump. It sends nothing
 * now, and the next read discovers again: it is dropped, with its zeros,
 * only when that discovery does not find it.
 */
static void look_again_for_gone(struct tcps_namespaces *set)
{
	for (size_t i = 0; i < set->members_num; i++)
		if (set->members[i].gone)
			set->reads_to_discovery = 0;
}

int tcps_namespaces_read(struct tcps_namespaces *set,
			 const struct tcps_sink *sink,
			 struct tcps_namespaces_report *report)
{
	int resolve_error;

	memset(report, 0, sizeof(*report));
	if (set->reads_to_discovery == 0) {
		discover(set, sink, report);
		set->reads_to_discovery = set->cfg.discover_every;
	}
	set->reads_to_discovery--;
	if (set->cgroups)
		tcps_cgroups_begin(set->cgroups);
	for (size_t i = 0; i < set->members_num; i++)
		collect_member(&set->members[i], report);
	/* One walk at most for every namespace's new ids; each member's
	 * leak finder takes its keys, or the error, when it emits. */
	if (set->cgroups)
		(void)tcps_cgroups_resolve(set->cgroups);
	resolve_error = resolve_owners(set, &report->owners);
	report->resolve_error = resolve_error;
	for (size_t i = 0; i < set->members_num; i++)
		if (set->members[i].collected)
			emit_member(set, &set->members[i], resolve_error,
				    &report->owners, sink);
	look_again_for_gone(set);
	report->reading = set->members_num;
	return 0;
}

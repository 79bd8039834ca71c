/* The discovered network namespaces, read together from one callback. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstates/namespaces.h"
#include "tcpstates/util.h"

/* Room for "name-" in front of the longest instance the core emits. */
#define INSTANCE_MAX (TCPS_NAME_MAX + 1 + 160)

struct member {
	uint64_t dev, ino;
	char name[TCPS_NAME_MAX + 1];
	struct tcps_ctx *ctx;
	bool found; /* in the last discovery's list */
};

struct tcps_namespaces {
	struct tcps_namespaces_config cfg;
	struct member *members;
	size_t members_num, members_cap;
	uint32_t reads_to_discovery; /* 0: discover at the next read */
};

/* A sink that puts a namespace's name in front of every instance. */
struct named_sink {
	const struct tcps_sink *out;
	const char *name;
};

static void named_instance(const char *name, const char *instance, char *buf,
			   size_t size)
{
	if (instance[0] == '\0')
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "%s-%s", name, instance);
}

static int named_value(void *data, const struct tcps_value *value)
{
	const struct named_sink *named = data;
	struct tcps_value renamed = *value;
	char instance[INSTANCE_MAX];

	named_instance(named->name, value->plugin_instance, instance,
		       sizeof(instance));
	renamed.plugin_instance = instance;
	return named->out->value(named->out->data, &renamed);
}

static int named_notify(void *data, const struct tcps_notification *notif)
{
	const struct named_sink *named = data;
	struct tcps_notification renamed = *notif;
	char instance[INSTANCE_MAX];

	if (!named->out->notify)
		return 0;
	named_instance(named->name, notif->plugin_instance, instance,
		       sizeof(instance));
	renamed.plugin_instance = instance;
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
	free(set);
}

size_t tcps_namespaces_count(const struct tcps_namespaces *set)
{
	return set->members_num;
}

/* Sends the member's values once as zeros and frees it; the last member
 * takes its place. */
static void drop_member(struct tcps_namespaces *set, size_t index,
			const struct tcps_sink *sink)
{
	struct member *m = &set->members[index];
	struct named_sink named = { .out = sink, .name = m->name };
	const struct tcps_sink farewell = { .value = named_value,
					    .notify = named_notify,
					    .data = &named };

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
	for (size_t i = 0; i < set->members_num; i++)
		if (strcmp(set->members[i].name, name) == 0)
			return true;
	return false;
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
	/* Two namespaces never share a name, even across discoveries. */
	if (name_taken(set, found->name))
		snprintf(m->name, sizeof(m->name), "%.40s-%llu", found->name,
			 (unsigned long long)found->ino);
	else
		snprintf(m->name, sizeof(m->name), "%s", found->name);
	opts.netns_path = found->path;
	err = tcps_ctx_new_source(&opts, set->cfg.source, set->cfg.source_arg,
				  &m->ctx);
	if (err < 0)
		return err;
	set->members_num++;
	return 0;
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

		if (m) {
			m->found = true;
			(void)tcps_ctx_set_netns(m->ctx, found[i].path);
		}
	}
	for (size_t i = set->members_num; i-- > 0;) {
		if (!set->members[i].found) {
			drop_member(set, i, sink);
			report->gone++;
		}
	}
	for (size_t i = 0; i < found_num; i++) {
		if (find_member(set, found[i].dev, found[i].ino))
			continue;
		if (set->members_num >= set->cfg.max_namespaces) {
			report->left_out++;
			continue;
		}
		if (add_member(set, &found[i]) == 0)
			report->added++;
		else if (report->discover_error == 0)
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

/* Reads one member; returns false when its namespace is gone. */
static bool read_member(struct member *m, const struct tcps_sink *sink,
			struct tcps_namespaces_report *report)
{
	struct named_sink named = { .out = sink, .name = m->name };
	const struct tcps_sink prefixed = { .value = named_value,
					    .notify = named_notify,
					    .data = &named };
	struct tcps_read_report read;

	(void)tcps_ctx_read(m->ctx, &prefixed, &read);
	if (read.netns_error == -ENOENT)
		return false;
	if (read.netns_error < 0)
		note_failure(report, m, read.netns_error);
	else if (read.error < 0)
		note_failure(report, m, read.error);
	return true;
}

int tcps_namespaces_read(struct tcps_namespaces *set,
			 const struct tcps_sink *sink,
			 struct tcps_namespaces_report *report)
{
	memset(report, 0, sizeof(*report));
	if (set->reads_to_discovery == 0) {
		discover(set, sink, report);
		set->reads_to_discovery = set->cfg.discover_every;
	}
	set->reads_to_discovery--;
	/* A namespace gone between discoveries (its container stopped) is
	 * dropped at once: its last values are zeros, sent now. */
	for (size_t i = set->members_num; i-- > 0;) {
		if (!read_member(&set->members[i], sink, report)) {
			drop_member(set, i, sink);
			report->gone++;
		}
	}
	report->reading = set->members_num;
	return 0;
}

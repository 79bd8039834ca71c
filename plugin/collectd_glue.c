/*
 * The only file that talks to collectd: config tree -> options, init,
 * one read callback per network namespace, values and notifications ->
 * plugin_dispatch_*, and the log lines for what the core reports.
 */
#include "collectd/core/daemon/collectd.h"
#include "collectd/core/daemon/plugin.h"
#include "collectd/core/daemon/utils_complain.h"
#include "collectd/core/utils/common/common.h"

#include "tcpstates/collect.h"
#include "tcpstates/host_discovery.h"
#include "tcpstates/names.h"
#include "tcpstates/namespaces.h"
#include "tcpstates/util.h"

#define PLUGIN_NAME "tcpstates"
#define ERR_TEXT_SIZE 256
#define MAX_NAMESPACES 256

struct namespace_config {
	char name[TCPS_NAME_MAX + 1];
	char *path;
};

/* A value waiting for the end of the read, with the number its list
 * points to. */
struct pending_value {
	value_list_t vl;
	value_t value;
};

/* One read callback's state, owned by collectd through user_data_t:
 * one namespace's context, or (Discover) the set of discovered ones. */
struct glue_instance {
	char name[TCPS_NAME_MAX + 1]; /* "" for the daemon's own namespace */
	char *netns_path;
	struct tcps_ctx *ctx;
	struct tcps_namespaces *discovered;
	struct tcps_host_discovery *host;
	c_complain_t dump_failed, malformed, retried, netns_gone, sysctls,
		owners, memory, queue_failed, discover_failed;
	bool warned_denied, warned_untracked, warned_overflow, warned_setns;
	size_t left_out_warned;
	/* The values of one read, handed to collectd together at its end:
	 * spread over the read, each one woke a write thread. */
	struct pending_value *pending;
	size_t pending_num, pending_cap;
};

/* What one read hands to the sink: one timestamp, one namespace name. */
struct dispatch_batch {
	cdtime_t time;
	const char *netns; /* of values that do not name theirs */
	struct glue_instance *inst;
	size_t lost; /* values that could not be queued */
};

/* What <Plugin tcpstates> said, kept until init creates the contexts. */
static struct tcps_options configured;
static struct namespace_config namespaces[MAX_NAMESPACES];
static size_t namespaces_num;
static bool config_failed;
static bool reads_registered;

/* The plugin says what is measured: "tcpstates", "tcpstates_ephemeral". */
static void plugin_name(const char *set, char *out, size_t size)
{
	if (set[0] == '\0')
		sstrncpy(out, PLUGIN_NAME, size);
	else
		snprintf(out, size, PLUGIN_NAME "_%s", set);
}

/* The plugin instance says which namespace, never empty: "host", "blue". */
static const char *netns_name(const struct dispatch_batch *batch,
			      const char *netns)
{
	return netns[0] != '\0' ? netns : batch->netns;
}

/* After one value is lost the read is lost (see tcps_read): the rest are
 * only counted. */
static int queue_value(void *data, const struct tcps_value *value)
{
	struct dispatch_batch *batch = data;
	struct glue_instance *inst = batch->inst;
	struct pending_value *p;
	value_list_t *vl;

	if (batch->lost > 0 ||
	    tcps_grow((void **)&inst->pending, &inst->pending_cap,
		      inst->pending_num + 1, sizeof(*inst->pending)) < 0) {
		batch->lost++;
		return -ENOMEM;
	}
	p = &inst->pending[inst->pending_num];
	vl = &p->vl;
	*vl = (value_list_t)VALUE_LIST_INIT;
	p->value.gauge = value->value;
	vl->values_len = 1;
	vl->time = batch->time;
	plugin_name(value->set, vl->plugin, sizeof(vl->plugin));
	sstrncpy(vl->plugin_instance, netns_name(batch, value->netns),
		 sizeof(vl->plugin_instance));
	sstrncpy(vl->type, value->type, sizeof(vl->type));
	sstrncpy(vl->type_instance, value->type_instance,
		 sizeof(vl->type_instance));
	inst->pending_num++;
	return 0;
}

/* Every value of the read, back to back: the write threads stay awake
 * through the burst instead of being woken once per value. */
static void dispatch_pending(struct glue_instance *inst)
{
	for (size_t i = 0; i < inst->pending_num; i++) {
		struct pending_value *p = &inst->pending[i];

		/* Set here: the array may have moved while it grew. */
		p->vl.values = &p->value;
		plugin_dispatch_values(&p->vl);
	}
	inst->pending_num = 0;
}

/* Sent at once, not queued: an event stays true even when its read's
 * values are dropped. collectd returns -1 only when no notification
 * plugin is loaded (and logs a failing one itself): nothing to log. */
static int dispatch_notification(void *data,
				 const struct tcps_notification *notif)
{
	const struct dispatch_batch *batch = data;
	notification_t n = { .severity = (int)notif->severity,
			     .time = batch->time };

	sstrncpy(n.message, notif->message, sizeof(n.message));
	sstrncpy(n.host, hostname_g, sizeof(n.host));
	plugin_name(notif->set, n.plugin, sizeof(n.plugin));
	sstrncpy(n.plugin_instance, netns_name(batch, notif->netns),
		 sizeof(n.plugin_instance));
	sstrncpy(n.type, notif->type, sizeof(n.type));
	sstrncpy(n.type_instance, notif->type_instance,
		 sizeof(n.type_instance));
	return plugin_dispatch_notification(&n) == 0 ? 0 : -EIO;
}

/* "" or " in namespace blue", for log lines. */
static const char *where(const struct glue_instance *inst, char *buf,
			 size_t size)
{
	if (inst->name[0] == '\0')
		return "";
	snprintf(buf, size, " in namespace %s", inst->name);
	return buf;
}

static void log_namespace(struct glue_instance *inst,
			  const struct tcps_read_report *report)
{
	char buf[ERR_TEXT_SIZE];

	if (!inst->netns_path)
		return;
	if (report->netns_error < 0) {
		c_complain(LOG_WARNING, &inst->netns_gone,
			   PLUGIN_NAME " plugin: namespace %s (%s) is gone or "
				       "unusable (%s); retrying every interval",
			   inst->name, inst->netns_path,
			   sstrerror(-report->netns_error, buf, sizeof(buf)));
		return;
	}
	c_release(LOG_NOTICE, &inst->netns_gone,
		  PLUGIN_NAME " plugin: namespace %s (%s) is back", inst->name,
		  inst->netns_path);
}

static void log_dump(struct glue_instance *inst,
		     const struct tcps_read_report *report)
{
	char buf[ERR_TEXT_SIZE], ns[96];

	if (report->netns_error < 0)
		return;
	if (report->error < 0) {
		c_complain(LOG_ERR, &inst->dump_failed,
			   PLUGIN_NAME " plugin: reading the socket table%s "
				       "failed twice (%s); nothing dispatched "
				       "for this interval",
			   where(inst, ns, sizeof(ns)),
			   sstrerror(-report->error, buf, sizeof(buf)));
		return;
	}
	c_release(LOG_NOTICE, &inst->dump_failed,
		  PLUGIN_NAME " plugin: reading the socket table%s works again",
		  where(inst, ns, sizeof(ns)));
	if (report->first_error < 0)
		c_complain(LOG_NOTICE, &inst->retried,
			   PLUGIN_NAME " plugin: socket table dump%s failed "
				       "(%s); the retry succeeded",
			   where(inst, ns, sizeof(ns)),
			   sstrerror(-report->first_error, buf, sizeof(buf)));
	if (report->stats.malformed > 0)
		c_complain(LOG_WARNING, &inst->malformed,
			   PLUGIN_NAME " plugin: skipped %" PRIu64
				       " malformed sock_diag messages%s",
			   report->stats.malformed,
			   where(inst, ns, sizeof(ns)));
}

static void log_pressure(struct glue_instance *inst,
			 const struct tcps_read_report *report)
{
	char buf[ERR_TEXT_SIZE], ns[96];

	if (report->sysctls_error < 0)
		c_complain(LOG_WARNING, &inst->sysctls,
			   PLUGIN_NAME
			   " plugin: cannot read the port sysctls "
			   "under %s/sys/net/ipv4%s (%s); "
			   "port-exhaustion percentages are not sent",
			   configured.proc_root, where(inst, ns, sizeof(ns)),
			   sstrerror(-report->sysctls_error, buf, sizeof(buf)));
	if (report->destinations_overflow > 0 && !inst->warned_overflow) {
		inst->warned_overflow = true;
		WARNING(PLUGIN_NAME " plugin: more destinations than "
				    "MaxDestinations (%u)%s: %" PRIu64
				    " sockets toward the others are not "
				    "grouped; raise MaxDestinations",
			configured.max_destinations,
			where(inst, ns, sizeof(ns)),
			report->destinations_overflow);
	}
}

static void log_leaks(struct glue_instance *inst,
		      const struct tcps_read_report *report)
{
	const struct tcps_leaks_stats *s = report->leaks;
	char buf[ERR_TEXT_SIZE];

	if (!s)
		return;
	if (report->leaks_error < 0)
		c_complain(LOG_ERR, &inst->memory,
			   PLUGIN_NAME " plugin: out of memory finding socket "
				       "owners; they are counted as unknown");
	if (s->resolve_error < 0 && s->resolve_error != -ENOMEM)
		c_complain(LOG_WARNING, &inst->owners,
			   PLUGIN_NAME " plugin: cannot scan %s for socket "
				       "owners (%s)",
			   configured.proc_root,
			   sstrerror(-s->resolve_error, buf, sizeof(buf)));
	if (s->owners.denied > 0 && !inst->warned_denied) {
		inst->warned_denied = true;
		WARNING(PLUGIN_NAME
			" plugin: may not read /proc/PID/fd of %" PRIu64
			" processes: their sockets are counted "
			"under the group -unknown. Run collectd as root, "
			"or give it CAP_SYS_PTRACE and "
			"CAP_DAC_READ_SEARCH",
			s->owners.denied);
	}
	if (s->cgroup_fallback < 0)
		WARNING(PLUGIN_NAME
			" plugin: GroupBy \"cgroup\" is not possible "
			"here (%s: %s); grouping by process name "
			"(\"comm\") instead",
			s->cgroup_fallback == -ENODATA
				? "the kernel sends no socket cgroup ids, "
				  "Linux 5.8 or later is needed"
				: "no cgroup2 hierarchy to walk in "
				  "/proc/self/mountinfo",
			sstrerror(-s->cgroup_fallback, buf, sizeof(buf)));
	if (s->untracked > 0 && !inst->warned_untracked) {
		inst->warned_untracked = true;
		WARNING(PLUGIN_NAME " plugin: more sockets in tracked states "
				    "than MaxTrackedSockets (%u): counts stay "
				    "exact, but %" PRIu64
				    " sockets have no age; raise "
				    "MaxTrackedSockets",
			configured.max_tracked_sockets, s->untracked);
	}
}

/* Some values of the read could not be queued: it is dropped whole, so
 * that no interval is stored with some of its values missing. */
static void log_queue(struct glue_instance *inst,
		      const struct dispatch_batch *batch)
{
	char ns[96];

	if (batch->lost > 0) {
		c_complain(LOG_ERR, &inst->queue_failed,
			   PLUGIN_NAME " plugin: out of memory queueing "
				       "values%s: %zu of %zu could not be "
				       "queued; nothing dispatched for this "
				       "interval",
			   where(inst, ns, sizeof(ns)), batch->lost,
			   batch->lost + inst->pending_num);
		return;
	}
	if (inst->pending_num > 0)
		c_release(LOG_NOTICE, &inst->queue_failed,
			  PLUGIN_NAME " plugin: queueing values%s works again",
			  where(inst, ns, sizeof(ns)));
}

static void log_discovery(struct glue_instance *inst,
			  const struct tcps_namespaces_report *report)
{
	char buf[ERR_TEXT_SIZE];

	if (report->discover_error < 0)
		c_complain(
			LOG_WARNING, &inst->discover_failed,
			PLUGIN_NAME " plugin: cannot look for network "
				    "namespaces (%s); reading those found "
				    "before",
			sstrerror(-report->discover_error, buf, sizeof(buf)));
	else if (report->discovered)
		c_release(LOG_NOTICE, &inst->discover_failed,
			  PLUGIN_NAME " plugin: looking for network "
				      "namespaces works again");
	if (report->denied && !inst->warned_setns) {
		inst->warned_setns = true;
		WARNING(PLUGIN_NAME " plugin: Discover: entering another "
				    "network namespace needs CAP_SYS_ADMIN, "
				    "which collectd lacks: discovered "
				    "namespaces are not read; this host's "
				    "own values are");
	}
	/* Once while some are left out, not at every change of how many. */
	if (report->discovered) {
		if (report->left_out > 0 && inst->left_out_warned == 0)
			WARNING(PLUGIN_NAME " plugin: Discover: %zu network "
					    "namespaces beyond MaxNamespaces "
					    "(%u) are not read; raise "
					    "MaxNamespaces",
				report->left_out, configured.max_namespaces);
		inst->left_out_warned = report->left_out;
	}
	if (report->added > 0 || report->gone > 0)
		INFO(PLUGIN_NAME " plugin: Discover: reading %zu network "
				 "namespaces (%zu new, %zu gone)%s%s%s%s",
		     report->reading, report->added, report->gone,
		     report->added ? "; new: " : "", report->added_names,
		     report->gone ? "; gone: " : "", report->gone_names);
	if (report->failed > report->denied)
		c_complain(LOG_WARNING, &inst->dump_failed,
			   PLUGIN_NAME " plugin: Discover: reading %zu "
				       "namespaces failed, %s first (%s)",
			   report->failed, report->first_failed,
			   sstrerror(-report->first_error, buf, sizeof(buf)));
	else
		c_release(LOG_NOTICE, &inst->dump_failed,
			  PLUGIN_NAME " plugin: Discover: reading the "
				      "discovered namespaces works again");
}

/* Every discovered namespace, one after the other, in this thread: what
 * they share needs no lock. */
static int discovered_read(struct glue_instance *inst)
{
	struct dispatch_batch batch = { .time = cdtime(),
					.netns = TCPS_NAME_HOST,
					.inst = inst };
	struct tcps_sink sink = { .value = queue_value,
				  .notify = dispatch_notification,
				  .data = &batch };
	struct tcps_namespaces_report report;

	(void)tcps_namespaces_read(inst->discovered, &sink, &report);
	log_queue(inst, &batch);
	if (batch.lost > 0)
		inst->pending_num = 0;
	else
		dispatch_pending(inst);
	log_discovery(inst, &report);
	return batch.lost > 0 ? -1 : 0;
}

static int tcps_read(user_data_t *ud)
{
	struct glue_instance *inst = ud->data;
	struct dispatch_batch batch = { .time = cdtime(),
					.netns = inst->name[0] ? inst->name
							       : TCPS_NAME_HOST,
					.inst = inst };
	struct tcps_sink sink = { .value = queue_value,
				  .notify = dispatch_notification,
				  .data = &batch };
	struct tcps_read_report report;

	if (inst->discovered)
		return discovered_read(inst);
	/* The report says what failed; the return value only repeats it. */
	(void)tcps_ctx_read(inst->ctx, &sink, &report);
	log_queue(inst, &batch);
	if (batch.lost > 0)
		inst->pending_num = 0;
	else
		dispatch_pending(inst);
	log_namespace(inst, &report);
	log_dump(inst, &report);
	log_pressure(inst, &report);
	log_leaks(inst, &report);
	/* Nothing was collected: collectd may back off. */
	if (batch.lost > 0)
		return -1;
	/* A namespace that is gone is retried at the normal interval, not
	 * at the ever longer one collectd gives a failing read. */
	if (report.netns_error < 0)
		return 0;
	return report.error < 0 ? -1 : 0;
}

static void glue_instance_free(void *data)
{
	struct glue_instance *inst = data;

	if (!inst)
		return;
	tcps_ctx_free(inst->ctx);
	tcps_namespaces_free(inst->discovered);
	tcps_host_discovery_free(inst->host);
	free(inst->pending);
	free(inst->netns_path);
	free(inst);
}

/* Converts one config line's values; *ret must be freed by the caller. */
static int convert_values(const oconfig_item_t *ci, struct tcps_cfg_value **ret)
{
	struct tcps_cfg_value *values;

	*ret = NULL;
	if (ci->values_num <= 0)
		return 0;
	values = calloc((size_t)ci->values_num, sizeof(*values));
	if (!values)
		return -ENOMEM;
	for (int i = 0; i < ci->values_num; i++) {
		const oconfig_value_t *v = &ci->values[i];

		if (v->type == OCONFIG_TYPE_STRING) {
			values[i].type = TCPS_CFG_STRING;
			values[i].string = v->value.string;
		} else if (v->type == OCONFIG_TYPE_NUMBER) {
			values[i].type = TCPS_CFG_NUMBER;
			values[i].number = v->value.number;
		} else {
			values[i].type = TCPS_CFG_BOOLEAN;
			values[i].boolean = v->value.boolean != 0;
		}
	}
	*ret = values;
	return 0;
}

static int config_option(const oconfig_item_t *child)
{
	struct tcps_cfg_value *values;
	char err[ERR_TEXT_SIZE];
	int ret;

	if (convert_values(child, &values) != 0) {
		ERROR(PLUGIN_NAME " plugin: out of memory reading option "
				  "\"%s\"",
		      child->key);
		return -1;
	}
	ret = tcps_options_set(&configured, child->key, values,
			       (size_t)child->values_num, err, sizeof(err));
	free(values);
	if (ret != 0) {
		ERROR(PLUGIN_NAME " plugin: %s", err);
		return -1;
	}
	return 0;
}

/* The name becomes part of every identifier: no character to clean. */
static int namespace_name(const oconfig_item_t *block, char *out)
{
	const char *name;
	char cleaned[TCPS_NAME_MAX + 1];

	if (block->values_num != 1 ||
	    block->values[0].type != OCONFIG_TYPE_STRING) {
		ERROR(PLUGIN_NAME " plugin: <Namespace> needs one name, as in "
				  "<Namespace \"blue\">");
		return -1;
	}
	name = block->values[0].value.string;
	tcps_name_clean(name, strlen(name), cleaned);
	if (strcmp(cleaned, name) != 0) {
		ERROR(PLUGIN_NAME " plugin: <Namespace \"%s\">: a name may "
				  "use only A-Z a-z 0-9 _ - (up to %d)",
		      name, TCPS_NAME_MAX);
		return -1;
	}
	if (tcps_name_reserved(name)) {
		ERROR(PLUGIN_NAME " plugin: <Namespace \"%s\">: \"%s\" names "
				  "the daemon's own namespace in every value; "
				  "choose another name",
		      name, name);
		return -1;
	}
	for (size_t i = 0; i < namespaces_num; i++) {
		if (strcmp(namespaces[i].name, name) == 0) {
			ERROR(PLUGIN_NAME " plugin: <Namespace \"%s\"> is "
					  "configured twice",
			      name);
			return -1;
		}
	}
	sstrncpy(out, name, TCPS_NAME_MAX + 1);
	return 0;
}

/* One line of a <Namespace> block: a single absolute Path, short enough
 * to ever be opened (open(2) refuses PATH_MAX and more). */
static int namespace_path_line(const oconfig_item_t *c, const char *name,
			       bool have_path)
{
	if (c->children_num > 0) {
		ERROR(PLUGIN_NAME " plugin: <Namespace \"%s\">: \"%s\" is not "
				  "a block option",
		      name, c->key);
		return -1;
	}
	if (strcasecmp(c->key, "Path") != 0 || c->values_num != 1 ||
	    c->values[0].type != OCONFIG_TYPE_STRING ||
	    c->values[0].value.string[0] != '/' || have_path) {
		ERROR(PLUGIN_NAME " plugin: <Namespace \"%s\">: "
				  "expected exactly one Path "
				  "\"/var/run/netns/NAME\" or "
				  "\"/proc/PID/ns/net\", got \"%s\"",
		      name, c->key);
		return -1;
	}
	if (strlen(c->values[0].value.string) >= PATH_MAX) {
		ERROR(PLUGIN_NAME " plugin: <Namespace \"%s\">: Path is too "
				  "long (%zu bytes, at most %d)",
		      name, strlen(c->values[0].value.string), PATH_MAX - 1);
		return -1;
	}
	return 0;
}

static int namespace_path(const oconfig_item_t *block, const char *name,
			  char **ret)
{
	for (int i = 0; i < block->children_num; i++) {
		const oconfig_item_t *c = &block->children[i];

		if (namespace_path_line(c, name, *ret != NULL) != 0)
			return -1;
		*ret = strdup(c->values[0].value.string);
		if (!*ret)
			return -1;
	}
	if (*ret)
		return 0;
	ERROR(PLUGIN_NAME " plugin: <Namespace \"%s\"> has no Path", name);
	return -1;
}

static int config_namespace(const oconfig_item_t *block)
{
	struct namespace_config *ns;

	if (namespaces_num >= MAX_NAMESPACES) {
		ERROR(PLUGIN_NAME " plugin: more than %d <Namespace> blocks",
		      MAX_NAMESPACES);
		return -1;
	}
	ns = &namespaces[namespaces_num];
	ns->path = NULL;
	if (namespace_name(block, ns->name) != 0 ||
	    namespace_path(block, ns->name, &ns->path) != 0) {
		free(ns->path);
		ns->path = NULL;
		return -1;
	}
	namespaces_num++;
	return 0;
}

/*
 * An option line always has a value (liboconfig's grammar), so an item
 * with none is a block. collectd 5.12's parser drops a block that has
 * neither a value nor anything inside ("<Discover>" then "</Discover>")
 * before any plugin sees it: that one cannot be reported from here.
 */
static bool is_block(const oconfig_item_t *item)
{
	return item->children_num > 0 || item->values_num == 0;
}

/* <Namespace> is the only block; anything else is named as a mistake. */
static int config_block(const oconfig_item_t *block)
{
	if (tcps_options_known(block->key))
		ERROR(PLUGIN_NAME " plugin: \"%s\" is not a block option",
		      block->key);
	else
		ERROR(PLUGIN_NAME " plugin: unknown block <%s>; the only block "
				  "is <Namespace \"NAME\">",
		      block->key);
	return -1;
}

static int config_child(const oconfig_item_t *child)
{
	if (strcasecmp(child->key, "Namespace") == 0)
		return config_namespace(child);
	if (is_block(child))
		return config_block(child);
	return config_option(child);
}

static int tcps_config(oconfig_item_t *ci)
{
	char err[ERR_TEXT_SIZE];

	for (int i = 0; i < ci->children_num; i++)
		if (config_child(&ci->children[i]) != 0)
			config_failed = true;
	if (!config_failed &&
	    tcps_options_check(&configured, err, sizeof(err)) != 0) {
		ERROR(PLUGIN_NAME " plugin: %s", err);
		config_failed = true;
	}
	return config_failed ? -1 : 0;
}

static int register_read(const char *ns_name, const char *ns_path)
{
	struct tcps_options opts = configured;
	struct glue_instance *inst = calloc(1, sizeof(*inst));
	char read_name[sizeof(PLUGIN_NAME) + TCPS_NAME_MAX + 2];
	char buf[ERR_TEXT_SIZE], ns[96];
	int ret;

	if (!inst || (ns_path && !(inst->netns_path = strdup(ns_path)))) {
		glue_instance_free(inst);
		return -1;
	}
	sstrncpy(inst->name, ns_name, sizeof(inst->name));
	opts.netns_path = inst->netns_path;
	ret = tcps_ctx_new(&opts, &inst->ctx);
	if (ret < 0) {
		ERROR(PLUGIN_NAME " plugin: starting%s failed: %s",
		      where(inst, ns, sizeof(ns)),
		      sstrerror(-ret, buf, sizeof(buf)));
		glue_instance_free(inst);
		return -1;
	}
	snprintf(read_name, sizeof(read_name), "%s%s%s", PLUGIN_NAME,
		 ns_name[0] ? "-" : "", ns_name);
	return plugin_register_complex_read(
		NULL, read_name, tcps_read, 0,
		&(user_data_t){ .data = inst,
				.free_func = glue_instance_free });
}

/* Discover: one read callback for every other namespace of the host;
 * those of <Namespace> blocks are read by their own, never twice. Its
 * name has a character no namespace name may have: collectd refuses a
 * second read of one name, and <Namespace "discovered"> is allowed. */
static int register_discovery(void)
{
	struct glue_instance *inst = calloc(1, sizeof(*inst));
	struct tcps_namespaces_config cfg = {
		.opts = tcps_options_discovered(&configured),
		.discover_every = configured.discover_every,
		.max_namespaces = configured.max_namespaces,
		.discover = tcps_host_discovery_run,
	};
	const char *skip[MAX_NAMESPACES];
	char buf[ERR_TEXT_SIZE];
	int ret;

	for (size_t i = 0; i < namespaces_num; i++)
		skip[i] = namespaces[i].path;
	ret = inst ? tcps_host_discovery_new(configured.proc_root, skip,
					     namespaces_num, &inst->host)
		   : -ENOMEM;
	if (ret == 0) {
		cfg.discover_arg = inst->host;
		ret = tcps_namespaces_new(&cfg, &inst->discovered);
	}
	if (ret < 0) {
		ERROR(PLUGIN_NAME " plugin: Discover: starting failed: %s",
		      sstrerror(-ret, buf, sizeof(buf)));
		glue_instance_free(inst);
		return -1;
	}
	return plugin_register_complex_read(
		NULL, PLUGIN_NAME "/Discover", tcps_read, 0,
		&(user_data_t){ .data = inst,
				.free_func = glue_instance_free });
}

static int tcps_init(void)
{
	/* collectd -T must fail on bad options, and init is what it runs. */
	if (config_failed) {
		ERROR(PLUGIN_NAME " plugin: not starting: the configuration "
				  "has errors (see above)");
		return -1;
	}
	if (reads_registered)
		return 0;
	if (register_read("", NULL) != 0)
		return -1;
	for (size_t i = 0; i < namespaces_num; i++)
		if (register_read(namespaces[i].name, namespaces[i].path) != 0)
			return -1;
	if (configured.discover && register_discovery() != 0)
		return -1;
	reads_registered = true;
	return 0;
}

/* collectd frees each read's user data itself; forget the configuration
 * so that a daemon re-initialising the plugin starts from the defaults. */
static int tcps_shutdown(void)
{
	for (size_t i = 0; i < namespaces_num; i++)
		free(namespaces[i].path);
	namespaces_num = 0;
	tcps_options_init(&configured);
	config_failed = false;
	reads_registered = false;
	return 0;
}

__attribute__((visibility("default"))) void module_register(void)
{
	tcps_options_init(&configured);
	plugin_register_complex_config(PLUGIN_NAME, tcps_config);
	plugin_register_init(PLUGIN_NAME, tcps_init);
	plugin_register_shutdown(PLUGIN_NAME, tcps_shutdown);
}

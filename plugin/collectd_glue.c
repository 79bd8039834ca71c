/*
 * The only file that talks to collectd: config tree -> options, init,
 * one read callback per context, values -> plugin_dispatch_values.
 */
#include "collectd/core/daemon/collectd.h"
#include "collectd/core/daemon/plugin.h"
#include "collectd/core/daemon/utils_complain.h"
#include "collectd/core/utils/common/common.h"

#include "tcpstates/collect.h"

#define PLUGIN_NAME "tcpstates"
#define ERR_TEXT_SIZE 256

/* One read callback's state, owned by collectd through user_data_t. */
struct glue_instance {
	struct tcps_ctx *ctx;
	c_complain_t dump_failed;
	c_complain_t malformed;
	c_complain_t retried;
};

/* What one read hands to the sink: all values share one timestamp. */
struct dispatch_batch {
	cdtime_t time;
};

/* Options from <Plugin tcpstates>, parsed before init creates contexts. */
static struct tcps_options configured;
static bool config_failed;
static bool read_registered;

static int dispatch_value(void *data, const struct tcps_value *value)
{
	const struct dispatch_batch *batch = data;
	value_list_t vl = VALUE_LIST_INIT;
	value_t gauge = { .gauge = value->value };

	vl.values = &gauge;
	vl.values_len = 1;
	vl.time = batch->time;
	sstrncpy(vl.plugin, PLUGIN_NAME, sizeof(vl.plugin));
	sstrncpy(vl.plugin_instance, value->plugin_instance,
		 sizeof(vl.plugin_instance));
	sstrncpy(vl.type, value->type, sizeof(vl.type));
	sstrncpy(vl.type_instance, value->type_instance,
		 sizeof(vl.type_instance));
	return plugin_dispatch_values(&vl) == 0 ? 0 : -EIO;
}

static int dispatch_notification(void *data,
				 const struct tcps_notification *notif)
{
	const struct dispatch_batch *batch = data;
	notification_t n = { .severity = (int)notif->severity,
			     .time = batch->time };

	sstrncpy(n.message, notif->message, sizeof(n.message));
	sstrncpy(n.host, hostname_g, sizeof(n.host));
	sstrncpy(n.plugin, PLUGIN_NAME, sizeof(n.plugin));
	sstrncpy(n.plugin_instance, notif->plugin_instance,
		 sizeof(n.plugin_instance));
	sstrncpy(n.type, notif->type, sizeof(n.type));
	sstrncpy(n.type_instance, notif->type_instance,
		 sizeof(n.type_instance));
	return plugin_dispatch_notification(&n) == 0 ? 0 : -EIO;
}

static void log_read_report(struct glue_instance *inst,
			    const struct tcps_read_report *report)
{
	char buf[ERR_TEXT_SIZE];

	if (report->error < 0) {
		c_complain(LOG_ERR, &inst->dump_failed,
			   PLUGIN_NAME " plugin: reading the socket table "
				       "failed twice (%s); nothing dispatched "
				       "for this interval",
			   sstrerror(-report->error, buf, sizeof(buf)));
		return;
	}
	c_release(LOG_NOTICE, &inst->dump_failed,
		  PLUGIN_NAME " plugin: reading the socket table works again");
	if (report->first_error < 0)
		c_complain(LOG_NOTICE, &inst->retried,
			   PLUGIN_NAME " plugin: socket table dump failed "
				       "(%s); the retry succeeded",
			   sstrerror(-report->first_error, buf, sizeof(buf)));
	if (report->stats.malformed > 0)
		c_complain(LOG_WARNING, &inst->malformed,
			   PLUGIN_NAME " plugin: skipped %" PRIu64
				       " malformed sock_diag messages",
			   report->stats.malformed);
}

static int tcps_read(user_data_t *ud)
{
	struct glue_instance *inst = ud->data;
	struct dispatch_batch batch = { .time = cdtime() };
	struct tcps_sink sink = { .value = dispatch_value,
				  .notify = dispatch_notification,
				  .data = &batch };
	struct tcps_read_report report;
	int ret;

	ret = tcps_ctx_read(inst->ctx, &sink, &report);
	log_read_report(inst, &report);
	/* Non-zero only when nothing was dispatched: collectd backs off. */
	return ret < 0 ? -1 : 0;
}

static void glue_instance_free(void *data)
{
	struct glue_instance *inst = data;

	if (!inst)
		return;
	tcps_ctx_free(inst->ctx);
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

static int tcps_config(oconfig_item_t *ci)
{
	char err[ERR_TEXT_SIZE];

	for (int i = 0; i < ci->children_num; i++)
		if (config_option(&ci->children[i]) != 0)
			config_failed = true;
	if (!config_failed &&
	    tcps_options_check(&configured, err, sizeof(err)) != 0) {
		ERROR(PLUGIN_NAME " plugin: %s", err);
		config_failed = true;
	}
	return config_failed ? -1 : 0;
}

static int tcps_init(void)
{
	struct glue_instance *inst;
	char buf[ERR_TEXT_SIZE];
	int ret;

	/* collectd -T must fail on bad options, and init is what it runs. */
	if (config_failed) {
		ERROR(PLUGIN_NAME " plugin: not starting: the configuration "
				  "has errors (see above)");
		return -1;
	}
	if (read_registered)
		return 0;
	inst = calloc(1, sizeof(*inst));
	if (!inst)
		return -1;
	ret = tcps_ctx_new(&configured, &inst->ctx);
	if (ret < 0) {
		ERROR(PLUGIN_NAME " plugin: opening the sock_diag netlink "
				  "socket failed: %s",
		      sstrerror(-ret, buf, sizeof(buf)));
		glue_instance_free(inst);
		return -1;
	}
	ret = plugin_register_complex_read(
		NULL, PLUGIN_NAME, tcps_read, 0,
		&(user_data_t){ .data = inst,
				.free_func = glue_instance_free });
	if (ret != 0) {
		glue_instance_free(inst);
		return -1;
	}
	read_registered = true;
	return 0;
}

/* collectd frees the read's user data itself; forget the configuration
 * so that a daemon re-initialising the plugin starts from the defaults. */
static int tcps_shutdown(void)
{
	tcps_options_init(&configured);
	config_failed = false;
	read_registered = false;
	return 0;
}

__attribute__((visibility("default"))) void module_register(void)
{
	tcps_options_init(&configured);
	plugin_register_complex_config(PLUGIN_NAME, tcps_config);
	plugin_register_init(PLUGIN_NAME, tcps_init);
	plugin_register_shutdown(PLUGIN_NAME, tcps_shutdown);
}

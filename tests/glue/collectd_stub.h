/*
 * Just enough of the collectd daemon to drive plugin/collectd_glue.c in a
 * test or a fuzz target: registrations, dispatched values and log lines
 * are kept, the clock is the caller's, and c_complain follows the
 * daemon's rule.
 */
#ifndef TCPSTATES_TEST_COLLECTD_STUB_H
#define TCPSTATES_TEST_COLLECTD_STUB_H

#include <stdbool.h>

#include "collectd/core/daemon/collectd.h"
#include "collectd/core/daemon/plugin.h"

#define STUB_MAX_LOGS 256
#define STUB_MAX_VALUES 1024
#define STUB_MAX_READS 8
/* Every name a read may register under: the main read, 256 <Namespace>
 * blocks, discovery. */
#define STUB_MAX_READ_NAMES 260

struct stub_log {
	int level;
	char message[512];
};

struct stub_value {
	char plugin[DATA_MAX_NAME_LEN], plugin_instance[DATA_MAX_NAME_LEN],
		type[DATA_MAX_NAME_LEN], type_instance[DATA_MAX_NAME_LEN];
	gauge_t value;
};

/* One registered read callback, as collectd keeps it. */
struct stub_read {
	char name[64];
	plugin_read_cb callback;
	user_data_t data;
};

struct collectd_stub {
	int (*config)(oconfig_item_t *ci);
	plugin_init_cb init;
	plugin_shutdown_cb shutdown;
	plugin_read_cb read;
	user_data_t read_data;
	int reads_registered;
	struct stub_log logs[STUB_MAX_LOGS];
	int logs_num;  /* kept in logs[] */
	int logs_seen; /* all of them */
	struct stub_value values[STUB_MAX_VALUES];
	int values_num;
	int notifications_num;
	cdtime_t now;		 /* what cdtime() returns */
	cdtime_t interval;	 /* what plugin_get_interval() returns */
	bool free_reads_at_once; /* set by callers that never read */
	/* Every read registered, in order (read and read_data: the last). */
	struct stub_read reads[STUB_MAX_READS];
	int reads_num;
	/* Every name registered, even with free_reads_at_once: collectd
	 * refuses a second read of the same name. */
	char read_names[STUB_MAX_READ_NAMES][96];
	int read_names_num;
};

extern struct collectd_stub stub;

void stub_reset(void);
/* The glue's only exported function. */
void module_register(void);
/* Log lines at level whose text contains needle. */
int stub_logs_matching(int level, const char *needle);
/* The value of <plugin>-<plugin_instance>/<type>-<type_instance>, or -1
 * if it was not dispatched; fails the test if it was twice. */
gauge_t stub_value(const char *plugin, const char *plugin_instance,
		   const char *type, const char *type_instance);

#endif

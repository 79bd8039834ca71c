/* The registrations the glue made with the stubbed collectd. */
#ifndef TCPSTATES_FUZZ_COLLECTD_STUBS_H
#define TCPSTATES_FUZZ_COLLECTD_STUBS_H

#include "collectd/core/daemon/plugin.h"

struct stub_plugin {
	int (*config)(oconfig_item_t *ci);
	plugin_init_cb init;
	plugin_shutdown_cb shutdown;
	unsigned long log_lines;
	unsigned long reads;
	unsigned long long_read_names;
};

extern struct stub_plugin stub_plugin;

/* The glue's only exported function. */
void module_register(void);

#endif

/* Where the core sends what it measured; collectd is one such sink. */
#ifndef TCPSTATES_SINK_H
#define TCPSTATES_SINK_H

/* One gauge value, named the way collectd names a value. */
struct tcps_value {
	const char *plugin_instance; /* "" for the plugin's own instance */
	const char *type;	     /* a stock types.db type */
	const char *type_instance;
	double value;
};

struct tcps_sink {
	/* Returns 0 or -errno; the core keeps going on failure. */
	int (*value)(void *data, const struct tcps_value *value);
	void *data;
};

#endif

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

/* Same numbers as collectd's NOTIF_FAILURE, NOTIF_WARNING, NOTIF_OKAY. */
enum tcps_severity {
	TCPS_SEVERITY_FAILURE = 1,
	TCPS_SEVERITY_WARNING = 2,
	TCPS_SEVERITY_OKAY = 4,
};

/* One event: sent once when a condition starts, once when it clears. */
struct tcps_notification {
	enum tcps_severity severity;
	const char *plugin_instance;
	const char *type;
	const char *type_instance;
	const char *message; /* one line, no newline */
};

struct tcps_sink {
	/* Both return 0 or -errno; the core keeps going on failure. */
	int (*value)(void *data, const struct tcps_value *value);
	int (*notify)(void *data, const struct tcps_notification *notif);
	void *data;
};

#endif

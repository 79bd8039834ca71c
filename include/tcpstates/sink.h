/* Where the core sends what it measured; collectd is one such sink. */
#ifndef TCPSTATES_SINK_H
#define TCPSTATES_SINK_H

/*
 * One gauge value, named the way collectd names a value: the plugin says
 * what is measured ("tcpstates" or "tcpstates_<set>"), the plugin
 * instance which network namespace, the type instance the one object the
 * value is about (a state, a group, a port, a side, a name).
 */
struct tcps_value {
	const char *netns; /* the namespace's name; "" for the reader's own */
	const char *set;   /* the value set: "" (states), "ephemeral", ... */
	const char *type;  /* a stock types.db type */
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
	const char *netns; /* as in the value it is about */
	const char *set;
	const char *type;
	const char *type_instance;
	const char *message; /* one line, no newline */
};

/*
 * Both callbacks return 0 or -errno. The core does not look: it goes on
 * emitting the rest of the read, and a sink that can fail counts its own
 * failures and decides what a read with holes is worth (the collectd glue
 * then dispatches none of that read's values). notify may be NULL: the
 * sink takes no notifications (a test's, or one that only stores values).
 * The core emits through tcps_sink_value and tcps_sink_notify only.
 */
struct tcps_sink {
	int (*value)(void *data, const struct tcps_value *value);
	int (*notify)(void *data, const struct tcps_notification *notif);
	void *data;
};

/* Sends one value of set in the reader's own namespace. Returns what
 * sink->value returned: 0 or -errno. */
static inline int tcps_sink_value(const struct tcps_sink *sink, const char *set,
				  const char *type, const char *type_instance,
				  double value)
{
	const struct tcps_value v = { .netns = "",
				      .set = set,
				      .type = type,
				      .type_instance = type_instance,
				      .value = value };

	return sink->value(sink->data, &v);
}

/*
 * Sends one notification. Returns what sink->notify returned, or 0 when
 * the sink has no notify: that notification is dropped, by design.
 */
static inline int tcps_sink_notify(const struct tcps_sink *sink,
				   enum tcps_severity severity, const char *set,
				   const char *type, const char *type_instance,
				   const char *message)
{
	const struct tcps_notification n = { .severity = severity,
					     .netns = "",
					     .set = set,
					     .type = type,
					     .type_instance = type_instance,
					     .message = message };

	if (!sink->notify)
		return 0;
	return sink->notify(sink->data, &n);
}

#endif

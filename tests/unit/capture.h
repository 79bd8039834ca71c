/* A sink that keeps what the core emitted, for assertions. */
#ifndef TCPSTATES_TEST_CAPTURE_H
#define TCPSTATES_TEST_CAPTURE_H

#include <stdbool.h>

#include "tcpstates/sink.h"

#define CAPTURE_MAX 512
/* Notifications: room for every WARNING the ephemeral observer may send
 * in one interval (TCPS_EPHEMERAL_MAX_WARNED, 1024). */
#define CAPTURE_NOTES_MAX 1100

/* instance: the value set ("" for the states, "proc_close_wait", ...),
 * after "NETNS/" when the value names its namespace. */
struct captured_value {
	char instance[160], type[64], type_instance[64];
	double value;
};

struct captured_notification {
	enum tcps_severity severity;
	char instance[160], type[64], type_instance[64], message[512];
};

struct capture {
	struct captured_value values[CAPTURE_MAX];
	int values_num;
	struct captured_notification notes[CAPTURE_NOTES_MAX];
	int notes_num;
};

/* A sink writing into cap; capture_reset() empties it. */
struct tcps_sink capture_sink(struct capture *cap);
void capture_reset(struct capture *cap);
/* The value instance/type-type_instance, or fails the test if absent. */
double capture_get(const struct capture *cap, const char *instance,
		   const char *type, const char *type_instance);
bool capture_has(const struct capture *cap, const char *instance,
		 const char *type, const char *type_instance);
/* How many times that value was captured. */
int capture_count(const struct capture *cap, const char *instance,
		  const char *type, const char *type_instance);
int capture_count_instance(const struct capture *cap, const char *instance);
/* How many values named the namespace netns, of any set. */
int capture_count_netns(const struct capture *cap, const char *netns);

#endif

/* Every observer one read feeds, created from the options. */
#ifndef TCPSTATES_OBSERVERS_H
#define TCPSTATES_OBSERVERS_H

#include <stdint.h>

#include "tcpstates/ephemeral.h"
#include "tcpstates/leaks.h"
#include "tcpstates/listeners.h"
#include "tcpstates/options.h"
#include "tcpstates/ports.h"
#include "tcpstates/stuck.h"
#include "tcpstates/tally.h"

struct tcps_observers {
	struct tcps_state_tally states;
	struct tcps_listeners *listeners;
	struct tcps_ephemeral *ephemeral;
	struct tcps_stuck *stuck;
	struct tcps_ports *ports; /* NULL: no per-port option given */
	struct tcps_leaks *leaks; /* NULL: ProcessStates "none" */
	struct tcps_sysctls sysctls;
	int sysctls_error; /* -errno of this interval's sysctl read, or 0 */
	const char *proc_root;
};

/* Returns 0 or -errno (-EINVAL for options an observer refuses). */
int tcps_observers_new(const struct tcps_options *opts,
		       struct tcps_observers **ret);
void tcps_observers_free(struct tcps_observers *obs);

/* Start of an interval, inside the namespace read (sysctls are read). */
void tcps_observers_begin(struct tcps_observers *obs);
void tcps_observers_observe(const struct tcps_record *rec, void *obs);
void tcps_observers_abort(struct tcps_observers *obs);

/* After a successful dump: every observer emits. Returns the leak
 * finder's -errno, or 0. */
int tcps_observers_end(struct tcps_observers *obs, uint64_t now_ms,
		       const struct tcps_sink *sink);

#endif

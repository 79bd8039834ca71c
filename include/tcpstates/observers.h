/* Every observer one read feeds, created from the options. */
#ifndef TCPSTATES_OBSERVERS_H
#define TCPSTATES_OBSERVERS_H

#include <stdint.h>

#include "tcpstates/options.h"
#include "tcpstates/owners.h"
#include "tcpstates/record.h"
#include "tcpstates/sink.h"
#include "tcpstates/tally.h"

struct tcps_leaks_stats;
struct tcps_observers;

/* What the observers met in one interval besides the values they emit:
 * what the caller logs. */
struct tcps_observers_report {
	int sysctls_error; /* -errno of this interval's sysctl read, or 0 */
	int leaks_error;   /* -errno of the leak finder, or 0 */
	const struct tcps_leaks_stats *leaks; /* NULL when it is off */
	uint64_t destinations_overflow;	      /* not counted: table full */
};

/* Returns 0 or -errno (-EINVAL for options an observer refuses). */
int tcps_observers_new(const struct tcps_options *opts,
		       struct tcps_observers **ret);
void tcps_observers_free(struct tcps_observers *obs);

/* Start of an interval: sysctls are read when due, from the folder set
 * below, or else from the calling thread's namespace. */
void tcps_observers_begin(struct tcps_observers *obs);
/*
 * Where the sysctls come from: dir is an open sys/net/ipv4 of the
 * namespace read (tcps_sysctls_open_dir; the caller keeps and closes it),
 * or -errno when it could not be opened (that is then the sysctl read's
 * error). The next begin reads them: a namespace opened again may have
 * other settings.
 */
void tcps_observers_set_sysctls_dir(struct tcps_observers *obs, int dir);
/* The start of an interval that will see no socket, without reading
 * sysctls: a namespace that is gone sends its values once as zeros. */
void tcps_observers_begin_empty(struct tcps_observers *obs);
void tcps_observers_observe(const struct tcps_record *rec, void *obs);
void tcps_observers_abort(struct tcps_observers *obs);

/* After a successful dump: every observer emits, and *ret_report says
 * what went wrong on the way (valid until the next interval ends). */
void tcps_observers_end(struct tcps_observers *obs, uint64_t now_ms,
			const struct tcps_sink *sink,
			struct tcps_observers_report *ret_report);

/*
 * tcps_observers_end around an owner search shared between namespaces
 * (Discover; see tcps_leaks_prepare): prepare_owners gives the leak
 * finder's owner queries (none when it is off; 0 or -ENOMEM), then
 * end_shared ends the interval with the search whose last resolve
 * answered them, that resolve's result and stats.
 */
int tcps_observers_prepare_owners(struct tcps_observers *obs, uint64_t now_ms,
				  struct tcps_owner_query **ret,
				  size_t *ret_num);
void tcps_observers_end_shared(struct tcps_observers *obs, uint64_t now_ms,
			       const struct tcps_sink *sink,
			       const struct tcps_owners *owners,
			       int resolve_error,
			       const struct tcps_owner_stats *stats,
			       struct tcps_observers_report *ret_report);

/* The state counts of the interval: zeros after begin() and abort(). */
const struct tcps_state_tally *
tcps_observers_states(const struct tcps_observers *obs);

#endif

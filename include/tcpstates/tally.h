/* Sockets counted per TCP state. */
#ifndef TCPSTATES_TALLY_H
#define TCPSTATES_TALLY_H

#include <stdint.h>

#include "tcpstates/record.h"

struct tcps_state_tally {
	uint64_t count[TCPS_STATE_COUNT];
};

/* The state of any kernel state number; unknown numbers share
 * TCPS_STATE_UNKNOWN. */
enum tcps_state tcps_state_of(unsigned int kernel_state);

/* The metric name of a state ("ESTABLISHED", ..., "UNKNOWN"). */
const char *tcps_state_name(enum tcps_state state);

/* The state's name in lower case ("close_wait"), as it ends the names of
 * the per-state value sets: "proc_close_wait", "local_close_wait". */
const char *tcps_state_set_name(enum tcps_state state);

/* Looks a state up by metric name, case-insensitively. Returns the state,
 * or -ENOENT. "UNKNOWN" is not a name one can ask for. */
int tcps_state_from_name(const char *name);

void tcps_state_tally_reset(struct tcps_state_tally *tally);
void tcps_state_tally_add(struct tcps_state_tally *tally,
			  const struct tcps_record *rec);

#endif

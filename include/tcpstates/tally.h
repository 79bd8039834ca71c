/* Sockets counted per TCP state. */
#ifndef TCPSTATES_TALLY_H
#define TCPSTATES_TALLY_H

#include <stdint.h>

#include "tcpstates/record.h"

/* Kernel TCP state numbers, as in include/net/tcp_states.h. */
enum tcps_state {
	TCPS_ESTABLISHED = 1,
	TCPS_SYN_SENT,
	TCPS_SYN_RECV,
	TCPS_FIN_WAIT1,
	TCPS_FIN_WAIT2,
	TCPS_TIME_WAIT,
	TCPS_CLOSE,
	TCPS_CLOSE_WAIT,
	TCPS_LAST_ACK,
	TCPS_LISTEN,
	TCPS_CLOSING,
	TCPS_STATE_UNKNOWN, /* any number the kernel sends outside 1..11 */
	TCPS_STATE_SLOTS,
};

#define TCPS_STATE_FIRST TCPS_ESTABLISHED

struct tcps_state_tally {
	uint64_t count[TCPS_STATE_SLOTS];
};

/* Maps any kernel state number to a slot; unknown numbers share one. */
enum tcps_state tcps_state_slot(unsigned int kernel_state);

/* The metric name of a slot ("ESTABLISHED", ..., "UNKNOWN"). */
const char *tcps_state_name(enum tcps_state slot);

/* Looks a state up by metric name, case-insensitively. Returns the slot,
 * or -ENOENT. "UNKNOWN" is not a name one can ask for. */
int tcps_state_from_name(const char *name);

void tcps_state_tally_reset(struct tcps_state_tally *tally);
void tcps_state_tally_add(struct tcps_state_tally *tally,
			  const struct tcps_record *rec);

#endif

/* Per-state socket counts. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "tcpstates/tally.h"

/* The names collectd's tcpconns plugin uses, so dashboards carry over. */
static const char *const state_names[TCPS_STATE_COUNT] = {
	[TCPS_ESTABLISHED] = "ESTABLISHED",
	[TCPS_SYN_SENT] = "SYN_SENT",
	[TCPS_SYN_RECV] = "SYN_RECV",
	[TCPS_FIN_WAIT1] = "FIN_WAIT1",
	[TCPS_FIN_WAIT2] = "FIN_WAIT2",
	[TCPS_TIME_WAIT] = "TIME_WAIT",
	[TCPS_CLOSE] = "CLOSED",
	[TCPS_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCPS_LAST_ACK] = "LAST_ACK",
	[TCPS_LISTEN] = "LISTEN",
	[TCPS_CLOSING] = "CLOSING",
	[TCPS_STATE_UNKNOWN] = "UNKNOWN",
};

/* The same, as value set names take them: "proc_close_wait". */
static const char *const state_set_names[TCPS_STATE_COUNT] = {
	[TCPS_ESTABLISHED] = "established",
	[TCPS_SYN_SENT] = "syn_sent",
	[TCPS_SYN_RECV] = "syn_recv",
	[TCPS_FIN_WAIT1] = "fin_wait1",
	[TCPS_FIN_WAIT2] = "fin_wait2",
	[TCPS_TIME_WAIT] = "time_wait",
	[TCPS_CLOSE] = "closed",
	[TCPS_CLOSE_WAIT] = "close_wait",
	[TCPS_LAST_ACK] = "last_ack",
	[TCPS_LISTEN] = "listen",
	[TCPS_CLOSING] = "closing",
	[TCPS_STATE_UNKNOWN] = "unknown",
};

enum tcps_state tcps_state_of(unsigned int kernel_state)
{
	if (kernel_state < TCPS_STATE_FIRST ||
	    kernel_state >= TCPS_STATE_UNKNOWN)
		return TCPS_STATE_UNKNOWN;
	return (enum tcps_state)kernel_state;
}

const char *tcps_state_name(enum tcps_state state)
{
	if ((unsigned int)state >= TCPS_STATE_COUNT || !state_names[state])
		return state_names[TCPS_STATE_UNKNOWN];
	return state_names[state];
}

const char *tcps_state_set_name(enum tcps_state state)
{
	if ((unsigned int)state >= TCPS_STATE_COUNT || !state_set_names[state])
		return state_set_names[TCPS_STATE_UNKNOWN];
	return state_set_names[state];
}

int tcps_state_from_name(const char *name)
{
	for (int state = TCPS_STATE_FIRST; state < TCPS_STATE_UNKNOWN; state++)
		if (strcasecmp(name, state_names[state]) == 0)
			return state;
	return -ENOENT;
}

void tcps_state_tally_reset(struct tcps_state_tally *tally)
{
	memset(tally, 0, sizeof(*tally));
}

void tcps_state_tally_add(struct tcps_state_tally *tally,
			  const struct tcps_record *rec)
{
	tally->count[tcps_state_of(rec->state)]++;
}

/* Stuck senders: retransmitting, zero-window probing, unacknowledged bytes. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "tcpstates/stuck.h"
#include "tcpstates/record.h"

/* idiag_timer values, as the kernel's inet_diag fills them. */
enum {
	TIMER_RETRANSMIT = 1,
	TIMER_ZERO_WINDOW_PROBE = 4,
};

struct tcps_stuck {
	uint32_t threshold;
	uint64_t retransmitting;
	uint64_t zero_window;
	uint64_t unacknowledged;
};

int tcps_stuck_new(const struct tcps_stuck_config *cfg, struct tcps_stuck **ret)
{
	struct tcps_stuck *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->threshold = cfg->retransmit_threshold;
	*ret = s;
	return 0;
}

void tcps_stuck_free(struct tcps_stuck *s)
{
	free(s);
}

static void reset(struct tcps_stuck *s)
{
	s->retransmitting = 0;
	s->zero_window = 0;
	s->unacknowledged = 0;
}

void tcps_stuck_begin(struct tcps_stuck *s)
{
	reset(s);
}

void tcps_stuck_abort(struct tcps_stuck *s)
{
	reset(s);
}

/*
 * The send queue is write_seq - snd_una, and a SYN or FIN takes one
 * sequence number: a SYN_SENT socket shows 1, and FIN_WAIT1, CLOSING and
 * LAST_ACK show their data plus the unacknowledged FIN (ss shows the same
 * Send-Q). That one is not a byte of data.
 */
static bool holds_control_flag(uint8_t state)
{
	return state == TCPS_SYN_SENT || state == TCPS_FIN_WAIT1 ||
	       state == TCPS_CLOSING || state == TCPS_LAST_ACK;
}

static uint32_t unacked_bytes(const struct tcps_record *rec)
{
	if (holds_control_flag(rec->state) && rec->wqueue > 0)
		return rec->wqueue - 1;
	return rec->wqueue;
}

void tcps_stuck_observe(struct tcps_stuck *s, const struct tcps_record *rec)
{
	/* Data sent and retransmitted again and again: the peer is gone. */
	if (rec->state == TCPS_ESTABLISHED && rec->timer == TIMER_RETRANSMIT &&
	    rec->retrans > s->threshold)
		s->retransmitting++;
	/* The peer stopped reading: we can only probe its window. */
	if (rec->timer == TIMER_ZERO_WINDOW_PROBE)
		s->zero_window++;
	/* On a LISTEN socket the send queue field holds the backlog. */
	if (rec->state != TCPS_LISTEN)
		s->unacknowledged += unacked_bytes(rec);
}

void tcps_stuck_end(struct tcps_stuck *s, const struct tcps_sink *sink)
{
	tcps_sink_value(sink, "stuck", "tcp_connections", "retransmitting",
			(double)s->retransmitting);
	tcps_sink_value(sink, "stuck", "tcp_connections", "zero_window",
			(double)s->zero_window);
	tcps_sink_value(sink, "stuck", "bytes", "unacknowledged",
			(double)s->unacknowledged);
}

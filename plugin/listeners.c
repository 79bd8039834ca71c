/* Listening ports: accept queues, backlogs, SYN_RECV and full-queue alerts. */
#define _GNU_SOURCE /* qsort_r: the ranking needs the per-port table */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstates/listeners.h"
#include "tcpstates/record.h"

struct port_stat {
	uint64_t queue;	  /* accept queues of the port's LISTEN sockets */
	uint64_t backlog; /* their backlog limits */
	uint32_t syn_recv;
	uint32_t gen; /* entry valid only when equal to the interval's gen */
};

struct tcps_listeners {
	uint32_t top_n;
	uint32_t gen;
	uint32_t touched_num;
	/* Both TCPS_PORT_COUNT long, allocated once: a generation number instead of a
	 * 1.5 MiB reset per interval, and the touched list to walk only the
	 * ports that appeared. */
	struct port_stat *stats;
	uint16_t *touched;
	struct tcps_port_set listening;
	struct tcps_port_set full;   /* full in this interval */
	struct tcps_port_set warned; /* WARNING sent, OKAY not yet */
	struct tcps_port_set listed; /* ports listed one by one last time */
};

int tcps_listeners_new(const struct tcps_listeners_config *cfg,
		       struct tcps_listeners **ret)
{
	struct tcps_listeners *listeners = calloc(1, sizeof(*listeners));

	if (!listeners)
		return -ENOMEM;
	listeners->stats = calloc(TCPS_PORT_COUNT, sizeof(*listeners->stats));
	listeners->touched =
		calloc(TCPS_PORT_COUNT, sizeof(*listeners->touched));
	if (!listeners->stats || !listeners->touched) {
		tcps_listeners_free(listeners);
		return -ENOMEM;
	}
	listeners->top_n = cfg->top_n;
	listeners->gen = 1;
	*ret = listeners;
	return 0;
}

void tcps_listeners_free(struct tcps_listeners *listeners)
{
	if (!listeners)
		return;
	free(listeners->stats);
	free(listeners->touched);
	free(listeners);
}

static void forget_interval(struct tcps_listeners *listeners)
{
	listeners->touched_num = 0;
	listeners->gen++;
	if (listeners->gen == 0) {
		/* After 2^32 intervals old entries could look current. */
		for (uint32_t port = 0; port < TCPS_PORT_COUNT; port++)
			listeners->stats[port].gen = 0;
		listeners->gen = 1;
	}
	tcps_port_set_clear(&listeners->listening);
	tcps_port_set_clear(&listeners->full);
}

void tcps_listeners_begin(struct tcps_listeners *listeners)
{
	forget_interval(listeners);
}

void tcps_listeners_abort(struct tcps_listeners *listeners)
{
	forget_interval(listeners);
}

/* Each port enters the touched list at most once per generation, so the
 * list never outgrows its TCPS_PORT_COUNT entries. */
static struct port_stat *touch(struct tcps_listeners *listeners, uint16_t port)
{
	struct port_stat *st = &listeners->stats[port];

	if (st->gen != listeners->gen) {
		memset(st, 0, sizeof(*st));
		st->gen = listeners->gen;
		listeners->touched[listeners->touched_num++] = port;
	}
	return st;
}

void tcps_listeners_observe(struct tcps_listeners *listeners,
			    const struct tcps_record *rec)
{
	struct port_stat *st;

	/* A half-open handshake carries its listener's port as local port. */
	if (rec->state == TCPS_SYN_RECV) {
		touch(listeners, rec->local_port)->syn_recv++;
		return;
	}
	if (rec->state != TCPS_LISTEN)
		return;
	st = touch(listeners, rec->local_port);
	st->queue += rec->rqueue;
	st->backlog += rec->wqueue;
	tcps_port_set_add(&listeners->listening, rec->local_port);
	/* The kernel drops SYNs once the queue is longer than the backlog. */
	if (rec->rqueue > rec->wqueue)
		tcps_port_set_add(&listeners->full, rec->local_port);
}

/*
 * Fill is queue / backlog, compared by cross-multiplication so that a
 * zero backlog with a waiting connection ranks as infinitely full; an
 * idle port with a zero backlog counts as empty.
 */
static int rank_cmp(const void *a, const void *b, void *data)
{
	const struct port_stat *stats = data;
	uint16_t pa = *(const uint16_t *)a, pb = *(const uint16_t *)b;
	const struct port_stat *x = &stats[pa], *y = &stats[pb];
	uint64_t bx = (x->queue == 0 && x->backlog == 0) ? 1 : x->backlog;
	uint64_t by = (y->queue == 0 && y->backlog == 0) ? 1 : y->backlog;
	unsigned __int128 fx = (unsigned __int128)x->queue * by;
	unsigned __int128 fy = (unsigned __int128)y->queue * bx;

	if (fx != fy)
		return fx > fy ? -1 : 1;
	if (x->queue != y->queue)
		return x->queue > y->queue ? -1 : 1;
	return pa < pb ? -1 : (pa > pb);
}

/* A listener with connections waiting for accept() or handshakes in
 * progress; an idle one is only counted. */
static bool is_busy(const struct port_stat *st)
{
	return st->queue > 0 || st->syn_recv > 0;
}

/* Moves the busy listening ports to the front of the touched list,
 * ranked. Returns how many there are. */
static uint32_t rank_busy(struct tcps_listeners *listeners)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < listeners->touched_num; i++) {
		uint16_t port = listeners->touched[i];

		if (tcps_port_set_has(&listeners->listening, port) &&
		    is_busy(&listeners->stats[port]))
			listeners->touched[n++] = port;
	}
	qsort_r(listeners->touched, n, sizeof(*listeners->touched), rank_cmp,
		listeners->stats);
	return n;
}

/* The type instance of a listening port's values and notifications. */
static void port_text(uint16_t port, char *buf, size_t size)
{
	snprintf(buf, size, "%u", (unsigned int)port);
}

/* The port's values of this interval; zeros for a port that no longer
 * listens (its entry is from an older interval, or it has SYN_RECV
 * only). One set per measure, each holding ports only. */

static void emit_port(const struct tcps_listeners *listeners, uint16_t port,
		      const struct tcps_sink *sink)
{
	static const struct port_stat gone;
	const struct port_stat *st = &listeners->stats[port];
	char text[8];

	if (st->gen != listeners->gen ||
	    !tcps_port_set_has(&listeners->listening, port))
		st = &gone;

	port_text(port, text, sizeof(text));
	tcps_sink_value(sink, "listen_queue", "queue_length", text,
			(double)st->queue);
	tcps_sink_value(sink, "listen_backlog", "queue_length", text,
			(double)st->backlog);
	tcps_sink_value(sink, "listen_syn_recv", "tcp_connections", text,
			(double)st->syn_recv);
}

static void notify_port(const struct tcps_listeners *listeners, uint16_t port,
			bool full, const struct tcps_sink *sink)
{
	const struct port_stat *st = &listeners->stats[port];
	char text[8], message[320];

	port_text(port, text, sizeof(text));
	if (full)
		snprintf(message, sizeof(message),
			 "listener on port %u: accept queue full (%" PRIu64
			 " waiting, backlog %" PRIu64
			 "); new connections are being dropped: the "
			 "application is not calling accept() fast enough, "
			 "or the backlog is too small (somaxconn)",
			 (unsigned int)port, st->queue, st->backlog);
	else if (tcps_port_set_has(&listeners->listening, port))
		snprintf(message, sizeof(message),
			 "listener on port %u: accept queue no longer full "
			 "(%" PRIu64 " waiting, backlog %" PRIu64 ")",
			 (unsigned int)port, st->queue, st->backlog);
	else
		snprintf(message, sizeof(message),
			 "listener on port %u: no longer listening",
			 (unsigned int)port);
	tcps_sink_notify(sink,
			 full ? TCPS_SEVERITY_WARNING : TCPS_SEVERITY_OKAY,
			 "listen_queue", "queue_length", text, message);
}

/* Ports whose full bit differs from what was last notified, in port
 * order: a WARNING when it became full, an OKAY when it cleared. */
static void notify_changes(struct tcps_listeners *listeners,
			   const struct tcps_sink *sink)
{
	struct tcps_port_set changed;

	tcps_port_set_xor(&listeners->full, &listeners->warned, &changed);
	TCPS_PORT_SET_FOREACH(port, &changed)
	notify_port(listeners, (uint16_t)port,
		    tcps_port_set_has(&listeners->full, (uint16_t)port), sink);
	listeners->warned = listeners->full;
}

/* Ports listed last time and not now are sent once more, with what they
 * hold now (zeros once idle or gone), so that no graph stays up on a
 * stale value; then they are left out. */
static void emit_dropped(struct tcps_listeners *listeners,
			 const struct tcps_port_set *now,
			 const struct tcps_sink *sink)
{
	struct tcps_port_set dropped;

	tcps_port_set_minus(&listeners->listed, now, &dropped);
	TCPS_PORT_SET_FOREACH(port, &dropped)
	emit_port(listeners, (uint16_t)port, sink);
	listeners->listed = *now;
}

void tcps_listeners_end(struct tcps_listeners *listeners,
			const struct tcps_sink *sink)
{
	uint32_t busy = rank_busy(listeners);
	uint32_t shown = busy < listeners->top_n ? busy : listeners->top_n;
	struct tcps_port_set now;

	tcps_port_set_clear(&now);
	for (uint32_t i = 0; i < shown; i++) {
		emit_port(listeners, listeners->touched[i], sink);
		tcps_port_set_add(&now, listeners->touched[i]);
	}
	emit_dropped(listeners, &now, sink);
	tcps_sink_value(sink, "listen", "count", "full_queues",
			(double)tcps_port_set_count(&listeners->full));
	tcps_sink_value(sink, "listen", "count", "listening_ports",
			(double)tcps_port_set_count(&listeners->listening));
	notify_changes(listeners, sink);
}

const struct tcps_port_set *
tcps_listeners_ports(const struct tcps_listeners *listeners)
{
	return &listeners->listening;
}

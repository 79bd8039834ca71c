/* Per-port counts with tcpconns' options and instances. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstates/ports.h"
#include "tcpstates/tally.h"

/* Why a port has counts (struct port_counts flags). */
enum {
	CONFIGURED_LOCAL = 1,  /* LocalPort: kept for good */
	CONFIGURED_REMOTE = 2, /* RemotePort: kept for good */
	LISTENED = 4,	       /* a LISTEN socket seen in this interval */
};

struct port_counts {
	uint16_t port;
	uint8_t flags;
	uint32_t local[TCPS_STATE_COUNT]; /* by state, 1..11 used */
	uint32_t remote[TCPS_STATE_COUNT];
};

struct tcps_ports {
	bool listening;
	bool all_summary;
	/* 32 bits per count, as in tcpconns: 2^32 sockets would need
	 * terabytes of kernel memory. */
	uint32_t all[TCPS_STATE_COUNT];
	/* Port -> its counts in O(1): has_counts says whether counts_of is
	 * valid. */
	struct tcps_port_set has_counts;
	uint16_t counts_of[TCPS_PORT_COUNT];
	struct port_counts *counts; /* compact: counts_num used of counts_cap */
	uint32_t counts_num, counts_cap;
};

static uint32_t count_configured(const struct tcps_ports_config *cfg)
{
	struct tcps_port_set configured;

	tcps_port_set_union(&cfg->local, &cfg->remote, &configured);
	return tcps_port_set_count(&configured);
}

bool tcps_ports_enabled(const struct tcps_ports_config *cfg)
{
	if (cfg->listening || cfg->all_summary)
		return true;
	return count_configured(cfg) > 0;
}

/* The caller guarantees room: counts_cap covers every port that can get
 * counts, and a port gets them at most once. */
static struct port_counts *add_counts(struct tcps_ports *p, uint16_t port)
{
	struct port_counts *pc;

	if (tcps_port_set_has(&p->has_counts, port))
		return &p->counts[p->counts_of[port]];
	if (p->counts_num >= p->counts_cap)
		return NULL;
	pc = &p->counts[p->counts_num];
	memset(pc, 0, sizeof(*pc));
	pc->port = port;
	p->counts_of[port] = (uint16_t)p->counts_num++;
	tcps_port_set_add(&p->has_counts, port);
	return pc;
}

static void add_configured(struct tcps_ports *p,
			   const struct tcps_ports_config *cfg)
{
	for (uint32_t port = 1; port < TCPS_PORT_COUNT; port++) {
		uint8_t flags = 0;

		if (tcps_port_set_has(&cfg->local, (uint16_t)port))
			flags |= CONFIGURED_LOCAL;
		if (tcps_port_set_has(&cfg->remote, (uint16_t)port))
			flags |= CONFIGURED_REMOTE;
		if (flags)
			add_counts(p, (uint16_t)port)->flags = flags;
	}
}

int tcps_ports_new(const struct tcps_ports_config *cfg, struct tcps_ports **ret)
{
	struct tcps_ports *p;

	if (tcps_port_set_has(&cfg->local, 0) ||
	    tcps_port_set_has(&cfg->remote, 0))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->listening = cfg->listening;
	p->all_summary = cfg->all_summary;
	/* Configured and listening ports are distinct ports: TCPS_PORT_COUNT
	 * entries hold any mix of them. */
	p->counts_cap =
		cfg->listening ? TCPS_PORT_COUNT : count_configured(cfg);
	p->counts =
		calloc(p->counts_cap ? p->counts_cap : 1, sizeof(*p->counts));
	if (!p->counts) {
		tcps_ports_free(p);
		return -ENOMEM;
	}
	add_configured(p, cfg);
	*ret = p;
	return 0;
}

void tcps_ports_free(struct tcps_ports *p)
{
	if (!p)
		return;
	free(p->counts);
	free(p);
}

static void remove_counts(struct tcps_ports *p, uint32_t i)
{
	struct port_counts *last = &p->counts[p->counts_num - 1];
	uint16_t port = p->counts[i].port;

	tcps_port_set_remove(&p->has_counts, port);
	if (&p->counts[i] != last) {
		p->counts[i] = *last;
		p->counts_of[last->port] = (uint16_t)i;
	}
	p->counts_num--;
}

/*
 * A port that listened in the last interval keeps its counts through this
 * one, so sockets dumped before its LISTEN socket are still counted; it
 * is dropped at the next begin if it did not listen again (tcpconns keeps
 * its automatic entries the same way). The kernel dumps LISTEN sockets
 * before the others, so in practice nothing is missed either way.
 */
static void start_interval(struct tcps_ports *p)
{
	uint32_t i = 0;

	memset(p->all, 0, sizeof(p->all));
	while (i < p->counts_num) {
		struct port_counts *pc = &p->counts[i];

		if (!pc->flags) {
			remove_counts(p, i);
			continue;
		}
		pc->flags &= (uint8_t)~LISTENED;
		memset(pc->local, 0, sizeof(pc->local));
		memset(pc->remote, 0, sizeof(pc->remote));
		i++;
	}
}

void tcps_ports_begin(struct tcps_ports *p)
{
	start_interval(p);
}

void tcps_ports_abort(struct tcps_ports *p)
{
	start_interval(p);
}

void tcps_ports_observe(struct tcps_ports *p, const struct tcps_record *rec)
{
	enum tcps_state state = tcps_state_of(rec->state);
	struct port_counts *pc;

	/* tcpconns skips unknown states entirely, "all" included. */
	if (state == TCPS_STATE_UNKNOWN)
		return;
	p->all[state]++;
	if (state == TCPS_LISTEN && p->listening) {
		pc = add_counts(p, rec->local_port);
		if (pc)
			pc->flags |= LISTENED;
	}
	if (tcps_port_set_has(&p->has_counts, rec->local_port))
		p->counts[p->counts_of[rec->local_port]].local[state]++;
	if (tcps_port_set_has(&p->has_counts, rec->remote_port))
		p->counts[p->counts_of[rec->remote_port]].remote[state]++;
}

/* One value per state, "tcpstates_<side>_<state>/tcp_connections-<port>":
 * each set holds ports only. */
static void emit_side(const struct tcps_sink *sink, const char *side,
		      uint16_t port, const uint32_t *by_state)
{
	char set[32], port_text[8];

	snprintf(port_text, sizeof(port_text), "%u", (unsigned int)port);
	for (int state = TCPS_STATE_FIRST; state < TCPS_STATE_UNKNOWN;
	     state++) {
		snprintf(set, sizeof(set), "%s_%s", side,
			 tcps_state_set_name(state));
		tcps_sink_value(sink, set, "tcp_connections", port_text,
				(double)by_state[state]);
	}
}

static void emit_counts(const struct port_counts *pc,
			const struct tcps_sink *sink)
{
	if (pc->flags & (CONFIGURED_LOCAL | LISTENED))
		emit_side(sink, "local", pc->port, pc->local);
	if (pc->flags & CONFIGURED_REMOTE)
		emit_side(sink, "remote", pc->port, pc->remote);
}

void tcps_ports_end(struct tcps_ports *p, const struct tcps_sink *sink)
{
	if (p->all_summary)
		for (int state = TCPS_STATE_FIRST; state < TCPS_STATE_UNKNOWN;
		     state++)
			tcps_sink_value(sink, "all", "tcp_connections",
					tcps_state_name(state),
					(double)p->all[state]);
	/* Ascending port order, whatever order the counts are in. */
	TCPS_PORT_SET_FOREACH(port, &p->has_counts)
	emit_counts(&p->counts[p->counts_of[port]], sink);
}

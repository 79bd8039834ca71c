/* Per-port counts with tcpconns' options and instances. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstates/ports.h"
#include "tcpstates/tally.h"

enum {
	SLOT_LOCAL = 1,	    /* LocalPort configured: kept for good */
	SLOT_REMOTE = 2,    /* RemotePort configured: kept for good */
	SLOT_LISTENING = 4, /* a LISTEN socket seen in this interval */
};

struct slot {
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
	/* Port -> slot in O(1): has_slot says whether slot_of is valid. */
	struct tcps_port_set has_slot;
	uint16_t slot_of[TCPS_PORT_COUNT];
	struct slot *slots; /* compact: slots_num used of slots_cap */
	uint32_t slots_num, slots_cap;
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

/* The caller guarantees room: slots_cap covers every port that can get a
 * slot, and a port gets at most one. */
static struct slot *add_slot(struct tcps_ports *p, uint16_t port)
{
	struct slot *s;

	if (tcps_port_set_has(&p->has_slot, port))
		return &p->slots[p->slot_of[port]];
	if (p->slots_num >= p->slots_cap)
		return NULL;
	s = &p->slots[p->slots_num];
	memset(s, 0, sizeof(*s));
	s->port = port;
	p->slot_of[port] = (uint16_t)p->slots_num++;
	tcps_port_set_add(&p->has_slot, port);
	return s;
}

static void add_configured(struct tcps_ports *p,
			   const struct tcps_ports_config *cfg)
{
	for (uint32_t port = 1; port < TCPS_PORT_COUNT; port++) {
		uint8_t flags = 0;

		if (tcps_port_set_has(&cfg->local, (uint16_t)port))
			flags |= SLOT_LOCAL;
		if (tcps_port_set_has(&cfg->remote, (uint16_t)port))
			flags |= SLOT_REMOTE;
		if (flags)
			add_slot(p, (uint16_t)port)->flags = flags;
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
	/* Configured and listening ports are distinct ports: TCPS_PORT_COUNT slots
	 * hold any mix of them. */
	p->slots_cap = cfg->listening ? TCPS_PORT_COUNT : count_configured(cfg);
	p->slots = calloc(p->slots_cap ? p->slots_cap : 1, sizeof(*p->slots));
	if (!p->slots) {
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
	free(p->slots);
	free(p);
}

static void remove_slot(struct tcps_ports *p, uint32_t i)
{
	struct slot *last = &p->slots[p->slots_num - 1];
	uint16_t port = p->slots[i].port;

	p->has_slot.bits[port >> 6] &= ~((uint64_t)1 << (port & 63));
	if (&p->slots[i] != last) {
		p->slots[i] = *last;
		p->slot_of[last->port] = (uint16_t)i;
	}
	p->slots_num--;
}

/*
 * A port that listened in the last interval keeps its slot through this
 * one, so sockets dumped before its LISTEN socket are still counted; it
 * is dropped at the next begin if it did not listen again (tcpconns keeps
 * its automatic entries the same way). The kernel dumps LISTEN sockets
 * before the others, so in practice nothing is missed either way.
 */
static void start_interval(struct tcps_ports *p)
{
	uint32_t i = 0;

	memset(p->all, 0, sizeof(p->all));
	while (i < p->slots_num) {
		struct slot *s = &p->slots[i];

		if (!s->flags) {
			remove_slot(p, i);
			continue;
		}
		s->flags &= (uint8_t)~SLOT_LISTENING;
		memset(s->local, 0, sizeof(s->local));
		memset(s->remote, 0, sizeof(s->remote));
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
	struct slot *s;

	/* tcpconns skips unknown states entirely, "all" included. */
	if (state == TCPS_STATE_UNKNOWN)
		return;
	p->all[state]++;
	if (state == TCPS_LISTEN && p->listening) {
		s = add_slot(p, rec->local_port);
		if (s)
			s->flags |= SLOT_LISTENING;
	}
	if (tcps_port_set_has(&p->has_slot, rec->local_port))
		p->slots[p->slot_of[rec->local_port]].local[state]++;
	if (tcps_port_set_has(&p->has_slot, rec->remote_port))
		p->slots[p->slot_of[rec->remote_port]].remote[state]++;
}

static void emit_states(const struct tcps_sink *sink, const char *instance,
			const uint32_t *by_state)
{
	for (int state = TCPS_STATE_FIRST; state < TCPS_STATE_UNKNOWN; state++)
		tcps_sink_value(sink, instance, "tcp_connections",
				tcps_state_name(state),
				(double)by_state[state]);
}

static void emit_slot(const struct slot *s, const struct tcps_sink *sink)
{
	char instance[32];

	if (s->flags & (SLOT_LOCAL | SLOT_LISTENING)) {
		snprintf(instance, sizeof(instance), "%u-local",
			 (unsigned int)s->port);
		emit_states(sink, instance, s->local);
	}
	if (s->flags & SLOT_REMOTE) {
		snprintf(instance, sizeof(instance), "%u-remote",
			 (unsigned int)s->port);
		emit_states(sink, instance, s->remote);
	}
}

void tcps_ports_end(struct tcps_ports *p, const struct tcps_sink *sink)
{
	if (p->all_summary)
		emit_states(sink, "all", p->all);
	/* Ascending port order, whatever order the slots are in. */
	TCPS_PORT_SET_FOREACH(port, &p->has_slot)
	emit_slot(&p->slots[p->slot_of[port]], sink);
}

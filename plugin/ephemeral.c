/* Ephemeral ports per destination, the TIME_WAIT split. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpstates/dest_table.h"
#include "tcpstates/ephemeral.h"
#include "tcpstates/record.h"

/* idiag_timer of a timewait minisocket (TIME_WAIT or orphaned FIN_WAIT2). */
#define TIMER_TIMEWAIT 3

#define NOTIFY_MESSAGE_SIZE 512

/* ---- the observer ---- */

#define PENDING_DEPTH 8

struct pending_key {
	struct tcps_dest_key key;
	uint32_t hash;
};

struct tcps_ephemeral {
	double warning_percent;
	struct tcps_sysctls sys;
	bool has_sys;
	/* Sockets at which a destination reaches warning_percent; 0 when
	 * there is no level this interval (no sysctls, empty range). */
	uint32_t warn_count;
	struct tcps_dest_table table;
	/* Keys hashed and their slots prefetched, counted PENDING_DEPTH
	 * sockets later: on a large table each lookup is a cache miss, and
	 * the dump's order gives no locality to wait for. */
	struct pending_key pending[PENDING_DEPTH];
	uint32_t pending_head, pending_num;
	const struct tcps_dest_slot *busiest;
	/* Slot indexes of the destinations that reached warn_count this
	 * interval, in that order; room for limit entries. */
	uint32_t *over_warning;
	uint32_t over_warning_num;
	uint64_t in_use;
	uint64_t tw_minisockets; /* what tcp_max_tw_buckets limits */
	uint64_t dest_overflow;
	uint64_t warn_overflow;
	struct tcps_port_set tw_ports; /* ports with a count below */
	uint32_t tw_by_port[65536];
	struct tcps_dest_key warned[TCPS_EPHEMERAL_MAX_WARNED];
	uint32_t warned_num;
};

static double percent_of(uint64_t part, uint64_t whole)
{
	return 100.0 * (double)part / (double)whole;
}

/* The smallest count whose percent_of() reaches the level, found with the
 * same arithmetic that is emitted, so value and notification agree. */
static uint32_t warning_count(double warning_percent, uint32_t available)
{
	uint32_t low = 1, high = available;

	if (available == 0)
		return 0;
	while (low < high) {
		uint32_t mid = low + (high - low) / 2;

		if (percent_of(mid, available) >= warning_percent)
			high = mid;
		else
			low = mid + 1;
	}
	return low;
}

int tcps_ephemeral_new(const struct tcps_ephemeral_config *cfg,
		       struct tcps_ephemeral **ret)
{
	struct tcps_ephemeral *e;

	if (!(cfg->warning_percent > 0 && cfg->warning_percent <= 100) ||
	    cfg->max_destinations == 0 ||
	    cfg->max_destinations > TCPS_EPHEMERAL_MAX_DESTINATIONS)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->warning_percent = cfg->warning_percent;
	e->over_warning =
		calloc(cfg->max_destinations, sizeof(*e->over_warning));
	if (!e->over_warning ||
	    tcps_dest_table_init(&e->table, cfg->max_destinations) < 0) {
		tcps_ephemeral_free(e);
		return -ENOMEM;
	}
	*ret = e;
	return 0;
}

void tcps_ephemeral_free(struct tcps_ephemeral *e)
{
	if (!e)
		return;
	tcps_dest_table_release(&e->table);
	free(e->over_warning);
	free(e);
}

/* Adds the TIME_WAIT counts to *server and *client by whether a listener
 * owns the port, and zeroes only the ports this interval touched. */
static void drain_timewait(struct tcps_ephemeral *e,
			   const struct tcps_port_set *listening,
			   uint64_t *server, uint64_t *client)
{
	TCPS_PORT_SET_FOREACH(port, &e->tw_ports)
	{
		if (listening && tcps_port_set_has(listening, (uint16_t)port))
			*server += e->tw_by_port[port];
		else
			*client += e->tw_by_port[port];
		e->tw_by_port[port] = 0;
	}
	tcps_port_set_clear(&e->tw_ports);
}

static void reset_interval(struct tcps_ephemeral *e)
{
	uint64_t ignored = 0;

	tcps_dest_table_reset(&e->table);
	e->pending_head = 0;
	e->pending_num = 0;
	drain_timewait(e, NULL, &ignored, &ignored);
	e->busiest = NULL;
	e->over_warning_num = 0;
	e->in_use = 0;
	e->tw_minisockets = 0;
	e->dest_overflow = 0;
	e->warn_overflow = 0;
}

void tcps_ephemeral_begin(struct tcps_ephemeral *e,
			  const struct tcps_sysctls *sys)
{
	reset_interval(e);
	e->has_sys = sys != NULL;
	e->warn_count = 0;
	if (!sys)
		return;
	e->sys = *sys;
	e->warn_count = warning_count(e->warning_percent, sys->ephemeral_ports);
}

void tcps_ephemeral_abort(struct tcps_ephemeral *e)
{
	reset_interval(e);
	e->has_sys = false;
	e->warn_count = 0;
}

uint64_t tcps_ephemeral_overflow(const struct tcps_ephemeral *e)
{
	return e->dest_overflow + e->warn_overflow;
}

uint32_t tcps_ephemeral_slots(const struct tcps_ephemeral *e)
{
	return tcps_dest_table_capacity(&e->table);
}

static bool is_v4_mapped(const uint8_t *addr)
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(addr, prefix, sizeof(prefix)) == 0;
}

/* A v4-mapped IPv6 connection draws from the same ports toward the same
 * IPv4 peer as a plain IPv4 one, so both land on one IPv4 key. */
static void make_key(const struct tcps_record *rec, struct tcps_dest_key *key)
{
	size_t offset = 0;

	memset(key, 0, sizeof(*key));
	key->remote_port = rec->remote_port;
	if (rec->family == AF_INET6 && !(is_v4_mapped(rec->local_addr) &&
					 is_v4_mapped(rec->remote_addr))) {
		key->family = AF_INET6;
		memcpy(key->local_addr, rec->local_addr, 16);
		memcpy(key->remote_addr, rec->remote_addr, 16);
		return;
	}
	if (rec->family == AF_INET6)
		offset = 12;
	key->family = AF_INET;
	memcpy(key->local_addr, rec->local_addr + offset, 4);
	memcpy(key->remote_addr, rec->remote_addr + offset, 4);
}

/* Doubles the table; the slots that passed the warning level and the
 * busiest one are found again by key. Returns -ENOMEM and leaves
 * everything as it was if there is no memory. */
static int grow_table(struct tcps_ephemeral *e)
{
	struct tcps_dest_table *t = &e->table;
	struct tcps_dest_slot *old;
	int err = tcps_dest_table_grow(t, &old);

	if (err < 0)
		return err;
	for (uint32_t i = 0; i < e->over_warning_num; i++) {
		const struct tcps_dest_key *key = &old[e->over_warning[i]].key;

		e->over_warning[i] =
			(uint32_t)(tcps_dest_table_find(t, key) - t->slots);
	}
	if (e->busiest)
		e->busiest = tcps_dest_table_find(t, &e->busiest->key);
	free(old);
	return 0;
}

static void count_destination(struct tcps_ephemeral *e,
			      const struct pending_key *p)
{
	struct tcps_dest_slot *slot;

	/* Without memory to grow, the table fills at 2/3 of what it has and
	 * the rest is counted as overflow, as beyond MaxDestinations. */
	if (tcps_dest_table_wants_room(&e->table))
		(void)grow_table(e);
	slot = tcps_dest_table_get(&e->table, &p->key, p->hash);

	if (!slot) {
		e->dest_overflow++;
		return;
	}
	if (slot->count < UINT32_MAX)
		slot->count++;
	if (!e->busiest || slot->count > e->busiest->count)
		e->busiest = slot;
	/* Counts only grow, so a slot passes the level once an interval and
	 * the list never holds more than the table. */
	if (e->warn_count && slot->count == e->warn_count &&
	    e->over_warning_num < e->table.limit)
		e->over_warning[e->over_warning_num++] =
			(uint32_t)(slot - e->table.slots);
}

/* Counts the oldest pending key when the queue is full, then queues
 * this socket's key with its slot prefetched. */
static void queue_destination(struct tcps_ephemeral *e,
			      const struct tcps_record *rec)
{
	struct pending_key *p;

	if (e->pending_num == PENDING_DEPTH) {
		count_destination(e, &e->pending[e->pending_head]);
		e->pending_head = (e->pending_head + 1) % PENDING_DEPTH;
		e->pending_num--;
	}
	p = &e->pending[(e->pending_head + e->pending_num) % PENDING_DEPTH];
	make_key(rec, &p->key);
	p->hash = tcps_dest_key_hash(&p->key);
	tcps_dest_table_prefetch(&e->table, p->hash);
	e->pending_num++;
}

static void flush_destinations(struct tcps_ephemeral *e)
{
	while (e->pending_num > 0) {
		count_destination(e, &e->pending[e->pending_head]);
		e->pending_head = (e->pending_head + 1) % PENDING_DEPTH;
		e->pending_num--;
	}
}

void tcps_ephemeral_observe(struct tcps_ephemeral *e,
			    const struct tcps_record *rec)
{
	if (rec->family != AF_INET && rec->family != AF_INET6)
		return;
	if (rec->state == TCPS_TIME_WAIT) {
		tcps_port_set_add(&e->tw_ports, rec->local_port);
		e->tw_by_port[rec->local_port]++;
	}
	if (rec->state == TCPS_TIME_WAIT ||
	    (rec->state == TCPS_FIN_WAIT2 && rec->timer == TIMER_TIMEWAIT))
		e->tw_minisockets++;
	if (!e->has_sys || rec->state == TCPS_LISTEN ||
	    !tcps_port_is_ephemeral(&e->sys, rec->local_port))
		return;
	e->in_use++;
	queue_destination(e, rec);
}

/* ---- values ---- */

static void emit_ephemeral(const struct tcps_ephemeral *e,
			   const struct tcps_sink *sink)
{
	uint32_t busiest = e->busiest ? e->busiest->count : 0;

	/* Which ports are ephemeral is unknown without the range. */
	if (!e->has_sys)
		return;
	tcps_sink_value(sink, "ephemeral", "count", "ports_available",
			e->sys.ephemeral_ports);
	tcps_sink_value(sink, "ephemeral", "count", "ports_in_use",
			(double)e->in_use);
	tcps_sink_value(sink, "ephemeral", "count", "busiest_destination",
			busiest);
	if (e->sys.ephemeral_ports == 0)
		return;
	tcps_sink_value(sink, "ephemeral", "percent", "busiest_destination",
			percent_of(busiest, e->sys.ephemeral_ports));
	tcps_sink_value(sink, "ephemeral", "count", "destinations_over_warning",
			e->over_warning_num);
}

static void emit_timewait(const struct tcps_ephemeral *e, bool split_known,
			  uint64_t server, uint64_t client,
			  const struct tcps_sink *sink)
{
	double full;

	if (split_known) {
		tcps_sink_value(sink, "timewait", "tcp_connections", "server",
				(double)server);
		tcps_sink_value(sink, "timewait", "tcp_connections", "client",
				(double)client);
	}
	if (!e->has_sys || e->sys.max_tw_buckets <= 0)
		return;
	/* More than the limit is possible (the sysctl lowered under the
	 * sockets already there); the stock percent type stops at 100.1,
	 * so a full table reads 100. */
	full = percent_of(e->tw_minisockets, (uint64_t)e->sys.max_tw_buckets);
	tcps_sink_value(sink, "timewait", "percent", "of_max_tw_buckets",
			full < 100.0 ? full : 100.0);
}

static void emit_sysctls(const struct tcps_ephemeral *e,
			 const struct tcps_sink *sink)
{
	const struct tcps_sysctls *sys = &e->sys;

	if (!e->has_sys)
		return;
	if (sys->tw_reuse >= 0)
		tcps_sink_value(sink, "sysctl", "gauge", "tcp_tw_reuse",
				sys->tw_reuse);
	if (sys->max_tw_buckets >= 0)
		tcps_sink_value(sink, "sysctl", "count", "tcp_max_tw_buckets",
				(double)sys->max_tw_buckets);
	if (sys->fin_timeout >= 0)
		tcps_sink_value(sink, "sysctl", "duration", "tcp_fin_timeout",
				(double)sys->fin_timeout);
	tcps_sink_value(sink, "sysctl", "gauge", "ip_local_port_range_low",
			sys->port_low);
	tcps_sink_value(sink, "sysctl", "gauge", "ip_local_port_range_high",
			sys->port_high);
}

/* ---- notifications ---- */

/* "10.0.0.5:5432 from 10.0.0.1", "[2001:db8::5]:5432 from 2001:db8::1" */
static void format_destination(const struct tcps_dest_key *key, char *buf,
			       size_t size)
{
	char local[INET6_ADDRSTRLEN], remote[INET6_ADDRSTRLEN];

	if (!inet_ntop(key->family, key->local_addr, local, sizeof(local)))
		strcpy(local, "?");
	if (!inet_ntop(key->family, key->remote_addr, remote, sizeof(remote)))
		strcpy(remote, "?");
	if (key->family == AF_INET6)
		snprintf(buf, size, "[%s]:%u from %s", remote,
			 (unsigned int)key->remote_port, local);
	else
		snprintf(buf, size, "%s:%u from %s", remote,
			 (unsigned int)key->remote_port, local);
}

static const char *sysctl_text(int64_t number, char *buf, size_t size)
{
	if (number < 0)
		return "unknown";
	snprintf(buf, size, "%lld", (long long)number);
	return buf;
}

/* The destination and the numbers first: collectd keeps 256 bytes. */
static void send_warning(const struct tcps_ephemeral *e,
			 const struct tcps_dest_slot *slot,
			 const struct tcps_sink *sink)
{
	const struct tcps_sysctls *sys = &e->sys;
	char message[NOTIFY_MESSAGE_SIZE], dest[128];
	char reuse[24], buckets[24], fin[24];

	format_destination(&slot->key, dest, sizeof(dest));
	snprintf(message, sizeof(message),
		 "ephemeral ports toward %s: %u of %u in use (%.1f%%, "
		 "warning at %g%%); ip_local_port_range %u-%u, %u reserved, "
		 "tcp_tw_reuse %s, tcp_max_tw_buckets %s, tcp_fin_timeout %s",
		 dest, slot->count, sys->ephemeral_ports,
		 percent_of(slot->count, sys->ephemeral_ports),
		 e->warning_percent, (unsigned int)sys->port_low,
		 (unsigned int)sys->port_high,
		 (unsigned int)(sys->port_high - sys->port_low + 1) -
			 sys->ephemeral_ports,
		 sysctl_text(sys->tw_reuse, reuse, sizeof(reuse)),
		 sysctl_text(sys->max_tw_buckets, buckets, sizeof(buckets)),
		 sysctl_text(sys->fin_timeout, fin, sizeof(fin)));
	tcps_sink_notify(sink, TCPS_SEVERITY_WARNING, "ephemeral", "percent",
			 "busiest_destination", message);
}

static void send_okay(const struct tcps_ephemeral *e,
		      const struct tcps_dest_key *key, uint32_t count,
		      const struct tcps_sink *sink)
{
	char message[NOTIFY_MESSAGE_SIZE], dest[128];

	format_destination(key, dest, sizeof(dest));
	snprintf(message, sizeof(message),
		 "ephemeral ports toward %s: %u of %u in use (%.1f%%), "
		 "back below warning at %g%%",
		 dest, count, e->sys.ephemeral_ports,
		 percent_of(count, e->sys.ephemeral_ports), e->warning_percent);
	tcps_sink_notify(sink, TCPS_SEVERITY_OKAY, "ephemeral", "percent",
			 "busiest_destination", message);
}

/* Remembered destinations: still over (marked, no repeat), or OKAY. */
static void recheck_warned(struct tcps_ephemeral *e,
			   const struct tcps_sink *sink)
{
	uint32_t i = 0;

	while (i < e->warned_num) {
		struct tcps_dest_slot *slot =
			tcps_dest_table_find(&e->table, &e->warned[i]);

		if (slot && slot->count >= e->warn_count) {
			slot->warned = true;
			i++;
			continue;
		}
		/* Missing from a table that overflowed: maybe still there
		 * and uncounted, so no OKAY on a guess. */
		if (!slot && e->dest_overflow) {
			i++;
			continue;
		}
		send_okay(e, &e->warned[i], slot ? slot->count : 0, sink);
		e->warned[i] = e->warned[--e->warned_num];
	}
}

static void warn_new(struct tcps_ephemeral *e, const struct tcps_sink *sink)
{
	for (uint32_t i = 0; i < e->over_warning_num; i++) {
		struct tcps_dest_slot *slot =
			&e->table.slots[e->over_warning[i]];

		if (slot->warned)
			continue;
		if (e->warned_num >= TCPS_EPHEMERAL_MAX_WARNED) {
			e->warn_overflow++;
			continue;
		}
		slot->warned = true;
		e->warned[e->warned_num++] = slot->key;
		send_warning(e, slot, sink);
	}
}

void tcps_ephemeral_end(struct tcps_ephemeral *e,
			const struct tcps_port_set *listening,
			const struct tcps_sink *sink)
{
	uint64_t server = 0, client = 0;

	flush_destinations(e);
	drain_timewait(e, listening, &server, &client);
	emit_ephemeral(e, sink);
	emit_timewait(e, listening != NULL, server, client, sink);
	emit_sysctls(e, sink);
	/* Without a level this interval the state is kept as it was. */
	if (!e->warn_count)
		return;
	recheck_warned(e, sink);
	warn_new(e, sink);
}

/*
 * libFuzzer target: the ephemeral-port observer over many reads. An input
 * is a script: sockets toward destinations appear, change state (TIME_WAIT
 * too), move port and vanish; the port range, the reserved ports and the
 * other sysctls change, or cannot be read; bursts of distinct
 * destinations go past MaxDestinations for a few reads; some reads fail
 * half-way. After every read the values and notifications are checked
 * against a model the harness keeps from the same script, and abort()
 * reports a difference:
 *  - every value exactly once, equal to the model's (ports in use, the
 *    busiest destination, destinations over the level, the TIME_WAIT
 *    split, sysctls), nothing else, and the overflow count;
 *  - the WARNING and OKAY notifications the model expects, no others;
 *    per destination they alternate, WARNING first;
 *  - the destination table within its bound, and back near its first
 *    size once the reads after a burst need less.
 *
 * Input: byte 0 picks the warning level, MaxDestinations and whether the
 * listening ports are known; then operations, one byte each (op % 16)
 * followed by its arguments; missing bytes read as 0. See do_op().
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "reads.h"
#include "script.h"
#include "tcpstates/ephemeral.h"
#include "tcpstates/record.h"
#include "tcpstates/sysctls.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The model, the sink and the loops that feed records: their branches
 * follow the script, which do_op()'s coverage already shows, and their
 * comparisons traced for the fuzzer cost a quarter to a third of each
 * read. Not inlined, or they would be instrumented inside their callers. */
#define NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define MAX_SOCKETS 64
#define LADDRS 4
#define RADDRS 8
#define RPORTS 4
/* Destinations of the pool: IPv4 (plain or v4-mapped), IPv6, and IPv6
 * with a v4-mapped local address only (an IPv6 key). */
#define CLASSES 3
#define POOL_IDS (CLASSES * LADDRS * RADDRS * RPORTS)
#define MAX_BURST 2040
#define MAX_IDS (POOL_IDS + MAX_BURST)
#define BURST_RPORT 9999
#define MAX_VALUES 32
#define MAX_NOTES (2 * TCPS_EPHEMERAL_MAX_WARNED)
#define TIMER_TIMEWAIT 3

enum form {
	FORM_V4,      /* AF_INET */
	FORM_V4_JUNK, /* AF_INET with bytes after the address: ignored */
	FORM_MAPPED,  /* AF_INET6, both v4-mapped: the IPv4 key */
	FORM_V6,
	FORM_MIXED, /* AF_INET6, only the local address v4-mapped */
	FORM_ODD,   /* neither family: not counted at all */
	FORMS,
};

enum class {
	CLASS_V4,
	CLASS_V6,
	CLASS_MIXED,
};

struct sock {
	bool used;
	uint8_t form, state, timer;
	uint8_t laddr, raddr, rport; /* indexes into the pool */
	uint16_t lport;
};

static const uint16_t rports[RPORTS] = { 80, 443, 5432, 65535 };
static const uint8_t states[] = {
	TCPS_ESTABLISHED,
	TCPS_TIME_WAIT,
	TCPS_SYN_SENT,
	TCPS_FIN_WAIT2,
	TCPS_LISTEN,
	TCPS_CLOSE_WAIT,
	TCPS_FIN_WAIT1,
	TCPS_SYN_RECV,
	TCPS_CLOSE,
	TCPS_LAST_ACK,
	TCPS_CLOSING,
	TCPS_TIME_WAIT,
	TCPS_ESTABLISHED,
	0,
	12,
	255,
};
static const double warning_levels[] = {
	80, 100, 50, 0.5, 33.3, 99.99, 1, 66.7
};
static const uint32_t max_destinations[] = { 1, 2, 3, 8, 64, 700, 1100, 1500 };
static const uint16_t fixed_ports[] = { 0,     1,     1023,  1024,
					32767, 32768, 60999, 61000,
					40000, 50000, 65534, 65535 };
static const struct {
	uint16_t low, high;
} ranges[] = {
	{ 32768, 60999 }, { 1, 65535 },	  { 1000, 1000 },   { 40000, 40010 },
	{ 60999, 60999 }, { 1024, 2047 }, { 65535, 65535 }, { 32768, 32775 },
};

/* What the script has built so far; reset for each input. */
static struct {
	struct tcps_ephemeral *e;
	double warning_percent;
	uint32_t limit;
	uint32_t first_slots; /* the table's size when new */
	bool listening_known, reverse, sys_readable;
	struct tcps_sysctls sys;
	struct tcps_port_set listening;
	struct sock socks[MAX_SOCKETS];
	uint32_t burst_size, burst_reads, burst_seed;
	uint32_t used_at_begin; /* destinations the table held at begin() */
	/* The notification state: which destinations are warned, and the
	 * last severity sent for each. */
	bool warned[MAX_IDS];
	uint32_t warned_list[TCPS_EPHEMERAL_MAX_WARNED];
	uint32_t warned_num;
	uint8_t last_severity[MAX_IDS];
} s;

/* One read of the model. */
struct model {
	uint32_t read_gen;
	uint32_t gen[MAX_IDS]; /* == read_gen: stored this read */
	uint32_t count[MAX_IDS];
	uint32_t over_warning
		[MAX_IDS]; /* ids in the order they reached the level */
	uint32_t over_warning_num, stored, busiest, warn_count;
	uint64_t in_use, tw_server, tw_client, tw_mini, overflow;
};
static struct model m;

/* The values the model expects of a read, each to be sent once. */
struct expected_value {
	const char *set, *type, *type_instance;
	double value;
	int sent;
};
static struct expected_value want[MAX_VALUES];
static size_t want_num;

/* The notifications the model expects of a read, by destination. */
static uint8_t want_severity[MAX_IDS]; /* 0: none */
static uint32_t want_count[MAX_IDS];
static uint32_t want_ids[MAX_NOTES];
static size_t want_notes, notes_num;
/* TCPS_FUZZ_DEBUG=1: what each input did (seeds are checked so). */
static bool debug;
static uint64_t input_reads, input_notes, input_overflow;

/* ---- the script ---- */

/* A port relative to the range (in it, just outside) or a fixed one. */
static uint16_t pick_port(uint8_t b)
{
	unsigned int k = b >> 3;

	switch (b & 7) {
	case 0:
	case 5:
	case 6:
		return (uint16_t)(s.sys.port_low + k);
	case 1:
		return (uint16_t)(s.sys.port_high - k);
	case 2:
		return (uint16_t)(s.sys.port_low - 1 - k);
	case 3:
		return (uint16_t)(s.sys.port_high + 1 + k);
	default:
		return fixed_ports[k % ARRAY_SIZE(fixed_ports)];
	}
}

static NO_COVERAGE int class_of(const struct sock *k)
{
	if (k->form == FORM_V6)
		return CLASS_V6;
	if (k->form == FORM_MIXED)
		return CLASS_MIXED;
	return CLASS_V4;
}

static NO_COVERAGE uint32_t pool_id(const struct sock *k)
{
	return (((uint32_t)class_of(k) * LADDRS + k->laddr) * RADDRS +
		k->raddr) *
		       RPORTS +
	       k->rport;
}

static NO_COVERAGE void put_v4(uint8_t *addr, uint8_t a, uint8_t b, uint8_t c,
			       uint8_t d)
{
	addr[0] = a;
	addr[1] = b;
	addr[2] = c;
	addr[3] = d;
}

static NO_COVERAGE void put_mapped(uint8_t *addr, uint8_t c, uint8_t d)
{
	memset(addr, 0, 16);
	addr[10] = 0xff;
	addr[11] = 0xff;
	put_v4(addr + 12, 10, c == 0 ? 0 : 1, 0, d);
}

/* 2001:db8::<which>:<n> */
static NO_COVERAGE void put_v6(uint8_t *addr, uint8_t which, uint8_t n)
{
	memset(addr, 0, 16);
	addr[0] = 0x20;
	addr[1] = 0x01;
	addr[2] = 0x0d;
	addr[3] = 0xb8;
	addr[13] = which;
	addr[15] = n;
}

/* The addresses a pool destination's key holds, by class. */
static NO_COVERAGE void key_addrs(int class, uint8_t laddr, uint8_t raddr,
				  uint8_t *local, uint8_t *remote)
{
	memset(local, 0, 16);
	memset(remote, 0, 16);
	if (class == CLASS_V4) {
		put_v4(local, 10, 0, 0, (uint8_t)(1 + laddr));
		put_v4(remote, 10, 1, 0, (uint8_t)(1 + raddr));
	} else if (class == CLASS_V6) {
		put_v6(local, 1, laddr);
		put_v6(remote, 2, raddr);
	} else {
		put_mapped(local, 0, (uint8_t)(1 + laddr));
		put_v6(remote, 2, raddr);
	}
}

static NO_COVERAGE void make_record(const struct sock *k,
				    struct tcps_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->state = k->state;
	rec->timer = k->timer;
	rec->local_port = k->lport;
	rec->remote_port = rports[k->rport];
	rec->family = AF_INET6;
	switch (k->form) {
	case FORM_V4:
	case FORM_V4_JUNK:
	case FORM_ODD:
		rec->family = k->form == FORM_ODD ? 0 : AF_INET;
		key_addrs(CLASS_V4, k->laddr, k->raddr, rec->local_addr,
			  rec->remote_addr);
		if (k->form == FORM_V4_JUNK) {
			memset(rec->local_addr + 4, 0xa5, 12);
			memset(rec->remote_addr + 4, 0x5a, 12);
		}
		break;
	case FORM_MAPPED:
		put_mapped(rec->local_addr, 0, (uint8_t)(1 + k->laddr));
		put_mapped(rec->remote_addr, 1, (uint8_t)(1 + k->raddr));
		break;
	default:
		key_addrs(class_of(k), k->laddr, k->raddr, rec->local_addr,
			  rec->remote_addr);
	}
}

/* The i-th socket of the burst, toward a destination of its own. */
static NO_COVERAGE void burst_socket(uint32_t i, struct sock *k,
				     struct tcps_record *rec)
{
	uint32_t range = (uint32_t)s.sys.port_high - s.sys.port_low + 1;

	memset(k, 0, sizeof(*k));
	k->used = true;
	k->form = FORM_V4;
	k->state =
		(s.burst_seed + i) % 3 == 0 ? TCPS_TIME_WAIT : TCPS_ESTABLISHED;
	k->lport = (uint16_t)(s.sys.port_low + (s.burst_seed + i) % range);
	memset(rec, 0, sizeof(*rec));
	rec->family = AF_INET;
	rec->state = k->state;
	rec->local_port = k->lport;
	rec->remote_port = BURST_RPORT;
	put_v4(rec->local_addr, 10, 0, 0, 1);
	put_v4(rec->remote_addr, 172, 16, (uint8_t)(i >> 8), (uint8_t)i);
}

/* ---- the model ---- */

static NO_COVERAGE bool model_ephemeral(uint16_t port)
{
	return port >= s.sys.port_low && port <= s.sys.port_high &&
	       !tcps_port_set_has(&s.sys.reserved, port);
}

/* The range less the reserved ports in it, a word of the set at a time:
 * a range change may make it 65535 ports. */
static uint32_t model_ephemeral_ports(void)
{
	uint32_t low = s.sys.port_low, high = s.sys.port_high;
	uint32_t n = high - low + 1;

	for (uint32_t w = low / 64; w <= high / 64; w++) {
		uint64_t bits = s.sys.reserved.bits[w];

		for (uint32_t bit = 0; bits && bit < 64; bit++, bits >>= 1) {
			uint32_t port = w * 64 + bit;

			n -= (bits & 1) && port >= low && port <= high;
		}
	}
	return n;
}

static NO_COVERAGE double percent(uint64_t part, uint64_t whole)
{
	return 100.0 * (double)part / (double)whole;
}

/* The fewest sockets at which percent() reaches the level. */
static uint32_t model_warn_count(void)
{
	uint32_t avail = s.sys.ephemeral_ports, c;

	if (avail == 0)
		return 0;
	c = (uint32_t)(s.warning_percent * avail / 100.0);
	if (c < 1)
		c = 1;
	if (c > avail)
		c = avail;
	while (c > 1 && percent(c - 1, avail) >= s.warning_percent)
		c--;
	while (c < avail && percent(c, avail) < s.warning_percent)
		c++;
	return c;
}

static void model_begin(void)
{
	m.read_gen++;
	m.over_warning_num = m.stored = m.busiest = 0;
	m.in_use = m.tw_server = m.tw_client = m.tw_mini = m.overflow = 0;
	m.warn_count = s.sys_readable ? model_warn_count() : 0;
}

static NO_COVERAGE void model_observe(const struct sock *k, uint32_t id)
{
	if (k->form == FORM_ODD)
		return;
	if (k->state == TCPS_TIME_WAIT) {
		if (tcps_port_set_has(&s.listening, k->lport))
			m.tw_server++;
		else
			m.tw_client++;
	}
	if (k->state == TCPS_TIME_WAIT ||
	    (k->state == TCPS_FIN_WAIT2 && k->timer == TIMER_TIMEWAIT))
		m.tw_mini++;
	if (!s.sys_readable || k->state == TCPS_LISTEN ||
	    !model_ephemeral(k->lport))
		return;
	m.in_use++;
	if (m.gen[id] != m.read_gen) {
		if (m.stored == s.limit) {
			m.overflow++;
			return;
		}
		m.gen[id] = m.read_gen;
		m.count[id] = 0;
		m.stored++;
	}
	m.count[id]++;
	if (m.count[id] > m.busiest)
		m.busiest = m.count[id];
	if (m.warn_count && m.count[id] == m.warn_count)
		m.over_warning[m.over_warning_num++] = id;
}

/* ---- the sink ---- */

static NO_COVERAGE int keep_value(void *data, const struct tcps_value *v)
{
	(void)data;
	for (size_t i = 0; i < want_num; i++) {
		struct expected_value *w = &want[i];

		if (strcmp(w->type_instance, v->type_instance) ||
		    strcmp(w->type, v->type) || strcmp(w->set, v->set))
			continue;
		if (v->value != w->value || w->sent) {
			fprintf(stderr, "%s/%s-%s: %g, model %g, sent %d\n",
				v->set, v->type, v->type_instance, v->value,
				w->value, w->sent + 1);
			abort();
		}
		w->sent++;
		return 0;
	}
	fprintf(stderr, "%s/%s-%s: %g, not in the model\n", v->set, v->type,
		v->type_instance, v->value);
	abort();
}

/* The local address of a pool or burst destination: its index. */
static NO_COVERAGE int local_index(int class, const char *text)
{
	uint8_t local[16], addr[16];

	for (uint8_t l = 0; l < LADDRS; l++) {
		uint8_t remote[16];

		key_addrs(class, l, 0, local, remote);
		if (inet_pton(class == CLASS_V4 ? AF_INET : AF_INET6, text,
			      addr) == 1 &&
		    memcmp(addr, local, class == CLASS_V4 ? 4 : 16) == 0)
			return l;
	}
	return -1;
}

/* The destination a notification names, back to its id: "10.1.0.3:80
 * from 10.0.0.1" or "[2001:db8::2:3]:80 from ::ffff:10.0.0.1"; -1 if it
 * names none the script made. */
static NO_COVERAGE long note_id(const char *dest, size_t len)
{
	char remote[64], local[64];
	const char *from = strstr(dest, " from "), *colon;
	uint8_t addr[16];
	unsigned long port;
	int class, l;

	if (!from || (size_t)(from - dest) >= len)
		return -1;
	snprintf(local, sizeof(local), "%.*s",
		 (int)(len - (size_t)(from + 6 - dest)), from + 6);
	colon = from;
	while (colon > dest && *colon != ':')
		colon--;
	port = strtoul(colon + 1, NULL, 10);
	if (dest[0] == '[')
		snprintf(remote, sizeof(remote), "%.*s",
			 (int)(colon - dest - 2), dest + 1);
	else
		snprintf(remote, sizeof(remote), "%.*s", (int)(colon - dest),
			 dest);
	if (inet_pton(AF_INET, remote, addr) == 1 && addr[0] == 172) {
		if (port != BURST_RPORT || local_index(CLASS_V4, local) != 0)
			return -1;
		return POOL_IDS + ((long)addr[2] << 8 | addr[3]);
	}
	class = dest[0] != '['			    ? CLASS_V4
		: local_index(CLASS_V6, local) >= 0 ? CLASS_V6
						    : CLASS_MIXED;
	l = local_index(class, local);
	for (uint8_t r = 0; r < RADDRS && l >= 0; r++) {
		for (uint8_t p = 0; p < RPORTS; p++) {
			struct sock k = { .form = class == CLASS_V4 ? FORM_V4
						  : class == CLASS_V6
							  ? FORM_V6
							  : FORM_MIXED,
					  .laddr = (uint8_t)l,
					  .raddr = r,
					  .rport = p };
			uint8_t want_local[16], want_remote[16];

			key_addrs(class, (uint8_t)l, r, want_local,
				  want_remote);
			if (rports[p] == port &&
			    inet_pton(class == CLASS_V4 ? AF_INET : AF_INET6,
				      remote, addr) == 1 &&
			    memcmp(addr, want_remote,
				   class == CLASS_V4 ? 4 : 16) == 0)
				return pool_id(&k);
		}
	}
	return -1;
}

/* "ephemeral ports toward <destination>: N of M in use...": the one the
 * model expects for that destination, with its count; alternating. */
static NO_COVERAGE int keep_note(void *data, const struct tcps_notification *n)
{
	static const char head[] = "ephemeral ports toward ";
	const char *dest = n->message + sizeof(head) - 1, *end;
	unsigned int count, avail;
	long id;

	(void)data;
	CHECK(strcmp(n->set, "ephemeral") == 0);
	CHECK(strncmp(n->message, head, sizeof(head) - 1) == 0);
	end = strstr(dest, ": ");
	CHECK(end && sscanf(end, ": %u of %u in use", &count, &avail) == 2);
	id = note_id(dest, (size_t)(end - dest));
	if (id < 0 || want_severity[id] != n->severity ||
	    want_count[id] != count || avail != s.sys.ephemeral_ports) {
		fprintf(stderr, "sent %d \"%s\", model %d with %u\n",
			n->severity, n->message,
			id < 0 ? -1 : want_severity[id],
			id < 0 ? 0 : want_count[id]);
		abort();
	}
	want_severity[id] = 0;
	/* Never two of a kind in a row, never an OKAY first. */
	if (n->severity == TCPS_SEVERITY_WARNING)
		CHECK(s.last_severity[id] != TCPS_SEVERITY_WARNING);
	else
		CHECK(s.last_severity[id] == TCPS_SEVERITY_WARNING);
	s.last_severity[id] = (uint8_t)n->severity;
	notes_num++;
	return 0;
}

static const struct tcps_sink sink = { .value = keep_value,
				       .notify = keep_note };

/* ---- checks ---- */

static NO_COVERAGE void expect_value(const char *pi, const char *type,
				     const char *ti, double v)
{
	CHECK(want_num < MAX_VALUES);
	want[want_num++] = (struct expected_value){
		.set = pi, .type = type, .type_instance = ti, .value = v
	};
}

static NO_COVERAGE void model_values(void)
{
	const struct tcps_sysctls *sys = &s.sys;

	want_num = 0;

	if (s.sys_readable) {
		expect_value("ephemeral", "count", "ports_available",
			     sys->ephemeral_ports);
		expect_value("ephemeral", "count", "ports_in_use",
			     (double)m.in_use);
		expect_value("ephemeral", "count", "busiest_destination",
			     m.busiest);
		if (sys->ephemeral_ports > 0) {
			expect_value("ephemeral", "percent",
				     "busiest_destination",
				     percent(m.busiest, sys->ephemeral_ports));
			expect_value("ephemeral", "count",
				     "destinations_over_warning",
				     m.over_warning_num);
		}
	}
	if (s.listening_known) {
		expect_value("timewait", "tcp_connections", "server",
			     (double)m.tw_server);
		expect_value("timewait", "tcp_connections", "client",
			     (double)m.tw_client);
	}
	/* Capped at 100: the stock percent type's limit. */
	if (s.sys_readable && sys->max_tw_buckets > 0) {
		double full = percent(m.tw_mini, (uint64_t)sys->max_tw_buckets);

		expect_value("timewait", "percent", "of_max_tw_buckets",
			     full < 100.0 ? full : 100.0);
	}
	if (s.sys_readable) {
		if (sys->tw_reuse >= 0)
			expect_value("sysctl", "gauge", "tcp_tw_reuse",
				     sys->tw_reuse);
		if (sys->max_tw_buckets >= 0)
			expect_value("sysctl", "count", "tcp_max_tw_buckets",
				     (double)sys->max_tw_buckets);
		if (sys->fin_timeout >= 0)
			expect_value("sysctl", "duration", "tcp_fin_timeout",
				     (double)sys->fin_timeout);
		expect_value("sysctl", "gauge", "ip_local_port_range_low",
			     sys->port_low);
		expect_value("sysctl", "gauge", "ip_local_port_range_high",
			     sys->port_high);
	}
}

static NO_COVERAGE void check_values(void)
{
	for (size_t i = 0; i < want_num; i++) {
		if (want[i].sent != 1) {
			fprintf(stderr, "%s/%s-%s not sent\n", want[i].set,
				want[i].type, want[i].type_instance);
			abort();
		}
	}
}

static NO_COVERAGE void expect_note(int severity, uint32_t id, uint32_t count)
{
	CHECK(want_notes < MAX_NOTES);
	want_ids[want_notes++] = id;
	want_severity[id] = (uint8_t)severity;
	want_count[id] = count;
}

/* What recheck and warn_new should have sent: OKAY for a warned
 * destination now under the level (or gone from a table that did not
 * overflow), WARNING for one newly over it while there is room. */
static NO_COVERAGE uint64_t model_notifications(void)
{
	uint64_t warn_overflow = 0;

	for (size_t i = 0; i < want_notes; i++)
		want_severity[want_ids[i]] = 0;
	want_notes = 0;
	if (!m.warn_count)
		return 0;
	for (uint32_t i = 0; i < s.warned_num;) {
		uint32_t id = s.warned_list[i];
		bool stored = m.gen[id] == m.read_gen;

		if (stored ? m.count[id] >= m.warn_count : m.overflow > 0) {
			i++;
			continue;
		}
		expect_note(TCPS_SEVERITY_OKAY, id, stored ? m.count[id] : 0);
		s.warned[id] = false;
		s.warned_list[i] = s.warned_list[--s.warned_num];
	}
	for (uint32_t i = 0; i < m.over_warning_num; i++) {
		uint32_t id = m.over_warning[i];

		if (s.warned[id])
			continue;
		if (s.warned_num >= TCPS_EPHEMERAL_MAX_WARNED) {
			warn_overflow++;
			continue;
		}
		s.warned[id] = true;
		s.warned_list[s.warned_num++] = id;
		expect_note(TCPS_SEVERITY_WARNING, id, m.count[id]);
	}
	return warn_overflow;
}

/* Under 3 slots per destination allowed (at most 2/3 full), and after a
 * burst back within twice the size the previous read's destinations
 * needed, or twice the first size. */
static NO_COVERAGE void check_table(void)
{
	uint64_t slots = tcps_ephemeral_slots(s.e);
	uint64_t after_burst = 2 * (uint64_t)s.first_slots;

	CHECK(slots <= 3 * (uint64_t)s.limit + 2);
	if (6 * (uint64_t)s.used_at_begin + 6 > after_burst)
		after_burst = 6 * (uint64_t)s.used_at_begin + 6;
	if (3 * (uint64_t)m.stored + 3 > after_burst)
		after_burst = 3 * (uint64_t)m.stored + 3;
	if (slots > after_burst) {
		fprintf(stderr,
			"%llu slots after a read of %u destinations, "
			"%u before\n",
			(unsigned long long)slots, m.stored, s.used_at_begin);
		abort();
	}
}

/* ---- reads ---- */

static NO_COVERAGE void feed(const struct sock *k, uint32_t id)
{
	struct tcps_record rec;

	make_record(k, &rec);
	tcps_ephemeral_observe(s.e, &rec);
	model_observe(k, id);
}

static NO_COVERAGE void feed_burst(void)
{
	struct tcps_record rec;
	struct sock k;

	for (uint32_t i = 0; i < s.burst_size; i++) {
		burst_socket(i, &k, &rec);
		tcps_ephemeral_observe(s.e, &rec);
		model_observe(&k, POOL_IDS + i);
	}
}

/* Every socket, in one order or the other; the burst first or last.
 * Stops after limit sockets (an aborted read). */
static NO_COVERAGE void feed_all(size_t limit)
{
	size_t fed = 0;

	if (s.reverse && s.burst_reads)
		feed_burst();
	for (size_t n = 0; n < MAX_SOCKETS && fed < limit; n++) {
		size_t i = s.reverse ? MAX_SOCKETS - 1 - n : n;

		if (!s.socks[i].used)
			continue;
		feed(&s.socks[i], pool_id(&s.socks[i]));
		fed++;
	}
	if (!s.reverse && s.burst_reads && fed < limit)
		feed_burst();
}

static void begin(void)
{
	tcps_ephemeral_begin(s.e, s.sys_readable ? &s.sys : NULL);
	model_begin();
}

static void read_once(void)
{
	uint64_t warn_overflow;

	begin();
	feed_all(SIZE_MAX);
	model_values();
	warn_overflow = model_notifications();
	notes_num = 0;
	tcps_ephemeral_end(s.e, s.listening_known ? &s.listening : NULL, &sink);
	check_values();
	CHECK(notes_num == want_notes);
	input_reads++;
	input_notes += notes_num;
	input_overflow += tcps_ephemeral_overflow(s.e);
	CHECK(tcps_ephemeral_overflow(s.e) == m.overflow + warn_overflow);
	CHECK(s.warned_num <= TCPS_EPHEMERAL_MAX_WARNED);
	check_table();
	s.used_at_begin = m.stored;
	if (s.burst_reads)
		s.burst_reads--;
	fuzz_reads_count();
}

/* A dump that failed after some records: nothing is emitted and the
 * notification state stays as it was. */
static void read_aborted(size_t after)
{
	begin();
	feed_all(after);
	tcps_ephemeral_abort(s.e);
	CHECK(tcps_ephemeral_slots(s.e) <= 3 * (uint64_t)s.limit + 2);
	s.used_at_begin = 0;
	fuzz_reads_count();
}

/* ---- operations ---- */

static void add_sockets(struct reader *r)
{
	uint8_t kind = take(r), where = take(r), port = take(r);
	unsigned int copies = 1 + take(r) % 8;
	struct sock k = {
		.used = true,
		.form = (uint8_t)(kind % FORMS),
		.state = states[(kind >> 3) % ARRAY_SIZE(states)],
		.laddr = where % LADDRS,
		.raddr = (where >> 2) % RADDRS,
		.rport = (uint8_t)(where >> 5) % RPORTS,
		.lport = pick_port(port),
	};

	k.timer = (kind & 0x80) ? TIMER_TIMEWAIT : 0;
	for (size_t i = 0; i < MAX_SOCKETS && copies > 0; i++) {
		if (s.socks[i].used)
			continue;
		s.socks[i] = k;
		k.lport++;
		copies--;
	}
}

static void set_range(struct reader *r)
{
	uint8_t b = take(r);

	if (b < 0x80) {
		s.sys.port_low = ranges[b % ARRAY_SIZE(ranges)].low;
		s.sys.port_high = ranges[b % ARRAY_SIZE(ranges)].high;
	} else {
		uint16_t low = take16(r), high = take16(r);

		/* What tcps_parse_port_range accepts: 1 <= low <= high. */
		if (low > high) {
			uint16_t t = low;

			low = high;
			high = t;
		}
		s.sys.port_low = low ? low : 1;
		s.sys.port_high = high ? high : 1;
	}
}

static void reserve(struct reader *r)
{
	uint16_t from = (uint16_t)(s.sys.port_low + take(r));
	unsigned int len = take(r);

	for (unsigned int i = 0; i <= len; i++)
		tcps_port_set_add(&s.sys.reserved, (uint16_t)(from + i));
}

static void set_sysctls(uint8_t b)
{
	static const int64_t buckets[] = { -1, 0, 1, 3, 262144 };
	static const int64_t timeouts[] = { -1, 0, 60 };

	s.sys.tw_reuse = (int)(b % 4) - 1;
	s.sys.max_tw_buckets = buckets[(b >> 2) % ARRAY_SIZE(buckets)];
	s.sys.fin_timeout = timeouts[(b >> 5) % ARRAY_SIZE(timeouts)];
}

/* Up to 2040 destinations, most bursts at most 127 (past every small
 * MaxDestinations): a read costs what its sockets cost, and the growth
 * of the table and the warned bound need only a few big ones. */
static void start_burst(struct reader *r)
{
	uint8_t size = take(r), scale = take(r) % 8;

	s.burst_size = scale >= 5 ? (uint32_t)size << (scale - 4)
				  : (uint32_t)size >> 1;
	s.burst_reads = 1 + take(r) % 2;
	s.burst_seed = take(r);
}

static void toggle_listening(uint8_t b)
{
	uint16_t port = pick_port(b);

	if (b == 0xff) {
		s.listening_known = !s.listening_known;
		return;
	}
	s.listening.bits[port >> 6] ^= (uint64_t)1 << (port & 63);
}

static void do_op(struct reader *r)
{
	uint8_t op = take(r);
	struct sock *k;

	switch (op % 16) {
	case 0:
		add_sockets(r);
		break;
	case 1: /* a socket changes state */
		k = &s.socks[take(r) % MAX_SOCKETS];
		k->state = states[take(r) % ARRAY_SIZE(states)];
		break;
	case 2: /* a socket closes */
		s.socks[take(r) % MAX_SOCKETS].used = false;
		break;
	case 3: /* a socket moves to another local port */
		k = &s.socks[take(r) % MAX_SOCKETS];
		k->lport = pick_port(take(r));
		break;
	case 4:
		set_range(r);
		s.sys.ephemeral_ports = model_ephemeral_ports();
		break;
	case 5:
		reserve(r);
		s.sys.ephemeral_ports = model_ephemeral_ports();
		break;
	case 6:
		tcps_port_set_clear(&s.sys.reserved);
		s.sys.ephemeral_ports = model_ephemeral_ports();
		break;
	case 7:
		s.sys_readable = !s.sys_readable;
		break;
	case 8:
		set_sysctls(take(r));
		break;
	case 9:
		toggle_listening(take(r));
		break;
	case 10:
		start_burst(r);
		break;
	case 11:
		s.reverse = !s.reverse;
		break;
	case 12:
		read_aborted(take(r));
		break;
	default:
		read_once();
	}
}

/*
 * One observer per configuration, kept from input to input: a new one
 * costs more fresh pages than a whole script of reads. Each input ends
 * with a read of nothing (checked like any other), which sends an OKAY
 * for every warned destination and leaves the observer as a new one,
 * its table back near its first size at the next begin().
 */
static struct {
	struct tcps_ephemeral *e;
	uint32_t first_slots;
} observers[64];

static void start(uint8_t config)
{
	size_t which = config % 64;
	struct tcps_ephemeral_config cfg = {
		.warning_percent = warning_levels[config % 8],
		.max_destinations = max_destinations[(config >> 3) % 8],
	};

	memset(&s, 0, sizeof(s));
	s.warning_percent = cfg.warning_percent;
	s.limit = cfg.max_destinations;
	s.listening_known = config & 0x40;
	s.sys_readable = true;
	s.sys.port_low = 32768;
	s.sys.port_high = 32768 + 199;
	set_sysctls(0x0a);
	s.sys.ephemeral_ports = model_ephemeral_ports();
	if (!observers[which].e) {
		if (tcps_ephemeral_new(&cfg, &observers[which].e) != 0)
			abort();
		observers[which].first_slots =
			tcps_ephemeral_slots(observers[which].e);
	}
	s.e = observers[which].e;
	s.first_slots = observers[which].first_slots;
}

/* Every socket gone, the sysctls as at the start: every warned
 * destination gets its OKAY. */
static void read_nothing(void)
{
	memset(s.socks, 0, sizeof(s.socks));
	s.burst_reads = 0;
	s.sys_readable = true;
	s.sys.port_low = 32768;
	s.sys.port_high = 32768 + 199;
	tcps_port_set_clear(&s.sys.reserved);
	s.sys.ephemeral_ports = model_ephemeral_ports();
	read_once();
	CHECK(s.warned_num == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_reads_start();
	debug = getenv("TCPS_FUZZ_DEBUG") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { .p = data, .left = size };

	input_reads = input_notes = input_overflow = 0;
	start(take(&r));
	while (r.left > 0)
		do_op(&r);
	/* Every script ends with a read, so the last operations count. */
	read_once();
	read_nothing();
	if (debug)
		fprintf(stderr,
			"%llu reads, %llu notifications, %llu overflowed, "
			"%u slots at the end\n",
			(unsigned long long)input_reads,
			(unsigned long long)input_notes,
			(unsigned long long)input_overflow,
			tcps_ephemeral_slots(s.e));
	return 0;
}

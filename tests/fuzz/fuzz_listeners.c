/*
 * libFuzzer target: the listeners observer over many reads. An input is a
 * script: listening sockets come and go, their accept queues fill and
 * drain, SYN_RECV handshakes appear and finish, other sockets share their
 * ports, bursts of many listening ports last a read or two, some reads
 * fail half-way. After every read, checked against a model the harness
 * keeps from the same script (abort() on a difference):
 *  - every value exactly once and equal to the model's: the top ports'
 *    accept queue, backlog and SYN_RECV, the full and listening totals;
 *  - a port that leaves the list is sent once more (what it holds now,
 *    zeros once it stopped listening) and never again while it is out;
 *    the list holds at most TopListeners ports;
 *  - the WARNING/OKAY notifications the model expects, with the queue
 *    and backlog in their text; per port they alternate, WARNING first;
 *  - the listening set the observer gives out is the model's, and empty
 *    after a failed read.
 *
 * Input: byte 0 picks TopListeners; then operations, one byte each
 * (op % 10) followed by its arguments; missing bytes read as 0. See
 * do_op().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "reads.h"
#include "script.h"
#include "tcpstates/listeners.h"
#include "tcpstates/record.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The model, the sink and the loops that feed records: their branches
 * follow the script, which do_op()'s coverage already shows, and their
 * comparisons traced for the fuzzer cost a quarter to a third of each
 * read. Not inlined, or they would be instrumented inside their callers. */
#define NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PORTS 65536
#define MAX_SOCKETS 48
#define BURST_BASE 20000u
#define MAX_BURST 1020u

struct sock {
	bool used;
	uint8_t state, family;
	uint16_t port;
	uint32_t rqueue, wqueue;
};

static const uint32_t top_choices[] = { 0, 1, 2, 3, 10, 1000, 5, 4 };
static const uint16_t ports[] = { 1,	22,    80,    443,   1000,  8080,
				  8443, 20000, 20001, 32768, 65534, 65535,
				  0,	5432,  6379,  20002 };
static const uint32_t queue_extremes[] = {
	UINT32_MAX, UINT32_MAX - 1, 0x80000000u, 65535, 65536, 4096, 4097, 128
};
static const uint8_t noise_states[] = {
	TCPS_ESTABLISHED,
	TCPS_TIME_WAIT,
	TCPS_CLOSE_WAIT,
	TCPS_FIN_WAIT1,
	TCPS_SYN_SENT,
	TCPS_CLOSE,
	0,
	12,
	255,
	TCPS_LAST_ACK,
	TCPS_CLOSING,
	TCPS_FIN_WAIT2,
};

/* What the script has built; reset for each input. */
static struct {
	struct tcps_listeners *listeners;
	uint32_t top_n;
	bool reverse;
	struct sock socks[MAX_SOCKETS]; /* LISTEN, SYN_RECV and others */
	uint32_t burst_size, burst_reads;
	uint8_t burst_pattern;
	/* Kept across reads: the ports listed last time and those warned. */
	uint16_t listed[PORTS];
	uint32_t listed_num;
	uint16_t warned[PORTS];
	uint32_t warned_num;
} s;

/* Per port, across reads of an input; each input leaves them cleared. */
static bool was_listed[PORTS], is_warned[PORTS];
static uint8_t last_severity[PORTS];

/* One read of the model. */
struct port_model {
	uint64_t queue, backlog;
	uint32_t syn_recv;
	uint32_t gen; /* == m.gen: touched this read */
	bool listening, full;
	bool listed;	       /* in the top this read */
	uint8_t values_left;   /* values still expected (3 or 0) */
	uint8_t values_sent;   /* bit per value: accept_queue, backlog, SYN */
	uint8_t want_severity; /* 0: no notification expected */
};
static struct {
	uint32_t gen;
	struct port_model port[PORTS];
	uint16_t touched[PORTS];
	uint32_t touched_num;
	uint16_t ranked[PORTS];
	uint32_t listening, full;
	uint32_t values_wanted, values_seen, notes_wanted, notes_seen;
	bool totals_seen[2];
	struct tcps_port_set listening_set;
} m;

static bool debug;
static uint64_t input_reads, input_values, input_notes;

/* ---- the script ---- */

static uint32_t queue_value(uint8_t b)
{
	return b < 0xf8 ? b : queue_extremes[b - 0xf8];
}

/* ---- the model ---- */

static NO_COVERAGE struct port_model *touch(uint16_t port)
{
	struct port_model *p = &m.port[port];

	if (p->gen != m.gen) {
		memset(p, 0, sizeof(*p));
		p->gen = m.gen;
		m.touched[m.touched_num++] = port;
	}
	return p;
}

static NO_COVERAGE void model_observe(uint8_t state, uint16_t port,
				      uint32_t rqueue, uint32_t wqueue)
{
	struct port_model *p;

	if (state == TCPS_SYN_RECV) {
		touch(port)->syn_recv++;
		return;
	}
	if (state != TCPS_LISTEN)
		return;
	p = touch(port);
	p->queue += rqueue;
	p->backlog += wqueue;
	if (!p->listening) {
		p->listening = true;
		m.listening++;
		tcps_port_set_add(&m.listening_set, port);
	}
	if (rqueue > wqueue && !p->full) {
		p->full = true;
		m.full++;
	}
}

/* queue/backlog, an idle port with no backlog as empty, a waiting one
 * with none as infinitely full; ties: longer queue, then lower port. */
static NO_COVERAGE int rank_cmp(const void *a, const void *b)
{
	uint16_t pa = *(const uint16_t *)a, pb = *(const uint16_t *)b;
	const struct port_model *x = &m.port[pa], *y = &m.port[pb];
	unsigned __int128 nx = x->queue, ny = y->queue;
	unsigned __int128 dx = x->queue || x->backlog ? x->backlog : 1;
	unsigned __int128 dy = y->queue || y->backlog ? y->backlog : 1;

	if (nx * dy != ny * dx)
		return nx * dy > ny * dx ? -1 : 1;
	if (x->queue != y->queue)
		return x->queue > y->queue ? -1 : 1;
	return pa < pb ? -1 : 1;
}

static bool gone(uint16_t port)
{
	return m.port[port].gen != m.gen || !m.port[port].listening;
}

/* The top ports and the ones dropped from last time expect their three
 * values; every port whose full state changed expects a notification. */
static void model_end(void)
{
	uint32_t busy = 0, shown;

	for (uint32_t i = 0; i < m.touched_num; i++) {
		struct port_model *p = &m.port[m.touched[i]];

		if (p->listening && (p->queue > 0 || p->syn_recv > 0))
			m.ranked[busy++] = m.touched[i];
	}
	qsort(m.ranked, busy, sizeof(m.ranked[0]), rank_cmp);
	shown = busy < s.top_n ? busy : s.top_n;
	for (uint32_t i = 0; i < shown; i++) {
		struct port_model *p = &m.port[m.ranked[i]];

		p->listed = true;
		p->values_left = 3;
		m.values_wanted += 3;
	}
	for (uint32_t i = 0; i < s.listed_num; i++) {
		struct port_model *p = touch(s.listed[i]);

		if (!p->listed) {
			p->values_left = 3;
			m.values_wanted += 3;
		}
	}
	for (uint32_t i = 0; i < s.warned_num; i++) {
		struct port_model *p = touch(s.warned[i]);

		if (!p->full)
			p->want_severity = TCPS_SEVERITY_OKAY;
	}
	for (uint32_t i = 0; i < m.touched_num; i++) {
		struct port_model *p = &m.port[m.touched[i]];

		if (p->full && !is_warned[m.touched[i]])
			p->want_severity = TCPS_SEVERITY_WARNING;
		m.notes_wanted += p->want_severity != 0;
	}
}

/* The lists kept across reads follow the model's read. */
static void model_commit(void)
{
	for (uint32_t i = 0; i < s.listed_num; i++)
		was_listed[s.listed[i]] = false;
	s.listed_num = 0;
	for (uint32_t i = 0; i < s.warned_num; i++)
		is_warned[s.warned[i]] = false;
	s.warned_num = 0;
	for (uint32_t i = 0; i < m.touched_num; i++) {
		uint16_t port = m.touched[i];
		const struct port_model *p = &m.port[port];

		if (p->listed) {
			s.listed[s.listed_num++] = port;
			was_listed[port] = true;
		}
		if (p->full) {
			s.warned[s.warned_num++] = port;
			is_warned[port] = true;
		}
	}
	CHECK(s.listed_num <= s.top_n);
}

/* ---- the sink ---- */

/* The port a per-port value is about: its type instance, in decimal. */
static NO_COVERAGE long instance_port(const char *type_instance)
{
	char *end;
	unsigned long port;

	if (type_instance[0] < '0' || type_instance[0] > '9')
		return -1;
	port = strtoul(type_instance, &end, 10);
	return *end == '\0' && port < PORTS ? (long)port : -1;
}

static void check_total(int which, double v)
{
	CHECK(!m.totals_seen[which]);
	m.totals_seen[which] = true;
	CHECK(v == (which == 0 ? m.full : m.listening));
}

static NO_COVERAGE int keep_value(void *data, const struct tcps_value *v)
{
	static const char *const sets[] = { "listen_queue", "listen_backlog",
					    "listen_syn_recv" };
	long port = instance_port(v->type_instance);
	const struct port_model *p;
	double want;
	int which = 0;

	(void)data;
	if (strcmp(v->set, "listen") == 0) {
		CHECK(strcmp(v->type, "count") == 0);
		if (strcmp(v->type_instance, "full_queues") == 0)
			check_total(0, v->value);
		else if (strcmp(v->type_instance, "listening_ports") == 0)
			check_total(1, v->value);
		else
			CHECK(!"an unknown listen total");
		return 0;
	}
	CHECK(port >= 0);
	/* Never re-sent while out of the list: listed now or last time. */
	CHECK(m.port[port].gen == m.gen &&
	      (m.port[port].listed || was_listed[port]));
	while (which < 3 && strcmp(v->set, sets[which]) != 0)
		which++;
	CHECK(which < 3);
	CHECK(strcmp(v->type, which < 2 ? "queue_length" : "tcp_connections") ==
	      0);
	p = &m.port[port];
	CHECK(p->values_left > 0 && !(p->values_sent & (1 << which)));
	m.port[port].values_sent |= (uint8_t)(1 << which);
	m.port[port].values_left--;
	m.values_seen++;
	/* A port that stopped listening is sent with zeros. */
	want = gone((uint16_t)port) ? 0
	       : which == 0	    ? (double)p->queue
	       : which == 1	    ? (double)p->backlog
				    : p->syn_recv;
	if (v->value != want) {
		fprintf(stderr, "%s port %ld: %g, model %g\n", sets[which],
			port, v->value, want);
		abort();
	}
	return 0;
}

/* The text carries the numbers the model has for the port. Covered, as
 * keep_note() is: tcps_listeners_end() is not (coverage-ignore.txt), so
 * which notifications a script reached shows here. */
static void check_message(const struct tcps_notification *n, uint16_t port)
{
	const struct port_model *p = &m.port[port];
	unsigned long long queue, backlog;
	const char *numbers = strchr(n->message, '(');
	char head[64];

	snprintf(head, sizeof(head), "listener on port %u: ", port);
	CHECK(strncmp(n->message, head, strlen(head)) == 0);
	if (n->severity == TCPS_SEVERITY_OKAY && gone(port)) {
		CHECK(strstr(n->message, "no longer listening"));
		return;
	}
	CHECK(numbers && sscanf(numbers, "(%llu waiting, backlog %llu)", &queue,
				&backlog) == 2);
	CHECK(queue == p->queue && backlog == p->backlog);
}

static int keep_note(void *data, const struct tcps_notification *n)
{
	long port = instance_port(n->type_instance);
	struct port_model *p;

	(void)data;
	CHECK(port >= 0);
	CHECK(strcmp(n->set, "listen_queue") == 0 &&
	      strcmp(n->type, "queue_length") == 0);
	p = &m.port[port];
	if (p->gen != m.gen || p->want_severity != n->severity) {
		fprintf(stderr, "port %ld: sent %d, model %d\n", port,
			n->severity, p->gen == m.gen ? p->want_severity : 0);
		abort();
	}
	check_message(n, (uint16_t)port);
	p->want_severity = 0;
	m.notes_seen++;
	/* Never two of a kind in a row, never an OKAY first. */
	if (n->severity == TCPS_SEVERITY_WARNING)
		CHECK(last_severity[port] != TCPS_SEVERITY_WARNING);
	else
		CHECK(last_severity[port] == TCPS_SEVERITY_WARNING);
	last_severity[port] = (uint8_t)n->severity;
	return 0;
}

static const struct tcps_sink sink = { .value = keep_value,
				       .notify = keep_note };

/* ---- reads ---- */

static NO_COVERAGE void feed(uint8_t state, uint8_t family, uint16_t port,
			     uint32_t rqueue, uint32_t wqueue)
{
	struct tcps_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.family = family;
	rec.state = state;
	rec.local_port = port;
	rec.remote_port = state == TCPS_LISTEN ? 0 : 40000;
	rec.rqueue = rqueue;
	rec.wqueue = wqueue;
	tcps_listeners_observe(s.listeners, &rec);
	model_observe(state, port, rqueue, wqueue);
}

/* The i-th port of the burst: idle, busy, full, or handshakes only. */
static NO_COVERAGE void feed_burst_port(uint32_t i)
{
	uint16_t port = (uint16_t)(BURST_BASE + i);

	switch ((s.burst_pattern + i) % 4) {
	case 0:
		feed(TCPS_LISTEN, AF_INET, port, 0, 128);
		break;
	case 1:
		feed(TCPS_LISTEN, AF_INET6, port, 1 + i % 7, 128);
		break;
	case 2:
		feed(TCPS_LISTEN, AF_INET, port, 129, 128);
		break;
	default:
		feed(TCPS_LISTEN, AF_INET, port, 0, 128);
		feed(TCPS_SYN_RECV, AF_INET, port, 0, 0);
	}
}

static NO_COVERAGE void feed_all(size_t limit)
{
	size_t fed = 0;

	for (uint32_t i = 0; s.reverse && s.burst_reads && i < s.burst_size;
	     i++)
		feed_burst_port(i);
	for (size_t n = 0; n < MAX_SOCKETS && fed < limit; n++) {
		const struct sock *k =
			&s.socks[s.reverse ? MAX_SOCKETS - 1 - n : n];

		if (!k->used)
			continue;
		feed(k->state, k->family, k->port, k->rqueue, k->wqueue);
		fed++;
	}
	for (uint32_t i = 0;
	     !s.reverse && s.burst_reads && fed < limit && i < s.burst_size;
	     i++)
		feed_burst_port(i);
}

static void begin(void)
{
	if (++m.gen == 0)
		m.gen = 1;
	m.touched_num = 0;
	m.listening = m.full = 0;
	m.values_wanted = m.values_seen = m.notes_wanted = m.notes_seen = 0;
	m.totals_seen[0] = m.totals_seen[1] = false;
	tcps_port_set_clear(&m.listening_set);
	tcps_listeners_begin(s.listeners);
}

static void read_once(void)
{
	begin();
	feed_all(SIZE_MAX);
	model_end();
	tcps_listeners_end(s.listeners, &sink);
	CHECK(m.values_seen == m.values_wanted);
	CHECK(m.totals_seen[0] && m.totals_seen[1]);
	CHECK(m.notes_seen == m.notes_wanted);
	CHECK(memcmp(tcps_listeners_ports(s.listeners), &m.listening_set,
		     sizeof(m.listening_set)) == 0);
	model_commit();
	if (s.burst_reads)
		s.burst_reads--;
	input_reads++;
	input_values += m.values_seen;
	input_notes += m.notes_seen;
	fuzz_reads_count();
}

/* A dump that failed after some records: nothing is emitted, the lists
 * and the notification state stay, the listening set is emptied. */
static void read_aborted(size_t after)
{
	static const struct tcps_port_set empty;

	begin();
	feed_all(after);
	tcps_listeners_abort(s.listeners);
	CHECK(memcmp(tcps_listeners_ports(s.listeners), &empty,
		     sizeof(empty)) == 0);
	fuzz_reads_count();
}

/* ---- operations ---- */

static struct sock *free_sock(void)
{
	for (size_t i = 0; i < MAX_SOCKETS; i++)
		if (!s.socks[i].used)
			return &s.socks[i];
	return NULL;
}

static void add(uint8_t state, uint16_t port, uint32_t rqueue, uint32_t wqueue,
		unsigned int copies)
{
	for (struct sock *k; copies > 0 && (k = free_sock()); copies--)
		*k = (struct sock){ .used = true,
				    .state = state,
				    .family = copies % 2 ? AF_INET : AF_INET6,
				    .port = port,
				    .rqueue = rqueue,
				    .wqueue = wqueue };
}

/* Up to 1020 ports, most bursts at most 255: a read costs what its
 * sockets cost. */
static void start_burst(struct reader *r)
{
	uint8_t size = take(r), scale = take(r) % 8;

	s.burst_size = (uint32_t)size << (scale == 7 ? 2 : 0);
	s.burst_reads = 1 + take(r) % 2;
	s.burst_pattern = take(r);
}

static void do_op(struct reader *r)
{
	uint8_t op = take(r), a, b, c;
	struct sock *k;

	switch (op % 10) {
	case 0: /* listening sockets: port, queue, backlog, copies */
		a = take(r);
		b = take(r);
		c = take(r);
		add(TCPS_LISTEN, ports[a % ARRAY_SIZE(ports)], queue_value(b),
		    queue_value(c), 1 + take(r) % 3);
		break;
	case 1: /* a queue fills or drains */
		k = &s.socks[take(r) % MAX_SOCKETS];
		k->rqueue = queue_value(take(r));
		break;
	case 2: /* a socket closes */
		s.socks[take(r) % MAX_SOCKETS].used = false;
		break;
	case 3: /* handshakes in progress: port, how many */
		a = take(r);
		add(TCPS_SYN_RECV, ports[a % ARRAY_SIZE(ports)], 0, 0,
		    1 + take(r) % 4);
		break;
	case 4: /* a handshake completes */
		k = &s.socks[take(r) % MAX_SOCKETS];
		if (k->state == TCPS_SYN_RECV)
			k->used = false;
		break;
	case 5: /* another socket on a port: never a listener */
		a = take(r);
		b = take(r);
		add(noise_states[b % ARRAY_SIZE(noise_states)],
		    ports[a % ARRAY_SIZE(ports)], b, 7, 1);
		break;
	case 6:
		start_burst(r);
		break;
	case 7:
		s.reverse = !s.reverse;
		break;
	case 8:
		read_aborted(take(r));
		break;
	default:
		read_once();
	}
}

/*
 * One observer per TopListeners, kept from input to input: a new one
 * costs 1.7 MiB of fresh pages, more than a whole script of reads. Each
 * input ends with a read of nothing (checked like any other), which
 * sends the last values and OKAYs and leaves the observer with nothing
 * listed or warned, as a new one; gen numbers are all that differ.
 */
static struct tcps_listeners *observers[ARRAY_SIZE(top_choices)];

static void start(uint8_t config)
{
	size_t which = config % ARRAY_SIZE(top_choices);
	struct tcps_listeners_config cfg = { .top_n = top_choices[which] };

	/* The last input ended with a read of nothing: no port is listed or
	 * warned, in the model as in the observers. */
	memset(last_severity, 0, sizeof(last_severity));
	memset(&s, 0, offsetof(typeof(s), listed));
	s.top_n = cfg.top_n;
	if (!observers[which] &&
	    tcps_listeners_new(&cfg, &observers[which]) != 0)
		abort();
	s.listeners = observers[which];
}

/* Every socket gone: the observer is left as a new one would be. */
static void read_nothing(void)
{
	memset(s.socks, 0, sizeof(s.socks));
	s.burst_reads = 0;
	read_once();
	CHECK(s.listed_num == 0 && s.warned_num == 0);
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

	input_reads = input_values = input_notes = 0;
	start(take(&r));
	while (r.left > 0)
		do_op(&r);
	/* Every script ends with a read, so the last operations count. */
	read_once();
	read_nothing();
	if (debug)
		fprintf(stderr, "%llu reads, %llu values, %llu notifications\n",
			(unsigned long long)input_reads,
			(unsigned long long)input_values,
			(unsigned long long)input_notes);
	return 0;
}

/*
 * The core's hash tables against uthash, on the two workloads that load
 * them most, in one process, on the same data, variants interleaved:
 *
 *  - destinations: N sockets on ephemeral ports spread over D
 *    destinations (keys shaped like plugin/ephemeral.c's dest_key), "find
 *    or insert, then count++" per socket, the table reset each interval.
 *    Variants: the real observer (tcps_ephemeral_* of libtcpstates-core.a
 *    fed struct tcps_record values: what users run); its table alone
 *    (open addressing through tcps_probe, key_hash, generation reset,
 *    slots of 48 bytes, as ephemeral.c has them); uthash with entries
 *    from a pool of D, with one malloc per entry, and from a pool with
 *    our key hash instead of uthash's default (Jenkins).
 *  - inodes: the owner search's query index (plugin/owners.c), uint32
 *    inode -> query: N inserts, then 2N lookups, half of them misses
 *    (other sockets' inodes), the table reset per resolve. Variants: the
 *    tcps_probe table as owners.c has it; uthash as above.
 *
 *   hashbench [-r RUNS] [-i INTERVALS] [-n SIZES] [-l LABEL] [-o] [-s]
 *
 * -r runs per figure (5; the figure is their median), -i intervals (or
 * resolves) per run (4; the first, which grows the tables, is left out of
 * the time), -n socket counts ("10000 100000 1000000"), -l a label for the
 * report (the source revision), -o the observer alone, -s raw samples
 * ("dest VARIANT N D RUN NS BYTES", "inode VARIANT N RUN NS_INSERT
 * NS_LOOKUP BYTES") instead of the Markdown report.
 *
 * Time is the thread's CPU time (CLOCK_THREAD_CPUTIME_ID). Memory is what
 * the table holds when an interval's inserts are done: the malloc chunks
 * of its slots, or of uthash's buckets, table and entries (usable size
 * plus glibc's 8-byte header: malloc_usable_size), the largest over the
 * intervals; for the observer, its slot count times 48 bytes. A report,
 * not a test: nothing asserts a timing. Exits 1 only when a table counted
 * wrong.
 */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <uthash.h>

#include "tcpstates/dest_table.h"
#include "tcpstates/ephemeral.h"
#include "tcpstates/options.h"
#include "tcpstates/record.h"
#include "tcpstates/util.h"

#define MAX_RUNS 51
#define MAX_INTERVALS 50
#define MAX_SIZES 6
#define SHAPES 4 /* destination counts per size: 1, 64, 4096, N/2 */
#define MAX_SOCKETS 10000000u
#define EPHEMERAL_LOW 32768u
#define EPHEMERAL_PORTS 28232u /* 32768-60999, Linux's default range */
#define STRING(x) #x
#define EXPANDED_STRING(x) STRING(x) /* UTHASH_VERSION is 2.3.0, bare */

/* ---- measuring ---- */

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The bytes of the malloc chunk at p: what it can hold and glibc's
 * size header (mallinfo2 is no help: chunks parked in the thread cache
 * count as in use). */
static size_t chunk_bytes(const void *p)
{
	return p ? malloc_usable_size((void *)p) + sizeof(size_t) : 0;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n samples; sorts a copy. */
static double median(const double *samples, int n)
{
	double sorted[MAX_RUNS];

	memcpy(sorted, samples, (size_t)n * sizeof(*sorted));
	qsort(sorted, (size_t)n, sizeof(*sorted), compare_double);
	return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/* Half the range of the samples, in % of their median (as bench.sh). */
static double spread(const double *samples, int n)
{
	double low = samples[0], high = samples[0], mid = median(samples, n);

	for (int i = 1; i < n; i++) {
		low = samples[i] < low ? samples[i] : low;
		high = samples[i] > high ? samples[i] : high;
	}
	return mid > 0 ? (high - low) / 2 / mid * 100 : 0;
}

/* xorshift64*: the workloads are the same from run to run. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static void shuffle(uint32_t *items, size_t n, uint64_t *rng)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(next_random(rng) % i);
		uint32_t t = items[i - 1];

		items[i - 1] = items[j];
		items[j] = t;
	}
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		fprintf(stderr, "hashbench: out of memory\n");
		exit(2);
	}
	return p;
}

/* ---- the destination workload ---- */

/* The destination table's own key and hash (dest_table.h, inline). */
#define dest_key tcps_dest_key
#define dest_hash tcps_dest_key_hash

/* Destination d as a client host's outbound sockets look: four local
 * addresses, eight service ports, many peers; one in eight over IPv6. */
static void make_destination(uint32_t d, struct dest_key *key)
{
	uint32_t peer = d / 32;

	memset(key, 0, sizeof(*key));
	key->remote_port = (uint16_t)(5432 + (d / 4) % 8);
	if ((d / 4) % 8 == 7) {
		key->family = AF_INET6;
		key->local_addr[0] = 0xfd;
		key->local_addr[15] = (uint8_t)(1 + d % 4);
		key->remote_addr[0] = 0xfd;
		key->remote_addr[1] = 0x01;
		memcpy(key->remote_addr + 12, &peer, sizeof(peer));
		return;
	}
	key->family = AF_INET;
	memcpy(key->local_addr, (const uint8_t[]){ 10, 0, 0, 1 + d % 4 }, 4);
	memcpy(key->remote_addr,
	       (const uint8_t[]){ 172, 16 + (peer >> 16) % 16,
				  (peer >> 8) & 255, peer & 255 },
	       4);
}

static void make_record(const struct dest_key *key, uint32_t i,
			struct tcps_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->family = key->family;
	rec->state = TCPS_ESTABLISHED;
	rec->local_port = (uint16_t)(EPHEMERAL_LOW + i % EPHEMERAL_PORTS);
	rec->remote_port = key->remote_port;
	memcpy(rec->local_addr, key->local_addr, sizeof(rec->local_addr));
	memcpy(rec->remote_addr, key->remote_addr, sizeof(rec->remote_addr));
	rec->inode = i + 1;
	rec->cookie = i + 1;
}

/* The sockets of one interval, in dump order: each destination gets
 * N / D of them (or one more), in random order, as a dump gives them. */
struct dest_work {
	uint32_t sockets, destinations;
	struct dest_key *keys;	     /* per socket, for the bare tables */
	struct tcps_record *records; /* per socket, for the observer */
};

static void dest_work_init(struct dest_work *w, uint32_t sockets,
			   uint32_t destinations, bool records)
{
	uint32_t *order = xcalloc(sockets, sizeof(*order));
	uint64_t rng = 0x853c49e6748fea9bull ^ sockets ^
		       ((uint64_t)destinations << 32);

	w->sockets = sockets;
	w->destinations = destinations;
	for (uint32_t i = 0; i < sockets; i++)
		order[i] = i % destinations;
	shuffle(order, sockets, &rng);
	w->keys = xcalloc(sockets, sizeof(*w->keys));
	w->records = records ? xcalloc(sockets, sizeof(*w->records)) : NULL;
	for (uint32_t i = 0; i < sockets; i++) {
		make_destination(order[i], &w->keys[i]);
		if (records)
			make_record(&w->keys[i], i, &w->records[i]);
	}
	free(order);
}

static void dest_work_free(struct dest_work *w)
{
	free(w->keys);
	free(w->records);
}

/* What a table counted in its last interval, checked against the work. */
struct dest_tally {
	uint64_t sockets;
	uint64_t entries; /* UINT64_MAX: the table does not say */
	uint32_t busiest;
};

struct dest_ops {
	const char *name;
	void *(*create)(uint32_t destinations);
	/* One interval: forget the last one's destinations, count these. */
	void (*interval)(void *table, const struct dest_work *w);
	struct dest_tally (*tally)(void *table);
	size_t (*bytes)(const void *table); /* held now */
	void (*destroy)(void *table);
};

/* ---- the real observer ---- */

struct observer {
	struct tcps_ephemeral *e;
	struct tcps_sysctls sys;
	double in_use, busiest;
};

static int observer_value(void *data, const struct tcps_value *v)
{
	struct observer *o = data;

	if (strcmp(v->type, "count") == 0 &&
	    strcmp(v->type_instance, "ports_in_use") == 0)
		o->in_use = v->value;
	if (strcmp(v->type, "count") == 0 &&
	    strcmp(v->type_instance, "busiest_destination") == 0)
		o->busiest = v->value;
	return 0;
}

static void *observer_create(uint32_t destinations)
{
	struct tcps_ephemeral_config cfg = {
		.max_destinations = TCPS_EPHEMERAL_MAX_DESTINATIONS,
	};
	struct observer *o = xcalloc(1, sizeof(*o));
	struct tcps_options defaults;

	(void)destinations;
	tcps_options_init(&defaults);
	cfg.warning_percent = defaults.port_exhaustion_warning;
	if (tcps_ephemeral_new(&cfg, &o->e) != 0) {
		fprintf(stderr, "hashbench: tcps_ephemeral_new failed\n");
		exit(2);
	}
	o->sys.port_low = EPHEMERAL_LOW;
	o->sys.port_high = EPHEMERAL_LOW + EPHEMERAL_PORTS - 1;
	o->sys.ephemeral_ports = EPHEMERAL_PORTS;
	o->sys.tw_reuse = 2;
	o->sys.max_tw_buckets = 262144;
	o->sys.fin_timeout = 60;
	tcps_port_set_clear(&o->sys.reserved);
	return o;
}

static void observer_interval(void *table, const struct dest_work *w)
{
	struct observer *o = table;
	const struct tcps_sink sink = { .value = observer_value, .data = o };

	tcps_ephemeral_begin(o->e, &o->sys);
	for (uint32_t i = 0; i < w->sockets; i++)
		tcps_ephemeral_observe(o->e, &w->records[i]);
	tcps_ephemeral_end(o->e, NULL, &sink);
}

static struct dest_tally observer_tally(void *table)
{
	const struct observer *o = table;

	if (tcps_ephemeral_overflow(o->e) != 0)
		return (struct dest_tally){ 0, 0, 0 };
	return (struct dest_tally){ (uint64_t)o->in_use, UINT64_MAX,
				    (uint32_t)o->busiest };
}

/* The observer's slots are 48 bytes (ephemeral.h); the table only. */
static size_t observer_bytes(const void *table)
{
	const struct observer *o = table;

	return (size_t)tcps_ephemeral_slots(o->e) * 48;
}

static void observer_destroy(void *table)
{
	struct observer *o = table;

	tcps_ephemeral_free(o->e);
	free(o);
}

/* ---- the observer's table alone: open addressing, tcps_probe ----
 *
 * The slot, key, hash and per-socket lookup are dest_table.h's own
 * (inline); creating and growing are written here, as dest_table.c does
 * them, so that this driver also links with cores from before that file
 * (make bench-hash-ab). */

#define OA_FIRST_CAPACITY 1024u

_Static_assert(sizeof(struct tcps_dest_slot) == 48, "the core's slot");

static void *oa_dest_create(uint32_t destinations)
{
	struct tcps_dest_table *t = xcalloc(1, sizeof(*t));

	t->slots = xcalloc(OA_FIRST_CAPACITY, sizeof(*t->slots));
	t->mask = OA_FIRST_CAPACITY - 1;
	t->generation = 1;
	(void)destinations; /* grown as the sockets come, as the core does */
	t->limit = UINT32_MAX;
	t->max_capacity = UINT32_MAX;
	return t;
}

/* Twice the slots, this interval's entries moved over. */
static void oa_dest_grow(struct tcps_dest_table *t)
{
	struct tcps_dest_table old = *t;

	t->slots = xcalloc(((size_t)old.mask + 1) * 2, sizeof(*t->slots));
	t->mask = old.mask * 2 + 1;
	t->generation = 1;
	for (size_t i = 0; i <= old.mask; i++) {
		struct tcps_dest_slot *to;

		if (old.slots[i].generation != old.generation)
			continue;
		to = tcps_dest_table_probe(
			t, &old.slots[i].key,
			tcps_dest_key_hash(&old.slots[i].key));
		*to = old.slots[i];
		to->generation = t->generation;
	}
	free(old.slots);
}

static void oa_dest_count(struct tcps_dest_table *t,
			  const struct tcps_dest_key *key)
{
	if (tcps_dest_table_wants_room(t))
		oa_dest_grow(t);
	tcps_dest_table_get(t, key, tcps_dest_key_hash(key))->count++;
}

static void oa_dest_interval(void *table, const struct dest_work *w)
{
	struct tcps_dest_table *t = table;

	/* 2^32 intervals are not reached here: no wrap-around clearing. */
	t->generation++;
	t->used = 0;
	for (uint32_t i = 0; i < w->sockets; i++)
		oa_dest_count(t, &w->keys[i]);
}

static struct dest_tally oa_dest_tally(void *table)
{
	const struct tcps_dest_table *t = table;
	struct dest_tally tally = { 0, 0, 0 };

	for (size_t i = 0; i <= t->mask; i++) {
		const struct tcps_dest_slot *s = &t->slots[i];

		if (s->generation != t->generation)
			continue;
		tally.entries++;
		tally.sockets += s->count;
		tally.busiest =
			s->count > tally.busiest ? s->count : tally.busiest;
	}
	return tally;
}

static size_t oa_dest_bytes(const void *table)
{
	const struct tcps_dest_table *t = table;

	return chunk_bytes(t->slots);
}

static void oa_dest_destroy(void *table)
{
	struct tcps_dest_table *t = table;

	free(t->slots);
	free(t);
}

/* ---- the same table with uthash ---- */

struct ut_dest_entry {
	struct dest_key key;
	uint32_t count;
	bool warned;
	UT_hash_handle hh;
};

struct ut_dest {
	struct ut_dest_entry *head;
	struct ut_dest_entry *pool; /* NULL: one malloc per entry */
	uint32_t pool_used, pool_size;
};

static void *ut_dest_create_pool(uint32_t destinations)
{
	struct ut_dest *t = xcalloc(1, sizeof(*t));

	t->pool = xcalloc(destinations, sizeof(*t->pool));
	t->pool_size = destinations;
	return t;
}

static void *ut_dest_create_malloc(uint32_t destinations)
{
	(void)destinations;
	return xcalloc(1, sizeof(struct ut_dest));
}

/* HASH_CLEAR frees the buckets; malloc'd entries are freed one by one
 * along the list it leaves intact. */
static void ut_dest_reset(struct ut_dest *t)
{
	struct ut_dest_entry *e = t->head, *next;

	HASH_CLEAR(hh, t->head);
	if (!t->pool) {
		for (; e; e = next) {
			next = e->hh.next;
			free(e);
		}
	}
	t->pool_used = 0;
}

/* HASH_FIND and HASH_ADD in their BYHASHVALUE form, so that a new key is
 * hashed once, as a careful user would write it. */
static inline __attribute__((always_inline)) void
ut_dest_count(struct ut_dest *t, const struct dest_key *key, bool our_hash)
{
	struct ut_dest_entry *e;
	unsigned int hash;

	if (our_hash)
		hash = dest_hash(key);
	else
		HASH_VALUE(key, sizeof(*key), hash);
	HASH_FIND_BYHASHVALUE(hh, t->head, key, sizeof(*key), hash, e);
	if (!e) {
		e = t->pool ? &t->pool[t->pool_used++] : malloc(sizeof(*e));
		if (!e) {
			fprintf(stderr, "hashbench: out of memory\n");
			exit(2);
		}
		e->key = *key;
		e->count = 0;
		e->warned = false;
		HASH_ADD_BYHASHVALUE(hh, t->head, key, sizeof(*key), hash, e);
	}
	e->count++;
}

static void ut_dest_interval(void *table, const struct dest_work *w)
{
	struct ut_dest *t = table;

	ut_dest_reset(t);
	for (uint32_t i = 0; i < w->sockets; i++)
		ut_dest_count(t, &w->keys[i], false);
}

static void ut_dest_interval_our_hash(void *table, const struct dest_work *w)
{
	struct ut_dest *t = table;

	ut_dest_reset(t);
	for (uint32_t i = 0; i < w->sockets; i++)
		ut_dest_count(t, &w->keys[i], true);
}

static struct dest_tally ut_dest_tally(void *table)
{
	struct ut_dest *t = table;
	struct ut_dest_entry *e, *tmp;
	struct dest_tally tally = { 0, 0, 0 };

	HASH_ITER(hh, t->head, e, tmp)
	{
		tally.entries++;
		tally.sockets += e->count;
		tally.busiest =
			e->count > tally.busiest ? e->count : tally.busiest;
	}
	return tally;
}

/* uthash's table and buckets, and the entries: the pool, or a chunk
 * each. */
/* What a uthash table holds: its pool of entries, or one chunk per entry
 * (each the size of entry), plus its table and buckets. */
static size_t uthash_bytes(const UT_hash_table *tbl, const void *pool,
			   const void *entry)
{
	size_t bytes = pool ? chunk_bytes(pool) : 0;

	if (!tbl)
		return bytes;
	bytes += chunk_bytes(tbl) + chunk_bytes(tbl->buckets);
	if (!pool)
		bytes += (size_t)tbl->num_items * chunk_bytes(entry);
	return bytes;
}

static size_t ut_dest_bytes(const void *table)
{
	const struct ut_dest *t = table;
	return uthash_bytes(t->head ? t->head->hh.tbl : NULL, t->pool, t->head);
}

static void ut_dest_destroy(void *table)
{
	struct ut_dest *t = table;

	ut_dest_reset(t);
	free(t->pool);
	free(t);
}

static const struct dest_ops dest_variants[] = {
	{ "observer", observer_create, observer_interval, observer_tally,
	  observer_bytes, observer_destroy },
	{ "open addressing", oa_dest_create, oa_dest_interval, oa_dest_tally,
	  oa_dest_bytes, oa_dest_destroy },
	{ "uthash, pool", ut_dest_create_pool, ut_dest_interval, ut_dest_tally,
	  ut_dest_bytes, ut_dest_destroy },
	{ "uthash, malloc", ut_dest_create_malloc, ut_dest_interval,
	  ut_dest_tally, ut_dest_bytes, ut_dest_destroy },
	{ "uthash, pool, our hash", ut_dest_create_pool,
	  ut_dest_interval_our_hash, ut_dest_tally, ut_dest_bytes,
	  ut_dest_destroy },
};

#define DEST_VARIANTS (sizeof(dest_variants) / sizeof(dest_variants[0]))

/* ---- the inode workload ---- */

/* N query inodes and 2N lookups: each query's inode once and as many
 * inodes of other sockets, interleaved with them in number (inodes come
 * from one counter), in random order. */
struct inode_work {
	uint32_t count, lookups;
	uint32_t *inodes; /* the queries', index = query */
	uint32_t *probes;
};

static void inode_work_init(struct inode_work *w, uint32_t count)
{
	uint64_t rng = 0x9e3779b97f4a7c15ull ^ count;

	w->count = count;
	w->lookups = 2 * count;
	w->inodes = xcalloc(count, sizeof(*w->inodes));
	w->probes = xcalloc(w->lookups, sizeof(*w->probes));
	for (uint32_t i = 0; i < count; i++) {
		uint32_t pair = 40000000u + 2 * i, held = next_random(&rng) & 1;

		w->inodes[i] = pair + held;
		w->probes[2 * i] = pair + held;
		w->probes[2 * i + 1] = pair + 1 - held;
	}
	shuffle(w->inodes, count, &rng);
	shuffle(w->probes, w->lookups, &rng);
}

static void inode_work_free(struct inode_work *w)
{
	free(w->inodes);
	free(w->probes);
}

struct inode_ops {
	const char *name;
	void *(*create)(uint32_t count);
	/* Forget the last resolve's queries, index these. */
	void (*fill)(void *table, const struct inode_work *w);
	/* Sum over the lookups of query + 1, 0 for a miss. */
	uint64_t (*look)(const void *table, const struct inode_work *w);
	size_t (*bytes)(const void *table); /* held now */
	void (*destroy)(void *table);
};

/* ---- the query index as owners.c has it ---- */

struct inode_slot {
	uint32_t inode; /* 0 = empty */
	int32_t query;
};

struct oa_inode {
	struct inode_slot *slots;
	size_t cap;
};

static bool inode_slot_stop(const void *slot, const void *key)
{
	uint32_t inode = ((const struct inode_slot *)slot)->inode;

	return inode == 0 || inode == *(const uint32_t *)key;
}

static struct inode_slot *oa_inode_slot(const struct oa_inode *t,
					uint32_t inode)
{
	return &t->slots[tcps_probe(t->slots, sizeof(*t->slots), t->cap,
				    tcps_mix32(inode), inode_slot_stop,
				    &inode)];
}

static void *oa_inode_create(uint32_t count)
{
	struct oa_inode *t = xcalloc(1, sizeof(*t));

	t->cap = 16; /* owners.c's table_size_for */
	while (t->cap < (size_t)count * 2)
		t->cap <<= 1;
	t->slots = xcalloc(t->cap, sizeof(*t->slots));
	return t;
}

static void oa_inode_fill(void *table, const struct inode_work *w)
{
	struct oa_inode *t = table;

	memset(t->slots, 0, t->cap * sizeof(*t->slots));
	for (uint32_t q = 0; q < w->count; q++) {
		struct inode_slot *slot = oa_inode_slot(t, w->inodes[q]);

		if (slot->inode == w->inodes[q])
			continue; /* the same socket twice: counted once */
		slot->inode = w->inodes[q];
		slot->query = (int32_t)q;
	}
}

static uint64_t oa_inode_look(const void *table, const struct inode_work *w)
{
	const struct oa_inode *t = table;
	uint64_t sum = 0;

	for (uint32_t i = 0; i < w->lookups; i++) {
		const struct inode_slot *slot = oa_inode_slot(t, w->probes[i]);

		if (slot->inode == w->probes[i])
			sum += (uint64_t)slot->query + 1;
	}
	return sum;
}

static size_t oa_inode_bytes(const void *table)
{
	const struct oa_inode *t = table;

	return chunk_bytes(t->slots);
}

static void oa_inode_destroy(void *table)
{
	struct oa_inode *t = table;

	free(t->slots);
	free(t);
}

/* ---- the query index with uthash ---- */

struct ut_inode_entry {
	uint32_t inode;
	int32_t query;
	UT_hash_handle hh;
};

struct ut_inode {
	struct ut_inode_entry *head;
	struct ut_inode_entry *pool; /* NULL: one malloc per entry */
	uint32_t pool_used;
};

static void *ut_inode_create_pool(uint32_t count)
{
	struct ut_inode *t = xcalloc(1, sizeof(*t));

	t->pool = xcalloc(count, sizeof(*t->pool));
	return t;
}

static void *ut_inode_create_malloc(uint32_t count)
{
	(void)count;
	return xcalloc(1, sizeof(struct ut_inode));
}

static void ut_inode_reset(struct ut_inode *t)
{
	struct ut_inode_entry *e = t->head, *next;

	HASH_CLEAR(hh, t->head);
	if (!t->pool) {
		for (; e; e = next) {
			next = e->hh.next;
			free(e);
		}
	}
	t->pool_used = 0;
}

static inline __attribute__((always_inline)) unsigned int
ut_inode_hash(uint32_t inode, bool our_hash)
{
	unsigned int hash;

	if (our_hash)
		return tcps_mix32(inode);
	HASH_VALUE(&inode, sizeof(inode), hash);
	return hash;
}

static inline __attribute__((always_inline)) void
ut_inode_fill_with(void *table, const struct inode_work *w, bool our_hash)
{
	struct ut_inode *t = table;

	ut_inode_reset(t);
	for (uint32_t q = 0; q < w->count; q++) {
		uint32_t inode = w->inodes[q];
		unsigned int hash = ut_inode_hash(inode, our_hash);
		struct ut_inode_entry *e;

		HASH_FIND_BYHASHVALUE(hh, t->head, &inode, sizeof(inode), hash,
				      e);
		if (e)
			continue; /* the same socket twice: counted once */
		e = t->pool ? &t->pool[t->pool_used++] : malloc(sizeof(*e));
		if (!e) {
			fprintf(stderr, "hashbench: out of memory\n");
			exit(2);
		}
		e->inode = inode;
		e->query = (int32_t)q;
		HASH_ADD_BYHASHVALUE(hh, t->head, inode, sizeof(inode), hash,
				     e);
	}
}

static inline __attribute__((always_inline)) uint64_t
ut_inode_look_with(const void *table, const struct inode_work *w, bool our_hash)
{
	const struct ut_inode *t = table;
	uint64_t sum = 0;

	for (uint32_t i = 0; i < w->lookups; i++) {
		uint32_t inode = w->probes[i];
		unsigned int hash = ut_inode_hash(inode, our_hash);
		struct ut_inode_entry *e;

		HASH_FIND_BYHASHVALUE(hh, t->head, &inode, sizeof(inode), hash,
				      e);
		if (e)
			sum += (uint64_t)e->query + 1;
	}
	return sum;
}

static void ut_inode_fill(void *table, const struct inode_work *w)
{
	ut_inode_fill_with(table, w, false);
}

static void ut_inode_fill_our_hash(void *table, const struct inode_work *w)
{
	ut_inode_fill_with(table, w, true);
}

static uint64_t ut_inode_look(const void *table, const struct inode_work *w)
{
	return ut_inode_look_with(table, w, false);
}

static uint64_t ut_inode_look_our_hash(const void *table,
				       const struct inode_work *w)
{
	return ut_inode_look_with(table, w, true);
}

static size_t ut_inode_bytes(const void *table)
{
	const struct ut_inode *t = table;
	return uthash_bytes(t->head ? t->head->hh.tbl : NULL, t->pool, t->head);
}

static void ut_inode_destroy(void *table)
{
	struct ut_inode *t = table;

	ut_inode_reset(t);
	free(t->pool);
	free(t);
}

static const struct inode_ops inode_variants[] = {
	{ "open addressing", oa_inode_create, oa_inode_fill, oa_inode_look,
	  oa_inode_bytes, oa_inode_destroy },
	{ "uthash, pool", ut_inode_create_pool, ut_inode_fill, ut_inode_look,
	  ut_inode_bytes, ut_inode_destroy },
	{ "uthash, malloc", ut_inode_create_malloc, ut_inode_fill,
	  ut_inode_look, ut_inode_bytes, ut_inode_destroy },
	{ "uthash, pool, our hash", ut_inode_create_pool,
	  ut_inode_fill_our_hash, ut_inode_look_our_hash, ut_inode_bytes,
	  ut_inode_destroy },
};

#define INODE_VARIANTS (sizeof(inode_variants) / sizeof(inode_variants[0]))

/* ---- runs ---- */

struct options {
	int runs, intervals;
	uint32_t sizes[MAX_SIZES];
	int sizes_num;
	const char *label;
	bool observer_only, samples;
};

/* Samples of one figure: one per run. */
struct figure {
	double ns[MAX_RUNS];
	double lookup_ns[MAX_RUNS];
	double bytes[MAX_RUNS];
	int num;
};

struct results {
	uint32_t shapes[MAX_SIZES][SHAPES];
	struct figure dest[MAX_SIZES][SHAPES][DEST_VARIANTS];
	struct figure inode[MAX_SIZES][INODE_VARIANTS];
	bool failed;
};

static void check_dest(const struct dest_ops *ops, const struct dest_work *w,
		       struct dest_tally got, bool *failed)
{
	uint32_t busiest = (w->sockets + w->destinations - 1) / w->destinations;

	if (got.sockets == w->sockets && got.busiest == busiest &&
	    (got.entries == UINT64_MAX || got.entries == w->destinations))
		return;
	fprintf(stderr,
		"hashbench: %s, N=%u D=%u counted %llu sockets, %llu "
		"destinations, busiest %u\n",
		ops->name, w->sockets, w->destinations,
		(unsigned long long)got.sockets,
		(unsigned long long)got.entries, got.busiest);
	*failed = true;
}

/* One run of one variant: ns per socket over intervals 2.., bytes. */
static void run_dest(const struct dest_ops *ops, const struct dest_work *w,
		     int intervals, struct figure *fig, bool *failed)
{
	size_t bytes = 0;
	void *table = ops->create(w->destinations);
	uint64_t spent = 0;

	for (int i = 0; i < intervals; i++) {
		uint64_t start = cpu_ns();
		size_t now;

		ops->interval(table, w);
		if (i > 0 || intervals == 1)
			spent += cpu_ns() - start;
		now = ops->bytes(table);
		bytes = now > bytes ? now : bytes;
	}
	check_dest(ops, w, ops->tally(table), failed);
	ops->destroy(table);
	fig->ns[fig->num] =
		(double)spent /
		((double)w->sockets * (intervals > 1 ? intervals - 1 : 1));
	fig->bytes[fig->num] = (double)bytes;
	fig->num++;
}

static void run_inode(const struct inode_ops *ops, const struct inode_work *w,
		      int rounds, struct figure *fig, bool *failed)
{
	size_t bytes = 0;
	void *table = ops->create(w->count);
	uint64_t fill = 0, look = 0;
	uint64_t want = (uint64_t)w->count * (w->count + 1) / 2;

	for (int i = 0; i < rounds; i++) {
		uint64_t t0 = cpu_ns(), t1, t2, sum;
		size_t now;

		ops->fill(table, w);
		t1 = cpu_ns();
		sum = ops->look(table, w);
		t2 = cpu_ns();
		if (i > 0 || rounds == 1) {
			fill += t1 - t0;
			look += t2 - t1;
		}
		now = ops->bytes(table);
		bytes = now > bytes ? now : bytes;
		if (sum != want) {
			fprintf(stderr, "hashbench: %s, N=%u: lookups wrong\n",
				ops->name, w->count);
			*failed = true;
		}
	}
	ops->destroy(table);
	rounds = rounds > 1 ? rounds - 1 : 1;
	fig->ns[fig->num] = (double)fill / ((double)w->count * rounds);
	fig->lookup_ns[fig->num] = (double)look / ((double)w->lookups * rounds);
	fig->bytes[fig->num] = (double)bytes;
	fig->num++;
}

/* 1, 64, 4096 and N/2 destinations; 0 for a count above N (skipped). */
static void shapes_for(uint32_t n, uint32_t shapes[SHAPES])
{
	static const uint32_t fixed[SHAPES - 1] = { 1, 64, 4096 };
	uint32_t half = n / 2;

	for (int s = 0; s < SHAPES - 1; s++)
		shapes[s] = fixed[s] <= n ? fixed[s] : 0;
	if (half > TCPS_EPHEMERAL_MAX_DESTINATIONS)
		half = TCPS_EPHEMERAL_MAX_DESTINATIONS;
	shapes[SHAPES - 1] = half;
}

static size_t dest_variants_num(const struct options *opt)
{
	return opt->observer_only ? 1 : DEST_VARIANTS;
}

/* Every variant once per run, the order rotated from run to run so that
 * none always follows the same one. */
static void bench_dest(const struct options *opt, int size, struct results *res)
{
	size_t variants = dest_variants_num(opt);

	shapes_for(opt->sizes[size], res->shapes[size]);
	for (int s = 0; s < SHAPES; s++) {
		struct dest_work w;

		if (res->shapes[size][s] == 0)
			continue;
		dest_work_init(&w, opt->sizes[size], res->shapes[size][s],
			       true);
		for (int r = 0; r < opt->runs; r++) {
			for (size_t k = 0; k < variants; k++) {
				size_t v = (k + (size_t)r) % variants;

				run_dest(&dest_variants[v], &w, opt->intervals,
					 &res->dest[size][s][v], &res->failed);
			}
		}
		dest_work_free(&w);
	}
}

static void bench_inode(const struct options *opt, int size,
			struct results *res)
{
	struct inode_work w;

	inode_work_init(&w, opt->sizes[size]);
	for (int r = 0; r < opt->runs; r++) {
		for (size_t k = 0; k < INODE_VARIANTS; k++) {
			size_t v = (k + (size_t)r) % INODE_VARIANTS;

			run_inode(&inode_variants[v], &w, opt->intervals,
				  &res->inode[size][v], &res->failed);
		}
	}
	inode_work_free(&w);
}

/* ---- the report ---- */

static void print_label_n(uint32_t n)
{
	if (n >= 1000000 && n % 1000000 == 0)
		printf("%uM", n / 1000000);
	else if (n >= 1000 && n % 1000 == 0)
		printf("%uk", n / 1000);
	else
		printf("%u", n);
}

static void print_machine(const struct options *opt)
{
	char line[256], model[128] = "unknown CPU";
	FILE *f = fopen("/proc/cpuinfo", "r");
	struct utsname u;

	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) != 0 || !colon)
			continue;
		snprintf(model, sizeof(model), "%s", colon + 2);
		model[strcspn(model, "\n")] = '\0';
		break;
	}
	if (f)
		fclose(f);
	if (uname(&u) != 0)
		strcpy(u.release, "?");
	printf("Machine: %s, %ld cores, Linux %s; %s; uthash %s. Source: %s.\n",
	       model, sysconf(_SC_NPROCESSORS_ONLN), u.release,
	       "gcc " __VERSION__, EXPANDED_STRING(UTHASH_VERSION),
	       opt->label ? opt->label : "unknown");
}

static void print_cell(const struct figure *f, bool lookup)
{
	const double *v = lookup ? f->lookup_ns : f->ns;

	if (f->num == 0) {
		printf(" - |");
		return;
	}
	printf(" %.1f ±%.0f%% |", median(v, f->num), spread(v, f->num));
}

static void print_dest_tables(const struct options *opt,
			      const struct results *res)
{
	size_t variants = dest_variants_num(opt);

	for (int table = 0; table < 2; table++) {
		printf(table == 0 ? "\n### Destination counting: ns per socket "
				    "(intervals 2..%d, median of %d runs)\n\n"
				  : "\n### Destination table: bytes per "
				    "destination (the most over %d intervals, "
				    "median of %d runs)\n\n",
		       opt->intervals, opt->runs);
		printf("| N | D |");
		for (size_t v = 0; v < variants; v++)
			printf(" %s |", dest_variants[v].name);
		printf("\n|---:|---:|");
		for (size_t v = 0; v < variants; v++)
			printf("---:|");
		printf("\n");
		for (int n = 0; n < opt->sizes_num; n++) {
			for (int s = 0; s < SHAPES; s++) {
				if (res->shapes[n][s] == 0)
					continue;
				printf("| ");
				print_label_n(opt->sizes[n]);
				printf(" | %u |", res->shapes[n][s]);
				for (size_t v = 0; v < variants; v++) {
					const struct figure *f =
						&res->dest[n][s][v];

					if (table == 0)
						print_cell(f, false);
					else
						printf(" %.1f |",
						       median(f->bytes,
							      f->num) /
							       res->shapes[n]
									  [s]);
				}
				printf("\n");
			}
		}
	}
}

static void print_inode_table(const struct options *opt,
			      const struct results *res)
{
	printf("\n### Inode index: ns per insert / per lookup (half of them "
	       "misses), bytes per inode (resolves 2..%d, median of %d "
	       "runs)\n\n| N | what |",
	       opt->intervals, opt->runs);
	for (size_t v = 0; v < INODE_VARIANTS; v++)
		printf(" %s |", inode_variants[v].name);
	printf("\n|---:|---|");
	for (size_t v = 0; v < INODE_VARIANTS; v++)
		printf("---:|");
	printf("\n");
	for (int n = 0; n < opt->sizes_num; n++) {
		for (int row = 0; row < 3; row++) {
			printf("| ");
			print_label_n(opt->sizes[n]);
			printf(" | %s |", row == 0   ? "ns per insert"
					  : row == 1 ? "ns per lookup"
						     : "bytes per inode");
			for (size_t v = 0; v < INODE_VARIANTS; v++) {
				const struct figure *f = &res->inode[n][v];

				if (row < 2)
					print_cell(f, row == 1);
				else
					printf(" %.1f |",
					       median(f->bytes, f->num) /
						       opt->sizes[n]);
			}
			printf("\n");
		}
	}
}

static void print_report(const struct options *opt, const struct results *res)
{
	printf("## Hash tables: open addressing against uthash\n\n");
	print_machine(opt);
	printf("\nThread CPU time, median of %d runs (± half their range, in "
	       "%% of the median); each run makes its table anew and runs %d "
	       "intervals, the first (which grows the table) left out. Bytes: "
	       "the malloc chunks the table holds when an interval's inserts "
	       "are done, the most over the intervals (for the observer its "
	       "slots times 48). Every variant counted "
	       "right%s.\n",
	       opt->runs, opt->intervals,
	       res->failed ? " EXCEPT those named on stderr" : "");
	print_dest_tables(opt, res);
	if (!opt->observer_only)
		print_inode_table(opt, res);
	printf("\nRerun: `make bench-hash` (no root), or `make bench-hash "
	       "HASHBENCH_RUNS=9 HASHBENCH_SIZES=\"10000 100000\"`.\n");
}

static void print_samples(const struct options *opt, const struct results *res)
{
	size_t variants = dest_variants_num(opt);

	for (int n = 0; n < opt->sizes_num; n++) {
		for (int s = 0; s < SHAPES; s++) {
			if (res->shapes[n][s] == 0)
				continue;
			for (size_t v = 0; v < variants; v++) {
				const struct figure *f = &res->dest[n][s][v];

				for (int r = 0; r < f->num; r++)
					printf("dest\t%s\t%u\t%u\t%d\t%.3f\t%."
					       "0f\n",
					       dest_variants[v].name,
					       opt->sizes[n], res->shapes[n][s],
					       r + 1, f->ns[r], f->bytes[r]);
			}
		}
		for (size_t v = 0; !opt->observer_only && v < INODE_VARIANTS;
		     v++) {
			const struct figure *f = &res->inode[n][v];

			for (int r = 0; r < f->num; r++)
				printf("inode\t%s\t%u\t%d\t%.3f\t%.3f\t%.0f\n",
				       inode_variants[v].name, opt->sizes[n],
				       r + 1, f->ns[r], f->lookup_ns[r],
				       f->bytes[r]);
		}
	}
}

/* ---- options ---- */

static int parse_sizes(const char *text, struct options *opt)
{
	char *end;

	opt->sizes_num = 0;
	while (*text) {
		unsigned long n;

		if (*text == ' ' || *text == ',') {
			text++;
			continue;
		}
		errno = 0;
		n = strtoul(text, &end, 10);
		if (errno || end == text || n < 2 || n > MAX_SOCKETS ||
		    opt->sizes_num == MAX_SIZES)
			return -EINVAL;
		opt->sizes[opt->sizes_num++] = (uint32_t)n;
		text = end;
	}
	return opt->sizes_num > 0 ? 0 : -EINVAL;
}

static int parse_count(const char *text, int max, int *ret)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(text, &end, 10);
	if (errno || *end || n < 1 || n > max)
		return -EINVAL;
	*ret = (int)n;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *opt)
{
	int c, err = 0;

	*opt = (struct options){ .runs = 5, .intervals = 4 };
	parse_sizes("10000 100000 1000000", opt);
	while (err == 0 && (c = getopt(argc, argv, "r:i:n:l:os")) != -1) {
		if (c == 'r')
			err = parse_count(optarg, MAX_RUNS, &opt->runs);
		else if (c == 'i')
			err = parse_count(optarg, MAX_INTERVALS,
					  &opt->intervals);
		else if (c == 'n')
			err = parse_sizes(optarg, opt);
		else if (c == 'l')
			opt->label = optarg;
		else if (c == 'o')
			opt->observer_only = true;
		else if (c == 's')
			opt->samples = true;
		else
			err = -EINVAL;
	}
	return err == 0 && optind == argc ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct results *res;
	bool failed;

	if (parse_options(argc, argv, &opt) != 0) {
		fprintf(stderr, "usage: hashbench [-r RUNS] [-i INTERVALS] "
				"[-n SIZES] [-l LABEL] [-o] [-s]\n");
		return 2;
	}
	res = xcalloc(1, sizeof(*res));
	for (int n = 0; n < opt.sizes_num; n++) {
		fprintf(stderr, "hashbench: N=%u\n", opt.sizes[n]);
		bench_dest(&opt, n, res);
		if (!opt.observer_only)
			bench_inode(&opt, n, res);
	}
	if (opt.samples)
		print_samples(&opt, res);
	else
		print_report(&opt, res);
	failed = res->failed;
	free(res);
	return failed ? 1 : 0;
}

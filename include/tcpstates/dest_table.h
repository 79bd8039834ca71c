/*
 * The destinations of one interval, each with its socket count: open
 * addressing with linear probing (tcps_probe). A new interval bumps the
 * generation instead of clearing the slots, so it costs O(1) however big
 * the table is; the capacity keeps the load at most 2/3. The table starts
 * small, doubles when a read needs more room and shrinks after a burst.
 *
 * The lookup runs for every socket on an ephemeral port, so it is inline
 * here; what runs once an interval or on growth is in dest_table.c.
 */
#ifndef TCPSTATES_DEST_TABLE_H
#define TCPSTATES_DEST_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tcpstates/util.h"

/* No padding anywhere, so that keys hash and compare as plain bytes. */
struct tcps_dest_key {
	uint8_t local_addr[16]; /* IPv4 in the first 4 bytes, rest zero */
	uint8_t remote_addr[16];
	uint16_t remote_port;
	uint8_t family;
	uint8_t zero;
};

_Static_assert(sizeof(struct tcps_dest_key) == 36,
	       "tcps_dest_key_hash reads four words and a 4-byte tail");

struct tcps_dest_slot {
	struct tcps_dest_key key;
	uint32_t generation; /* the slot is empty unless it is the table's */
	uint32_t count;
	bool warned; /* in the remembered WARNING set; set during end() */
};

struct tcps_dest_table {
	struct tcps_dest_slot *slots;
	uint32_t mask;	/* capacity - 1, the capacity a power of two */
	uint32_t used;	/* slots of the current generation */
	uint32_t limit; /* MaxDestinations */
	uint32_t generation;
	uint32_t max_capacity; /* what keeps the load at 2/3 with limit used */
};

/*
 * Sets up an empty table for at most limit destinations; its first slots
 * are few, whatever the limit. Returns 0 or -ENOMEM.
 */
int tcps_dest_table_init(struct tcps_dest_table *t, uint32_t limit);

/* Frees the slots. */
void tcps_dest_table_release(struct tcps_dest_table *t);

/* Empties the table for a new interval, shrinking it if the interval
 * ending needed a quarter of its slots or less. */
void tcps_dest_table_reset(struct tcps_dest_table *t);

/*
 * Moves this interval's entries into a table twice the size. Returns 0
 * and sets *ret_old to the old slots, which the caller frees once it has
 * found again, by key, what it pointed at in them; or -ENOMEM, and the
 * table is left as it was.
 */
int tcps_dest_table_grow(struct tcps_dest_table *t,
			 struct tcps_dest_slot **ret_old);

/* The key's slot this interval, or NULL. */
struct tcps_dest_slot *tcps_dest_table_find(const struct tcps_dest_table *t,
					    const struct tcps_dest_key *key);

/* Every socket on an ephemeral port is hashed: words, not bytes. The
 * key has no padding (36 bytes); each word is mixed in with a multiply
 * and the result finalised so the low bits used as index see them all. */
static inline uint32_t tcps_dest_key_hash(const struct tcps_dest_key *key)
{
	const uint8_t *bytes = (const uint8_t *)key;
	uint64_t hash = 0x9e3779b97f4a7c15ull;
	uint64_t word;
	uint32_t tail;

	for (size_t i = 0; i + sizeof(word) <= sizeof(*key);
	     i += sizeof(word)) {
		memcpy(&word, bytes + i, sizeof(word));
		hash = (hash ^ word) * 0xff51afd7ed558ccdull;
	}
	memcpy(&tail, bytes + sizeof(*key) - sizeof(tail), sizeof(tail));
	hash = (hash ^ tail) * 0xc4ceb9fe1a85ec53ull;
	return (uint32_t)tcps_mix64(hash);
}

/* Slots the table has now. */
static inline uint32_t tcps_dest_table_capacity(const struct tcps_dest_table *t)
{
	return t->mask + 1;
}

/* Whether one more key would load the table beyond 2/3. */
static inline bool
tcps_dest_table_full_after_one_more(const struct tcps_dest_table *t)
{
	return ((uint64_t)t->used + 1) * 3 > ((uint64_t)t->mask + 1) * 2;
}

/* Whether the table should grow before one more key: it would be too
 * full, and it may still grow. */
static inline bool tcps_dest_table_wants_room(const struct tcps_dest_table *t)
{
	return (uint64_t)t->mask + 1 < t->max_capacity &&
	       tcps_dest_table_full_after_one_more(t);
}

/* Fetches the slot where the probe for hash starts into the cache, so
 * that a lookup a few sockets later does not wait for it. */
static inline void tcps_dest_table_prefetch(const struct tcps_dest_table *t,
					    uint32_t hash)
{
	__builtin_prefetch(&t->slots[hash & t->mask], 1);
}

struct tcps_dest_probe {
	const struct tcps_dest_key *key;
	uint32_t generation;
};

static inline bool tcps_dest_slot_stop(const void *slot, const void *probe)
{
	const struct tcps_dest_slot *s = slot;
	const struct tcps_dest_probe *p = probe;

	return s->generation != p->generation ||
	       memcmp(&s->key, p->key, sizeof(*p->key)) == 0;
}

/* The slot holding key, or the empty slot where it would go. The load
 * limit guarantees an empty slot, so the probe ends. */
static inline struct tcps_dest_slot *
tcps_dest_table_probe(const struct tcps_dest_table *t,
		      const struct tcps_dest_key *key, uint32_t hash)
{
	struct tcps_dest_probe probe = { key, t->generation };

	return &t->slots[tcps_probe(t->slots, sizeof(*t->slots),
				    (size_t)t->mask + 1, hash,
				    tcps_dest_slot_stop, &probe)];
}

/* The key's slot, inserted if new; NULL when the table is full. The
 * caller grows the table first when tcps_dest_table_wants_room() says
 * so. */
static inline struct tcps_dest_slot *
tcps_dest_table_get(struct tcps_dest_table *t, const struct tcps_dest_key *key,
		    uint32_t hash)
{
	struct tcps_dest_slot *slot = tcps_dest_table_probe(t, key, hash);

	if (slot->generation == t->generation)
		return slot;
	if (t->used >= t->limit || tcps_dest_table_full_after_one_more(t))
		return NULL;
	t->used++;
	slot->key = *key;
	slot->generation = t->generation;
	slot->count = 0;
	slot->warned = false;
	return slot;
}

#endif

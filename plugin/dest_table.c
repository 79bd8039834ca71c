/* The destination table: what runs once an interval or on growth. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstates/dest_table.h"

/* Small at first: a table sized for MaxDestinations, sparsely used, costs
 * a cache miss per socket; it doubles when a read needs more room, keeps
 * that size while reads need it, and shrinks after a burst. */
#define TABLE_FIRST_CAPACITY 1024u

int tcps_dest_table_init(struct tcps_dest_table *t, uint32_t limit)
{
	uint64_t capacity = 2;

	while (capacity < (uint64_t)limit + limit / 2 + 1)
		capacity *= 2;
	t->max_capacity = (uint32_t)capacity;
	if (capacity > TABLE_FIRST_CAPACITY)
		capacity = TABLE_FIRST_CAPACITY;
	t->slots = calloc(capacity, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->mask = (uint32_t)(capacity - 1);
	t->limit = limit;
	t->used = 0;
	t->generation = 1; /* calloc left every slot at 0: empty */
	return 0;
}

void tcps_dest_table_release(struct tcps_dest_table *t)
{
	free(t->slots);
	t->slots = NULL;
}

/* The size a read of n destinations grows the first table to. */
static uint64_t capacity_for(const struct tcps_dest_table *t, uint32_t n)
{
	uint64_t capacity = t->max_capacity < TABLE_FIRST_CAPACITY
				    ? t->max_capacity
				    : TABLE_FIRST_CAPACITY;

	while (capacity < t->max_capacity &&
	       ((uint64_t)n + 1) * 3 > capacity * 2)
		capacity *= 2;
	return capacity;
}

/* A table four times what the interval ending needed goes back to that
 * size, so a burst is not held until shutdown (as tcps_fit does); a need
 * that stays or moves less than that is not reallocated. True when the
 * slots were replaced (all empty, generation 1). */
static bool shrink(struct tcps_dest_table *t)
{
	uint64_t capacity = capacity_for(t, t->used);
	struct tcps_dest_slot *slots;

	if (capacity * 4 > (uint64_t)t->mask + 1)
		return false;
	slots = calloc(capacity, sizeof(*slots));
	if (!slots)
		return false;
	free(t->slots);
	t->slots = slots;
	t->mask = (uint32_t)(capacity - 1);
	t->generation = 1;
	return true;
}

void tcps_dest_table_reset(struct tcps_dest_table *t)
{
	bool fresh = shrink(t);

	t->used = 0;
	if (fresh)
		return;
	if (++t->generation != 0)
		return;
	/* After 2^32 intervals old slots could look current again. */
	memset(t->slots, 0, ((size_t)t->mask + 1) * sizeof(*t->slots));
	t->generation = 1;
}

int tcps_dest_table_grow(struct tcps_dest_table *t,
			 struct tcps_dest_slot **ret_old)
{
	struct tcps_dest_table old = *t;
	uint64_t capacity = ((uint64_t)old.mask + 1) * 2;
	struct tcps_dest_slot *slots = calloc(capacity, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	t->slots = slots;
	t->mask = (uint32_t)(capacity - 1);
	t->generation = 1;
	for (uint64_t i = 0; i <= old.mask; i++) {
		const struct tcps_dest_slot *from = &old.slots[i];
		struct tcps_dest_slot *to;

		if (from->generation != old.generation)
			continue;
		to = tcps_dest_table_probe(t, &from->key,
					   tcps_dest_key_hash(&from->key));
		*to = *from;
		to->generation = t->generation;
	}
	*ret_old = old.slots;
	return 0;
}

struct tcps_dest_slot *tcps_dest_table_find(const struct tcps_dest_table *t,
					    const struct tcps_dest_key *key)
{
	struct tcps_dest_slot *slot =
		tcps_dest_table_probe(t, key, tcps_dest_key_hash(key));

	return slot->generation == t->generation ? slot : NULL;
}

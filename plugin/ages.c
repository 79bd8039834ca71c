/* Socket ages across reads, by socket cookie. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstates/ages.h"
#include "tcpstates/util.h"

#define FIRST_CAPACITY 64

void tcps_ages_release(struct tcps_ages *ages)
{
	free(ages->last.slots);
	free(ages->next.slots);
	memset(ages, 0, sizeof(*ages));
}

/* Empties the table and sizes it for entries (at most half full). It
 * shrinks again when far fewer sockets are kept than before. */
static int prepare(struct tcps_age_table *t, size_t entries)
{
	size_t cap = FIRST_CAPACITY;

	while (cap < entries * 2)
		cap *= 2;
	t->used = 0;
	if (t->cap >= cap && t->cap <= cap * 4) {
		memset(t->slots, 0, t->cap * sizeof(*t->slots));
		return 0;
	}
	free(t->slots);
	t->slots = calloc(cap, sizeof(*t->slots));
	t->cap = t->slots ? cap : 0;
	return t->slots ? 0 : -ENOMEM;
}

static bool age_stop(const void *slot, const void *key)
{
	uint64_t cookie = ((const struct tcps_age *)slot)->cookie;

	return cookie == 0 || cookie == *(const uint64_t *)key;
}

/* The cookie's slot, or the empty one it would take (cookie not 0). */
static struct tcps_age *probe(const struct tcps_age_table *t, uint64_t cookie)
{
	return &t->slots[tcps_probe(t->slots, sizeof(*t->slots), t->cap,
				    tcps_mix64(cookie), age_stop, &cookie)];
}

int tcps_ages_begin(struct tcps_ages *ages, size_t entries)
{
	return prepare(&ages->next, entries);
}

const struct tcps_age *tcps_ages_last(const struct tcps_ages *ages,
				      uint64_t cookie)
{
	const struct tcps_age *age;

	if (ages->last.cap == 0 || cookie == 0)
		return NULL;
	age = probe(&ages->last, cookie);
	return age->cookie == cookie ? age : NULL;
}

bool tcps_ages_keep(struct tcps_ages *ages, uint64_t cookie,
		    uint64_t first_seen_ms, uint8_t state, size_t max_entries)
{
	struct tcps_age_table *t = &ages->next;
	struct tcps_age *age;

	if (cookie == 0 || t->used >= max_entries || t->cap == 0)
		return false;
	age = probe(t, cookie);
	if (age->cookie == cookie)
		return true; /* the same socket twice in one dump */
	age->cookie = cookie;
	age->first_seen_ms = first_seen_ms;
	age->state = state;
	t->used++;
	return true;
}

void tcps_ages_end(struct tcps_ages *ages)
{
	struct tcps_age_table swap = ages->last;

	ages->last = ages->next;
	ages->next = swap;
}

void tcps_ages_forget(struct tcps_ages *ages)
{
	(void)prepare(&ages->last, 0);
}

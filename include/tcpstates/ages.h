/*
 * Socket ages across reads, keyed by the kernel's socket cookie (never
 * reused while the kernel runs, unlike inodes and pids): when each
 * socket was first seen in its state. Two open-addressing tables, the
 * last read's and this read's, each at most half full; a read looks
 * sockets up in the last and keeps them in the next, then the two swap,
 * so a socket not seen in a read is forgotten.
 */
#ifndef TCPSTATES_AGES_H
#define TCPSTATES_AGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tcps_age {
	uint64_t cookie; /* 0: an empty slot */
	uint64_t first_seen_ms;
	uint8_t state;
};

struct tcps_age_table {
	struct tcps_age *slots;
	size_t cap, used;
};

struct tcps_ages {
	struct tcps_age_table last, next;
};

/* Frees both tables; the struct may be reused (zeroed) afterwards. */
void tcps_ages_release(struct tcps_ages *ages);

/*
 * Starts a read that will keep at most entries sockets: the next table
 * is emptied and sized for them (and shrinks when far fewer sockets are
 * kept than before). Returns 0 or -ENOMEM (then nothing can be kept).
 */
int tcps_ages_begin(struct tcps_ages *ages, size_t entries);

/* The socket's age from the last read, or NULL. */
const struct tcps_age *tcps_ages_last(const struct tcps_ages *ages,
				      uint64_t cookie);

/*
 * Keeps the socket's age for the next read. Returns false when it could
 * not be kept: cookie 0, no table, or max_entries already kept. The same
 * cookie twice is kept once (its first age), and counts as kept.
 */
bool tcps_ages_keep(struct tcps_ages *ages, uint64_t cookie,
		    uint64_t first_seen_ms, uint8_t state, size_t max_entries);

/* Ends the read: what was kept becomes the last read's ages. */
void tcps_ages_end(struct tcps_ages *ages);

/* A read with no socket to age: every age is forgotten and the last
 * table shrinks back. */
void tcps_ages_forget(struct tcps_ages *ages);

#endif

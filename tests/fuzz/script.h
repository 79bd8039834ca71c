/*
 * What the stateful fuzz targets share: an input read as a script, one
 * byte at a time (missing bytes read as 0), and the check that stops the
 * run when a module breaks a promise (libFuzzer reports the abort and
 * keeps the input).
 */
#ifndef TCPSTATES_FUZZ_SCRIPT_H
#define TCPSTATES_FUZZ_SCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant broken: %s\n",       \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

struct reader {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t take(struct reader *r)
{
	if (r->left == 0)
		return 0;
	r->left--;
	return *r->p++;
}

static inline uint16_t take16(struct reader *r)
{
	uint16_t low = take(r);

	return (uint16_t)(low | take(r) << 8);
}

#endif

/* Small helpers the core's tables share. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "tcpstates/util.h"

#define FIRST_CAPACITY 64

int tcps_grow(void **array, size_t *cap, size_t want, size_t elem_size)
{
	size_t new_cap = *cap ? *cap : FIRST_CAPACITY;
	void *grown;

	if (*cap >= want)
		return 0;
	while (new_cap < want) {
		if (new_cap > SIZE_MAX / 2 / elem_size)
			return -ENOMEM;
		new_cap *= 2;
	}
	grown = realloc(*array, new_cap * elem_size);
	if (!grown)
		return -ENOMEM;
	*array = grown;
	*cap = new_cap;
	return 0;
}

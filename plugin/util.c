/* Small helpers the core's tables share. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

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

int tcps_fit(void **array, size_t *cap, size_t want, size_t elem_size)
{
	size_t new_cap = want * 2;
	void *smaller;

	if (*cap < want)
		return tcps_grow(array, cap, want, elem_size);
	if (*cap <= FIRST_CAPACITY || want >= *cap / 4)
		return 0;
	if (new_cap < FIRST_CAPACITY)
		new_cap = FIRST_CAPACITY;
	smaller = realloc(*array, new_cap * elem_size);
	if (smaller) {
		*array = smaller;
		*cap = new_cap;
	}
	return 0;
}

uint64_t tcps_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *tcps_parse_decimal(const char *p, const char *end, uint64_t max,
			       uint64_t *ret)
{
	const char *start = p;
	uint64_t value = 0;

	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		uint64_t digit = (uint64_t)(*p - '0');

		if (digit > max || value > (max - digit) / 10)
			return NULL;
		value = value * 10 + digit;
	}
	if (p == start)
		return NULL;
	*ret = value;
	return p;
}

ssize_t tcps_read_small_at(int dir_fd, const char *path, char *buf, size_t size)
{
	int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

ssize_t tcps_pread_small(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

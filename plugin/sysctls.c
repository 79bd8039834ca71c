/* The port sysctls: their text parsed, their files read. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tcpstates/sysctls.h"
#include "tcpstates/util.h"

/* ip_local_reserved_ports can list every other port; a fake proc tree
 * could stream forever. Far above the longest list the kernel can print. */
#define RESERVED_TEXT_MAX (1024 * 1024)

/* ---- text of the sysctl files ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *skip_blanks(const char *p)
{
	while (is_blank(*p))
		p++;
	return p;
}

/* Reads at least one decimal digit at *p; the value must not exceed max. */
static int read_number(const char **p, uint32_t max, uint32_t *ret)
{
	uint64_t value;
	const char *end = tcps_parse_decimal(*p, *p + strlen(*p), max, &value);

	if (!end)
		return -EINVAL;
	*p = end;
	*ret = (uint32_t)value;
	return 0;
}

int tcps_parse_port_range(const char *text, uint16_t *ret_low,
			  uint16_t *ret_high)
{
	const char *p = skip_blanks(text);
	uint32_t low, high;

	if (read_number(&p, 65535, &low) < 0 || !is_blank(*p))
		return -EINVAL;
	p = skip_blanks(p);
	if (read_number(&p, 65535, &high) < 0)
		return -EINVAL;
	if (*skip_blanks(p) != '\0' || low == 0 || low > high)
		return -EINVAL;
	*ret_low = (uint16_t)low;
	*ret_high = (uint16_t)high;
	return 0;
}

/* A single non-negative int, as the integer sysctls print; -1 otherwise. */
static int64_t parse_sysctl_int(const char *text)
{
	const char *p = skip_blanks(text);
	uint32_t value;

	if (read_number(&p, INT32_MAX, &value) < 0 || *skip_blanks(p) != '\0')
		return -1;
	return value;
}

/*
 * The reserved-ports list is parsed one character at a time so that the
 * file can be streamed through a small buffer: the kernel may print a few
 * hundred KiB for a pathological list.
 */
enum list_expect {
	EXPECT_FIRST, /* a port, or the end of an empty list */
	EXPECT_PORT,  /* after a comma: a port */
	AFTER_LOW,    /* after a port: '-', ',' or the end */
	EXPECT_HIGH,  /* after '-': the end of the range */
	AFTER_HIGH,   /* after a range: ',' or the end */
};

struct list_parser {
	struct tcps_port_set *set;
	enum list_expect expect;
	bool in_number;
	uint32_t number;
	uint32_t low;
};

static int list_number(struct list_parser *lp)
{
	switch (lp->expect) {
	case EXPECT_FIRST:
	case EXPECT_PORT:
		lp->low = lp->number;
		lp->expect = AFTER_LOW;
		return 0;
	case EXPECT_HIGH:
		if (lp->number < lp->low)
			return -EINVAL;
		for (uint32_t port = lp->low; port <= lp->number; port++)
			tcps_port_set_add(lp->set, (uint16_t)port);
		lp->expect = AFTER_HIGH;
		return 0;
	default:
		return -EINVAL;
	}
}

static int list_separator(struct list_parser *lp, char c)
{
	if (c == '-' && lp->expect == AFTER_LOW) {
		lp->expect = EXPECT_HIGH;
		return 0;
	}
	if (c != ',')
		return -EINVAL;
	if (lp->expect == AFTER_LOW)
		tcps_port_set_add(lp->set, (uint16_t)lp->low);
	else if (lp->expect != AFTER_HIGH)
		return -EINVAL;
	lp->expect = EXPECT_PORT;
	return 0;
}

static int list_feed(struct list_parser *lp, char c)
{
	int ret;

	if (c >= '0' && c <= '9') {
		lp->number = (lp->in_number ? lp->number * 10 : 0) +
			     (uint32_t)(c - '0');
		lp->in_number = true;
		return lp->number > 65535 ? -EINVAL : 0;
	}
	if (lp->in_number) {
		lp->in_number = false;
		ret = list_number(lp);
		if (ret < 0)
			return ret;
	}
	if (is_blank(c))
		return 0;
	return list_separator(lp, c);
}

static int list_finish(struct list_parser *lp)
{
	int ret = list_feed(lp, '\n'); /* ends a number still being read */

	if (ret < 0)
		return ret;
	if (lp->expect == AFTER_LOW)
		tcps_port_set_add(lp->set, (uint16_t)lp->low);
	else if (lp->expect == EXPECT_PORT || lp->expect == EXPECT_HIGH)
		return -EINVAL;
	return 0;
}

int tcps_parse_reserved_ports(const char *text, struct tcps_port_set *ret)
{
	struct tcps_port_set set;
	struct list_parser lp = { .set = &set, .expect = EXPECT_FIRST };
	int err = 0;

	tcps_port_set_clear(&set);
	for (; *text && err == 0; text++)
		err = list_feed(&lp, *text);
	if (err == 0)
		err = list_finish(&lp);
	if (err < 0)
		return err;
	*ret = set;
	return 0;
}

/* ---- reading the files ---- */

static int open_sysctl(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Reads a file of at most size - 1 bytes as a string; -EFBIG if longer. */
static int read_small(int dir_fd, const char *name, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n = 1;
	int err = 0, fd = open_sysctl(dir_fd, name);

	if (fd < 0)
		return fd;
	while (n > 0 && len < size) {
		n = read(fd, buf + len, size - len);
		if (n > 0)
			len += (size_t)n;
		else if (n < 0 && errno == EINTR)
			n = 1;
		else if (n < 0)
			err = -errno;
	}
	close(fd);
	if (err < 0)
		return err;
	if (len == size)
		return -EFBIG;
	buf[len] = '\0';
	return 0;
}

static int stream_list(int fd, struct list_parser *lp)
{
	char chunk[4096];
	size_t total = 0;
	ssize_t n;
	int err = 0;

	do {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		total += (size_t)n;
		for (ssize_t i = 0; i < n && err == 0; i++)
			err = list_feed(lp, chunk[i]);
	} while (n != 0 && err == 0 && total <= RESERVED_TEXT_MAX);
	if (err == 0 && total > RESERVED_TEXT_MAX)
		err = -EFBIG;
	return err < 0 ? err : list_finish(lp);
}

static int read_reserved(int dir_fd, struct tcps_port_set *ret)
{
	struct tcps_port_set set;
	struct list_parser lp = { .set = &set, .expect = EXPECT_FIRST };
	int err, fd = open_sysctl(dir_fd, "ip_local_reserved_ports");

	if (fd < 0)
		return fd;
	tcps_port_set_clear(&set);
	err = stream_list(fd, &lp);
	close(fd);
	if (err == 0)
		*ret = set;
	return err;
}

static int64_t read_int(int dir_fd, const char *name)
{
	char text[32];

	if (read_small(dir_fd, name, text, sizeof(text)) < 0)
		return -1;
	return parse_sysctl_int(text);
}

/* The range minus the reserved ports inside it, a word at a time: it is
 * read every interval and the range is usually 28232 ports. */
static uint32_t count_ephemeral(const struct tcps_sysctls *sys)
{
	uint32_t low = sys->port_low, high = sys->port_high;
	uint32_t reserved = 0;

	for (uint32_t w = low / 64; w <= high / 64; w++) {
		uint64_t bits = sys->reserved.bits[w];

		if (w == low / 64)
			bits &= ~0ull << (low % 64);
		if (w == high / 64 && high % 64 != 63)
			bits &= (1ull << (high % 64 + 1)) - 1;
		reserved += (uint32_t)__builtin_popcountll(bits);
	}
	return high - low + 1 - reserved;
}

int tcps_sysctls_read_at(int dir_fd, struct tcps_sysctls *ret)
{
	char text[64];
	uint16_t low, high;
	int err;

	err = read_small(dir_fd, "ip_local_port_range", text, sizeof(text));
	if (err == 0)
		err = tcps_parse_port_range(text, &low, &high);
	if (err < 0)
		return err;
	ret->port_low = low;
	ret->port_high = high;
	/* Without the list, none reserved is the kernel's default; if wrong
	 * it only lowers the percentages (a late warning, not a false one). */
	if (read_reserved(dir_fd, &ret->reserved) < 0)
		tcps_port_set_clear(&ret->reserved);
	ret->ephemeral_ports = count_ephemeral(ret);
	ret->tw_reuse = (int)read_int(dir_fd, "tcp_tw_reuse");
	ret->max_tw_buckets = read_int(dir_fd, "tcp_max_tw_buckets");
	ret->fin_timeout = read_int(dir_fd, "tcp_fin_timeout");
	return 0;
}

int tcps_sysctls_open_dir(const char *proc_root)
{
	char path[PATH_MAX];
	int n, fd;

	n = snprintf(path, sizeof(path), "%s/sys/net/ipv4", proc_root);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int tcps_sysctls_read(const char *proc_root, struct tcps_sysctls *ret)
{
	int err, dir_fd = tcps_sysctls_open_dir(proc_root);

	if (dir_fd < 0)
		return dir_fd;
	err = tcps_sysctls_read_at(dir_fd, ret);
	close(dir_fd);
	return err;
}

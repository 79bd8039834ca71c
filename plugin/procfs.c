/*
 * The text of /proc, as any process can shape it (its name, its cgroup,
 * its exe link, a link in its fd folder): read without trusting a byte.
 * No I/O here: owners.c reads, these functions tell what it read.
 */
#define _GNU_SOURCE /* memmem, memrchr */
#include <errno.h>
#include <string.h>

#include "tcpstates/procfs.h"
#include "tcpstates/util.h"

#define SOCKET_PREFIX "socket:["

int tcps_parse_socket_link(const char *text, size_t len, uint32_t *ret_inode)
{
	const size_t prefix = sizeof(SOCKET_PREFIX) - 1;
	uint64_t inode = 0;

	if (len < prefix + 2 || memcmp(text, SOCKET_PREFIX, prefix) != 0 ||
	    text[len - 1] != ']')
		return -EINVAL;
	if (tcps_parse_decimal(text + prefix, text + len, UINT32_MAX, &inode) !=
		    text + len - 1 ||
	    inode == 0)
		return -EINVAL;
	*ret_inode = (uint32_t)inode;
	return 0;
}

uint64_t tcps_parse_start_time(const char *text, size_t len)
{
	/* The name in parentheses may hold anything: count from the last
	 * ')'. Field 22 is the 20th after it. */
	const char *p = NULL;
	uint64_t value = 0;
	int field = 0;

	for (size_t i = 0; i < len; i++)
		if (text[i] == ')')
			p = text + i + 1;
	if (!p)
		return 0;
	for (; p < text + len && field < 20; p++)
		if (*p == ' ')
			field++;
	if (field != 20 ||
	    !tcps_parse_decimal(p, text + len, UINT64_MAX, &value))
		return 0;
	return value;
}

bool tcps_stat_is_zombie(const char *text, size_t len)
{
	const char *p = memrchr(text, ')', len);

	return p && (size_t)(p - text) + 2 < len && p[2] == 'Z';
}

void tcps_comm_name(const char *text, size_t len, char *out)
{
	if (len > 0 && text[len - 1] == '\n')
		len--;
	tcps_name_clean(text, len, out);
}

void tcps_exe_name(const char *target, size_t len, char *out)
{
	static const char deleted[] = " (deleted)";
	const size_t suffix = sizeof(deleted) - 1;
	const char *base;

	/* A binary replaced on disk while running is still that program. */
	if (len > suffix && memcmp(target + len - suffix, deleted, suffix) == 0)
		len -= suffix;
	base = memrchr(target, '/', len);
	base = base ? base + 1 : target;
	tcps_name_clean(base, (size_t)(target + len - base), out);
}

static size_t pick_cgroup_line(const char *text, size_t len, size_t *ret_len)
{
	size_t start = 0, fallback = len, fallback_len = 0;

	while (start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t line_len =
			nl ? (size_t)(nl - text) - start : len - start;

		if (line_len >= 3 && memcmp(text + start, "0::", 3) == 0) {
			*ret_len = line_len;
			return start;
		}
		if (fallback == len ||
		    memmem(text + start, line_len, ":name=systemd:", 14)) {
			fallback = start;
			fallback_len = line_len;
		}
		start += line_len + 1;
	}
	*ret_len = fallback_len;
	return fallback;
}

void tcps_unit_from_cgroup(const char *text, size_t len, char *out)
{
	size_t line_len, start = pick_cgroup_line(text, len, &line_len);
	const char *line = text + start;
	const char *path, *last;

	path = start < len ? memchr(line, '/', line_len) : NULL;
	if (!path) {
		tcps_name_clean("", 0, out);
		return;
	}
	/* Trailing slashes say nothing; "/" alone is the root cgroup. */
	while (line + line_len - 1 > path && line[line_len - 1] == '/')
		line_len--;
	last = line + line_len;
	while (last > path + 1 && last[-1] != '/')
		last--;
	if (line + line_len == path + 1) {
		tcps_name_clean("root", 4, out);
		return;
	}
	tcps_name_clean(last, (size_t)(line + line_len - last), out);
}

/* "name N" at p (the name, one space, digits): the number after it. */
static const char *named_number(const char *p, const char *end,
				const char *name, uint64_t *ret)
{
	size_t n = strlen(name);

	if ((size_t)(end - p) < n + 1 || memcmp(p, name, n) != 0 || p[n] != ' ')
		return NULL;
	return tcps_parse_decimal(p + n + 1, end, UINT64_MAX, ret);
}

int tcps_parse_sockstat_tcp(const char *text, size_t len, uint64_t *ret_inuse,
			    uint64_t *ret_tw)
{
	static const char tcp[] = "TCP: ";
	const char *end = text + len, *p = text;
	uint64_t inuse, orphan, tw;

	/* The TCP line starts the text or follows a newline. */
	while (p && (size_t)(end - p) >= sizeof(tcp) - 1 &&
	       memcmp(p, tcp, sizeof(tcp) - 1) != 0) {
		p = memchr(p, '\n', (size_t)(end - p));
		p = p ? p + 1 : NULL;
	}
	if (!p || (size_t)(end - p) < sizeof(tcp) - 1)
		return -EINVAL;
	p = named_number(p + sizeof(tcp) - 1, end, "inuse", &inuse);
	if (p && p < end && *p == ' ')
		p = named_number(p + 1, end, "orphan", &orphan);
	else
		p = NULL;
	if (p && p < end && *p == ' ')
		p = named_number(p + 1, end, "tw", &tw);
	else
		p = NULL;
	if (!p)
		return -EINVAL;
	*ret_inuse = inuse;
	*ret_tw = tw;
	return 0;
}

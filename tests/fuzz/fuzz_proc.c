/*
 * libFuzzer target: the parsers of /proc text (procfs.h), which any
 * process can shape (its name, its cgroup, its exe link, a link in its fd
 * folder, its stat line), a mountinfo line (cgroups.h: mount points are
 * chosen by whoever mounts) and the naming of a cgroup path
 * (cgroup_names.h: whoever may make a cgroup names it). The first byte
 * picks the parser; the rest is the text, in a buffer of exactly its size
 * and not NUL-terminated, as read() or readlink() leaves it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstates/cgroup_names.h"
#include "tcpstates/cgroups.h"
#include "tcpstates/names.h"
#include "tcpstates/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_safe(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* The promise of names.h: bounded, only [A-Za-z0-9_-], never empty. */
static void check_clean(const char *out, size_t returned)
{
	size_t len = strnlen(out, TCPS_NAME_MAX + 1);

	if (len > TCPS_NAME_MAX || len == 0 || returned != len)
		abort();
	for (size_t i = 0; i < len; i++)
		if (!is_safe(out[i]))
			abort();
}

static void fuzz_link(const char *text, size_t len)
{
	uint32_t inode = 0;

	if (tcps_parse_socket_link(text, len, &inode) == 0 &&
	    (inode == 0 || len < 10 || memcmp(text, "socket:[", 8) != 0))
		abort();
}

static void fuzz_name(const char *text, size_t len)
{
	char out[TCPS_NAME_MAX + 1];

	check_clean(out, tcps_name_clean(text, len, out));
	tcps_comm_name(text, len, out);
	check_clean(out, strlen(out));
}

static void fuzz_cgroup(const char *text, size_t len)
{
	char out[TCPS_NAME_MAX + 1];

	tcps_unit_from_cgroup(text, len, out);
	check_clean(out, strlen(out));
}

static void fuzz_exe(const char *text, size_t len)
{
	char out[TCPS_NAME_MAX + 1];

	tcps_exe_name(text, len, out);
	check_clean(out, strlen(out));
}

static void fuzz_stat(const char *text, size_t len)
{
	(void)tcps_parse_start_time(text, len);
	(void)tcps_stat_is_zombie(text, len);
}

static void fuzz_cgroup_path(const char *text, size_t len)
{
	char out[TCPS_NAME_MAX + 1];

	tcps_cgroup_group_name(text, len, out);
	check_clean(out, strlen(out));
}

/* A found mount: both paths NUL-terminated within size, no longer than
 * the line; outputs untouched otherwise. */
static void fuzz_mountinfo(const char *text, size_t len)
{
	char dir[32], root[32];
	int ret;

	memset(dir, 0x55, sizeof(dir));
	memset(root, 0x55, sizeof(root));
	ret = tcps_mountinfo_cgroup2(text, len, dir, root, sizeof(dir));
	if (ret == 0 && (strnlen(dir, sizeof(dir)) >= sizeof(dir) ||
			 strnlen(root, sizeof(root)) >= sizeof(root) ||
			 strlen(dir) + strlen(root) > len))
		abort();
	if (ret != 0 && (dir[0] != 0x55 || root[0] != 0x55))
		abort();
	if (ret != 0 && ret != -ENOENT && ret != -EINVAL &&
	    ret != -ENAMETOOLONG)
		abort();
}

static void (*const parsers[])(const char *text, size_t len) = {
	fuzz_link, fuzz_name,	     fuzz_cgroup,    fuzz_stat,
	fuzz_exe,  fuzz_cgroup_path, fuzz_mountinfo,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t parsers_num = sizeof(parsers) / sizeof(parsers[0]);
	char *text;

	if (size < 1)
		return 0;
	text = malloc(size - 1 ? size - 1 : 1);
	if (!text)
		abort();
	memcpy(text, data + 1, size - 1);
	parsers[data[0] % parsers_num](text, size - 1);
	free(text);
	return 0;
}

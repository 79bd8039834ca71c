/* The port sysctls: their text parsed, their files read. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suites.h"
#include "tcpstates/sysctls.h"

/* ---- parsers ---- */

START_TEST(tcps_parse_port_range__accepts_kernel_text)
{
	uint16_t low = 0, high = 0;

	ck_assert_int_eq(tcps_parse_port_range("32768\t60999\n", &low, &high),
			 0);
	ck_assert_uint_eq(low, 32768);
	ck_assert_uint_eq(high, 60999);
	ck_assert_int_eq(tcps_parse_port_range(" 1 65535", &low, &high), 0);
	ck_assert_uint_eq(low, 1);
	ck_assert_uint_eq(high, 65535);
	ck_assert_int_eq(tcps_parse_port_range("1024 1024\n", &low, &high), 0);
	ck_assert_uint_eq(low, 1024);
	ck_assert_uint_eq(high, 1024);
}
END_TEST

START_TEST(tcps_parse_port_range__rejects_bad_text_keeps_outputs)
{
	static const char *const bad[] = {
		"",
		"\n",
		"junk",
		"32768",
		"60999 32768",
		"0 100",
		"1 65536",
		"70000 70001",
		"1 2 3",
		"32768x 60999",
		"-1 5",
		"32768,60999",
		"1\t2junk",
		"99999999999999999999 1",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint16_t low = 7, high = 9;

		ck_assert_msg(tcps_parse_port_range(bad[i], &low, &high) ==
				      -EINVAL,
			      "accepted \"%s\"", bad[i]);
		ck_assert_uint_eq(low, 7);
		ck_assert_uint_eq(high, 9);
	}
}
END_TEST

START_TEST(tcps_parse_reserved_ports__accepts_ports_and_ranges)
{
	struct tcps_port_set set;

	memset(&set, 0xff, sizeof(set));
	ck_assert_int_eq(tcps_parse_reserved_ports("", &set), 0);
	ck_assert(!tcps_port_set_has(&set, 0));
	ck_assert(!tcps_port_set_has(&set, 40000));
	memset(&set, 0xff, sizeof(set));
	ck_assert_int_eq(tcps_parse_reserved_ports("\n", &set), 0);
	ck_assert(!tcps_port_set_has(&set, 65535));

	ck_assert_int_eq(tcps_parse_reserved_ports("1000-1010,2000\n", &set),
			 0);
	for (int port = 1000; port <= 1010; port++)
		ck_assert(tcps_port_set_has(&set, (uint16_t)port));
	ck_assert(tcps_port_set_has(&set, 2000));
	ck_assert(!tcps_port_set_has(&set, 999));
	ck_assert(!tcps_port_set_has(&set, 1011));
	ck_assert(!tcps_port_set_has(&set, 1999));
	ck_assert(!tcps_port_set_has(&set, 2001));

	ck_assert_int_eq(
		tcps_parse_reserved_ports(" 5 , 7 - 9\t,65535\n\n", &set), 0);
	ck_assert(tcps_port_set_has(&set, 5));
	ck_assert(!tcps_port_set_has(&set, 6));
	ck_assert(tcps_port_set_has(&set, 8));
	ck_assert(tcps_port_set_has(&set, 65535));
	ck_assert(!tcps_port_set_has(&set, 1000));

	ck_assert_int_eq(tcps_parse_reserved_ports("0-65535", &set), 0);
	ck_assert(tcps_port_set_has(&set, 0));
	ck_assert(tcps_port_set_has(&set, 32768));
	ck_assert_int_eq(tcps_parse_reserved_ports("8080", &set), 0);
	ck_assert(tcps_port_set_has(&set, 8080));
	ck_assert(!tcps_port_set_has(&set, 8081));
}
END_TEST

START_TEST(tcps_parse_reserved_ports__rejects_bad_list_keeps_set)
{
	static const char *const bad[] = {
		"junk", ",",	"1,,2",	 "1,",	   ",1",    "5-3",
		"-1",	"1-",	"1-2-3", "1 2",	   "65536", "1-65536",
		"1;2",	"1-2x", "0x10",	 "1000 -", "7,-",   "99999999999",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tcps_port_set set;

		tcps_port_set_clear(&set);
		tcps_port_set_add(&set, 4242);
		ck_assert_msg(tcps_parse_reserved_ports(bad[i], &set) ==
				      -EINVAL,
			      "accepted \"%s\"", bad[i]);
		ck_assert(tcps_port_set_has(&set, 4242));
		ck_assert(!tcps_port_set_has(&set, 1));
	}
}
END_TEST

START_TEST(tcps_port_is_ephemeral__range_minus_reserved)
{
	struct tcps_sysctls sys;

	memset(&sys, 0, sizeof(sys));
	sys.port_low = 32768;
	sys.port_high = 32967;
	tcps_port_set_add(&sys.reserved, 32800);
	ck_assert(tcps_port_is_ephemeral(&sys, 32768));
	ck_assert(tcps_port_is_ephemeral(&sys, 32967));
	ck_assert(!tcps_port_is_ephemeral(&sys, 32767));
	ck_assert(!tcps_port_is_ephemeral(&sys, 32968));
	ck_assert(!tcps_port_is_ephemeral(&sys, 32800));
	ck_assert(!tcps_port_is_ephemeral(&sys, 0));
}
END_TEST

/* ---- the sysctl files, in a proc tree made up in a temporary folder ---- */

static char proc_root[64];

static const char *const sysctl_names[] = {
	"ip_local_port_range", "ip_local_reserved_ports", "tcp_tw_reuse",
	"tcp_max_tw_buckets",  "tcp_fin_timeout",
};

static void ipv4_dir(char *buf, size_t size)
{
	ck_assert_int_lt(snprintf(buf, size, "%s/sys/net/ipv4", proc_root),
			 (int)size);
}

static void write_sysctl(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	ipv4_dir(path, sizeof(path));
	strcat(path, "/");
	strcat(path, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

static void remove_sysctl(const char *name)
{
	char path[256];

	ipv4_dir(path, sizeof(path));
	strcat(path, "/");
	strcat(path, name);
	unlink(path);
}

static void make_proc_tree(void)
{
	static const char *const dirs[] = { "/sys", "/sys/net",
					    "/sys/net/ipv4" };
	char path[256];

	strcpy(proc_root, "/tmp/tcps-sysctls-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(proc_root));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", proc_root, dirs[i]);
		ck_assert_int_eq(mkdir(path, 0700), 0);
	}
	write_sysctl("ip_local_port_range", "32768\t60999\n");
	write_sysctl("ip_local_reserved_ports", "100-200,40000-40009,61000\n");
	write_sysctl("tcp_tw_reuse", "2\n");
	write_sysctl("tcp_max_tw_buckets", "262144\n");
	write_sysctl("tcp_fin_timeout", "60\n");
}

static void remove_proc_tree(void)
{
	static const char *const dirs[] = { "/sys/net/ipv4", "/sys/net", "/sys",
					    "" };
	char path[256];

	for (size_t i = 0; i < sizeof(sysctl_names) / sizeof(*sysctl_names);
	     i++)
		remove_sysctl(sysctl_names[i]);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", proc_root, dirs[i]);
		rmdir(path);
	}
}

START_TEST(tcps_sysctls_read__reads_every_file)
{
	struct tcps_sysctls sys;

	ck_assert_int_eq(tcps_sysctls_read(proc_root, &sys), 0);
	ck_assert_uint_eq(sys.port_low, 32768);
	ck_assert_uint_eq(sys.port_high, 60999);
	/* 40000-40009 lie inside the range; 100-200 and 61000 do not. */
	ck_assert_uint_eq(sys.ephemeral_ports, 60999 - 32768 + 1 - 10);
	ck_assert_int_eq(sys.tw_reuse, 2);
	ck_assert_int_eq(sys.max_tw_buckets, 262144);
	ck_assert_int_eq(sys.fin_timeout, 60);
	ck_assert(tcps_port_set_has(&sys.reserved, 150));
	ck_assert(tcps_port_set_has(&sys.reserved, 61000));
	ck_assert(!tcps_port_is_ephemeral(&sys, 40005));
	ck_assert(tcps_port_is_ephemeral(&sys, 40010));
}
END_TEST

START_TEST(tcps_sysctls_read__unreadable_numbers_are_minus_one)
{
	struct tcps_sysctls sys;

	remove_sysctl("tcp_tw_reuse");
	remove_sysctl("ip_local_reserved_ports");
	write_sysctl("tcp_max_tw_buckets", "lots\n");
	write_sysctl("tcp_fin_timeout", "-5\n");
	ck_assert_int_eq(tcps_sysctls_read(proc_root, &sys), 0);
	ck_assert_int_eq(sys.tw_reuse, -1);
	ck_assert_int_eq(sys.max_tw_buckets, -1);
	ck_assert_int_eq(sys.fin_timeout, -1);
	ck_assert_uint_eq(sys.ephemeral_ports, 60999 - 32768 + 1);
	ck_assert(!tcps_port_set_has(&sys.reserved, 40005));
}
END_TEST

START_TEST(tcps_sysctls_read__fails_without_port_range)
{
	struct tcps_sysctls sys;

	memset(&sys, 0x5a, sizeof(sys));
	remove_sysctl("ip_local_port_range");
	ck_assert_int_eq(tcps_sysctls_read(proc_root, &sys), -ENOENT);
	ck_assert_uint_eq(sys.port_low, 0x5a5a);
	write_sysctl("ip_local_port_range", "60999 32768\n");
	ck_assert_int_eq(tcps_sysctls_read(proc_root, &sys), -EINVAL);
	ck_assert_uint_eq(sys.port_low, 0x5a5a);
	ck_assert_int_eq(tcps_sysctls_read("/nonexistent", &sys), -ENOENT);
}
END_TEST

START_TEST(tcps_sysctls_read__streams_a_long_reserved_list)
{
	/* Every other port, as ip_local_reserved_ports would print it:
	 * about 190 KB, streamed through a small buffer. */
	size_t size = 400000, len = 0;
	char *text = malloc(size);
	struct tcps_sysctls sys;

	ck_assert_ptr_nonnull(text);
	for (unsigned int port = 1; port < 65536; port += 2)
		len += (size_t)snprintf(text + len, size - len, "%s%u",
					port == 1 ? "" : ",", port);
	ck_assert_uint_lt(len + 2, size);
	strcpy(text + len, "\n");
	write_sysctl("ip_local_reserved_ports", text);
	free(text);
	ck_assert_int_eq(tcps_sysctls_read(proc_root, &sys), 0);
	ck_assert_uint_eq(sys.ephemeral_ports, (60999 - 32768 + 1) / 2);
	ck_assert(tcps_port_set_has(&sys.reserved, 65535));
	ck_assert(!tcps_port_set_has(&sys.reserved, 65534));
}
END_TEST
Suite *sysctls_suite(void)
{
	Suite *s = suite_create("sysctls");
	TCase *parse = tcase_create("parsers");
	TCase *files = tcase_create("sysctl files");

	tcase_add_test(parse, tcps_parse_port_range__accepts_kernel_text);
	tcase_add_test(parse,
		       tcps_parse_port_range__rejects_bad_text_keeps_outputs);
	tcase_add_test(parse,
		       tcps_parse_reserved_ports__accepts_ports_and_ranges);
	tcase_add_test(parse,
		       tcps_parse_reserved_ports__rejects_bad_list_keeps_set);
	tcase_add_test(parse, tcps_port_is_ephemeral__range_minus_reserved);
	suite_add_tcase(s, parse);

	tcase_add_checked_fixture(files, make_proc_tree, remove_proc_tree);
	tcase_add_test(files, tcps_sysctls_read__reads_every_file);
	tcase_add_test(files,
		       tcps_sysctls_read__unreadable_numbers_are_minus_one);
	tcase_add_test(files, tcps_sysctls_read__fails_without_port_range);
	tcase_add_test(files, tcps_sysctls_read__streams_a_long_reserved_list);
	suite_add_tcase(s, files);
	return s;
}

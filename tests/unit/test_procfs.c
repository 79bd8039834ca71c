/* The parsers of /proc text: what any process can shape. */
#include <errno.h>
#include <string.h>

#include "suites.h"
#include "tcpstates/procfs.h"

static int parse_link(const char *text, uint32_t *inode)
{
	return tcps_parse_socket_link(text, strlen(text), inode);
}

START_TEST(tcps_parse_socket_link__reads_the_inode)
{
	uint32_t inode = 7;

	ck_assert_int_eq(parse_link("socket:[12345]", &inode), 0);
	ck_assert_uint_eq(inode, 12345);
	ck_assert_int_eq(parse_link("socket:[4294967295]", &inode), 0);
	ck_assert_uint_eq(inode, 4294967295u);
}
END_TEST

START_TEST(tcps_parse_socket_link__rejects_inode_over_32_bits)
{
	uint32_t inode = 7;

	ck_assert_int_eq(parse_link("socket:[4294967296]", &inode), -EINVAL);
	ck_assert_int_eq(parse_link("socket:[99999999999999999999]", &inode),
			 -EINVAL);
	ck_assert_uint_eq(inode, 7);
}
END_TEST

START_TEST(tcps_parse_socket_link__rejects_zero_inode)
{
	uint32_t inode = 7;

	ck_assert_int_eq(parse_link("socket:[0]", &inode), -EINVAL);
	ck_assert_uint_eq(inode, 7);
}
END_TEST

START_TEST(tcps_parse_socket_link__rejects_what_is_not_a_socket)
{
	uint32_t inode = 7;

	ck_assert_int_eq(parse_link("socket:[]", &inode), -EINVAL);
	ck_assert_int_eq(parse_link("socket:[12a]", &inode), -EINVAL);
	ck_assert_int_eq(parse_link("socket:[-1]", &inode), -EINVAL);
	ck_assert_int_eq(parse_link("socket:[123", &inode), -EINVAL);
	ck_assert_int_eq(parse_link("pipe:[123]", &inode), -EINVAL);
	ck_assert_int_eq(parse_link("/dev/null", &inode), -EINVAL);
	ck_assert_int_eq(parse_link("", &inode), -EINVAL);
	ck_assert_uint_eq(inode, 7);
}
END_TEST

START_TEST(tcps_parse_socket_link__reads_no_further_than_len)
{
	uint32_t inode = 7;

	ck_assert_int_eq(tcps_parse_socket_link("socket:[12]", 10, &inode),
			 -EINVAL);
	ck_assert_uint_eq(inode, 7);
}
END_TEST

#define START_TIME(text) tcps_parse_start_time(text, sizeof(text) - 1)

START_TEST(tcps_parse_start_time__reads_field_22)
{
	static const char plain[] = "42 (java) S 1 42 42 0 -1 4194560 1 0 0 0 "
				    "1 2 0 0 20 0 30 0 987654 100 1";

	ck_assert_uint_eq(START_TIME(plain), 987654);
}
END_TEST

START_TEST(tcps_parse_start_time__counts_from_the_last_paren)
{
	static const char hostile[] =
		"42 (a) b ) c 9 9) S 1 42 42 0 -1 4194560 "
		"1 0 0 0 1 2 0 0 20 0 30 0 555 100 1";

	ck_assert_uint_eq(START_TIME(hostile), 555);
}
END_TEST

START_TEST(tcps_parse_start_time__short_text_is_zero)
{
	ck_assert_uint_eq(START_TIME("42 (x) S 1"), 0);
	ck_assert_uint_eq(START_TIME("no parens"), 0);
	ck_assert_uint_eq(START_TIME(""), 0);
}
END_TEST

#define ZOMBIE(text) tcps_stat_is_zombie(text, sizeof(text) - 1)

START_TEST(tcps_stat_is_zombie__reads_the_state_after_the_name)
{
	ck_assert(ZOMBIE("42 (java) Z 1 42"));
	ck_assert(!ZOMBIE("42 (java) S 1 42"));
	/* A name may hold ") Z": the state follows the last ')'. */
	ck_assert(!ZOMBIE("42 (a) Z b) S 1"));
	ck_assert(ZOMBIE("42 (a) S b) Z 1"));
}
END_TEST

START_TEST(tcps_stat_is_zombie__short_text_is_not_a_zombie)
{
	ck_assert(!ZOMBIE("42 (java) "));
	ck_assert(!ZOMBIE("42 (java)"));
	ck_assert(!ZOMBIE("42 Z"));
	ck_assert(!ZOMBIE(""));
}
END_TEST

/* The group name a parser makes of a NUL-terminated text. */
static const char *group(void (*parse)(const char *, size_t, char *),
			 const char *text)
{
	static char out[TCPS_NAME_MAX + 1];

	parse(text, strlen(text), out);
	return out;
}

#define COMM(text) group(tcps_comm_name, text)
#define EXE(text) group(tcps_exe_name, text)
#define UNIT(text) group(tcps_unit_from_cgroup, text)

START_TEST(tcps_comm_name__drops_one_newline_and_cleans)
{
	ck_assert_str_eq(COMM("java\n"), "java");
	ck_assert_str_eq(COMM("java"), "java");
	ck_assert_str_eq(COMM("two\nlines\n"), "two_lines");
	ck_assert_str_eq(COMM("a.b/c d\"e\n"), "a_b_c_d_e");
	ck_assert_str_eq(COMM("\n"), TCPS_NAME_EMPTY);
	ck_assert_str_eq(COMM(""), TCPS_NAME_EMPTY);
}
END_TEST

START_TEST(tcps_exe_name__takes_the_last_component)
{
	ck_assert_str_eq(EXE("/usr/lib/jvm/bin/java"), "java");
	ck_assert_str_eq(EXE("/srv/a.out"), "a_out");
	ck_assert_str_eq(EXE("relative"), "relative");
}
END_TEST

START_TEST(tcps_exe_name__cuts_one_deleted_suffix)
{
	ck_assert_str_eq(EXE("/usr/sbin/nginx (deleted)"), "nginx");
	ck_assert_str_eq(EXE("/opt/app (deleted) (deleted)"), "app_deleted_");
	/* Nothing before it: a name that is all suffix stays a name. */
	ck_assert_str_eq(EXE(" (deleted)"), "_deleted_");
}
END_TEST

START_TEST(tcps_exe_name__no_component_is_unnamed)
{
	ck_assert_str_eq(EXE("/srv/dir/"), TCPS_NAME_EMPTY);
	ck_assert_str_eq(EXE(""), TCPS_NAME_EMPTY);
}
END_TEST

START_TEST(tcps_unit_from_cgroup__takes_the_last_component)
{
	ck_assert_str_eq(UNIT("0::/system.slice/nginx.service\n"),
			 "nginx_service");
	ck_assert_str_eq(UNIT("0::/system.slice/docker-0123abcd.scope\n"),
			 "docker-0123abcd_scope");
	ck_assert_str_eq(UNIT("0::/kubepods/pod1/\n"), "pod1");
}
END_TEST

START_TEST(tcps_unit_from_cgroup__prefers_v2_then_name_systemd)
{
	ck_assert_str_eq(UNIT("12:pids:/user.slice\n"
			      "1:name=systemd:/system.slice/cron.service\n"
			      "0::/system.slice/cron.service\n"),
			 "cron_service");
	ck_assert_str_eq(UNIT("5:cpu:/a\n1:name=systemd:/b/sshd.service\n"),
			 "sshd_service");
}
END_TEST

START_TEST(tcps_unit_from_cgroup__root_cgroup_is_root)
{
	ck_assert_str_eq(UNIT("0::/\n"), "root");
}
END_TEST

START_TEST(tcps_unit_from_cgroup__no_path_is_unnamed)
{
	ck_assert_str_eq(UNIT(""), TCPS_NAME_EMPTY);
	ck_assert_str_eq(UNIT("garbage without slash"), TCPS_NAME_EMPTY);
	ck_assert_str_eq(UNIT("0::/x/..\n"), TCPS_NAME_EMPTY);
}
END_TEST

static int sockstat(const char *text, uint64_t *inuse, uint64_t *tw)
{
	return tcps_parse_sockstat_tcp(text, strlen(text), inuse, tw);
}

START_TEST(tcps_parse_sockstat_tcp__reads_inuse_and_tw)
{
	uint64_t inuse = 7, tw = 7;

	ck_assert_int_eq(sockstat("sockets: used 32\n"
				  "TCP: inuse 12 orphan 1 tw 345 alloc 46 "
				  "mem 356\nUDP: inuse 0 mem 0\n",
				  &inuse, &tw),
			 0);
	ck_assert_uint_eq(inuse, 12);
	ck_assert_uint_eq(tw, 345);
	ck_assert_int_eq(sockstat("TCP: inuse 0 orphan 0 tw 0 alloc 0 mem 0\n",
				  &inuse, &tw),
			 0);
	ck_assert_uint_eq(inuse, 0);
	ck_assert_uint_eq(tw, 0);
}
END_TEST

START_TEST(tcps_parse_sockstat_tcp__refuses_what_is_not_the_tcp_line)
{
	uint64_t inuse = 7, tw = 7;

	ck_assert_int_eq(sockstat("", &inuse, &tw), -EINVAL);
	ck_assert_int_eq(sockstat("UDP: inuse 0 mem 0\n", &inuse, &tw),
			 -EINVAL);
	ck_assert_int_eq(sockstat("TCP: inuse 1 orphan 0\n", &inuse, &tw),
			 -EINVAL);
	ck_assert_int_eq(sockstat("TCP: inuse x orphan 0 tw 0\n", &inuse, &tw),
			 -EINVAL);
	ck_assert_int_eq(sockstat("TCP: inuse 1 orphan 0 tw\n", &inuse, &tw),
			 -EINVAL);
	ck_assert_int_eq(sockstat("XTCP: inuse 1 orphan 0 tw 2\n", &inuse, &tw),
			 -EINVAL);
	ck_assert_int_eq(sockstat("TCP: inuse 99999999999999999999 orphan 0 "
				  "tw 0\n",
				  &inuse, &tw),
			 -EINVAL);
	ck_assert_uint_eq(inuse, 7);
	ck_assert_uint_eq(tw, 7);
}
END_TEST

Suite *procfs_suite(void)
{
	Suite *s = suite_create("procfs");
	TCase *tc = tcase_create("fd links");

	tcase_add_test(tc, tcps_parse_socket_link__reads_the_inode);
	tcase_add_test(tc, tcps_parse_socket_link__rejects_inode_over_32_bits);
	tcase_add_test(tc, tcps_parse_socket_link__rejects_zero_inode);
	tcase_add_test(tc,
		       tcps_parse_socket_link__rejects_what_is_not_a_socket);
	tcase_add_test(tc, tcps_parse_socket_link__reads_no_further_than_len);
	suite_add_tcase(s, tc);
	tc = tcase_create("stat");
	tcase_add_test(tc, tcps_parse_start_time__reads_field_22);
	tcase_add_test(tc, tcps_parse_start_time__counts_from_the_last_paren);
	tcase_add_test(tc, tcps_parse_start_time__short_text_is_zero);
	tcase_add_test(tc, tcps_stat_is_zombie__reads_the_state_after_the_name);
	tcase_add_test(tc, tcps_stat_is_zombie__short_text_is_not_a_zombie);
	suite_add_tcase(s, tc);
	tc = tcase_create("group names");
	tcase_add_test(tc, tcps_comm_name__drops_one_newline_and_cleans);
	tcase_add_test(tc, tcps_exe_name__takes_the_last_component);
	tcase_add_test(tc, tcps_exe_name__cuts_one_deleted_suffix);
	tcase_add_test(tc, tcps_exe_name__no_component_is_unnamed);
	tcase_add_test(tc, tcps_unit_from_cgroup__takes_the_last_component);
	tcase_add_test(tc, tcps_unit_from_cgroup__prefers_v2_then_name_systemd);
	tcase_add_test(tc, tcps_unit_from_cgroup__root_cgroup_is_root);
	tcase_add_test(tc, tcps_unit_from_cgroup__no_path_is_unnamed);
	suite_add_tcase(s, tc);
	tc = tcase_create("sockstat");
	tcase_add_test(tc, tcps_parse_sockstat_tcp__reads_inuse_and_tw);
	tcase_add_test(
		tc, tcps_parse_sockstat_tcp__refuses_what_is_not_the_tcp_line);
	suite_add_tcase(s, tc);
	return s;
}

/* The name cleaner and the fd-link parser: hostile input. */
#include <errno.h>
#include <string.h>

#include "suites.h"
#include "tcpstates/names.h"
#include "tcpstates/owners.h"

static const char *clean(const char *text)
{
	static char out[TCPS_NAME_MAX + 1];

	tcps_name_clean(text, strlen(text), out);
	return out;
}

START_TEST(safe_names_unchanged)
{
	ck_assert_str_eq(clean("java"), "java");
	ck_assert_str_eq(clean("nginx-worker_2"), "nginx-worker_2");
}
END_TEST

START_TEST(separators_become_underscore)
{
	ck_assert_str_eq(clean("a.b"), "a_b");
	ck_assert_str_eq(clean("usr/bin/x"), "usr_bin_x");
	ck_assert_str_eq(clean("my app"), "my_app");
	ck_assert_str_eq(clean("evil\nname"), "evil_name");
	ck_assert_str_eq(clean("q\"u'o`t;e"), "q_u_o_t_e");
	ck_assert_str_eq(clean("a\\b:c,d!e(f)"), "a_b_c_d_e_f_");
	ck_assert_str_eq(clean("tab\there"), "tab_here");
}
END_TEST

START_TEST(dot_dot_and_empty)
{
	ck_assert_str_eq(clean(".."), TCPS_NAME_EMPTY);
	ck_assert_str_eq(clean("../.."), TCPS_NAME_EMPTY);
	ck_assert_str_eq(clean(""), TCPS_NAME_EMPTY);
	ck_assert_str_eq(clean("___"), TCPS_NAME_EMPTY);
	ck_assert_str_eq(clean(" "), TCPS_NAME_EMPTY);
	ck_assert_str_eq(clean("..x.."), "_x_");
}
END_TEST

START_TEST(utf8_becomes_one_underscore)
{
	/* "jåva" and a 4-byte emoji */
	ck_assert_str_eq(clean("j\xc3\xa5va"), "j_va");
	ck_assert_str_eq(clean("x\xf0\x9f\x98\x80y"), "x_y");
	ck_assert_str_eq(clean("\xff\xfe"), TCPS_NAME_EMPTY);
}
END_TEST

START_TEST(long_names_are_bounded)
{
	char text[201], out[TCPS_NAME_MAX + 1];

	memset(text, 'a', 200);
	text[200] = '\0';
	ck_assert_uint_eq(tcps_name_clean(text, 200, out), TCPS_NAME_MAX);
	ck_assert_uint_eq(strlen(out), TCPS_NAME_MAX);
	memset(text, '.', 200);
	ck_assert_str_eq(clean(text), TCPS_NAME_EMPTY);
}
END_TEST

START_TEST(stops_at_nul_and_len)
{
	char out[TCPS_NAME_MAX + 1];

	tcps_name_clean("abc\0def", 7, out);
	ck_assert_str_eq(out, "abc");
	tcps_name_clean("abcdef", 2, out);
	ck_assert_str_eq(out, "ab");
}
END_TEST

static int parse(const char *text, uint32_t *inode)
{
	return tcps_parse_socket_link(text, strlen(text), inode);
}

START_TEST(socket_links)
{
	uint32_t inode = 7;

	ck_assert_int_eq(parse("socket:[12345]", &inode), 0);
	ck_assert_uint_eq(inode, 12345);
	ck_assert_int_eq(parse("socket:[4294967295]", &inode), 0);
	ck_assert_uint_eq(inode, 4294967295u);
	inode = 7;
	ck_assert_int_eq(parse("socket:[4294967296]", &inode), -EINVAL);
	ck_assert_int_eq(parse("socket:[99999999999999999999]", &inode),
			 -EINVAL);
	ck_assert_int_eq(parse("socket:[]", &inode), -EINVAL);
	ck_assert_int_eq(parse("socket:[0]", &inode), -EINVAL);
	ck_assert_int_eq(parse("socket:[12a]", &inode), -EINVAL);
	ck_assert_int_eq(parse("socket:[-1]", &inode), -EINVAL);
	ck_assert_int_eq(parse("socket:[123", &inode), -EINVAL);
	ck_assert_int_eq(parse("pipe:[123]", &inode), -EINVAL);
	ck_assert_int_eq(parse("/dev/null", &inode), -EINVAL);
	ck_assert_int_eq(parse("", &inode), -EINVAL);
	ck_assert_int_eq(tcps_parse_socket_link("socket:[12]", 10, &inode),
			 -EINVAL);
	ck_assert_uint_eq(inode, 7);
}
END_TEST

static const char *unit(const char *text)
{
	static char out[TCPS_NAME_MAX + 1];

	tcps_unit_from_cgroup(text, strlen(text), out);
	return out;
}

START_TEST(cgroup_units)
{
	ck_assert_str_eq(unit("0::/system.slice/nginx.service\n"),
			 "nginx_service");
	ck_assert_str_eq(unit("0::/\n"), "root");
	ck_assert_str_eq(unit("0::/system.slice/docker-0123abcd.scope\n"),
			 "docker-0123abcd_scope");
	ck_assert_str_eq(unit("12:pids:/user.slice\n"
			      "1:name=systemd:/system.slice/cron.service\n"
			      "0::/system.slice/cron.service\n"),
			 "cron_service");
	ck_assert_str_eq(unit("5:cpu:/a\n1:name=systemd:/b/sshd.service\n"),
			 "sshd_service");
	ck_assert_str_eq(unit("0::/kubepods/pod1/\n"), "pod1");
	ck_assert_str_eq(unit(""), TCPS_NAME_EMPTY);
	ck_assert_str_eq(unit("garbage without slash"), TCPS_NAME_EMPTY);
	ck_assert_str_eq(unit("0::/x/..\n"), TCPS_NAME_EMPTY);
}
END_TEST

Suite *names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("cleaning");

	tcase_add_test(tc, safe_names_unchanged);
	tcase_add_test(tc, separators_become_underscore);
	tcase_add_test(tc, dot_dot_and_empty);
	tcase_add_test(tc, utf8_becomes_one_underscore);
	tcase_add_test(tc, long_names_are_bounded);
	tcase_add_test(tc, stops_at_nul_and_len);
	tcase_add_test(tc, socket_links);
	tcase_add_test(tc, cgroup_units);
	suite_add_tcase(s, tc);
	return s;
}

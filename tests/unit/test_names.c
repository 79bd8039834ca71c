/* The name cleaner: hostile input. */
#include <string.h>

#include "suites.h"
#include "tcpstates/names.h"

static const char *clean(const char *text)
{
	static char out[TCPS_NAME_MAX + 1];

	tcps_name_clean(text, strlen(text), out);
	return out;
}

START_TEST(tcps_name_clean__keeps_safe_names)
{
	ck_assert_str_eq(clean("java"), "java");
	ck_assert_str_eq(clean("nginx-worker_2"), "nginx-worker_2");
}
END_TEST

START_TEST(tcps_name_clean__separators_become_underscore)
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

/* "-other" and "-unknown" are the plugin's own groups: a login shell's
 * "-bash" or a process named "-other" cannot take them. */
START_TEST(tcps_name_clean__never_starts_with_a_dash)
{
	ck_assert_str_eq(clean("-bash"), "_bash");
	ck_assert_str_eq(clean("-other"), "_other");
	ck_assert_str_eq(clean("--unknown"), "_-unknown");
	ck_assert_str_eq(clean("-.x"), "_x");
	ck_assert_str_eq(clean("-"), TCPS_NAME_EMPTY);
	ck_assert_str_eq(clean("a-b-"), "a-b-");
}
END_TEST

START_TEST(tcps_name_reserved__only_host)
{
	ck_assert(tcps_name_reserved("host"));
	ck_assert(!tcps_name_reserved("hostA"));
	ck_assert(!tcps_name_reserved("Host"));
	ck_assert(!tcps_name_reserved(""));
}
END_TEST

START_TEST(tcps_name_clean__dots_and_empty_are_unnamed)
{
	ck_assert_str_eq(clean(".."), TCPS_NAME_EMPTY);
	ck_assert_str_eq(clean("../.."), TCPS_NAME_EMPTY);
	ck_assert_str_eq(clean(""), TCPS_NAME_EMPTY);
	ck_assert_str_eq(clean("___"), TCPS_NAME_EMPTY);
	ck_assert_str_eq(clean(" "), TCPS_NAME_EMPTY);
	ck_assert_str_eq(clean("..x.."), "_x_");
}
END_TEST

START_TEST(tcps_name_clean__utf8_becomes_one_underscore)
{
	/* "jåva" and a 4-byte emoji */
	ck_assert_str_eq(clean("j\xc3\xa5va"), "j_va");
	ck_assert_str_eq(clean("x\xf0\x9f\x98\x80y"), "x_y");
	ck_assert_str_eq(clean("\xff\xfe"), TCPS_NAME_EMPTY);
}
END_TEST

START_TEST(tcps_name_clean__bounds_long_names)
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

START_TEST(tcps_name_clean__stops_at_nul_and_len)
{
	char out[TCPS_NAME_MAX + 1];

	tcps_name_clean("abc\0def", 7, out);
	ck_assert_str_eq(out, "abc");
	tcps_name_clean("abcdef", 2, out);
	ck_assert_str_eq(out, "ab");
}
END_TEST

START_TEST(tcps_name_suffix__fits_and_differs_per_attempt)
{
	char base[TCPS_NAME_MAX + 1], out[TCPS_NAME_MAX + 1];

	tcps_name_suffix(out, "web", 4026532001ull, 0);
	ck_assert_str_eq(out, "web-4026532001");
	tcps_name_suffix(out, "web", 4026532001ull, 2);
	ck_assert_str_eq(out, "web-4026532001-2");
	/* A name as long as any: cut so that the whole suffix fits. */
	memset(base, 'x', TCPS_NAME_MAX);
	base[TCPS_NAME_MAX] = '\0';
	tcps_name_suffix(out, base, UINT64_MAX, 4000000000u);
	ck_assert_uint_eq(strlen(out), TCPS_NAME_MAX);
	ck_assert_str_eq(out + TCPS_NAME_MAX - 32,
			 "-18446744073709551615-4000000000");
}
END_TEST

Suite *names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("cleaning");

	tcase_add_test(tc, tcps_name_clean__keeps_safe_names);
	tcase_add_test(tc, tcps_name_clean__separators_become_underscore);
	tcase_add_test(tc, tcps_name_clean__never_starts_with_a_dash);
	tcase_add_test(tc, tcps_name_reserved__only_host);
	tcase_add_test(tc, tcps_name_clean__dots_and_empty_are_unnamed);
	tcase_add_test(tc, tcps_name_clean__utf8_becomes_one_underscore);
	tcase_add_test(tc, tcps_name_clean__bounds_long_names);
	tcase_add_test(tc, tcps_name_clean__stops_at_nul_and_len);
	tcase_add_test(tc, tcps_name_suffix__fits_and_differs_per_attempt);
	suite_add_tcase(s, tc);
	return s;
}

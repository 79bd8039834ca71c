/* Option defaults, accepted spellings and error messages. */
#include <errno.h>
#include <string.h>

#include "suites.h"
#include "tcpstates/options.h"
#include "tcpstates/record.h"

static struct tcps_options opts;
static char err[256];

static void setup(void)
{
	tcps_options_init(&opts);
	memset(err, 0, sizeof(err));
}

static int set1(const char *key, struct tcps_cfg_value value)
{
	return tcps_options_set(&opts, key, &value, 1, err, sizeof(err));
}

static struct tcps_cfg_value boolean(bool b)
{
	return (struct tcps_cfg_value){ .type = TCPS_CFG_BOOLEAN,
					.boolean = b };
}

static struct tcps_cfg_value string(const char *s)
{
	return (struct tcps_cfg_value){ .type = TCPS_CFG_STRING, .string = s };
}

static struct tcps_cfg_value number(double n)
{
	return (struct tcps_cfg_value){ .type = TCPS_CFG_NUMBER, .number = n };
}

START_TEST(tcps_options_init__defaults)
{
	ck_assert(opts.ipv4);
	ck_assert(opts.ipv6);
	/* As README.md and conf/tcpstates.conf give them. */
	ck_assert_uint_eq(opts.top_listeners, 10);
	ck_assert_uint_eq(opts.retransmit_threshold, 3);
	ck_assert_int_eq(tcps_options_check(&opts, err, sizeof(err)), 0);
}
END_TEST

START_TEST(tcps_options_set__booleans_any_case_and_spelling)
{
	ck_assert_int_eq(set1("IPv4", boolean(false)), 0);
	ck_assert(!opts.ipv4);
	ck_assert_int_eq(set1("ipv4", string("Yes")), 0);
	ck_assert(opts.ipv4);
	ck_assert_int_eq(set1("IPV6", string("off")), 0);
	ck_assert(!opts.ipv6);
	ck_assert_int_eq(tcps_options_check(&opts, err, sizeof(err)), 0);
}
END_TEST

START_TEST(tcps_options_set__bad_boolean_string)
{
	ck_assert_int_eq(set1("IPv4", string("maybe")), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "\"IPv4\""));
	ck_assert_ptr_nonnull(strstr(err, "\"maybe\""));
	ck_assert(opts.ipv4);
}
END_TEST

START_TEST(tcps_options_set__number_for_boolean)
{
	ck_assert_int_eq(set1("IPv6", number(1)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "\"IPv6\""));
	ck_assert_ptr_nonnull(strstr(err, "got 1"));
}
END_TEST

START_TEST(tcps_options_set__wrong_value_count)
{
	struct tcps_cfg_value two[] = { boolean(true), boolean(false) };

	ck_assert_int_eq(
		tcps_options_set(&opts, "IPv4", two, 2, err, sizeof(err)),
		-EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "\"IPv4\""));
	ck_assert_int_eq(
		tcps_options_set(&opts, "IPv4", NULL, 0, err, sizeof(err)),
		-EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "got 0"));
}
END_TEST

START_TEST(tcps_options_set__unknown_option)
{
	ck_assert_int_eq(set1("Bogus", number(42)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "unknown option \"Bogus\""));
	ck_assert_ptr_nonnull(strstr(err, "42"));
}
END_TEST

START_TEST(tcps_options_known__names_any_case)
{
	ck_assert(tcps_options_known("TopProcesses"));
	ck_assert(tcps_options_known("ipv4"));
	ck_assert(tcps_options_known("ALLPORTSSUMMARY"));
	/* A block of the glue's, not an option. */
	ck_assert(!tcps_options_known("Namespace"));
	ck_assert(!tcps_options_known("TopProcess"));
	ck_assert(!tcps_options_known(""));
}
END_TEST

START_TEST(tcps_options_check__nothing_to_count)
{
	ck_assert_int_eq(set1("IPv4", boolean(false)), 0);
	ck_assert_int_eq(set1("IPv6", boolean(false)), 0);
	ck_assert_int_eq(tcps_options_check(&opts, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "IPv4"));
}
END_TEST

START_TEST(tcps_options_set__long_value_is_cut_not_overflowed)
{
	char text[1000];

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	ck_assert_int_eq(set1("IPv4", string(text)), -EINVAL);
	ck_assert_uint_lt(strlen(err), sizeof(err));
	ck_assert_ptr_nonnull(strstr(err, "\"IPv4\""));
}
END_TEST

START_TEST(tcps_options_set__leak_finder_options)
{
	struct tcps_cfg_value two[] = { string("close_wait"),
					string("ESTABLISHED") };

	ck_assert_uint_eq(opts.process_states, 1u << 8);
	ck_assert_int_eq(tcps_options_set(&opts, "ProcessStates", two, 2, err,
					  sizeof(err)),
			 0);
	ck_assert_uint_eq(opts.process_states, 1u << 8 | 1u << 1);
	ck_assert_int_eq(set1("ProcessStates", string("LISTEN")), 0);
	ck_assert_uint_eq(opts.process_states, 1u << 8 | 1u << 1 | 1u << 10);
	ck_assert_int_eq(set1("GroupBy", string("EXE")), 0);
	ck_assert_int_eq(opts.group_by, TCPS_GROUP_EXE);
	ck_assert_int_eq(set1("GroupBy", string("cgroup")), 0);
	ck_assert_int_eq(opts.group_by, TCPS_GROUP_CGROUP);
	ck_assert_int_eq(set1("GroupBy", string("Cgroup")), 0);
	ck_assert_int_eq(opts.group_by, TCPS_GROUP_CGROUP);
	ck_assert_int_eq(set1("GroupBy", string("cgroup2")), -EINVAL);
	ck_assert_ptr_nonnull(
		strstr(err, "\"comm\", \"exe\", \"unit\" or \"cgroup\""));
	ck_assert_int_eq(opts.group_by, TCPS_GROUP_CGROUP);
	ck_assert_int_eq(set1("TopProcesses", number(0)), 0);
	ck_assert_int_eq(set1("TopProcesses", number(1001)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "from 0 to 1000"));
	ck_assert_int_eq(set1("LeakAge", string("600")), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "\"LeakAge\""));
}
END_TEST

START_TEST(tcps_options_set__process_states_none)
{
	ck_assert_int_eq(set1("ProcessStates", string("none")), 0);
	ck_assert_uint_eq(opts.process_states, 0);
	ck_assert_int_eq(set1("ProcessStates", string("UNKNOWN")), -EINVAL);
	ck_assert_int_eq(set1("ProcessStates", number(8)), -EINVAL);
	ck_assert_int_eq(tcps_options_set(&opts, "ProcessStates", NULL, 0, err,
					  sizeof(err)),
			 -EINVAL);
}
END_TEST

START_TEST(tcps_options_set__port_options)
{
	struct tcps_cfg_value ports[] = { number(80), string("443") };

	ck_assert_int_eq(tcps_options_set(&opts, "LocalPort", ports, 2, err,
					  sizeof(err)),
			 0);
	ck_assert(tcps_port_set_has(&opts.local_ports, 80));
	ck_assert(tcps_port_set_has(&opts.local_ports, 443));
	ck_assert(!tcps_port_set_has(&opts.remote_ports, 80));
	ck_assert_int_eq(set1("RemotePort", string("80x")), -EINVAL);
	ck_assert_int_eq(set1("RemotePort", number(0)), -EINVAL);
	ck_assert_int_eq(set1("RemotePort", number(65536)), -EINVAL);
	ck_assert_int_eq(set1("RemotePort", number(22.5)), -EINVAL);
	ck_assert_int_eq(set1("RemotePort", number(65535)), 0);
	ck_assert_int_eq(set1("ListeningPorts", boolean(true)), 0);
	ck_assert(opts.listening_ports);
}
END_TEST

/* A quoted port is decimal digits only: strtod would also take hex, an
 * exponent, blanks or "inf", which no one means by a port. */
START_TEST(tcps_options_set__quoted_port_is_decimal_digits)
{
	static const char *const bad[] = { "0x50", "8e1",  " 80", "80 ",
					   "+80",  "80.0", "inf", "" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(set1("LocalPort", string(bad[i])) == -EINVAL,
			      "accepted \"%s\"", bad[i]);
		ck_assert_ptr_nonnull(strstr(err, "\"LocalPort\""));
		ck_assert(!tcps_port_set_has(&opts.local_ports, 80));
	}
	ck_assert_int_eq(set1("LocalPort", string("080")), 0);
	ck_assert(tcps_port_set_has(&opts.local_ports, 80));
}
END_TEST

/* "none" switches the view off: with state names on the same line it
 * contradicts them, and silently dropping either would surprise. */
START_TEST(tcps_options_set__process_states_none_stands_alone)
{
	struct tcps_cfg_value both[] = { string("none"), string("CLOSE_WAIT") };

	ck_assert_int_eq(tcps_options_set(&opts, "ProcessStates", both, 2, err,
					  sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "\"ProcessStates\""));
	ck_assert_ptr_nonnull(strstr(err, "\"none\""));
	ck_assert_uint_eq(opts.process_states, 1u << TCPS_CLOSE_WAIT);
}
END_TEST

/* strtod() reads "nan": a NaN passed both range checks and was then
 * converted to uint16_t, which is undefined (found by fuzz-config; the
 * sanitizer build of this test aborts on it). */
START_TEST(tcps_options_set__port_not_a_number)
{
	ck_assert_int_eq(set1("LocalPort", string("nan")), -EINVAL);
	ck_assert_int_eq(set1("LocalPort", string("-nan")), -EINVAL);
	ck_assert_int_eq(set1("RemotePort", number(__builtin_nan(""))),
			 -EINVAL);
	ck_assert_int_eq(set1("RemotePort", string("inf")), -EINVAL);
}
END_TEST

START_TEST(tcps_options_set__pressure_options)
{
	ck_assert_double_eq(opts.port_exhaustion_warning, 80);
	ck_assert_int_eq(set1("PortExhaustionWarning", number(99.5)), 0);
	ck_assert_double_eq(opts.port_exhaustion_warning, 99.5);
	ck_assert_int_eq(set1("PortExhaustionWarning", number(-1)), -EINVAL);
	ck_assert_int_eq(set1("PortExhaustionWarning", number(100.01)),
			 -EINVAL);
	ck_assert_int_eq(set1("MaxDestinations", number(1048577)), -EINVAL);
	ck_assert_int_eq(set1("TopListeners", number(3)), 0);
	ck_assert_uint_eq(opts.top_listeners, 3);
}
END_TEST

Suite *options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("validation");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, tcps_options_init__defaults);
	tcase_add_test(tc, tcps_options_set__booleans_any_case_and_spelling);
	tcase_add_test(tc, tcps_options_set__bad_boolean_string);
	tcase_add_test(tc, tcps_options_set__number_for_boolean);
	tcase_add_test(tc, tcps_options_set__wrong_value_count);
	tcase_add_test(tc, tcps_options_set__unknown_option);
	tcase_add_test(tc, tcps_options_known__names_any_case);
	tcase_add_test(tc, tcps_options_check__nothing_to_count);
	tcase_add_test(tc, tcps_options_set__long_value_is_cut_not_overflowed);
	tcase_add_test(tc, tcps_options_set__leak_finder_options);
	tcase_add_test(tc, tcps_options_set__process_states_none);
	tcase_add_test(tc, tcps_options_set__port_options);
	tcase_add_test(tc, tcps_options_set__quoted_port_is_decimal_digits);
	tcase_add_test(tc, tcps_options_set__process_states_none_stands_alone);
	tcase_add_test(tc, tcps_options_set__port_not_a_number);
	tcase_add_test(tc, tcps_options_set__pressure_options);
	suite_add_tcase(s, tc);
	return s;
}

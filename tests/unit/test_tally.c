/* TCP states: their numbers, names and counts. */
#include <errno.h>
#include <string.h>

#include "suites.h"
#include "tcpstates/tally.h"

START_TEST(tcps_state_name__matches_tcpconns)
{
	static const char *const want[] = {
		NULL,	      "ESTABLISHED", "SYN_SENT",  "SYN_RECV",
		"FIN_WAIT1",  "FIN_WAIT2",   "TIME_WAIT", "CLOSED",
		"CLOSE_WAIT", "LAST_ACK",    "LISTEN",	  "CLOSING",
	};

	for (int state = 1; state <= 11; state++)
		ck_assert_str_eq(tcps_state_name(state), want[state]);
	ck_assert_str_eq(tcps_state_name(TCPS_STATE_UNKNOWN), "UNKNOWN");
}
END_TEST

START_TEST(tcps_state_of__any_kernel_number)
{
	ck_assert_int_eq(tcps_state_of(0), TCPS_STATE_UNKNOWN);
	ck_assert_int_eq(tcps_state_of(1), TCPS_ESTABLISHED);
	ck_assert_int_eq(tcps_state_of(11), TCPS_CLOSING);
	ck_assert_int_eq(tcps_state_of(12), TCPS_STATE_UNKNOWN);
	ck_assert_int_eq(tcps_state_of(4000000000u), TCPS_STATE_UNKNOWN);
	ck_assert_str_eq(tcps_state_name((enum tcps_state)99), "UNKNOWN");
}
END_TEST

START_TEST(tcps_state_from_name__any_case_no_unknown)
{
	ck_assert_int_eq(tcps_state_from_name("close_wait"), TCPS_CLOSE_WAIT);
	ck_assert_int_eq(tcps_state_from_name("LISTEN"), TCPS_LISTEN);
	ck_assert_int_eq(tcps_state_from_name("UNKNOWN"), -ENOENT);
	ck_assert_int_eq(tcps_state_from_name(""), -ENOENT);
}
END_TEST

START_TEST(tcps_state_tally_add__counts_by_state)
{
	struct tcps_state_tally tally;
	struct tcps_record rec;

	memset(&rec, 0, sizeof(rec));
	tcps_state_tally_reset(&tally);
	for (int i = 0; i < 5; i++) {
		rec.state = TCPS_TIME_WAIT;
		tcps_state_tally_add(&tally, &rec);
	}
	rec.state = 13;
	tcps_state_tally_add(&tally, &rec);
	ck_assert_uint_eq(tally.count[TCPS_TIME_WAIT], 5);
	ck_assert_uint_eq(tally.count[TCPS_STATE_UNKNOWN], 1);
	tcps_state_tally_reset(&tally);
	ck_assert_uint_eq(tally.count[TCPS_TIME_WAIT], 0);
}
END_TEST

Suite *tally_suite(void)
{
	Suite *s = suite_create("tally");
	TCase *tc = tcase_create("states");

	tcase_add_test(tc, tcps_state_name__matches_tcpconns);
	tcase_add_test(tc, tcps_state_of__any_kernel_number);
	tcase_add_test(tc, tcps_state_from_name__any_case_no_unknown);
	tcase_add_test(tc, tcps_state_tally_add__counts_by_state);
	suite_add_tcase(s, tc);
	return s;
}

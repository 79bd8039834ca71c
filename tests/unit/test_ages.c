/* Socket ages across reads: kept, carried, forgotten, bounded. */
#include <stdint.h>

#include "suites.h"
#include "tcpstates/ages.h"

/* One read that keeps cookies first..first+n-1 with the given time,
 * carrying the last read's age where there is one. */
static size_t read_keeping(struct tcps_ages *ages, uint64_t first, size_t n,
			   uint64_t now_ms, size_t max)
{
	size_t kept = 0;

	ck_assert_int_eq(tcps_ages_begin(ages, n < max ? n : max), 0);
	for (uint64_t c = first; c < first + n; c++) {
		const struct tcps_age *last = tcps_ages_last(ages, c);

		kept += tcps_ages_keep(
			ages, c, last ? last->first_seen_ms : now_ms, 8, max);
	}
	tcps_ages_end(ages);
	return kept;
}

START_TEST(tcps_ages_keep__carries_an_age_to_the_next_read)
{
	struct tcps_ages ages = { 0 };

	ck_assert_ptr_null(tcps_ages_last(&ages, 5)); /* nothing yet */
	ck_assert_uint_eq(read_keeping(&ages, 1, 10, 1000, 100), 10);
	ck_assert_uint_eq(read_keeping(&ages, 5, 10, 2000, 100), 10);
	/* 5..9 were seen at 1000, 10..14 are new at 2000. */
	ck_assert_uint_eq(tcps_ages_last(&ages, 5)->first_seen_ms, 1000);
	ck_assert_uint_eq(tcps_ages_last(&ages, 9)->first_seen_ms, 1000);
	ck_assert_uint_eq(tcps_ages_last(&ages, 14)->first_seen_ms, 2000);
	ck_assert_uint_eq(tcps_ages_last(&ages, 14)->state, 8);
	/* Not seen in the last read: forgotten. */
	ck_assert_ptr_null(tcps_ages_last(&ages, 1));
	tcps_ages_release(&ages);
}
END_TEST

START_TEST(tcps_ages_keep__same_socket_twice_keeps_the_first)
{
	struct tcps_ages ages = { 0 };

	ck_assert_int_eq(tcps_ages_begin(&ages, 4), 0);
	ck_assert(tcps_ages_keep(&ages, 42, 100, 8, 4));
	ck_assert(tcps_ages_keep(&ages, 42, 200, 8, 4));
	ck_assert_uint_eq(ages.next.used, 1);
	tcps_ages_end(&ages);
	ck_assert_uint_eq(tcps_ages_last(&ages, 42)->first_seen_ms, 100);
	tcps_ages_release(&ages);
}
END_TEST

START_TEST(tcps_ages_keep__refuses_cookie_zero_and_past_max)
{
	struct tcps_ages ages = { 0 };

	ck_assert(!tcps_ages_keep(&ages, 1, 1, 8, 10)); /* before begin */
	ck_assert_uint_eq(read_keeping(&ages, 1, 10, 1000, 3), 3);
	ck_assert_ptr_nonnull(tcps_ages_last(&ages, 3));
	ck_assert_ptr_null(tcps_ages_last(&ages, 4));
	ck_assert_int_eq(tcps_ages_begin(&ages, 3), 0);
	ck_assert(!tcps_ages_keep(&ages, 0, 1, 8, 3));
	ck_assert_ptr_null(tcps_ages_last(&ages, 0));
	tcps_ages_release(&ages);
}
END_TEST

START_TEST(tcps_ages_begin__shrinks_after_a_burst)
{
	struct tcps_ages ages = { 0 };

	read_keeping(&ages, 1, 100000, 1000, 1000000);
	ck_assert_uint_ge(ages.last.cap, 200000);
	read_keeping(&ages, 1, 10, 2000, 1000000);
	read_keeping(&ages, 1, 10, 3000, 1000000);
	ck_assert_uint_le(ages.last.cap, 64);
	ck_assert_uint_le(ages.next.cap, 64);
	/* Carried through the shrink. */
	ck_assert_uint_eq(tcps_ages_last(&ages, 3)->first_seen_ms, 1000);
	tcps_ages_release(&ages);
}
END_TEST

START_TEST(tcps_ages_forget__empties_and_shrinks_the_last)
{
	struct tcps_ages ages = { 0 };

	read_keeping(&ages, 1, 50000, 1000, 1000000);
	tcps_ages_forget(&ages);
	ck_assert_ptr_null(tcps_ages_last(&ages, 7));
	ck_assert_uint_le(ages.last.cap, 64);
	tcps_ages_release(&ages);
	tcps_ages_release(&ages); /* twice is harmless */
}
END_TEST

Suite *ages_suite(void)
{
	Suite *s = suite_create("ages");
	TCase *tc = tcase_create("reads");

	tcase_add_test(tc, tcps_ages_keep__carries_an_age_to_the_next_read);
	tcase_add_test(tc, tcps_ages_keep__same_socket_twice_keeps_the_first);
	tcase_add_test(tc, tcps_ages_keep__refuses_cookie_zero_and_past_max);
	tcase_add_test(tc, tcps_ages_begin__shrinks_after_a_burst);
	tcase_add_test(tc, tcps_ages_forget__empties_and_shrinks_the_last);
	suite_add_tcase(s, tc);
	return s;
}

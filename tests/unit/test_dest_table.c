/* The ephemeral observer's destination table on its own: insert and
 * find, a new interval by generation, growth keeping the entries, the
 * limit, the shrink after a burst. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "suites.h"
#include "tcpstates/dest_table.h"

static struct tcps_dest_key key_of(uint32_t n)
{
	struct tcps_dest_key key;

	memset(&key, 0, sizeof(key));
	key.family = AF_INET;
	key.local_addr[0] = 10;
	memcpy(key.remote_addr, &n, sizeof(n));
	key.remote_port = 443;
	return key;
}

/* Counts one socket to destination n, growing first as the observer
 * does; NULL when the table is full. */
static struct tcps_dest_slot *count(struct tcps_dest_table *t, uint32_t n)
{
	struct tcps_dest_key key = key_of(n);
	struct tcps_dest_slot *slot;

	if (tcps_dest_table_wants_room(t)) {
		struct tcps_dest_slot *old;

		ck_assert_int_eq(tcps_dest_table_grow(t, &old), 0);
		free(old);
	}
	slot = tcps_dest_table_get(t, &key, tcps_dest_key_hash(&key));
	if (slot)
		slot->count++;
	return slot;
}

static uint32_t count_of(const struct tcps_dest_table *t, uint32_t n)
{
	struct tcps_dest_key key = key_of(n);
	const struct tcps_dest_slot *slot = tcps_dest_table_find(t, &key);

	return slot ? slot->count : 0;
}

START_TEST(tcps_dest_table_get__inserts_once_and_counts)
{
	struct tcps_dest_table t;

	ck_assert_int_eq(tcps_dest_table_init(&t, 100), 0);
	for (uint32_t i = 0; i < 30; i++)
		ck_assert_ptr_nonnull(count(&t, i % 3));
	ck_assert_uint_eq(t.used, 3);
	for (uint32_t n = 0; n < 3; n++)
		ck_assert_uint_eq(count_of(&t, n), 10);
	ck_assert_ptr_null(tcps_dest_table_find(
		&t, &(struct tcps_dest_key){ .family = AF_INET6 }));
	tcps_dest_table_release(&t);
}
END_TEST

START_TEST(tcps_dest_table_reset__empties_for_the_next_interval)
{
	struct tcps_dest_table t;

	ck_assert_int_eq(tcps_dest_table_init(&t, 100), 0);
	count(&t, 1);
	count(&t, 2);
	tcps_dest_table_reset(&t);
	ck_assert_uint_eq(t.used, 0);
	ck_assert_uint_eq(count_of(&t, 1), 0);
	ck_assert_ptr_nonnull(count(&t, 2));
	ck_assert_uint_eq(count_of(&t, 2), 1); /* a fresh count */
	tcps_dest_table_release(&t);
}
END_TEST

START_TEST(tcps_dest_table_grow__keeps_every_entry)
{
	struct tcps_dest_table t;
	uint32_t first;

	ck_assert_int_eq(tcps_dest_table_init(&t, 100000), 0);
	first = tcps_dest_table_capacity(&t);
	for (uint32_t n = 0; n < 20000; n++) {
		ck_assert_ptr_nonnull(count(&t, n));
		ck_assert_ptr_nonnull(count(&t, n));
	}
	ck_assert_uint_gt(tcps_dest_table_capacity(&t), first);
	/* Never loaded beyond 2/3. */
	ck_assert_uint_le((uint64_t)t.used * 3,
			  (uint64_t)tcps_dest_table_capacity(&t) * 2);
	for (uint32_t n = 0; n < 20000; n++)
		ck_assert_uint_eq(count_of(&t, n), 2);
	tcps_dest_table_release(&t);
}
END_TEST

START_TEST(tcps_dest_table_get__refuses_past_the_limit)
{
	struct tcps_dest_table t;

	ck_assert_int_eq(tcps_dest_table_init(&t, 5), 0);
	for (uint32_t n = 0; n < 5; n++)
		ck_assert_ptr_nonnull(count(&t, n));
	ck_assert_ptr_null(count(&t, 5));
	ck_assert_ptr_nonnull(count(&t, 4)); /* known ones still count */
	ck_assert_uint_eq(count_of(&t, 4), 2);
	ck_assert_uint_eq(t.used, 5);
	tcps_dest_table_release(&t);
}
END_TEST

START_TEST(tcps_dest_table_reset__shrinks_after_a_burst)
{
	struct tcps_dest_table t;
	uint32_t burst;

	ck_assert_int_eq(tcps_dest_table_init(&t, 1u << 20), 0);
	for (uint32_t n = 0; n < 50000; n++)
		count(&t, n);
	burst = tcps_dest_table_capacity(&t);
	tcps_dest_table_reset(&t);
	for (int interval = 0; interval < 3; interval++) {
		count(&t, 7);
		tcps_dest_table_reset(&t);
	}
	ck_assert_uint_lt(tcps_dest_table_capacity(&t), burst / 4);
	ck_assert_ptr_nonnull(count(&t, 7));
	ck_assert_uint_eq(count_of(&t, 7), 1);
	tcps_dest_table_release(&t);
}
END_TEST

START_TEST(tcps_dest_table_reset__generation_wrap_clears_old_slots)
{
	struct tcps_dest_table t;

	ck_assert_int_eq(tcps_dest_table_init(&t, 100), 0);
	count(&t, 1); /* slots of generation 1 */
	count(&t, 2);
	t.generation = UINT32_MAX; /* 2^32 - 2 intervals later */
	t.used = 0;
	count(&t, 3);
	tcps_dest_table_reset(&t);
	ck_assert_uint_eq(t.generation, 1);
	/* Generation 1 again: the slots it left long ago must not pass for
	 * this interval's. */
	ck_assert_uint_eq(count_of(&t, 1), 0);
	ck_assert_uint_eq(count_of(&t, 2), 0);
	ck_assert_uint_eq(count_of(&t, 3), 0);
	ck_assert_ptr_nonnull(count(&t, 1));
	ck_assert_uint_eq(count_of(&t, 1), 1);
	tcps_dest_table_release(&t);
}
END_TEST

Suite *dest_table_suite(void)
{
	Suite *s = suite_create("dest_table");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, tcps_dest_table_get__inserts_once_and_counts);
	tcase_add_test(tc,
		       tcps_dest_table_reset__empties_for_the_next_interval);
	tcase_add_test(tc, tcps_dest_table_grow__keeps_every_entry);
	tcase_add_test(tc, tcps_dest_table_get__refuses_past_the_limit);
	tcase_add_test(tc, tcps_dest_table_reset__shrinks_after_a_burst);
	tcase_add_test(tc,
		       tcps_dest_table_reset__generation_wrap_clears_old_slots);
	suite_add_tcase(s, tc);
	return s;
}

/* The shared helpers: probing, decimal parsing, bit walks, port sets. */
#include <stdint.h>
#include <string.h>

#include "suites.h"
#include "tcpstates/portset.h"
#include "tcpstates/util.h"

/* A table of 8 keys; 0 marks an empty slot. */
static bool key_stop(const void *slot, const void *key)
{
	uint32_t k = *(const uint32_t *)slot;

	return k == 0 || k == *(const uint32_t *)key;
}

START_TEST(tcps_probe__stops_at_the_key_or_an_empty_slot)
{
	uint32_t slots[8] = { [3] = 30, [4] = 40, [5] = 50 };
	uint32_t key = 40;

	ck_assert_uint_eq(
		tcps_probe(slots, sizeof(slots[0]), 8, 3, key_stop, &key), 4);
	key = 99; /* absent: the first empty slot after the run */
	ck_assert_uint_eq(
		tcps_probe(slots, sizeof(slots[0]), 8, 3, key_stop, &key), 6);
	/* Only the low bits of the hash pick the first slot. */
	ck_assert_uint_eq(tcps_probe(slots, sizeof(slots[0]), 8, 8 * 1000 + 1,
				     key_stop, &key),
			  1);
}
END_TEST

START_TEST(tcps_probe__wraps_past_the_last_slot)
{
	uint32_t slots[8] = { [0] = 10, [6] = 60, [7] = 70 };
	uint32_t key = 10;

	ck_assert_uint_eq(
		tcps_probe(slots, sizeof(slots[0]), 8, 6, key_stop, &key), 0);
	key = 99;
	ck_assert_uint_eq(
		tcps_probe(slots, sizeof(slots[0]), 8, 7, key_stop, &key), 1);
}
END_TEST

/* Parses all of text; returns how many characters were taken, or -1. */
static long parse(const char *text, size_t len, uint64_t max, uint64_t *ret)
{
	const char *end = tcps_parse_decimal(text, text + len, max, ret);

	return end ? end - text : -1;
}

START_TEST(tcps_parse_decimal__takes_max_refuses_one_more)
{
	uint64_t value = 7;

	ck_assert_int_eq(parse("255", 3, 255, &value), 3);
	ck_assert_uint_eq(value, 255);
	value = 7;
	ck_assert_int_eq(parse("256", 3, 255, &value), -1);
	ck_assert_uint_eq(value, 7); /* untouched */
	ck_assert_int_eq(parse("18446744073709551615", 20, UINT64_MAX, &value),
			 20);
	ck_assert_uint_eq(value, UINT64_MAX);
	value = 7;
	ck_assert_int_eq(parse("18446744073709551616", 20, UINT64_MAX, &value),
			 -1);
	ck_assert_int_eq(parse("99999999999999999999", 20, UINT64_MAX, &value),
			 -1);
	ck_assert_uint_eq(value, 7);
	ck_assert_int_eq(parse("0", 1, 0, &value), 1);
	ck_assert_uint_eq(value, 0);
	/* A single digit above a max below 9. */
	value = 7;
	ck_assert_int_eq(parse("5", 1, 3, &value), -1);
	ck_assert_int_eq(parse("1", 1, 0, &value), -1);
	ck_assert_uint_eq(value, 7);
}
END_TEST

START_TEST(tcps_parse_decimal__no_digit)
{
	uint64_t value = 7;

	ck_assert_int_eq(parse("", 0, 100, &value), -1);
	ck_assert_int_eq(parse("x1", 2, 100, &value), -1);
	ck_assert_int_eq(parse("-1", 2, 100, &value), -1);
	ck_assert_int_eq(parse(" 1", 2, 100, &value), -1);
	ck_assert_uint_eq(value, 7);
}
END_TEST

START_TEST(tcps_parse_decimal__stops_at_a_non_digit)
{
	uint64_t value = 7;

	ck_assert_int_eq(parse("123 456", 7, 1000, &value), 3);
	ck_assert_uint_eq(value, 123);
	ck_assert_int_eq(parse("0042/fd", 7, 1000, &value), 4);
	ck_assert_uint_eq(value, 42);
	/* A number over max is refused even when a non-digit follows. */
	ck_assert_int_eq(parse("1001)", 5, 1000, &value), -1);
}
END_TEST

START_TEST(tcps_parse_decimal__stops_at_the_end_bound)
{
	uint64_t value = 7;

	/* The digits go on past end: what lies there is not read. */
	ck_assert_int_eq(parse("12345", 2, 100, &value), 2);
	ck_assert_uint_eq(value, 12);
	ck_assert_int_eq(parse("999", 2, 100, &value), 2);
	ck_assert_uint_eq(value, 99);
}
END_TEST

START_TEST(tcps_next_bit__word_edges)
{
	uint64_t bits[3] = { (uint64_t)1 << 63, 1, 0 };

	ck_assert_uint_eq(tcps_next_bit(bits, 3, 0), 63);
	ck_assert_uint_eq(tcps_next_bit(bits, 3, 63), 63);
	ck_assert_uint_eq(tcps_next_bit(bits, 3, 64), 64);
	bits[0] = 0;
	ck_assert_uint_eq(tcps_next_bit(bits, 3, 0), 64);
	bits[0] = 1;
	bits[1] = (uint64_t)1 << 63;
	ck_assert_uint_eq(tcps_next_bit(bits, 3, 1), 127);
}
END_TEST

START_TEST(tcps_next_bit__none_left)
{
	uint64_t bits[3] = { 1, 0, (uint64_t)1 << 63 };

	ck_assert_uint_eq(tcps_next_bit(bits, 3, 1), 191);
	ck_assert_uint_eq(tcps_next_bit(bits, 3, 192), 192);
	ck_assert_uint_eq(tcps_next_bit(bits, 3, 1000), 192);
	bits[2] = 0;
	ck_assert_uint_eq(tcps_next_bit(bits, 3, 1), 192);
	ck_assert_uint_eq(tcps_next_bit(bits, 0, 0), 0);
}
END_TEST

static struct tcps_port_set a, b, got;

static void port_sets_setup(void)
{
	tcps_port_set_clear(&a);
	tcps_port_set_clear(&b);
	memset(&got, 0xff, sizeof(got)); /* every result overwrites all */
}

static void add_ports(struct tcps_port_set *set, const uint16_t *ports,
		      size_t num)
{
	for (size_t i = 0; i < num; i++)
		tcps_port_set_add(set, ports[i]);
}

/* The ports of set, in the order TCPS_PORT_SET_FOREACH gives them. */
static size_t list_ports(const struct tcps_port_set *set, uint32_t *out,
			 size_t max)
{
	size_t n = 0;

	TCPS_PORT_SET_FOREACH(port, set)
	{
		ck_assert_uint_lt(n, max);
		out[n++] = port;
	}
	return n;
}

START_TEST(tcps_port_set_next__walks_up_over_word_edges)
{
	static const uint16_t ports[] = { 65535, 64, 0, 63, 1000 };
	uint32_t seen[8];

	add_ports(&a, ports, 5);
	ck_assert_uint_eq(list_ports(&a, seen, 8), 5);
	ck_assert_uint_eq(seen[0], 0);
	ck_assert_uint_eq(seen[1], 63);
	ck_assert_uint_eq(seen[2], 64);
	ck_assert_uint_eq(seen[3], 1000);
	ck_assert_uint_eq(seen[4], 65535);
	ck_assert_uint_eq(list_ports(&b, seen, 8), 0);
}
END_TEST

START_TEST(tcps_port_set_count__every_port)
{
	ck_assert_uint_eq(tcps_port_set_count(&a), 0);
	memset(&a, 0xff, sizeof(a));
	ck_assert_uint_eq(tcps_port_set_count(&a), 65536);
	tcps_port_set_remove(&a, 0);
	tcps_port_set_remove(&a, 65535);
	tcps_port_set_remove(&a, 65535);
	ck_assert_uint_eq(tcps_port_set_count(&a), 65534);
	ck_assert(!tcps_port_set_has(&a, 0));
	ck_assert(tcps_port_set_has(&a, 1));
}
END_TEST

START_TEST(tcps_port_set_union_xor_minus__by_the_table)
{
	static const uint16_t in_a[] = { 22, 80, 443, 65535 };
	static const uint16_t in_b[] = { 80, 8080, 65535 };
	uint32_t seen[8];

	add_ports(&a, in_a, 4);
	add_ports(&b, in_b, 3);
	tcps_port_set_union(&a, &b, &got);
	ck_assert_uint_eq(tcps_port_set_count(&got), 5);
	tcps_port_set_xor(&a, &b, &got);
	ck_assert_uint_eq(list_ports(&got, seen, 8), 3);
	ck_assert_uint_eq(seen[0], 22);
	ck_assert_uint_eq(seen[1], 443);
	ck_assert_uint_eq(seen[2], 8080);
	tcps_port_set_minus(&a, &b, &got);
	ck_assert_uint_eq(list_ports(&got, seen, 8), 2);
	ck_assert_uint_eq(seen[0], 22);
	ck_assert_uint_eq(seen[1], 443);
	tcps_port_set_minus(&b, &a, &got);
	ck_assert_uint_eq(list_ports(&got, seen, 8), 1);
	ck_assert_uint_eq(seen[0], 8080);
	/* A result may be one of its inputs. */
	tcps_port_set_xor(&a, &a, &a);
	ck_assert_uint_eq(tcps_port_set_count(&a), 0);
}
END_TEST

Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *probe = tcase_create("probe");
	TCase *decimal = tcase_create("decimal");
	TCase *bits = tcase_create("bits");

	tcase_add_test(probe, tcps_probe__stops_at_the_key_or_an_empty_slot);
	tcase_add_test(probe, tcps_probe__wraps_past_the_last_slot);
	tcase_add_test(decimal, tcps_parse_decimal__takes_max_refuses_one_more);
	tcase_add_test(decimal, tcps_parse_decimal__no_digit);
	tcase_add_test(decimal, tcps_parse_decimal__stops_at_a_non_digit);
	tcase_add_test(decimal, tcps_parse_decimal__stops_at_the_end_bound);
	tcase_add_checked_fixture(bits, port_sets_setup, NULL);
	tcase_add_test(bits, tcps_next_bit__word_edges);
	tcase_add_test(bits, tcps_next_bit__none_left);
	tcase_add_test(bits, tcps_port_set_next__walks_up_over_word_edges);
	tcase_add_test(bits, tcps_port_set_count__every_port);
	tcase_add_test(bits, tcps_port_set_union_xor_minus__by_the_table);
	suite_add_tcase(s, probe);
	suite_add_tcase(s, decimal);
	suite_add_tcase(s, bits);
	return s;
}

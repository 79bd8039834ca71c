/* The sink helpers every observer emits through: fields passed on as
 * given, the sink's answer handed back, a missing notify a no-op. */
#include <errno.h>

#include "suites.h"
#include "tcpstates/sink.h"

struct seen {
	struct tcps_value value;
	struct tcps_notification notif;
	int values, notifs;
	int answer; /* what the callbacks return */
};

static int see_value(void *data, const struct tcps_value *value)
{
	struct seen *seen = data;

	seen->value = *value;
	seen->values++;
	return seen->answer;
}

static int see_notif(void *data, const struct tcps_notification *notif)
{
	struct seen *seen = data;

	seen->notif = *notif;
	seen->notifs++;
	return seen->answer;
}

START_TEST(tcps_sink_value__passes_fields_and_answer)
{
	struct seen seen = { .answer = -ENOMEM };
	const struct tcps_sink sink = { .value = see_value,
					.notify = see_notif,
					.data = &seen };

	ck_assert_int_eq(tcps_sink_value(&sink, "stuck", "bytes",
					 "unacknowledged", 42.5),
			 -ENOMEM);
	ck_assert_int_eq(seen.values, 1);
	ck_assert_str_eq(seen.value.netns, "");
	ck_assert_str_eq(seen.value.set, "stuck");
	ck_assert_str_eq(seen.value.type, "bytes");
	ck_assert_str_eq(seen.value.type_instance, "unacknowledged");
	ck_assert_double_eq(seen.value.value, 42.5);
	seen.answer = 0;
	ck_assert_int_eq(tcps_sink_value(&sink, "", "count", "x", 0), 0);
	ck_assert_int_eq(seen.notifs, 0);
}
END_TEST

START_TEST(tcps_sink_notify__passes_fields_and_answer)
{
	struct seen seen = { .answer = -EIO };
	const struct tcps_sink sink = { .value = see_value,
					.notify = see_notif,
					.data = &seen };

	ck_assert_int_eq(tcps_sink_notify(&sink, TCPS_SEVERITY_WARNING,
					  "listen_queue", "queue_length", "80",
					  "full"),
			 -EIO);
	ck_assert_int_eq(seen.notifs, 1);
	ck_assert_int_eq(seen.notif.severity, TCPS_SEVERITY_WARNING);
	ck_assert_str_eq(seen.notif.netns, "");
	ck_assert_str_eq(seen.notif.set, "listen_queue");
	ck_assert_str_eq(seen.notif.type, "queue_length");
	ck_assert_str_eq(seen.notif.type_instance, "80");
	ck_assert_str_eq(seen.notif.message, "full");
	ck_assert_int_eq(seen.values, 0);
}
END_TEST

START_TEST(tcps_sink_notify__missing_notify_is_a_no_op)
{
	struct seen seen = { .answer = -EIO };
	const struct tcps_sink sink = { .value = see_value, .data = &seen };

	ck_assert_int_eq(tcps_sink_notify(&sink, TCPS_SEVERITY_OKAY, "", "t",
					  "ti", "cleared"),
			 0);
	ck_assert_int_eq(seen.notifs, 0);
	ck_assert_int_eq(seen.values, 0);
}
END_TEST

Suite *sink_suite(void)
{
	Suite *s = suite_create("sink");
	TCase *tc = tcase_create("helpers");

	tcase_add_test(tc, tcps_sink_value__passes_fields_and_answer);
	tcase_add_test(tc, tcps_sink_notify__passes_fields_and_answer);
	tcase_add_test(tc, tcps_sink_notify__missing_notify_is_a_no_op);
	suite_add_tcase(s, tc);
	return s;
}

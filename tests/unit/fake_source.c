#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <check.h>

#include "fake_source.h"

static int fake_open(void *arg, void **ret_handle)
{
	struct fake_source *fake = arg;
	int result = 0;

	if (fake->opens < FAKE_MAX_STEPS)
		result = fake->open_results[fake->opens];
	fake->opens++;
	if (result < 0)
		return result;
	fake->open_handles++;
	*ret_handle = fake;
	return 0;
}

static void fake_close(void *handle)
{
	struct fake_source *fake = handle;

	fake->closes++;
	fake->open_handles--;
}

static int fake_dump(void *handle, enum tcps_dump_family family,
		     uint32_t state_mask, tcps_record_fn fn, void *data,
		     struct tcps_dump_stats *stats)
{
	struct fake_source *fake = handle;
	const struct fake_step *step;

	ck_assert_int_lt(fake->next_step, fake->steps_num);
	step = &fake->steps[fake->next_step++];
	fake->last_family = family;
	fake->last_mask = state_mask;
	for (int i = 0; i < step->records_num; i++) {
		stats->records++;
		fn(&step->records[i], data);
	}
	return step->result;
}

const struct tcps_source_ops fake_source_ops = {
	.open = fake_open,
	.close = fake_close,
	.dump = fake_dump,
};

struct fake_step *fake_add_step(struct fake_source *fake, const int *states,
				int states_num, int result)
{
	struct fake_step *step;

	ck_assert_int_lt(fake->steps_num, FAKE_MAX_STEPS);
	ck_assert_int_le(states_num, FAKE_MAX_RECORDS);
	step = &fake->steps[fake->steps_num++];
	memset(step, 0, sizeof(*step));
	for (int i = 0; i < states_num; i++) {
		step->records[i].family = AF_INET;
		step->records[i].state = (uint8_t)states[i];
	}
	step->records_num = states_num;
	step->result = result;
	return step;
}

/* A scripted record source: each dump attempt plays one step. */
#ifndef TCPSTATES_TEST_FAKE_SOURCE_H
#define TCPSTATES_TEST_FAKE_SOURCE_H

#include "tcpstates/collect.h"

#define FAKE_MAX_STEPS 8
#define FAKE_MAX_RECORDS 64

struct fake_step {
	struct tcps_record records[FAKE_MAX_RECORDS];
	int records_num;
	int result; /* returned by dump() after the records */
};

struct fake_source {
	struct fake_step steps[FAKE_MAX_STEPS];
	int steps_num;
	int next_step; /* dump attempts so far */
	int open_results[FAKE_MAX_STEPS]; /* what the n-th open() returns */
	int opens, closes, open_handles;
	enum tcps_dump_family last_family;
	uint32_t last_mask;
};

extern const struct tcps_source_ops fake_source_ops;

/* Appends a step that emits one record per state in states[]. */
struct fake_step *fake_add_step(struct fake_source *fake, const int *states,
				int states_num, int result);

#endif

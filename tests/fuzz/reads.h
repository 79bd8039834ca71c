/*
 * Reads run by a stateful fuzz target, where one input is a script of
 * many reads: libFuzzer counts executions, this counts reads, and prints
 * the total at exit as "stat::number_of_reads: N" next to libFuzzer's own
 * stat:: lines, where tests/fuzz/run.sh picks it up. A crash exits
 * without it; run.sh then shows "?".
 *
 * Include it in one file of a target: call fuzz_reads_start() from
 * LLVMFuzzerInitialize and fuzz_reads_count() once per read.
 */
#ifndef TCPSTATES_FUZZ_READS_H
#define TCPSTATES_FUZZ_READS_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t fuzz_reads_total;

static void fuzz_reads_print(void)
{
	fprintf(stderr, "stat::number_of_reads: %" PRIu64 "\n",
		fuzz_reads_total);
}

static inline void fuzz_reads_start(void)
{
	atexit(fuzz_reads_print);
}

static inline void fuzz_reads_count(void)
{
	fuzz_reads_total++;
}

#endif

/*
 * libFuzzer target: the leak finder over many reads, in a world that
 * changes between them (leaks_world.h), with every promise of
 * leaks_oracle.h checked after every read.
 *
 * Input: a script. Seven header bytes configure the leak finder:
 *   0-1  tracked states: bits 0-10 are states 1-11 (none: CLOSE_WAIT);
 *        bit 15 set: CLOSE_WAIT alone
 *   2    TopProcesses = b % 6           3  MaxTrackedSockets = 1 + b % 32
 *   4    LeakThreshold = b % 8          5  LeakAge = b % 64 seconds
 *   6    ProcessScanBudget: b < 128 none, else 1 + b % 16 steps
 * then operations of four bytes, opcode (taken % 24) and three arguments
 * a, b, c; a quarter of the opcodes are reads:
 *   0-5 read: a seconds later     6 spawn pid a, name b, uid c
 *   7 fork a into pid b           8 exit a (b & 1: its sockets orphaned)
 *   9 rename a to b              10 uid of a: b
 *  11 files of a: b (fd folder fine/gone/a file, comm, stat)
 *  12, 23 socket held by a (a % 100 >= 80: out of sight), inode near
 *     b & 63 (b >> 6: Recv-Q), state c >> 4; cookie c & 15: 0-11 a
 *     fresh one, 12-15 cookie 0-3 (shared)
 *  13 state of socket a: b       14 hand socket a to pid b (c & 1: keep)
 *  15 close fd b of a (c & 1: orphan)
 *  16 socket a closed by all (b & 1: orphan)
 *  17 socket a listed twice      18 socket a held out of sight or not
 *  19 swap sockets a, b in the dump
 *  20 fd b of a: not a socket of the dump (c & 1: orphan)
 *  21 a read whose dump fails
 *  22 a read with a burst of orphans in state b: 4097 + 16 a of them if
 *     c & 1 (once a script), else 64 + a (four times a script); then a
 *     plain read. Bursts cost most of a script's time.
 * Pids, sockets and fds are taken modulo their number; what makes no
 * sense (a dead pid) does nothing.
 *
 * FUZZ_LEAKS_TRACE=1 prints every read's values and notifications (to
 * follow a crashing script).
 *
 * ProcessScanBudget counts steps, not milliseconds: the owner search's
 * clock_gettime(CLOCK_MONOTONIC) is wrapped at link time (Makefile) to a
 * clock that moves 1 ms per call, so a scan runs out after the same
 * processes every time the script runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "leaks_oracle.h"
#include "leaks_world.h"
#include "reads.h"
#include "tcpstates/leaks.h"
#include "tcpstates/record.h"

#define HEADER 7
#define OP_SIZE 4
#define BIG_BURST 4097 /* leaks.c keeps room for 4096 candidates */
#define BIG_BURSTS 1
#define SMALL_BURST 64
#define SMALL_BURSTS 4
#define BURST_COOKIE (1ull << 40)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int __real_clock_gettime(clockid_t clock, struct timespec *ts);
int __wrap_clock_gettime(clockid_t clock, struct timespec *ts);

static struct world world;
static bool fake_clock;
static uint64_t fake_clock_ms;

/* The owner search's budget clock, during tcps_leaks_end() only. */
int __wrap_clock_gettime(clockid_t clock, struct timespec *ts)
{
	if (!fake_clock || clock != CLOCK_MONOTONIC)
		return __real_clock_gettime(clock, ts);
	fake_clock_ms++;
	ts->tv_sec = (time_t)(fake_clock_ms / 1000);
	ts->tv_nsec = (long)(fake_clock_ms % 1000) * 1000000L;
	return 0;
}

static void close_world(void)
{
	world_close(&world);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	world_open(&world);
	atexit(close_world);
	fuzz_reads_start();
	return 0;
}

struct run {
	struct tcps_leaks *leaks;
	struct oracle oracle;
	struct oracle_read read;
	uint64_t bursts; /* orphans fed in bursts */
	unsigned big_bursts, small_bursts;
};

static void configure(const uint8_t *h, struct tcps_leaks_config *cfg)
{
	uint32_t states = ((uint32_t)h[0] | (uint32_t)h[1] << 8) & 0x7ff;

	memset(cfg, 0, sizeof(*cfg));
	cfg->state_mask = states << 1;
	if (states == 0 || (h[1] & 0x80))
		cfg->state_mask = 1u << TCPS_CLOSE_WAIT;
	cfg->top_n = h[2] % 6;
	cfg->max_tracked = 1 + h[3] % 32;
	cfg->threshold = h[4] % 8;
	cfg->max_age_s = h[5] % 64;
	cfg->scan_budget_ms = h[6] < 128 ? 0 : 1 + h[6] % 16;
	cfg->group_by = TCPS_GROUP_COMM;
	cfg->proc_root = world.root;
}

/* CLOSE_WAIT one time in four; else any kernel state, or two numbers it
 * never sends. */
static uint8_t state_of(unsigned pick)
{
	static const uint8_t others[] = {
		TCPS_ESTABLISHED,
		TCPS_SYN_SENT,
		TCPS_SYN_RECV,
		TCPS_FIN_WAIT1,
		TCPS_FIN_WAIT2,
		TCPS_TIME_WAIT,
		TCPS_CLOSE,
		TCPS_LAST_ACK,
		TCPS_LISTEN,
		TCPS_CLOSING,
		0,
		13,
	};

	pick %= 16;
	return pick < 4 ? TCPS_CLOSE_WAIT : others[pick - 4];
}

/* The kernel counts a received FIN as one byte of the receive queue. */
static uint32_t unread_of(const struct tcps_record *rec)
{
	bool fin = rec->state == TCPS_CLOSE_WAIT ||
		   rec->state == TCPS_LAST_ACK || rec->state == TCPS_CLOSING;

	return fin && rec->rqueue > 0 ? rec->rqueue - 1 : rec->rqueue;
}

static void feed(struct run *run, const struct tcps_record *rec, bool first)
{
	struct oracle_record *seen = &run->read.recs[run->read.recs_num++];

	tcps_leaks_observe(run->leaks, rec);
	seen->inode = rec->inode;
	seen->cookie = rec->cookie;
	seen->state = rec->state;
	seen->unread = unread_of(rec);
	seen->first = first;
}

static void feed_world(struct run *run)
{
	for (unsigned i = 0; i < WORLD_SOCKS; i++) {
		const struct world_sock *s = &world.socks[i];
		struct tcps_record rec = {
			.family = i % 2 ? AF_INET6 : AF_INET,
			.state = s->state,
			.local_port = 8080,
			.remote_port = (uint16_t)(40000 + i),
			.local_addr = { 10, 0, 0, 1 },
			.remote_addr = { 10, 0, 1, (uint8_t)i },
			.rqueue = s->rqueue,
			.uid = s->uid,
			.inode = s->inode,
			.cookie = s->cookie,
		};

		if (!s->live)
			continue;
		feed(run, &rec, true);
		if (s->twice)
			feed(run, &rec, false);
	}
}

/* Orphans with cookies never seen before or again. */
static void feed_burst(struct run *run, size_t count, uint8_t state)
{
	struct tcps_record rec = { .family = AF_INET, .state = state };

	run->read.burst = count;
	run->read.burst_state = state;
	for (size_t i = 0; i < count; i++) {
		rec.cookie = BURST_COOKIE + run->bursts++;
		tcps_leaks_observe(run->leaks, &rec);
	}
}

/* One read: the dump of the world (and a burst), then the leak finder's
 * end of interval under the oracle's eyes; or a failed dump. */
static void do_read(struct run *run, uint64_t later_ms, size_t burst,
		    uint8_t burst_state, bool fails)
{
	const struct tcps_sink sink = oracle_sink(&run->oracle);
	int ret;

	run->read.now_ms += later_ms;
	run->read.recs_num = 0;
	run->read.burst = 0;
	oracle_begin(&run->oracle, run->read.now_ms);
	tcps_leaks_begin(run->leaks);
	feed_world(run);
	feed_burst(run, burst, burst_state);
	if (fails) {
		tcps_leaks_abort(run->leaks);
		oracle_aborted(&run->oracle);
		return;
	}
	fake_clock = true;
	ret = tcps_leaks_end(run->leaks, run->read.now_ms, &sink);
	fake_clock = false;
	oracle_check(&run->oracle, &world, &run->read,
		     tcps_leaks_stats(run->leaks), ret);
	fuzz_reads_count();
}

static void world_op(uint8_t op, unsigned a, unsigned b, unsigned c)
{
	switch (op) {
	case 6:
		world_spawn(&world, a, b, c);
		break;
	case 7:
		world_fork(&world, a, b);
		break;
	case 8:
		world_exit(&world, a, b & 1);
		break;
	case 9:
		world_rename(&world, a, b);
		break;
	case 10:
		world_set_uid(&world, a, b);
		break;
	case 11:
		world_files(&world, a, b);
		break;
	case 12:
	case 23:
		world_socket(&world, a, b & 63, c & 15, state_of(c >> 4),
			     b >> 6);
		break;
	case 13:
		world_set_state(&world, a, state_of(b));
		break;
	case 14:
		world_hand_on(&world, a, b, c & 1);
		break;
	case 15:
		world_close_fd(&world, a, b, c & 1);
		break;
	case 16:
		world_drop(&world, a, b & 1);
		break;
	case 17:
		world_toggle_twice(&world, a);
		break;
	case 18:
		world_toggle_hidden(&world, a, b & 1);
		break;
	case 19:
		world_swap(&world, a, b);
		break;
	case 20:
		world_other_fd(&world, a, b, c & 1);
		break;
	}
}

static size_t burst_size(struct run *run, uint8_t size_pick, bool big)
{
	if (big && run->big_bursts < BIG_BURSTS) {
		run->big_bursts++;
		return BIG_BURST + 16 * (size_t)size_pick;
	}
	if (!big && run->small_bursts < SMALL_BURSTS) {
		run->small_bursts++;
		return SMALL_BURST + (size_t)size_pick;
	}
	return 0;
}

static void run_op(struct run *run, const uint8_t *op)
{
	uint8_t code = op[0] % 24;

	if (code <= 5)
		do_read(run, (uint64_t)op[1] * 1000, 0, 0, false);
	else if (code == 21)
		do_read(run, 1000, 0, 0, true);
	else if (code == 22)
		do_read(run, 1000, burst_size(run, op[1], op[3] & 1),
			state_of(op[2]), false);
	else
		world_op(code, op[1], op[2], op[3]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcps_leaks_config cfg;
	static struct run run;

	if (size < HEADER)
		return 0;
	configure(data, &cfg);
	memset(&run, 0, sizeof(run));
	run.read.now_ms = 1000000;
	if (tcps_leaks_new(&cfg, &run.leaks) != 0)
		abort();
	oracle_start(&run.oracle, &cfg);
	world_reset(&world);
	for (size_t at = HEADER; at + OP_SIZE <= size; at += OP_SIZE)
		run_op(&run, data + at);
	/* A last read: what the script changed after its last read is
	 * checked too. */
	do_read(&run, 1000, 0, 0, false);
	tcps_leaks_free(run.leaks);
	return 0;
}

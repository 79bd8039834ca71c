/*
 * libFuzzer target: the real glue (plugin/collectd_glue.c) under the
 * collectd stub over many reads. The daemon's own namespace and up to
 * three configured <Namespace> blocks each read a scripted netlink
 * socket; between reads namespaces vanish, come back, are replaced or
 * cannot be entered, the entering thread fails to switch back, dumps fail in
 * scripted ways (recv errors, a failed first attempt, an error inside
 * NLMSG_DONE, an interrupted dump, sockets that cannot be opened, a
 * malformed message), the sysctls cannot be read, and the clock moves.
 * tcps_ctx_new, tcps_netns_enter/leave and tcps_sysctls_read are wrapped
 * at link time; everything else is the real code. After every read
 * (abort() on a violation):
 *  - the callback returns non-zero only when nothing at all was
 *    collected, and returns 0 for a namespace that is gone; a read that
 *    worked dispatches the true counts under the namespace's name;
 *  - per failing streak (a dump failing, a namespace gone), the first
 *    read logs its line and later ones no more often than collectd's
 *    complaint rule allows (quiet time doubling from the interval, at
 *    most a day); the end of a streak is said once; no other ERROR line;
 *  - a namespace that comes back, or is replaced, is read again on a
 *    fresh socket; a namespace is entered only to make a socket, so one
 *    that refuses setns later is still read on the socket it has; it is
 *    entered on a thread of its own, never the read thread, so a failed
 *    switch back changes nothing the read sees;
 *  - each context holds at most one socket; after the input every socket
 *    is closed, and LeakSanitizer sees no memory left.
 *
 * Input: byte 0: namespaces (b % 4) and whether the sysctls can be read
 * (bit 2); then operations, one byte each (op % 12) and their arguments;
 * missing bytes read as 0. See do_op().
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "../glue/collectd_stub.h"
#include "../unit/nlbuild.h"
#include "reads.h"
#include "script.h"
#include "tcpstates/collect.h"
#include "tcpstates/netns.h"
#include "tcpstates/sysctls.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_NAMESPACES 3
#define INSTANCES (1 + MAX_NAMESPACES)
#define FAKE_FD_BASE 100000 /* "saved namespace" fds the wraps hand out */
#define DAY 86400.0

/* What a dump does, until the script says otherwise. */
enum dump_mode {
	DUMP_HEALTHY,
	DUMP_FIRST_FAILS, /* recv fails on the first attempt, the retry works */
	DUMP_INTERRUPTED, /* NLM_F_DUMP_INTR on the first attempt */
	DUMP_MALFORMED,	  /* a short message among the records: skipped */
	DUMP_RECV_FAILS,  /* every recv fails */
	DUMP_DONE_ERROR,  /* the kernel's error inside NLMSG_DONE */
	DUMP_SEND_FAILS,
	DUMP_OPEN_FAILS, /* no new socket, and the old one fails */
	DUMP_MODES,
};

static bool dump_works(enum dump_mode mode)
{
	return mode <= DUMP_MALFORMED;
}

/* A failing streak of one kind of log line. */
struct streak {
	bool active;
	double start; /* seconds */
	int lines;
};

/* One read callback's world: its namespace file, its socket, and what
 * the harness expects of it. */
struct instance {
	char path[256]; /* "" for the daemon's own namespace */
	bool exists, enter_fails, leave_fails_once;
	enum dump_mode mode;
	int recv_error;
	int established, listening;
	/* The socket. */
	int opens, open_socks, attempt;
	uint32_t seq;
	bool replied;
	struct nlbuf reply;
	struct tcps_diag_config diag;
	/* Expectations across reads. */
	bool must_reopen; /* gone or replaced since the last socket */
	struct streak dump_failed, gone;
	double first_sysctls, first_malformed, first_retried;
	int sysctls_lines, malformed_lines, retried_lines;
};

static char dir[200];
static struct instance inst[INSTANCES];
static int namespaces_num;
static bool sysctls_readable;
static bool debug;
static pthread_t reader; /* the thread that runs the reads */
static uint64_t input_reads, input_failed, input_gone, input_lines;

/* ---- the wraps (-Wl,--wrap) ---- */

int __real_tcps_ctx_new(const struct tcps_options *opts, struct tcps_ctx **ret);
int __wrap_tcps_ctx_new(const struct tcps_options *opts, struct tcps_ctx **ret);
int __wrap_tcps_netns_enter(const struct tcps_netns *ns, int *ret_saved);
int __wrap_tcps_netns_leave(int saved);
int __wrap_tcps_sysctls_read(const char *proc_root, struct tcps_sysctls *ret);
int __wrap_tcps_sysctls_read_at(int dir_fd, struct tcps_sysctls *ret);

static struct instance *instance_of(const char *netns_path)
{
	if (!netns_path)
		return &inst[0];
	for (int i = 1; i <= namespaces_num; i++)
		if (strcmp(inst[i].path, netns_path) == 0)
			return &inst[i];
	abort();
}

/* Each context reads its instance's scripted socket. */
int __wrap_tcps_ctx_new(const struct tcps_options *opts, struct tcps_ctx **ret)
{
	struct instance *in = instance_of(opts->netns_path);

	return tcps_ctx_new_source(opts, &tcps_kernel_source, &in->diag, ret);
}

/* The namespace is not really entered, and the fd handed out is never
 * opened; but it is asked for on a thread of its own, never the read's. */
int __wrap_tcps_netns_enter(const struct tcps_netns *ns, int *ret_saved)
{
	struct instance *in = instance_of(ns->path);

	CHECK(ns->fd >= 0);
	CHECK(!pthread_equal(pthread_self(), reader));
	if (in->enter_fails)
		return -EPERM;
	*ret_saved = FAKE_FD_BASE + (int)(in - inst);
	return 0;
}

int __wrap_tcps_netns_leave(int saved)
{
	struct instance *in;

	CHECK(saved > FAKE_FD_BASE && saved < FAKE_FD_BASE + INSTANCES);
	in = &inst[saved - FAKE_FD_BASE];
	if (in->leave_fails_once) {
		in->leave_fails_once = false;
		return -EPERM;
	}
	return 0;
}

int __wrap_tcps_sysctls_read(const char *proc_root, struct tcps_sysctls *ret)
{
	(void)proc_root;
	if (!sysctls_readable)
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	ret->port_low = 32768;
	ret->port_high = 60999;
	ret->ephemeral_ports = 28232;
	ret->tw_reuse = 2;
	ret->max_tw_buckets = 262144;
	ret->fin_timeout = 60;
	return 0;
}

/* Another namespace's, through the folder opened when it was entered. */
int __wrap_tcps_sysctls_read_at(int dir_fd, struct tcps_sysctls *ret)
{
	CHECK(dir_fd >= 0);
	return __wrap_tcps_sysctls_read(NULL, ret);
}

/* ---- the scripted socket ---- */

static int sock_open(void *arg, void **ret_sock, uint32_t *ret_portid)
{
	struct instance *in = arg;

	in->opens++;
	if (in->mode == DUMP_OPEN_FAILS)
		return -EMFILE;
	in->open_socks++;
	CHECK(in->open_socks == 1);
	in->must_reopen = false;
	*ret_sock = in;
	*ret_portid = NLB_PORTID;
	return 0;
}

static void sock_close(void *sock)
{
	struct instance *in = sock;

	CHECK(in->open_socks == 1);
	in->open_socks--;
}

static int sock_send(void *sock, const void *buf, size_t len)
{
	struct instance *in = sock;
	const struct nlmsghdr *nlh = buf;

	CHECK(len >= sizeof(*nlh) && nlh->nlmsg_len == len);
	/* A socket that outlived its namespace must not be asked. */
	CHECK(!in->must_reopen);
	in->attempt++;
	in->replied = false;
	in->seq = nlh->nlmsg_seq;
	return in->mode == DUMP_SEND_FAILS ? -EIO : 0;
}

/* This read's dump: the scripted sockets, then NLMSG_DONE. */
static void build_reply(struct instance *in, bool interrupted)
{
	struct nlbuf *b = &in->reply;
	struct nlb_sock est = { .family = AF_INET, .state = 1, .dport = 80 };
	struct nlb_sock lis = { .family = AF_INET6,
				.state = 10,
				.wqueue = 128 };

	b->len = 0;
	for (int i = 0; i < in->established; i++) {
		est.sport = (uint16_t)(40000 + i);
		est.cookie = (uint64_t)i + 1;
		nlb_put_sock(b, &est);
	}
	for (int i = 0; i < in->listening; i++) {
		lis.sport = (uint16_t)(1000 + i);
		lis.cookie = (uint64_t)i + 1000;
		nlb_put_sock(b, &lis);
	}
	if (in->mode == DUMP_MALFORMED)
		nlb_put(b, SOCK_DIAG_BY_FAMILY, 0, "bad", 3);
	nlb_put_done(b, in->mode == DUMP_DONE_ERROR ? -EPERM : 0);
	if (interrupted)
		((struct nlmsghdr *)b->bytes)->nlmsg_flags |= NLM_F_DUMP_INTR;
	for (size_t off = 0; off < b->len;) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(b->bytes + off);

		nlh->nlmsg_seq = in->seq;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
}

static ssize_t sock_recv(void *sock, void *buf, size_t len)
{
	struct instance *in = sock;

	switch (in->mode) {
	case DUMP_RECV_FAILS:
	case DUMP_OPEN_FAILS:
		return in->recv_error;
	case DUMP_FIRST_FAILS:
		if (in->attempt == 1)
			return in->recv_error;
		break;
	default:
		break;
	}
	/* The whole dump fits one recv; asking again is a bug. */
	CHECK(!in->replied);
	in->replied = true;
	build_reply(in, in->mode == DUMP_INTERRUPTED && in->attempt == 1);
	CHECK(in->reply.len <= len);
	memcpy(buf, in->reply.bytes, in->reply.len);
	return (ssize_t)in->reply.len;
}

static const struct tcps_diag_io sock_io = {
	.open = sock_open,
	.close = sock_close,
	.send = sock_send,
	.recv = sock_recv,
};

/* ---- namespace files ---- */

static void make_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CHECK(fd >= 0);
	close(fd);
}

static void ns_set(struct instance *in, bool exists)
{
	if (exists && !in->exists)
		make_file(in->path);
	else if (!exists && in->exists)
		CHECK(unlink(in->path) == 0);
	if (in->exists != exists)
		in->must_reopen = true;
	in->exists = exists;
}

/* Another namespace under the same path: a new inode. */
static void ns_replace(struct instance *in)
{
	char tmp[300];

	snprintf(tmp, sizeof(tmp), "%s.new", in->path);
	make_file(tmp);
	CHECK(rename(tmp, in->path) == 0);
	in->exists = true;
	in->must_reopen = true;
}

/* ---- checks ---- */

static double now_s(void)
{
	return CDTIME_T_TO_DOUBLE(stub.now);
}

/* collectd's complaint rule: at most one line at once, then after the
 * interval, then after quiet times doubling up to a day. */
static void check_rate(double first, int lines)
{
	double elapsed = now_s() - first;
	double interval = CDTIME_T_TO_DOUBLE(stub.interval);
	double allowed =
		1 + floor(log2(1 + elapsed / interval)) + floor(elapsed / DAY);

	if (lines > allowed) {
		fprintf(stderr, "%d lines in %.0f s (at most %.0f)\n", lines,
			elapsed, allowed);
		abort();
	}
}

/* A read in a streak (or not): the first one logs, the rest obey the
 * rule; the read that ends it logs the release once. */
static void streak_step(struct streak *st, bool failing, int lines,
			int released)
{
	if (!failing) {
		CHECK(released == (st->active ? 1 : 0));
		CHECK(lines == 0);
		st->active = false;
		return;
	}
	CHECK(released == 0);
	if (!st->active) {
		st->active = true;
		st->start = now_s();
		st->lines = 0;
		CHECK(lines == 1);
	}
	st->lines += lines;
	check_rate(st->start, st->lines);
}

/* A complaint that is never released: bounded from its first line. */
static void steady_step(double *first, int *total, int lines)
{
	if (lines > 0 && *total == 0)
		*first = now_s();
	*total += lines;
	if (*total > 0)
		check_rate(*first, *total);
}

static int lines_with(int level, const char *text)
{
	return stub_logs_matching(level, text);
}

static void check_logs(struct instance *in, bool gone, bool dumped,
		       bool retried)
{
	int errors = lines_with(LOG_ERR, "");
	int failed = lines_with(LOG_ERR, "failed twice");

	CHECK(stub.logs_num == stub.logs_seen); /* none lost to the stub */
	/* A failed switch back ends with the thread that entered: no
	 * error of its own. */
	CHECK(errors == failed);
	if (in->path[0])
		streak_step(&in->gone, gone,
			    lines_with(LOG_WARNING, "is gone or unusable"),
			    lines_with(LOG_NOTICE, "is back"));
	if (!gone)
		streak_step(&in->dump_failed, !dumped, failed,
			    lines_with(LOG_NOTICE, "works again"));
	else
		CHECK(failed == 0 &&
		      lines_with(LOG_NOTICE, "works again") == 0);
	CHECK(retried || lines_with(LOG_NOTICE, "the retry succeeded") == 0);
	steady_step(&in->first_retried, &in->retried_lines,
		    lines_with(LOG_NOTICE, "the retry succeeded"));
	steady_step(&in->first_sysctls, &in->sysctls_lines,
		    lines_with(LOG_WARNING, "cannot read the port sysctls"));
	steady_step(&in->first_malformed, &in->malformed_lines,
		    lines_with(LOG_WARNING, "malformed"));
	input_lines += (uint64_t)stub.logs_num;
}

/* Every value under the namespace's name ("host" for the daemon's own),
 * the true counts each once, in one pass (a read sends 19 to 30 values). */
static void check_values(const struct instance *in, const char *netns,
			 bool dumped)
{
	int established = 0, listening = 0, close_wait = 0;

	if (!dumped) {
		CHECK(stub.values_num == 0);
		return;
	}
	for (int i = 0; i < stub.values_num; i++) {
		const struct stub_value *v = &stub.values[i];

		CHECK(strcmp(v->plugin_instance, netns) == 0);
		if (strcmp(v->plugin, "tcpstates") != 0 ||
		    strcmp(v->type, "tcp_connections") != 0)
			continue;
		if (strcmp(v->type_instance, "ESTABLISHED") == 0) {
			CHECK(v->value == in->established);
			established++;
		} else if (strcmp(v->type_instance, "LISTEN") == 0) {
			CHECK(v->value == in->listening);
			listening++;
		} else if (strcmp(v->type_instance, "CLOSE_WAIT") == 0) {
			CHECK(v->value == 0);
			close_wait++;
		}
	}
	CHECK(established == 1 && listening == 1 && close_wait == 1);
}

/* ---- reads ---- */

static void read_instance(int i)
{
	struct instance *in = &inst[i];
	/* A namespace is entered only to make a socket: when it has none,
	 * must be read on a new one, or its first attempt fails and the
	 * retry takes a fresh one. Else a read needs no setns, and one that
	 * could not be entered now is read all the same. */
	bool first_ok = in->mode == DUMP_HEALTHY || in->mode == DUMP_MALFORMED;
	bool enters = in->path[0] && in->exists &&
		      (in->open_socks == 0 || in->must_reopen || !first_ok);
	bool gone = in->path[0] && (!in->exists || (in->enter_fails && enters));
	bool dumped = !gone && dump_works(in->mode);
	bool reopen = !gone && in->must_reopen;
	int opens = in->opens, ret;

	stub.values_num = 0;
	stub.logs_num = stub.logs_seen = 0;
	in->attempt = 0;
	ret = stub.reads[i].callback(&stub.reads[i].data);
	if (debug)
		fprintf(stderr, "read %d: ret %d, %d values, gone %d\n", i, ret,
			stub.values_num, gone);
	/* Non-zero only when nothing was collected; 0 for a gone one. */
	CHECK(ret == 0 || ret == -1);
	CHECK(ret == 0 ? dumped || gone : !dumped && !gone);
	check_values(in, in->path[0] ? stub.reads[i].name + 10 : "host",
		     dumped);
	check_logs(in, gone, dumped,
		   in->mode == DUMP_FIRST_FAILS ||
			   in->mode == DUMP_INTERRUPTED);
	/* Back or replaced: read on a socket of its own. */
	if (reopen && dumped)
		CHECK(in->opens > opens);
	CHECK(in->open_socks <= 1);
	input_reads++;
	input_failed += !dumped && !gone;
	input_gone += gone;
	fuzz_reads_count();
}

/* ---- the script ---- */

static struct instance *pick_namespace(struct reader *r)
{
	uint8_t b = take(r);

	if (namespaces_num == 0)
		return NULL;
	return &inst[1 + b % namespaces_num];
}

static void tick(uint8_t b)
{
	static const int seconds[] = { 0,  1,  2,   5,	 10, 10, 10,   20,
				       30, 60, 120, 600, 3,  7,	 3600, 86400 };

	stub.now += TIME_T_TO_CDTIME_T(seconds[b % ARRAY_SIZE(seconds)]);
}

static void set_dump(struct reader *r)
{
	static const int errors[] = { -ENOBUFS, -EIO, -EAGAIN, -ETIMEDOUT };
	struct instance *in = &inst[take(r) % (1 + namespaces_num)];
	uint8_t b = take(r);

	in->mode = (enum dump_mode)(b % DUMP_MODES);
	in->recv_error = errors[(b >> 4) % ARRAY_SIZE(errors)];
}

static void do_op(struct reader *r)
{
	uint8_t op = take(r);
	struct instance *in;

	switch (op % 12) {
	case 1: /* one read callback, as collectd runs each on its own */
		read_instance(take(r) % stub.reads_num);
		break;
	case 2:
		tick(take(r));
		break;
	case 3: /* a namespace is deleted */
		if ((in = pick_namespace(r)))
			ns_set(in, false);
		break;
	case 4: /* and comes back */
		if ((in = pick_namespace(r)))
			ns_set(in, true);
		break;
	case 5:
		if ((in = pick_namespace(r)))
			ns_replace(in);
		break;
	case 6: /* setns refused, or fine again */
		if ((in = pick_namespace(r)))
			in->enter_fails = !in->enter_fails;
		break;
	case 7: /* the entering thread cannot switch back, next time */
		if ((in = pick_namespace(r)))
			in->leave_fails_once = true;
		break;
	case 8:
		set_dump(r);
		break;
	case 9:
		in = &inst[take(r) % (1 + namespaces_num)];
		in->established = take(r) % 64;
		in->listening = take(r) % 16;
		break;
	case 10:
		sysctls_readable = !sysctls_readable;
		break;
	default: /* every read callback once, in order */
		for (int i = 0; i < stub.reads_num; i++)
			read_instance(i);
	}
}

/* ---- an input: config, init, reads, shutdown ---- */

static oconfig_value_t string_value(char *s)
{
	return (oconfig_value_t){ .type = OCONFIG_TYPE_STRING,
				  .value.string = s };
}

static void configure(void)
{
	static char names[MAX_NAMESPACES][8];
	oconfig_value_t states = string_value("none");
	oconfig_value_t name_values[MAX_NAMESPACES],
		path_values[MAX_NAMESPACES];
	oconfig_item_t paths[MAX_NAMESPACES];
	oconfig_item_t children[1 + MAX_NAMESPACES] = {
		{ .key = "ProcessStates", .values = &states, .values_num = 1 },
	};
	oconfig_value_t plugin = string_value("tcpstates");
	oconfig_item_t root = { .key = "Plugin",
				.values = &plugin,
				.values_num = 1,
				.children = children,
				.children_num = 1 + namespaces_num };

	for (int i = 0; i < namespaces_num; i++) {
		snprintf(names[i], sizeof(names[i]), "ns%d", i + 1);
		name_values[i] = string_value(names[i]);
		path_values[i] = string_value(inst[i + 1].path);
		paths[i] = (oconfig_item_t){ .key = "Path",
					     .values = &path_values[i],
					     .values_num = 1 };
		children[1 + i] = (oconfig_item_t){ .key = "Namespace",
						    .values = &name_values[i],
						    .values_num = 1,
						    .children = &paths[i],
						    .children_num = 1 };
	}
	CHECK(stub.config(&root) == 0);
}

static void start(uint8_t config)
{
	namespaces_num = config % (MAX_NAMESPACES + 1);
	sysctls_readable = config & 4;
	for (int i = 0; i < INSTANCES; i++) {
		struct instance *in = &inst[i];
		bool existed = in->exists;

		memset(in, 0, offsetof(struct instance, reply));
		memset(&in->diag, 0,
		       sizeof(*in) - offsetof(struct instance, diag));
		in->exists = existed;
		in->established = 3;
		in->listening = 2;
		in->recv_error = -ENOBUFS;
		in->diag = (struct tcps_diag_config){ .io = &sock_io,
						      .io_arg = in };
		if (i > 0)
			snprintf(in->path, sizeof(in->path), "%s/ns%d", dir, i);
		if (i > 0 && i <= namespaces_num)
			ns_replace(in);
		in->must_reopen = false;
	}
	stub_reset();
	module_register();
	configure();
	CHECK(stub.init() == 0);
	CHECK(stub.reads_num == 1 + namespaces_num);
}

static void finish(void)
{
	for (int i = 0; i < stub.reads_num; i++)
		stub.reads[i].data.free_func(stub.reads[i].data.data);
	CHECK(stub.shutdown() == 0);
	for (int i = 0; i < INSTANCES; i++)
		CHECK(inst[i].open_socks == 0);
}

static void remove_dir(void)
{
	for (int i = 1; i < INSTANCES; i++)
		unlink(inst[i].path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/tcps-fuzz-glue-XXXXXX",
		 tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	for (int i = 1; i < INSTANCES; i++)
		snprintf(inst[i].path, sizeof(inst[i].path), "%s/ns%d", dir, i);
	atexit(remove_dir);
	fuzz_reads_start();
	debug = getenv("TCPS_FUZZ_DEBUG") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { .p = data, .left = size };

	input_reads = input_failed = input_gone = input_lines = 0;
	reader = pthread_self();
	start(take(&r));
	while (r.left > 0)
		do_op(&r);
	for (int i = 0; i < stub.reads_num; i++)
		read_instance(i);
	if (debug)
		fprintf(stderr,
			"%d namespaces, %llu reads (%llu failed, %llu gone), "
			"%llu log lines\n",
			namespaces_num, (unsigned long long)input_reads,
			(unsigned long long)input_failed,
			(unsigned long long)input_gone,
			(unsigned long long)input_lines);
	finish();
	return 0;
}

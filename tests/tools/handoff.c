/*
 * Test helper (tests/test-handoff.sh, tests/soak.sh): CLOSE_WAIT sockets
 * on loopback that move from process to process while the leak finder
 * watches. Each socket is held by a process of its own; every --period
 * ms all of them are handed on, in one of three ways (--mode):
 *   exit  the holder forks a child that keeps the socket, and exits;
 *   live  the holder forks a child that keeps the socket, closes its own
 *         copy and lives on, idle (a pre-forking server);
 *   pass  the holder sends the socket over a unix socket (SCM_RIGHTS) to
 *         a new process, not its child, named pass-g<generation>, closes
 *         its copy and lives on, idle (nginx or php-fpm masters handing
 *         connections to workers).
 * exit and live holders are all named hand-exit / hand-live. A socket is
 * always in some process's fd table: the new holder has it before the
 * old one lets go. An idle process is ended (by pid) --keep rounds after
 * it gave its socket away.
 *
 * This process makes the sockets, starts the first holders, triggers
 * every round, hears from every process over a pipe, reaps them all (it
 * is their subreaper) and writes, in --dir:
 *   rounds  "ready EPOCH COMM", then for each round "start R EPOCH COMM"
 *           (COMM: the name of the new holders) and "end R EPOCH" (every
 *           socket is with its new holder, every old one let go);
 *   state   rewritten after each change: "round R", "phase ready|running|
 *           paused", "holder COMM COUNT", "idle COUNT".
 * It prints READY once every socket is in CLOSE_WAIT with its holder. No
 * round starts while the --pause file exists. Bounded: every wait gives
 * up after WAIT_MS; after --duration seconds, on SIGTERM or SIGINT, it
 * ends every process it started (by pid) and exits. Holders and idle
 * processes exit by themselves once this process is gone.
 */
#define _GNU_SOURCE /* accept4, close_range, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "sockets.h"

/* Every single wait (connect, accept, a state, a round) gives up here. */
#define WAIT_MS 5000
/* How long the processes get to go after SIGTERM before SIGKILL. */
#define END_GRACE_MS 5000
/* Holders and idle processes outlive --duration by this much at most:
 * the orchestrator ends them first, this is in case it cannot. */
#define HOLDER_SLACK_MS 20000
#define MAX_SOCKETS 2000L
#define NAME_SIZE 16 /* the kernel keeps 15 bytes of a process name */

enum mode { MODE_EXIT, MODE_LIVE, MODE_PASS, MODE_COUNT };

static const char *const mode_names[MODE_COUNT] = {
	[MODE_EXIT] = "exit",
	[MODE_LIVE] = "live",
	[MODE_PASS] = "pass",
};

struct options {
	enum mode mode;
	long sockets, period_ms, keep, duration_s, v6_every;
	const char *dir, *pause_file;
};

enum event_kind { EV_GOT = 1, EV_GAVE = 2 };

/* One line of news from a holder; 16 bytes, so a pipe write is atomic. */
struct event {
	int32_t kind, slot, gen, pid;
};

/* A holder's world; a forked child inherits it. */
struct holder {
	enum mode mode;
	int tcp;    /* the CLOSE_WAIT socket */
	int ctrl;   /* the orchestrator's triggers; EOF: stop */
	int events; /* write end of the event pipe; error: orchestrator gone */
	int slot, gen;
	long long deadline_ms; /* CLOCK_MONOTONIC: gone by then whatever */
};

/* A process the orchestrator started or heard of. */
struct proc {
	pid_t pid;
	int slot;
	int gave_round; /* -1: holds its socket */
	bool reaped, killed;
};

struct slot {
	int ctrl; /* our end of the holder's control socket */
	pid_t holder;
};

struct run {
	struct options opt;
	struct slot *slots;
	struct proc *procs;
	size_t procs_num, procs_cap;
	int events_rd, events_wr, rounds_fd;
	int round;
	bool in_round;
	long got, gave; /* in the round under way */
	long long deadline_ms;
	unsigned char pending[sizeof(struct event)];
	size_t pending_len;
};

static struct run run;
static volatile sig_atomic_t stop_sig;

/* Wall-clock seconds with milliseconds, as collectd's csv plugin writes. */
static void epoch_text(char *out, size_t size)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(out, size, "%lld.%03ld", (long long)ts.tv_sec,
		 ts.tv_nsec / 1000000);
}

static void end_all(void);
static void check_holders(void);

__attribute__((format(printf, 1, 2), noreturn)) static void
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("handoff: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	end_all();
	exit(1);
}

/* In a holder: says why and goes; its socket closes with it. */
__attribute__((format(printf, 2, 3), noreturn)) static void
holder_fail(const struct holder *h, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "handoff: socket %d, generation %d, pid %d: ", h->slot,
		h->gen, (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(1);
}

static void comm_of(enum mode mode, int gen, char *out)
{
	if (mode == MODE_PASS)
		/* At most 360,000 rounds (--duration / --period): the
		 * modulo only tells the compiler the name fits. */
		snprintf(out, NAME_SIZE, "pass-g%u",
			 (unsigned int)gen % 1000000u);
	else
		snprintf(out, NAME_SIZE, "hand-%s", mode_names[mode]);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* A child keeps stdio and the n fds in keep (sorted here), nothing else:
 * no copy of another holder's socket or of the pipe's read end. */
static void close_all_but(int *keep, size_t n)
{
	unsigned int from = 3;

	qsort(keep, n, sizeof(*keep), cmp_int);
	for (size_t i = 0; i < n; i++) {
		if ((unsigned int)keep[i] < from)
			continue;
		if ((unsigned int)keep[i] > from)
			close_range(from, (unsigned int)keep[i] - 1, 0);
		from = (unsigned int)keep[i] + 1;
	}
	close_range(from, ~0U, 0);
}

/* Children die of SIGTERM and run no sanitizer exit hooks (_exit). */
static void child_signals(void)
{
	sigset_t none;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void report(const struct holder *h, enum event_kind kind)
{
	struct event ev = { .kind = kind,
			    .slot = h->slot,
			    .gen = h->gen,
			    .pid = (int32_t)getpid() };

	if (write(h->events, &ev, sizeof(ev)) != (ssize_t)sizeof(ev))
		holder_fail(h, "event pipe: %s", strerror(errno));
}

/* Waits for the orchestrator's event pipe to break or the deadline:
 * what an idle process does until it is ended. */
__attribute__((noreturn)) static void idle_loop(const struct holder *h)
{
	struct pollfd p = { .fd = h->events, .events = 0 };

	for (;;) {
		long long left = h->deadline_ms - sk_now_ms();

		if (left <= 0)
			_exit(0);
		if (poll(&p, 1, left > 1000 ? 1000 : (int)left) > 0)
			_exit(0); /* POLLERR: nobody reads the pipe */
	}
}

/* One message from ctrl: its byte, and the fd it carries (or -1). */
static ssize_t recv_with_fd(int sock, char *byte, int *ret_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);

	*ret_fd = -1;
	c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
	return n;
}

static int send_with_fd(int sock, char byte, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	memset(control.buf, 0, sizeof(control.buf));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

/* Waits for a trigger. Returns its byte (and *ret_fd), or 0 to stop: the
 * orchestrator closed ctrl or went away, or the deadline passed. */
static char wait_trigger(const struct holder *h, int *ret_fd)
{
	struct pollfd p[2] = { { .fd = h->ctrl, .events = POLLIN },
			       { .fd = h->events, .events = 0 } };
	char byte = 0;

	for (;;) {
		long long left = h->deadline_ms - sk_now_ms();
		ssize_t n;

		if (left <= 0)
			return 0;
		if (poll(p, 2, left > 1000 ? 1000 : (int)left) <= 0)
			continue;
		if (p[1].revents)
			return 0;
		n = recv_with_fd(h->ctrl, &byte, ret_fd);
		if (n == 1)
			return byte;
		if (n == 0 || errno != EINTR)
			return 0;
	}
}

/* exit and live: the child keeps the socket; the parent lets go. In the
 * child this returns, as the new holder. */
static void fork_on(struct holder *h)
{
	pid_t pid = fork();

	if (pid < 0)
		holder_fail(h, "fork: %s", strerror(errno));
	if (pid == 0) {
		h->gen++;
		report(h, EV_GOT);
		return;
	}
	close(h->tcp);
	close(h->ctrl);
	report(h, EV_GAVE);
	if (h->mode == MODE_EXIT)
		_exit(0);
	idle_loop(h);
}

static void wait_readable(const struct holder *h, int fd, const char *what)
{
	int err = sk_wait_fd(fd, POLLIN, WAIT_MS, NULL);

	if (err < 0)
		holder_fail(h, "%s: %s", what,
			    err == -ETIMEDOUT ? "nothing in time"
					      : strerror(-err));
}

/* pass: the socket goes to the receiver over chan; once the receiver
 * says it has it, this process lets go of it and idles. */
__attribute__((noreturn)) static void pass_on(struct holder *h, int chan)
{
	char ack = 0;
	int err;

	if (chan < 0)
		holder_fail(h, "pass: trigger without a channel");
	err = send_with_fd(chan, 'f', h->tcp);
	if (err < 0)
		holder_fail(h, "pass: sendmsg: %s", strerror(-err));
	wait_readable(h, chan, "pass: the receiver's answer");
	if (recv(chan, &ack, 1, 0) != 1 || ack != 'k')
		holder_fail(h, "pass: the receiver did not take the socket");
	close(h->tcp);
	close(chan);
	close(h->ctrl);
	report(h, EV_GAVE);
	idle_loop(h);
}

/* Holds the socket, handing it on at each trigger, until told to stop. */
__attribute__((noreturn)) static void holder_loop(struct holder *h)
{
	for (;;) {
		int fd = -1;
		char what = wait_trigger(h, &fd);

		if (what == 0)
			_exit(0);
		if (h->mode == MODE_PASS)
			pass_on(h, fd);
		if (fd >= 0)
			close(fd);
		fork_on(h);
	}
}

/* A pass receiver: named before it takes the socket, so no one sees it
 * holding one under the orchestrator's name. */
__attribute__((noreturn)) static void receiver_main(struct holder *h, int chan)
{
	char name[NAME_SIZE], byte = 0;

	comm_of(h->mode, h->gen, name);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	wait_readable(h, chan, "pass: the giver's socket");
	if (recv_with_fd(chan, &byte, &h->tcp) != 1 || h->tcp < 0)
		holder_fail(h, "pass: no socket received");
	if (send(chan, "k", 1, MSG_NOSIGNAL) != 1)
		holder_fail(h, "pass: answer: %s", strerror(errno));
	close(chan);
	report(h, EV_GOT);
	holder_loop(h);
}

/* ---- the orchestrator ---- */

static struct proc *proc_find(pid_t pid)
{
	for (size_t i = run.procs_num; i-- > 0;)
		if (run.procs[i].pid == pid)
			return &run.procs[i];
	return NULL;
}

/* The entry of pid, made if needed. fresh: pid was just forked, so an
 * entry left from a reaped process with that pid is reset. */
static struct proc *proc_add(pid_t pid, int slot, bool fresh)
{
	struct proc *p = proc_find(pid);

	if (p && !(fresh && p->reaped))
		return p;
	if (p) {
		*p = (struct proc){ .pid = pid,
				    .slot = slot,
				    .gave_round = -1 };
		return p;
	}
	if (run.procs_num == run.procs_cap) {
		size_t cap = run.procs_cap ? run.procs_cap * 2 : 256;
		struct proc *grown = realloc(run.procs, cap * sizeof(*grown));

		if (!grown)
			fail("out of memory");
		run.procs = grown;
		run.procs_cap = cap;
	}
	p = &run.procs[run.procs_num++];
	*p = (struct proc){ .pid = pid, .slot = slot, .gave_round = -1 };
	return p;
}

/* Forgets the processes reaped: their pids may be anybody's now. */
static void procs_compact(void)
{
	size_t kept = 0;

	for (size_t i = 0; i < run.procs_num; i++)
		if (!run.procs[i].reaped)
			run.procs[kept++] = run.procs[i];
	run.procs_num = kept;
}

/* Reaps every child that ended. Between rounds no holder may end. Only
 * this process waits: a pid it knows stays that process (or its zombie)
 * until reaped here, so killing a known, unreaped pid is safe. */
static void reap(bool checked)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct proc *p = proc_add(pid, -1, false);

		p->reaped = true;
		if (checked && !run.in_round && p->slot >= 0 &&
		    run.slots[p->slot].holder == pid)
			fail("the holder of socket %d (pid %d) ended, status "
			     "0x%x",
			     p->slot, (int)pid, status);
	}
}

static void on_event(const struct event *ev)
{
	struct slot *s;
	struct proc *p;

	if (ev->slot < 0 || ev->slot >= run.opt.sockets)
		fail("event for socket %d", (int)ev->slot);
	s = &run.slots[ev->slot];
	if (ev->kind == EV_GOT && ev->gen == run.round) {
		p = proc_add(ev->pid, ev->slot, false);
		p->slot = ev->slot;
		s->holder = ev->pid;
		run.got++;
	} else if (ev->kind == EV_GAVE && ev->gen == run.round - 1) {
		p = proc_add(ev->pid, ev->slot, false);
		p->gave_round = run.round;
		run.gave++;
	} else {
		fail("unexpected event %d for socket %d, generation %d, in "
		     "round %d",
		     (int)ev->kind, (int)ev->slot, (int)ev->gen, run.round);
	}
}

static void drain_events(void)
{
	unsigned char buf[64 * sizeof(struct event)];
	struct event ev;
	ssize_t n;

	memcpy(buf, run.pending, run.pending_len);
	while ((n = read(run.events_rd, buf + run.pending_len,
			 sizeof(buf) - run.pending_len)) > 0) {
		size_t have = run.pending_len + (size_t)n, used = 0;

		for (; have - used >= sizeof(ev); used += sizeof(ev)) {
			memcpy(&ev, buf + used, sizeof(ev));
			on_event(&ev);
		}
		run.pending_len = have - used;
		memmove(buf, buf + used, run.pending_len);
	}
	memcpy(run.pending, buf, run.pending_len);
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		fail("event pipe: %s", strerror(errno));
}

/* Events until every socket has its new holder (and, after round 0,
 * every old holder let go); at most WAIT_MS. */
static void wait_round(void)
{
	long long deadline = sk_now_ms() + WAIT_MS;
	long want_gave = run.round > 0 ? run.opt.sockets : 0;
	struct pollfd p = { .fd = run.events_rd, .events = POLLIN };

	while (run.got < run.opt.sockets || run.gave < want_gave) {
		if (stop_sig) {
			end_all();
			exit(0);
		}
		if (sk_now_ms() > deadline)
			fail("round %d: %ld new holders, %ld let go, of %ld "
			     "after %d ms",
			     run.round, run.got, run.gave, run.opt.sockets,
			     WAIT_MS);
		poll(&p, 1, 10);
		drain_events();
		reap(true);
	}
}

static void write_state(const char *phase)
{
	char path[4096], tmp[4096], comm[NAME_SIZE];
	size_t idle = 0;
	FILE *f;

	for (size_t i = 0; i < run.procs_num && run.opt.mode != MODE_EXIT; i++)
		idle += run.procs[i].gave_round >= 0 && !run.procs[i].killed &&
			!run.procs[i].reaped;
	comm_of(run.opt.mode, run.round, comm);
	snprintf(path, sizeof(path), "%s/state", run.opt.dir);
	snprintf(tmp, sizeof(tmp), "%s/state.tmp", run.opt.dir);
	f = fopen(tmp, "we");
	if (!f)
		fail("%s: %s", tmp, strerror(errno));
	fprintf(f, "round %d\nphase %s\nholder %s %ld\nidle %zu\n", run.round,
		phase, comm, run.opt.sockets, idle);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		fail("%s: %s", path, strerror(errno));
}

/* ---- making the sockets ---- */

static void wait_state(int fd, int want)
{
	int err = sk_wait_state(fd, want, WAIT_MS, &stop_sig);

	if (err == -ETIMEDOUT || err == -EINTR)
		fail("socket in TCP state %d, not %d, after %d ms",
		     sk_tcp_state(fd), want, WAIT_MS);
	if (err < 0)
		fail("getsockopt TCP_INFO: %s", strerror(-err));
}

/* A listener on 127.0.0.1 or ::1, any port; its address in *ret_addr. */
static int listen_on(enum fam f, struct sk_addr *ret_addr)
{
	int fd, err;

	sk_addr_set(f, INADDR_LOOPBACK, 0, ret_addr);
	fd = sk_listener(ret_addr, 0, false, (int)run.opt.sockets, 0);
	err = fd < 0 ? fd : sk_addr_local(fd, ret_addr);
	if (err < 0)
		fail("listener on %s: %s", f == F6 ? "::1" : "127.0.0.1",
		     strerror(-err));
	return fd;
}

/* One CLOSE_WAIT socket: accepted, and its client closed. */
static int close_wait_socket(int listener, const struct sk_addr *addr)
{
	int c = sk_socket(sk_addr_fam(addr), 0);
	int err = c < 0 ? c : sk_connect(c, addr, WAIT_MS);
	int s;

	if (err < 0)
		fail("connect: %s", strerror(-err));
	s = sk_accept(listener, 0, WAIT_MS, &stop_sig);
	if (s == -ETIMEDOUT)
		fail("accept: nothing in %d ms", WAIT_MS);
	if (s < 0)
		fail("accept: %s", strerror(-s));
	/* The orphaned client drifts through FIN_WAIT2 on its own. */
	close(c);
	wait_state(s, TCP_CLOSE_WAIT);
	return s;
}

/* The first holder of socket slot; this process keeps no copy. */
static void start_holder(int slot, int tcp)
{
	int ctrl[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctrl) < 0)
		fail("socketpair: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		struct holder h = { .mode = run.opt.mode,
				    .tcp = tcp,
				    .ctrl = ctrl[1],
				    .events = run.events_wr,
				    .slot = slot,
				    .deadline_ms =
					    run.deadline_ms + HOLDER_SLACK_MS };
		int keep[] = { tcp, ctrl[1], run.events_wr };
		char name[NAME_SIZE];

		close_all_but(keep, sizeof(keep) / sizeof(keep[0]));
		child_signals();
		comm_of(h.mode, 0, name);
		prctl(PR_SET_NAME, name, 0, 0, 0);
		report(&h, EV_GOT);
		holder_loop(&h);
	}
	close(ctrl[1]);
	close(tcp);
	run.slots[slot].ctrl = ctrl[0];
	proc_add(pid, slot, true);
}

/* --v6-every K: the K-th, 2K-th, ... socket goes to ::1. */
static enum fam fam_of(long i)
{
	long k = run.opt.v6_every;

	return k > 0 && i % k == k - 1 ? F6 : F4;
}

static void make_sockets(void)
{
	struct sk_addr addr[NFAM];
	int listener[NFAM] = { -1, -1 };

	for (long i = 0; i < run.opt.sockets; i++) {
		enum fam f = fam_of(i);

		if (listener[f] < 0)
			listener[f] = listen_on(f, &addr[f]);
		start_holder((int)i, close_wait_socket(listener[f], &addr[f]));
	}
	/* The sockets outlive their listeners; only CLOSE_WAIT is left. */
	for (int f = F4; f < NFAM; f++)
		if (listener[f] >= 0)
			close(listener[f]);
	wait_round();
	reap(false);
	check_holders();
}

/* ---- rounds ---- */

/* pass: a new process, the orchestrator's child and not the holder's,
 * gets one end of a fresh channel; the holder gets the other end with
 * its trigger and sends the socket through it. */
static void trigger_pass(int slot)
{
	int chan[2], ctrl[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctrl) < 0)
		fail("socketpair: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		struct holder h = { .mode = MODE_PASS,
				    .tcp = -1,
				    .ctrl = ctrl[1],
				    .events = run.events_wr,
				    .slot = slot,
				    .gen = run.round,
				    .deadline_ms =
					    run.deadline_ms + HOLDER_SLACK_MS };
		int keep[] = { chan[0], ctrl[1], run.events_wr };

		close_all_but(keep, sizeof(keep) / sizeof(keep[0]));
		child_signals();
		receiver_main(&h, chan[0]);
	}
	close(chan[0]);
	close(ctrl[1]);
	proc_add(pid, slot, true);
	if (send_with_fd(run.slots[slot].ctrl, 'p', chan[1]) < 0)
		fail("trigger socket %d: %s", slot, strerror(errno));
	close(chan[1]);
	/* The holder reads what is queued even after this end closes. */
	close(run.slots[slot].ctrl);
	run.slots[slot].ctrl = ctrl[0];
}

static void trigger(int slot)
{
	if (run.opt.mode == MODE_PASS) {
		trigger_pass(slot);
		return;
	}
	if (send(run.slots[slot].ctrl, "h", 1, MSG_NOSIGNAL) != 1)
		fail("trigger socket %d: %s", slot, strerror(errno));
}

/* Idle processes that gave their socket away --keep rounds ago end. */
static void retire_idle(void)
{
	for (size_t i = 0; i < run.procs_num; i++) {
		struct proc *p = &run.procs[i];

		if (p->gave_round < 0 || p->reaped || p->killed ||
		    p->gave_round > run.round - run.opt.keep)
			continue;
		kill(p->pid, SIGTERM);
		p->killed = true;
	}
}

/* After a round: every socket's holder is alive (it reported, and was
 * not reaped since). */
static void check_holders(void)
{
	for (long i = 0; i < run.opt.sockets; i++) {
		const struct proc *p = proc_find(run.slots[i].holder);

		if (!p || p->reaped)
			fail("round %d: the holder of socket %ld (pid %d) "
			     "ended",
			     run.round, i, (int)run.slots[i].holder);
	}
}

static void do_round(void)
{
	char when[32], comm[NAME_SIZE];

	run.round++;
	run.in_round = true;
	run.got = run.gave = 0;
	comm_of(run.opt.mode, run.round, comm);
	epoch_text(when, sizeof(when));
	dprintf(run.rounds_fd, "start %d %s %s\n", run.round, when, comm);
	for (long i = 0; i < run.opt.sockets; i++)
		trigger((int)i);
	wait_round();
	run.in_round = false;
	reap(false);
	check_holders();
	epoch_text(when, sizeof(when));
	dprintf(run.rounds_fd, "end %d %s\n", run.round, when);
	retire_idle();
	procs_compact();
	write_state("running");
}

static bool paused(void)
{
	return run.opt.pause_file && access(run.opt.pause_file, F_OK) == 0;
}

/* Rounds every period_ms while not paused (the first one as the pause
 * ends), until the deadline or a signal. */
static void main_loop(void)
{
	long long due = sk_now_ms();
	bool was_paused = true;
	struct pollfd p = { .fd = run.events_rd, .events = POLLIN };

	while (!stop_sig && sk_now_ms() < run.deadline_ms) {
		bool pause = paused();

		if (pause != was_paused)
			write_state(pause ? "paused" : "running");
		was_paused = pause;
		if (pause)
			due = sk_now_ms();
		if (pause || sk_now_ms() < due) {
			poll(&p, 1, 10);
			drain_events();
			reap(true);
			continue;
		}
		do_round();
		due += run.opt.period_ms;
		if (due < sk_now_ms())
			due = sk_now_ms();
	}
}

/* ---- the end ---- */

static bool all_reaped(void)
{
	for (size_t i = 0; i < run.procs_num; i++)
		if (!run.procs[i].reaped)
			return false;
	return true;
}

/* Reaps until no child is left, or ms pass; true if none is left. */
static bool reap_all(long ms)
{
	long long deadline = sk_now_ms() + ms;

	do {
		int status;
		pid_t pid;

		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			proc_add(pid, -1, false)->reaped = true;
		if (pid < 0 && errno == ECHILD)
			return true;
		sk_sleep_ms(10);
	} while (sk_now_ms() < deadline);
	return all_reaped();
}

static void kill_known(int sig)
{
	for (size_t i = 0; i < run.procs_num; i++)
		if (!run.procs[i].reaped)
			kill(run.procs[i].pid, sig);
}

/* Holders see their control socket close; every process still known is
 * sent SIGTERM, then SIGKILL; all are reaped. Frees everything. */
static void end_all(void)
{
	static bool ending;

	if (ending)
		return;
	ending = true;
	for (long i = 0; run.slots && i < run.opt.sockets; i++)
		if (run.slots[i].ctrl >= 0)
			close(run.slots[i].ctrl);
	kill_known(SIGTERM);
	if (!reap_all(END_GRACE_MS)) {
		kill_known(SIGKILL);
		reap_all(WAIT_MS);
	}
	free(run.slots);
	free(run.procs);
	run.slots = NULL;
	run.procs = NULL;
	run.procs_num = 0;
}

/* ---- options ---- */

static long parse_num(const char *opt, const char *arg, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max) {
		fprintf(stderr, "handoff: --%s wants %ld to %ld, got '%s'\n",
			opt, min, max, arg);
		exit(2);
	}
	return v;
}

static enum mode parse_mode(const char *arg)
{
	for (int m = 0; m < MODE_COUNT; m++)
		if (strcmp(arg, mode_names[m]) == 0)
			return (enum mode)m;
	fprintf(stderr, "handoff: --mode wants exit, live or pass\n");
	exit(2);
}

static void usage(void)
{
	fputs("usage: handoff --mode exit|live|pass --dir DIR [--sockets N]\n"
	      "  [--period MS] [--keep ROUNDS] [--duration S] [--pause FILE]\n"
	      "  [--v6-every K]\n"
	      "Run it in a throw-away network namespace: see the top of\n"
	      "tests/tools/handoff.c.\n",
	      stderr);
	exit(2);
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option long_opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "dir", required_argument, NULL, 'd' },
		{ "sockets", required_argument, NULL, 'n' },
		{ "period", required_argument, NULL, 'p' },
		{ "keep", required_argument, NULL, 'k' },
		{ "duration", required_argument, NULL, 't' },
		{ "pause", required_argument, NULL, 'P' },
		{ "v6-every", required_argument, NULL, '6' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*o = (struct options){ .mode = MODE_COUNT,
			       .sockets = 100,
			       .period_ms = 1000,
			       .keep = 3,
			       .duration_s = 300 };
	while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			o->mode = parse_mode(optarg);
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'n':
			o->sockets =
				parse_num("sockets", optarg, 1, MAX_SOCKETS);
			break;
		case 'p':
			o->period_ms = parse_num("period", optarg, 10, 600000);
			break;
		case 'k':
			o->keep = parse_num("keep", optarg, 1, 1000);
			break;
		case 't':
			o->duration_s = parse_num("duration", optarg, 1, 3600);
			break;
		case 'P':
			o->pause_file = optarg;
			break;
		case '6':
			o->v6_every = parse_num("v6-every", optarg, 0, 1000);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || o->mode == MODE_COUNT || !o->dir)
		usage();
}

static void on_signal(int sig)
{
	stop_sig = sig;
}

static void setup(int argc, char **argv)
{
	char path[4096];
	struct sigaction sa = { .sa_handler = on_signal };
	int pipe_fds[2];

	parse_options(argc, argv, &run.opt);
	run.deadline_ms = sk_now_ms() + run.opt.duration_s * 1000;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Default, not ignored: children stay zombies until reaped here. */
	signal(SIGCHLD, SIG_DFL);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
		fail("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	if (pipe2(pipe_fds, O_CLOEXEC) != 0)
		fail("pipe: %s", strerror(errno));
	run.events_rd = pipe_fds[0];
	run.events_wr = pipe_fds[1];
	if (fcntl(run.events_rd, F_SETFL, O_NONBLOCK) != 0)
		fail("pipe: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/rounds", run.opt.dir);
	run.rounds_fd =
		open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		     0644);
	if (run.rounds_fd < 0)
		fail("%s: %s", path, strerror(errno));
	run.slots = calloc((size_t)run.opt.sockets, sizeof(*run.slots));
	if (!run.slots)
		fail("out of memory");
	for (long i = 0; i < run.opt.sockets; i++)
		run.slots[i].ctrl = -1;
}

int main(int argc, char **argv)
{
	char when[32], comm[NAME_SIZE];

	setup(argc, argv);
	make_sockets();
	epoch_text(when, sizeof(when));
	comm_of(run.opt.mode, 0, comm);
	dprintf(run.rounds_fd, "ready %s %s\n", when, comm);
	write_state("ready");
	printf("READY\n");
	fflush(stdout);
	main_loop();
	end_all();
	close(run.rounds_fd);
	close(run.events_rd);
	close(run.events_wr);
	return 0;
}

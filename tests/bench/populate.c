/*
 * Benchmark helper: fills the current network namespace with a large mix of
 * TCP sockets on loopback, fast, and keeps them until told to stop.
 *
 *   populate --pairs N --time-wait N --close-wait N --syn-recv N --listen N
 *            [--v6-every K] [--tw-sources M] [--leak-name NAME]
 *            [--fds-per-holder F] [--max-seconds S]
 *
 * Sockets that need a file descriptor are held by forked holder processes,
 * each under the per-process open-files limit: ESTABLISHED pairs (client and
 * accepted server end), SYN_RECV requests (a deferred-accept listener that
 * never sees data; the client end is ESTABLISHED and held), CLOSE_WAIT (the
 * accepted end of connections whose client half-closed, held by one process
 * named --leak-name with the clients, which stay in FIN_WAIT2), and extra
 * LISTEN sockets.  Every held socket lingers
 * 0 s, so a holder that exits resets its connections instead of leaving
 * TIME_WAITs behind in the established hash every namespace shares.
 *
 * TIME_WAIT sockets hold no descriptor: this process makes them itself,
 * from --tw-sources loopback addresses 127.1.0.1 upward (IPv4) and ::1,
 * client side closing first.  They last 60 s or a few seconds more (timer
 * wheel slack), so after READY every line "topup H" on stdin renews them
 * for the next H seconds: the kernel is asked how long each TIME_WAIT of
 * this namespace has left, those that would expire within H seconds are
 * destroyed (SOCK_DESTROY, as ss -K does) and made anew, so the count is
 * the same all through the measurement that follows.  The answer is one
 * line "OK tw=T made=M destroyed=D", T the TIME_WAITs there are now, as
 * the kernel counts them.  Making them passes each server end through
 * CLOSE_WAIT for a moment.  EOF on stdin, SIGTERM, SIGINT or --max-seconds
 * ends everything.  Only 127.0.0.0/8 and ::1 are used.
 *
 * The caller sets the namespace's sysctls first: ip_local_port_range wide
 * but above LISTEN_PORT_LAST (10000 65535),
 * tcp_tw_reuse 0 (or TIME_WAITs get recycled by our own connects),
 * tcp_max_tw_buckets above --time-wait, somaxconn 65535.
 */
#define _GNU_SOURCE
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "../tools/diag_request.h"
#include "../tools/sockets.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* Connections made before their accepts are collected. */
#define BATCH 512
/* Any single wait for the kernel (accept, connect, EOF) gives up here. */
#define WAIT_MS 10000
/* The listen() backlog; the kernel caps it at somaxconn. */
#define BACKLOG 65535
/* Request sockets per deferred-accept listener, well under the backlog. */
#define SYNR_PER_LISTENER 4000
/* Far beyond a benchmark run, so SYN_RECV requests are never promoted. */
#define DEFER_ACCEPT_S 600
/* Listeners the TIME_WAIT clients spread over, per family. */
#define TW_LISTENERS 8
#define DIAG_BUF_BYTES 32768
/* Listener ports; the caller keeps ip_local_port_range above them, so
 * only client ends have ephemeral local ports, as on a real server. */
#define LISTEN_PORT_FIRST 1024
#define LISTEN_PORT_LAST 9999
/* SOCK_DESTROY requests sent in one go; their errors must fit rcvbuf. */
#define DESTROY_BATCH 256
#define TW_SRC_BASE 0x7f010001U
#define MAX_TW_SOURCES 65000L
#define MAX_COUNT 10000000L
#define MAX_HOLDERS 1000
#define MAX_LISTEN 1000
/* Per job: pairs and close-wait one per family, syn-recv a few, extras. */
#define MAX_JOB_LISTENERS (MAX_LISTEN + 64)
/* Descriptors a holder keeps for itself: stdio, pipes, a batch margin. */
#define HOLDER_SPARE_FDS 32

struct config {
	long pairs, time_wait, close_wait, syn_recv, listen;
	long v6_every, tw_sources, fds_per_holder, max_seconds;
	const char *leak_name;
};

/*
 * What one holder process makes and keeps.  Its listeners are opened by
 * the parent before any client connects: once clients have autobound
 * most of the port range, a listener could find no free port.
 */
struct job {
	long pairs, syn_recv, close_wait, listen;
	const char *name;
	int *lfd;
	size_t nlfd, next;
};

/* A TIME_WAIT socket as sock_diag names it. */
struct tw_id {
	uint8_t family;
	struct inet_diag_sockid id;
};

static struct {
	int diag_fd;
	struct tw_id *doomed;
	size_t ndoomed, cap;
	long tw_index;
	struct sk_addr dst[NFAM][TW_LISTENERS];
	int lfd[NFAM][TW_LISTENERS];
} tw;

static volatile sig_atomic_t stop_sig;
static const char *role = "populate";

__attribute__((format(printf, 1, 2), noreturn)) static void
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", role);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void on_signal(int sig)
{
	stop_sig = sig;
}

static void check_stop(void)
{
	if (stop_sig)
		fail("interrupted by signal %d", (int)stop_sig);
}

/* Returns the open-files limit, raised to the hard one. */
static long raise_nofile(void)
{
	rlim_t limit;
	int err = sk_raise_nofile(&limit);

	if (err < 0)
		fail("setrlimit NOFILE: %s", strerror(-err));
	return limit == RLIM_INFINITY ? MAX_COUNT : (long)limit;
}

static int new_socket(int fam)
{
	int fd = sk_socket(fam, SOCK_NONBLOCK);

	if (fd < 0)
		fail("socket: %s", strerror(-fd));
	return fd;
}

/* Closing then sends a reset and leaves nothing behind. */
static void set_abortive(int fd)
{
	int err = sk_set_abortive(fd);

	if (err < 0)
		fail("setsockopt SO_LINGER: %s", strerror(-err));
}

static void local_endpoint(int fd, struct sk_addr *ret_ep)
{
	int err = sk_addr_local(fd, ret_ep);

	if (err < 0)
		fail("getsockname: %s", strerror(-err));
}

/* A listener on the loopback address of FAM, on the next free port
 * below the ephemeral range, like a server. */
static int open_listener(int fam, bool defer, struct sk_addr *ret_ep)
{
	static int next_port = LISTEN_PORT_FIRST;
	struct sk_addr ep;
	int fd;

	sk_addr_set(fam, INADDR_LOOPBACK, 0, &ep);
	for (; next_port <= LISTEN_PORT_LAST; next_port++) {
		sk_addr_set_port(&ep, (uint16_t)next_port);
		fd = sk_listener(&ep, SOCK_NONBLOCK, false, BACKLOG,
				 defer ? DEFER_ACCEPT_S : 0);
		if (fd == -EADDRINUSE)
			continue;
		if (fd < 0)
			fail("listener on port %d: %s", next_port,
			     strerror(-fd));
		next_port++;
		if (ret_ep)
			local_endpoint(fd, ret_ep);
		return fd;
	}
	fail("no free listener port from %d to %d", LISTEN_PORT_FIRST,
	     LISTEN_PORT_LAST);
}

/* A nonblocking connect; on loopback the handshake runs right away. */
static int connect_nb(const struct sk_addr *dst, const struct sk_addr *src)
{
	int fd = new_socket(sk_addr_fam(dst)), err = 0;

	/* The port is then picked at connect() by the whole 4-tuple. */
	if (src)
		err = sk_set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
	if (src && err == 0)
		err = sk_bind(fd, src);
	if (err < 0)
		fail("bind source address: %s", strerror(-err));
	if (connect(fd, (const struct sockaddr *)&dst->sa, dst->len) < 0 &&
	    errno != EINPROGRESS)
		fail("connect: %s%s", strerror(errno),
		     errno == EADDRNOTAVAIL ? " (4-tuples used up: raise "
					      "--tw-sources or the port range)"
					    : "");
	return fd;
}

static void wait_fd(int fd, short events, long long deadline, const char *what)
{
	long long left = deadline - sk_now_ms();
	int err;

	if (left <= 0)
		fail("%s: nothing after %d ms", what, WAIT_MS);
	err = sk_wait_fd(fd, events, (int)left, &stop_sig);
	if (err < 0 && err != -ETIMEDOUT && err != -EINTR)
		fail("%s: poll: %s", what, strerror(-err));
	check_stop();
}

/* Accepts N connections; their descriptors go to OUT, or are kept. */
static void accept_n(int lfd, long n, int *out, bool abortive)
{
	long long deadline = sk_now_ms() + WAIT_MS;
	long got = 0;
	int fd;

	while (got < n) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				fail("accept: %s", strerror(errno));
			wait_fd(lfd, POLLIN, deadline, "accept");
			continue;
		}
		if (abortive)
			set_abortive(fd);
		if (out)
			out[got] = fd;
		got++;
	}
}

static int pick_fam(const struct config *cfg, long i)
{
	return cfg->v6_every > 0 && i % cfg->v6_every == cfg->v6_every - 1 ? F6
									   : F4;
}

static long v6_share(const struct config *cfg, long n)
{
	return cfg->v6_every > 0 ? n / cfg->v6_every : 0;
}

static long per_fam(const struct config *cfg, long n, int fam)
{
	return fam == F6 ? v6_share(cfg, n) : n - v6_share(cfg, n);
}

/* Parent: opens a job's listeners, in the order the holder uses them. */
static void add_listener(struct job *job, int fam, bool defer)
{
	if (job->nlfd == MAX_JOB_LISTENERS)
		fail("internal error: too many listeners for one job");
	job->lfd[job->nlfd] = open_listener(fam, defer, NULL);
	set_abortive(job->lfd[job->nlfd++]);
}

static void open_job_listeners(const struct config *cfg, struct job *job)
{
	long i, n;
	int f;

	job->lfd = calloc(MAX_JOB_LISTENERS, sizeof(*job->lfd));
	if (!job->lfd)
		fail("out of memory");
	for (f = F4; f < NFAM; f++) {
		if (per_fam(cfg, job->pairs, f) > 0)
			add_listener(job, f, false);
		n = per_fam(cfg, job->syn_recv, f);
		for (i = 0; i < n; i += SYNR_PER_LISTENER)
			add_listener(job, f, true);
		if (per_fam(cfg, job->close_wait, f) > 0)
			add_listener(job, f, false);
	}
	for (i = 0; i < job->listen; i++)
		add_listener(job, pick_fam(cfg, i), false);
}

/* Holder: the next of its listeners, and where to connect to it. */
static int next_listener(struct job *job, struct sk_addr *ret_ep)
{
	int fd;

	if (job->next == job->nlfd)
		fail("internal error: listeners used up");
	fd = job->lfd[job->next++];
	local_endpoint(fd, ret_ep);
	return fd;
}

/* Holder: N established pairs to its next listener. */
static void make_pairs(struct job *job, long n)
{
	struct sk_addr dst;
	long done, i, b;
	int lfd;

	if (n == 0)
		return;
	lfd = next_listener(job, &dst);
	for (done = 0; done < n; done += b) {
		b = n - done < BATCH ? n - done : BATCH;
		for (i = 0; i < b; i++)
			set_abortive(connect_nb(&dst, NULL));
		accept_n(lfd, b, NULL, true);
		check_stop();
	}
}

/* A client is ESTABLISHED once the SYN-ACK came back (a SYN_RECV
 * listener never accepts, so this is the only sign). */
static void wait_connected(int fd)
{
	long long deadline = sk_now_ms() + WAIT_MS;

	while (poll(&(struct pollfd){ .fd = fd, .events = POLLOUT }, 1, 0) == 0)
		wait_fd(fd, POLLOUT, deadline, "connect");
}

/* Holder: N requests left in SYN_RECV on deferred-accept listeners. */
static void make_syn_recv(struct job *job, long n)
{
	struct sk_addr dst;
	long i;
	int fd;

	for (i = 0; i < n; i++) {
		if (i % SYNR_PER_LISTENER == 0)
			next_listener(job, &dst);
		fd = connect_nb(&dst, NULL);
		set_abortive(fd);
		wait_connected(fd);
		check_stop();
	}
}

/*
 * Holder: N accepted ends kept open after their clients half-closed.
 * The clients are kept too: a closed one would be an orphan in FIN_WAIT2,
 * whose timer may end it with a reset that takes the CLOSE_WAIT along.
 */
static void make_close_wait(struct job *job, long n)
{
	struct sk_addr dst;
	long done, i, b;
	int lfd, fd;

	if (n == 0)
		return;
	lfd = next_listener(job, &dst);
	for (done = 0; done < n; done += b) {
		b = n - done < BATCH ? n - done : BATCH;
		for (i = 0; i < b; i++) {
			fd = connect_nb(&dst, NULL);
			set_abortive(fd);
			wait_connected(fd);
			if (shutdown(fd, SHUT_WR) < 0)
				fail("shutdown: %s", strerror(errno));
		}
		accept_n(lfd, b, NULL, true);
		check_stop();
	}
}

/* Same order as open_job_listeners(): the listeners' order gives each
 * kind its family. */
static void run_job(const struct config *cfg, struct job *job)
{
	int f;

	if (job->name && prctl(PR_SET_NAME, job->name) < 0)
		fail("prctl PR_SET_NAME: %s", strerror(errno));
	for (f = F4; f < NFAM; f++) {
		make_pairs(job, per_fam(cfg, job->pairs, f));
		make_syn_recv(job, per_fam(cfg, job->syn_recv, f));
		make_close_wait(job, per_fam(cfg, job->close_wait, f));
	}
}

static void close_listeners(const struct job *job)
{
	size_t i;

	for (i = 0; i < job->nlfd; i++)
		close(job->lfd[i]);
}

/* Holder: drops the inherited listeners that belong to others. */
static void close_foreign(struct job *jobs, size_t n, size_t own)
{
	size_t j;
	int f, i;

	for (j = 0; j < n; j++)
		if (j != own)
			close_listeners(&jobs[j]);
	for (f = F4; f < NFAM; f++)
		for (i = 0; i < TW_LISTENERS; i++)
			if (tw.lfd[f][i] >= 0)
				close(tw.lfd[f][i]);
}

/*
 * A holder reports one line on STATUS_FD, then sleeps until the
 * control pipe reaches EOF: the parent closed it or died.
 */
static void holder_main(const struct config *cfg, struct job *jobs, size_t n,
			size_t idx, int status_fd, int control_fd)
{
	char line[64], c;
	int len;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(1);
	role = "populate holder";
	raise_nofile();
	close_foreign(jobs, n, idx);
	run_job(cfg, &jobs[idx]);
	len = snprintf(line, sizeof(line), "ok %zu\n", idx);
	if (write(status_fd, line, (size_t)len) != len)
		_exit(1);
	while (read(control_fd, &c, 1) < 0 && errno == EINTR && !stop_sig)
		;
	_exit(0);
}

static pid_t start_holder(const struct config *cfg, struct job *jobs, size_t n,
			  size_t idx, const int status[2], const int control[2])
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(status[0]);
		close(control[1]);
		holder_main(cfg, jobs, n, idx, status[1], control[0]);
	}
	return pid;
}

/* Splits the held sockets into jobs that each fit one holder. */
static size_t plan_jobs(const struct config *cfg, struct job *jobs, long budget)
{
	long pairs = cfg->pairs, synr = cfg->syn_recv, take;
	size_t n = 0;

	if (2 * cfg->close_wait + cfg->listen > budget)
		fail("--close-wait %ld does not fit one holder (%ld fds)",
		     cfg->close_wait, budget);
	jobs[n++] = (struct job){ .close_wait = cfg->close_wait,
				  .listen = cfg->listen,
				  .name = cfg->leak_name };
	while (synr > 0 && n < MAX_HOLDERS) {
		take = synr < budget ? synr : budget;
		jobs[n++] = (struct job){ .syn_recv = take };
		synr -= take;
	}
	while (pairs > 0 && n < MAX_HOLDERS) {
		take = pairs < budget / 2 ? pairs : budget / 2;
		jobs[n++] = (struct job){ .pairs = take };
		pairs -= take;
	}
	if (synr > 0 || pairs > 0)
		fail("more than %d holder processes needed", MAX_HOLDERS);
	return n;
}

static void read_status(int fd, size_t holders, long long deadline)
{
	char buf[4096];
	size_t ok = 0;
	ssize_t r, i;
	int st;

	while (ok < holders) {
		if (waitpid(-1, &st, WNOHANG) > 0)
			fail("a holder process failed (%zu of %zu ready)", ok,
			     holders);
		if (sk_now_ms() > deadline)
			fail("holders not ready by --max-seconds");
		if (poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1,
			 200) <= 0) {
			check_stop();
			continue;
		}
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fail("status pipe: %s", r ? strerror(errno) : "EOF");
		for (i = 0; i < r; i++)
			ok += buf[i] == '\n';
	}
}

static void diag_request(int fd, int family, uint32_t seq)
{
	struct diag_v2_request msg;

	diag_v2_request(&msg, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, seq,
			(uint8_t)family, 1U << TCP_TIME_WAIT);
	if (send(fd, &msg, sizeof(msg), 0) < 0)
		fail("sock_diag send: %s", strerror(errno));
}

static void doom(const struct inet_diag_msg *m)
{
	if (tw.ndoomed == tw.cap) {
		tw.cap = tw.cap ? 2 * tw.cap : 4096;
		tw.doomed = realloc(tw.doomed, tw.cap * sizeof(*tw.doomed));
		if (!tw.doomed)
			fail("out of memory");
	}
	tw.doomed[tw.ndoomed++] =
		(struct tw_id){ .family = m->idiag_family, .id = m->id };
}

/* Adds the TIME_WAITs of one dump to TOTAL, and to LASTING those with
 * more than HORIZON_MS left; the others are doomed. */
static void diag_tally(int fd, uint32_t seq, long long horizon_ms, long *total,
		       long *lasting)
{
	static char buf[DIAG_BUF_BYTES] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	ssize_t len;

	for (;;) {
		len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			fail("sock_diag recv: %s", strerror(errno));
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			const struct inet_diag_msg *m = NLMSG_DATA(nlh);

			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_DONE)
				return;
			if (nlh->nlmsg_type == NLMSG_ERROR)
				fail("sock_diag: dump refused");
			if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				continue;
			(*total)++;
			if ((long long)m->idiag_expires > horizon_ms)
				(*lasting)++;
			else
				doom(m);
		}
	}
}

/* TIME_WAITs in this namespace, and how many outlive HORIZON_MS; the
 * others are listed in tw.doomed. */
static void tw_census(long long horizon_ms, long *ret_total, long *ret_lasting)
{
	static uint32_t seq;

	*ret_total = 0;
	*ret_lasting = 0;
	tw.ndoomed = 0;
	if (tw.diag_fd < 0)
		tw.diag_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
				    NETLINK_SOCK_DIAG);
	if (tw.diag_fd < 0)
		fail("sock_diag socket: %s", strerror(errno));
	diag_request(tw.diag_fd, AF_INET, ++seq);
	diag_tally(tw.diag_fd, seq, horizon_ms, ret_total, ret_lasting);
	diag_request(tw.diag_fd, AF_INET6, ++seq);
	diag_tally(tw.diag_fd, seq, horizon_ms, ret_total, ret_lasting);
}

static void tw_open_listeners(const struct config *cfg)
{
	int f, i;

	for (f = F4; f < NFAM; f++)
		for (i = 0; i < TW_LISTENERS; i++) {
			tw.lfd[f][i] = -1;
			if (f == F6 && cfg->v6_every <= 0)
				continue;
			tw.lfd[f][i] = open_listener(f, false, &tw.dst[f][i]);
		}
}

/* Reads and drops whatever the kernel answered (errors for TIME_WAITs
 * that ended on their own meanwhile). */
static void drain(int fd)
{
	static char buf[DIAG_BUF_BYTES];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0 || errno == EINTR ||
	       errno == ENOBUFS)
		;
}

/* Destroys the doomed TIME_WAITs; one that is gone already is no loss. */
static void tw_destroy(void)
{
	static struct diag_v2_request msg[DESTROY_BATCH];
	size_t i, k, n;
	int fd;

	if (tw.ndoomed == 0)
		return;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		fail("sock_diag socket: %s", strerror(errno));
	for (i = 0; i < tw.ndoomed; i += n) {
		n = tw.ndoomed - i < DESTROY_BATCH ? tw.ndoomed - i
						   : DESTROY_BATCH;
		for (k = 0; k < n; k++) {
			diag_v2_request(&msg[k], SOCK_DESTROY, 0, 0,
					tw.doomed[i + k].family, ~0U);
			msg[k].req.id = tw.doomed[i + k].id;
		}
		if (send(fd, msg, n * sizeof(msg[0]), 0) < 0)
			fail("SOCK_DESTROY: %s", strerror(errno));
		drain(fd);
	}
	close(fd);
}

/* Reads every server end to EOF and closes it: TIME_WAIT then lands on
 * the client, which closed first. */
static void tw_close_servers(int *fds, long n)
{
	long long deadline = sk_now_ms() + WAIT_MS;
	long left = n, i;
	char buf[16];
	ssize_t r;

	while (left > 0) {
		for (i = 0; i < n; i++) {
			if (fds[i] < 0)
				continue;
			r = read(fds[i], buf, sizeof(buf));
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r != 0)
				fail("time-wait: server got %s",
				     r > 0 ? "data" : strerror(errno));
			close(fds[i]);
			fds[i] = -1;
			left--;
		}
		if (left > 0 && sk_now_ms() > deadline)
			fail("time-wait: %ld servers saw no FIN", left);
		if (left > 0)
			poll(NULL, 0, 1);
	}
}

/* One batch of B TIME_WAITs through listener number L of family F. */
static void tw_batch(const struct config *cfg, int f, int l, long b)
{
	int clients[BATCH], servers[BATCH];
	struct sk_addr src;
	uint32_t a;
	long i;

	for (i = 0; i < b; i++) {
		a = TW_SRC_BASE + (uint32_t)(tw.tw_index++ % cfg->tw_sources);
		sk_addr_set(f, a, 0, &src);
		clients[i] = connect_nb(&tw.dst[f][l], &src);
	}
	accept_n(tw.lfd[f][l], b, servers, false);
	for (i = 0; i < b; i++)
		close(clients[i]);
	tw_close_servers(servers, b);
}

/* Makes N TIME_WAITs, families mixed by --v6-every, spread over the
 * listeners so each 4-tuple space stays far from full. */
static void tw_make(const struct config *cfg, long n)
{
	static long rounds;
	long v6 = cfg->v6_every > 0 ? n / cfg->v6_every : 0;
	long todo[NFAM] = { n - v6, v6 };
	long b;
	int f, l;

	for (f = F4; f < NFAM; f++)
		while (todo[f] > 0) {
			l = (int)(rounds++ % TW_LISTENERS);
			b = todo[f] < BATCH ? todo[f] : BATCH;
			tw_batch(cfg, f, l, b);
			todo[f] -= b;
			check_stop();
		}
}

static void tw_topup(const struct config *cfg, double horizon_s)
{
	long total, lasting, made = 0;
	size_t destroyed;

	tw_census((long long)(horizon_s * 1000.0), &total, &lasting);
	destroyed = tw.ndoomed;
	tw_destroy();
	if (lasting < cfg->time_wait) {
		made = cfg->time_wait - lasting;
		tw_make(cfg, made);
	}
	/* What the measurement will really see. */
	if (destroyed > 0 || made > 0)
		tw_census(-1, &total, &lasting);
	printf("OK tw=%ld made=%ld destroyed=%zu\n", total, made, destroyed);
	fflush(stdout);
}

/* Serves "topup H" lines until EOF, a signal or the deadline. */
static void serve(const struct config *cfg, long long deadline)
{
	char line[128];
	double h;
	int n;

	while (!stop_sig && sk_now_ms() < deadline) {
		n = poll(&(struct pollfd){ .fd = STDIN_FILENO,
					   .events = POLLIN },
			 1, 1000);
		if (n <= 0)
			continue;
		if (!fgets(line, sizeof(line), stdin))
			return;
		if (sscanf(line, "topup %lf", &h) == 1)
			tw_topup(cfg, h);
		else
			fprintf(stderr, "populate: unknown command: %s", line);
	}
	if (!stop_sig)
		fprintf(stderr, "populate: --max-seconds reached, stopping\n");
}

static void stop_holders(const pid_t *pids, size_t n, int control_w)
{
	size_t i;

	close(control_w);
	for (i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
}

static void setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static long parse_num(const char *opt, const char *arg, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		fail("--%s wants an integer from %ld to %ld, not '%s'", opt,
		     min, max, arg);
	return v;
}

static const struct option long_opts[] = {
	{ "pairs", required_argument, NULL, 'p' },
	{ "time-wait", required_argument, NULL, 't' },
	{ "close-wait", required_argument, NULL, 'c' },
	{ "syn-recv", required_argument, NULL, 's' },
	{ "listen", required_argument, NULL, 'l' },
	{ "v6-every", required_argument, NULL, 'k' },
	{ "tw-sources", required_argument, NULL, 'm' },
	{ "fds-per-holder", required_argument, NULL, 'f' },
	{ "max-seconds", required_argument, NULL, 'x' },
	{ "leak-name", required_argument, NULL, 'n' },
	{ NULL, 0, NULL, 0 },
};

static long *num_target(struct config *cfg, int opt)
{
	switch (opt) {
	case 'p':
		return &cfg->pairs;
	case 't':
		return &cfg->time_wait;
	case 'c':
		return &cfg->close_wait;
	case 's':
		return &cfg->syn_recv;
	case 'l':
		return &cfg->listen;
	case 'k':
		return &cfg->v6_every;
	case 'm':
		return &cfg->tw_sources;
	case 'f':
		return &cfg->fds_per_holder;
	case 'x':
		return &cfg->max_seconds;
	default:
		return NULL;
	}
}

static void parse_args(int argc, char **argv, struct config *cfg)
{
	int opt, idx = 0;
	long *num;

	*cfg = (struct config){ .v6_every = 4,
				.tw_sources = 4096,
				.fds_per_holder = 18000,
				.max_seconds = 1800,
				.leak_name = "leaky-app" };
	while ((opt = getopt_long(argc, argv, "", long_opts, &idx)) != -1) {
		if (opt == 'n') {
			cfg->leak_name = optarg;
			continue;
		}
		num = num_target(cfg, opt);
		if (!num)
			fail("usage: see the comment at the top of populate.c");
		*num = parse_num(long_opts[idx].name, optarg, 0, MAX_COUNT);
	}
	if (optind < argc)
		fail("unexpected argument '%s'", argv[optind]);
	if (cfg->tw_sources < 1 || cfg->tw_sources > MAX_TW_SOURCES)
		fail("--tw-sources wants 1 to %ld", MAX_TW_SOURCES);
	if (cfg->listen > MAX_LISTEN)
		fail("--listen wants at most %d", MAX_LISTEN);
}

static long holder_budget(const struct config *cfg, long nofile)
{
	long limit = nofile - HOLDER_SPARE_FDS - BATCH;
	long budget = cfg->fds_per_holder;

	if (budget > limit)
		budget = limit;
	if (budget < 2)
		fail("open-files limit too small for a holder");
	return budget;
}

static double secs_since(long long t0)
{
	return (double)(sk_now_ms() - t0) / 1000.0;
}

int main(int argc, char **argv)
{
	static struct job jobs[MAX_HOLDERS];
	static pid_t pids[MAX_HOLDERS];
	int status[2], control[2];
	long long t0 = sk_now_ms(), deadline;
	struct config cfg;
	size_t n, i;
	long nofile;

	parse_args(argc, argv, &cfg);
	setup_signals();
	nofile = raise_nofile();
	deadline = t0 + cfg.max_seconds * 1000LL;
	tw.diag_fd = -1;
	n = plan_jobs(&cfg, jobs, holder_budget(&cfg, nofile));
	/* Every listener first: see struct job. */
	tw_open_listeners(&cfg);
	for (i = 0; i < n; i++)
		open_job_listeners(&cfg, &jobs[i]);
	if (pipe2(status, O_CLOEXEC) < 0 || pipe2(control, O_CLOEXEC) < 0)
		fail("pipe: %s", strerror(errno));
	for (i = 0; i < n; i++)
		pids[i] = start_holder(&cfg, jobs, n, i, status, control);
	for (i = 0; i < n; i++)
		close_listeners(&jobs[i]);
	close(status[1]);
	close(control[0]);
	read_status(status[0], n, deadline);
	fprintf(stderr, "populate: %zu holders ready after %.1f s\n", n,
		secs_since(t0));
	tw_make(&cfg, cfg.time_wait);
	fprintf(stderr, "populate: %ld time-wait made, %.1f s in all\n",
		cfg.time_wait, secs_since(t0));
	printf("READY holders=%zu seconds=%.1f\n", n, secs_since(t0));
	fflush(stdout);
	serve(&cfg, deadline);
	stop_holders(pids, n, control[1]);
	return 0;
}

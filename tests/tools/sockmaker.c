/*
 * Test helper: holds real TCP sockets in chosen states on loopback so the
 * plugin's counts can be checked against known numbers.  Runs inside a
 * throw-away network namespace; only 127.0.0.0/8 and ::1 are ever used,
 * unless --bind or --connect name an address (a veth inside the test's
 * own namespaces).
 */
#define _GNU_SOURCE /* accept4(), ppoll() */
#include <errno.h>
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
#include <sys/resource.h>
#include <sys/socket.h>

#include "sockets.h"

/* Every single wait (connect, accept, EOF, state change) gives up here. */
#define WAIT_MS 5000
/* Plenty for every helper listener; the kernel caps it at somaxconn. */
#define BACKLOG 4096
/* Far beyond any --hold, so SYN_RECV requests never get promoted. */
#define DEFER_ACCEPT_S 600
/* stdio, /proc reads and the two transient ends of a --time-wait pair. */
#define SPARE_FDS 16
/* Keeps every count (and their sums) far away from overflow. */
#define MAX_COUNT 1000000L
/* --tw-sources walks up from 127.0.1.1 and must stay inside 127/8. */
#define TW_SRC_BASE 0x7f000101U
#define MAX_TW_SOURCES 60000L

enum kind { K_EST, K_TW, K_CW, K_FW2, K_SYNR, K_STW, K_QUEUE, NKINDS };

/* The states the caller can check, in ss(8) naming. */
enum xstate { X_EST, X_SYNR, X_TW, X_CW, X_FW2, X_LISTEN, X_SYNS, NXSTATES };

static const char *const xstate_name[NXSTATES] = {
	"established", "syn-recv",  "time-wait", "close-wait",
	"fin-wait-2",  "listening", "syn-sent",
};

struct config {
	long count[NKINDS];
	long listen;
	long v6_every;
	long tw_sources;
	long cw_bytes; /* sent by each --close-wait peer before it closes */
	long hold;
	long port;	  /* --port: helper listeners' port, 0 = any */
	long backlog;	  /* --backlog of the --queue listener */
	uint32_t bind_v4; /* --bind: the --queue listener's address */
	uint32_t peer_v4; /* --connect: where the --clients go */
	long peer_port;	  /* 0 = no --connect */
	long clients;	  /* --clients */
	long send_bytes;  /* --send-on-input */
	bool report;
};

struct listeners {
	int fd[NFAM];
	struct sk_addr addr[NFAM];
};

/* Sockets kept until the end; aborted on exit so nothing lingers. */
static struct {
	int *fd;
	size_t n, cap;
} held;

/* The --connect clients: held.fd[first] onwards, n of them. */
static struct {
	size_t first, n;
} peers;

static volatile sig_atomic_t stop_sig;

static void abort_all(void)
{
	size_t i;

	/*
	 * Reset instead of a graceful close: a caller that reuses the
	 * namespace must not find TIME_WAITs from our teardown.
	 */
	for (i = 0; i < held.n; i++) {
		sk_set_abortive(held.fd[i]);
		close(held.fd[i]);
	}
	held.n = 0;
}

__attribute__((format(printf, 1, 2), noreturn)) static void
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("sockmaker: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort_all();
	exit(1);
}

static void hold_fd(int fd)
{
	/* The budget was checked up front, so running out is a bug here. */
	if (held.n == held.cap)
		fail("internal error: more sockets than budgeted");
	held.fd[held.n++] = fd;
}

static void check_stop(void)
{
	if (stop_sig)
		fail("interrupted by signal %d before READY", (int)stop_sig);
}

/* --v6-every K: the K-th, 2K-th, ... socket of a kind goes to ::1. */
static bool use_v6(const struct config *cfg, long i)
{
	return cfg->v6_every > 0 && i % cfg->v6_every == cfg->v6_every - 1;
}

static long fam_count(const struct config *cfg, long n, enum fam f)
{
	long v6 = cfg->v6_every > 0 ? n / cfg->v6_every : 0;

	return f == F6 ? v6 : n - v6;
}

static const char *fam_name(enum fam f)
{
	return f == F6 ? "::1" : "127.0.0.1";
}

static int new_socket(enum fam f)
{
	int fd = sk_socket(f, 0);

	if (fd < 0)
		fail("socket: %s", strerror(-fd));
	return fd;
}

static void wait_state(int fd, int want, const char *what)
{
	int err = sk_wait_state(fd, want, WAIT_MS, &stop_sig);

	if (err == -EINTR)
		check_stop();
	if (err == -ETIMEDOUT)
		fail("%s: socket stuck in TCP state %d, want %d after "
		     "%d ms",
		     what, sk_tcp_state(fd), want, WAIT_MS);
	if (err < 0)
		fail("getsockopt TCP_INFO: %s", strerror(-err));
}

static void wait_readable(int fd, const char *what)
{
	int err = sk_wait_fd(fd, POLLIN, WAIT_MS, &stop_sig);

	check_stop();
	if (err == -ETIMEDOUT)
		fail("%s: nothing after %d ms", what, WAIT_MS);
	if (err < 0)
		fail("%s: poll: %s", what, strerror(-err));
}

static const char *addr_str(const struct sk_addr *addr, char *buf, size_t len)
{
	const struct sockaddr_storage *ss = &addr->sa;
	const void *a = &((const struct sockaddr_in *)ss)->sin_addr;

	if (ss->ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	if (!inet_ntop(ss->ss_family, a, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

/* Only a chosen port gets SO_REUSEADDR (see sk_listener). */
static int open_listener_at(enum fam f, uint32_t v4, long port, int backlog,
			    bool defer)
{
	struct sk_addr at;
	char buf[INET6_ADDRSTRLEN];
	int fd;

	sk_addr_set(f, v4, (uint16_t)port, &at);
	fd = sk_listener(&at, 0, port != 0, backlog,
			 defer ? DEFER_ACCEPT_S : 0);
	if (fd < 0)
		fail("listen on %s:%ld: %s", addr_str(&at, buf, sizeof(buf)),
		     port, strerror(-fd));
	return fd;
}

static int open_listener(enum fam f, bool defer)
{
	return open_listener_at(f, INADDR_LOOPBACK, 0, BACKLOG, defer);
}

static void listener_addr(int fd, struct sk_addr *ret_addr)
{
	int err = sk_addr_local(fd, ret_addr);

	if (err < 0)
		fail("getsockname: %s", strerror(-err));
}

/* One listener per family that the kind actually uses, on --port. */
static void open_listeners(const struct config *cfg, long n, bool defer,
			   struct listeners *ls)
{
	enum fam f;

	for (f = F4; f < NFAM; f++) {
		ls->fd[f] = -1;
		if (fam_count(cfg, n, f) == 0)
			continue;
		ls->fd[f] = open_listener_at(f, INADDR_LOOPBACK, cfg->port,
					     BACKLOG, defer);
		hold_fd(ls->fd[f]);
		listener_addr(ls->fd[f], &ls->addr[f]);
	}
}

/* From SRC, if given, to DST; gives up after WAIT_MS (see sk_connect). */
static int connect_to(const struct sk_addr *dst, const struct sk_addr *src)
{
	char buf[INET6_ADDRSTRLEN];
	int fd = new_socket(sk_addr_fam(dst));
	int err = src ? sk_bind(fd, src) : 0;

	if (err < 0)
		fail("bind %s:0: %s (ephemeral ports of this source used up?)",
		     addr_str(src, buf, sizeof(buf)), strerror(-err));
	err = sk_connect(fd, dst, WAIT_MS);
	if (err < 0) {
		/* SIGTERM shows up here as EINTR; report it as such. */
		check_stop();
		fail("connect to %s: %s", addr_str(dst, buf, sizeof(buf)),
		     err == -EINPROGRESS ? "timed out" : strerror(-err));
	}
	return fd;
}

static int accept_from(const struct listeners *ls, enum fam f)
{
	int fd = sk_accept(ls->fd[f], 0, WAIT_MS, &stop_sig);

	check_stop();
	if (fd == -ETIMEDOUT)
		fail("accept: nothing after %d ms", WAIT_MS);
	if (fd < 0)
		fail("accept on %s: %s", fam_name(f), strerror(-fd));
	return fd;
}

static void connect_pair(const struct listeners *ls, enum fam f, int *c, int *s)
{
	*c = connect_to(&ls->addr[f], NULL);
	*s = accept_from(ls, f);
}

/* A reset also leaves TCP_CLOSE behind; only a clean close may count. */
static void check_no_error(int fd, const char *what)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		fail("getsockopt SO_ERROR: %s", strerror(errno));
	if (err)
		fail("%s: %s", what, strerror(err));
}

static enum fam kind_fam(const struct config *cfg, long i)
{
	return use_v6(cfg, i) ? F6 : F4;
}

/*
 * The connections of kind K, to helper listeners of their families (held
 * open); FINISH takes each one's client C and server S to its state.
 */
static void make_pairs(const struct config *cfg, enum kind k,
		       void (*finish)(const struct config *cfg, int c, int s))
{
	long i, n = cfg->count[k];
	struct listeners ls;
	int c, s;

	if (n == 0)
		return;
	open_listeners(cfg, n, false, &ls);
	for (i = 0; i < n; i++) {
		connect_pair(&ls, kind_fam(cfg, i), &c, &s);
		finish(cfg, c, s);
		check_stop();
	}
}

static void hold_established(const struct config *cfg, int c, int s)
{
	(void)cfg;
	hold_fd(c);
	hold_fd(s);
	wait_state(c, TCP_ESTABLISHED, "established client");
	wait_state(s, TCP_ESTABLISHED, "established server");
}

/*
 * Closes a connection so that FIRST sends the first FIN: the TIME_WAIT
 * lands on its side. Both ends stay open until the close handshake is
 * over: TCP_CLOSE on FIRST then means its connection moved to a
 * TIME_WAIT socket, and on SECOND that LAST_ACK got its ACK, so nothing
 * else of this connection survives. Messages name the ends "KIND NAME".
 */
static void close_first(const char *kind, int first, const char *first_name,
			int second, const char *second_name)
{
	char what_first[64], what_second[64], eof[64], buf[16];

	snprintf(what_first, sizeof(what_first), "%s %s", kind, first_name);
	snprintf(what_second, sizeof(what_second), "%s %s", kind, second_name);
	snprintf(eof, sizeof(eof), "%s: EOF on %s", kind, second_name);
	if (shutdown(first, SHUT_WR) < 0)
		fail("%s: shutdown %s: %s", kind, first_name, strerror(errno));
	wait_readable(second, eof);
	if (read(second, buf, sizeof(buf)) != 0)
		fail("%s: %s read no EOF", kind, second_name);
	if (shutdown(second, SHUT_WR) < 0)
		fail("%s: shutdown %s: %s", kind, second_name, strerror(errno));
	wait_state(first, TCP_CLOSE, what_first);
	wait_state(second, TCP_CLOSE, what_second);
	check_no_error(first, what_first);
	check_no_error(second, what_second);
	close(first);
	close(second);
}

/* The client sends the first FIN, so TIME_WAIT lands on its side. */
static void one_time_wait(const struct listeners *ls, enum fam f,
			  const struct sk_addr *src)
{
	int c = connect_to(&ls->addr[f], src);
	int s = accept_from(ls, f);

	close_first("time-wait", c, "client", s, "server");
}

static void close_listeners(struct listeners *ls, size_t mark)
{
	enum fam f;

	for (f = F4; f < NFAM; f++)
		if (ls->fd[f] >= 0)
			close(ls->fd[f]);
	/* They were the last sockets held, so just forget them. */
	held.n = mark;
}

static void make_time_wait(const struct config *cfg)
{
	long i, v4 = 0, n = cfg->count[K_TW];
	size_t mark = held.n;
	struct listeners ls;
	struct sk_addr src;
	uint32_t a;

	if (n == 0)
		return;
	open_listeners(cfg, n, false, &ls);
	for (i = 0; i < n; i++) {
		enum fam f = kind_fam(cfg, i);

		/* Round-robin over IPv4 clients only, so K cannot skew it. */
		a = TW_SRC_BASE;
		if (f == F4)
			a += (uint32_t)(v4++ % cfg->tw_sources);
		sk_addr_set(f, a, 0, &src);
		one_time_wait(&ls, f, &src);
		check_stop();
	}
	/* TIME_WAITs outlive their listener; keep the LISTEN count small. */
	close_listeners(&ls, mark);
}

/* Unread data left behind in the CLOSE_WAIT socket, or data in flight. */
static void send_bytes(int fd, long n)
{
	char buf[4096];

	memset(buf, 'x', sizeof(buf));
	while (n > 0) {
		size_t chunk = n < (long)sizeof(buf) ? (size_t)n : sizeof(buf);
		ssize_t sent = send(fd, buf, chunk, 0);

		if (sent <= 0)
			fail("send %ld bytes: %s", n,
			     sent < 0 ? strerror(errno) : "nothing sent");
		n -= sent;
	}
}

static void hold_close_wait(const struct config *cfg, int c, int s)
{
	hold_fd(s);
	send_bytes(c, cfg->cw_bytes);
	/* The orphaned client drifts through FIN_WAIT2 on its own. */
	close(c);
	wait_state(s, TCP_CLOSE_WAIT, "close-wait server");
}

static void hold_fin_wait2(const struct config *cfg, int c, int s)
{
	(void)cfg;
	hold_fd(c);
	hold_fd(s);
	/* Half-close with the fd kept: no fin_timeout applies then. */
	if (shutdown(c, SHUT_WR) < 0)
		fail("fin-wait2: shutdown: %s", strerror(errno));
	wait_state(c, TCP_FIN_WAIT2, "fin-wait2 client");
	wait_state(s, TCP_CLOSE_WAIT, "fin-wait2 server");
}

static void make_listen(const struct config *cfg)
{
	long i;

	for (i = 0; i < cfg->listen; i++)
		hold_fd(open_listener(kind_fam(cfg, i), false));
}

/*
 * The mirror of one_time_wait(): the server sends the first FIN, so the
 * TIME_WAIT socket is the server's, on the listener's port (the
 * listeners stay open: the TIME_WAITs' port is a listening port).
 */
static void server_time_wait(const struct config *cfg, int c, int s)
{
	(void)cfg;
	close_first("server-time-wait", s, "server", c, "client");
}

/* A listener's accept-queue length; TCP_INFO reports it in tcpi_unacked. */
static unsigned int accept_queue(int fd)
{
	struct tcp_info ti;
	int err = sk_tcp_info(fd, &ti);

	if (err < 0)
		fail("getsockopt TCP_INFO: %s", strerror(-err));
	return ti.tcpi_unacked;
}

/* Waits until the client's handshake has reached the accept queue. */
static void wait_queue(int fd, unsigned int want)
{
	long long deadline = sk_now_ms() + WAIT_MS;
	unsigned int got;

	while ((got = accept_queue(fd)) != want) {
		if (sk_now_ms() >= deadline)
			fail("queue: accept queue holds %u, want %u after %d "
			     "ms",
			     got, want, WAIT_MS);
		check_stop();
		sk_sleep_ms(1);
	}
}

/* A connect() that does not wait: its SYN may be dropped for good. */
static int connect_nowait(const struct listeners *ls, enum fam f)
{
	const struct sk_addr *dst = &ls->addr[f];
	int fd = sk_socket(f, SOCK_NONBLOCK);

	if (fd < 0)
		fail("socket: %s", strerror(-fd));
	if (connect(fd, (const struct sockaddr *)&dst->sa, dst->len) == 0 ||
	    errno != EINPROGRESS)
		fail("queue: non-blocking connect: %s",
		     errno ? strerror(errno) : "connected at once");
	return fd;
}

static long read_sysctl(const char *path);

/* listen() caps the backlog at net.core.somaxconn. */
static long effective_backlog(const struct config *cfg)
{
	long q = read_sysctl("/proc/sys/net/core/somaxconn");

	return q >= 0 && q < cfg->backlog ? q : cfg->backlog;
}

/*
 * A listener that never accepts. The kernel completes handshakes into
 * its accept queue until it holds backlog + 1 connections, then drops
 * SYNs: the clients after those stay in SYN_SENT, retrying in vain.
 */
static void make_queue(const struct config *cfg)
{
	long i, n = cfg->count[K_QUEUE];
	struct listeners ls = { .fd = { -1, -1 } };

	if (n < 0)
		return;
	ls.fd[F4] = open_listener_at(F4, cfg->bind_v4, cfg->port,
				     (int)cfg->backlog, false);
	hold_fd(ls.fd[F4]);
	listener_addr(ls.fd[F4], &ls.addr[F4]);
	for (i = 0; i < n; i++) {
		if (i <= effective_backlog(cfg)) {
			hold_fd(connect_to(&ls.addr[F4], NULL));
			wait_queue(ls.fd[F4], (unsigned int)i + 1);
		} else {
			hold_fd(connect_nowait(&ls, F4));
		}
		check_stop();
	}
}

/* Clients of a listener elsewhere (another namespace, over a veth). */
static void make_clients(const struct config *cfg)
{
	struct sk_addr peer;
	long i;
	int fd;

	if (cfg->peer_port == 0)
		return;
	sk_addr_set(F4, cfg->peer_v4, (uint16_t)cfg->peer_port, &peer);
	peers.first = held.n;
	for (i = 0; i < cfg->clients; i++) {
		fd = connect_to(&peer, NULL);
		hold_fd(fd);
		wait_state(fd, TCP_ESTABLISHED, "--connect client");
		check_stop();
	}
	peers.n = held.n - peers.first;
}

/* Counter from /proc/net/netstat (this namespace), or -1. */
static long long netstat_field(char *hdr, char *val, const char *name)
{
	char *hs, *vs;
	char *h = strtok_r(hdr, " \n", &hs);
	char *v = strtok_r(val, " \n", &vs);

	while (h && v) {
		if (strcmp(h, name) == 0)
			return strtoll(v, NULL, 10);
		h = strtok_r(NULL, " \n", &hs);
		v = strtok_r(NULL, " \n", &vs);
	}
	return -1;
}

static long long syncookies_sent(void)
{
	FILE *fp = fopen("/proc/net/netstat", "re");
	char *hdr = NULL, *val = NULL;
	size_t hlen = 0, vlen = 0;
	long long r = -1;

	if (!fp)
		return -1;
	/* The file is pairs of lines: field names, then their values. */
	while (getline(&hdr, &hlen, fp) > 0 && getline(&val, &vlen, fp) > 0) {
		if (strncmp(hdr, "TcpExt:", 7) == 0) {
			r = netstat_field(hdr, val, "SyncookiesSent");
			break;
		}
	}
	free(hdr);
	free(val);
	fclose(fp);
	return r;
}

/*
 * The client's final ACK carries no data, so the deferring listener
 * drops it and keeps the request socket in SYN_RECV.  A SYN answered
 * with a cookie instead would leave no request socket at all.
 */
static void make_syn_recv(const struct config *cfg)
{
	long i, n = cfg->count[K_SYNR];
	long long before = syncookies_sent(), after;
	struct listeners ls;
	int c;

	if (n == 0)
		return;
	open_listeners(cfg, n, true, &ls);
	for (i = 0; i < n; i++) {
		c = connect_to(&ls.addr[kind_fam(cfg, i)], NULL);
		hold_fd(c);
		wait_state(c, TCP_ESTABLISHED, "syn-recv client");
		check_stop();
	}
	after = syncookies_sent();
	if (before < 0 || after < 0)
		fprintf(stderr,
			"sockmaker: warning: cannot read SyncookiesSent "
			"from /proc/net/netstat; SYN_RECV unchecked\n");
	else if (after != before)
		fail("syn-recv: %lld SYN cookies sent, the SYN queue "
		     "overflowed",
		     after - before);
}

static void add_exp(long exp[][NFAM], enum xstate x, const struct config *cfg,
		    long n, long per)
{
	enum fam f;

	for (f = F4; f < NFAM; f++)
		exp[x][f] += per * fam_count(cfg, n, f);
}

/* The helper listeners of a kind: one per family it uses. */
static void add_helpers(long exp[][NFAM], const struct config *cfg, long n)
{
	enum fam f;

	for (f = F4; f < NFAM; f++)
		if (fam_count(cfg, n, f) > 0)
			exp[X_LISTEN][f]++;
}

/* --queue: both ends of each queued connection, then SYN_SENT clients. */
static void expect_queue(long exp[][NFAM], const struct config *cfg)
{
	long n = cfg->count[K_QUEUE], queued;

	if (n < 0)
		return;
	queued =
		n < effective_backlog(cfg) + 1 ? n : effective_backlog(cfg) + 1;
	exp[X_LISTEN][F4]++;
	exp[X_EST][F4] += 2 * queued;
	exp[X_SYNS][F4] += n - queued;
}

/* What the namespace holds once READY is out, per state and family. */
static void expectations(const struct config *cfg, long exp[][NFAM])
{
	memset(exp, 0, sizeof(long) * NXSTATES * NFAM);
	add_exp(exp, X_EST, cfg, cfg->count[K_EST], 2);
	add_helpers(exp, cfg, cfg->count[K_EST]);
	add_exp(exp, X_TW, cfg, cfg->count[K_TW], 1);
	add_exp(exp, X_CW, cfg, cfg->count[K_CW], 1);
	add_helpers(exp, cfg, cfg->count[K_CW]);
	add_exp(exp, X_FW2, cfg, cfg->count[K_FW2], 1);
	add_exp(exp, X_CW, cfg, cfg->count[K_FW2], 1);
	add_helpers(exp, cfg, cfg->count[K_FW2]);
	add_exp(exp, X_LISTEN, cfg, cfg->listen, 1);
	add_exp(exp, X_SYNR, cfg, cfg->count[K_SYNR], 1);
	add_exp(exp, X_EST, cfg, cfg->count[K_SYNR], 1);
	add_helpers(exp, cfg, cfg->count[K_SYNR]);
	add_exp(exp, X_TW, cfg, cfg->count[K_STW], 1);
	add_helpers(exp, cfg, cfg->count[K_STW]);
	expect_queue(exp, cfg);
	exp[X_EST][F4] += cfg->clients;
}

/* -1 when unreadable: the limit checks then trust the request. */
static long read_sysctl(const char *path)
{
	FILE *fp = fopen(path, "re");
	long v = -1;

	if (fp) {
		if (fscanf(fp, "%ld", &v) != 1)
			v = -1;
		fclose(fp);
	}
	return v;
}

static void report_notes(const struct config *cfg)
{
	long fin = read_sysctl("/proc/sys/net/ipv4/tcp_fin_timeout");

	if (cfg->count[K_CW] > 0)
		fprintf(stderr,
			"sockmaker: note: also %ld orphaned fin-wait-2 "
			"peers of --close-wait, gone after tcp_fin_timeout "
			"(%ld s here); not counted above\n",
			cfg->count[K_CW], fin);
	if (cfg->count[K_TW] > 0)
		fprintf(stderr,
			"sockmaker: note: --time-wait helper "
			"listeners already closed; TIME_WAIT lasts 60 s from "
			"creation whatever --hold says\n");
	fprintf(stderr, "sockmaker: note: every other TCP state: 0\n");
}

static void report(const struct config *cfg)
{
	long exp[NXSTATES][NFAM];
	int x;

	expectations(cfg, exp);
	for (x = 0; x < NXSTATES; x++)
		fprintf(stderr,
			"sockmaker: expect %-11s %ld (ipv4 %ld, ipv6 %ld)\n",
			xstate_name[x], exp[x][F4] + exp[x][F6], exp[x][F4],
			exp[x][F6]);
	report_notes(cfg);
}

/* Sockets held open until the end (the TIME_WAIT pairs come and go). */
static long held_needed(const struct config *cfg)
{
	long queue = cfg->count[K_QUEUE] >= 0 ? cfg->count[K_QUEUE] : 0;

	return 2 * NKINDS + 2 * cfg->count[K_EST] + cfg->count[K_CW] +
	       2 * cfg->count[K_FW2] + cfg->listen + cfg->count[K_SYNR] +
	       queue + cfg->clients;
}

static void reserve_fds(const struct config *cfg)
{
	long need = held_needed(cfg) + SPARE_FDS;
	rlim_t limit;
	int err = sk_raise_nofile(&limit);

	if (err < 0)
		fail("raising RLIMIT_NOFILE: %s", strerror(-err));
	if ((unsigned long long)need > (unsigned long long)limit)
		fail("need %ld file descriptors but RLIMIT_NOFILE allows only "
		     "%llu",
		     need, (unsigned long long)limit);
	held.cap = (size_t)held_needed(cfg);
	held.fd = calloc(held.cap, sizeof(*held.fd));
	if (!held.fd)
		fail("out of memory");
}

/* Ports of ip_local_port_range, from which bind() to port 0 picks. */
static long port_range(void)
{
	FILE *fp = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	long lo, hi, n = -1;

	if (fp) {
		if (fscanf(fp, "%ld %ld", &lo, &hi) == 2 && hi >= lo)
			n = hi - lo + 1;
		fclose(fp);
	}
	return n;
}

/* Every --time-wait client keeps its bound port until TIME_WAIT ends. */
static void check_tw_ports(const struct config *cfg)
{
	long v4 = fam_count(cfg, cfg->count[K_TW], F4);
	long v6 = fam_count(cfg, cfg->count[K_TW], F6);
	long most = (v4 + cfg->tw_sources - 1) / cfg->tw_sources;
	long range = port_range();

	if (v6 > most)
		most = v6;
	if (range < 0)
		return;
	if (most > range)
		fail("--time-wait: %ld clients on one source address, but "
		     "ip_local_port_range has only %ld ports",
		     most, range);
	/*
	 * bind() searches one half of the range first and falls back to
	 * the other only after rescanning the first in full, so creation
	 * turns roughly quadratic past that point.
	 */
	if (most > range / 2)
		fprintf(stderr,
			"sockmaker: warning: %ld --time-wait clients "
			"on one source address, more than half of "
			"ip_local_port_range (%ld): this will be slow; "
			"raise --tw-sources\n",
			most, range / 2);
}

static void check_kernel_limits(const struct config *cfg)
{
	long tw = read_sysctl("/proc/sys/net/ipv4/tcp_max_tw_buckets");
	long q = read_sysctl("/proc/sys/net/core/somaxconn");
	long n;
	enum fam f;

	/* Orphaned FIN_WAIT2 peers of --close-wait use the same buckets. */
	if (tw >= 0 &&
	    cfg->count[K_TW] + cfg->count[K_STW] + cfg->count[K_CW] > tw)
		fail("--time-wait, --server-time-wait and --close-wait exceed "
		     "net.ipv4.tcp_max_tw_buckets (%ld)",
		     tw);
	check_tw_ports(cfg);
	if (q < 0 || q > BACKLOG)
		q = BACKLOG;
	/* Beyond the backlog the SYN queue answers with cookies instead. */
	for (f = F4; f < NFAM; f++) {
		n = fam_count(cfg, cfg->count[K_SYNR], f);
		if (n >= q)
			fail("--syn-recv: %ld clients on %s, but at most %ld "
			     "fit one listener's SYN queue",
			     n, fam_name(f), q - 1);
	}
}

static void on_signal(int sig)
{
	stop_sig = sig;
}

static void setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0)
		fail("sigaction: %s", strerror(errno));
	/* A vanished reader must show up as a write error, not a kill. */
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Each line on stdin: --send-on-input bytes on every --connect client.
 * With the peer gone they stay unacknowledged and are retransmitted.
 * SENT tells the caller they were queued.
 */
static void send_on_input(const struct config *cfg, const char *buf, ssize_t n)
{
	ssize_t i;
	size_t c;

	for (i = 0; i < n; i++) {
		if (buf[i] != '\n')
			continue;
		for (c = 0; c < peers.n; c++)
			send_bytes(held.fd[peers.first + c], cfg->send_bytes);
		if (printf("SENT %ld\n", cfg->send_bytes * (long)peers.n) < 0 ||
		    fflush(stdout) == EOF)
			fail("writing SENT: %s", strerror(errno));
	}
}

/* True once stdin is at EOF or unusable; input is ignored unless
 * --send-on-input gives it a meaning. */
static bool stdin_done(const struct config *cfg, long long left_ms,
		       const sigset_t *mask)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	struct timespec ts = { .tv_sec = left_ms / 1000,
			       .tv_nsec = (left_ms % 1000) * 1000000L };
	char buf[512];
	ssize_t r;
	int n = ppoll(&p, 1, &ts, mask);

	if (n < 0)
		return errno != EINTR;
	if (n == 0)
		return false;
	r = read(STDIN_FILENO, buf, sizeof(buf));
	if (r < 0)
		return errno != EINTR && errno != EAGAIN;
	if (r > 0 && cfg->send_bytes > 0)
		send_on_input(cfg, buf, r);
	return r == 0;
}

static void hold_until_done(const struct config *cfg)
{
	long long deadline = sk_now_ms() + cfg->hold * 1000LL;
	sigset_t block, orig;

	/*
	 * Blocked except inside ppoll(), so a signal cannot land between
	 * the flag test and the wait and go unnoticed until the timeout.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);
	while (!stop_sig && sk_now_ms() < deadline)
		if (stdin_done(cfg, deadline - sk_now_ms(), &orig))
			break;
	sigprocmask(SIG_SETMASK, &orig, NULL);
}

static void usage(FILE *fp)
{
	fputs("usage: sockmaker [--established N] [--time-wait N] "
	      "[--close-wait N]\n"
	      "         [--fin-wait2 N] [--listen N] [--syn-recv N] "
	      "[--v6-every K]\n"
	      "         [--tw-sources M] [--close-wait-bytes B] "
	      "[--hold SECONDS] [--report]\n"
	      "         [--server-time-wait N] [--port P] "
	      "[--queue N [--backlog B] [--bind ADDR]]\n"
	      "         [--connect ADDR:PORT --clients N "
	      "[--send-on-input BYTES]]\n"
	      "Holds TCP sockets in the given states on 127.0.0.0/8 and ::1,\n"
	      "prints READY, then waits for EOF on stdin, SIGTERM/SIGINT or\n"
	      "the --hold timeout (default 120 s).\n"
	      "  --server-time-wait N  the server closes first: TIME_WAIT on\n"
	      "                        the listener's port, which stays open\n"
	      "  --port P              helper listeners use port P (one kind\n"
	      "                        of connection per run)\n"
	      "  --queue N             an IPv4 listener (backlog B, default "
	      "4096)\n"
	      "                        that never accepts, N clients: "
	      "backlog+1\n"
	      "                        queued, the rest left in SYN_SENT; N "
	      "may "
	      "be 0\n"
	      "  --bind ADDR           IPv4 address of the --queue listener\n"
	      "  --connect ADDR:PORT   --clients N connect to a listener "
	      "elsewhere\n"
	      "  --send-on-input B     each stdin line: B bytes on every "
	      "--connect\n"
	      "                        client, then SENT <total> on stdout\n"
	      "All sockets are reset (SO_LINGER 0) when sockmaker ends.\n",
	      fp);
}

/* An IPv4 address in host byte order. */
static uint32_t parse_v4(const char *opt, const char *arg)
{
	struct in_addr a;

	if (inet_pton(AF_INET, arg, &a) != 1)
		fail("--%s wants an IPv4 address, not '%s'", opt, arg);
	return ntohl(a.s_addr);
}

static long parse_num(const char *opt, const char *arg, long min, long max);

/* --connect ADDR:PORT */
static void parse_peer(struct config *cfg, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	char addr[INET_ADDRSTRLEN];
	size_t len = colon ? (size_t)(colon - arg) : 0;

	if (!colon || len == 0 || len >= sizeof(addr))
		fail("--connect wants ADDR:PORT, not '%s'", arg);
	memcpy(addr, arg, len);
	addr[len] = '\0';
	cfg->peer_v4 = parse_v4("connect", addr);
	cfg->peer_port = parse_num("connect", colon + 1, 1, 65535);
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
	{ "established", required_argument, NULL, 'e' },
	{ "time-wait", required_argument, NULL, 't' },
	{ "close-wait", required_argument, NULL, 'c' },
	{ "fin-wait2", required_argument, NULL, 'f' },
	{ "listen", required_argument, NULL, 'l' },
	{ "syn-recv", required_argument, NULL, 's' },
	{ "v6-every", required_argument, NULL, 'k' },
	{ "tw-sources", required_argument, NULL, 'm' },
	{ "hold", required_argument, NULL, 'H' },
	{ "close-wait-bytes", required_argument, NULL, 'b' },
	{ "server-time-wait", required_argument, NULL, 'T' },
	{ "queue", required_argument, NULL, 'q' },
	{ "backlog", required_argument, NULL, 'B' },
	{ "port", required_argument, NULL, 'p' },
	{ "bind", required_argument, NULL, 'A' },
	{ "connect", required_argument, NULL, 'C' },
	{ "clients", required_argument, NULL, 'n' },
	{ "send-on-input", required_argument, NULL, 'S' },
	{ "report", no_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The count an option sets, or NULL for the ones that are not counts. */
static long *count_target(struct config *cfg, int opt)
{
	switch (opt) {
	case 'e':
		return &cfg->count[K_EST];
	case 't':
		return &cfg->count[K_TW];
	case 'c':
		return &cfg->count[K_CW];
	case 'f':
		return &cfg->count[K_FW2];
	case 's':
		return &cfg->count[K_SYNR];
	case 'l':
		return &cfg->listen;
	case 'T':
		return &cfg->count[K_STW];
	case 'q':
		return &cfg->count[K_QUEUE];
	case 'n':
		return &cfg->clients;
	default:
		return NULL;
	}
}

static void parse_one(struct config *cfg, int opt, int idx)
{
	const char *name = long_opts[idx].name;
	long *cnt = count_target(cfg, opt);

	if (cnt) {
		*cnt = parse_num(name, optarg, 0, MAX_COUNT);
		return;
	}
	switch (opt) {
	case 'k':
		cfg->v6_every = parse_num(name, optarg, 0, MAX_COUNT);
		break;
	case 'm':
		cfg->tw_sources = parse_num(name, optarg, 1, MAX_TW_SOURCES);
		break;
	case 'H':
		cfg->hold = parse_num(name, optarg, 0, MAX_COUNT);
		break;
	case 'b':
		cfg->cw_bytes = parse_num(name, optarg, 0, 65536);
		break;
	case 'p':
		cfg->port = parse_num(name, optarg, 1, 65535);
		break;
	case 'B':
		cfg->backlog = parse_num(name, optarg, 0, BACKLOG);
		break;
	case 'S':
		cfg->send_bytes = parse_num(name, optarg, 1, 65536);
		break;
	case 'A':
		cfg->bind_v4 = parse_v4(name, optarg);
		break;
	case 'C':
		parse_peer(cfg, optarg);
		break;
	case 'r':
		cfg->report = true;
		break;
	}
}

/* Options that only make sense together. */
static void check_options(const struct config *cfg)
{
	int kinds = 0, k;

	for (k = 0; k < NKINDS; k++)
		kinds += cfg->count[k] > 0 ||
			 (k == K_QUEUE && cfg->count[k] == 0);
	if (cfg->port && kinds > 1)
		fail("--port: give only one kind of connection with it");
	if ((cfg->clients || cfg->send_bytes) && !cfg->peer_port)
		fail("--clients and --send-on-input need --connect");
}

static void parse_args(int argc, char **argv, struct config *cfg)
{
	int opt, idx = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->v6_every = 3;
	cfg->tw_sources = 1;
	cfg->hold = 120;
	cfg->count[K_QUEUE] = -1; /* no --queue: no listener either */
	cfg->backlog = BACKLOG;
	cfg->bind_v4 = INADDR_LOOPBACK;
	/* Long options only: a leading '+' stops at the first operand. */
	while ((opt = getopt_long(argc, argv, "+", long_opts, &idx)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			exit(0);
		}
		if (opt == '?') {
			usage(stderr);
			exit(1);
		}
		parse_one(cfg, opt, idx);
	}
	if (optind < argc)
		fail("unexpected argument '%s' (try --help)", argv[optind]);
	check_options(cfg);
}

/*
 * Close-wait first: its orphaned peers start expiring soonest.
 * Time-wait last: TIME_WAIT runs out 60 s after creation.
 */
int main(int argc, char **argv)
{
	struct config cfg;

	parse_args(argc, argv, &cfg);
	setup_signals();
	reserve_fds(&cfg);
	check_kernel_limits(&cfg);
	make_pairs(&cfg, K_CW, hold_close_wait);
	make_pairs(&cfg, K_EST, hold_established);
	make_pairs(&cfg, K_FW2, hold_fin_wait2);
	make_listen(&cfg);
	make_syn_recv(&cfg);
	make_queue(&cfg);
	make_clients(&cfg);
	make_pairs(&cfg, K_STW, server_time_wait);
	make_time_wait(&cfg);
	if (cfg.report)
		report(&cfg);
	check_stop();
	if (printf("READY\n") < 0 || fflush(stdout) == EOF)
		fail("writing READY: %s", strerror(errno));
	hold_until_done(&cfg);
	abort_all();
	return 0;
}

/*
 * Socket building shared by the programs that hold real TCP sockets for
 * the tests and the benchmark (tests/tools/sockmaker.c,
 * tests/tools/handoff.c, tests/bench/populate.c): addresses, listeners,
 * bounded connects, accepts and waits, the open-files limit. Nothing
 * here prints or exits: a function returns 0, a descriptor or a TCP
 * state, or -errno, and the program says what failed in its own words.
 * STOP, where a wait takes one, is the program's signal flag (or NULL):
 * once it is set the wait gives up with -EINTR.
 */
#ifndef TCPSTATES_TEST_SOCKETS_H
#define TCPSTATES_TEST_SOCKETS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

/* IPv4 or IPv6; indexes the programs' arrays per family. */
enum fam { F4, F6, NFAM };

/* An address to bind, listen or connect on. */
struct sk_addr {
	struct sockaddr_storage sa;
	socklen_t len;
};

/* Milliseconds on CLOCK_MONOTONIC. */
long long sk_now_ms(void);
void sk_sleep_ms(long ms);

/* F6: ::1. F4: V4, in host byte order (INADDR_LOOPBACK, 127.1.0.1, an
 * address on a test's veth). */
void sk_addr_set(enum fam f, uint32_t v4, uint16_t port,
		 struct sk_addr *ret_addr);
void sk_addr_set_port(struct sk_addr *addr, uint16_t port);
enum fam sk_addr_fam(const struct sk_addr *addr);
/* Where FD is bound (getsockname). Returns 0 or -errno. */
int sk_addr_local(int fd, struct sk_addr *ret_addr);

/* A TCP socket of family F, close-on-exec, FLAGS (SOCK_NONBLOCK) added
 * to its type. Returns the descriptor or -errno. */
int sk_socket(enum fam f, int flags);
/* setsockopt() of one int. Returns 0 or -errno. */
int sk_set_int(int fd, int level, int name, int value);
/* close() then resets the connection (SO_LINGER 0): nothing lingers in
 * TIME_WAIT. Returns 0 or -errno. */
int sk_set_abortive(int fd);
int sk_bind(int fd, const struct sk_addr *addr);

/*
 * A TCP socket of AT's family (FLAGS added to its type) listening on AT
 * with BACKLOG. REUSE sets SO_REUSEADDR first: a port chosen by the
 * caller may still have TIME_WAITs of an earlier run. DEFER_S > 0 sets
 * TCP_DEFER_ACCEPT before listen(), so that no request slips in
 * undeferred. Returns the descriptor, or -errno and closes it.
 */
int sk_listener(const struct sk_addr *at, int flags, bool reuse, int backlog,
		int defer_s);

/* A blocking connect() to DST bounded by SO_SNDTIMEO: a dropped SYN
 * would otherwise be retried for minutes. Returns 0 or -errno,
 * -EINPROGRESS when TIMEOUT_MS ran out. */
int sk_connect(int fd, const struct sk_addr *dst, int timeout_ms);
/* Waits for a connection on LFD and accepts it, close-on-exec with
 * FLAGS. Returns the descriptor or -errno (-ETIMEDOUT, -EINTR). */
int sk_accept(int lfd, int flags, int timeout_ms,
	      const volatile sig_atomic_t *stop);

/* Returns 0 or -errno. */
int sk_tcp_info(int fd, struct tcp_info *ret_info);
/* Returns FD's TCP state (TCP_ESTABLISHED...) or -errno. */
int sk_tcp_state(int fd);
/* Waits for EVENTS on FD (poll). Returns 0, or -ETIMEDOUT, -EINTR or
 * poll's -errno. */
int sk_wait_fd(int fd, short events, int timeout_ms,
	       const volatile sig_atomic_t *stop);
/* Loopback segments are normally handled before the sending call
 * returns, but nothing promises that: polls FD's state every ms until it
 * is WANT. Returns 0, -ETIMEDOUT, -EINTR or -errno. */
int sk_wait_state(int fd, int want, int timeout_ms,
		  const volatile sig_atomic_t *stop);

/* Raises the soft open-files limit to the hard one, which goes to
 * *RET_LIMIT (RLIM_INFINITY possibly). Returns 0 or -errno. */
int sk_raise_nofile(rlim_t *ret_limit);

#endif

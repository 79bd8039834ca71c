/* Socket building for the test and benchmark programs: see sockets.h. */
#define _GNU_SOURCE /* accept4() */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "sockets.h"

long long sk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sk_sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

void sk_addr_set(enum fam f, uint32_t v4, uint16_t port,
		 struct sk_addr *ret_addr)
{
	memset(ret_addr, 0, sizeof(*ret_addr));
	if (f == F6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ret_addr->sa;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		ret_addr->len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ret_addr->sa;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(v4);
		ret_addr->len = sizeof(*s4);
	}
	sk_addr_set_port(ret_addr, port);
}

void sk_addr_set_port(struct sk_addr *addr, uint16_t port)
{
	if (addr->sa.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&addr->sa)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&addr->sa)->sin_port = htons(port);
}

enum fam sk_addr_fam(const struct sk_addr *addr)
{
	return addr->sa.ss_family == AF_INET6 ? F6 : F4;
}

int sk_addr_local(int fd, struct sk_addr *ret_addr)
{
	struct sk_addr addr = { .len = sizeof(addr.sa) };

	if (getsockname(fd, (struct sockaddr *)&addr.sa, &addr.len) < 0)
		return -errno;
	*ret_addr = addr;
	return 0;
}

int sk_socket(enum fam f, int flags)
{
	int fd = socket(f == F6 ? AF_INET6 : AF_INET,
			SOCK_STREAM | SOCK_CLOEXEC | flags, 0);

	return fd < 0 ? -errno : fd;
}

int sk_set_int(int fd, int level, int name, int value)
{
	if (setsockopt(fd, level, name, &value, sizeof(value)) < 0)
		return -errno;
	return 0;
}

int sk_set_abortive(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		return -errno;
	return 0;
}

int sk_bind(int fd, const struct sk_addr *addr)
{
	if (bind(fd, (const struct sockaddr *)&addr->sa, addr->len) < 0)
		return -errno;
	return 0;
}

static int listen_on(int fd, const struct sk_addr *at, bool reuse, int backlog,
		     int defer_s)
{
	int err = 0;

	if (reuse)
		err = sk_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (err == 0)
		err = sk_bind(fd, at);
	if (err == 0 && defer_s > 0)
		err = sk_set_int(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, defer_s);
	if (err == 0 && listen(fd, backlog) < 0)
		err = -errno;
	return err;
}

int sk_listener(const struct sk_addr *at, int flags, bool reuse, int backlog,
		int defer_s)
{
	int fd = sk_socket(sk_addr_fam(at), flags), err;

	if (fd < 0)
		return fd;
	err = listen_on(fd, at, reuse, backlog, defer_s);
	if (err < 0) {
		close(fd);
		return err;
	}
	return fd;
}

int sk_connect(int fd, const struct sk_addr *dst, int timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
			      .tv_usec = (timeout_ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (const struct sockaddr *)&dst->sa, dst->len) < 0)
		return -errno;
	return 0;
}

int sk_accept(int lfd, int flags, int timeout_ms,
	      const volatile sig_atomic_t *stop)
{
	int err = sk_wait_fd(lfd, POLLIN, timeout_ms, stop);
	int fd;

	if (err < 0)
		return err;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | flags);
	return fd < 0 ? -errno : fd;
}

int sk_tcp_info(int fd, struct tcp_info *ret_info)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -errno;
	*ret_info = ti;
	return 0;
}

int sk_tcp_state(int fd)
{
	struct tcp_info ti;
	int err = sk_tcp_info(fd, &ti);

	return err < 0 ? err : ti.tcpi_state;
}

int sk_wait_fd(int fd, short events, int timeout_ms,
	       const volatile sig_atomic_t *stop)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do {
		r = poll(&p, 1, timeout_ms);
	} while (r < 0 && errno == EINTR && !(stop && *stop));
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

int sk_wait_state(int fd, int want, int timeout_ms,
		  const volatile sig_atomic_t *stop)
{
	long long deadline = sk_now_ms() + timeout_ms;
	int state;

	while ((state = sk_tcp_state(fd)) != want) {
		if (state < 0)
			return state;
		if (sk_now_ms() >= deadline)
			return -ETIMEDOUT;
		if (stop && *stop)
			return -EINTR;
		sk_sleep_ms(1);
	}
	return 0;
}

int sk_raise_nofile(rlim_t *ret_limit)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	*ret_limit = rl.rlim_max;
	return 0;
}

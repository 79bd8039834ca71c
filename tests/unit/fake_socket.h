/* A scripted netlink socket under a real diag handle: each recv plays
 * the next scripted reply (bytes built with nlbuild) or returns an error,
 * across every socket the handle's owner opens. */
#ifndef TCPSTATES_TEST_FAKE_SOCKET_H
#define TCPSTATES_TEST_FAKE_SOCKET_H

#include <stdbool.h>
#include <stddef.h>

#include "nlbuild.h"
#include "tcpstates/diag.h"

#define FAKE_SOCK_MAX_REPLIES 8
#define FAKE_SOCK_MAX_SENDS 8

struct fake_reply {
	struct nlbuf msg; /* sent with the request's sequence number */
	int error;	  /* < 0: recv returns this instead of msg */
	size_t cut;	  /* > 0: only the first cut bytes arrive */
	bool forever;	  /* played on every recv until the next open */
};

struct fake_socket {
	struct fake_reply replies[FAKE_SOCK_MAX_REPLIES];
	int replies_num, next_reply;
	int open_results[FAKE_SOCK_MAX_SENDS]; /* what the n-th open returns */
	int send_results[FAKE_SOCK_MAX_SENDS]; /* what the n-th send returns */
	int opens, closes, open_socks, sends;
	int fail_every_recv; /* < 0: every recv returns it, script or not */
	long recvs;
	bool playing_forever;
	uint32_t seq; /* of the last request */
};

extern const struct tcps_diag_io fake_socket_io;

/* A diag config over fake with a deadline of deadline_ms (0: default). */
struct tcps_diag_config fake_socket_config(struct fake_socket *fake,
					   unsigned int deadline_ms);

/* Appends an empty reply to fill with nlb_put*(). */
struct fake_reply *fake_socket_reply(struct fake_socket *fake);
/* Appends a recv that fails with error. */
void fake_socket_recv_error(struct fake_socket *fake, int error);
/* Appends a whole healthy dump: ESTABLISHED x est, LISTEN x listen. */
void fake_socket_healthy(struct fake_socket *fake, int est, int listen);

#endif

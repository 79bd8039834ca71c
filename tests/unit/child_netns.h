/* A child process in a network namespace of its own (root only), for
 * the suites that read or enter a real namespace. */
#ifndef TCPSTATES_TEST_CHILD_NETNS_H
#define TCPSTATES_TEST_CHILD_NETNS_H

#include <stdbool.h>
#include <sys/types.h>

/* Forks a child that unshares a new network namespace and, with listen,
 * holds one listening TCP socket in it; returns once it is ready. The
 * child dies with the test process. */
pid_t child_netns_spawn(bool listen);

/* Kills and reaps the child. */
void child_netns_end(pid_t pid);

#endif

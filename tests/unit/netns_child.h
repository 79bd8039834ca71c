/* Real network namespaces for the tests that need one (root only): a
 * child process unshares it and holds it until the test ends it. */
#ifndef TCPSTATES_TEST_NETNS_CHILD_H
#define TCPSTATES_TEST_NETNS_CHILD_H

#include <sys/types.h>

/* A child in a network namespace of its own, ready when this returns;
 * it dies with the test (PR_SET_PDEATHSIG) if not ended before. Its
 * namespace is /proc/PID/ns/net. */
pid_t spawn_in_new_namespace(void);

/* Kills the child and reaps it. */
void end_child(pid_t pid);

#endif

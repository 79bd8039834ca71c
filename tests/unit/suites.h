/* Every unit suite: the one list a new suite is added to. Each module
 * of the core has a suite named after it (test_NAME.c, NAME_suite()),
 * run in this order by main.c. */
#ifndef TCPSTATES_TEST_SUITES_H
#define TCPSTATES_TEST_SUITES_H

#include <check.h>

#define UNIT_SUITES(X)                                                    \
	X(record)                                                         \
	X(diag)                                                           \
	X(faults)                                                         \
	X(privs)                                                          \
	X(tally)                                                          \
	X(options)                                                        \
	X(collect)                                                        \
	X(collect_failures)                                               \
	X(observers)                                                      \
	X(netns)                                                          \
	X(namespaces)                                                     \
	X(listeners)                                                      \
	X(stuck)                                                          \
	X(ports)                                                          \
	X(names)                                                          \
	X(procfs)                                                         \
	X(containers)                                                     \
	X(discover)                                                       \
	X(cgroup_names)                                                   \
	X(cgroups)                                                        \
	X(owners)                                                         \
	X(ages)                                                           \
	X(leaks)                                                          \
	X(dest_table)                                                     \
	X(ephemeral)                                                      \
	X(sysctls)                                                        \
	X(sink)                                                           \
	X(util)

#define DECLARE_SUITE(name) Suite *name##_suite(void);
UNIT_SUITES(DECLARE_SUITE)
#undef DECLARE_SUITE

#endif

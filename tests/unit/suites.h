#ifndef TCPSTATES_TEST_SUITES_H
#define TCPSTATES_TEST_SUITES_H

#include <check.h>

Suite *diag_suite(void);
Suite *tally_suite(void);
Suite *options_suite(void);
Suite *collect_suite(void);
Suite *collect_fake_suite(void);
Suite *listeners_suite(void);
Suite *stuck_suite(void);
Suite *ports_suite(void);
Suite *names_suite(void);
Suite *procfs_suite(void);
Suite *owners_suite(void);
Suite *leaks_suite(void);
Suite *ephemeral_suite(void);
Suite *privs_suite(void);
Suite *faults_suite(void);
Suite *sink_suite(void);
Suite *util_suite(void);

#endif

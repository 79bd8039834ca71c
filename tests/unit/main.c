/* Runs every unit suite; fork mode so a crash fails one test only. */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *runner = srunner_create(diag_suite());
	int failed;

	srunner_add_suite(runner, tally_suite());
	srunner_add_suite(runner, options_suite());
	srunner_add_suite(runner, collect_suite());
	srunner_add_suite(runner, collect_fake_suite());
	srunner_add_suite(runner, listeners_suite());
	srunner_add_suite(runner, stuck_suite());
	srunner_add_suite(runner, ports_suite());
	srunner_add_suite(runner, names_suite());
	srunner_add_suite(runner, procfs_suite());
	srunner_add_suite(runner, owners_suite());
	srunner_add_suite(runner, leaks_suite());
	srunner_add_suite(runner, ephemeral_suite());
	srunner_add_suite(runner, privs_suite());
	srunner_add_suite(runner, faults_suite());
	srunner_add_suite(runner, sink_suite());
	srunner_add_suite(runner, util_suite());
	srunner_set_fork_status(runner, CK_FORK);
	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

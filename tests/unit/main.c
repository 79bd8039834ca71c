/* Runs every unit suite; fork mode so a crash fails one test only. */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *runner = srunner_create(NULL);
	int failed;

#define ADD_SUITE(name) srunner_add_suite(runner, name##_suite());
	UNIT_SUITES(ADD_SUITE)
#undef ADD_SUITE
	srunner_set_fork_status(runner, CK_FORK);
	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * hostile-name.so: an LD_PRELOAD shim that renames the process it is loaded
 * into before main() runs, to the bytes in $TCPS_HOSTILE_COMM (the kernel
 * keeps the first 15). exec() names a process after its file, and a file
 * name cannot hold '/'; prctl(PR_SET_NAME) takes any byte but NUL, so this
 * is how a test gets dots, slashes, spaces, quotes and a newline into
 * /proc/PID/comm of a program that holds sockets (tests/tools/sockmaker).
 *
 *   gcc -shared -fPIC -o hostile-name.so tests/tools/hostile-name.c
 *   TCPS_HOSTILE_COMM=$'a.b/c "d\'\ne' LD_PRELOAD=./hostile-name.so \
 *       build/sockmaker --close-wait 7
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>

__attribute__((constructor)) static void rename_process(void)
{
	const char *name = getenv("TCPS_HOSTILE_COMM");

	/* The main thread's name is the process's comm. */
	if (name && prctl(PR_SET_NAME, name, 0, 0, 0) != 0)
		perror("hostile-name: prctl(PR_SET_NAME)");
}

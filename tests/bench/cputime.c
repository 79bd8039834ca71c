/*
 * Benchmark helper: CPU time, measured by the kernel's own accounting.
 *
 *   cputime run CMD [ARG]...
 *       runs CMD with stdout on /dev/null and prints one line
 *       "CPU_SECONDS MAXRSS_KIB WALL_SECONDS EXIT_STATUS": user + system
 *       time and peak resident set of CMD and its waited-for children
 *       (getrusage RUSAGE_CHILDREN), so this process's start is excluded.
 *   cputime watch PID SECONDS
 *       prints the CPU seconds process PID (all its threads, live or gone)
 *       used during exactly SECONDS of wall time, from its process CPU
 *       clock (nanoseconds, not clock ticks).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

static double ts_seconds(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

static double tv_seconds(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static void child_exec(char **argv)
{
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
		_exit(126);
	execvp(argv[0], argv);
	fprintf(stderr, "cputime: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int run(char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status, code;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0)
		return perror("cputime: fork"), 1;
	if (pid == 0)
		child_exec(argv);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return perror("cputime: waitpid"), 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (getrusage(RUSAGE_CHILDREN, &ru) < 0)
		return perror("cputime: getrusage"), 1;
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	printf("%.6f %ld %.6f %d\n",
	       tv_seconds(&ru.ru_utime) + tv_seconds(&ru.ru_stime),
	       ru.ru_maxrss, ts_seconds(&t1) - ts_seconds(&t0), code);
	return code;
}

static int process_cpu(clockid_t clock, double *ret)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) < 0)
		return -errno;
	*ret = ts_seconds(&ts);
	return 0;
}

static int watch(pid_t pid, double seconds)
{
	struct timespec end;
	double before, after;
	clockid_t clock;
	int err;

	err = clock_getcpuclockid(pid, &clock);
	if (err)
		return fprintf(stderr, "cputime: pid %d: %s\n", (int)pid,
			       strerror(err)),
		       1;
	clock_gettime(CLOCK_MONOTONIC, &end);
	if (process_cpu(clock, &before) < 0)
		return perror("cputime: clock_gettime"), 1;
	end.tv_sec += (time_t)seconds;
	end.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL) ==
	       EINTR)
		;
	if (process_cpu(clock, &after) < 0)
		return perror("cputime: process gone"), 1;
	printf("%.6f\n", after - before);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return run(argv + 2);
	if (argc == 4 && strcmp(argv[1], "watch") == 0)
		return watch((pid_t)atoi(argv[2]), atof(argv[3]));
	fputs("usage: cputime run CMD [ARG]... | cputime watch PID SECONDS\n",
	      stderr);
	return 2;
}

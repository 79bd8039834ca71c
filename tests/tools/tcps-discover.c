/*
 * Runs the namespace discovery the plugin's Discover option uses and
 * prints what it found, one namespace a line, tab-separated:
 *
 *   NAME RUNTIME PID INODE PATH      (RUNTIME "-" when none, PID 0 when
 *                                      only pinned)
 *
 *   tcps-discover [-p PROC] [-r RUN] [-l VAR_LIB]
 *
 * The roots default to /proc, /run and /var/lib; the namespace left out
 * is this process's own. Used by tests/test-discover-podman.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "tcpstates/discover.h"

static int parse_args(int argc, char **argv, struct tcps_discover_roots *roots)
{
	int c;

	while ((c = getopt(argc, argv, "p:r:l:")) != -1) {
		if (c == 'p')
			roots->proc = optarg;
		else if (c == 'r')
			roots->run = optarg;
		else if (c == 'l')
			roots->var_lib = optarg;
		else
			return -EINVAL;
	}
	return optind == argc ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	struct tcps_discover_roots roots = { .proc = "/proc",
					     .run = "/run",
					     .var_lib = "/var/lib" };
	struct tcps_discovered *list;
	size_t num;
	uint64_t skipped;
	struct stat own;
	char own_path[TCPS_DISCOVER_PATH_MAX];
	int err;

	if (parse_args(argc, argv, &roots) != 0) {
		fprintf(stderr, "usage: %s [-p PROC] [-r RUN] [-l VAR_LIB]\n",
			argv[0]);
		return 2;
	}
	snprintf(own_path, sizeof(own_path), "%s/self/ns/net", roots.proc);
	if (stat(own_path, &own) != 0) {
		fprintf(stderr, "tcps-discover: %s: %s\n", own_path,
			strerror(errno));
		return 1;
	}
	err = tcps_discover(&roots, own.st_dev, own.st_ino, &list, &num,
			    &skipped);
	if (err) {
		fprintf(stderr, "tcps-discover: %s\n", strerror(-err));
		return 1;
	}
	for (size_t i = 0; i < num; i++)
		printf("%s\t%s\t%d\t%llu\t%s\n", list[i].name,
		       list[i].runtime[0] ? list[i].runtime : "-", list[i].pid,
		       (unsigned long long)list[i].ino, list[i].path);
	fprintf(stderr, "tcps-discover: %zu namespaces, %llu skipped\n", num,
		(unsigned long long)skipped);
	tcps_discovered_free(list);
	return 0;
}

/*
 * Benchmark helper: what a reader of /proc/PID/net/tcp does for each
 * container (cAdvisor's per-container TCP statistics): for each PID, read
 * /proc/PID/net/tcp and /proc/PID/net/tcp6, the TCP sockets of PID's
 * network namespace as text, and count them by state.
 *
 *   procnet [-n READS] PID...
 *
 * Every read goes through all the PIDs; the counts of the last read,
 * summed over them, go to stdout as "STATE-NUMBER COUNT" lines (the
 * numbers of include/net/tcp_states.h), so that a caller can check them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* States 1..11 and anything the kernel might add. */
#define STATES 16
/* The kernel writes these files a page at a time; read them in bigger
 * pieces, as a buffered reader would. */
#define BUFFER_SIZE (64 * 1024)

static int count_file(const char *path, unsigned long counts[STATES])
{
	static char buffer[BUFFER_SIZE];
	char line[512];
	unsigned int state;
	FILE *fp = fopen(path, "re");

	if (!fp)
		return -errno;
	setvbuf(fp, buffer, _IOFBF, sizeof(buffer));
	/* "sl local_address rem_address st ...", then one line a socket. */
	if (!fgets(line, sizeof(line), fp)) {
		fclose(fp);
		return -EIO;
	}
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "%*s %*s %*s %x", &state) == 1)
			counts[state < STATES ? state : 0]++;
	fclose(fp);
	return 0;
}

static int read_all(int pids, char **pid, unsigned long counts[STATES])
{
	static const char *const files[] = { "tcp", "tcp6" };
	char path[64];
	int i, f, err;

	memset(counts, 0, sizeof(unsigned long) * STATES);
	for (i = 0; i < pids; i++)
		for (f = 0; f < 2; f++) {
			snprintf(path, sizeof(path), "/proc/%s/net/%s", pid[i],
				 files[f]);
			err = count_file(path, counts);
			if (err < 0) {
				fprintf(stderr, "procnet: %s: %s\n", path,
					strerror(-err));
				return 1;
			}
		}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long counts[STATES];
	long reads = 1, r;
	int opt, s;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n' || (reads = strtol(optarg, NULL, 10)) < 1) {
			fprintf(stderr, "usage: procnet [-n READS] PID...\n");
			return 2;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "usage: procnet [-n READS] PID...\n");
		return 2;
	}
	for (r = 0; r < reads; r++)
		if (read_all(argc - optind, argv + optind, counts) != 0)
			return 1;
	for (s = 0; s < STATES; s++)
		if (counts[s])
			printf("%d %lu\n", s, counts[s]);
	return 0;
}

/* Discover's namespaces: the host's, less our own and configured ones. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tcpstates/discover.h"
#include "tcpstates/host_discovery.h"

struct identity {
	uint64_t dev, ino;
};

struct tcps_host_discovery {
	char *proc_root;
	struct identity own;
	char **skip_paths;
	size_t skip_num;
};

static int identity_of(const char *path, struct identity *ret)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -errno;
	ret->dev = (uint64_t)st.st_dev;
	ret->ino = (uint64_t)st.st_ino;
	return 0;
}

void tcps_host_discovery_free(struct tcps_host_discovery *host)
{
	if (!host)
		return;
	for (size_t i = 0; i < host->skip_num; i++)
		free(host->skip_paths[i]);
	free(host->skip_paths);
	free(host->proc_root);
	free(host);
}

int tcps_host_discovery_new(const char *proc_root,
			    const char *const *skip_paths, size_t skip_num,
			    struct tcps_host_discovery **ret)
{
	struct tcps_host_discovery *host = calloc(1, sizeof(*host));
	char own_path[4096];
	int err;

	if (!host)
		return -ENOMEM;
	host->proc_root = strdup(proc_root);
	host->skip_paths = calloc(skip_num ? skip_num : 1, sizeof(char *));
	if (!host->proc_root || !host->skip_paths) {
		tcps_host_discovery_free(host);
		return -ENOMEM;
	}
	for (; host->skip_num < skip_num; host->skip_num++) {
		host->skip_paths[host->skip_num] =
			strdup(skip_paths[host->skip_num]);
		if (!host->skip_paths[host->skip_num]) {
			tcps_host_discovery_free(host);
			return -ENOMEM;
		}
	}
	snprintf(own_path, sizeof(own_path), "%s/thread-self/ns/net",
		 proc_root);
	err = identity_of(own_path, &host->own);
	if (err < 0) {
		tcps_host_discovery_free(host);
		return err;
	}
	*ret = host;
	return 0;
}

/* A namespace a <Namespace> block reads now (its path may name another
 * namespace than at start: looked at every time). */
static bool skipped(const struct tcps_host_discovery *host, uint64_t dev,
		    uint64_t ino)
{
	for (size_t i = 0; i < host->skip_num; i++) {
		struct identity id = { 0, 0 };

		if (identity_of(host->skip_paths[i], &id) == 0 &&
		    id.dev == dev && id.ino == ino)
			return true;
	}
	return false;
}

int tcps_host_discovery_run(void *arg, struct tcps_namespace_found **ret,
			    size_t *ret_num)
{
	const struct tcps_host_discovery *host = arg;
	const struct tcps_discover_roots roots = { .proc = host->proc_root,
						   .run = "/run",
						   .var_lib = "/var/lib" };
	struct tcps_discovered *list;
	struct tcps_namespace_found *found;
	size_t num, kept = 0;
	int err;

	err = tcps_discover(&roots, host->own.dev, host->own.ino, &list, &num,
			    NULL);
	if (err < 0)
		return err;
	found = calloc(num ? num : 1, sizeof(*found));
	if (!found) {
		tcps_discovered_free(list);
		return -ENOMEM;
	}
	for (size_t i = 0; i < num; i++) {
		if (skipped(host, list[i].dev, list[i].ino))
			continue;
		found[kept].dev = list[i].dev;
		found[kept].ino = list[i].ino;
		snprintf(found[kept].path, sizeof(found[kept].path), "%s",
			 list[i].path);
		snprintf(found[kept].name, sizeof(found[kept].name), "%s",
			 list[i].name);
		found[kept].from_runtime = list[i].runtime[0] != '\0';
		kept++;
	}
	tcps_discovered_free(list);
	*ret = found;
	*ret_num = kept;
	return 0;
}

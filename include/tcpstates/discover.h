/* Every network namespace on the host, each with the name the operator
 * knows it by: its container's or pod's, its pin's, or its inode's. */
#ifndef TCPSTATES_DISCOVER_H
#define TCPSTATES_DISCOVER_H

#include <stddef.h>
#include <stdint.h>

#include "tcpstates/names.h"

#define TCPS_DISCOVER_PATH_MAX 160

/* More namespaces than this are left out of a result (and counted as
 * skipped): each costs one entry of about 270 bytes. */
#define TCPS_DISCOVER_MAX 16384

/* Where the host's state lives; tests point them at fixture trees. */
struct tcps_discover_roots {
	const char *proc; /* "/proc" */
	/* "/run": netns/, docker/netns/, containerd/,
	 * containers/storage/ (CRI-O) */
	const char *run;
	/* "/var/lib": docker/containers/, containers/storage/ (Podman) */
	const char *var_lib;
};

struct tcps_discovered {
	uint64_t dev,
		ino; /* the namespace's identity: stat() of its nsfs file */
	/* What to open: a pinned file (/run/netns/X, /run/docker/netns/X)
	 * if one names it, else /proc/PID/ns/net. */
	char path[TCPS_DISCOVER_PATH_MAX];
	int pid; /* one process inside (the lowest pid), 0 if only pinned */
	char name[TCPS_NAME_MAX + 1]; /* cleaned, unique within one result */
	char runtime[16]; /* "docker", "podman", "containerd", "crio" or "" */
};

/*
 * Every network namespace on the host except the one (own_dev, own_ino),
 * sorted by inode. A namespace is named after its container (the
 * cgroup of its lowest pid, then the runtime's state files; the pod for
 * the containers of a pod), else after its pin in /run/netns or
 * /run/docker/netns, else "netns-<inode>"; when two would share a name,
 * the one with the higher inode gets "-<inode>" appended. Returns 0 and
 * a malloc'd array (free with tcps_discovered_free; NULL when there is
 * none) or -errno (-ENOENT: roots->proc cannot be listed, -ENOMEM).
 * Never trusts what it reads: unreadable or vanishing /proc entries,
 * runtime state files over TCPS_CONTAINERS_FILE_MAX and namespaces over
 * TCPS_DISCOVER_MAX are skipped, and counted in *ret_skipped if not NULL.
 */
int tcps_discover(const struct tcps_discover_roots *roots, uint64_t own_dev,
		  uint64_t own_ino, struct tcps_discovered **ret,
		  size_t *ret_num, uint64_t *ret_skipped);
void tcps_discovered_free(struct tcps_discovered *list);

#endif

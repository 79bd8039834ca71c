/*
 * Which network namespaces of this host Discover reads: every one
 * discovery finds (discover.h) but the daemon's own and those that
 * <Namespace> blocks read already, as a tcps_namespaces_discover_fn.
 */
#ifndef TCPSTATES_HOST_DISCOVERY_H
#define TCPSTATES_HOST_DISCOVERY_H

#include <stddef.h>

#include "tcpstates/namespaces.h"

struct tcps_host_discovery;

/*
 * proc_root is where /proc is; the daemon's own namespace is the calling
 * thread's now. skip_paths (copied) name namespaces read elsewhere: they
 * are looked at again at every discovery. Returns 0 or -errno.
 */
int tcps_host_discovery_new(const char *proc_root,
			    const char *const *skip_paths, size_t skip_num,
			    struct tcps_host_discovery **ret);
void tcps_host_discovery_free(struct tcps_host_discovery *host);

/* arg: a struct tcps_host_discovery. */
int tcps_host_discovery_run(void *arg, struct tcps_namespace_found **ret,
			    size_t *ret_num);

#endif

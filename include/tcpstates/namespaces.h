/*
 * The network namespaces found on the host (Discover), read together from
 * one read callback: found again every few reads, one context each (its
 * netlink socket made inside the namespace and kept), values under the
 * namespace's name, zeros once for a namespace that is gone, then its
 * state freed. Driven from one thread: nothing here is locked.
 */
#ifndef TCPSTATES_NAMESPACES_H
#define TCPSTATES_NAMESPACES_H

#include <stddef.h>
#include <stdint.h>

#include "tcpstates/collect.h"
#include "tcpstates/names.h"
#include "tcpstates/options.h"
#include "tcpstates/sink.h"

#define TCPS_NAMESPACE_PATH_MAX 160

/* One namespace as discovery found it. */
struct tcps_namespace_found {
	uint64_t dev, ino;		    /* its identity */
	char path[TCPS_NAMESPACE_PATH_MAX]; /* what to open */
	char name[TCPS_NAME_MAX + 1];	    /* cleaned, unique in a list */
	bool from_runtime; /* named by a container runtime, not a pin */
};

/* Lists the namespaces to read now into a malloc'd array (freed by the
 * caller with free()). Returns 0 or -errno. */
typedef int (*tcps_namespaces_discover_fn)(void *arg,
					   struct tcps_namespace_found **ret,
					   size_t *ret_num);

struct tcps_namespaces_config {
	/* Each namespace's context gets these (netns_path set to its own). */
	struct tcps_options opts;
	uint32_t discover_every; /* reads from one discovery to the next */
	uint32_t max_namespaces; /* read at most this many */
	tcps_namespaces_discover_fn discover;
	void *discover_arg;
	/* Where records come from (NULL: the kernel), as tcps_ctx_new_source
	 * takes it; tests script it. */
	const struct tcps_source_ops *source;
	void *source_arg;
};

/* What one read did, for the caller to log. */
#define TCPS_NAMES_LIST_MAX 256

struct tcps_namespaces_report {
	int discover_error; /* -errno of this read's discovery, or 0 */
	bool discovered;    /* a discovery ran at this read */
	size_t reading;	    /* namespaces read at this read */
	size_t left_out;    /* found beyond max_namespaces, not read */
	size_t added, gone; /* since the last read */
	/* Their names, ", " between, as many as fit (the log line's). */
	char added_names[TCPS_NAMES_LIST_MAX], gone_names[TCPS_NAMES_LIST_MAX];
	size_t failed;	 /* namespaces whose read failed */
	int first_error; /* -errno of the first failure, or 0 */
	char first_failed[TCPS_NAME_MAX + 1]; /* its name */
	/* Denied: setns needs CAP_SYS_ADMIN, which the daemon lacks. */
	bool denied;
	/* The one owner search of every namespace's sockets. */
	int resolve_error;
	struct tcps_owner_stats owners;
};

struct tcps_namespaces;

/* Copies cfg (discover_every 0 counts as 1). Returns 0 or -errno. */
int tcps_namespaces_new(const struct tcps_namespaces_config *cfg,
			struct tcps_namespaces **ret);
void tcps_namespaces_free(struct tcps_namespaces *set);

/*
 * One interval: a discovery when one is due (the first read always has
 * one), then every namespace dumped in turn, one owner search for the
 * sockets of all of them (one /proc pass, not one per namespace), and
 * their values sent to sink with each one's name as their netns ("blue";
 * never "host", which is the daemon's own namespace).
 * A namespace no longer found sends its values once as zeros (unless it
 * never sent any) and is freed. One whose path names nothing now, or
 * another namespace, sends nothing, and the next read discovers again: it
 * goes on where it is found, or sends its zeros then. Returns 0; what
 * failed is in *report.
 */
int tcps_namespaces_read(struct tcps_namespaces *set,
			 const struct tcps_sink *sink,
			 struct tcps_namespaces_report *report);

/* How many namespaces the set reads now. */
size_t tcps_namespaces_count(const struct tcps_namespaces *set);

/*
 * The index-th namespace the set reads now (index below
 * tcps_namespaces_count): returns its name, valid until the next read,
 * and sets *ret_dev and *ret_ino to its identity; NULL for an index past
 * the end. For tests and tools that check what the set holds.
 */
const char *tcps_namespaces_member(const struct tcps_namespaces *set,
				   size_t index, uint64_t *ret_dev,
				   uint64_t *ret_ino);

#endif

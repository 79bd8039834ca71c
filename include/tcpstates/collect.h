/* One interval: dump, observe every record, emit values to a sink. */
#ifndef TCPSTATES_COLLECT_H
#define TCPSTATES_COLLECT_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpstates/diag.h"
#include "tcpstates/leaks.h"
#include "tcpstates/options.h"
#include "tcpstates/sink.h"
#include "tcpstates/tally.h"

struct tcps_ctx;

/*
 * Where records come from: the kernel (tcps_kernel_source, whose open()
 * takes a const struct tcps_diag_config * or NULL), or a scripted source
 * in tests. open() returns 0 or -errno; dump() as tcps_diag_dump().
 */
struct tcps_source_ops {
	int (*open)(void *arg, void **ret_handle);
	void (*close)(void *handle);
	int (*dump)(void *handle, enum tcps_dump_family family,
		    uint32_t state_mask, tcps_record_fn fn, void *data,
		    struct tcps_dump_stats *stats);
};

extern const struct tcps_source_ops tcps_kernel_source;

/* What one read did, for the caller to log. */
struct tcps_read_report {
	int attempts;	 /* dumps tried: 1, or 2 after a retry */
	int first_error; /* -errno of the failed first attempt, or 0 */
	int error;	 /* -errno of the last attempt, or 0 */
	struct tcps_dump_stats stats; /* of the attempt that counted */
	int netns_error;	      /* the namespace is gone or unusable */
	int entered; /* setns into the namespace: only to make its socket */
	bool empty;  /* no TCP socket in the namespace: no dump was needed */
	/* As the observers reported them (struct tcps_observers_report). */
	int leaks_error; /* -errno of the leak finder, or 0 */
	const struct tcps_leaks_stats *leaks; /* NULL when it is off */
	int sysctls_error;		/* the port sysctls could not be read */
	uint64_t destinations_overflow; /* not counted: table full */
};

/*
 * Creates a context and opens its netlink socket in the calling thread's
 * network namespace. Returns 0 and sets *ret, or -errno.
 */
int tcps_ctx_new(const struct tcps_options *opts, struct tcps_ctx **ret);

/* The same with another source of records; arg is passed to ops->open. */
int tcps_ctx_new_source(const struct tcps_options *opts,
			const struct tcps_source_ops *ops, void *arg,
			struct tcps_ctx **ret);

/* Frees the context; accepts NULL. */
void tcps_ctx_free(struct tcps_ctx *ctx);

/*
 * Runs one interval. A failed or interrupted dump is retried once with a
 * fresh socket; if that fails too nothing is emitted. Returns 0 or the
 * last -errno. Another namespace is entered only to make its netlink
 * socket, its sockstat and its sysctl folder, which stay bound to it: at
 * the first read, when its path names a new namespace, and after a
 * failed dump; every other read of it needs no setns. It is entered by a
 * short-lived thread of its own: the calling thread never moves.
 */
int tcps_ctx_read(struct tcps_ctx *ctx, const struct tcps_sink *sink,
		  struct tcps_read_report *report);

/*
 * Emits the values of an interval that saw no socket, without a dump and
 * without entering the namespace: every state 0, and each group, port or
 * destination sent last time once more as 0 (the observers' own rule for
 * what disappears). What a namespace that is gone sends once.
 */
void tcps_ctx_farewell(struct tcps_ctx *ctx, const struct tcps_sink *sink);

/*
 * Points a namespace context at another path naming the namespace (its
 * first process exited, another holds it): the namespace is opened again
 * at the next read, and everything the context remembers is kept.
 * Returns 0 (also for a context of the daemon's own namespace, which has
 * no path) or -ENOMEM (the old path is kept).
 */
int tcps_ctx_set_netns(struct tcps_ctx *ctx, const char *path);

/*
 * Makes a namespace context read the namespace (dev, ino) only: when its
 * path names another one, a read enters nothing, dumps nothing and
 * reports netns_error -ESTALE. For Discover, whose paths (a pin, a pid's
 * /proc entry) may come to name another namespace between discoveries:
 * that one's sockets are not this one's. Without it a context reads
 * whatever its path names.
 */
void tcps_ctx_expect_netns(struct tcps_ctx *ctx, uint64_t dev, uint64_t ino);

/*
 * tcps_ctx_read in two steps, around an owner search shared between
 * namespaces (Discover). collect dumps the namespace, as
 * tcps_ctx_read does, and gives the leak finder's owner queries (*ret
 * inside the context, valid until emit); it returns as tcps_ctx_read, and
 * after a failure (report->error < 0) nothing is emitted for the
 * interval. emit_shared then ends the interval with the search whose last
 * resolve wrote the queries' owners.
 */
int tcps_ctx_collect(struct tcps_ctx *ctx, struct tcps_read_report *report,
		     struct tcps_owner_query **ret, size_t *ret_num);
void tcps_ctx_emit_shared(struct tcps_ctx *ctx, const struct tcps_sink *sink,
			  const struct tcps_owners *owners, int resolve_error,
			  const struct tcps_owner_stats *stats,
			  struct tcps_read_report *report);

/* The state counts of the last successful read. */
const struct tcps_state_tally *tcps_ctx_states(const struct tcps_ctx *ctx);

#endif

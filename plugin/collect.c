/* One interval: dump once, feed every record to the observers, emit. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcpstates/collect.h"
#include "tcpstates/netns.h"
#include "tcpstates/observers.h"
#include "tcpstates/procfs.h"
#include "tcpstates/sysctls.h"
#include "tcpstates/util.h"

struct tcps_ctx {
	struct tcps_options opts;
	const struct tcps_source_ops *source;
	void *source_arg;
	void *handle; /* NULL after a failure until reopened */
	struct tcps_observers *obs;
	struct tcps_netns netns; /* path NULL: the daemon's own namespace */
	/* Another namespace's, opened inside it with the socket (below). */
	int sockstat_fd;       /* its net/sockstat, or -1 */
	int sysctls_dir;       /* its sys/net/ipv4, or -errno */
	uint64_t collected_ms; /* when tcps_ctx_collect dumped */
	bool expect;	       /* read only the namespace below */
	uint64_t expect_dev, expect_ino;
};

/* arg: a struct tcps_diag_config (a test's socket, a shorter deadline),
 * or NULL for the kernel's socket and the default deadline. */
static int kernel_open(void *arg, void **ret_handle)
{
	struct tcps_diag *diag;
	int ret;

	ret = tcps_diag_open_config(arg, &diag);
	if (ret == 0)
		*ret_handle = diag;
	return ret;
}

static void kernel_close(void *handle)
{
	tcps_diag_close(handle);
}

static int kernel_dump(void *handle, enum tcps_dump_family family,
		       uint32_t state_mask, tcps_record_fn fn, void *data,
		       struct tcps_dump_stats *stats)
{
	return tcps_diag_dump(handle, family, state_mask, fn, data, stats);
}

const struct tcps_source_ops tcps_kernel_source = {
	.open = kernel_open,
	.close = kernel_close,
	.dump = kernel_dump,
};

static enum tcps_dump_family dump_family(const struct tcps_options *opts)
{
	if (opts->ipv4 && opts->ipv6)
		return TCPS_DUMP_BOTH;
	return opts->ipv4 ? TCPS_DUMP_IPV4 : TCPS_DUMP_IPV6;
}

int tcps_ctx_new(const struct tcps_options *opts, struct tcps_ctx **ret)
{
	return tcps_ctx_new_source(opts, &tcps_kernel_source, NULL, ret);
}

int tcps_ctx_new_source(const struct tcps_options *opts,
			const struct tcps_source_ops *ops, void *arg,
			struct tcps_ctx **ret)
{
	struct tcps_ctx *ctx;
	int err;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->opts = *opts;
	ctx->source = ops;
	ctx->source_arg = arg;
	ctx->netns.fd = -1;
	ctx->sockstat_fd = -1;
	ctx->sysctls_dir = -EBADF;
	err = tcps_observers_new(opts, &ctx->obs);
	if (err == 0 && opts->netns_path)
		err = tcps_netns_init(&ctx->netns, opts->netns_path);
	/* Another namespace's socket is made inside it, at the first read. */
	else if (err == 0)
		err = ops->open(arg, &ctx->handle);
	if (err < 0) {
		tcps_ctx_free(ctx);
		return err;
	}
	*ret = ctx;
	return 0;
}

/* Drops the socket and the files of a namespace: made again in the next
 * one the path names, or after a failure. */
static void close_inside(struct tcps_ctx *ctx)
{
	if (ctx->handle)
		ctx->source->close(ctx->handle);
	ctx->handle = NULL;
	if (ctx->sockstat_fd >= 0)
		close(ctx->sockstat_fd);
	ctx->sockstat_fd = -1;
	if (ctx->sysctls_dir >= 0)
		close(ctx->sysctls_dir);
	ctx->sysctls_dir = -EBADF;
}

void tcps_ctx_free(struct tcps_ctx *ctx)
{
	if (!ctx)
		return;
	close_inside(ctx);
	tcps_observers_free(ctx->obs);
	tcps_netns_release(&ctx->netns);
	free(ctx);
}

static int open_sockstat(const struct tcps_ctx *ctx)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/thread-self/net/sockstat",
		 ctx->opts.proc_root);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -1 : fd;
}

/* What a short-lived thread makes inside another namespace. */
struct inside_job {
	struct tcps_ctx *ctx;
	int ret;      /* the source's open result, or the setns -errno */
	bool entered; /* the setns in worked */
};

static void *make_inside(void *arg)
{
	struct inside_job *job = arg;
	struct tcps_ctx *ctx = job->ctx;
	int saved;

	job->ret = tcps_netns_enter(&ctx->netns, &saved);
	if (job->ret < 0)
		return NULL;
	job->entered = true;
	if (!ctx->handle) {
		job->ret = ctx->source->open(ctx->source_arg, &ctx->handle);
		if (job->ret < 0)
			ctx->handle = NULL;
	}
	if (ctx->sockstat_fd < 0)
		ctx->sockstat_fd = open_sockstat(ctx);
	if (ctx->sysctls_dir < 0) {
		ctx->sysctls_dir = tcps_sysctls_open_dir(ctx->opts.proc_root);
		tcps_observers_set_sysctls_dir(ctx->obs, ctx->sysctls_dir);
	}
	/* Closes the saved fd. Where a failed switch back leaves this
	 * thread does not matter: it ends here. */
	(void)tcps_netns_leave(saved);
	return NULL;
}

/*
 * Another namespace is entered only to make what reading it needs: the
 * netlink socket, its sockstat and its sysctl folder. Each stays bound to
 * the namespace it was made in, so a read needs no setns; they are made
 * again only when the namespace is new to the context, or after a failed
 * dump. They are made on a thread of their own, joined at once, so the
 * caller's thread (collectd's read thread) never changes namespace; that
 * short-lived thread blocks every signal. Returns the source's open
 * result, or the -errno of the setns or of the thread
 * (report->netns_error).
 */
static int open_inside(struct tcps_ctx *ctx, struct tcps_read_report *report)
{
	struct inside_job job = { .ctx = ctx };
	sigset_t all, old;
	pthread_t thread;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&thread, NULL, make_inside, &job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		report->netns_error = -err;
		return -err;
	}
	pthread_join(thread, NULL);
	if (!job.entered) {
		report->netns_error = job.ret;
		return job.ret;
	}
	report->entered++;
	return job.ret;
}

static int open_source(struct tcps_ctx *ctx, struct tcps_read_report *report)
{
	int ret;

	if (ctx->netns.path)
		return open_inside(ctx, report);
	ret = ctx->source->open(ctx->source_arg, &ctx->handle);
	if (ret < 0)
		ctx->handle = NULL;
	return ret;
}

/* A socket that failed mid-dump may still hold the rest of that dump, so
 * it is dropped and the next attempt starts on a fresh one. */
static int dump_once(struct tcps_ctx *ctx, struct tcps_read_report *report)
{
	struct tcps_dump_stats *stats = &report->stats;
	int ret;

	memset(stats, 0, sizeof(*stats));
	tcps_observers_begin(ctx->obs);
	if (!ctx->handle) {
		ret = open_source(ctx, report);
		if (!ctx->handle)
			return ret < 0 ? ret : -EBADF;
	}
	ret = ctx->source->dump(ctx->handle, dump_family(&ctx->opts),
				TCPS_DIAG_STATES_ALL, tcps_observers_observe,
				ctx->obs, stats);
	if (ret < 0) {
		ctx->source->close(ctx->handle);
		ctx->handle = NULL;
	}
	return ret;
}

/*
 * Makes sure the context's namespace is the one its path names, and that
 * what reading it needs was made inside it; a namespace that was
 * replaced or came back gets all of it anew. Nothing to do for the
 * daemon's own namespace.
 */
static int prepare_namespace(struct tcps_ctx *ctx,
			     struct tcps_read_report *report)
{
	int ret;

	if (!ctx->netns.path)
		return 0;
	ret = tcps_netns_refresh(&ctx->netns);
	if (ret != 0)
		close_inside(ctx);
	if (ret < 0) {
		report->netns_error = ret;
		return ret;
	}
	if (ctx->expect && ((uint64_t)ctx->netns.dev != ctx->expect_dev ||
			    (uint64_t)ctx->netns.ino != ctx->expect_ino)) {
		report->netns_error = -ESTALE;
		return -ESTALE;
	}
	if (ctx->handle)
		return 0;
	/* A source that fails to open is tried again by the dump, which
	 * reports it; only a namespace that cannot be entered stops here. */
	ret = open_inside(ctx, report);
	return report->netns_error < 0 ? ret : 0;
}

/* Whether the namespace has no TCP socket at all, as its sockstat counts
 * say: then no dump is needed, and a dump would still walk the kernel's
 * established table of the whole host. Only for the kernel's table;
 * unreadable counts say "not empty". */
static bool namespace_is_empty(const struct tcps_ctx *ctx)
{
	char path[4096], text[1024];
	uint64_t inuse, tw;
	ssize_t n;

	if (ctx->source != &tcps_kernel_source)
		return false;
	if (ctx->sockstat_fd >= 0) {
		n = tcps_pread_small(ctx->sockstat_fd, text, sizeof(text));
	} else if (!ctx->netns.path) {
		/* The daemon's own: the calling thread's. */
		snprintf(path, sizeof(path), "%s/thread-self/net/sockstat",
			 ctx->opts.proc_root);
		n = tcps_read_small_at(AT_FDCWD, path, text, sizeof(text));
	} else {
		return false;
	}
	return n > 0 &&
	       tcps_parse_sockstat_tcp(text, (size_t)n, &inuse, &tw) == 0 &&
	       inuse == 0 && tw == 0;
}

/* The dump, retried once on a fresh socket; a failure aborts the
 * observers' interval. */
static int dump_namespace(struct tcps_ctx *ctx, struct tcps_read_report *report)
{
	int ret;

	if (namespace_is_empty(ctx)) {
		tcps_observers_begin(ctx->obs);
		report->empty = true;
		return 0;
	}

	report->attempts = 1;
	ret = dump_once(ctx, report);
	if (ret < 0) {
		report->first_error = ret;
		report->attempts = 2;
		ret = dump_once(ctx, report);
	}
	report->error = ret;
	if (ret < 0)
		tcps_observers_abort(ctx->obs);
	return ret;
}

static void take_report(struct tcps_read_report *report,
			const struct tcps_observers_report *observed)
{
	report->sysctls_error = observed->sysctls_error;
	report->leaks_error = observed->leaks_error;
	report->leaks = observed->leaks;
	report->destinations_overflow = observed->destinations_overflow;
}

static int read_namespace(struct tcps_ctx *ctx, const struct tcps_sink *sink,
			  struct tcps_read_report *report)
{
	struct tcps_observers_report observed;
	int ret = dump_namespace(ctx, report);

	if (ret < 0)
		return ret;
	tcps_observers_end(ctx->obs, tcps_monotonic_ms(), sink, &observed);
	take_report(report, &observed);
	return 0;
}

/* Runs read(ctx, ...) on the context's namespace. */
static int on_namespace(struct tcps_ctx *ctx, const struct tcps_sink *sink,
			struct tcps_read_report *report,
			int (*read)(struct tcps_ctx *ctx,
				    const struct tcps_sink *sink,
				    struct tcps_read_report *report))
{
	int ret;

	memset(report, 0, sizeof(*report));
	ret = prepare_namespace(ctx, report);
	if (ret < 0) {
		report->error = ret;
	} else {
		ret = read(ctx, sink, report);
	}
	return ret;
}

int tcps_ctx_read(struct tcps_ctx *ctx, const struct tcps_sink *sink,
		  struct tcps_read_report *report)
{
	return on_namespace(ctx, sink, report, read_namespace);
}

static int collect_namespace(struct tcps_ctx *ctx, const struct tcps_sink *sink,
			     struct tcps_read_report *report)
{
	(void)sink;
	return dump_namespace(ctx, report);
}

int tcps_ctx_collect(struct tcps_ctx *ctx, struct tcps_read_report *report,
		     struct tcps_owner_query **ret, size_t *ret_num)
{
	int err = on_namespace(ctx, NULL, report, collect_namespace);

	*ret = NULL;
	*ret_num = 0;
	if (report->error < 0)
		return err;
	ctx->collected_ms = tcps_monotonic_ms();
	(void)tcps_observers_prepare_owners(ctx->obs, ctx->collected_ms, ret,
					    ret_num);
	return err;
}

void tcps_ctx_emit_shared(struct tcps_ctx *ctx, const struct tcps_sink *sink,
			  const struct tcps_owners *owners, int resolve_error,
			  const struct tcps_owner_stats *stats,
			  struct tcps_read_report *report)
{
	struct tcps_observers_report observed;

	tcps_observers_end_shared(ctx->obs, ctx->collected_ms, sink, owners,
				  resolve_error, stats, &observed);
	take_report(report, &observed);
}

void tcps_ctx_farewell(struct tcps_ctx *ctx, const struct tcps_sink *sink)
{
	struct tcps_observers_report observed;

	tcps_observers_begin_empty(ctx->obs);
	tcps_observers_end(ctx->obs, tcps_monotonic_ms(), sink, &observed);
}

int tcps_ctx_set_netns(struct tcps_ctx *ctx, const char *path)
{
	struct tcps_netns fresh;

	if (!ctx->netns.path || strcmp(ctx->netns.path, path) == 0)
		return 0;
	if (tcps_netns_init(&fresh, path) < 0)
		return -ENOMEM;
	tcps_netns_release(&ctx->netns);
	ctx->netns = fresh;
	ctx->opts.netns_path = ctx->netns.path;
	return 0;
}

void tcps_ctx_expect_netns(struct tcps_ctx *ctx, uint64_t dev, uint64_t ino)
{
	ctx->expect = true;
	ctx->expect_dev = dev;
	ctx->expect_ino = ino;
}

const struct tcps_state_tally *tcps_ctx_states(const struct tcps_ctx *ctx)
{
	return tcps_observers_states(ctx->obs);
}

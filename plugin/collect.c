/* One interval: dump once, feed every record to the observers, emit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcpstates/collect.h"

struct tcps_ctx {
	struct tcps_options opts;
	const struct tcps_source_ops *source;
	void *source_arg;
	void *handle; /* NULL after a failure until reopened */
	struct tcps_state_tally states;
	struct tcps_leaks *leaks; /* NULL when ProcessStates is "none" */
};

static int kernel_open(void *arg, void **ret_handle)
{
	struct tcps_diag *diag;
	int ret;

	(void)arg;
	ret = tcps_diag_open(&diag);
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

static int new_observers(struct tcps_ctx *ctx)
{
	const struct tcps_options *o = &ctx->opts;
	struct tcps_leaks_config leaks = {
		.state_mask = o->process_states,
		.top_n = o->top_processes,
		.max_tracked = o->max_tracked_sockets,
		.threshold = o->leak_threshold,
		.max_age_s = o->leak_age,
		.group_by = o->group_by,
		.proc_root = o->proc_root,
	};

	if (o->process_states == 0)
		return 0;
	return tcps_leaks_new(&leaks, &ctx->leaks);
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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
	err = new_observers(ctx);
	if (err == 0)
		err = ops->open(arg, &ctx->handle);
	if (err < 0) {
		tcps_ctx_free(ctx);
		return err;
	}
	*ret = ctx;
	return 0;
}

void tcps_ctx_free(struct tcps_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->handle)
		ctx->source->close(ctx->handle);
	tcps_leaks_free(ctx->leaks);
	free(ctx);
}

static void observe_record(const struct tcps_record *rec, void *data)
{
	struct tcps_ctx *ctx = data;

	tcps_state_tally_add(&ctx->states, rec);
	if (ctx->leaks)
		tcps_leaks_observe(ctx->leaks, rec);
}

static void begin_observers(struct tcps_ctx *ctx)
{
	tcps_state_tally_reset(&ctx->states);
	if (ctx->leaks)
		tcps_leaks_begin(ctx->leaks);
}

static void abort_observers(struct tcps_ctx *ctx)
{
	tcps_state_tally_reset(&ctx->states);
	if (ctx->leaks)
		tcps_leaks_abort(ctx->leaks);
}

/* A socket that failed mid-dump may still hold the rest of that dump, so
 * it is dropped and the next attempt starts on a fresh one. */
static int dump_once(struct tcps_ctx *ctx, struct tcps_dump_stats *stats)
{
	int ret;

	memset(stats, 0, sizeof(*stats));
	begin_observers(ctx);
	if (!ctx->handle) {
		ret = ctx->source->open(ctx->source_arg, &ctx->handle);
		if (ret < 0) {
			ctx->handle = NULL;
			return ret;
		}
	}
	ret = ctx->source->dump(ctx->handle, dump_family(&ctx->opts),
				TCPS_DIAG_STATES_ALL, observe_record, ctx,
				stats);
	if (ret < 0) {
		ctx->source->close(ctx->handle);
		ctx->handle = NULL;
	}
	return ret;
}

static void emit_states(const struct tcps_ctx *ctx,
			const struct tcps_sink *sink)
{
	/* Every state, zeros included, so a graph falls to 0. */
	for (int slot = TCPS_STATE_FIRST; slot <= TCPS_STATE_UNKNOWN; slot++) {
		struct tcps_value value = {
			.plugin_instance = "",
			.type = "tcp_connections",
			.type_instance = tcps_state_name(slot),
			.value = (double)ctx->states.count[slot],
		};
		sink->value(sink->data, &value);
	}
}

int tcps_ctx_read(struct tcps_ctx *ctx, const struct tcps_sink *sink,
		  struct tcps_read_report *report)
{
	int ret;

	memset(report, 0, sizeof(*report));
	report->attempts = 1;
	ret = dump_once(ctx, &report->stats);
	if (ret < 0) {
		report->first_error = ret;
		report->attempts = 2;
		ret = dump_once(ctx, &report->stats);
	}
	report->error = ret;
	if (ret < 0) {
		abort_observers(ctx);
		return ret;
	}
	emit_states(ctx, sink);
	if (ctx->leaks) {
		report->leaks_error =
			tcps_leaks_end(ctx->leaks, monotonic_ms(), sink);
		report->leaks = tcps_leaks_stats(ctx->leaks);
	}
	return 0;
}

const struct tcps_state_tally *tcps_ctx_states(const struct tcps_ctx *ctx)
{
	return &ctx->states;
}

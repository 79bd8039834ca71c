/* Fans every record out to the observers, in one pass. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstates/ephemeral.h"
#include "tcpstates/leaks.h"
#include "tcpstates/listeners.h"
#include "tcpstates/observers.h"
#include "tcpstates/ports.h"
#include "tcpstates/stuck.h"
#include "tcpstates/sysctls.h"

struct tcps_observers {
	struct tcps_state_tally states;
	struct tcps_listeners *listeners;
	struct tcps_ephemeral *ephemeral;
	struct tcps_stuck *stuck;
	struct tcps_ports *ports; /* NULL: no per-port option given */
	struct tcps_leaks *leaks; /* NULL: ProcessStates "none" */
	struct tcps_sysctls sysctls;
	int sysctls_error;	/* -errno of the last sysctl read, or 0 */
	uint32_t sysctls_every; /* reads from one sysctl read to the next */
	uint32_t sysctls_due;	/* reads until the next; 0: at this one */
	int prepare_error; /* of the leak finder's queries, shared search */
	const char *proc_root;
	bool sysctls_at; /* read under sysctls_dir, not under proc_root */
	int sysctls_dir; /* an open sys/net/ipv4, or -errno */
};

static int new_leaks(const struct tcps_options *o, struct tcps_leaks **ret)
{
	struct tcps_leaks_config cfg = {
		.state_mask = o->process_states,
		.top_n = o->top_processes,
		.max_tracked = o->max_tracked_sockets,
		.threshold = o->leak_threshold,
		.max_age_s = o->leak_age,
		.group_by = o->group_by,
		.scan_budget_ms = o->process_scan_budget,
		.proc_root = o->proc_root,
		.cgroups_source = o->cgroups_source,
		.shared_cgroups = o->shared_cgroups,
	};

	if (o->process_states == 0)
		return 0;
	return tcps_leaks_new(&cfg, ret);
}

static int new_ports(const struct tcps_options *o, struct tcps_ports **ret)
{
	struct tcps_ports_config cfg = {
		.local = o->local_ports,
		.remote = o->remote_ports,
		.listening = o->listening_ports,
		.all_summary = o->all_ports_summary,
	};

	if (!tcps_ports_enabled(&cfg))
		return 0;
	return tcps_ports_new(&cfg, ret);
}

static int new_pressure(const struct tcps_options *o,
			struct tcps_observers *obs)
{
	struct tcps_listeners_config listeners = { .top_n = o->top_listeners };
	struct tcps_ephemeral_config ephemeral = {
		.warning_percent = o->port_exhaustion_warning,
		.max_destinations = o->max_destinations,
	};
	struct tcps_stuck_config stuck = {
		.retransmit_threshold = o->retransmit_threshold,
	};
	int err = 0;

	if (o->value_sets & TCPS_VALUES_LISTENERS)
		err = tcps_listeners_new(&listeners, &obs->listeners);
	if (err == 0 && (o->value_sets & TCPS_VALUES_EPHEMERAL))
		err = tcps_ephemeral_new(&ephemeral, &obs->ephemeral);
	if (err == 0 && (o->value_sets & TCPS_VALUES_STUCK))
		err = tcps_stuck_new(&stuck, &obs->stuck);
	return err;
}

int tcps_observers_new(const struct tcps_options *opts,
		       struct tcps_observers **ret)
{
	struct tcps_observers *obs = calloc(1, sizeof(*obs));
	int err;

	if (!obs)
		return -ENOMEM;
	obs->proc_root = opts->proc_root;
	obs->sysctls_every = opts->sysctls_every ? opts->sysctls_every : 1;
	err = new_pressure(opts, obs);
	if (err == 0)
		err = new_ports(opts, &obs->ports);
	if (err == 0)
		err = new_leaks(opts, &obs->leaks);
	if (err < 0) {
		tcps_observers_free(obs);
		return err;
	}
	*ret = obs;
	return 0;
}

void tcps_observers_free(struct tcps_observers *obs)
{
	if (!obs)
		return;
	tcps_listeners_free(obs->listeners);
	tcps_ephemeral_free(obs->ephemeral);
	tcps_stuck_free(obs->stuck);
	tcps_ports_free(obs->ports);
	tcps_leaks_free(obs->leaks);
	free(obs);
}

/* sysctls: this interval's, or NULL when they could not be read. */
static void begin_all(struct tcps_observers *obs,
		      const struct tcps_sysctls *sysctls)
{
	tcps_state_tally_reset(&obs->states);
	if (obs->listeners)
		tcps_listeners_begin(obs->listeners);
	if (obs->ephemeral)
		tcps_ephemeral_begin(obs->ephemeral, sysctls);
	if (obs->stuck)
		tcps_stuck_begin(obs->stuck);
	if (obs->ports)
		tcps_ports_begin(obs->ports);
	if (obs->leaks)
		tcps_leaks_begin(obs->leaks);
}

void tcps_observers_begin(struct tcps_observers *obs)
{
	/* Only the ephemeral observer needs them; a discovered namespace's
	 * are read again only when it is looked for again. */
	if (obs->ephemeral && obs->sysctls_due == 0) {
		if (!obs->sysctls_at)
			obs->sysctls_error = tcps_sysctls_read(obs->proc_root,
							       &obs->sysctls);
		else if (obs->sysctls_dir >= 0)
			obs->sysctls_error = tcps_sysctls_read_at(
				obs->sysctls_dir, &obs->sysctls);
		else
			obs->sysctls_error = obs->sysctls_dir;
		obs->sysctls_due = obs->sysctls_every;
	}
	if (obs->sysctls_due > 0)
		obs->sysctls_due--;
	begin_all(obs, obs->sysctls_error == 0 ? &obs->sysctls : NULL);
}

void tcps_observers_set_sysctls_dir(struct tcps_observers *obs, int dir)
{
	obs->sysctls_at = true;
	obs->sysctls_dir = dir;
	obs->sysctls_due = 0;
}

void tcps_observers_begin_empty(struct tcps_observers *obs)
{
	obs->sysctls_error = 0;
	begin_all(obs, NULL);
}

void tcps_observers_observe(const struct tcps_record *rec, void *data)
{
	struct tcps_observers *obs = data;

	tcps_state_tally_add(&obs->states, rec);
	if (obs->listeners)
		tcps_listeners_observe(obs->listeners, rec);
	if (obs->ephemeral)
		tcps_ephemeral_observe(obs->ephemeral, rec);
	if (obs->stuck)
		tcps_stuck_observe(obs->stuck, rec);
	if (obs->ports)
		tcps_ports_observe(obs->ports, rec);
	if (obs->leaks)
		tcps_leaks_observe(obs->leaks, rec);
}

void tcps_observers_abort(struct tcps_observers *obs)
{
	tcps_state_tally_reset(&obs->states);
	if (obs->listeners)
		tcps_listeners_abort(obs->listeners);
	if (obs->ephemeral)
		tcps_ephemeral_abort(obs->ephemeral);
	if (obs->stuck)
		tcps_stuck_abort(obs->stuck);
	if (obs->ports)
		tcps_ports_abort(obs->ports);
	if (obs->leaks)
		tcps_leaks_abort(obs->leaks);
}

static void emit_states(const struct tcps_observers *obs,
			const struct tcps_sink *sink)
{
	/* Every state, zeros included, so a graph falls to 0. */
	for (int state = TCPS_STATE_FIRST; state <= TCPS_STATE_UNKNOWN; state++)
		tcps_sink_value(sink, "", "tcp_connections",
				tcps_state_name(state),
				(double)obs->states.count[state]);
}

/* Everything but the leak finder, which ends last. */
static void end_all_but_leaks(struct tcps_observers *obs,
			      const struct tcps_sink *sink,
			      struct tcps_observers_report *ret_report)
{
	memset(ret_report, 0, sizeof(*ret_report));
	ret_report->sysctls_error = obs->sysctls_error;
	emit_states(obs, sink);
	/* Listeners first: the TIME_WAIT split needs the listening ports. */
	if (obs->listeners)
		tcps_listeners_end(obs->listeners, sink);
	if (obs->ephemeral) {
		tcps_ephemeral_end(
			obs->ephemeral,
			obs->listeners ? tcps_listeners_ports(obs->listeners)
				       : NULL,
			sink);
		ret_report->destinations_overflow =
			tcps_ephemeral_overflow(obs->ephemeral);
	}
	if (obs->stuck)
		tcps_stuck_end(obs->stuck, sink);
	if (obs->ports)
		tcps_ports_end(obs->ports, sink);
}

void tcps_observers_end(struct tcps_observers *obs, uint64_t now_ms,
			const struct tcps_sink *sink,
			struct tcps_observers_report *ret_report)
{
	end_all_but_leaks(obs, sink, ret_report);
	if (obs->leaks) {
		ret_report->leaks_error =
			tcps_leaks_end(obs->leaks, now_ms, sink);
		ret_report->leaks = tcps_leaks_stats(obs->leaks);
	}
}

int tcps_observers_prepare_owners(struct tcps_observers *obs, uint64_t now_ms,
				  struct tcps_owner_query **ret,
				  size_t *ret_num)
{
	*ret = NULL;
	*ret_num = 0;
	if (!obs->leaks)
		return 0;
	obs->prepare_error =
		tcps_leaks_prepare(obs->leaks, now_ms, ret, ret_num);
	return obs->prepare_error;
}

void tcps_observers_end_shared(struct tcps_observers *obs, uint64_t now_ms,
			       const struct tcps_sink *sink,
			       const struct tcps_owners *owners,
			       int resolve_error,
			       const struct tcps_owner_stats *stats,
			       struct tcps_observers_report *ret_report)
{
	struct tcps_owner_stats none = { 0 };

	end_all_but_leaks(obs, sink, ret_report);
	if (!obs->leaks)
		return;
	/* Queries that could not be made were in no resolve. */
	if (obs->prepare_error < 0) {
		resolve_error = obs->prepare_error;
		stats = &none;
	}
	ret_report->leaks_error = tcps_leaks_finish(
		obs->leaks, owners, resolve_error, stats, now_ms, sink);
	ret_report->leaks = tcps_leaks_stats(obs->leaks);
}

const struct tcps_state_tally *
tcps_observers_states(const struct tcps_observers *obs)
{
	return &obs->states;
}

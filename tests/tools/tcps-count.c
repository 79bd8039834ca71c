/*
 * Runs the core the way the plugin does, without collectd, and prints
 * every value ("[netns/]plugin/type-type_instance value", plugin being
 * "tcpstates" or "tcpstates_<set>", netns given for a discovered
 * namespace only) and notification ("NOTIFY SEVERITY [netns/]plugin/
 * type-type_instance message"). Used by the
 * tests to compare the core with ss, and by the benchmark.
 *
 *   tcps-count [-4 | -6] [-n READS] [-i SECONDS] [-q] [-v] [-o "Key value"]...
 *
 * -o sets any <Plugin tcpstates> option; values are written as in the
 * config file (true/false, numbers, anything else is a string). With -n
 * the reads repeat every -i seconds (default 0) and only the last read is
 * printed unless -a is given; -q prints nothing but the summary; -v
 * prints what the leak finder did in each read (on stderr). With
 * -o "Discover true" every other namespace of the host is read after the
 * host's own, as the plugin's discovery callback reads them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "tcpstates/collect.h"
#include "tcpstates/host_discovery.h"
#include "tcpstates/namespaces.h"

#define MAX_OPTION_VALUES 16

struct run {
	int reads;
	double interval;
	int print; /* 0 nothing, 1 last read, 2 every read */
	int printing;
	bool verbose; /* -v: the leak finder's work per read on stderr */
};

/* "tcpstates/" or "tcpstates_<set>/", after "netns/" if it has one. */
static void print_plugin(const char *netns, const char *set)
{
	printf("%s%stcpstates%s%s/", netns, netns[0] ? "/" : "",
	       set[0] ? "_" : "", set);
}

static int print_value(void *data, const struct tcps_value *value)
{
	const struct run *run = data;

	if (run->printing) {
		print_plugin(value->netns, value->set);
		printf("%s-%s %.17g\n", value->type, value->type_instance,
		       value->value);
	}
	return 0;
}

static int print_notification(void *data, const struct tcps_notification *notif)
{
	const struct run *run = data;
	const char *name = notif->severity == TCPS_SEVERITY_OKAY ? "OKAY"
			   : notif->severity == TCPS_SEVERITY_WARNING
				   ? "WARNING"
				   : "FAILURE";

	if (run->printing) {
		printf("NOTIFY %s ", name);
		print_plugin(notif->netns, notif->set);
		printf("%s-%s %s\n", notif->type, notif->type_instance,
		       notif->message);
	}
	return 0;
}

/* One word of -o as the config parser would type it. */
static void type_word(char *word, struct tcps_cfg_value *value)
{
	char *end;

	memset(value, 0, sizeof(*value));
	if (strcasecmp(word, "true") == 0 || strcasecmp(word, "false") == 0) {
		value->type = TCPS_CFG_BOOLEAN;
		value->boolean = strcasecmp(word, "true") == 0;
		return;
	}
	value->number = strtod(word, &end);
	if (end != word && *end == '\0') {
		value->type = TCPS_CFG_NUMBER;
		return;
	}
	value->type = TCPS_CFG_STRING;
	value->string = word;
}

static int apply_option(struct tcps_options *opts, char *text)
{
	struct tcps_cfg_value values[MAX_OPTION_VALUES];
	char *key = strtok(text, " \t");
	char *word;
	size_t n = 0;
	char err[256];

	if (!key)
		return -EINVAL;
	while ((word = strtok(NULL, " \t")) && n < MAX_OPTION_VALUES)
		type_word(word, &values[n++]);
	if (tcps_options_set(opts, key, values, n, err, sizeof(err)) != 0) {
		fprintf(stderr, "tcps-count: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct tcps_options *opts,
		      struct run *run)
{
	int c;

	while ((c = getopt(argc, argv, "46n:i:qavo:")) != -1) {
		if (c == '4')
			opts->ipv6 = false;
		else if (c == '6')
			opts->ipv4 = false;
		else if (c == 'n')
			run->reads = atoi(optarg);
		else if (c == 'i')
			run->interval = atof(optarg);
		else if (c == 'q')
			run->print = 0;
		else if (c == 'a')
			run->print = 2;
		else if (c == 'v')
			run->verbose = true;
		else if (c != 'o' || apply_option(opts, optarg) != 0)
			return -EINVAL;
	}
	if (run->reads < 1)
		return -EINVAL;
	return 0;
}

static void print_leak_stats(int read, const struct tcps_leaks_stats *s)
{
	const struct tcps_owner_stats *o;

	if (!s)
		return;
	o = &s->owners;
	fprintf(stderr,
		"read %d: %llu tracked, %llu kept owners, %llu fd folders, "
		"%llu links, %llu excused, %llu without owner, "
		"%llu denied, resolve error %d, %.3f ms CPU%s%s\n",
		read, (unsigned long long)s->candidates,
		(unsigned long long)o->cache_hits,
		(unsigned long long)o->procs_scanned,
		(unsigned long long)o->links_read,
		(unsigned long long)o->excused,
		(unsigned long long)o->unattributed,
		(unsigned long long)o->denied, s->resolve_error,
		(double)s->end_cpu_ns / 1e6, o->full_scan ? ", full scan" : "",
		o->out_of_time ? ", out of time" : "");
	if (s->cgroups.walks > 0 || s->cgroup_fallback < 0)
		fprintf(stderr,
			"read %d: cgroups: %llu walks, the last met %llu in "
			"%llu ms%s, %llu remembered, %llu unknown, fallback "
			"%d\n",
			read, (unsigned long long)s->cgroups.walks,
			(unsigned long long)s->cgroups.walk_cgroups,
			(unsigned long long)s->cgroups.walk_ms,
			s->cgroups.walk_cut ? " (cut short)" : "",
			(unsigned long long)s->cgroups.entries,
			(unsigned long long)s->cgroups.unknown,
			s->cgroup_fallback);
}

/* Discover: the set of the host's other namespaces, as the glue makes it. */
static int discovered_new(const struct tcps_options *opts,
			  struct tcps_host_discovery **host,
			  struct tcps_namespaces **set)
{
	struct tcps_namespaces_config cfg = {
		.opts = tcps_options_discovered(opts),
		.discover_every = opts->discover_every,
		.max_namespaces = opts->max_namespaces,
		.discover = tcps_host_discovery_run,
	};
	int ret = tcps_host_discovery_new(opts->proc_root, NULL, 0, host);

	if (ret < 0)
		return ret;
	cfg.discover_arg = *host;
	return tcps_namespaces_new(&cfg, set);
}

static void print_discovery(int read, const struct tcps_namespaces_report *r)
{
	fprintf(stderr,
		"read %d: %zu namespaces (%zu new, %zu gone, %zu left out, "
		"%zu failed), discovery error %d, %llu fd folders\n",
		read, r->reading, r->added, r->gone, r->left_out, r->failed,
		r->discover_error, (unsigned long long)r->owners.procs_scanned);
}

static void pause_for(double seconds)
{
	struct timespec ts = { .tv_sec = (time_t)seconds,
			       .tv_nsec = (long)((seconds - (time_t)seconds) *
						 1e9) };

	if (seconds > 0)
		nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	struct tcps_options opts;
	struct run run = { .reads = 1, .print = 1 };
	struct tcps_sink sink = { .value = print_value,
				  .notify = print_notification,
				  .data = &run };
	struct tcps_read_report report = { 0 };
	struct tcps_namespaces_report discovered = { 0 };
	struct tcps_host_discovery *host = NULL;
	struct tcps_namespaces *set = NULL;
	struct tcps_ctx *ctx;
	char err[256];
	int ret = 0;

	tcps_options_init(&opts);
	if (parse_args(argc, argv, &opts, &run) != 0 ||
	    tcps_options_check(&opts, err, sizeof(err)) != 0) {
		fprintf(stderr,
			"usage: %s [-4|-6] [-n READS] [-i SECONDS] "
			"[-q|-a] [-o 'Key value']...\n",
			argv[0]);
		return 2;
	}
	ret = tcps_ctx_new(&opts, &ctx);
	if (ret == 0 && opts.discover)
		ret = discovered_new(&opts, &host, &set);
	if (ret < 0) {
		fprintf(stderr, "tcps-count: open: %s\n", strerror(-ret));
		tcps_ctx_free(ctx);
		tcps_host_discovery_free(host);
		return 1;
	}
	for (int i = 0; i < run.reads; i++) {
		if (i > 0)
			pause_for(run.interval);
		run.printing = run.print == 2 ||
			       (run.print == 1 && i == run.reads - 1);
		ret = tcps_ctx_read(ctx, &sink, &report);
		if (ret < 0)
			fprintf(stderr, "tcps-count: read: %s\n",
				strerror(-ret));
		if (set)
			(void)tcps_namespaces_read(set, &sink, &discovered);
		fflush(stdout);
		if (run.verbose)
			print_leak_stats(i + 1, report.leaks);
		if (run.verbose && set)
			print_discovery(i + 1, &discovered);
	}
	fprintf(stderr,
		"tcps-count: %llu records, %llu malformed, %llu recv, "
		"%d attempts\n",
		(unsigned long long)report.stats.records,
		(unsigned long long)report.stats.malformed,
		(unsigned long long)report.stats.recv_calls, report.attempts);
	tcps_ctx_free(ctx);
	tcps_namespaces_free(set);
	tcps_host_discovery_free(host);
	return ret < 0 ? 1 : 0;
}

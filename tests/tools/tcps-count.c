/*
 * Prints what the core counts in the current network namespace, one
 * "tcp_connections-STATE value" line per value, the way the plugin
 * would dispatch it. Used by the tests to compare the core with ss.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tcpstates/collect.h"

static int print_value(void *data, const struct tcps_value *value)
{
	(void)data;
	printf("%s%s%s-%s %.0f\n", value->plugin_instance,
	       value->plugin_instance[0] ? "/" : "", value->type,
	       value->type_instance, value->value);
	return 0;
}

static int print_notification(void *data, const struct tcps_notification *notif)
{
	static const char *const names[] = { [TCPS_SEVERITY_FAILURE] =
						     "FAILURE",
					     [TCPS_SEVERITY_WARNING] =
						     "WARNING",
					     [TCPS_SEVERITY_OKAY] = "OKAY" };

	(void)data;
	printf("NOTIFY %s %s/%s-%s %s\n", names[notif->severity],
	       notif->plugin_instance, notif->type, notif->type_instance,
	       notif->message);
	return 0;
}

static int parse_args(int argc, char **argv, struct tcps_options *opts)
{
	int c;

	while ((c = getopt(argc, argv, "46")) != -1) {
		if (c == '4') {
			opts->ipv6 = false;
		} else if (c == '6') {
			opts->ipv4 = false;
		} else {
			fprintf(stderr, "usage: %s [-4 | -6]\n", argv[0]);
			return -EINVAL;
		}
	}
	return opts->ipv4 || opts->ipv6 ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	struct tcps_options opts;
	struct tcps_sink sink = { .value = print_value,
				  .notify = print_notification };
	struct tcps_read_report report;
	struct tcps_ctx *ctx;
	int ret;

	tcps_options_init(&opts);
	if (parse_args(argc, argv, &opts) != 0)
		return 2;
	ret = tcps_ctx_new(&opts, &ctx);
	if (ret < 0) {
		fprintf(stderr, "tcps-count: open: %s\n", strerror(-ret));
		return 1;
	}
	ret = tcps_ctx_read(ctx, &sink, &report);
	if (ret < 0)
		fprintf(stderr, "tcps-count: dump: %s\n", strerror(-ret));
	fprintf(stderr,
		"tcps-count: %llu records, %llu malformed, %llu recv, %d "
		"attempts\n",
		(unsigned long long)report.stats.records,
		(unsigned long long)report.stats.malformed,
		(unsigned long long)report.stats.recv_calls, report.attempts);
	tcps_ctx_free(ctx);
	return ret < 0 ? 1 : 0;
}

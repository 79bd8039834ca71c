/* Option model: defaults, one table of options, validation messages. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tcpstates/ephemeral.h"
#include "tcpstates/options.h"
#include "tcpstates/tally.h"

struct option_desc;
typedef int (*option_apply_fn)(struct tcps_options *opts,
			       const struct option_desc *desc,
			       const struct tcps_cfg_value *values,
			       size_t values_num, char *err, size_t err_size);

struct option_desc {
	const char *name;
	option_apply_fn apply;
	size_t offset;	 /* of the field inside struct tcps_options */
	double min, max; /* for numbers */
};

/* Writes the value the way the user wrote it, for error messages. */
static void describe_value(const struct tcps_cfg_value *value, char *buf,
			   size_t size)
{
	switch (value->type) {
	case TCPS_CFG_STRING:
		snprintf(buf, size, "\"%s\"", value->string);
		break;
	case TCPS_CFG_NUMBER:
		snprintf(buf, size, "%g", value->number);
		break;
	case TCPS_CFG_BOOLEAN:
		snprintf(buf, size, "%s", value->boolean ? "true" : "false");
		break;
	}
}

static int reject(const char *name, const struct tcps_cfg_value *value,
		  const char *expected, char *err, size_t err_size)
{
	char shown[96];

	describe_value(value, shown, sizeof(shown));
	snprintf(err, err_size, "option \"%s\": expected %s, got %s", name,
		 expected, shown);
	return -EINVAL;
}

static int need_one_value(const char *name, size_t values_num, char *err,
			  size_t err_size)
{
	if (values_num == 1)
		return 0;
	snprintf(err, err_size, "option \"%s\": expected one value, got %zu",
		 name, values_num);
	return -EINVAL;
}

/* Same spellings collectd accepts for booleans written as strings. */
static int parse_bool_string(const char *text, bool *ret)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int apply_bool(struct tcps_options *opts, const struct option_desc *desc,
		      const struct tcps_cfg_value *values, size_t values_num,
		      char *err, size_t err_size)
{
	bool *field = (bool *)((char *)opts + desc->offset);
	bool parsed;

	if (need_one_value(desc->name, values_num, err, err_size) != 0)
		return -EINVAL;
	if (values[0].type == TCPS_CFG_BOOLEAN) {
		*field = values[0].boolean;
		return 0;
	}
	if (values[0].type == TCPS_CFG_STRING &&
	    parse_bool_string(values[0].string, &parsed) == 0) {
		*field = parsed;
		return 0;
	}
	return reject(desc->name, &values[0], "true or false", err, err_size);
}

static int apply_uint(struct tcps_options *opts, const struct option_desc *desc,
		      const struct tcps_cfg_value *values, size_t values_num,
		      char *err, size_t err_size)
{
	uint32_t *field = (uint32_t *)((char *)opts + desc->offset);
	char expected[64];
	double n = values_num == 1 ? values[0].number : 0;

	if (need_one_value(desc->name, values_num, err, err_size) != 0)
		return -EINVAL;
	if (values[0].type == TCPS_CFG_NUMBER && n >= desc->min &&
	    n <= desc->max && n == (double)(uint32_t)n) {
		*field = (uint32_t)n;
		return 0;
	}
	snprintf(expected, sizeof(expected), "a whole number from %.0f to %.0f",
		 desc->min, desc->max);
	return reject(desc->name, &values[0], expected, err, err_size);
}

static int apply_group_by(struct tcps_options *opts,
			  const struct option_desc *desc,
			  const struct tcps_cfg_value *values,
			  size_t values_num, char *err, size_t err_size)
{
	static const char *const names[] = {
		[TCPS_GROUP_COMM] = "comm",
		[TCPS_GROUP_EXE] = "exe",
		[TCPS_GROUP_UNIT] = "unit",
		[TCPS_GROUP_CGROUP] = "cgroup",
	};

	if (need_one_value(desc->name, values_num, err, err_size) != 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (values[0].type == TCPS_CFG_STRING &&
		    strcasecmp(values[0].string, names[i]) == 0) {
			opts->group_by = (enum tcps_group_by)i;
			return 0;
		}
	}
	return reject(desc->name, &values[0],
		      "\"comm\", \"exe\", \"unit\" or \"cgroup\"", err,
		      err_size);
}

static bool is_none(const struct tcps_cfg_value *value)
{
	return value->type == TCPS_CFG_STRING &&
	       strcasecmp(value->string, "none") == 0;
}

/* ProcessStates "CLOSE_WAIT" "ESTABLISHED" ...; "none" turns it off. The
 * first line replaces the default, later lines add to it. */
static int apply_states(struct tcps_options *opts,
			const struct option_desc *desc,
			const struct tcps_cfg_value *values, size_t values_num,
			char *err, size_t err_size)
{
	uint32_t mask = opts->process_states_set ? opts->process_states : 0;

	if (values_num == 0) {
		snprintf(err, err_size,
			 "option \"%s\": expected one or more TCP state "
			 "names, got none",
			 desc->name);
		return -EINVAL;
	}
	for (size_t i = 0; values_num > 1 && i < values_num; i++)
		if (is_none(&values[i]))
			return reject(desc->name, &values[i],
				      "state names, or \"none\" alone", err,
				      err_size);
	for (size_t i = 0; i < values_num; i++) {
		int state = values[i].type == TCPS_CFG_STRING
				    ? tcps_state_from_name(values[i].string)
				    : -ENOENT;

		if (state >= 0) {
			mask |= 1u << state;
		} else if (!is_none(&values[i])) {
			return reject(desc->name, &values[i],
				      "a TCP state name such as \"CLOSE_WAIT\" "
				      "or \"none\"",
				      err, err_size);
		}
	}
	opts->process_states = mask;
	opts->process_states_set = true;
	return 0;
}

static int apply_percent(struct tcps_options *opts,
			 const struct option_desc *desc,
			 const struct tcps_cfg_value *values, size_t values_num,
			 char *err, size_t err_size)
{
	double *field = (double *)((char *)opts + desc->offset);

	if (need_one_value(desc->name, values_num, err, err_size) != 0)
		return -EINVAL;
	if (values[0].type == TCPS_CFG_NUMBER && values[0].number > 0 &&
	    values[0].number <= 100) {
		*field = values[0].number;
		return 0;
	}
	return reject(desc->name, &values[0],
		      "a percentage above 0 and at most 100", err, err_size);
}

/* A quoted port: decimal digits only (strtod would also take "0x50",
 * "8e1", " 80" or "inf"); *ret is a number to range-check. */
static int port_digits(const char *text, double *ret)
{
	size_t len = strspn(text, "0123456789");

	if (len == 0 || len > 5 || text[len] != '\0')
		return -EINVAL;
	*ret = strtod(text, NULL);
	return 0;
}

/* A port as a number or, as tcpconns users write it, a quoted number. */
static int port_value(const struct tcps_cfg_value *value, uint16_t *ret)
{
	double n = value->number;

	if (value->type == TCPS_CFG_STRING) {
		if (port_digits(value->string, &n) != 0)
			return -EINVAL;
	} else if (value->type != TCPS_CFG_NUMBER) {
		return -EINVAL;
	}
	/* Written so that NaN fails before the conversion. */
	if (!(n >= 1 && n <= 65535) || n != (double)(uint16_t)n)
		return -EINVAL;
	*ret = (uint16_t)n;
	return 0;
}

/* LocalPort / RemotePort: repeatable, one or more ports per line. */
static int apply_ports(struct tcps_options *opts,
		       const struct option_desc *desc,
		       const struct tcps_cfg_value *values, size_t values_num,
		       char *err, size_t err_size)
{
	struct tcps_port_set *set =
		(struct tcps_port_set *)((char *)opts + desc->offset);
	uint16_t ports[64];

	if (values_num == 0 || values_num > 64) {
		snprintf(err, err_size,
			 "option \"%s\": expected 1 to 64 ports, got %zu",
			 desc->name, values_num);
		return -EINVAL;
	}
	for (size_t i = 0; i < values_num; i++)
		if (port_value(&values[i], &ports[i]) != 0)
			return reject(desc->name, &values[i],
				      "a port from 1 to 65535", err, err_size);
	for (size_t i = 0; i < values_num; i++)
		tcps_port_set_add(set, ports[i]);
	return 0;
}

/* The value sets DiscoverValues can name ("states" is always sent). */
static const struct {
	const char *name;
	uint32_t bit;
} value_set_names[] = {
	{ "states", 0 },
	{ "leaks", TCPS_VALUES_LEAKS },
	{ "listeners", TCPS_VALUES_LISTENERS },
	{ "stuck", TCPS_VALUES_STUCK },
	{ "ports", TCPS_VALUES_PORTS },
	{ "ephemeral", TCPS_VALUES_EPHEMERAL },
};

static int value_set_bit(const struct tcps_cfg_value *value, uint32_t *ret)
{
	if (value->type != TCPS_CFG_STRING)
		return -EINVAL;
	for (size_t i = 0;
	     i < sizeof(value_set_names) / sizeof(value_set_names[0]); i++) {
		if (strcasecmp(value->string, value_set_names[i].name) == 0) {
			*ret = value_set_names[i].bit;
			return 0;
		}
	}
	return -EINVAL;
}

/* DiscoverValues "states" "leaks" ...: replaces the default set. */
static int apply_value_sets(struct tcps_options *opts,
			    const struct option_desc *desc,
			    const struct tcps_cfg_value *values,
			    size_t values_num, char *err, size_t err_size)
{
	uint32_t sets = 0;

	if (values_num == 0) {
		snprintf(err, err_size,
			 "option \"%s\": expected one or more of \"states\", "
			 "\"leaks\", \"listeners\", \"stuck\", \"ports\", "
			 "\"ephemeral\", got none",
			 desc->name);
		return -EINVAL;
	}
	for (size_t i = 0; i < values_num; i++) {
		uint32_t bit;

		if (value_set_bit(&values[i], &bit) != 0)
			return reject(desc->name, &values[i],
				      "\"states\", \"leaks\", \"listeners\", "
				      "\"stuck\", \"ports\" or \"ephemeral\"",
				      err, err_size);
		sets |= bit;
	}
	opts->discover_values = sets;
	return 0;
}

#define FIELD(name) offsetof(struct tcps_options, name)

static const struct option_desc option_table[] = {
	{ "IPv4", apply_bool, FIELD(ipv4), 0, 0 },
	{ "IPv6", apply_bool, FIELD(ipv6), 0, 0 },
	{ "ProcessStates", apply_states, 0, 0, 0 },
	{ "TopProcesses", apply_uint, FIELD(top_processes), 0, 1000 },
	{ "GroupBy", apply_group_by, 0, 0, 0 },
	{ "LeakThreshold", apply_uint, FIELD(leak_threshold), 0, 1e9 },
	{ "LeakAge", apply_uint, FIELD(leak_age), 0, 1e9 },
	{ "MaxTrackedSockets", apply_uint, FIELD(max_tracked_sockets), 1, 1e8 },
	{ "ProcessScanBudget", apply_uint, FIELD(process_scan_budget), 0,
	  60000 },
	{ "PortExhaustionWarning", apply_percent,
	  FIELD(port_exhaustion_warning), 0, 0 },
	{ "MaxDestinations", apply_uint, FIELD(max_destinations), 1,
	  TCPS_EPHEMERAL_MAX_DESTINATIONS },
	{ "TopListeners", apply_uint, FIELD(top_listeners), 0, 1000 },
	{ "RetransmitThreshold", apply_uint, FIELD(retransmit_threshold), 0,
	  255 },
	{ "LocalPort", apply_ports, FIELD(local_ports), 0, 0 },
	{ "RemotePort", apply_ports, FIELD(remote_ports), 0, 0 },
	{ "ListeningPorts", apply_bool, FIELD(listening_ports), 0, 0 },
	{ "AllPortsSummary", apply_bool, FIELD(all_ports_summary), 0, 0 },
	{ "Discover", apply_bool, FIELD(discover), 0, 0 },
	{ "DiscoverEvery", apply_uint, FIELD(discover_every), 1, 1000 },
	{ "MaxNamespaces", apply_uint, FIELD(max_namespaces), 1, 4096 },
	{ "DiscoverValues", apply_value_sets, 0, 0, 0 },
};

void tcps_options_init(struct tcps_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->ipv4 = true;
	opts->ipv6 = true;
	opts->process_states = 1u << TCPS_CLOSE_WAIT;
	opts->top_processes = 10;
	opts->group_by = TCPS_GROUP_COMM;
	opts->leak_threshold = 100;
	opts->leak_age = 600;
	opts->max_tracked_sockets = 65536;
	opts->process_scan_budget = 250;
	opts->port_exhaustion_warning = 80;
	opts->max_destinations = 16384;
	opts->value_sets = TCPS_VALUES_ALL;
	opts->discover_every = 6;
	opts->max_namespaces = 64;
	opts->discover_values = TCPS_VALUES_LEAKS;
	opts->top_listeners = 10;
	opts->retransmit_threshold = 3;
	opts->proc_root = "/proc";
}

static const struct option_desc *find_option(const char *key)
{
	const size_t count = sizeof(option_table) / sizeof(option_table[0]);

	for (size_t i = 0; i < count; i++)
		if (strcasecmp(key, option_table[i].name) == 0)
			return &option_table[i];
	return NULL;
}

bool tcps_options_known(const char *key)
{
	return find_option(key) != NULL;
}

int tcps_options_set(struct tcps_options *opts, const char *key,
		     const struct tcps_cfg_value *values, size_t values_num,
		     char *err, size_t err_size)
{
	const struct option_desc *desc = find_option(key);
	char shown[96] = "";

	if (desc)
		return desc->apply(opts, desc, values, values_num, err,
				   err_size);
	if (values_num > 0)
		describe_value(&values[0], shown, sizeof(shown));
	snprintf(err, err_size, "unknown option \"%s\"%s%s", key,
		 values_num > 0 ? " with value " : "", shown);
	return -EINVAL;
}

int tcps_options_check(const struct tcps_options *opts, char *err,
		       size_t err_size)
{
	if (!opts->ipv4 && !opts->ipv6) {
		snprintf(err, err_size,
			 "options \"IPv4\" and \"IPv6\" are both false: "
			 "there is nothing to count");
		return -EINVAL;
	}
	return 0;
}

struct tcps_options tcps_options_discovered(const struct tcps_options *opts)
{
	struct tcps_options found = *opts;

	found.value_sets = opts->discover_values & TCPS_VALUES_ALL;
	if (!(opts->discover_values & TCPS_VALUES_LEAKS))
		found.process_states = 0;
	if (!(opts->discover_values & TCPS_VALUES_PORTS)) {
		tcps_port_set_clear(&found.local_ports);
		tcps_port_set_clear(&found.remote_ports);
		found.listening_ports = false;
		found.all_ports_summary = false;
	}
	found.discover = false;
	/* Read when the namespace is looked for again, not every read. */
	found.sysctls_every = opts->discover_every;
	return found;
}

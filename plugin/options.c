/* Option model: defaults, one table of options, validation messages. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tcpstates/options.h"

struct option_desc;
typedef int (*option_apply_fn)(struct tcps_options *opts,
			       const struct option_desc *desc,
			       const struct tcps_cfg_value *values,
			       size_t values_num, char *err, size_t err_size);

struct option_desc {
	const char *name;
	option_apply_fn apply;
	size_t offset; /* of the field inside struct tcps_options */
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

static const struct option_desc option_table[] = {
	{ "IPv4", apply_bool, offsetof(struct tcps_options, ipv4) },
	{ "IPv6", apply_bool, offsetof(struct tcps_options, ipv6) },
};

void tcps_options_init(struct tcps_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->ipv4 = true;
	opts->ipv6 = true;
}

int tcps_options_set(struct tcps_options *opts, const char *key,
		     const struct tcps_cfg_value *values, size_t values_num,
		     char *err, size_t err_size)
{
	const size_t count = sizeof(option_table) / sizeof(option_table[0]);
	char shown[96] = "";

	for (size_t i = 0; i < count; i++)
		if (strcasecmp(key, option_table[i].name) == 0)
			return option_table[i].apply(opts, &option_table[i],
						     values, values_num, err,
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

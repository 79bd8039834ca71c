/* The <Plugin tcpstates> options, their defaults and their validation. */
#ifndef TCPSTATES_OPTIONS_H
#define TCPSTATES_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

struct tcps_options {
	bool ipv4;
	bool ipv6;
};

/* A configuration value as the config file gave it. */
enum tcps_cfg_type {
	TCPS_CFG_STRING,
	TCPS_CFG_NUMBER,
	TCPS_CFG_BOOLEAN,
};

struct tcps_cfg_value {
	enum tcps_cfg_type type;
	const char *string;
	double number;
	bool boolean;
};

/* Fills *opts with the defaults. */
void tcps_options_init(struct tcps_options *opts);

/*
 * Applies one option. Returns 0, or -EINVAL with a message naming the
 * option and the offending value written to err.
 */
int tcps_options_set(struct tcps_options *opts, const char *key,
		     const struct tcps_cfg_value *values, size_t values_num,
		     char *err, size_t err_size);

/* Checks options that only make sense together. Returns 0 or -EINVAL. */
int tcps_options_check(const struct tcps_options *opts, char *err,
		       size_t err_size);

#endif

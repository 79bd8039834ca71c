/* The <Plugin tcpstates> options, their defaults and their validation. */
#ifndef TCPSTATES_OPTIONS_H
#define TCPSTATES_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpstates/cgroups.h"
#include "tcpstates/owners.h"
#include "tcpstates/portset.h"

/* The observers beyond the states, the leak finder and the per-port
 * counts, which have options of their own. Not options themselves: the
 * host's reads have them all, DiscoverValues picks them for discovered
 * namespaces. */
enum tcps_value_set {
	TCPS_VALUES_LISTENERS = 1u << 0,
	TCPS_VALUES_STUCK = 1u << 1,
	TCPS_VALUES_EPHEMERAL = 1u << 2,
	TCPS_VALUES_ALL = (1u << 3) - 1,
	/* DiscoverValues only: the leak finder and the per-port counts,
	 * which the host's reads run by their own options. */
	TCPS_VALUES_LEAKS = 1u << 3,
	TCPS_VALUES_PORTS = 1u << 4,
};

struct tcps_options {
	bool ipv4;
	bool ipv6;
	/* The leak finder (per-process view). */
	uint32_t process_states; /* 1 << state; 0 = off */
	bool process_states_set; /* a first ProcessStates replaces the default */
	uint32_t top_processes;
	enum tcps_group_by group_by;
	uint32_t leak_threshold; /* sockets; 0 = off */
	uint32_t leak_age;	 /* seconds; 0 = off */
	uint32_t max_tracked_sockets;
	uint32_t process_scan_budget; /* milliseconds; 0 = no limit */
	/* Pressure signals. */
	double port_exhaustion_warning; /* percent of the ephemeral range */
	uint32_t max_destinations;
	uint32_t top_listeners;
	uint32_t retransmit_threshold;
	/* Per-port counts as collectd's tcpconns plugin makes them. */
	struct tcps_port_set local_ports, remote_ports;
	bool listening_ports, all_ports_summary;
	/* Every other network namespace of the host, found anew every
	 * discover_every reads (the glue reads them; see namespaces.h). */
	bool discover;
	uint32_t discover_every;
	uint32_t max_namespaces;
	uint32_t discover_values; /* enum tcps_value_set bits */
	/* Not config options: the observers to run (enum tcps_value_set),
	 * where /proc is (tests use a fake tree), the network namespace to
	 * read (NULL: the daemon's own), and where GroupBy "cgroup" finds
	 * cgroups (NULL: the cgroup2 tree) or the map of them it shares
	 * with other namespaces (NULL: a map of its own). */
	uint32_t value_sets;
	uint32_t sysctls_every; /* reads between sysctl reads (0 or 1: each) */
	const char *proc_root;
	const char *netns_path;
	const struct tcps_cgroups_source *cgroups_source;
	struct tcps_cgroups *shared_cgroups;
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

/* Whether key (any case) names an option tcps_options_set takes. */
bool tcps_options_known(const char *key);

/* Checks options that only make sense together. Returns 0 or -EINVAL. */
int tcps_options_check(const struct tcps_options *opts, char *err,
		       size_t err_size);

/* The options of a namespace Discover found: DiscoverValues' choice of
 * observers, its sysctls read at each discovery, no Discover of its own. */
struct tcps_options tcps_options_discovered(const struct tcps_options *opts);

#endif

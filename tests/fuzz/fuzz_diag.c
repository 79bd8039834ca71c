/*
 * libFuzzer target: arbitrary bytes as the kernel's sock_diag dump reply,
 * in up to four recv() chunks, through tcps_diag_parse() into every
 * observer (the leak finder against a small fake /proc), two intervals
 * per input so the second meets what the first remembered, then an empty
 * one so that the next input finds the observers (nearly) as new: the
 * owner cache and its retry rounds do carry over.
 *
 * Input: one byte n (n % 4 cut points; with bit 7 set, the leak finder
 * groups by the sockets' INET_DIAG_CGROUP_ID over a scripted cgroup tree
 * of ids 1 to 16 instead of by process name), (n % 4) little-endian u16
 * cut offsets, then the stream. The seeds are real dumps replied to seq
 * 4242, port id 777 (tests/fuzz/capture-dump.py).
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "tcpstates/diag.h"
#include "tcpstates/leaks.h"
#include "tcpstates/observers.h"
#include "tcpstates/options.h"

#define SEQ 4242u
#define PORTID 777u
#define MAX_CUTS 3
#define NAME_LEN_MAX 128 /* collectd's DATA_MAX_NAME_LEN */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char proc_root[256];
static struct tcps_options options;
/* Made once, as the daemon makes them: their 64 Ki-port tables cost more
 * than most inputs. by_cgroup: GroupBy "cgroup". */
static struct tcps_observers *observers, *by_cgroup;

/* The cgroups ids 1 to 16 stand for, of every shape the names know. */
static const char *const cgroup_paths[] = {
	"/",
	"/system.slice/nginx.service",
	"/user.slice/user-1000.slice/user@1000.service/init.scope",
	"/user.slice/user-1000.slice/session-3.scope",
	"/machine.slice/libpod-0123456789abcdef0123456789abcdef.scope",
	"/libpod_parent/libpod-0123456789abcdef0123456789abcdef",
	"/docker/0123456789abcdef0123456789abcdef0123456789abcdef",
	"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-"
	"pod4a6f1c2e_9b1d_4e3b_8f00_0123456789ab.slice/cri-containerd-"
	"0123456789abcdef.scope",
	"/kubepods/besteffort/pod4a6f1c2e-9b1d-4e3b-8f00-0123456789ab/ab",
	"/system.slice/crio-0123456789abcdef.scope",
	"/evil\n/na me.\"x",
	"/a/b/c/d/e/f",
	"/init.scope",
	"/system.slice",
	"/x.service/y",
	"/kubepods.slice",
};

static int scripted_walk(void *arg, tcps_cgroup_visit_fn *visit, void *data)
{
	(void)arg;
	for (size_t i = 0; i < sizeof(cgroup_paths) / sizeof(cgroup_paths[0]);
	     i++)
		if (visit(data, i + 1, cgroup_paths[i]))
			return 1;
	return 0;
}

static const struct tcps_cgroups_source scripted_tree = {
	.walk = scripted_walk,
};

/* GroupBy "cgroup" gave way to "comm" for good (a dump of full sockets
 * without ids): by_cgroup is made anew for the next input. */
static bool fell_back;

static void put_file(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", proc_root, rel);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

static void put_dir(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", proc_root, rel);
	if (mkdir(path, 0755) != 0)
		abort();
}

static void put_link(const char *rel, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", proc_root, rel);
	if (symlink(target, path) != 0)
		abort();
}

/* The sysctls the pressure observers read, and one process holding the
 * sockets with inodes 1, 12345 and 4294967295 under a hostile name. */
static void make_fake_proc(void)
{
	static const char *const dirs[] = { "sys", "sys/net", "sys/net/ipv4",
					    "4242", "4242/fd" };
	const char *tmp = getenv("TMPDIR");

	/* run.sh points TMPDIR into the build tree: a crash, which skips
	 * the atexit() clean-up, leaves nothing in /tmp. */
	snprintf(proc_root, sizeof(proc_root), "%s/tcps-fuzz-proc-XXXXXX",
		 tmp ? tmp : "/tmp");
	if (!mkdtemp(proc_root))
		abort();
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		put_dir(dirs[i]);
	put_file("sys/net/ipv4/ip_local_port_range", "32768\t60999\n");
	put_file("sys/net/ipv4/ip_local_reserved_ports", "40000-40010,50000\n");
	put_file("sys/net/ipv4/tcp_tw_reuse", "2\n");
	put_file("sys/net/ipv4/tcp_max_tw_buckets", "262144\n");
	put_file("sys/net/ipv4/tcp_fin_timeout", "60\n");
	put_file("4242/comm", "evil/na me.\"x\n");
	put_file("4242/stat", "4242 (a) b) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 "
			      "20 0 1 0 777 0 0\n");
	put_link("4242/fd/3", "socket:[1]");
	put_link("4242/fd/4", "socket:[12345]");
	put_link("4242/fd/5", "socket:[4294967295]");
}

static void remove_fake_proc(void)
{
	char cmd[300];

	tcps_observers_free(observers);
	tcps_observers_free(by_cgroup);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", proc_root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", proc_root);
}

static void set_option(const char *key, const struct tcps_cfg_value *values,
		       size_t values_num)
{
	char err[256];

	if (tcps_options_set(&options, key, values, values_num, err,
			     sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
}

#define NUM(n)                                                                 \
	{                                                                      \
		.type = TCPS_CFG_NUMBER, .number = (n)                         \
	}
#define STR(s)                                                                 \
	{                                                                      \
		.type = TCPS_CFG_STRING, .string = (s)                         \
	}

/* Every observer on, with limits small enough that inputs reach them. */
static void set_options(void)
{
	static const struct tcps_cfg_value states[] = {
		STR("ESTABLISHED"), STR("CLOSE_WAIT"), STR("TIME_WAIT"),
		STR("LISTEN"),	    STR("SYN_SENT"),   STR("LAST_ACK"),
	};
	static const struct tcps_cfg_value local[] = { NUM(22), NUM(80) };
	static const struct tcps_cfg_value remote[] = { NUM(443) };
	static const struct tcps_cfg_value one = NUM(1), three = NUM(3);
	static const struct tcps_cfg_value yes = { .type = TCPS_CFG_BOOLEAN,
						   .boolean = true };

	tcps_options_init(&options);
	options.proc_root = proc_root;
	set_option("ProcessStates", states, sizeof(states) / sizeof(states[0]));
	set_option("LocalPort", local, 2);
	set_option("RemotePort", remote, 1);
	set_option("ListeningPorts", &yes, 1);
	set_option("AllPortsSummary", &yes, 1);
	set_option("LeakThreshold", &one, 1);
	set_option("LeakAge", &one, 1);
	set_option("TopProcesses", &three, 1);
	set_option("TopListeners", &three, 1);
	set_option("RetransmitThreshold", &one, 1);
	set_option("MaxDestinations", &three, 1);
	set_option("ProcessScanBudget", &(struct tcps_cfg_value)NUM(0), 1);
	set_option("MaxTrackedSockets", &(struct tcps_cfg_value)NUM(64), 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	make_fake_proc();
	atexit(remove_fake_proc);
	set_options();
	if (tcps_observers_new(&options, &observers) != 0)
		abort();
	set_option("GroupBy", &(struct tcps_cfg_value)STR("cgroup"), 1);
	options.cgroups_source = &scripted_tree;
	if (tcps_observers_new(&options, &by_cgroup) != 0)
		abort();
	return 0;
}

static void check_name(const char *name)
{
	if (!name || strnlen(name, NAME_LEN_MAX) >= NAME_LEN_MAX)
		abort();
}

/* What collectd would refuse or mangle is a bug of ours. */
static int sink_value(void *data, const struct tcps_value *value)
{
	(void)data;
	check_name(value->netns);
	check_name(value->set);
	check_name(value->type);
	check_name(value->type_instance);
	if (isnan(value->value) || value->value < 0)
		abort();
	return 0;
}

static int sink_notify(void *data, const struct tcps_notification *notif)
{
	(void)data;
	check_name(notif->netns);
	check_name(notif->set);
	check_name(notif->type);
	check_name(notif->type_instance);
	if (!notif->message || strnlen(notif->message, 1024) >= 1024 ||
	    strchr(notif->message, '\n'))
		abort();
	return 0;
}

static const struct tcps_sink sink = { .value = sink_value,
				       .notify = sink_notify };

/* Each chunk in a buffer of its own size, as recv() would fill it, so
 * AddressSanitizer sees a read past the end of what was received. */
static int parse_chunk(const uint8_t *bytes, size_t len,
		       struct tcps_observers *obs,
		       struct tcps_dump_stats *stats)
{
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	if (!copy)
		abort();
	memcpy(copy, bytes, len);
	ret = tcps_diag_parse(copy, len, SEQ, PORTID, tcps_observers_observe,
			      obs, stats);
	free(copy);
	if (ret > 1 || ret < -4095)
		abort();
	return ret;
}

static int compare_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* One interval: the dump ends (NLMSG_DONE), fails, or runs out of bytes
 * (collectd would wait for the next recv; here the dump is abandoned). */
static void interval(struct tcps_observers *obs, const uint8_t *stream,
		     size_t len, const size_t *cuts, size_t cuts_num,
		     uint64_t now_ms)
{
	struct tcps_observers_report report;
	struct tcps_dump_stats stats = { 0 };
	size_t start = 0;
	int ret = 1;

	tcps_observers_begin(obs);
	for (size_t i = 0; i <= cuts_num && ret > 0; i++) {
		size_t end = i < cuts_num ? cuts[i] : len;

		ret = parse_chunk(stream + start, end - start, obs, &stats);
		start = end;
	}
	if (ret == 0) {
		tcps_observers_end(obs, now_ms, &sink, &report);
		fell_back |= report.leaks && report.leaks->cgroup_fallback < 0;
	} else {
		tcps_observers_abort(obs);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t done[] = { 20, 0, 0, 0, 3, 0, 2, 0, 0x92, 0x10,
					0,  0, 9, 3, 0, 0, 0, 0, 0,    0 };
	static uint64_t now_ms = 1000;
	size_t cuts[MAX_CUTS], cuts_num, header;
	struct tcps_observers *obs;

	if (size < 1)
		return 0;
	cuts_num = data[0] % (MAX_CUTS + 1);
	header = 1 + 2 * cuts_num;
	if (size < header)
		return 0;
	for (size_t i = 0; i < cuts_num; i++)
		cuts[i] = (size_t)(data[1 + 2 * i] | data[2 + 2 * i] << 8) %
			  (size - header + 1);
	qsort(cuts, cuts_num, sizeof(cuts[0]), compare_size);
	obs = data[0] & 0x80 ? by_cgroup : observers;
	interval(obs, data + header, size - header, cuts, cuts_num, now_ms);
	now_ms += 3600 * 1000;
	interval(obs, data + header, size - header, cuts, cuts_num, now_ms);
	now_ms += 3600 * 1000;
	/* An empty dump: the next input starts from (nearly) nothing. */
	interval(obs, done, sizeof(done), NULL, 0, now_ms);
	if (fell_back) {
		tcps_observers_free(by_cgroup);
		if (tcps_observers_new(&options, &by_cgroup) != 0)
			abort();
		fell_back = false;
	}
	now_ms += 3600 * 1000;
	return 0;
}

/*
 * libFuzzer target: arbitrary <Plugin tcpstates> trees through the real
 * glue. The bytes are decoded into an oconfig_item_t tree (keys from the
 * real option names or random, values of every type, nested blocks);
 * then config, init (which creates a context per namespace and opens a
 * netlink socket, nothing more) and shutdown run as collectd runs them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../glue/collectd_stub.h"

#define MAX_DEPTH 3
#define MAX_ROOT_CHILDREN 400
#define RANDOM_KEY_MIN 0xe0 /* key bytes from here on: a random key */
#define RANDOM_VALUE_MIN 0xc0

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct reader {
	const uint8_t *p;
	size_t left;
};

static const char *const keys[] = {
	"IPv4",
	"IPv6",
	"ProcessStates",
	"TopProcesses",
	"GroupBy",
	"LeakThreshold",
	"LeakAge",
	"MaxTrackedSockets",
	"ProcessScanBudget",
	"PortExhaustionWarning",
	"MaxDestinations",
	"TopListeners",
	"RetransmitThreshold",
	"LocalPort",
	"RemotePort",
	"ListeningPorts",
	"AllPortsSummary",
	"Namespace",
	"Path",
	"namespace",
	"ipv6",
	"PROCESSSTATES",
	"",
};

static const char *const strings[] = {
	"ESTABLISHED",
	"SYN_SENT",
	"SYN_RECV",
	"FIN_WAIT1",
	"FIN_WAIT2",
	"TIME_WAIT",
	"CLOSE",
	"CLOSE_WAIT",
	"LAST_ACK",
	"LISTEN",
	"CLOSING",
	"UNKNOWN",
	"close_wait",
	"none",
	"comm",
	"exe",
	"unit",
	"true",
	"false",
	"yes",
	"off",
	"80",
	"65535",
	"65536",
	"0",
	" 80",
	"0x50",
	"1e3",
	"nan",
	"inf",
	"blue",
	"blue",
	"red",
	"bad name",
	"a-b_c",
	"0123456789012345678901234567890123456789012345678901234567890ab",
	"0123456789012345678901234567890123456789012345678901234567890abc",
	"/var/run/netns/blue",
	"/proc/self/ns/net",
	"/nonexistent/ns",
	"relative/ns",
	"",
	"%s%s%n%x",
	"cgroup",
};

static const double numbers[] = {
	0,     1,	-1,	0.5,  3,     100,	   100.0001,
	255,   256,	1000,	1001, 60000, 60001,	   65535,
	65536, 1048576, 1e8,	1e9,  1e10,  4294967295.0, 4294967296.0,
	-0.0,  1e300,	-1e300,
};

static uint8_t take_byte(struct reader *r)
{
	if (r->left == 0)
		return 0;
	r->left--;
	return *r->p++;
}

/* A NUL-terminated copy of up to max_len input bytes. */
static char *take_string(struct reader *r, size_t max_len)
{
	size_t len = take_byte(r) % (max_len + 1);
	char *s;

	if (len > r->left)
		len = r->left;
	s = malloc(len + 1);
	if (!s)
		abort();
	memcpy(s, r->p, len);
	s[len] = '\0';
	r->p += len;
	r->left -= len;
	return s;
}

static char *pick(const char *const *table, size_t count, uint8_t b)
{
	char *s = strdup(table[b % count]);

	if (!s)
		abort();
	return s;
}

static double take_number(struct reader *r)
{
	uint8_t kind = take_byte(r);
	double raw = 0;

	switch (kind % 4) {
	case 0:
		return (int8_t)take_byte(r);
	case 1:
		return take_byte(r) | take_byte(r) << 8;
	case 2:
		if (r->left >= sizeof(raw)) {
			memcpy(&raw, r->p, sizeof(raw));
			r->p += sizeof(raw);
			r->left -= sizeof(raw);
		}
		return raw;
	default:
		return numbers[take_byte(r) %
			       (sizeof(numbers) / sizeof(numbers[0]))];
	}
}

static void take_value(struct reader *r, oconfig_value_t *v)
{
	uint8_t b = take_byte(r);

	if (b % 3 == 0) {
		v->type = OCONFIG_TYPE_STRING;
		b = take_byte(r);
		v->value.string =
			b < RANDOM_VALUE_MIN
				? pick(strings,
				       sizeof(strings) / sizeof(strings[0]), b)
				: take_string(r, 80);
	} else if (b % 3 == 1) {
		v->type = OCONFIG_TYPE_NUMBER;
		v->value.number = take_number(r);
	} else {
		v->type = OCONFIG_TYPE_BOOLEAN;
		v->value.boolean = take_byte(r) & 1;
	}
}

/* 0 to 7 values, or 60 to 75 to meet the limit of 64 ports a line. */
static int take_values_num(struct reader *r)
{
	uint8_t b = take_byte(r);

	return b & 0x80 ? 60 + (b & 0x0f) : b & 7;
}

static void take_item(struct reader *r, oconfig_item_t *item,
		      oconfig_item_t *parent, int depth);

static void take_children(struct reader *r, oconfig_item_t *item, int num,
			  int depth)
{
	if (num == 0)
		return;
	item->children = calloc((size_t)num, sizeof(*item->children));
	if (!item->children)
		abort();
	item->children_num = num;
	for (int i = 0; i < num; i++)
		take_item(r, &item->children[i], item, depth + 1);
}

static void take_item(struct reader *r, oconfig_item_t *item,
		      oconfig_item_t *parent, int depth)
{
	uint8_t b = take_byte(r);

	item->parent = parent;
	item->key = b < RANDOM_KEY_MIN
			    ? pick(keys, sizeof(keys) / sizeof(keys[0]), b)
			    : take_string(r, 24);
	item->values_num = take_values_num(r);
	item->values =
		calloc((size_t)item->values_num + 1, sizeof(*item->values));
	if (!item->values)
		abort();
	for (int i = 0; i < item->values_num; i++)
		take_value(r, &item->values[i]);
	if (depth < MAX_DEPTH)
		take_children(r, item, take_byte(r) % 4, depth);
}

static void free_item(oconfig_item_t *item)
{
	for (int i = 0; i < item->values_num; i++)
		if (item->values[i].type == OCONFIG_TYPE_STRING)
			free(item->values[i].value.string);
	free(item->values);
	for (int i = 0; i < item->children_num; i++)
		free_item(&item->children[i]);
	free(item->children);
	free(item->key);
}

/* <Plugin tcpstates> with up to max_children lines. */
static void take_root(struct reader *r, oconfig_item_t *root, int max_children)
{
	size_t cap = 8;

	memset(root, 0, sizeof(*root));
	root->key = strdup("Plugin");
	root->values = calloc(1, sizeof(*root->values));
	root->children = calloc(cap, sizeof(*root->children));
	if (!root->key || !root->values || !root->children)
		abort();
	root->values_num = 1;
	root->values[0].type = OCONFIG_TYPE_STRING;
	root->values[0].value.string = strdup("tcpstates");
	while (r->left > 0 && root->children_num < max_children) {
		if ((size_t)root->children_num == cap) {
			cap *= 2;
			root->children = realloc(root->children,
						 cap * sizeof(*root->children));
			if (!root->children)
				abort();
		}
		memset(&root->children[root->children_num], 0,
		       sizeof(*root->children));
		take_item(r, &root->children[root->children_num++], root, 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { .p = data, .left = size };
	/* collectd calls config once per <Plugin tcpstates> block. */
	uint8_t first = take_byte(&r);
	int blocks = 1 + first % 2;
	oconfig_item_t roots[2];

	stub_reset();
	stub.free_reads_at_once = true;
	module_register();
	if (!stub.config || !stub.init || !stub.shutdown)
		abort();
	if (blocks == 2)
		take_root(&r, &roots[0], 1 + (first >> 1) % 8);
	take_root(&r, &roots[blocks - 1], MAX_ROOT_CHILDREN);
	for (int i = 0; i < blocks; i++)
		stub.config(&roots[i]);
	stub.init();
	stub.shutdown();
	/* TCPS_FUZZ_DEBUG=1: what an input did (seeds are checked so). */
	if (getenv("TCPS_FUZZ_DEBUG"))
		fprintf(stderr, "%d blocks, %d log lines, %d reads\n", blocks,
			stub.logs_seen, stub.reads_registered);
	for (int i = 0; i < blocks; i++)
		free_item(&roots[i]);
	return 0;
}

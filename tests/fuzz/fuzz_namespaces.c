/*
 * libFuzzer target: the set of discovered namespaces (namespaces.h) over
 * many reads, in a world of namespaces that a script changes between
 * them: namespaces appear and vanish, are pinned and unpinned, their
 * paths move (a pin or a pid taken over by another namespace), they are
 * renamed (by a pin, or by their runtime that wrote its files late),
 * their identities come round again once nothing holds the old
 * namespace, entering or dumping one fails, discovery fails, answers
 * from an older snapshot of the world (a race with the world), or lists
 * a namespace twice, and there are more namespaces than MaxNamespaces.
 * Records come from a scripted source: each namespace's own counts of
 * ESTABLISHED, CLOSE_WAIT and LISTEN sockets, the CLOSE_WAIT ones held
 * by processes of a small fake /proc (the one owner search of the set
 * names them) or by none.
 *
 * tcps_netns_refresh, _enter, _leave and _release are wrapped at link
 * time: paths resolve in the scripted world, a namespace held is a real
 * fd (of /dev/null) and the read thread's namespace is a variable. So is
 * tcps_ctx_farewell, to tell a farewell's values from a read's. The rest
 * is the real code. After every read (abort() on a violation):
 *  - members: at most MaxNamespaces, no two with one name or identity;
 *    after a discovery that ran, left_out = found - min(found,
 *    MaxNamespaces) (found: distinct identities), and no more members
 *    than that minimum;
 *  - every value names a member as its namespace; a farewell's values
 *    may name a member the read dropped, and are all 0;
 *  - a member reads the namespace it was discovered as: it sends its
 *    states once per read (when entering and dumping work), equal to that
 *    namespace's counts, and its holders' CLOSE_WAIT groups equal the
 *    fake /proc's; a member whose path names nothing now, or another
 *    namespace, sends nothing (never that one's sockets as its own), and
 *    the next read discovers (dropping it only if not found);
 *  - every member dropped that ever sent values sends its states once
 *    as zeros (its farewell), one that never did sends nothing; then
 *    nothing while it is not found again; a member moves to another name
 *    only when discovery names it as its runtime does, and then goes so
 *    under the old name;
 *  - the read thread never enters a namespace while inside another, and
 *    leaves before the read ends; it enters only to make a socket in a
 *    namespace that has none, and dumps from its own namespace;
 *  - memory: held namespaces and sockets at most one each per member;
 *    the heap at most a bound per member; after the input, the set freed,
 *    no fd left open and (LeakSanitizer) nothing left allocated.
 *
 * Input: byte 0 configures: MaxNamespaces 1 + b % 8, DiscoverEvery
 * 1 + (b >> 3) % 4, the leak finder on unless bit 5. Then operations,
 * one byte each (op % 16) and their arguments (see do_op()); missing
 * bytes read as 0. TCPS_FUZZ_DEBUG=1 prints each read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "reads.h"
#include "script.h"
#include "tcpstates/collect.h"
#include "tcpstates/namespaces.h"
#include "tcpstates/netns.h"

#if defined(__has_include)
#if __has_include(<sanitizer/allocator_interface.h>)
#include <sanitizer/allocator_interface.h>
#define HEAP_NOW() __sanitizer_get_current_allocated_bytes()
#endif
#endif
#ifndef HEAP_NOW
#define HEAP_NOW() ((size_t)0)
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SLOTS 10     /* namespaces alive at once, at most */
#define INOS 20	     /* identities 1..20: they come round again */
#define PATHS 12     /* /fz/pin/0-5, /fz/proc/0-5/ns/net */
#define PINS 6	     /* paths below this are pins */
#define DEV 4	     /* nsfs's device */
#define MAX_CW 12    /* CLOSE_WAIT sockets of one namespace */
#define PROCS 4	     /* processes of the fake /proc: w0..w3 */
#define FD_MAX 4096  /* fds the wraps may hand out */
#define SAVED 777777 /* "the thread's own namespace", never a real fd */
#define VALUES_MAX 4096
#define FOUND_MAX (SLOTS + 1)
/* Generous, but bounded: a member's context is far below it. */
#define HEAP_PER_MEMBER (4u << 20)
#define HEAP_SLACK (16u << 20)

/* Names discovery gives: some clash with what the set makes of a clash
 * ("NAME-<inode>"), one is as long as a name may be. */
static const char *const names[] = {
	"web",
	"db",
	"web-5",
	"a",
	"web-6",
	"netns-7",
	"x23456789012345678901234567890123456789012345678901234567890123",
	"x234567890123456789012345678901234567890123456789012345678901-3",
};

/* ---- the world ---- */

struct world_ns {
	bool alive;
	uint64_t ino;
	uint8_t name; /* index in names[] */
	bool runtime; /* that name is a container runtime's, not a pin's */
	uint8_t established, close_wait, listen;
	bool enter_fails, dump_fails;
	uint32_t serial; /* which namespace of the script (cookies) */
};

static struct world_ns world[SLOTS];
static int path_ns[PATHS]; /* slot a path names, or -1 */
static int held_fd[INOS + 1], held_sock[INOS + 1];
/* This read tried to enter the namespace (to make its socket). */
static bool enter_tried[INOS + 1];
static uint64_t fd_ino[FD_MAX];
static int netns_fds, handles;
static uint64_t inside; /* the read thread's namespace; 0: its own */
static uint32_t serials;

/* What discovery does, until the script says otherwise. */
static int discover_fails; /* the next ones fail */
static bool stale, lie;
static struct tcps_namespace_found snapshot[FOUND_MAX];
static size_t snapshot_num;
/* What the last discovery returned, and each identity's last path. */
static struct tcps_namespace_found found_last[FOUND_MAX];
static size_t found_last_num;
static int discovered_path[INOS + 1]; /* index in paths, or -1 */

/* Identities whose member has sent values: it owes zeros when it goes. */
static bool sent[INOS + 1];
static char proc_root[256];
static bool debug;
static uint64_t farewells;
static bool in_farewell;

static void path_text(int p, char *out, size_t size)
{
	if (p < PINS)
		snprintf(out, size, "/fz/pin/%d", p);
	else
		snprintf(out, size, "/fz/proc/%d/ns/net", p - PINS);
}

static int path_index(const char *path)
{
	char text[64];

	for (int p = 0; p < PATHS; p++) {
		path_text(p, text, sizeof(text));
		if (strcmp(text, path) == 0)
			return p;
	}
	abort(); /* the set opened a path nobody gave it */
}

static int slot_of_ino(uint64_t ino)
{
	for (int s = 0; s < SLOTS; s++)
		if (world[s].alive && world[s].ino == ino)
			return s;
	return -1;
}

static bool has_path(int slot)
{
	for (int p = 0; p < PATHS; p++)
		if (path_ns[p] == slot)
			return true;
	return false;
}

/* A namespace with no process and no pin is gone (what holds it open
 * keeps the kernel's object, empty, and its identity). */
static void settle(int slot)
{
	if (slot >= 0 && world[slot].alive && !has_path(slot))
		world[slot].alive = false;
}

static void set_path(int p, int slot)
{
	int old = path_ns[p];

	path_ns[p] = slot;
	if (old != slot)
		settle(old);
}

/* An identity nothing alive has and nothing holds: the kernel hands an
 * inode out again only then. */
static uint64_t free_ino(uint8_t hint)
{
	for (int k = 0; k < INOS; k++) {
		uint64_t ino = 1 + (hint + k) % INOS;

		if (slot_of_ino(ino) < 0 && held_fd[ino] == 0 &&
		    held_sock[ino] == 0)
			return ino;
	}
	return 0;
}

/* ---- the fake /proc: w0..w3 hold the CLOSE_WAIT sockets ---- */

static uint32_t socket_inode(int slot, int i)
{
	return 7000u + (uint32_t)slot * 16u + (uint32_t)i;
}

/* The comm index holding socket i of a slot, or -1 for none. */
static int holder(int slot, int i)
{
	return i % 4 == 3 ? -1 : (slot + i) % PROCS;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	fputs(text, f);
	fclose(f);
}

static void make_proc(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[512], text[512];

	snprintf(proc_root, sizeof(proc_root), "%s/tcps-fuzz-ns-XXXXXX",
		 tmp ? tmp : "/tmp");
	CHECK(mkdtemp(proc_root) != NULL);
	for (int w = 0; w < PROCS; w++) {
		int pid = 11 + w;

		snprintf(path, sizeof(path), "%s/%d", proc_root, pid);
		CHECK(mkdir(path, 0755) == 0);
		snprintf(path, sizeof(path), "%s/%d/fd", proc_root, pid);
		CHECK(mkdir(path, 0700) == 0);
		snprintf(path, sizeof(path), "%s/%d/comm", proc_root, pid);
		snprintf(text, sizeof(text), "w%d\n", w);
		write_text(path, text);
		snprintf(path, sizeof(path), "%s/%d/stat", proc_root, pid);
		snprintf(text, sizeof(text),
			 "%d (w%d) S 1 %d %d 0 -1 4194560 100 0 0 0 1 2 0 0 "
			 "20 0 1 0 %d 1000000 100 18446744073709551615 1 1 0 "
			 "0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
			 pid, w, pid, pid, 5000 + w);
		write_text(path, text);
	}
	for (int s = 0; s < SLOTS; s++) {
		for (int i = 0; i < MAX_CW; i++) {
			int w = holder(s, i);

			if (w < 0)
				continue;
			snprintf(path, sizeof(path), "%s/%d/fd/%d", proc_root,
				 11 + w, 100 + s * 16 + i);
			snprintf(text, sizeof(text), "socket:[%u]",
				 socket_inode(s, i));
			CHECK(symlink(text, path) == 0);
		}
	}
}

static void remove_proc(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", proc_root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", proc_root);
}

/* ---- the wraps (-Wl,--wrap) ---- */

int __wrap_tcps_netns_refresh(struct tcps_netns *ns);
int __wrap_tcps_netns_enter(const struct tcps_netns *ns, int *ret_saved);
int __wrap_tcps_netns_leave(int saved);
void __real_tcps_netns_release(struct tcps_netns *ns);
void __wrap_tcps_netns_release(struct tcps_netns *ns);
void __real_tcps_ctx_farewell(struct tcps_ctx *ctx,
			      const struct tcps_sink *sink);
void __wrap_tcps_ctx_farewell(struct tcps_ctx *ctx,
			      const struct tcps_sink *sink);

static void drop_fd(struct tcps_netns *ns)
{
	if (ns->fd < 0)
		return;
	CHECK(ns->fd < FD_MAX && held_fd[fd_ino[ns->fd]] > 0);
	held_fd[fd_ino[ns->fd]]--;
	netns_fds--;
	close(ns->fd);
	ns->fd = -1;
}

/* As the real one: the namespace the path names now, opened again when
 * it is not the one held. */
int __wrap_tcps_netns_refresh(struct tcps_netns *ns)
{
	int slot = path_ns[path_index(ns->path)];
	int fd;

	if (slot < 0) {
		drop_fd(ns);
		return -ENOENT;
	}
	if (ns->fd >= 0 && ns->ino == world[slot].ino)
		return 0;
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && fd < FD_MAX);
	drop_fd(ns);
	ns->fd = fd;
	ns->dev = DEV;
	ns->ino = world[slot].ino;
	fd_ino[fd] = world[slot].ino;
	held_fd[fd_ino[fd]]++;
	netns_fds++;
	return 1;
}

int __wrap_tcps_netns_enter(const struct tcps_netns *ns, int *ret_saved)
{
	int slot;

	CHECK(inside == 0); /* never inside two at once */
	CHECK(ns->fd >= 0 && ns->fd < FD_MAX);
	/* Only to make a socket: a namespace with one is read without. */
	CHECK(held_sock[fd_ino[ns->fd]] == 0);
	enter_tried[fd_ino[ns->fd]] = true;
	slot = slot_of_ino(fd_ino[ns->fd]);
	if (slot >= 0 && world[slot].enter_fails)
		return -EPERM;
	inside = fd_ino[ns->fd];
	*ret_saved = SAVED;
	return 0;
}

int __wrap_tcps_netns_leave(int saved)
{
	CHECK(saved == SAVED && inside != 0);
	inside = 0;
	return 0;
}

void __wrap_tcps_netns_release(struct tcps_netns *ns)
{
	drop_fd(ns);
	__real_tcps_netns_release(ns);
}

void __wrap_tcps_ctx_farewell(struct tcps_ctx *ctx,
			      const struct tcps_sink *sink)
{
	CHECK(!in_farewell && inside == 0);
	farewells++;
	in_farewell = true;
	__real_tcps_ctx_farewell(ctx, sink);
	in_farewell = false;
}

/* ---- the scripted source: a socket is made inside its namespace ---- */

struct handle {
	uint64_t ino;
};

static int source_open(void *arg, void **ret_handle)
{
	struct handle *h;

	(void)arg;
	CHECK(inside != 0);
	h = malloc(sizeof(*h));
	CHECK(h != NULL);
	h->ino = inside;
	held_sock[inside]++;
	handles++;
	*ret_handle = h;
	return 0;
}

static void source_close(void *handle)
{
	struct handle *h = handle;

	held_sock[h->ino]--;
	handles--;
	free(h);
}

static void feed(tcps_record_fn fn, void *data, uint8_t state, int count,
		 int slot, struct tcps_dump_stats *stats)
{
	for (int i = 0; i < count; i++) {
		struct tcps_record rec = {
			.family = AF_INET,
			.state = state,
			.local_port = (uint16_t)(1000 + i),
			.remote_port = (uint16_t)(2000 + state),
			.inode = state == 8 ? socket_inode(slot, i) : 0,
			.cookie = (uint64_t)world[slot].serial << 16 |
				  (uint64_t)state << 8 | (uint64_t)i,
		};

		stats->records++;
		fn(&rec, data);
	}
}

static int source_dump(void *handle, enum tcps_dump_family family,
		       uint32_t state_mask, tcps_record_fn fn, void *data,
		       struct tcps_dump_stats *stats)
{
	const struct handle *h = handle;
	int slot = slot_of_ino(h->ino);

	(void)family;
	(void)state_mask;
	CHECK(inside == 0); /* through the socket made inside, no setns */
	if (slot < 0)
		return 0; /* gone, held open: empty */
	if (world[slot].dump_fails)
		return -EIO;
	feed(fn, data, 1, world[slot].established, slot, stats);
	feed(fn, data, 8, world[slot].close_wait, slot, stats);
	feed(fn, data, 10, world[slot].listen, slot, stats);
	return 0;
}

static const struct tcps_source_ops source = {
	.open = source_open,
	.close = source_close,
	.dump = source_dump,
};

/* ---- discovery ---- */

/* What a discovery of the world finds now: each namespace with a path,
 * under its lowest path (pins first), as discover.c would. */
static size_t list_world(struct tcps_namespace_found *out)
{
	size_t n = 0;

	for (int s = 0; s < SLOTS; s++) {
		struct tcps_namespace_found *f = &out[n];
		int first = -1;

		for (int p = PATHS; p-- > 0;)
			if (path_ns[p] == s)
				first = p;
		if (!world[s].alive || first < 0)
			continue;
		memset(f, 0, sizeof(*f));
		f->dev = DEV;
		f->ino = world[s].ino;
		path_text(first, f->path, sizeof(f->path));
		snprintf(f->name, sizeof(f->name), "%s", names[world[s].name]);
		f->from_runtime = world[s].runtime;
		n++;
	}
	return n;
}

static int scripted_discover(void *arg, struct tcps_namespace_found **ret,
			     size_t *ret_num)
{
	struct tcps_namespace_found *list;
	size_t n;

	(void)arg;
	if (discover_fails > 0) {
		discover_fails--;
		return -EACCES;
	}
	list = calloc(FOUND_MAX, sizeof(*list));
	CHECK(list != NULL);
	if (stale) {
		memcpy(list, snapshot, sizeof(snapshot));
		n = snapshot_num;
	} else {
		n = list_world(list);
	}
	/* The same namespace twice (under its path, another name). */
	if (lie && n > 0 && n < FOUND_MAX) {
		list[n] = list[0];
		snprintf(list[n].name, sizeof(list[n].name), "%s", names[1]);
		n++;
	}
	memcpy(found_last, list, n * sizeof(*list));
	found_last_num = n;
	for (size_t i = 0; i < n; i++)
		discovered_path[list[i].ino] = path_index(list[i].path);
	*ret = list;
	*ret_num = n;
	return 0;
}

/* ---- what a read sends ---- */

struct value {
	char instance[160], type[32], type_instance[32];
	double value;
	bool farewell;
};

static struct value values[VALUES_MAX];
static int values_num;

static int keep_value(void *data, const struct tcps_value *v)
{
	struct value *c;

	(void)data;
	CHECK(values_num < VALUES_MAX);
	c = &values[values_num++];
	/* "<namespace>/<set>": the states are "<namespace>/". */
	CHECK(v->netns[0] != '\0');
	snprintf(c->instance, sizeof(c->instance), "%s/%s", v->netns, v->set);
	snprintf(c->type, sizeof(c->type), "%s", v->type);
	snprintf(c->type_instance, sizeof(c->type_instance), "%s",
		 v->type_instance);
	c->value = v->value;
	c->farewell = in_farewell;
	return 0;
}

static int keep_notification(void *data, const struct tcps_notification *n)
{
	(void)data;
	(void)n;
	return 0;
}

/* ---- checks ---- */

struct member {
	char name[TCPS_NAME_MAX + 1];
	uint64_t ino;
};

struct members {
	struct member m[SLOTS + 8];
	size_t num;
};

static void list_members(const struct tcps_namespaces *set, struct members *out)
{
	uint64_t dev, ino;
	const char *name;

	out->num = 0;
	while ((name = tcps_namespaces_member(set, out->num, &dev, &ino))) {
		CHECK(out->num < ARRAY_SIZE(out->m));
		CHECK(dev == DEV && ino >= 1 && ino <= INOS);
		snprintf(out->m[out->num].name, sizeof(out->m[0].name), "%s",
			 name);
		out->m[out->num].ino = ino;
		out->num++;
	}
	CHECK(out->num == tcps_namespaces_count(set));
}

static const struct member *member_by_ino(const struct members *ms,
					  uint64_t ino)
{
	for (size_t i = 0; i < ms->num; i++)
		if (ms->m[i].ino == ino)
			return &ms->m[i];
	return NULL;
}

/* instance ("namespace/set") is of namespace name. */
static bool belongs(const char *instance, const char *name)
{
	size_t len = strlen(name);

	return strncmp(instance, name, len) == 0 && instance[len] == '/';
}

/* instance is the states of namespace name: "name/". */
static bool states_of(const char *instance, const char *name)
{
	return belongs(instance, name) && instance[strlen(name) + 1] == '\0';
}

static void check_members(const struct members *now, uint32_t max)
{
	CHECK(now->num <= max);
	for (size_t i = 0; i < now->num; i++) {
		CHECK(now->m[i].name[0] != '\0');
		for (size_t j = i + 1; j < now->num; j++) {
			CHECK(strcmp(now->m[i].name, now->m[j].name) != 0);
			CHECK(now->m[i].ino != now->m[j].ino);
		}
	}
}

static size_t distinct_found(void)
{
	size_t n = 0;

	for (size_t i = 0; i < found_last_num; i++) {
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen |= found_last[j].ino == found_last[i].ino;
		n += !seen;
	}
	return n;
}

static void check_discovery(const struct tcps_namespaces_report *report,
			    const struct members *now, uint32_t max,
			    bool discovery_ok)
{
	size_t found, kept;

	if (!report->discovered || !discovery_ok) {
		CHECK(report->left_out == 0 && report->added == 0);
		return;
	}
	found = distinct_found();
	kept = found < max ? found : max;
	/* A list that names one namespace twice (discover.c never does)
	 * may have it counted twice among those left out. */
	if (found == found_last_num)
		CHECK(report->left_out == found - kept);
	else
		CHECK(report->left_out >= found - kept &&
		      report->left_out <= found_last_num - kept);
	/* The read's own drops (paths gone) come after the discovery. */
	CHECK(now->num <= kept);
}

/* This read's discovery named the namespace ino as its runtime does. */
static bool runtime_named(uint64_t ino)
{
	for (size_t i = 0; i < found_last_num; i++)
		if (found_last[i].ino == ino && found_last[i].from_runtime)
			return true;
	return false;
}

/* A member that went: its farewell (if it ever sent values), and its
 * sent values forgotten. Returns the farewells it owed. */
static size_t went(const struct member *b)
{
	int zeros = 0;
	size_t owed = sent[b->ino];

	for (int v = 0; v < values_num; v++)
		if (values[v].farewell &&
		    states_of(values[v].instance, b->name) &&
		    strcmp(values[v].type_instance, "ESTABLISHED") == 0)
			zeros++;
	CHECK(sent[b->ino] ? zeros >= 1 : zeros == 0);
	sent[b->ino] = false;
	return owed;
}

/*
 * Every member dropped that ever sent values sent its farewell, one that
 * never did sent nothing; every farewell is such a drop. A member that
 * moved to another name (only when this read's discovery named it as its
 * runtime does) went under its old name and came under the new.
 */
static void check_drops(const struct tcps_namespaces_report *report,
			const struct members *before, const struct members *now,
			uint64_t read_farewells, bool discovery_ok)
{
	size_t dropped = 0, added = 0, owed = 0;

	for (size_t i = 0; i < before->num; i++) {
		const struct member *b = &before->m[i];
		const struct member *n = member_by_ino(now, b->ino);

		if (n && strcmp(n->name, b->name) == 0)
			continue;
		if (n) {
			CHECK(discovery_ok && runtime_named(b->ino));
			added++;
		}
		dropped++;
		owed += went(b);
	}
	CHECK(read_farewells == owed);
	for (size_t i = 0; i < now->num; i++)
		added += member_by_ino(before, now->m[i].ino) == NULL;
	/* Added and dropped in one read: found, then its path gone. */
	CHECK(report->gone >= dropped && report->added >= added);
	CHECK(report->gone - dropped == report->added - added);
}

/* Every value has a member's name in front; a farewell's are zeros. */
static void check_names(const struct members *now)
{
	for (int v = 0; v < values_num; v++) {
		bool named = false;

		if (values[v].farewell) {
			CHECK(values[v].value == 0);
			continue;
		}
		for (size_t i = 0; i < now->num && !named; i++)
			named = belongs(values[v].instance, now->m[i].name);
		CHECK(named);
	}
}

/* A tcp_connections value: the states' ("name/") or a group's
 * ("name/proc_close_wait"). */
static double value_of(const char *instance, const char *type_instance,
		       int *count)
{
	double value = -1;

	*count = 0;
	for (int v = 0; v < values_num; v++) {
		if (values[v].farewell ||
		    strcmp(values[v].instance, instance) != 0 ||
		    strcmp(values[v].type, "tcp_connections") != 0 ||
		    strcmp(values[v].type_instance, type_instance) != 0)
			continue;
		value = values[v].value;
		(*count)++;
	}
	return value;
}

/* The groups of the holders of slot's CLOSE_WAIT sockets. */
static void check_groups(const char *name, int slot)
{
	int want[PROCS + 1] = { 0 }, count;
	char instance[200], group[16];

	for (int i = 0; i < world[slot].close_wait; i++) {
		int w = holder(slot, i);

		want[w < 0 ? PROCS : w]++;
	}
	for (int w = 0; w <= PROCS; w++) {
		double got;

		snprintf(instance, sizeof(instance), "%s/proc_close_wait",
			 name);
		if (w < PROCS)
			snprintf(group, sizeof(group), "w%d", w);
		else
			snprintf(group, sizeof(group), "-unknown");
		got = value_of(instance, group, &count);
		if (want[w] > 0)
			CHECK(count == 1 && got == want[w]);
		else
			CHECK(count == 0 || got == 0);
	}
}

/* A member reads the namespace it was discovered as, or nothing. One
 * whose path names nothing or another namespace sends nothing, and the
 * next read must discover (even if this one did: the path may have gone
 * after it). Returns whether it waits for that discovery. */
static bool check_member_values(const struct member *m, bool leaks)
{
	int p = discovered_path[m->ino], slot, count;
	char states[TCPS_NAME_MAX + 2];
	double established;

	CHECK(p >= 0);
	slot = path_ns[p];
	snprintf(states, sizeof(states), "%s/", m->name);
	established = value_of(states, "ESTABLISHED", &count);
	if (debug)
		fprintf(stderr,
			"  %s: identity %llu, path %d names %llu%s%s, "
			"ESTABLISHED sent %d times\n",
			m->name, (unsigned long long)m->ino, p,
			slot < 0 ? 0ull : (unsigned long long)world[slot].ino,
			slot >= 0 && world[slot].enter_fails ? ", enter fails"
							     : "",
			slot >= 0 && world[slot].dump_fails ? ", dump fails"
							    : "",
			count);
	if (slot < 0 || world[slot].ino != m->ino) {
		CHECK(count == 0);
		return true;
	}
	/* A namespace that refuses setns is still read through the socket
	 * made before; one that needed a new socket is not. */
	if ((world[slot].enter_fails && enter_tried[m->ino]) ||
	    world[slot].dump_fails) {
		CHECK(count == 0);
		return false;
	}
	CHECK(count == 1);
	sent[m->ino] = true;
	CHECK(established == world[slot].established);
	CHECK(value_of(states, "CLOSE_WAIT", &count) ==
		      world[slot].close_wait &&
	      count == 1);
	CHECK(value_of(states, "LISTEN", &count) == world[slot].listen &&
	      count == 1);
	if (leaks)
		check_groups(m->name, slot);
	return false;
}

static void check_holds(const struct members *now)
{
	CHECK(inside == 0);
	CHECK(netns_fds >= 0 && (size_t)netns_fds <= now->num);
	CHECK(handles >= 0 && (size_t)handles <= now->num);
}

/* ---- reads ---- */

struct run {
	struct tcps_namespaces *set;
	uint32_t max;
	bool leaks;
	size_t heap_start;
	uint64_t reads;
	bool must_discover; /* a member lost its path: discover next read */
};

static void do_read(struct run *run)
{
	struct tcps_sink sink = { .value = keep_value,
				  .notify = keep_notification };
	struct tcps_namespaces_report report;
	struct members before, now;
	uint64_t farewells_before = farewells;
	bool discovery_ok;
	int fails_before = discover_fails;

	list_members(run->set, &before);
	values_num = 0;
	memset(enter_tried, 0, sizeof(enter_tried));
	CHECK(tcps_namespaces_read(run->set, &sink, &report) == 0);
	discovery_ok = report.discovered && discover_fails == fails_before;
	CHECK(!report.discovered || discovery_ok ||
	      report.discover_error == -EACCES);
	list_members(run->set, &now);
	if (debug)
		fprintf(stderr,
			"read %llu: %zu members, %d values, added %zu, gone "
			"%zu, left out %zu, failed %zu%s\n",
			(unsigned long long)run->reads, now.num, values_num,
			report.added, report.gone, report.left_out,
			report.failed, report.discovered ? ", discovered" : "");
	check_members(&now, run->max);
	check_discovery(&report, &now, run->max, discovery_ok);
	check_drops(&report, &before, &now, farewells - farewells_before,
		    discovery_ok);
	check_names(&now);
	/* Looked for again at once when it lost its path. */
	CHECK(!run->must_discover || report.discovered);
	run->must_discover = false;
	for (size_t i = 0; i < now.num; i++)
		run->must_discover |=
			check_member_values(&now.m[i], run->leaks);
	check_holds(&now);
	CHECK(HEAP_NOW() <= run->heap_start + HEAP_SLACK +
				    (size_t)run->max * HEAP_PER_MEMBER);
	run->reads++;
	fuzz_reads_count();
}

/* ---- the script ---- */

static int pick_slot(struct reader *r)
{
	return take(r) % SLOTS;
}

static void set_counts(int slot, uint8_t a, uint8_t b)
{
	world[slot].established = a % 16;
	world[slot].close_wait = (a >> 4) % (MAX_CW + 1);
	world[slot].listen = b % 4;
}

/* A new namespace on path p (a pin, or a pid's /proc entry): what the
 * path named before loses it. */
static void create(struct reader *r)
{
	uint8_t hint = take(r), name = take(r), p = take(r) % PATHS;
	uint8_t a = take(r), b = take(r);
	uint64_t ino = free_ino(hint);
	int slot = -1;

	for (int s = 0; s < SLOTS && slot < 0; s++)
		if (!world[s].alive)
			slot = s;
	if (slot < 0 || ino == 0)
		return;
	memset(&world[slot], 0, sizeof(world[slot]));
	world[slot].alive = true;
	world[slot].ino = ino;
	world[slot].name = name % ARRAY_SIZE(names);
	world[slot].runtime = name & 0x80;
	world[slot].serial = ++serials;
	set_counts(slot, a, b);
	set_path(p, slot);
}

static void kill_namespace(int slot)
{
	for (int p = 0; p < PATHS; p++)
		if (path_ns[p] == slot)
			path_ns[p] = -1;
	world[slot].alive = false;
}

static void do_op(struct reader *r, struct run *run)
{
	uint8_t op = take(r);
	int slot;

	switch (op % 16) {
	case 1:
		create(r);
		break;
	case 2: /* its last process exits, its pins go */
		kill_namespace(pick_slot(r));
		break;
	case 3: /* a pin deleted, or a pid's process exited */
		set_path(take(r) % PATHS, -1);
		break;
	case 4: /* pinned, or a process joins it: another path */
		slot = pick_slot(r);
		if (world[slot].alive)
			set_path(take(r) % PATHS, slot);
		break;
	case 5: /* renamed; bit 7: by its runtime, which wrote its files */
		slot = pick_slot(r);
		op = take(r);
		world[slot].name = op % ARRAY_SIZE(names);
		world[slot].runtime = op & 0x80;
		break;
	case 6:
		slot = pick_slot(r);
		set_counts(slot, take(r), take(r));
		break;
	case 7:
		slot = pick_slot(r);
		world[slot].enter_fails = !world[slot].enter_fails;
		break;
	case 8:
		slot = pick_slot(r);
		world[slot].dump_fails = !world[slot].dump_fails;
		break;
	case 9:
		discover_fails = take(r) % 4;
		break;
	case 10: /* discovery answers with the world as it is now, later */
		stale = !stale;
		snapshot_num = list_world(snapshot);
		break;
	case 11:
		lie = !lie;
		break;
	default:
		do_read(run);
	}
}

/* ---- an input ---- */

static void reset_world(void)
{
	memset(world, 0, sizeof(world));
	for (int p = 0; p < PATHS; p++)
		path_ns[p] = -1;
	for (int i = 0; i <= INOS; i++) {
		discovered_path[i] = -1;
		sent[i] = false;
	}
	discover_fails = 0;
	stale = lie = false;
	snapshot_num = found_last_num = 0;
	serials = 0;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	CHECK(d != NULL);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void start(struct run *run, uint8_t config)
{
	struct tcps_namespaces_config cfg = {
		.max_namespaces = 1 + config % 8,
		.discover_every = 1 + (config >> 3) % 4,
		.discover = scripted_discover,
		.source = &source,
	};

	tcps_options_init(&cfg.opts);
	cfg.opts.value_sets = 0; /* states, and the leak finder if on */
	cfg.opts.process_scan_budget = 0;
	cfg.opts.proc_root = proc_root;
	if (config & 0x20)
		cfg.opts.process_states = 0;
	memset(run, 0, sizeof(*run));
	run->max = cfg.max_namespaces;
	run->leaks = cfg.opts.process_states != 0;
	run->heap_start = HEAP_NOW();
	CHECK(tcps_namespaces_new(&cfg, &run->set) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	make_proc();
	atexit(remove_proc);
	fuzz_reads_start();
	debug = getenv("TCPS_FUZZ_DEBUG") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { .p = data, .left = size };
	struct run run;
	int fds = open_fds();

	reset_world();
	start(&run, take(&r));
	while (r.left > 0)
		do_op(&r, &run);
	do_read(&run);
	tcps_namespaces_free(run.set);
	/* Everything held is let go. */
	CHECK(netns_fds == 0 && handles == 0 && inside == 0);
	for (int i = 0; i <= INOS; i++)
		CHECK(held_fd[i] == 0 && held_sock[i] == 0);
	CHECK(open_fds() == fds);
	return 0;
}

/* The promises of leaks_oracle.h, checked read by read. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leaks_oracle.h"
#include "tcpstates/owners.h"
#include "tcpstates/tally.h"
#include "tcpstates/util.h"

#define OTHER "proc-other"
#define UNKNOWN "proc-unknown"
#define PREFIX "proc_"
#define PREFIX_LEN (sizeof(PREFIX) - 1)
#define MESSAGE_MAX 256	     /* collectd's notification message */
#define RETRY_ROUNDS 64	     /* owners.c looks again for a missing socket */
#define CANDIDATES_KEPT 4096 /* leaks.c keeps this many however few */

enum { TYPE_COUNT, TYPE_AGE, TYPE_BYTES, TYPES };
static const char *const type_names[TYPES] = { "tcp_connections", "duration",
					       "bytes" };

/* A set of processes of the world, by their index in world.procs. */
typedef unsigned __int128 proc_set;

#define PROC_BIT(proc) ((proc_set)1 << (proc))

/* What the world says about one read, worked out once. */
struct facts {
	/* Per record: bit per process of the live processes with a
	 * readable comm that ever held its (inode, cookie). */
	proc_set holders[ORACLE_RECORDS];
	bool must[ORACLE_RECORDS]; /* cannot be left to -unknown */
	/* Per inode: bit per process of the processes listing it in a
	 * readable fd folder. */
	proc_set listers[WORLD_INODES + 1];
	uint64_t sockets[TCPS_STATE_COUNT], unread[TCPS_STATE_COUNT];
	uint64_t total;
	uint32_t cookie_uses[WORLD_COOKIES];
	bool seen[WORLD_COOKIES][TCPS_STATE_COUNT];
};

static void broken(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A broken promise: say which, then abort() so libFuzzer keeps the
 * script. */
static void broken(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz-leaks: broken promise: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static bool tracked(const struct oracle *o, int state)
{
	return state >= TCPS_STATE_FIRST && state < TCPS_STATE_UNKNOWN &&
	       ((o->cfg.state_mask >> state) & 1);
}

/* The state a record is counted in, or -1 if the leak finder skips it. */
static int record_state(const struct oracle *o, const struct oracle_record *r)
{
	return tracked(o, r->state) ? r->state : -1;
}

static bool is_named(const char *instance)
{
	return strncmp(instance, PREFIX, PREFIX_LEN) == 0;
}

static void check_instance(const char *instance)
{
	size_t len = strnlen(instance, ORACLE_INSTANCE_MAX);

	if (len >= ORACLE_INSTANCE_MAX)
		broken("instance too long: %.80s", instance);
	if (strcmp(instance, OTHER) == 0 || strcmp(instance, UNKNOWN) == 0)
		return;
	if (!is_named(instance) || len == PREFIX_LEN ||
	    len > PREFIX_LEN + TCPS_NAME_MAX ||
	    strspn(instance + PREFIX_LEN,
		   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789_-") != len - PREFIX_LEN)
		broken("instance not a clean group name: %s", instance);
}

/*
 * The leak finder sends set "proc_<state>" (state in lower case) and the
 * group as type instance ("-other", "-unknown" or a name that never starts
 * with '-'). The oracle keys its views as the identifiers once were:
 * writes "proc_<group>" or "proc-other" to key, returns the state.
 */
static int translate(const struct oracle *o, const char *set, const char *group,
		     char *key, size_t size)
{
	int state = -1;

	if (strncmp(set, PREFIX, PREFIX_LEN) == 0)
		for (int s = TCPS_STATE_FIRST; s < TCPS_STATE_UNKNOWN; s++)
			if (strcmp(set + PREFIX_LEN, tcps_state_set_name(s)) ==
			    0)
				state = s;
	if (state < 0 || !tracked(o, state))
		broken("not the set of a tracked state: %s", set);
	if (group[0] == '-' && strcmp(group, "-other") != 0 &&
	    strcmp(group, "-unknown") != 0)
		broken("a group name starting with '-': %s", group);
	snprintf(key, size, "%s%s", group[0] == '-' ? "proc" : PREFIX, group);
	return state;
}

static int view_index(const struct oracle_view *views, size_t num,
		      const char *instance)
{
	for (size_t i = 0; i < num; i++)
		if (strcmp(views[i].instance, instance) == 0)
			return (int)i;
	return -1;
}

static const struct oracle_view *find_view(const struct oracle_view *views,
					   size_t num, const char *instance)
{
	int i = view_index(views, num, instance);

	return i < 0 ? NULL : &views[i];
}

/* The view of a group, made on its first value. A group's values come
 * one after the other: the last view is tried first. */
static struct oracle_view *view_of(struct oracle *o, const char *instance)
{
	struct oracle_view *v =
		o->views_num ? &o->views[o->views_num - 1] : NULL;
	int i;

	if (v && strcmp(v->instance, instance) == 0)
		return v;
	i = view_index(o->views, o->views_num, instance);
	if (i >= 0)
		return &o->views[i];
	check_instance(instance);
	if (o->views_num >= ORACLE_VIEWS)
		broken("more than %d groups in one read", ORACLE_VIEWS);
	v = &o->views[o->views_num++];
	memset(v, 0, sizeof(*v));
	snprintf(v->instance, sizeof(v->instance), "%s", instance);
	return v;
}

static int type_index(const char *type)
{
	for (int t = 0; t < TYPES; t++)
		if (strcmp(type, type_names[t]) == 0)
			return t;
	broken("unexpected type %s", type);
	return -1;
}

static int keep_value(void *data, const struct tcps_value *value)
{
	struct oracle *o = data;
	int type = type_index(value->type);
	char key[ORACLE_INSTANCE_MAX + 8];
	int state = translate(o, value->set, value->type_instance, key,
			      sizeof(key));
	struct oracle_view *v;
	double *field;

	if (o->trace)
		fprintf(stderr, "  %s %s-%s %g\n", value->set, value->type,
			value->type_instance, value->value);
	if (!isfinite(value->value) || value->value < 0 ||
	    (type != TYPE_AGE && value->value != floor(value->value)))
		broken("%s %s-%s = %g", value->set, value->type,
		       value->type_instance, value->value);
	v = view_of(o, key);
	if (v->have[state] & (1u << type))
		broken("%s %s-%s sent twice in one read", v->instance,
		       value->type, value->type_instance);
	v->have[state] |= (uint8_t)(1u << type);
	field = type == TYPE_COUNT ? v->count
		: type == TYPE_AGE ? v->duration
				   : v->bytes;
	field[state] = value->value;
	return 0;
}

static int keep_note(void *data, const struct tcps_notification *n)
{
	struct oracle *o = data;
	struct oracle_note *note;
	char key[ORACLE_INSTANCE_MAX + 8];
	int state = translate(o, n->set, n->type_instance, key, sizeof(key));

	if (o->trace)
		fprintf(stderr, "  %s: %s\n",
			n->severity == TCPS_SEVERITY_OKAY ? "OKAY" : "WARNING",
			n->message);
	check_instance(key);
	if (strcmp(n->type, "tcp_connections") != 0 || !n->message ||
	    !n->message[0] || strlen(n->message) >= MESSAGE_MAX ||
	    strchr(n->message, '\n'))
		broken("malformed notification for %s", key);
	if (n->severity != TCPS_SEVERITY_WARNING &&
	    n->severity != TCPS_SEVERITY_OKAY)
		broken("severity %d", (int)n->severity);
	if (o->notes_num >= ORACLE_NOTES)
		broken("more than %d notifications in one read", ORACLE_NOTES);
	note = &o->notes[o->notes_num++];
	note->severity = n->severity;
	note->state = state;
	snprintf(note->instance, sizeof(note->instance), "%s", key);
	return 0;
}

struct tcps_sink oracle_sink(struct oracle *o)
{
	struct tcps_sink sink = { .value = keep_value,
				  .notify = keep_note,
				  .data = o };

	return sink;
}

void oracle_start(struct oracle *o, const struct tcps_leaks_config *cfg)
{
	memset(o, 0, sizeof(*o));
	o->cfg = *cfg;
	o->trace = getenv("FUZZ_LEAKS_TRACE") != NULL;
	for (size_t i = 0; i <= WORLD_INODES; i++)
		o->unfindable[i] = -1;
}

void oracle_begin(struct oracle *o, uint64_t now_ms)
{
	if (o->trace)
		fprintf(stderr, "read %llu at %llu ms\n",
			(unsigned long long)o->reads + 1,
			(unsigned long long)now_ms);
	o->views_num = 0;
	o->notes_num = 0;
	o->begin_left = o->cands_left;
}

void oracle_aborted(struct oracle *o)
{
	if (o->trace)
		fputs("  (the dump failed: no values)\n", stderr);
	o->cands_left = 0; /* tcps_leaks_abort() begins anew */
}

static bool holds_sockets(const struct oracle_view *v)
{
	for (int s = 0; s < TCPS_STATE_COUNT; s++)
		if (v->count[s] > 0)
			return true;
	return false;
}

static bool name_has_group(const struct oracle *o, const char *comm)
{
	for (size_t i = 0; i < o->views_num; i++) {
		const struct oracle_view *v = &o->views[i];

		if (is_named(v->instance) &&
		    strcmp(v->instance + PREFIX_LEN, comm) == 0 &&
		    holds_sockets(v))
			return true;
	}
	return false;
}

/* The processes view v's group may stand for: those of
 * its name, or for -other those of a name not sent as a group of its
 * own. (-unknown may stand for any.) */
static proc_set group_procs(const struct oracle *o, const struct world *w,
			    const struct oracle_view *v)
{
	bool other = strcmp(v->instance, OTHER) == 0;
	proc_set set = 0;

	for (unsigned proc = 0; proc < WORLD_PIDS; proc++) {
		const struct world_proc *p = &w->procs[proc];

		if (!p->alive)
			continue;
		if (other ? !name_has_group(o, p->comm)
			  : strcmp(v->instance + PREFIX_LEN, p->comm) == 0)
			set |= PROC_BIT(proc);
	}
	return set;
}

static proc_set ever_holders(const struct world *w,
			     const struct oracle_record *r)
{
	proc_set mask = 0;

	for (unsigned proc = 0; proc < WORLD_PIDS; proc++) {
		const struct world_proc *p = &w->procs[proc];

		if (p->alive && !p->comm_gone &&
		    world_ever_held(w, r->inode, r->cookie, p->serial))
			mask |= PROC_BIT(proc);
	}
	return mask;
}

/*
 * Whether the owner search must name record r's holder: a full search
 * (no budget) reads every fd folder, so it finds a socket listed in one,
 * unless a complete scan missed it lately (then owners.c waits up to
 * RETRY_ROUNDS reads before it looks again). Every process it could
 * settle on (a lister, or a remembered holder that lives on) must have
 * a readable comm, or the group is unknown.
 */
static bool must_name(const struct oracle *o, const struct world *w,
		      const struct facts *f, const struct oracle_record *r)
{
	proc_set listers = f->listers[r->inode];

	if (o->cfg.scan_budget_ms > 0 || !r->first || r->inode == 0 ||
	    listers == 0)
		return false;
	if (o->unfindable[r->inode] >= (int64_t)o->run_start[r->inode] &&
	    o->reads <= (uint64_t)o->unfindable[r->inode] + RETRY_ROUNDS)
		return false;
	for (unsigned proc = 0; proc < WORLD_PIDS; proc++) {
		const struct world_proc *p = &w->procs[proc];
		bool trusted =
			p->alive && p->stat == STAT_OK &&
			world_ever_held(w, r->inode, r->cookie, p->serial);

		if ((((listers >> proc) & 1) || trusted) && p->comm_gone)
			return false;
	}
	return true;
}

static void find_listers(const struct world *w, struct facts *f)
{
	for (unsigned proc = 0; proc < WORLD_PIDS; proc++) {
		const struct world_proc *p = &w->procs[proc];

		if (!p->alive || p->fd_dir != FD_DIR_OK)
			continue;
		for (unsigned fd = 0; fd < WORLD_FDS; fd++)
			if (p->fds[fd] >= 0)
				f->listers[w->socks[p->fds[fd]].inode] |=
					PROC_BIT(proc);
	}
}

static void derive(struct oracle *o, const struct world *w,
		   const struct oracle_read *in, struct facts *f)
{
	memset(f, 0, sizeof(*f));
	find_listers(w, f);
	for (size_t i = 0; i < in->recs_num; i++) {
		const struct oracle_record *r = &in->recs[i];
		int state = record_state(o, r);

		if (state < 0)
			continue; /* not a candidate: never looked for */
		if (r->first && r->inode != 0 && !o->inode_last[r->inode])
			o->run_start[r->inode] = o->reads;
		f->holders[i] = ever_holders(w, r);
		f->must[i] = must_name(o, w, f, r);
		f->sockets[state]++;
		f->unread[state] += r->unread;
		f->cookie_uses[r->cookie]++;
		f->seen[r->cookie][state] = true;
	}
	if (tracked(o, in->burst_state))
		f->sockets[in->burst_state] += in->burst;
	for (int s = 0; s < TCPS_STATE_COUNT; s++)
		f->total += f->sockets[s];
}

/* Since when (cookie, state) was seen at every read in a row: the
 * oldest age the leak finder may give a socket of that cookie. */
static void learn_since(struct oracle *o, const struct oracle_read *in,
			const struct facts *f)
{
	for (unsigned c = 0; c < WORLD_COOKIES; c++)
		for (int s = 0; s < TCPS_STATE_COUNT; s++)
			if (f->seen[c][s] && !o->seen_last[c][s])
				o->since_ms[c][s] = in->now_ms;
}

static void check_stats(const struct facts *f,
			const struct tcps_leaks_stats *st, int end_ret)
{
	if (end_ret != 0 || st->resolve_error != 0)
		broken("tcps_leaks_end %d, resolve %d", end_ret,
		       st->resolve_error);
	if (st->candidates != f->total)
		broken("%llu candidates, %llu sockets fed",
		       (unsigned long long)st->candidates,
		       (unsigned long long)f->total);
}

/* Every group: every tracked state, all three values. A group with no
 * socket left was sent last read and is sent as zeros once. */
static void check_groups(const struct oracle *o)
{
	for (size_t i = 0; i < o->views_num; i++) {
		const struct oracle_view *v = &o->views[i];
		const struct oracle_view *last = find_view(
			o->last_views, o->last_views_num, v->instance);

		for (int s = TCPS_STATE_FIRST; s < TCPS_STATE_UNKNOWN; s++)
			if (tracked(o, s) && v->have[s] != (1u << TYPES) - 1)
				broken("%s: %s values incomplete", v->instance,
				       tcps_state_name(s));
		if (!holds_sockets(v) && (!last || !holds_sockets(last)))
			broken("%s sent as zeros but not sent last read",
			       v->instance);
	}
	for (size_t i = 0; i < o->last_views_num; i++) {
		const struct oracle_view *last = &o->last_views[i];

		if (holds_sockets(last) &&
		    !find_view(o->views, o->views_num, last->instance))
			broken("%s gone without zeros", last->instance);
	}
}

static void check_ranks(const struct oracle *o)
{
	size_t named = 0;
	bool other = false;

	for (size_t i = 0; i < o->views_num; i++) {
		if (!holds_sockets(&o->views[i]))
			continue;
		named += is_named(o->views[i].instance);
		other |= strcmp(o->views[i].instance, OTHER) == 0;
	}
	if (named > o->cfg.top_n || (other && named != o->cfg.top_n))
		broken("%zu named groups, TopProcesses %u, other %d", named,
		       o->cfg.top_n, other);
}

static void check_sums(const struct oracle *o, const struct facts *f)
{
	for (int s = TCPS_STATE_FIRST; s < TCPS_STATE_UNKNOWN; s++) {
		double count = 0, bytes = 0;

		if (!tracked(o, s))
			continue;
		for (size_t i = 0; i < o->views_num; i++) {
			count += o->views[i].count[s];
			bytes += o->views[i].bytes[s];
		}
		if (count != (double)f->sockets[s] ||
		    bytes != (double)f->unread[s])
			broken("%s: groups hold %g sockets, %g bytes; the "
			       "dump had %llu, %llu",
			       tcps_state_name(s), count, bytes,
			       (unsigned long long)f->sockets[s],
			       (unsigned long long)f->unread[s]);
	}
}

static void add_member(struct oracle_view *v, int s, uint64_t cookie,
		       bool unique, uint64_t since_ms, bool seen_last)
{
	v->members[s]++;
	v->digest[s] += tcps_mix64(cookie * TCPS_STATE_COUNT + (uint64_t)s);
	v->digest_ok[s] &= cookie != 0 && unique;
	if (since_ms < v->oldest_ms[s])
		v->oldest_ms[s] = since_ms;
	v->settled[s] += cookie != 0 && seen_last;
}

/* Which sockets of the read each group may hold. */
static void gather_members(struct oracle *o, const struct world *w,
			   const struct oracle_read *in, const struct facts *f)
{
	for (size_t i = 0; i < o->views_num; i++) {
		struct oracle_view *v = &o->views[i];
		bool unknown = strcmp(v->instance, UNKNOWN) == 0;
		proc_set procs = unknown ? 0 : group_procs(o, w, v);

		for (int s = 0; s < TCPS_STATE_COUNT; s++) {
			v->digest_ok[s] = true;
			v->oldest_ms[s] = in->now_ms;
		}
		for (size_t r = 0; r < in->recs_num; r++) {
			const struct oracle_record *rec = &in->recs[r];
			int s = record_state(o, rec);

			if (s < 0 || (!unknown && !(f->holders[r] & procs)))
				continue;
			add_member(v, s, rec->cookie,
				   f->cookie_uses[rec->cookie] == 1,
				   o->since_ms[rec->cookie][s],
				   o->seen_last[rec->cookie][s]);
		}
		if (unknown && in->burst > 0 && tracked(o, in->burst_state)) {
			v->members[in->burst_state] += in->burst;
			v->digest_ok[in->burst_state] = false;
		}
	}
}

/*
 * A group holds only sockets a process of its name ever held; all named
 * groups and -other together only sockets some live process ever
 * held; and with no budget, at least the sockets must_name() vouches for.
 */
static void check_attribution(const struct oracle *o,
			      const struct oracle_read *in,
			      const struct facts *f)
{
	for (int s = TCPS_STATE_FIRST; s < TCPS_STATE_UNKNOWN; s++) {
		uint64_t named = 0, held = 0, must = 0;

		if (!tracked(o, s))
			continue;
		for (size_t r = 0; r < in->recs_num; r++) {
			if (record_state(o, &in->recs[r]) != s)
				continue;
			held += f->holders[r] != 0;
			must += f->must[r];
		}
		for (size_t i = 0; i < o->views_num; i++) {
			const struct oracle_view *v = &o->views[i];

			if (strcmp(v->instance, UNKNOWN) == 0)
				continue;
			if (v->count[s] > (double)v->members[s])
				broken("%s holds %g %s sockets; a process of "
				       "that name ever held %llu of them",
				       v->instance, v->count[s],
				       tcps_state_name(s),
				       (unsigned long long)v->members[s]);
			named += (uint64_t)v->count[s];
		}
		if (named > held || named < must)
			broken("%s: %llu sockets named; live processes ever "
			       "held %llu, %llu are in sight",
			       tcps_state_name(s), (unsigned long long)named,
			       (unsigned long long)held,
			       (unsigned long long)must);
	}
}

static void check_age_steady(const struct oracle *o,
			     const struct oracle_view *v, int s)
{
	const struct oracle_view *last =
		find_view(o->last_views, o->last_views_num, v->instance);

	if (!last || !v->digest_ok[s] || !last->digest_ok[s] ||
	    v->digest[s] != last->digest[s] ||
	    v->members[s] != last->members[s] ||
	    v->count[s] != (double)v->members[s] ||
	    last->count[s] != (double)last->members[s])
		return;
	if (v->duration[s] < last->duration[s])
		broken("%s %s: age went back from %g s to %g s, same sockets",
		       v->instance, tcps_state_name(s), last->duration[s],
		       v->duration[s]);
}

static void check_ages(const struct oracle *o, const struct oracle_read *in)
{
	for (size_t i = 0; i < o->views_num; i++) {
		const struct oracle_view *v = &o->views[i];

		for (int s = TCPS_STATE_FIRST; s < TCPS_STATE_UNKNOWN; s++) {
			double bound;

			if (!tracked(o, s))
				continue;
			if (v->count[s] == 0) {
				if (v->duration[s] != 0 || v->bytes[s] != 0)
					broken("%s %s: no socket, age %g, "
					       "%g bytes",
					       v->instance, tcps_state_name(s),
					       v->duration[s], v->bytes[s]);
				continue;
			}
			bound = (double)(in->now_ms - v->oldest_ms[s]) / 1000.0;
			if (v->duration[s] > bound)
				broken("%s %s: age %g s, its sockets were in "
				       "that state %g s at most",
				       v->instance, tcps_state_name(s),
				       v->duration[s], bound);
			check_age_steady(o, v, s);
		}
	}
}

static bool may_leak(const struct oracle *o, const struct oracle_view *v, int s)
{
	if (!v || v->count[s] == 0)
		return false;
	if (o->cfg.max_age_s > 0 && v->duration[s] >= (double)o->cfg.max_age_s)
		return true;
	return o->cfg.threshold > 0 && v->count[s] >= o->cfg.threshold &&
	       v->settled[s] >= o->cfg.threshold;
}

static bool must_leak(const struct oracle *o, const struct oracle_view *v,
		      int s)
{
	return v && v->count[s] > 0 && o->cfg.max_age_s > 0 &&
	       v->duration[s] >= (double)o->cfg.max_age_s;
}

static int alarm_index(const struct oracle *o, const char *instance, int state)
{
	for (size_t i = 0; i < o->alarms_num; i++)
		if (o->alarms[i].state == state &&
		    strcmp(o->alarms[i].instance, instance) == 0)
			return (int)i;
	return -1;
}

static void take_note(struct oracle *o, const struct oracle_note *n)
{
	const struct oracle_view *v =
		find_view(o->views, o->views_num, n->instance);
	int a = alarm_index(o, n->instance, n->state);
	const char *state_name = tcps_state_name(n->state);

	if (n->severity == TCPS_SEVERITY_OKAY) {
		if (a < 0)
			broken("OKAY for %s %s without a WARNING before",
			       n->instance, state_name);
		if (must_leak(o, v, n->state))
			broken("OKAY for %s %s, age %g s over the limit",
			       n->instance, state_name, v->duration[n->state]);
		o->alarms[a] = o->alarms[--o->alarms_num];
		return;
	}
	if (a >= 0)
		broken("two WARNINGs in a row for %s %s", n->instance,
		       state_name);
	if (!may_leak(o, v, n->state))
		broken("WARNING for %s %s: %g sockets (%llu may be settled), "
		       "age %g s",
		       n->instance, state_name, v ? v->count[n->state] : 0,
		       v ? (unsigned long long)v->settled[n->state] : 0ull,
		       v ? v->duration[n->state] : 0);
	if (o->alarms_num >= sizeof(o->alarms) / sizeof(o->alarms[0]))
		broken("more alarms than groups and states");
	snprintf(o->alarms[o->alarms_num].instance, ORACLE_INSTANCE_MAX, "%s",
		 n->instance);
	o->alarms[o->alarms_num++].state = n->state;
}

/* WARNING and OKAY alternate; what is outstanding after the read agrees
 * with the values sent. */
static void check_notes(struct oracle *o)
{
	for (size_t i = 0; i < o->notes_num; i++)
		take_note(o, &o->notes[i]);
	for (size_t i = 0; i < o->alarms_num; i++) {
		const struct oracle_alarm *a = &o->alarms[i];

		if (!may_leak(o, find_view(o->views, o->views_num, a->instance),
			      a->state))
			broken("WARNING for %s %s still out, no OKAY, but no "
			       "limit is crossed",
			       a->instance, tcps_state_name(a->state));
	}
	for (size_t i = 0; i < o->views_num; i++)
		for (int s = TCPS_STATE_FIRST; s < TCPS_STATE_UNKNOWN; s++)
			if (must_leak(o, &o->views[i], s) &&
			    alarm_index(o, o->views[i].instance, s) < 0)
				broken("no WARNING for %s %s, age %g s",
				       o->views[i].instance, tcps_state_name(s),
				       o->views[i].duration[s]);
}

static uint64_t max2(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Capacity tcps_fit() may leave for want elements. */
static uint64_t fit_cap(uint64_t want)
{
	return max2(64, 4 * want + 3);
}

/* Slots owners.c's reserve_table() may keep for count entries. */
static uint64_t hash_cap(uint64_t count)
{
	uint64_t want = 16;

	while (want < count * 2)
		want <<= 1;
	return 4 * want;
}

/*
 * The owner search's bytes for a resolve of `count` queries after one of
 * `last` (whose cache and missing table it keeps). owners.c's private
 * element sizes are rounded up to a power of two: an inode slot 8, a pid
 * slot 16, a remembered owner 32, a missing socket 16.
 */
static uint64_t owners_bound(uint64_t count, uint64_t last)
{
	uint64_t w = max2(count, last);

	return 8 * hash_cap(w) + 16 * hash_cap(2 * w) +
	       sizeof(struct tcps_owner_proc) * fit_cap(2 * w) +
	       (sizeof(uint32_t) + 1 + 2 * 32) * fit_cap(w) +
	       2 * 16 * hash_cap(w);
}

static void check_memory(const struct oracle *o, const struct facts *f,
			 const struct tcps_leaks_stats *st)
{
	uint64_t cands =
		max2(CANDIDATES_KEPT, max2(4 * o->begin_left, 2 * f->total));
	uint64_t owners = owners_bound(f->total, o->last_resolved);

	if (st->candidates_capacity > cands)
		broken("room for %llu candidates kept; %llu and %llu needed",
		       (unsigned long long)st->candidates_capacity,
		       (unsigned long long)o->begin_left,
		       (unsigned long long)f->total);
	if (st->owners_memory > owners)
		broken("owner search holds %llu bytes; %llu and %llu sockets "
		       "need at most %llu",
		       (unsigned long long)st->owners_memory,
		       (unsigned long long)o->last_resolved,
		       (unsigned long long)f->total,
		       (unsigned long long)owners);
}

static void remember(struct oracle *o, const struct oracle_read *in,
		     const struct facts *f)
{
	bool listed[WORLD_INODES + 1] = { false };

	memcpy(o->last_views, o->views, o->views_num * sizeof(o->views[0]));
	o->last_views_num = o->views_num;
	memcpy(o->seen_last, f->seen, sizeof(o->seen_last));
	for (size_t r = 0; r < in->recs_num; r++) {
		const struct oracle_record *rec = &in->recs[r];

		if (record_state(o, rec) < 0 || !rec->first || rec->inode == 0)
			continue;
		listed[rec->inode] = true;
		if (f->listers[rec->inode] == 0)
			o->unfindable[rec->inode] = (int64_t)o->reads;
	}
	memcpy(o->inode_last, listed, sizeof(listed));
	o->cands_left = f->total;
	o->last_resolved = f->total;
}

void oracle_check(struct oracle *o, const struct world *w,
		  const struct oracle_read *in,
		  const struct tcps_leaks_stats *st, int end_ret)
{
	struct facts f;

	o->reads++;
	if (o->trace)
		fprintf(stderr, "  (%zu records, %llu in a burst)\n",
			in->recs_num, (unsigned long long)in->burst);
	derive(o, w, in, &f);
	learn_since(o, in, &f);
	gather_members(o, w, in, &f);
	check_stats(&f, st, end_ret);
	check_groups(o);
	check_ranks(o);
	check_sums(o, &f);
	check_attribution(o, in, &f);
	check_ages(o, in);
	check_notes(o);
	check_memory(o, &f, st);
	remember(o, in, &f);
}

#include <stdio.h>
#include <string.h>

#include <check.h>

#include "capture.h"

static int keep_value(void *data, const struct tcps_value *v)
{
	struct capture *cap = data;
	struct captured_value *c;

	ck_assert_int_lt(cap->values_num, CAPTURE_MAX);
	c = &cap->values[cap->values_num++];
	snprintf(c->instance, sizeof(c->instance), "%s%s%s", v->netns,
		 v->netns[0] ? "/" : "", v->set);
	snprintf(c->type, sizeof(c->type), "%s", v->type);
	snprintf(c->type_instance, sizeof(c->type_instance), "%s",
		 v->type_instance);
	c->value = v->value;
	return 0;
}

static int keep_notification(void *data, const struct tcps_notification *n)
{
	struct capture *cap = data;
	struct captured_notification *c;

	ck_assert_int_lt(cap->notes_num, CAPTURE_NOTES_MAX);
	ck_assert_ptr_null(strchr(n->message, '\n'));
	c = &cap->notes[cap->notes_num++];
	c->severity = n->severity;
	snprintf(c->instance, sizeof(c->instance), "%s%s%s", n->netns,
		 n->netns[0] ? "/" : "", n->set);
	snprintf(c->type, sizeof(c->type), "%s", n->type);
	snprintf(c->type_instance, sizeof(c->type_instance), "%s",
		 n->type_instance);
	snprintf(c->message, sizeof(c->message), "%s", n->message);
	return 0;
}

struct tcps_sink capture_sink(struct capture *cap)
{
	struct tcps_sink sink = { .value = keep_value,
				  .notify = keep_notification,
				  .data = cap };

	return sink;
}

void capture_reset(struct capture *cap)
{
	cap->values_num = 0;
	cap->notes_num = 0;
}

static bool same_name(const struct captured_value *v, const char *instance,
		      const char *type, const char *type_instance)
{
	return strcmp(v->instance, instance) == 0 &&
	       strcmp(v->type, type) == 0 &&
	       strcmp(v->type_instance, type_instance) == 0;
}

static const struct captured_value *find(const struct capture *cap,
					 const char *instance, const char *type,
					 const char *type_instance)
{
	for (int i = 0; i < cap->values_num; i++)
		if (same_name(&cap->values[i], instance, type, type_instance))
			return &cap->values[i];
	return NULL;
}

int capture_count(const struct capture *cap, const char *instance,
		  const char *type, const char *type_instance)
{
	int n = 0;

	for (int i = 0; i < cap->values_num; i++)
		n += same_name(&cap->values[i], instance, type, type_instance);
	return n;
}

bool capture_has(const struct capture *cap, const char *instance,
		 const char *type, const char *type_instance)
{
	return find(cap, instance, type, type_instance) != NULL;
}

double capture_get(const struct capture *cap, const char *instance,
		   const char *type, const char *type_instance)
{
	const struct captured_value *v =
		find(cap, instance, type, type_instance);

	ck_assert_msg(v, "no value %s/%s-%s", instance, type, type_instance);
	return v->value;
}

int capture_count_instance(const struct capture *cap, const char *instance)
{
	int n = 0;

	for (int i = 0; i < cap->values_num; i++)
		n += strcmp(cap->values[i].instance, instance) == 0;
	return n;
}

int capture_count_netns(const struct capture *cap, const char *netns)
{
	size_t len = strlen(netns);
	int n = 0;

	for (int i = 0; i < cap->values_num; i++)
		n += strncmp(cap->values[i].instance, netns, len) == 0 &&
		     cap->values[i].instance[len] == '/';
	return n;
}

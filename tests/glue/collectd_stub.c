#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectd_stub.h"
#include "collectd/core/daemon/utils_complain.h"
#include "collectd/core/utils/common/common.h"

struct collectd_stub stub;
char *hostname_g = "stub-host";

/* No Check here: the fuzz target links this file too. An abort fails a
 * Check test (fork mode) and is a finding for the fuzzer. */
#define STUB_REQUIRE(cond)                                                     \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "collectd stub: %s:%d: %s\n",          \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

void stub_reset(void)
{
	memset(&stub, 0, sizeof(stub));
	stub.now = TIME_T_TO_CDTIME_T(1000000);
	stub.interval = TIME_T_TO_CDTIME_T(10);
}

cdtime_t cdtime(void)
{
	return stub.now;
}

cdtime_t plugin_get_interval(void)
{
	return stub.interval;
}

__attribute__((format(printf, 2, 0))) static void
keep_log(int level, const char *format, va_list ap)
{
	struct stub_log *log;

	/* Every line is formatted, so format strings meet their arguments;
	 * beyond the room kept, lines are only counted. */
	stub.logs_seen++;
	if (stub.logs_num == STUB_MAX_LOGS) {
		char line[512];

		vsnprintf(line, sizeof(line), format, ap);
		return;
	}
	log = &stub.logs[stub.logs_num++];
	log->level = level;
	vsnprintf(log->message, sizeof(log->message), format, ap);
}

void plugin_log(int level, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	keep_log(level, format, ap);
	va_end(ap);
}

/*
 * collectd 5.12's rule (src/daemon/utils_complain.c), restated: a
 * complaint is logged when its quiet time has passed, and the quiet time
 * then becomes the read interval, or doubles, up to a day; a release
 * logs only if something was complained about, and resets the quiet time.
 */
void c_complain(int level, c_complain_t *c, const char *format, ...)
{
	va_list ap;

	if (c->last + c->interval > stub.now)
		return;
	c->last = stub.now;
	if (c->interval < stub.interval)
		c->interval = stub.interval;
	else
		c->interval *= 2;
	if (c->interval > TIME_T_TO_CDTIME_T(86400))
		c->interval = TIME_T_TO_CDTIME_T(86400);
	c->complained_once = true;
	va_start(ap, format);
	keep_log(level, format, ap);
	va_end(ap);
}

void c_do_release(int level, c_complain_t *c, const char *format, ...)
{
	va_list ap;

	if (c->interval == 0)
		return;
	c->interval = 0;
	c->complained_once = false;
	va_start(ap, format);
	keep_log(level, format, ap);
	va_end(ap);
}

/* As collectd's own: strncpy, always terminated. */
char *sstrncpy(char *dest, const char *src, size_t n)
{
	strncpy(dest, src, n);
	dest[n - 1] = '\0';
	return dest;
}

char *sstrerror(int errnum, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "%s", strerror(errnum));
	return buf;
}

int plugin_dispatch_values(value_list_t const *vl)
{
	struct stub_value *v;

	STUB_REQUIRE(vl->values_len == 1);
	/* "tcpstates" or "tcpstates_<set>", always under a namespace's name. */
	STUB_REQUIRE(strcmp(vl->plugin, "tcpstates") == 0 ||
		     strncmp(vl->plugin, "tcpstates_", 10) == 0);
	STUB_REQUIRE(vl->plugin_instance[0] != '\0');
	STUB_REQUIRE(stub.values_num < STUB_MAX_VALUES);
	v = &stub.values[stub.values_num++];
	sstrncpy(v->plugin, vl->plugin, sizeof(v->plugin));
	sstrncpy(v->plugin_instance, vl->plugin_instance,
		 sizeof(v->plugin_instance));
	sstrncpy(v->type, vl->type, sizeof(v->type));
	sstrncpy(v->type_instance, vl->type_instance, sizeof(v->type_instance));
	v->value = vl->values[0].gauge;
	return 0;
}

int plugin_dispatch_notification(const notification_t *notif)
{
	STUB_REQUIRE(strcmp(notif->plugin, "tcpstates") == 0 ||
		     strncmp(notif->plugin, "tcpstates_", 10) == 0);
	STUB_REQUIRE(notif->plugin_instance[0] != '\0');
	stub.notifications_num++;
	return 0;
}

int plugin_register_complex_config(const char *type,
				   int (*callback)(oconfig_item_t *))
{
	STUB_REQUIRE(strcmp(type, "tcpstates") == 0);
	stub.config = callback;
	return 0;
}

int plugin_register_init(const char *name, plugin_init_cb callback)
{
	STUB_REQUIRE(strcmp(name, "tcpstates") == 0);
	stub.init = callback;
	return 0;
}

int plugin_register_shutdown(const char *name, plugin_shutdown_cb callback)
{
	STUB_REQUIRE(strcmp(name, "tcpstates") == 0);
	stub.shutdown = callback;
	return 0;
}

int plugin_register_complex_read(const char *group, const char *name,
				 plugin_read_cb callback, cdtime_t interval,
				 user_data_t const *user_data)
{
	(void)group;
	(void)interval;
	STUB_REQUIRE(strncmp(name, "tcpstates", 9) == 0);
	/* As collectd 5.12's plugin_insert_read: warned, EINVAL, and the
	 * user data left to the caller. */
	for (int i = 0; i < stub.read_names_num; i++) {
		if (strcmp(stub.read_names[i], name) == 0) {
			plugin_log(LOG_WARNING,
				   "The read function \"%s\" is already "
				   "registered. Check for duplicates in your "
				   "configuration!",
				   name);
			return EINVAL;
		}
	}
	STUB_REQUIRE(stub.read_names_num < STUB_MAX_READ_NAMES);
	STUB_REQUIRE(strlen(name) < sizeof(stub.read_names[0]));
	sstrncpy(stub.read_names[stub.read_names_num++], name,
		 sizeof(stub.read_names[0]));
	stub.reads_registered++;
	/* collectd would free the data at shutdown; a caller that never
	 * reads (the fuzz target) has it freed at once. */
	if (stub.free_reads_at_once) {
		if (user_data->free_func)
			user_data->free_func(user_data->data);
		return 0;
	}
	stub.read = callback;
	stub.read_data = *user_data;
	STUB_REQUIRE(stub.reads_num < STUB_MAX_READS);
	sstrncpy(stub.reads[stub.reads_num].name, name,
		 sizeof(stub.reads[0].name));
	stub.reads[stub.reads_num].callback = callback;
	stub.reads[stub.reads_num].data = *user_data;
	stub.reads_num++;
	return 0;
}

int stub_logs_matching(int level, const char *needle)
{
	int n = 0;

	for (int i = 0; i < stub.logs_num; i++)
		n += stub.logs[i].level == level &&
		     strstr(stub.logs[i].message, needle) != NULL;
	return n;
}

gauge_t stub_value(const char *plugin, const char *plugin_instance,
		   const char *type, const char *type_instance)
{
	gauge_t found = -1;
	int seen = 0;

	for (int i = 0; i < stub.values_num; i++) {
		const struct stub_value *v = &stub.values[i];

		if (strcmp(v->plugin, plugin) == 0 &&
		    strcmp(v->plugin_instance, plugin_instance) == 0 &&
		    strcmp(v->type, type) == 0 &&
		    strcmp(v->type_instance, type_instance) == 0) {
			found = v->value;
			seen++;
		}
	}
	STUB_REQUIRE(seen <= 1);
	return found;
}

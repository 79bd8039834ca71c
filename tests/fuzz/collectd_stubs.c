/*
 * Just enough of collectd for the glue to run inside a fuzz target: the
 * registrations are remembered, log lines and values are formatted as the
 * daemon would format them (so format strings meet their real arguments)
 * and then dropped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "collectd/core/daemon/collectd.h"
#include "collectd/core/daemon/plugin.h"
#include "collectd/core/daemon/utils_complain.h"
#include "collectd/core/utils/common/common.h"

#include "collectd_stubs.h"

char *hostname_g = "fuzzhost";

struct stub_plugin stub_plugin;

__attribute__((format(printf, 1, 0))) static void
format_and_drop(const char *format, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), format, ap);
	stub_plugin.log_lines++;
}

void plugin_log(int level, const char *format, ...)
{
	va_list ap;

	(void)level;
	va_start(ap, format);
	format_and_drop(format, ap);
	va_end(ap);
}

void c_complain(int level, c_complain_t *c, const char *format, ...)
{
	va_list ap;

	(void)level;
	c->interval = 1; /* what c_release() looks at */
	c->complained_once = true;
	va_start(ap, format);
	format_and_drop(format, ap);
	va_end(ap);
}

void c_do_release(int level, c_complain_t *c, const char *format, ...)
{
	va_list ap;

	(void)level;
	c->complained_once = false;
	c->interval = 0;
	va_start(ap, format);
	format_and_drop(format, ap);
	va_end(ap);
}

int plugin_register_complex_config(const char *type,
				   int (*callback)(oconfig_item_t *))
{
	(void)type;
	stub_plugin.config = callback;
	return 0;
}

int plugin_register_init(const char *name, plugin_init_cb callback)
{
	(void)name;
	stub_plugin.init = callback;
	return 0;
}

int plugin_register_shutdown(const char *name, plugin_shutdown_cb callback)
{
	(void)name;
	stub_plugin.shutdown = callback;
	return 0;
}

/* collectd would call the read later and free the data at shutdown; the
 * fuzz target never reads (that needs the kernel), so it frees now. */
int plugin_register_complex_read(const char *group, const char *name,
				 plugin_read_cb callback, cdtime_t interval,
				 user_data_t const *user_data)
{
	(void)group;
	(void)callback;
	(void)interval;
	if (strlen(name) >= DATA_MAX_NAME_LEN)
		stub_plugin.long_read_names++;
	stub_plugin.reads++;
	if (user_data->free_func)
		user_data->free_func(user_data->data);
	return 0;
}

int plugin_dispatch_values(value_list_t const *vl)
{
	(void)vl;
	return 0;
}

int plugin_dispatch_notification(const notification_t *notif)
{
	(void)notif;
	return 0;
}

cdtime_t cdtime(void)
{
	return 0;
}

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

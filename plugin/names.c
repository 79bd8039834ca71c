/* Names that can never add a Graphite path level, an InfluxDB tag or a
 * collectd identifier separator: [A-Za-z0-9_-] only, bounded, never
 * starting with '-' (the plugin's own group names "-other", "-unknown"
 * do). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tcpstates/names.h"

static bool is_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

size_t tcps_name_clean(const char *text, size_t len, char *out)
{
	size_t n = 0;
	bool meaningful = false;

	for (size_t i = 0; i < len && n < TCPS_NAME_MAX; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\0')
			break;
		/* A login shell's "-bash" is "_bash". */
		if (is_safe(c) && !(n == 0 && c == '-')) {
			out[n++] = (char)c;
			meaningful |= c != '_';
		} else if (n == 0 || out[n - 1] != '_') {
			out[n++] = '_';
		}
	}
	if (!meaningful) {
		strcpy(out, TCPS_NAME_EMPTY);
		return strlen(TCPS_NAME_EMPTY);
	}
	out[n] = '\0';
	return n;
}

bool tcps_name_reserved(const char *name)
{
	return strcmp(name, TCPS_NAME_HOST) == 0;
}

void tcps_name_suffix(char *out, const char *base, uint64_t ino,
		      unsigned attempt)
{
	char suffix[48];
	size_t base_len = strlen(base);
	int n = attempt ? snprintf(suffix, sizeof(suffix), "-%llu-%u",
				   (unsigned long long)ino, attempt)
			: snprintf(suffix, sizeof(suffix), "-%llu",
				   (unsigned long long)ino);

	if (base_len + (size_t)n > TCPS_NAME_MAX)
		base_len = TCPS_NAME_MAX - (size_t)n;
	memcpy(out, base, base_len);
	memcpy(out + base_len, suffix, (size_t)n + 1);
}

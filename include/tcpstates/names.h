/* Turning attacker-chosen text (process names, units) into safe names. */
#ifndef TCPSTATES_NAMES_H
#define TCPSTATES_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest cleaned name, without the NUL: a group or namespace name fits
 * collectd's 64-byte identifier fields. */
#define TCPS_NAME_MAX 63

/* What an empty or wholly unusable name becomes. */
#define TCPS_NAME_EMPTY "unnamed"

/* The name of the daemon's own network namespace in every identifier
 * (the plugin instance): no other namespace may take it. */
#define TCPS_NAME_HOST "host"

/*
 * Writes text[0..len) to out (size >= TCPS_NAME_MAX + 1) using only
 * [A-Za-z0-9_-]: every run of other bytes (dots, slashes, spaces,
 * newlines, quotes, UTF-8 sequences) becomes one '_', and so does a
 * leading '-' (no name starts with '-': "-other" and "-unknown" are the
 * plugin's own); the result is cut to TCPS_NAME_MAX bytes. A result that
 * is empty or only '_' becomes TCPS_NAME_EMPTY. Returns the length
 * written.
 */
size_t tcps_name_clean(const char *text, size_t len, char *out);

/* True for a name no other namespace may take: TCPS_NAME_HOST. */
bool tcps_name_reserved(const char *name);

/*
 * How two namespaces that would share a name are told apart: writes to
 * out (size >= TCPS_NAME_MAX + 1) base cut so that the suffix fits, then
 * "-<ino>" (attempt 0) or "-<ino>-<attempt>". Different attempts give
 * different names; out and base may not overlap.
 */
void tcps_name_suffix(char *out, const char *base, uint64_t ino,
		      unsigned attempt);

#endif

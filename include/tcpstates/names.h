/* Turning attacker-chosen text (process names, units) into safe names. */
#ifndef TCPSTATES_NAMES_H
#define TCPSTATES_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* Longest cleaned name, without the NUL. Leaves room in collectd's
 * 128-byte identifiers for the "proc_" prefix and the rest. */
#define TCPS_NAME_MAX 63

/* What an empty or wholly unusable name becomes. */
#define TCPS_NAME_EMPTY "unnamed"

/*
 * Writes text[0..len) to out (size >= TCPS_NAME_MAX + 1) using only
 * [A-Za-z0-9_-]: every run of other bytes (dots, slashes, spaces,
 * newlines, quotes, UTF-8 sequences) becomes one '_'; the result is cut
 * to TCPS_NAME_MAX bytes. A result that is empty or only '_' becomes
 * TCPS_NAME_EMPTY. Returns the length written.
 */
size_t tcps_name_clean(const char *text, size_t len, char *out);

/*
 * How two namespaces that would share a name are told apart: writes to
 * out (size >= TCPS_NAME_MAX + 1) base cut so that the suffix fits, then
 * "-<ino>" (attempt 0) or "-<ino>-<attempt>". Different attempts give
 * different names; out and base may not overlap.
 */
void tcps_name_suffix(char *out, const char *base, uint64_t ino,
		      unsigned attempt);

#endif

/*
 * What the text of /proc says: a link in /proc/PID/fd, /proc/PID/comm,
 * the /proc/PID/exe link, /proc/PID/cgroup, /proc/PID/stat and
 * /proc/PID/net/sockstat. Pure
 * functions on len bytes, not NUL-terminated, as read() or readlink()
 * leaves them; any process can shape that text, so none trusts it.
 */
#ifndef TCPSTATES_PROCFS_H
#define TCPSTATES_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpstates/names.h"

/* Parses an fd link text "socket:[12345]". Returns 0 and sets
 * *ret_inode, or -EINVAL (*ret_inode untouched). */
int tcps_parse_socket_link(const char *text, size_t len, uint32_t *ret_inode);

/* The start time (field 22) in a /proc/PID/stat text, or 0. */
uint64_t tcps_parse_start_time(const char *text, size_t len);

/* Whether a /proc/PID/stat text is a zombie's: state 'Z' after the
 * last ')'. */
bool tcps_stat_is_zombie(const char *text, size_t len);

/* The group name for a /proc/PID/comm text: without its newline,
 * cleaned, to out (TCPS_NAME_MAX + 1). */
void tcps_comm_name(const char *text, size_t len, char *out);

/* The group name for a /proc/PID/exe link text: its last component
 * without " (deleted)", cleaned, to out (TCPS_NAME_MAX + 1). */
void tcps_exe_name(const char *target, size_t len, char *out);

/* The group name for a cgroup file's contents (cgroup v2 "0::/path"
 * preferred). Writes a cleaned name to out (TCPS_NAME_MAX + 1). */
void tcps_unit_from_cgroup(const char *text, size_t len, char *out);

/*
 * The TCP line of a /proc/PID/net/sockstat text ("TCP: inuse N orphan N
 * tw N alloc N mem N", counts of the reader's network namespace):
 * returns 0 and sets *ret_inuse (sockets other than TIME_WAIT and
 * request sockets) and *ret_tw, or -EINVAL.
 */
int tcps_parse_sockstat_tcp(const char *text, size_t len, uint64_t *ret_inuse,
			    uint64_t *ret_tw);

#endif

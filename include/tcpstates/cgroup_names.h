/*
 * The group a cgroup v2 path stands for, as GroupBy "cgroup" names it: a
 * systemd unit, a container, a Kubernetes pod, or the folder's own name.
 */
#ifndef TCPSTATES_CGROUP_NAMES_H
#define TCPSTATES_CGROUP_NAMES_H

#include <stddef.h>

#include "tcpstates/names.h"

/* The root cgroup "/": processes no manager placed (kernel threads, a
 * host without systemd), or every socket when net_cls or net_prio is in
 * use (the kernel then gives sockets the root's id). */
#define TCPS_CGROUP_ROOT_NAME "cgroup-root"

/* A cgroup id no walk of the tree found: its cgroup was deleted before
 * it was first looked for (or the walk was cut short). */
#define TCPS_CGROUP_UNKNOWN_NAME "cgroup-unknown"

/*
 * Writes the group name of the cgroup at path[0..len) (as from the root
 * of the cgroup2 hierarchy, "/system.slice/nginx.service") to out
 * (TCPS_NAME_MAX + 1), cleaned with tcps_name_clean(). The outermost
 * component that is one of these names the group, since whoever owns a
 * cgroup may name the cgroups below it as it likes, never those above
 * (a service cannot pass for another, nor for a container or a pod):
 *   a Kubernetes pod, kubepods-<qos>-pod<uid>.slice (systemd driver) or
 *     pod<uid> under kubepods (cgroupfs): "pod-" and the first 12 hex
 *     digits of the uid as written, "pod-4a6f1c2e-9b1d";
 *   a container, as containers.h finds them (podman, docker, containerd,
 *     CRI-O): "<runtime>-<first 12 hex digits of the id>", the short id
 *     `podman ps` and `docker ps` show (tcps_cgroup_group_name_in: its
 *     name, where the runtime's files give one);
 *   a systemd unit, *.service or *.scope: its name, "nginx_service",
 *     "session-3_scope", "user_1000_service" for all of that user's
 *     manager (its own units and rootless containers included).
 * Else the last component names it ("svc-a"); the root gives
 * TCPS_CGROUP_ROOT_NAME.
 */
void tcps_cgroup_group_name(const char *path, size_t len, char *out);

/* The same, a container named as its runtime names it (containers.h:
 * "web", a pod's "<namespace>_<pod>") when containers can read that name;
 * containers may be NULL. */
struct tcps_containers;
void tcps_cgroup_group_name_in(const char *path, size_t len,
			       struct tcps_containers *containers, char *out);

#endif

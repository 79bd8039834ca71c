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
 * (TCPS_NAME_MAX + 1), cleaned with tcps_name_clean(). The deepest match
 * of the first rule that matches any component wins:
 *   1. a Kubernetes pod, kubepods-<qos>-pod<uid>.slice (systemd driver)
 *      or pod<uid> under kubepods (cgroupfs): "pod-" and the first 12
 *      hex digits of the uid as written, "pod-4a6f1c2e-9b1d";
 *   2. a container: libpod-<id>.scope, libpod-<id> (podman), docker-<id>
 *      .scope, docker/<id> (docker), cri-containerd-<id>.scope
 *      (containerd), crio-<id>.scope (CRI-O): "<runtime>-<first 12 hex
 *      digits of the id>", the short id `podman ps` and `docker ps` show;
 *   3. a systemd unit, *.service or *.scope, its name: "nginx_service",
 *      "session-3_scope"; init.scope under another unit is that unit's
 *      own process (user@1000.service/init.scope: "user_1000_service");
 *   4. the last component: "svc-a".
 * The root gives TCPS_CGROUP_ROOT_NAME.
 */
void tcps_cgroup_group_name(const char *path, size_t len, char *out);

#endif

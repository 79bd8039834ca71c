/*
 * The name a container runtime gives the container a cgroup path belongs
 * to, read from the runtime's own state files (no daemon is asked):
 *   Docker      docker/<id>, docker-<id>.scope
 *               /var/lib/docker/containers/<id>/config.v2.json: "Name"
 *   Podman      libpod-<id>[.scope] (never libpod-conmon-<id>)
 *               /var/lib/containers/storage/overlay-containers/
 *               containers.json: "names"; in a pod (<pod id>/ or
 *               machine-libpod_pod_<pod id>.slice/ above it) the pod's
 *               name instead, which Podman gives its infra container as
 *               hostname: overlay-containers/<infra id>/userdata/
 *               config.json, the infra found through the container's
 *               "io.kubernetes.cri-o.SandboxID" annotation
 *   containerd  cri-containerd-<id>.scope, kubepods/.../pod<uid>/<id>
 *               /run/containerd/io.containerd.runtime.v2.task/k8s.io/
 *               <id>/config.json: io.kubernetes.cri.sandbox-namespace
 *               and -name
 *   CRI-O       crio-<id>[.scope] (never crio-conmon-<id>)
 *               /run/containers/storage/overlay-containers/<id>/
 *               userdata/config.json: io.kubernetes.pod.namespace and
 *               .name
 * A Kubernetes pod is named "<namespace>_<pod>" (a namespace has no '_'),
 * so that every container of a pod, which share one network namespace,
 * gives the same name. Everything read is untrusted: ids must be 64
 * lowercase hex digits, files are read up to TCPS_CONTAINERS_FILE_MAX,
 * names are cleaned by tcps_name_clean().
 */
#ifndef TCPSTATES_CONTAINERS_H
#define TCPSTATES_CONTAINERS_H

#include <stddef.h>

#include "tcpstates/discover.h"

/* A runtime state file larger than this is not read (-EFBIG). */
#define TCPS_CONTAINERS_FILE_MAX (1024 * 1024)

#define TCPS_CONTAINER_ID_LEN 64

enum tcps_runtime {
	TCPS_RUNTIME_NONE,
	TCPS_RUNTIME_DOCKER,
	TCPS_RUNTIME_PODMAN,
	TCPS_RUNTIME_CONTAINERD,
	/* A bare id under a kubelet pod cgroup (cgroupfs driver):
	 * containerd's, or Docker's through cri-dockerd. */
	TCPS_RUNTIME_KUBEPODS,
	TCPS_RUNTIME_CRIO,
	TCPS_RUNTIME_NUM,
};

/* What a cgroup path says, before any file is read. */
struct tcps_container_ref {
	enum tcps_runtime runtime;
	char id[TCPS_CONTAINER_ID_LEN + 1];
	char pod_id[TCPS_CONTAINER_ID_LEN + 1]; /* Podman pods; else "" */
};

/*
 * The container a cgroup path (len bytes, not NUL-terminated) names: the
 * outermost of its components that matches a runtime's pattern, since a
 * process may make cgroups below its own but never above (a container
 * cannot pass for another by nesting one named after it). Returns 0 and
 * fills *ret, or -ENOENT (*ret untouched).
 */
int tcps_container_ref_parse(const char *path, size_t len,
			     struct tcps_container_ref *ret);

/*
 * The name a runtime gives the container whose cgroup path this is (a
 * line of /proc/PID/cgroup, its path part), cleaned, cut to size - 1
 * bytes: 0 and *name filled, -ENOENT when the path names no container or
 * its runtime state cannot be read, -EFBIG when a state file is over
 * TCPS_CONTAINERS_FILE_MAX, -EINVAL when size is 0. runtime (if not
 * NULL, 16 bytes) gets "docker", "podman", "containerd" or "crio".
 * *name and runtime are untouched on failure.
 */
int tcps_container_name(const struct tcps_discover_roots *roots,
			const char *cgroup_path, char *name, size_t size,
			char *runtime);

/*
 * The same for many paths in a row (one discovery): the files every
 * lookup needs (Podman's containers.json) are parsed once, and parsed
 * again only when they change. roots is not copied: it must outlive
 * the cache. tcps_containers_new returns 0 or -ENOMEM.
 */
struct tcps_containers;

int tcps_containers_new(const struct tcps_discover_roots *roots,
			struct tcps_containers **ret);
void tcps_containers_free(struct tcps_containers *cache);
int tcps_containers_name(struct tcps_containers *cache, const char *cgroup_path,
			 char *name, size_t size, char *runtime);

#endif

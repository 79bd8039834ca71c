/*
 * A fake host in a temporary folder, for namespace discovery and
 * container names: proc/, run/ and var_lib/ (the roots), and ns/, where
 * each network namespace is a plain file whose stat() gives its identity
 * (dev, ino), as nsfs gives a real one's. A process's ns/net and a pin
 * are hard links to it. The runtime state files are written in the
 * layouts the real runtimes use (Podman's as a real Podman 4.3 wrote
 * them; see the comments in fakehost.c). No Check here, so that the fuzz
 * targets can build trees too: any failure aborts.
 */
#ifndef TCPSTATES_TEST_FAKEHOST_H
#define TCPSTATES_TEST_FAKEHOST_H

#include <stdint.h>

#include "tcpstates/discover.h"

/* Container ids: the Podman ones as a real Podman 4.3 run gave them (a
 * container, a pod, its infra and two members), the others made up. */
#define WEB_ID "d83456854ab4c312fd52f9d1b65d165b70fec61f0988ded639ac871088e3e96c"
#define POD_ID "0ea22215fe0f43296c8e0acfc0ca240ed8ef19c7a83cf15cb480a47ae21fd78d"
#define INFRA_ID \
	"9610335a97daed6769f9fc068cecf58c5981e9254a540c318cf7bcdbdb3bcee8"
#define MEMBER_A \
	"87662d4f0c5cdcb6d96113ada398eb4776b911f3e58cf980726f56696d5937ae"
#define MEMBER_B \
	"1ce7579ab77f8d65e6e4c44b2352ffa2e7b7d3719d18063df03c30659a86d6dc"
#define DOCKER_ID \
	"3f1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a"
#define SANDBOX_ID \
	"b6c3e0f1a2d34c5b8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f"
#define CTR_ID "c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc"
#define CRIO_ID \
	"5e2c9a7b00112233445566778899aabbccddeeff00112233445566778899aabb"
/* A kubelet's pod slice (systemd driver). */
#define KUBE_SLICE                                                       \
	"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" \
	"0b6d1c52_3d1f_4a8e_9c55_2f1a7e9d4b20.slice/"

struct fakehost {
	char root[64];
	char proc[96], run[96], var_lib[96];
	struct tcps_discover_roots roots;
	uint64_t own_dev, own_ino; /* the namespace "own" */
};

/* Builds the tree under TMPDIR (or /tmp), with the namespace "own". */
void fakehost_create(struct fakehost *h);
void fakehost_destroy(struct fakehost *h);

/* The namespace file ns/<label>, made on first use; returns its inode. */
uint64_t fakehost_netns(struct fakehost *h, const char *label);
/* Process pid in namespace label, with this cgroup file text. */
void fakehost_process(struct fakehost *h, int pid, const char *label,
		      const char *cgroup);
/* The pin run/<folder>/<name> of namespace label ("netns",
 * "docker/netns"). */
void fakehost_pin(struct fakehost *h, const char *folder, const char *name,
		  const char *label);
/* text at <root>/<rel> (folders made), replacing what was there. */
void fakehost_write(struct fakehost *h, const char *rel, const char *text);
/* len bytes of data at <root>/<rel>. */
void fakehost_write_bytes(struct fakehost *h, const char *rel,
			  const void *data, size_t len);

/* State files, as each runtime writes them. */
void fakehost_docker(struct fakehost *h, const char *id, const char *name);
/* Docker under Kubernetes (cri-dockerd): the kubelet's labels. */
void fakehost_docker_k8s(struct fakehost *h, const char *id,
			 const char *namespace, const char *pod);
/* Podman's containers.json: count (id, name) pairs. */
void fakehost_podman_containers(struct fakehost *h, const char *const *ids,
				const char *const *names, int count);
/* A Podman container's OCI config.json: the infra of a pod has the
 * pod's hostname; a container in a pod names its infra (sandbox_id). */
void fakehost_podman_config(struct fakehost *h, const char *id,
			    const char *hostname, const char *sandbox_id,
			    const char *cgroups_path);
/* containerd's task config.json (sandbox or container of a pod). */
void fakehost_containerd(struct fakehost *h, const char *id,
			 const char *namespace, const char *pod, int sandbox);
/* CRI-O's config.json in its run folder. */
void fakehost_crio(struct fakehost *h, const char *id, const char *namespace,
		   const char *pod, int sandbox);

/* Paths of the state files above, relative to the fake host's root. */
void fakehost_docker_path(char *buf, size_t size, const char *id);
void fakehost_podman_config_path(char *buf, size_t size, const char *id);
void fakehost_containerd_path(char *buf, size_t size, const char *id);
void fakehost_crio_path(char *buf, size_t size, const char *id);
#define FAKEHOST_PODMAN_CONTAINERS \
	"var_lib/containers/storage/overlay-containers/containers.json"

#endif

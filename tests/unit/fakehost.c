#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fakehost.h"

#define PATH_LEN 512
#define JSON_LEN 8192

static void must(int ok, const char *what, const char *path)
{
	if (!ok) {
		fprintf(stderr, "fakehost: %s %s: %s\n", what, path,
			strerror(errno));
		abort();
	}
}

static void path_of(const struct fakehost *h, char *buf, const char *rel)
{
	int n = snprintf(buf, PATH_LEN, "%s/%s", h->root, rel);

	must(n > 0 && n < PATH_LEN, "path too long:", rel);
}

/* mkdir -p of the folders above path. */
static void make_parents(const char *path)
{
	char buf[PATH_LEN];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		must(mkdir(buf, 0755) == 0 || errno == EEXIST, "mkdir", buf);
		*p = '/';
	}
}

void fakehost_write_bytes(struct fakehost *h, const char *rel, const void *data,
			  size_t len)
{
	char path[PATH_LEN];
	FILE *f;

	path_of(h, path, rel);
	make_parents(path);
	unlink(path); /* a hard link (a namespace) is replaced, not changed */
	f = fopen(path, "w");
	must(f != NULL, "open", path);
	must(fwrite(data, 1, len, f) == len, "write", path);
	must(fclose(f) == 0, "close", path);
}

void fakehost_write(struct fakehost *h, const char *rel, const char *text)
{
	fakehost_write_bytes(h, rel, text, strlen(text));
}

static void link_rel(struct fakehost *h, const char *from, const char *to)
{
	char src[PATH_LEN], dst[PATH_LEN];

	path_of(h, src, from);
	path_of(h, dst, to);
	make_parents(dst);
	unlink(dst);
	must(link(src, dst) == 0, "link", dst);
}

uint64_t fakehost_netns(struct fakehost *h, const char *label)
{
	char rel[128], path[PATH_LEN];
	struct stat st;

	snprintf(rel, sizeof(rel), "ns/%s", label);
	path_of(h, path, rel);
	if (stat(path, &st) != 0) {
		fakehost_write(h, rel, "");
		must(stat(path, &st) == 0, "stat", path);
	}
	return (uint64_t)st.st_ino;
}

void fakehost_create(struct fakehost *h)
{
	const char *tmp = getenv("TMPDIR");
	char path[PATH_LEN];
	struct stat st;

	memset(h, 0, sizeof(*h));
	snprintf(h->root, sizeof(h->root), "%s/tcps-fakehost.XXXXXX",
		 tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	must(mkdtemp(h->root) != NULL, "mkdtemp", h->root);
	snprintf(h->proc, sizeof(h->proc), "%s/proc", h->root);
	snprintf(h->run, sizeof(h->run), "%s/run", h->root);
	snprintf(h->var_lib, sizeof(h->var_lib), "%s/var_lib", h->root);
	must(mkdir(h->proc, 0755) == 0, "mkdir", h->proc);
	must(mkdir(h->run, 0755) == 0, "mkdir", h->run);
	must(mkdir(h->var_lib, 0755) == 0, "mkdir", h->var_lib);
	h->roots = (struct tcps_discover_roots){ .proc = h->proc,
						 .run = h->run,
						 .var_lib = h->var_lib };
	fakehost_netns(h, "own");
	path_of(h, path, "ns/own");
	must(stat(path, &st) == 0, "stat", path);
	h->own_dev = (uint64_t)st.st_dev;
	h->own_ino = (uint64_t)st.st_ino;
	/* /proc holds more than processes. */
	fakehost_write(h, "proc/self/cgroup", "0::/\n");
	fakehost_write(h, "proc/sys/kernel/pid_max", "4194304\n");
}

void fakehost_destroy(struct fakehost *h)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->root);
	must(system(cmd) == 0, "rm -rf", h->root);
}

void fakehost_process(struct fakehost *h, int pid, const char *label,
		      const char *cgroup)
{
	char from[128], to[128];

	fakehost_netns(h, label);
	snprintf(from, sizeof(from), "ns/%s", label);
	snprintf(to, sizeof(to), "proc/%d/ns/net", pid);
	link_rel(h, from, to);
	snprintf(to, sizeof(to), "proc/%d/cgroup", pid);
	fakehost_write(h, to, cgroup);
}

void fakehost_pin(struct fakehost *h, const char *folder, const char *name,
		  const char *label)
{
	char from[128], to[PATH_LEN];

	fakehost_netns(h, label);
	snprintf(from, sizeof(from), "ns/%s", label);
	snprintf(to, sizeof(to), "run/%s/%s", folder, name);
	link_rel(h, from, to);
}

/* text as a JSON string body: quotes, backslashes and control bytes
 * escaped; other bytes (UTF-8 or not) as they are. */
static void json_escape(char *buf, size_t size, const char *text)
{
	size_t n = 0;

	for (; *text && n + 7 < size; text++) {
		unsigned char c = (unsigned char)*text;

		if (c == '"' || c == '\\')
			n += (size_t)snprintf(buf + n, size - n, "\\%c", c);
		else if (c < 0x20)
			n += (size_t)snprintf(buf + n, size - n, "\\u%04x", c);
		else
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
}

/* A pod's namespace and name as JSON string bodies. */
struct pod_json {
	char ns[256], pod[256];
};

static void pod_json(struct pod_json *p, const char *namespace, const char *pod)
{
	json_escape(p->ns, sizeof(p->ns), namespace);
	json_escape(p->pod, sizeof(p->pod), pod);
}

void fakehost_docker_path(char *buf, size_t size, const char *id)
{
	snprintf(buf, size, "var_lib/docker/containers/%s/config.v2.json", id);
}

void fakehost_podman_config_path(char *buf, size_t size, const char *id)
{
	snprintf(buf, size,
		 "var_lib/containers/storage/overlay-containers/%s/userdata/"
		 "config.json",
		 id);
}

void fakehost_containerd_path(char *buf, size_t size, const char *id)
{
	snprintf(buf, size,
		 "run/containerd/io.containerd.runtime.v2.task/k8s.io/%s/"
		 "config.json",
		 id);
}

void fakehost_crio_path(char *buf, size_t size, const char *id)
{
	snprintf(buf, size,
		 "run/containers/storage/overlay-containers/%s/userdata/"
		 "config.json",
		 id);
}

/* Docker 20.10's config.v2.json, cut to the fields around the ones read
 * ("Name", "Config"."Labels"), in the order Docker writes them. */
static void write_docker(struct fakehost *h, const char *id, const char *name,
			 const char *labels)
{
	char rel[PATH_LEN], json[JSON_LEN], name_json[512];

	json_escape(name_json, sizeof(name_json), name);
	snprintf(json, sizeof(json),
		 "{\"StreamConfig\":{},\"State\":{\"Running\":true,"
		 "\"Paused\":false,\"Restarting\":false,\"OOMKilled\":false,"
		 "\"RemovalInProgress\":false,\"Dead\":false,\"Pid\":4242,"
		 "\"ExitCode\":0,\"Error\":\"\",\"StartedAt\":"
		 "\"2024-05-02T09:14:07.123456789Z\",\"FinishedAt\":"
		 "\"0001-01-01T00:00:00Z\",\"Health\":null},\"ID\":\"%s\","
		 "\"Created\":\"2024-05-02T09:14:06.901234567Z\","
		 "\"Managed\":false,\"Path\":\"/docker-entrypoint.sh\","
		 "\"Args\":[\"nginx\",\"-g\",\"daemon off;\"],\"Config\":{"
		 "\"Hostname\":\"%.12s\",\"Domainname\":\"\",\"User\":\"\","
		 "\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin\"],"
		 "\"Cmd\":[\"nginx\",\"-g\",\"daemon off;\"],\"Image\":"
		 "\"nginx:1.25\",\"Volumes\":null,\"WorkingDir\":\"\","
		 "\"Entrypoint\":[\"/docker-entrypoint.sh\"],\"OnBuild\":null,"
		 "\"Labels\":{%s},\"StopSignal\":\"SIGQUIT\"},\"Image\":"
		 "\"sha256:a8758716bb6aa4d90071160d27028fe4eaee7ce8166221a97d30"
		 "440c8eac2be6\",\"NetworkSettings\":{\"Bridge\":\"\","
		 "\"SandboxID\":\"3f1c2b9a8d7e\",\"Ports\":{\"80/tcp\":null},"
		 "\"SandboxKey\":\"/var/run/docker/netns/3f1c2b9a8d7e\"},"
		 "\"LogPath\":\"/var/lib/docker/containers/%s/%s-json.log\","
		 "\"Name\":\"%s\",\"Driver\":\"overlay2\",\"OS\":\"linux\","
		 "\"RestartCount\":0,\"HasBeenStartedBefore\":false,"
		 "\"MountPoints\":{},\"AppArmorProfile\":\"docker-default\"}",
		 id, id, labels, id, id, name_json);
	fakehost_docker_path(rel, sizeof(rel), id);
	fakehost_write(h, rel, json);
}

void fakehost_docker(struct fakehost *h, const char *id, const char *name)
{
	write_docker(h, id, name,
		     "\"maintainer\":\"NGINX Docker Maintainers "
		     "<docker-maint@nginx.com>\"");
}

void fakehost_docker_k8s(struct fakehost *h, const char *id,
			 const char *namespace, const char *pod)
{
	char labels[1024], name[512];
	struct pod_json p;

	pod_json(&p, namespace, pod);
	snprintf(labels, sizeof(labels),
		 "\"annotation.kubernetes.io/config.source\":\"api\","
		 "\"io.kubernetes.container.name\":\"POD\","
		 "\"io.kubernetes.docker.type\":\"podsandbox\","
		 "\"io.kubernetes.pod.name\":\"%s\","
		 "\"io.kubernetes.pod.namespace\":\"%s\","
		 "\"io.kubernetes.pod.uid\":"
		 "\"4f1e3c1a-9b0e-4c59-a1f4-8f0b6c2d7e11\"",
		 p.pod, p.ns);
	snprintf(name, sizeof(name),
		 "/k8s_POD_%s_%s_4f1e3c1a-9b0e-4c59-a1f4-8f0b6c2d7e11_0", pod,
		 namespace);
	write_docker(h, id, name, labels);
}

/* As Podman 4.3 wrote it here (containers/storage's containers.json):
 * one line, an array of objects, "names" an array. */
void fakehost_podman_containers(struct fakehost *h, const char *const *ids,
				const char *const *names, int count)
{
	char json[JSON_LEN], name_json[512];
	size_t n = 0;

	n += (size_t)snprintf(json, sizeof(json), "[");
	for (int i = 0; i < count && n < sizeof(json); i++) {
		json_escape(name_json, sizeof(name_json), names[i]);
		n += (size_t)snprintf(
			json + n, sizeof(json) - n,
			"%s{\"id\":\"%s\",\"names\":[\"%s\"],\"image\":"
			"\"505e0cabec9050700ca8f0f36983271d55fee750db589e63e5e9"
			"e2122bd46769\",\"layer\":\"468693a708b7f5a646740140430"
			"509fa6a0e255a16534e321bf894b9fbb5d15e\",\"metadata\":"
			"\"{\\\"image-name\\\":\\\"localhost/bb:1\\\","
			"\\\"created-at\\\":1796056608}\",\"created\":"
			"\"2026-11-30T16:36:48.447317693Z\",\"flags\":{"
			"\"MountLabel\":\"\",\"ProcessLabel\":\"\"}}",
			i ? "," : "", ids[i], name_json);
	}
	must(n + 2 < sizeof(json), "too many containers for",
	     "containers.json");
	snprintf(json + n, sizeof(json) - n, "]");
	fakehost_write(h, FAKEHOST_PODMAN_CONTAINERS, json);
}

/* A Podman 4.3 OCI spec, cut: the infra container of a pod has
 * "hostname" (the pod's name) and no SandboxID; a container in a pod has
 * no "hostname" and names the infra in io.kubernetes.cri-o.SandboxID. */
void fakehost_podman_config(struct fakehost *h, const char *id,
			    const char *hostname, const char *sandbox_id,
			    const char *cgroups_path)
{
	char rel[PATH_LEN], json[JSON_LEN], host[512], sandbox[160];

	host[0] = sandbox[0] = '\0';
	if (hostname) {
		char escaped[400];

		json_escape(escaped, sizeof(escaped), hostname);
		snprintf(host, sizeof(host), "\"hostname\":\"%s\",", escaped);
	}
	if (sandbox_id)
		snprintf(sandbox, sizeof(sandbox),
			 "\"io.kubernetes.cri-o.ContainerType\":\"container\","
			 "\"io.kubernetes.cri-o.SandboxID\":\"%s\",",
			 sandbox_id);
	snprintf(json, sizeof(json),
		 "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"user\":{"
		 "\"uid\":0,\"gid\":0,\"umask\":18},\"args\":[\"sleep\","
		 "\"3600\"],\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:"
		 "/usr/sbin:/usr/bin:/sbin:/bin\",\"TERM=xterm\","
		 "\"container=podman\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":"
		 "\"RLIMIT_NOFILE\",\"hard\":4096,\"soft\":4096}]},\"root\":{"
		 "\"path\":\"/var/lib/containers/storage/overlay/58d0263b5d0d"
		 "12c7e85c404d2828ac7be2e7fc2c85772ee63373fc886b55b7c1/merged"
		 "\"},%s\"mounts\":[{\"destination\":\"/proc\",\"type\":"
		 "\"proc\",\"source\":\"proc\",\"options\":[\"nosuid\","
		 "\"noexec\",\"nodev\"]}],\"annotations\":{"
		 "\"io.container.manager\":\"libpod\",%s"
		 "\"io.kubernetes.cri-o.Created\":"
		 "\"2026-11-30T16:36:54.280213489Z\","
		 "\"io.kubernetes.cri-o.TTY\":\"false\","
		 "\"org.opencontainers.image.stopSignal\":\"15\"},\"linux\":{"
		 "\"cgroupsPath\":\"%s\",\"namespaces\":[{\"type\":\"pid\"},"
		 "{\"type\":\"network\",\"path\":\"/run/netns/"
		 "netns-01c0595b-ed48-d938-8769-a0f19c79bc84\"},{\"type\":"
		 "\"mount\"}]}}",
		 host, sandbox, cgroups_path);
	fakehost_podman_config_path(rel, sizeof(rel), id);
	fakehost_write(h, rel, json);
}

/* containerd 1.6's CRI annotations on a task's OCI spec. */
void fakehost_containerd(struct fakehost *h, const char *id,
			 const char *namespace, const char *pod, int sandbox)
{
	char rel[PATH_LEN], json[JSON_LEN];
	struct pod_json p;

	pod_json(&p, namespace, pod);
	snprintf(json, sizeof(json),
		 "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"user\":{"
		 "\"uid\":65535,\"gid\":65535},\"args\":[\"/pause\"],\"cwd\":"
		 "\"/\"},\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
		 "\"hostname\":\"%s\",\"annotations\":{"
		 "%s\"io.kubernetes.cri.container-type\":\"%s\","
		 "\"io.kubernetes.cri.sandbox-id\":\"%s\","
		 "\"io.kubernetes.cri.sandbox-log-directory\":"
		 "\"/var/log/pods/%s_%s_0b6d1c52-3d1f-4a8e-9c55-2f1a7e9d4b20\","
		 "\"io.kubernetes.cri.sandbox-name\":\"%s\","
		 "\"io.kubernetes.cri.sandbox-namespace\":\"%s\","
		 "\"io.kubernetes.cri.sandbox-uid\":"
		 "\"0b6d1c52-3d1f-4a8e-9c55-2f1a7e9d4b20\"},\"linux\":{"
		 "\"cgroupsPath\":\"kubepods-besteffort-pod0b6d1c52_3d1f_4a8e_"
		 "9c55_2f1a7e9d4b20.slice:cri-containerd:%s\"}}",
		 p.pod,
		 sandbox ? ""
			 : "\"io.kubernetes.cri.container-name\":"
			   "\"nginx\",",
		 sandbox ? "sandbox" : "container", id, p.ns, p.pod, p.pod,
		 p.ns, id);
	fakehost_containerd_path(rel, sizeof(rel), id);
	fakehost_write(h, rel, json);
}

/* CRI-O 1.25's annotations (it writes the spec to its run folder too). */
void fakehost_crio(struct fakehost *h, const char *id, const char *namespace,
		   const char *pod, int sandbox)
{
	char rel[PATH_LEN], json[JSON_LEN];
	struct pod_json p;

	pod_json(&p, namespace, pod);
	snprintf(json, sizeof(json),
		 "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"user\":{"
		 "\"uid\":0,\"gid\":0},\"args\":[\"/pause\"],\"cwd\":\"/\"},"
		 "\"root\":{\"path\":\"/var/lib/containers/storage/overlay/"
		 "1c5a/merged\"},\"annotations\":{"
		 "\"io.kubernetes.container.name\":\"%s\","
		 "\"io.kubernetes.cri-o.ContainerType\":\"%s\","
		 "\"io.kubernetes.cri-o.Name\":\"k8s_%s_%s_%s_5e2c9a7b_0\","
		 "\"io.kubernetes.cri-o.SandboxID\":\"%s\","
		 "\"io.kubernetes.pod.name\":\"%s\","
		 "\"io.kubernetes.pod.namespace\":\"%s\","
		 "\"io.kubernetes.pod.uid\":\"5e2c9a7b\"},\"linux\":{"
		 "\"cgroupsPath\":\"kubepods-burstable-pod5e2c9a7b.slice:crio:"
		 "%s\"}}",
		 sandbox ? "POD" : "nginx", sandbox ? "sandbox" : "container",
		 sandbox ? "POD" : "nginx", p.pod, p.ns, id, p.pod, p.ns, id);
	fakehost_crio_path(rel, sizeof(rel), id);
	fakehost_write(h, rel, json);
}

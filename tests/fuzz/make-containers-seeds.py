#!/usr/bin/env python3
"""Writes the seeds of fuzz-containers (tests/fuzz/seeds/containers/):
byte 0 = which state file (see fuzz_containers.c), a cgroup path, a NUL,
then the file, shaped as each runtime writes it. The Podman documents
follow a real Podman 4.3 run (tests/test-discover-podman.sh checks that
layout), cut to the parts around what is read; ids are the target's A, B
and P so that every seed reaches a name."""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
A = "a" * 64
B = "b" * 64
P = "0123456789abcdef" * 4
DOCKER, PODMAN_LIST, PODMAN_MEMBER, PODMAN_INFRA, CONTAINERD, CRIO = range(6)


def write(name, mode, path, document):
    folder = os.path.join(HERE, "seeds", "containers")
    os.makedirs(folder, exist_ok=True)
    if not isinstance(document, (bytes, str)):
        document = json.dumps(document, separators=(",", ":"))
    if isinstance(document, str):
        document = document.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(bytes([mode]) + path.encode() + b"\0" + document)


def docker(name, labels=None):
    return {
        "StreamConfig": {},
        "State": {"Running": True, "Pid": 4242, "ExitCode": 0,
                  "StartedAt": "2024-05-02T09:14:07.123456789Z"},
        "ID": A,
        "Created": "2024-05-02T09:14:06.901234567Z",
        "Path": "/docker-entrypoint.sh",
        "Args": ["nginx", "-g", "daemon off;"],
        "Config": {"Hostname": A[:12], "Image": "nginx:1.25",
                   "Labels": labels or {"maintainer": "NGINX"}},
        "NetworkSettings": {"SandboxKey": "/var/run/docker/netns/3f1c2b9a8d7e"},
        "LogPath": "/var/lib/docker/containers/%s/%s-json.log" % (A, A),
        "Name": name,
        "Driver": "overlay2",
    }


def podman_list(names):
    return [{"id": i, "names": [n], "image": "5" * 64, "layer": "4" * 64,
             "metadata": json.dumps({"image-name": "localhost/bb:1",
                                     "name": n, "created-at": 1796056608}),
             "created": "2026-11-30T16:36:48.447317693Z",
             "flags": {"MountLabel": "", "ProcessLabel": ""}}
            for i, n in names]


def podman_config(ctr, cgroup, hostname=None, sandbox=None):
    annotations = {"io.container.manager": "libpod",
                   "io.kubernetes.cri-o.Created":
                   "2026-11-30T16:36:54.280213489Z",
                   "io.kubernetes.cri-o.TTY": "false",
                   "io.podman.annotations.autoremove": "FALSE",
                   "org.opencontainers.image.stopSignal": "15"}
    if sandbox:
        annotations["io.kubernetes.cri-o.ContainerType"] = "container"
        annotations["io.kubernetes.cri-o.SandboxID"] = sandbox
    spec = {"ociVersion": "1.0.2-dev",
            "process": {"user": {"uid": 0, "gid": 0, "umask": 18},
                        "args": ["sleep", "3600"],
                        "env": ["container=podman", "HOSTNAME=infra-pod"],
                        "rlimits": [{"type": "RLIMIT_NOFILE",
                                     "hard": 4096, "soft": 4096}]},
            "root": {"path": "/var/lib/containers/storage/overlay/%s/merged"
                     % ("5" * 64)}}
    if hostname:
        spec["hostname"] = hostname
    spec["mounts"] = [{"destination": "/proc", "type": "proc",
                       "source": "proc",
                       "options": ["nosuid", "noexec", "nodev"]}]
    spec["annotations"] = annotations
    spec["linux"] = {"resources": {"pids": {"limit": 2048}},
                     "cgroupsPath": cgroup,
                     "namespaces": [{"type": "pid"},
                                    {"type": "network",
                                     "path": "/proc/14746/ns/net"}],
                     "seccomp": {"defaultAction": "SCMP_ACT_ERRNO",
                                 "syscalls": [{"names": ["bdflush"],
                                               "action": "SCMP_ACT_ERRNO",
                                               "errnoRet": 1}]}}
    return spec


def cri(keys, namespace, pod, extra=None):
    annotations = dict(extra or {})
    annotations[keys[0]] = namespace
    annotations[keys[1]] = pod
    return {"ociVersion": "1.0.2-dev",
            "process": {"args": ["/pause"], "cwd": "/"},
            "root": {"path": "rootfs", "readonly": True},
            "annotations": annotations,
            "linux": {"cgroupsPath": "kubepods-besteffort-pod0b6d1c52.slice"
                      ":cri-containerd:" + A}}


CONTAINERD_KEYS = ("io.kubernetes.cri.sandbox-namespace",
                   "io.kubernetes.cri.sandbox-name")
CRIO_KEYS = ("io.kubernetes.pod.namespace", "io.kubernetes.pod.name")
POD_PATH = "/libpod_parent/%s/libpod-%s" % (P, A)
KUBE = ("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
        "0b6d1c52_3d1f_4a8e_9c55_2f1a7e9d4b20.slice/")

write("docker-name", DOCKER, "/docker/" + A, docker("/web"))
write("docker-scope", DOCKER, "/system.slice/docker-%s.scope" % A,
      docker("/web"))
write("docker-k8s", DOCKER, KUBE + "docker-%s.scope" % A,
      docker("/k8s_POD_web_shop_4f1e_0",
             {"io.kubernetes.pod.namespace": "shop",
              "io.kubernetes.pod.name": "web-7d4b9c"}))
write("docker-hostile", DOCKER, "/docker/" + A,
      docker("/../etc/\n\"x\"\u0000y" + "z" * 80))
write("podman-list", PODMAN_LIST, "/libpod_parent/libpod-" + A,
      podman_list([(A, "h7-web"), (B, "0123456789ab-infra")]))
write("podman-list-scope", PODMAN_LIST,
      "/machine.slice/libpod-%s.scope/container" % A,
      podman_list([(B, "other"), (A, "web")]))
write("podman-conmon", PODMAN_LIST,
      "/machine.slice/libpod-conmon-%s.scope" % A,
      podman_list([(A, "web")]))
write("podman-member", PODMAN_MEMBER, POD_PATH,
      podman_config(A, POD_PATH, sandbox=B))
write("podman-member-systemd", PODMAN_MEMBER,
      "/machine.slice/machine-libpod_pod_%s.slice/libpod-%s.scope" % (P, A),
      podman_config(A, POD_PATH, sandbox=B))
write("podman-infra", PODMAN_INFRA, "/libpod_parent/%s/libpod-%s" % (P, B),
      podman_config(B, "/libpod_parent/%s/libpod-%s" % (P, B),
                    hostname="h7-pod"))
write("containerd-sandbox", CONTAINERD,
      KUBE + "cri-containerd-%s.scope" % A,
      cri(CONTAINERD_KEYS, "shop", "web-7d4b9c",
          {"io.kubernetes.cri.container-type": "sandbox",
           "io.kubernetes.cri.sandbox-id": A}))
write("containerd-cgroupfs", CONTAINERD,
      "/kubepods/besteffort/pod0b6d1c52/" + A,
      cri(CONTAINERD_KEYS, "kube-system", "coredns-5d78c9869d-x",
          {"io.kubernetes.cri.container-type": "container",
           "io.kubernetes.cri.container-name": "coredns"}))
write("crio", CRIO, "/kubepods.slice/crio-%s.scope" % A,
      cri(CRIO_KEYS, "shop", "web-7d4b9c",
          {"io.kubernetes.cri-o.ContainerType": "sandbox"}))
write("crio-nested", CRIO,
      "/kubepods/burstable/pod5e2c/crio-%s/docker/%s" % (A, B),
      cri(CRIO_KEYS, "a.b", "c d"))
write("not-json", DOCKER, "/docker/" + A, "{\"Name\":\"/web\"")
write("deep", DOCKER, "/docker/" + A, "[" * 40 + "]" * 40)

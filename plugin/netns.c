/*
 * A namespace is held by an open fd, which keeps it alive even after
 * `ip netns delete`; so every interval the path is looked at again, and a
 * namespace whose path is gone counts as gone.
 */
#define _GNU_SOURCE /* setns */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "tcpstates/netns.h"

int tcps_netns_init(struct tcps_netns *ns, const char *path)
{
	memset(ns, 0, sizeof(*ns));
	ns->fd = -1;
	ns->path = strdup(path);
	return ns->path ? 0 : -ENOMEM;
}

static void close_fd(struct tcps_netns *ns)
{
	if (ns->fd >= 0)
		close(ns->fd);
	ns->fd = -1;
}

void tcps_netns_release(struct tcps_netns *ns)
{
	close_fd(ns);
	free(ns->path);
	ns->path = NULL;
}

/* The path must name a network namespace: setns() would refuse anything
 * else, but saying so early gives a clear error. */
static int open_namespace(struct tcps_netns *ns)
{
	struct stat st;
	int fd = open(ns->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close_fd(ns);
	ns->fd = fd;
	ns->dev = st.st_dev;
	ns->ino = st.st_ino;
	return 1;
}

int tcps_netns_refresh(struct tcps_netns *ns)
{
	struct stat st;

	if (stat(ns->path, &st) != 0) {
		int err = errno == ENOENT ? -ENOENT : -errno;

		close_fd(ns);
		return err;
	}
	/* A bind mount of a namespace shows the namespace's own inode. */
	if (ns->fd >= 0 && st.st_ino == ns->ino && st.st_dev == ns->dev)
		return 0;
	return open_namespace(ns);
}

int tcps_netns_enter(const struct tcps_netns *ns, int *ret_saved)
{
	int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (saved < 0)
		return -errno;
	if (setns(ns->fd, CLONE_NEWNET) != 0) {
		int err = -errno;

		close(saved);
		return err;
	}
	*ret_saved = saved;
	return 0;
}

int tcps_netns_leave(int saved)
{
	int err = setns(saved, CLONE_NEWNET) == 0 ? 0 : -errno;

	close(saved);
	return err;
}

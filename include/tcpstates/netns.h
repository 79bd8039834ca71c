/* Holding another network namespace, and entering it on a thread that
 * makes what reading it needs (collect.c). */
#ifndef TCPSTATES_NETNS_H
#define TCPSTATES_NETNS_H

#include <sys/types.h>

struct tcps_netns {
	char *path; /* /var/run/netns/NAME or /proc/PID/ns/net */
	int fd;	    /* -1 until opened */
	dev_t dev;
	ino_t ino;
};

/* Sets up ns for path (copied); nothing is opened yet. 0 or -ENOMEM. */
int tcps_netns_init(struct tcps_netns *ns, const char *path);
void tcps_netns_release(struct tcps_netns *ns);

/*
 * Makes sure ns->fd is the namespace the path names now. Returns 0 when
 * it is the one held before, 1 when it was (re)opened (sockets made in
 * the old one must be dropped), -ENOENT or -errno when the path names no
 * network namespace (gone: the caller retries later).
 */
int tcps_netns_refresh(struct tcps_netns *ns);

/* Switches the calling thread into ns; *ret_saved is the thread's own
 * namespace for tcps_netns_leave(). Returns 0 or -errno. */
int tcps_netns_enter(const struct tcps_netns *ns, int *ret_saved);

/* Switches back and closes saved. Returns 0 or -errno (the thread is then
 * left in the other namespace: the caller must report it loudly). */
int tcps_netns_leave(int saved);

#endif

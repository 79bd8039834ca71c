/* The calling thread's CAP_NET_ADMIN, set aside while the diag socket is
 * made. */
#ifndef TCPSTATES_PRIVS_H
#define TCPSTATES_PRIVS_H

#include <stdbool.h>

/*
 * A socket_diag socket made by a holder of CAP_NET_ADMIN gets every
 * socket's mark (INET_DIAG_MARK) in every dump: an attribute we never read,
 * about 7% of the kernel's cost per dump. The kernel judges this by the
 * credentials the socket was created with, so the socket is made with
 * CAP_NET_ADMIN out of the thread's effective set, and the set is restored
 * at once. Capabilities are per thread: other threads never see the change.
 */
struct tcps_net_admin {
	bool dropped; /* it was effective and is now set aside */
};

/*
 * Takes CAP_NET_ADMIN out of the calling thread's effective set if it is
 * there. Returns 0 (saved->dropped tells whether anything changed), or
 * -errno when the capabilities could not be read or changed; nothing was
 * changed then.
 */
int tcps_net_admin_drop(struct tcps_net_admin *saved);

/*
 * Puts back what tcps_net_admin_drop() set aside. Returns 0, or -errno
 * when the thread could not take it back (it keeps running without).
 */
int tcps_net_admin_restore(const struct tcps_net_admin *saved);

/* Whether CAP_NET_ADMIN is in the calling thread's effective set. */
bool tcps_net_admin_effective(void);

#endif

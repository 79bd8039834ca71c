/* CAP_NET_ADMIN of the calling thread, with the raw capget/capset calls:
 * no library for two system calls. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "tcpstates/privs.h"

/* CAP_NET_ADMIN (12) lives in the first 32-bit word of each set. */
#define NET_ADMIN_BIT (1u << CAP_NET_ADMIN)

struct caps {
	struct __user_cap_header_struct header;
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
};

static int caps_get(struct caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->header.version = _LINUX_CAPABILITY_VERSION_3;
	caps->header.pid = 0; /* the calling thread */
	if (syscall(SYS_capget, &caps->header, caps->data) != 0)
		return -errno;
	return 0;
}

static int caps_set(struct caps *caps)
{
	caps->header.version = _LINUX_CAPABILITY_VERSION_3;
	caps->header.pid = 0;
	if (syscall(SYS_capset, &caps->header, caps->data) != 0)
		return -errno;
	return 0;
}

int tcps_net_admin_drop(struct tcps_net_admin *saved)
{
	struct caps caps;
	int err;

	saved->dropped = false;
	err = caps_get(&caps);
	if (err < 0)
		return err;
	if (!(caps.data[0].effective & NET_ADMIN_BIT))
		return 0;
	caps.data[0].effective &= ~NET_ADMIN_BIT;
	err = caps_set(&caps);
	if (err < 0)
		return err;
	saved->dropped = true;
	return 0;
}

int tcps_net_admin_restore(const struct tcps_net_admin *saved)
{
	struct caps caps;
	int err;

	if (!saved->dropped)
		return 0;
	err = caps_get(&caps);
	if (err < 0)
		return err;
	/* Still in the permitted set: taking it back needs no privilege. */
	caps.data[0].effective |= NET_ADMIN_BIT;
	return caps_set(&caps);
}

bool tcps_net_admin_effective(void)
{
	struct caps caps;

	return caps_get(&caps) == 0 &&
	       (caps.data[0].effective & NET_ADMIN_BIT) != 0;
}

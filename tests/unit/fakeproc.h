/* A fake /proc tree in a temporary folder, for the owner tests. */
#ifndef TCPSTATES_TEST_FAKEPROC_H
#define TCPSTATES_TEST_FAKEPROC_H

#include <stdint.h>

struct fakeproc {
	char root[64];
};

void fakeproc_create(struct fakeproc *fp);
void fakeproc_destroy(struct fakeproc *fp);
/* A process with a comm, an exe link and a cgroup file. */
void fakeproc_add(struct fakeproc *fp, int pid, const char *comm,
		  const char *exe, const char *cgroup);
/* fd -> socket:[inode] (or any link text when inode is 0: text). */
void fakeproc_fd(struct fakeproc *fp, int pid, int fd, uint32_t inode);
void fakeproc_fd_text(struct fakeproc *fp, int pid, int fd, const char *text);
void fakeproc_close_fd(struct fakeproc *fp, int pid, int fd);
void fakeproc_set_comm(struct fakeproc *fp, int pid, const char *comm);
void fakeproc_remove(struct fakeproc *fp, int pid);
/* Raw content for REST under the process folder ("stat", "fd/12"), with
 * no newline added: for garbage the kernel would never write. */
void fakeproc_write(struct fakeproc *fp, int pid, const char *rest,
		    const char *text);
/* Replaces the exe link with any target text. */
void fakeproc_set_exe(struct fakeproc *fp, int pid, const char *target);
/* A folder NAME at the root with fd/3 -> socket:[inode]: a process
 * folder if NAME were a pid. */
void fakeproc_entry(struct fakeproc *fp, const char *name, uint32_t inode);

#endif

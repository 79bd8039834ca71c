#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <check.h>

#include "fakeproc.h"

static void path_of(const struct fakeproc *fp, char *out, size_t size, int pid,
		    const char *rest)
{
	snprintf(out, size, "%s/%d%s%s", fp->root, pid, rest[0] ? "/" : "",
		 rest);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

void fakeproc_create(struct fakeproc *fp)
{
	snprintf(fp->root, sizeof(fp->root), "/tmp/tcps-fakeproc.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fp->root));
	ck_assert_int_eq(chmod(fp->root, 0755), 0);
	/* Entries that are not processes must be ignored. */
	char path[256];
	snprintf(path, sizeof(path), "%s/self", fp->root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sys", fp->root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
}

void fakeproc_destroy(struct fakeproc *fp)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fp->root);
	ck_assert_int_eq(system(cmd), 0);
}

/* Every process added gets a start time of its own, as a new process
 * with a reused pid would. */
static unsigned long long next_start_time = 1000;

void fakeproc_add(struct fakeproc *fp, int pid, const char *comm,
		  const char *exe, const char *cgroup)
{
	char path[256], text[512];

	path_of(fp, path, sizeof(path), pid, "");
	ck_assert_int_eq(mkdir(path, 0755), 0);
	path_of(fp, path, sizeof(path), pid, "fd");
	ck_assert_int_eq(mkdir(path, 0700), 0);
	path_of(fp, path, sizeof(path), pid, "comm");
	snprintf(text, sizeof(text), "%s\n", comm);
	write_text(path, text);
	path_of(fp, path, sizeof(path), pid, "exe");
	ck_assert_int_eq(symlink(exe, path), 0);
	path_of(fp, path, sizeof(path), pid, "cgroup");
	write_text(path, cgroup);
	path_of(fp, path, sizeof(path), pid, "stat");
	snprintf(text, sizeof(text),
		 "%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
		 "%llu 1000000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 "
		 "0 17 0 0 0 0 0 0\n",
		 pid, comm, pid, pid, next_start_time++);
	write_text(path, text);
}

void fakeproc_fd_text(struct fakeproc *fp, int pid, int fd, const char *text)
{
	char rest[32], path[256];

	snprintf(rest, sizeof(rest), "fd/%d", fd);
	path_of(fp, path, sizeof(path), pid, rest);
	unlink(path);
	ck_assert_int_eq(symlink(text, path), 0);
}

void fakeproc_fd(struct fakeproc *fp, int pid, int fd, uint32_t inode)
{
	char text[64];

	snprintf(text, sizeof(text), "socket:[%u]", inode);
	fakeproc_fd_text(fp, pid, fd, text);
}

void fakeproc_close_fd(struct fakeproc *fp, int pid, int fd)
{
	char rest[32], path[256];

	snprintf(rest, sizeof(rest), "fd/%d", fd);
	path_of(fp, path, sizeof(path), pid, rest);
	ck_assert_int_eq(unlink(path), 0);
}

void fakeproc_set_comm(struct fakeproc *fp, int pid, const char *comm)
{
	char path[256], text[256];

	path_of(fp, path, sizeof(path), pid, "comm");
	snprintf(text, sizeof(text), "%s\n", comm);
	write_text(path, text);
}

void fakeproc_remove(struct fakeproc *fp, int pid)
{
	char cmd[320], path[256];

	path_of(fp, path, sizeof(path), pid, "");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	ck_assert_int_eq(system(cmd), 0);
}

void fakeproc_write(struct fakeproc *fp, int pid, const char *rest,
		    const char *text)
{
	char path[256];

	path_of(fp, path, sizeof(path), pid, rest);
	unlink(path);
	write_text(path, text);
}

void fakeproc_set_exe(struct fakeproc *fp, int pid, const char *target)
{
	char path[256];

	path_of(fp, path, sizeof(path), pid, "exe");
	unlink(path);
	ck_assert_int_eq(symlink(target, path), 0);
}

void fakeproc_entry(struct fakeproc *fp, const char *name, uint32_t inode)
{
	char path[256], text[64];

	snprintf(path, sizeof(path), "%s/%s", fp->root, name);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s/fd", fp->root, name);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s/fd/3", fp->root, name);
	snprintf(text, sizeof(text), "socket:[%u]", inode);
	ck_assert_int_eq(symlink(text, path), 0);
}

/*
 * The fuzz-leaks world and its fake /proc. Each change to the model is
 * made on disk at once, file by file (no rebuild, no system()), so that
 * a read sees exactly the model.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "leaks_world.h"

#define PID_FIRST 2
#define PATH_LEN 64

static const uint32_t uids[] = { 0, 1000, 1001 };

static void fail(const char *what, const char *path)
{
	fprintf(stderr, "fuzz-leaks world: %s %s: %s\n", what, path,
		strerror(errno));
	abort();
}

static int pid_of(unsigned proc)
{
	return PID_FIRST + (int)proc;
}

/* "PID" or "PID/rest", relative to the root folder. */
static void rel_path(char *out, unsigned proc, const char *rest)
{
	if (rest[0])
		snprintf(out, PATH_LEN, "%d/%s", pid_of(proc), rest);
	else
		snprintf(out, PATH_LEN, "%d", pid_of(proc));
}

static void disk_mkdir(const struct world *w, unsigned proc, const char *rest)
{
	char rel[PATH_LEN];

	rel_path(rel, proc, rest);
	if (mkdirat(w->root_fd, rel, 0755) != 0)
		fail("mkdir", rel);
}

static void disk_remove(const struct world *w, unsigned proc, const char *rest,
			int flags)
{
	char rel[PATH_LEN];

	rel_path(rel, proc, rest);
	if (unlinkat(w->root_fd, rel, flags) != 0)
		fail("remove", rel);
}

static void disk_text(const struct world *w, unsigned proc, const char *rest,
		      const char *text)
{
	char rel[PATH_LEN];
	size_t len = strlen(text);
	int fd;

	rel_path(rel, proc, rest);
	fd = openat(w->root_fd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) != 0)
		fail("write", rel);
}

/* What an FD_OTHER fd links to: anything the owner search passes over. */
static void other_target(unsigned fd, char *out, size_t size)
{
	if (fd % 3 == 0)
		snprintf(out, size, "pipe:[%u]", 900 + fd);
	else if (fd % 3 == 1)
		snprintf(out, size, "/dev/null");
	else /* a socket in a state the leak finder does not track */
		snprintf(out, size, "socket:[%u]", 4000000000u + fd);
}

/* The link target of an open fd (not FD_CLOSED). */
static void fd_target(const struct world *w, const struct world_proc *p,
		      unsigned fd, char *out, size_t size)
{
	if (p->fds[fd] == FD_OTHER)
		other_target(fd, out, size);
	else
		snprintf(out, size, "socket:[%u]", w->socks[p->fds[fd]].inode);
}

/* The fd link on disk as the model has it; none while the fd folder is
 * not there to hold it. */
static void disk_fd(const struct world *w, unsigned proc, unsigned fd,
		    bool existed)
{
	const struct world_proc *p = &w->procs[proc];
	char rest[16], rel[PATH_LEN], target[32];

	if (p->fd_dir != FD_DIR_OK)
		return;
	snprintf(rest, sizeof(rest), "fd/%u", fd + 3);
	if (existed)
		disk_remove(w, proc, rest, 0);
	if (p->fds[fd] == FD_CLOSED)
		return;
	fd_target(w, p, fd, target, sizeof(target));
	rel_path(rel, proc, rest);
	if (symlinkat(target, w->root_fd, rel) != 0)
		fail("symlink", rel);
}

static void disk_fd_dir_add(const struct world *w, unsigned proc)
{
	const struct world_proc *p = &w->procs[proc];

	if (p->fd_dir == FD_DIR_FILE)
		disk_text(w, proc, "fd", "not a folder\n");
	if (p->fd_dir != FD_DIR_OK)
		return;
	disk_mkdir(w, proc, "fd");
	for (unsigned fd = 0; fd < WORLD_FDS; fd++)
		disk_fd(w, proc, fd, false);
}

static void disk_fd_dir_remove(const struct world *w, unsigned proc)
{
	const struct world_proc *p = &w->procs[proc];
	char rest[16];

	if (p->fd_dir == FD_DIR_FILE)
		disk_remove(w, proc, "fd", 0);
	if (p->fd_dir != FD_DIR_OK)
		return;
	for (unsigned fd = 0; fd < WORLD_FDS; fd++) {
		if (p->fds[fd] == FD_CLOSED)
			continue;
		snprintf(rest, sizeof(rest), "fd/%u", fd + 3);
		disk_remove(w, proc, rest, 0);
	}
	disk_remove(w, proc, "fd", AT_REMOVEDIR);
}

static void disk_comm(const struct world *w, unsigned proc)
{
	char text[WORLD_COMM_MAX + 1];

	snprintf(text, sizeof(text), "%s\n", w->procs[proc].comm);
	disk_text(w, proc, "comm", text);
}

static void disk_stat(const struct world *w, unsigned proc)
{
	const struct world_proc *p = &w->procs[proc];
	int pid = pid_of(proc);
	char text[256];

	if (p->stat == STAT_GARBAGE) /* cut short: no field 22 */
		snprintf(text, sizeof(text), "%d (%s) S 1 %d %d 0", pid,
			 p->comm, pid, pid);
	else
		snprintf(text, sizeof(text),
			 "%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 1 2 0 0 "
			 "20 0 1 0 %llu 1000000 100 18446744073709551615\n",
			 pid, p->comm, pid, pid,
			 (unsigned long long)p->start_time);
	disk_text(w, proc, "stat", text);
}

static void disk_proc_add(const struct world *w, unsigned proc)
{
	const struct world_proc *p = &w->procs[proc];
	char rel[PATH_LEN];

	disk_mkdir(w, proc, "");
	rel_path(rel, proc, "");
	if (p->uid != 0 && fchownat(w->root_fd, rel, p->uid, p->uid, 0) != 0)
		fail("chown", rel);
	disk_fd_dir_add(w, proc);
	disk_comm(w, proc);
	disk_stat(w, proc);
}

static void disk_proc_remove(const struct world *w, unsigned proc)
{
	const struct world_proc *p = &w->procs[proc];

	disk_fd_dir_remove(w, proc);
	if (!p->comm_gone)
		disk_remove(w, proc, "comm", 0);
	if (p->stat != STAT_GONE)
		disk_remove(w, proc, "stat", 0);
	disk_remove(w, proc, "", AT_REMOVEDIR);
}

/* TMPDIR (run.sh gives each target its own), else tmpfs: every change
 * of the world is a file system call, twice as slow on ext4. */
static const char *temp_folder(void)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp && tmp[0])
		return tmp;
	return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

static int remove_one(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* A crash skips the atexit() clean-up: the folders of fuzzer processes
 * that are gone are removed by the next one. */
static void remove_stale(const char *tmp)
{
	DIR *dir = opendir(tmp);
	struct dirent *entry;
	char path[512];
	int pid;

	while (dir && (entry = readdir(dir))) {
		if (sscanf(entry->d_name, "tcps-fuzz-leaks-%d-", &pid) != 1 ||
		    pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp, entry->d_name);
		nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	if (dir)
		closedir(dir);
}

void world_open(struct world *w)
{
	const char *tmp = temp_folder();

	memset(w, 0, sizeof(*w));
	remove_stale(tmp);
	snprintf(w->root, sizeof(w->root), "%s/tcps-fuzz-leaks-%d-XXXXXX", tmp,
		 (int)getpid());
	if (!mkdtemp(w->root))
		fail("mkdtemp", w->root);
	w->root_fd = open(w->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->root_fd < 0)
		fail("open", w->root);
	/* Entries that are not processes: the search must skip them. */
	if (mkdirat(w->root_fd, "self", 0755) != 0 ||
	    mkdirat(w->root_fd, "sys", 0755) != 0)
		fail("mkdir", w->root);
	world_reset(w);
}

void world_close(struct world *w)
{
	world_reset(w);
	if (unlinkat(w->root_fd, "self", AT_REMOVEDIR) != 0 ||
	    unlinkat(w->root_fd, "sys", AT_REMOVEDIR) != 0 ||
	    close(w->root_fd) != 0 || rmdir(w->root) != 0)
		fail("remove", w->root);
}

void world_reset(struct world *w)
{
	for (unsigned proc = 0; proc < WORLD_PIDS; proc++)
		if (w->procs[proc].alive)
			disk_proc_remove(w, proc);
	memset(w->procs, 0, sizeof(w->procs));
	memset(w->socks, 0, sizeof(w->socks));
	memset(w->held_by, 0, sizeof(w->held_by));
	w->serials = 0;
	w->unique_comms = 0;
	w->next_cookie = WORLD_FRESH_COOKIE;
	w->next_start_time = 1000;
}

static unsigned holders(const struct world *w, int sock)
{
	unsigned n = w->socks[sock].hidden;

	for (unsigned proc = 0; proc < WORLD_PIDS; proc++) {
		const struct world_proc *p = &w->procs[proc];

		for (unsigned fd = 0; p->alive && fd < WORLD_FDS; fd++)
			n += p->fds[fd] == sock;
	}
	return n;
}

/* A socket nobody holds any more: gone, or an orphan (inode 0). */
static void settle(struct world *w, int sock, bool orphan)
{
	struct world_sock *s = &w->socks[sock];

	if (!s->live || s->inode == 0 || holders(w, sock) > 0)
		return;
	if (orphan)
		s->inode = 0;
	else
		s->live = false;
}

static void mark_held(struct world *w, int sock, uint16_t serial)
{
	const struct world_sock *s = &w->socks[sock];

	w->held_by[s->inode][s->cookie][serial / 64] |= 1ull << (serial % 64);
}

/* Sets one fd of a live process, on disk too; a socket it held may go. */
static void set_fd(struct world *w, unsigned proc, unsigned fd, int8_t value,
		   bool orphan)
{
	struct world_proc *p = &w->procs[proc];
	int8_t old = p->fds[fd];

	p->fds[fd] = value;
	if (value >= 0)
		mark_held(w, value, p->serial);
	disk_fd(w, proc, fd, old != FD_CLOSED);
	if (old >= 0)
		settle(w, old, orphan);
}

static int free_fd(const struct world_proc *p)
{
	for (unsigned fd = 0; fd < WORLD_FDS; fd++)
		if (p->fds[fd] == FD_CLOSED)
			return (int)fd;
	return -1;
}

void world_exit(struct world *w, unsigned proc, bool orphan)
{
	struct world_proc *p = &w->procs[proc % WORLD_PIDS];

	if (!p->alive)
		return;
	disk_proc_remove(w, proc % WORLD_PIDS);
	p->alive = false;
	for (unsigned fd = 0; fd < WORLD_FDS; fd++)
		if (p->fds[fd] >= 0)
			settle(w, p->fds[fd], orphan);
}

static void pick_comm(struct world *w, struct world_proc *p, unsigned pick)
{
	/* Half the names are shared (a pre-fork server's workers), half
	 * belong to one process until it renames itself again. */
	if (pick % 8 < 4)
		snprintf(p->comm, sizeof(p->comm), "w%u", pick % 4);
	else
		snprintf(p->comm, sizeof(p->comm), "u%u", w->unique_comms++);
}

/* A new process at procs[proc] (a pid freed by an exit is reused at once),
 * with all fds closed. Returns it, or NULL when the script used up its
 * processes. */
static struct world_proc *start(struct world *w, unsigned proc, bool orphan)
{
	struct world_proc *p = &w->procs[proc];

	if (w->serials >= WORLD_SERIALS)
		return NULL;
	world_exit(w, proc, orphan);
	memset(p, 0, sizeof(*p));
	memset(p->fds, FD_CLOSED, sizeof(p->fds));
	p->alive = true;
	p->serial = w->serials++;
	p->start_time = w->next_start_time++;
	return p;
}

void world_spawn(struct world *w, unsigned proc, unsigned comm_pick,
		 unsigned uid_pick)
{
	struct world_proc *p = start(w, proc % WORLD_PIDS, comm_pick & 0x80);

	if (!p)
		return;
	pick_comm(w, p, comm_pick);
	p->uid = uids[uid_pick % 3];
	disk_proc_add(w, proc % WORLD_PIDS);
}

void world_fork(struct world *w, unsigned parent, unsigned child)
{
	const struct world_proc *pp = &w->procs[parent % WORLD_PIDS];
	struct world_proc *c;

	parent %= WORLD_PIDS;
	child %= WORLD_PIDS;
	if (!pp->alive || parent == child)
		return;
	c = start(w, child, false);
	if (!c)
		return;
	memcpy(c->comm, pp->comm, sizeof(c->comm));
	c->uid = pp->uid;
	memcpy(c->fds, pp->fds, sizeof(c->fds));
	for (unsigned fd = 0; fd < WORLD_FDS; fd++)
		if (c->fds[fd] >= 0)
			mark_held(w, c->fds[fd], c->serial);
	disk_proc_add(w, child);
}

void world_rename(struct world *w, unsigned proc, unsigned comm_pick)
{
	struct world_proc *p = &w->procs[proc % WORLD_PIDS];

	if (!p->alive)
		return;
	pick_comm(w, p, comm_pick);
	if (!p->comm_gone)
		disk_comm(w, proc % WORLD_PIDS);
}

void world_set_uid(struct world *w, unsigned proc, unsigned uid_pick)
{
	struct world_proc *p = &w->procs[proc % WORLD_PIDS];
	char rel[PATH_LEN];

	if (!p->alive)
		return;
	p->uid = uids[uid_pick % 3];
	rel_path(rel, proc % WORLD_PIDS, "");
	if (fchownat(w->root_fd, rel, p->uid, p->uid, 0) != 0)
		fail("chown", rel);
}

static void set_fd_dir(struct world *w, unsigned proc, enum world_fd_dir dir)
{
	struct world_proc *p = &w->procs[proc];

	if (p->fd_dir == dir)
		return;
	disk_fd_dir_remove(w, proc);
	p->fd_dir = dir;
	disk_fd_dir_add(w, proc);
}

static void set_stat(struct world *w, unsigned proc, enum world_stat stat)
{
	struct world_proc *p = &w->procs[proc];

	if (p->stat != STAT_GONE)
		disk_remove(w, proc, "stat", 0);
	p->stat = stat;
	if (stat != STAT_GONE)
		disk_stat(w, proc);
}

void world_files(struct world *w, unsigned proc, unsigned what)
{
	struct world_proc *p = &w->procs[proc % WORLD_PIDS];

	proc %= WORLD_PIDS;
	if (!p->alive)
		return;
	switch (what % 7) {
	case 0:
	case 1:
	case 2:
		set_fd_dir(w, proc, (enum world_fd_dir)(what % 7));
		break;
	case 3:
		p->comm_gone = !p->comm_gone;
		if (p->comm_gone)
			disk_remove(w, proc, "comm", 0);
		else
			disk_comm(w, proc);
		break;
	default:
		set_stat(w, proc, (enum world_stat)(what % 7 - 4));
	}
}

static bool inode_in_use(const struct world *w, uint32_t inode)
{
	for (unsigned s = 0; s < WORLD_SOCKS; s++)
		if (w->socks[s].live && w->socks[s].inode == inode)
			return true;
	return false;
}

static int free_sock(const struct world *w)
{
	for (unsigned s = 0; s < WORLD_SOCKS; s++)
		if (!w->socks[s].live)
			return (int)s;
	return -1;
}

void world_socket(struct world *w, unsigned holder_pick, unsigned inode_pick,
		  unsigned cookie_pick, uint8_t state, uint32_t rqueue)
{
	unsigned proc = holder_pick % (WORLD_PIDS + WORLD_PIDS / 4);
	int sock = free_sock(w);
	struct world_sock *s;
	uint32_t inode = inode_pick % WORLD_INODES + 1;
	int fd = -1;

	if (sock < 0)
		return;
	/* Fewer live sockets than inodes: a free one is always found. */
	while (inode_in_use(w, inode))
		inode = inode % WORLD_INODES + 1;
	s = &w->socks[sock];
	memset(s, 0, sizeof(*s));
	s->live = true;
	s->state = state;
	s->inode = inode;
	s->cookie = cookie_pick % 16 - 12;
	if (cookie_pick % 16 < 12) {
		s->cookie = w->next_cookie;
		w->next_cookie = w->next_cookie + 1 < WORLD_COOKIES
					 ? w->next_cookie + 1
					 : WORLD_FRESH_COOKIE;
	}
	s->rqueue = rqueue;
	s->uid = 1000;
	if (proc < WORLD_PIDS && w->procs[proc].alive)
		fd = free_fd(&w->procs[proc]);
	if (fd < 0) {
		s->hidden = true; /* held out of sight */
		return;
	}
	s->uid = w->procs[proc].uid;
	set_fd(w, proc, (unsigned)fd, (int8_t)sock, false);
}

void world_set_state(struct world *w, unsigned sock, uint8_t state)
{
	struct world_sock *s = &w->socks[sock % WORLD_SOCKS];

	if (s->live)
		s->state = state;
}

/* The first process holding the socket: its index and fd, or -1. */
static int find_holder(const struct world *w, int sock, unsigned *ret_fd)
{
	for (unsigned proc = 0; proc < WORLD_PIDS; proc++) {
		const struct world_proc *p = &w->procs[proc];

		for (unsigned fd = 0; p->alive && fd < WORLD_FDS; fd++) {
			if (p->fds[fd] == sock) {
				*ret_fd = fd;
				return (int)proc;
			}
		}
	}
	return -1;
}

void world_hand_on(struct world *w, unsigned sock, unsigned to, bool keep)
{
	struct world_sock *s = &w->socks[sock % WORLD_SOCKS];
	unsigned giver_fd = 0;
	int giver, fd;

	sock %= WORLD_SOCKS;
	to %= WORLD_PIDS;
	if (!s->live || s->inode == 0 || !w->procs[to].alive)
		return;
	fd = free_fd(&w->procs[to]);
	if (fd < 0)
		return;
	giver = find_holder(w, (int)sock, &giver_fd);
	set_fd(w, to, (unsigned)fd, (int8_t)sock, false);
	if (keep)
		return;
	if (giver < 0)
		s->hidden = false; /* the one out of sight gave it */
	else
		set_fd(w, (unsigned)giver, giver_fd, FD_CLOSED, false);
}

void world_close_fd(struct world *w, unsigned proc, unsigned fd, bool orphan)
{
	proc %= WORLD_PIDS;
	fd %= WORLD_FDS;
	if (w->procs[proc].alive && w->procs[proc].fds[fd] != FD_CLOSED)
		set_fd(w, proc, fd, FD_CLOSED, orphan);
}

void world_other_fd(struct world *w, unsigned proc, unsigned fd, bool orphan)
{
	proc %= WORLD_PIDS;
	fd %= WORLD_FDS;
	if (w->procs[proc].alive)
		set_fd(w, proc, fd, FD_OTHER, orphan);
}

void world_drop(struct world *w, unsigned sock, bool orphan)
{
	struct world_sock *s = &w->socks[sock % WORLD_SOCKS];
	unsigned fd;
	int proc;

	sock %= WORLD_SOCKS;
	if (!s->live)
		return;
	if (s->inode == 0) { /* the kernel is done with an orphan */
		s->live = false;
		return;
	}
	s->hidden = false;
	while ((proc = find_holder(w, (int)sock, &fd)) >= 0)
		set_fd(w, (unsigned)proc, fd, FD_CLOSED, orphan);
	settle(w, (int)sock, orphan);
}

void world_toggle_hidden(struct world *w, unsigned sock, bool orphan)
{
	struct world_sock *s = &w->socks[sock % WORLD_SOCKS];

	if (!s->live || s->inode == 0)
		return;
	s->hidden = !s->hidden;
	settle(w, (int)(sock % WORLD_SOCKS), orphan);
}

void world_toggle_twice(struct world *w, unsigned sock)
{
	struct world_sock *s = &w->socks[sock % WORLD_SOCKS];

	if (s->live)
		s->twice = !s->twice;
}

/* Swaps two sockets' places in the dump; holders follow. */
void world_swap(struct world *w, unsigned a, unsigned b)
{
	struct world_sock tmp;

	a %= WORLD_SOCKS;
	b %= WORLD_SOCKS;
	tmp = w->socks[a];
	w->socks[a] = w->socks[b];
	w->socks[b] = tmp;
	for (unsigned proc = 0; proc < WORLD_PIDS; proc++) {
		struct world_proc *p = &w->procs[proc];

		for (unsigned fd = 0; fd < WORLD_FDS; fd++) {
			if (p->fds[fd] == (int8_t)a)
				p->fds[fd] = (int8_t)b;
			else if (p->fds[fd] == (int8_t)b)
				p->fds[fd] = (int8_t)a;
		}
	}
}

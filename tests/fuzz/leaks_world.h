/*
 * The world of the fuzz-leaks target: processes holding sockets, changed
 * by a script between reads, and a fake /proc folder kept in step with
 * them one change at a time (PID/, PID/fd/N links, PID/comm, PID/stat:
 * what the owner search reads when it groups by comm).
 *
 * Small on purpose: few pids, inodes and cookies, so that a script of a
 * few hundred bytes reuses all of them. The world also remembers which
 * processes ever held each (inode, cookie): the leak finder may name a
 * process that held a socket once (its owner cache trusts a remembered
 * holder that lives on), never one that did not.
 */
#ifndef TCPSTATES_FUZZ_LEAKS_WORLD_H
#define TCPSTATES_FUZZ_LEAKS_WORLD_H

#include <stdbool.h>
#include <stdint.h>

/* More than 64 processes and 32 sockets: a resolve can meet more than
 * 64 processes, past the first capacity of any table sized by sockets
 * (how the leak finder once wrote past its group index). */
#define WORLD_PIDS 80	      /* pids 2..81: procs[pid - 2] */
#define WORLD_FDS 6	      /* fds 3..8 of each process */
#define WORLD_SOCKS 40	      /* sockets in the dump at once */
#define WORLD_INODES 64	      /* socket inodes 1..64; 0 is an orphan */
#define WORLD_COOKIES 64      /* socket cookies 0..63 */
#define WORLD_FRESH_COOKIE 16 /* 16..63: handed out in turn */
#define WORLD_SERIALS 256     /* processes one script may start */
#define WORLD_COMM_MAX 16     /* TASK_COMM_LEN */

#define FD_CLOSED (-1)
#define FD_OTHER (-2) /* a pipe, /dev/null, a socket not in the dump */

enum world_fd_dir { FD_DIR_OK, FD_DIR_GONE, FD_DIR_FILE };
enum world_stat { STAT_OK, STAT_GONE, STAT_GARBAGE };

struct world_proc {
	bool alive;
	uint16_t serial;     /* which process of the script */
	uint64_t start_time; /* /proc/PID/stat field 22, unique */
	char comm[WORLD_COMM_MAX];
	uint32_t uid;
	int8_t fds[WORLD_FDS]; /* index in socks, FD_CLOSED or FD_OTHER */
	enum world_fd_dir fd_dir;
	enum world_stat stat;
	bool comm_gone;
};

struct world_sock {
	bool live;
	bool hidden; /* also held by a process out of sight */
	bool twice;  /* the dump lists it twice */
	uint8_t state;
	uint32_t inode; /* 0: orphan; no process can hold it */
	uint64_t cookie;
	uint32_t uid, rqueue;
};

struct world {
	char root[256];
	int root_fd;
	struct world_proc procs[WORLD_PIDS];
	struct world_sock socks[WORLD_SOCKS];
	uint16_t serials; /* processes started so far */
	uint32_t unique_comms;
	uint64_t next_cookie;
	uint64_t next_start_time;
	/* Bit per serial: the processes that ever held (inode, cookie). */
	uint64_t held_by[WORLD_INODES + 1][WORLD_COOKIES][WORLD_SERIALS / 64];
};

/* A fresh folder under TMPDIR (else /dev/shm), once per fuzzer process;
 * the ones left by crashed fuzzer processes go. */
void world_open(struct world *w);
/* Removes the folder and what is in it. */
void world_close(struct world *w);
/* No process, no socket: an empty /proc (but for two non-pid entries). */
void world_reset(struct world *w);

/* proc is an index in world.procs. Every pick is reduced to a valid
 * choice; changes that make no sense at the moment (a dead parent, no free
 * fd) do nothing. A process started on a live pid takes the pid once its
 * process exits (comm_pick & 0x80: leaving its sockets orphaned). comm_pick % 8 < 4: one of four
 * shared names; else a name of its own. */
void world_spawn(struct world *w, unsigned proc, unsigned comm_pick,
		 unsigned uid_pick);
void world_fork(struct world *w, unsigned parent, unsigned child);
void world_exit(struct world *w, unsigned proc, bool orphan);
void world_rename(struct world *w, unsigned proc, unsigned comm_pick);
void world_set_uid(struct world *w, unsigned proc, unsigned uid_pick);
/* what % 7: 0-2 the fd folder fine, gone, a plain file; 3 comm gone or
 * back; 4-6 stat fine, gone, cut short (no start time). */
void world_files(struct world *w, unsigned proc, unsigned what);
/* A new socket held by the process in holder_pick (one in five picks: by
 * one out of sight), with a free inode near inode_pick. cookie_pick 0-11:
 * the next fresh cookie (they come round again after 48); 12-15: cookie
 * 0 (none), 1, 2 or 3, shared on purpose. */
void world_socket(struct world *w, unsigned holder_pick, unsigned inode_pick,
		  unsigned cookie_pick, uint8_t state, uint32_t rqueue);
void world_set_state(struct world *w, unsigned sock, uint8_t state);
/* A holder passes the socket to process `to` (SCM_RIGHTS, or a child
 * inheriting it), closing its own copy unless keep. */
void world_hand_on(struct world *w, unsigned sock, unsigned to, bool keep);
/* orphan: a socket that loses its last holder stays in the dump with
 * inode 0, as one the kernel still closes; otherwise it is gone. */
void world_close_fd(struct world *w, unsigned proc, unsigned fd, bool orphan);
void world_drop(struct world *w, unsigned sock, bool orphan);
void world_other_fd(struct world *w, unsigned proc, unsigned fd, bool orphan);
void world_toggle_hidden(struct world *w, unsigned sock, bool orphan);
void world_toggle_twice(struct world *w, unsigned sock);
void world_swap(struct world *w, unsigned a, unsigned b);

/* Whether the process of serial held (inode, cookie) at some time. */
static inline bool world_ever_held(const struct world *w, uint32_t inode,
				   uint64_t cookie, unsigned serial)
{
	if (inode == 0 || inode > WORLD_INODES || cookie >= WORLD_COOKIES ||
	    serial >= WORLD_SERIALS)
		return false;
	return (w->held_by[inode][cookie][serial / 64] >> (serial % 64)) & 1;
}

#endif

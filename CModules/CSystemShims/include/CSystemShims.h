#ifndef STMF_CSYSTEMSHIMS_H
#define STMF_CSYSTEMSHIMS_H
#include <stdint.h>
#include <sys/types.h>

/// Deallocates [offset, offset+length) of a regular file, keeping its size
/// (fallocate FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE). Returns 0 or -errno.
int stmf_punch_hole(int fd, off_t offset, off_t length);

/// Writes zeroes over [offset, offset+length) of a file without changing its size
/// (FALLOC_FL_ZERO_RANGE). Returns 0 or -errno.
int stmf_zero_range(int fd, off_t offset, off_t length);

/// Size in bytes of a block device (BLKGETSIZE64). Returns 0 or -errno.
int stmf_blockdev_size(int fd, uint64_t *size);

/// Logical sector size of a block device (BLKSSZGET). Returns 0 or -errno.
int stmf_blockdev_logical_block_size(int fd, uint32_t *size);

/// Discards [offset, offset+length) of a block device (BLKDISCARD). Returns 0 or -errno.
int stmf_blockdev_discard(int fd, uint64_t offset, uint64_t length);

/// Zeroes [offset, offset+length) of a block device (BLKZEROOUT). Returns 0 or -errno.
int stmf_blockdev_zeroout(int fd, uint64_t offset, uint64_t length);

/// fdatasync over a range where possible (sync_file_range is not durable; this is
/// fdatasync). Returns 0 or -errno.
int stmf_datasync(int fd);

/// lseek(SEEK_DATA): the first offset at or after `offset` holding data; -ENXIO when only a
/// hole remains up to the end of the file, else another -errno.
off_t stmf_seek_data(int fd, off_t offset);

/// lseek(SEEK_HOLE): the first offset at or after `offset` in a hole (the end of the file
/// counts as one), or -errno.
off_t stmf_seek_hole(int fd, off_t offset);

/// epoll_create1(EPOLL_CLOEXEC), or -errno.
int stmf_epoll_create(void);

/// eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), or -errno.
int stmf_eventfd(void);

/// The epoll event bits the event loops use (sys/epoll.h is not in Swift's Glibc module).
#define STMF_EPOLLIN 0x001u
#define STMF_EPOLLERR 0x008u
#define STMF_EPOLLHUP 0x010u
#define STMF_EPOLLOUT 0x004u
#define STMF_EPOLLRDHUP 0x2000u

/// epoll_ctl(EPOLL_CTL_ADD / MOD) with `events` and a 64-bit cookie (the struct is packed on
/// x86_64, which Swift does not import well). Returns 0 or -errno.
int stmf_epoll_set(int epfd, int fd, uint32_t events, uint64_t cookie, int modify);

/// epoll_ctl(EPOLL_CTL_DEL). Returns 0 or -errno.
int stmf_epoll_remove(int epfd, int fd);

/// epoll_wait into parallel arrays of cookies and event masks. Returns the count or -errno.
int stmf_epoll_wait(int epfd, uint64_t *cookies, uint32_t *events, int max, int timeout_ms);

/// Whether the user `uid` (primary group `gid`, supplementary `groups`) may access `path` with
/// `mode` (R_OK, W_OK, X_OK bits), as the kernel decides it for that user: mode bits, POSIX
/// ACLs, search permission on the way, read-only mounts, LSMs. The calling thread takes the
/// user's filesystem credentials (setfsuid/setfsgid and a per-thread setgroups, raw system
/// calls so glibc does not apply them to every thread), asks faccessat2(AT_EACCESS), and takes
/// its own back before returning; nothing else runs on the thread meanwhile.
/// Returns 0 (allowed), -errno (refused: -EACCES, -ENOENT, -EROFS, ...), or 1 when this
/// process cannot take another user's credentials (not root) or the kernel lacks
/// faccessat2: the caller must decide another way.
int stmf_access_as(uint32_t uid, uint32_t gid, const uint32_t *groups, int ngroups, const char *path, int mode);

#endif

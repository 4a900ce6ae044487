#define _GNU_SOURCE
#include "CSystemShims.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>

int stmf_punch_hole(int fd, off_t offset, off_t length) {
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) == 0 ? 0 : -errno;
}

int stmf_zero_range(int fd, off_t offset, off_t length) {
    return fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, offset, length) == 0 ? 0 : -errno;
}

int stmf_blockdev_size(int fd, uint64_t *size) {
    return ioctl(fd, BLKGETSIZE64, size) == 0 ? 0 : -errno;
}

int stmf_blockdev_logical_block_size(int fd, uint32_t *size) {
    int v = 0;
    if (ioctl(fd, BLKSSZGET, &v) != 0) return -errno;
    *size = (uint32_t)v;
    return 0;
}

int stmf_blockdev_discard(int fd, uint64_t offset, uint64_t length) {
    uint64_t range[2] = { offset, length };
    return ioctl(fd, BLKDISCARD, range) == 0 ? 0 : -errno;
}

int stmf_blockdev_zeroout(int fd, uint64_t offset, uint64_t length) {
    uint64_t range[2] = { offset, length };
    return ioctl(fd, BLKZEROOUT, range) == 0 ? 0 : -errno;
}

int stmf_datasync(int fd) {
    return fdatasync(fd) == 0 ? 0 : -errno;
}

off_t stmf_seek_data(int fd, off_t offset) {
    off_t r = lseek(fd, offset, SEEK_DATA);
    return r < 0 ? -errno : r;
}

off_t stmf_seek_hole(int fd, off_t offset) {
    off_t r = lseek(fd, offset, SEEK_HOLE);
    return r < 0 ? -errno : r;
}

#include <sys/epoll.h>
#include <sys/eventfd.h>

int stmf_epoll_create(void) { int fd = epoll_create1(EPOLL_CLOEXEC); return fd < 0 ? -errno : fd; }

int stmf_eventfd(void) { int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); return fd < 0 ? -errno : fd; }

int stmf_epoll_set(int epfd, int fd, uint32_t events, uint64_t cookie, int modify)
{
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = cookie;
    return epoll_ctl(epfd, modify ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

int stmf_epoll_remove(int epfd, int fd)
{
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL) == 0 ? 0 : -errno;
}

int stmf_epoll_wait(int epfd, uint64_t *cookies, uint32_t *events, int max, int timeout_ms)
{
    struct epoll_event evs[64];
    if (max > 64) max = 64;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) { cookies[i] = evs[i].data.u64; events[i] = evs[i].events; }
    return n;
}

#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif

/// Takes back the thread's own filesystem credentials; a thread left as another user would
/// make stmfd's later file operations wrong, so failing here ends the process.
static void stmf_restore_credentials(uid_t uid, gid_t gid, const gid_t *groups, int n) {
    setfsuid(uid);
    setfsgid(gid);
    if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != gid
        || syscall(SYS_setgroups, (size_t)n, groups) != 0) {
        abort();
    }
}

int stmf_access_as(uint32_t uid, uint32_t gid, const uint32_t *groups, int ngroups, const char *path, int mode) {
    if (ngroups < 0) return 1;
    long n = syscall(SYS_getgroups, 0, NULL);
    if (n < 0) return 1;
    gid_t *saved = malloc(sizeof(gid_t) * (size_t)(n > 0 ? n : 1));
    if (saved == NULL) return 1;
    n = syscall(SYS_getgroups, (int)n, saved);
    if (n < 0) { free(saved); return 1; }
    uid_t old_uid = (uid_t)setfsuid((uid_t)-1);
    gid_t old_gid = (gid_t)setfsgid((gid_t)-1);
    if (syscall(SYS_setgroups, (size_t)ngroups, (const gid_t *)groups) != 0) { free(saved); return 1; }
    setfsgid(gid);
    setfsuid(uid);
    if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != gid) {
        stmf_restore_credentials(old_uid, old_gid, saved, (int)n);
        free(saved);
        return 1;
    }
    long r = syscall(SYS_faccessat2, AT_FDCWD, path, mode, AT_EACCESS);
    int e = r == 0 ? 0 : errno;
    stmf_restore_credentials(old_uid, old_gid, saved, (int)n);
    free(saved);
    if (e == ENOSYS) return 1;
    return -e;
}

#define _GNU_SOURCE
#include "CSystemShims.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <linux/falloc.h>

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

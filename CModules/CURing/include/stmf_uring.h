#ifndef STMF_URING_H
#define STMF_URING_H

#include <stdint.h>
#include <sys/uio.h>

/* A small, allocation-free face of liburing for Sources/Runtime: one ring per event loop,
 * completions signalled through an eventfd the loop watches with epoll. */

typedef struct stmf_uring stmf_uring;

enum stmf_uring_op {
    STMF_URING_READV = 0,
    STMF_URING_WRITEV = 1,
    STMF_URING_FDATASYNC = 2,
};

/* Creates a ring of `entries` submission slots whose completions are signalled on an eventfd
 * (returned in *eventfd). NULL with errno set when io_uring is refused (ENOSYS: no kernel
 * support; EPERM: io_uring_disabled or a seccomp filter; ENOMEM: locked-memory limit). */
stmf_uring *stmf_uring_create(unsigned entries, int *eventfd);
void stmf_uring_destroy(stmf_uring *ring);

/* Queues one operation (not yet submitted). 0, or -EBUSY when the submission queue is full. */
int stmf_uring_queue(stmf_uring *ring, int op, int fd, const struct iovec *iov, unsigned nr_iov,
                     uint64_t offset, uint64_t user_data);

/* Submits what was queued; returns how many the kernel took, or -errno. */
int stmf_uring_submit(stmf_uring *ring);

/* Takes up to `max` completions without waiting: user data and result (bytes or -errno). */
int stmf_uring_reap(stmf_uring *ring, uint64_t *user_data, int32_t *results, int max);

/* Clears the eventfd's counter (after a wake-up). */
void stmf_uring_ack(int eventfd);

#endif

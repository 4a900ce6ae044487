#include "stmf_uring.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct stmf_uring {
    struct io_uring ring;
    int eventfd;
};

stmf_uring *stmf_uring_create(unsigned entries, int *eventfd_out)
{
    stmf_uring *r = calloc(1, sizeof *r);
    if (!r) { errno = ENOMEM; return NULL; }
    int rc = io_uring_queue_init(entries, &r->ring, 0);
    if (rc < 0) { free(r); errno = -rc; return NULL; }
    r->eventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->eventfd < 0) { int e = errno; io_uring_queue_exit(&r->ring); free(r); errno = e; return NULL; }
    rc = io_uring_register_eventfd(&r->ring, r->eventfd);
    if (rc < 0) { close(r->eventfd); io_uring_queue_exit(&r->ring); free(r); errno = -rc; return NULL; }
    *eventfd_out = r->eventfd;
    return r;
}

void stmf_uring_destroy(stmf_uring *r)
{
    if (!r) return;
    io_uring_unregister_eventfd(&r->ring);
    close(r->eventfd);
    io_uring_queue_exit(&r->ring);
    free(r);
}

int stmf_uring_queue(stmf_uring *r, int op, int fd, const struct iovec *iov, unsigned nr_iov,
                     uint64_t offset, uint64_t user_data)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    if (!sqe) return -EBUSY;
    switch (op) {
    case STMF_URING_READV: io_uring_prep_readv(sqe, fd, iov, nr_iov, offset); break;
    case STMF_URING_WRITEV: io_uring_prep_writev(sqe, fd, iov, nr_iov, offset); break;
    case STMF_URING_FDATASYNC: io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC); break;
    default: io_uring_prep_nop(sqe); break;
    }
    io_uring_sqe_set_data64(sqe, user_data);
    return 0;
}

int stmf_uring_submit(stmf_uring *r)
{
    return io_uring_submit(&r->ring);
}

int stmf_uring_reap(stmf_uring *r, uint64_t *user_data, int32_t *results, int max)
{
    int n = 0;
    struct io_uring_cqe *cqe;
    while (n < max && io_uring_peek_cqe(&r->ring, &cqe) == 0 && cqe) {
        user_data[n] = io_uring_cqe_get_data64(cqe);
        results[n] = cqe->res;
        io_uring_cqe_seen(&r->ring, cqe);
        n++;
    }
    return n;
}

void stmf_uring_ack(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof v) < 0 && errno == EINTR) {}
}

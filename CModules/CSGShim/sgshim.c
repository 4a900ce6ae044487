/*
 * libfcinit-sgshim.so: an LD_PRELOAD library that makes the path named by $FCINIT_DEVICE (which
 * need not exist) behave as a Linux SCSI generic (sg v3) character device, so unmodified tools
 * (sg3_utils, fio --ioengine=sg, ...) can drive a LU that `fcinit` reaches over an FC fabric.
 *
 * Opening the path connects a Unix stream socket to $FCINIT_SGBRIDGE; that socket *is* the file
 * descriptor the program gets back, so fd numbers are real and poll() has something to wait on.
 * Each SCSI command becomes one request frame on the socket; replies come back by id (see
 * include/fcinit_sgbridge.h for the protocol).
 *
 * Interposed: open/open64/openat/openat64/__open_2/__open64_2/__openat_2/__openat64_2, close,
 * dup/dup2/dup3, fcntl/fcntl64, ioctl, read/__read_chk, write, poll/ppoll/__poll_chk/__ppoll_chk,
 * stat/lstat/fstat/fstatat (+64 variants), __xstat/__lxstat/__fxstat/__fxstatat (+64), statx,
 * access/faccessat. Calls on any other path or descriptor go straight to libc.
 *
 * sg semantics kept: SG_IO blocks whatever O_NONBLOCK says; write() of an sg_io_hdr submits
 * (data-out is taken at write time) and read() returns the completed header (usr_ptr, pack_id
 * ... as written, results filled in), honouring O_NONBLOCK and SG_SET_FORCE_PACK_ID; poll()
 * reports POLLIN while completed commands wait to be read and POLLOUT always.
 *
 * Failure handling: if the bridge cannot be reached at open(), open fails with ENXIO. If the
 * bridge goes away later, or a command outlives its timeout, the command completes with
 * host_status DID_NO_CONNECT / DID_TIME_OUT (info has SG_INFO_CHECK), never hangs.
 *
 * Threads: per-device mutexes; one thread at a time receives from the socket ("the reader") and
 * hands other threads' replies over through a condition variable.
 *
 * Debug: FCINIT_SGSHIM_DEBUG=1 logs each call on stderr.
 */
#define _GNU_SOURCE
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>
#include <scsi/scsi.h>
#include <scsi/scsi_ioctl.h>
#include <scsi/sg.h>

#include "fcinit_sgbridge.h"

#ifndef SCSI_GENERIC_MAJOR
#define SCSI_GENERIC_MAJOR 21
#endif
#ifndef SG_GET_ACCESS_COUNT
#define SG_GET_ACCESS_COUNT 0x2289
#endif

#define EXPORT __attribute__((visibility("default")))

/* glibc no longer declares these (they remain exported for old binaries). */
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags);
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *ss, size_t fdslen);

/* ------------------------------------------------------------------ real libc entry points */

static struct {
    int (*open)(const char *, int, ...);
    int (*open64)(const char *, int, ...);
    int (*openat)(int, const char *, int, ...);
    int (*openat64)(int, const char *, int, ...);
    int (*__open_2)(const char *, int);
    int (*__open64_2)(const char *, int);
    int (*__openat_2)(int, const char *, int);
    int (*__openat64_2)(int, const char *, int);
    int (*close)(int);
    int (*dup)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    int (*fcntl)(int, int, ...);
    int (*fcntl64)(int, int, ...);
    int (*ioctl)(int, unsigned long, ...);
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*__read_chk)(int, void *, size_t, size_t);
    ssize_t (*write)(int, const void *, size_t);
    int (*poll)(struct pollfd *, nfds_t, int);
    int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
    int (*stat)(const char *, struct stat *);
    int (*stat64)(const char *, struct stat64 *);
    int (*lstat)(const char *, struct stat *);
    int (*lstat64)(const char *, struct stat64 *);
    int (*fstat)(int, struct stat *);
    int (*fstat64)(int, struct stat64 *);
    int (*fstatat)(int, const char *, struct stat *, int);
    int (*fstatat64)(int, const char *, struct stat64 *, int);
    int (*__xstat)(int, const char *, struct stat *);
    int (*__xstat64)(int, const char *, struct stat64 *);
    int (*__lxstat)(int, const char *, struct stat *);
    int (*__lxstat64)(int, const char *, struct stat64 *);
    int (*__fxstat)(int, int, struct stat *);
    int (*__fxstat64)(int, int, struct stat64 *);
    int (*__fxstatat)(int, int, const char *, struct stat *, int);
    int (*__fxstatat64)(int, int, const char *, struct stat64 *, int);
    int (*statx)(int, const char *, int, unsigned int, struct statx *);
    int (*access)(const char *, int);
    int (*faccessat)(int, const char *, int, int);
} real;

#define LOAD(name) real.name = (__typeof__(real.name))dlsym(RTLD_NEXT, #name)

/* The fake devices: $FCINIT_DEVICE with $FCINIT_SGBRIDGE, then $FCINIT_DEVICE_1 with
 * $FCINIT_SGBRIDGE_1 and so on (one per path of a multipath `fcinit exec`), until one is unset. */
#define MAX_DEVICES SGB_MAX_DEVICES
static struct {
    char path[PATH_MAX];
    char socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int minor;
    int lun;
} devices[MAX_DEVICES];
static int ndevices;
static int debug_enabled;
static atomic_int initialized;

/* Variable `base` of path i: base itself for path 0, base_i after it. */
static const char *path_env(const char *base, int i)
{
    char name[64];
    if (i == 0) return getenv(base);
    snprintf(name, sizeof name, "%s_%d", base, i);
    return getenv(name);
}

static void load_real(void)
{
    LOAD(open); LOAD(open64); LOAD(openat); LOAD(openat64);
    LOAD(__open_2); LOAD(__open64_2); LOAD(__openat_2); LOAD(__openat64_2);
    LOAD(close); LOAD(dup); LOAD(dup2); LOAD(dup3); LOAD(fcntl); LOAD(fcntl64); LOAD(ioctl);
    LOAD(read); LOAD(__read_chk); LOAD(write); LOAD(poll); LOAD(ppoll);
    LOAD(stat); LOAD(stat64); LOAD(lstat); LOAD(lstat64); LOAD(fstat); LOAD(fstat64);
    LOAD(fstatat); LOAD(fstatat64); LOAD(__xstat); LOAD(__xstat64); LOAD(__lxstat);
    LOAD(__lxstat64); LOAD(__fxstat); LOAD(__fxstat64); LOAD(__fxstatat); LOAD(__fxstatat64);
    LOAD(statx); LOAD(access); LOAD(faccessat);

    for (int i = 0; i < MAX_DEVICES; i++) {
        const char *d = path_env(SGB_ENV_DEVICE, i), *s = path_env(SGB_ENV_SOCKET, i), *l = path_env(SGB_ENV_LUN, i);
        if (!d || !*d || strlen(d) >= sizeof devices[i].path) break;
        strcpy(devices[i].path, d);
        if (s && strlen(s) < sizeof devices[i].socket) strcpy(devices[i].socket, s);
        if (!l && i > 0) l = getenv(SGB_ENV_LUN);
        devices[i].lun = l ? atoi(l) : 0;
        /* The sg minor number: the path's trailing digits (/dev/sg-fcinit3 -> 3), made unique. */
        size_t n = strlen(d);
        while (n > 0 && d[n - 1] >= '0' && d[n - 1] <= '9') n--;
        int minor = (int)(strtol(d + n, NULL, 10) & 0xffff);
        for (int j = 0; j < i; j++) if (devices[j].minor == minor) { minor += 0x10000 * i; break; }
        devices[i].minor = minor;
        ndevices = i + 1;
    }
    const char *g = getenv(SGB_ENV_DEBUG);
    debug_enabled = g && *g && strcmp(g, "0") != 0;
    atomic_store(&initialized, 1);
}

__attribute__((constructor)) static void shim_init(void) { load_real(); }

static inline void ensure_init(void)
{
    if (__builtin_expect(!atomic_load_explicit(&initialized, memory_order_acquire), 0)) load_real();
}

#define DBG(...) do { if (debug_enabled) { fprintf(stderr, "[sgshim %d] ", (int)getpid()); fprintf(stderr, __VA_ARGS__); } } while (0)

/* 1 + the index of the fake device named by p, or 0 when p names none. */
static int is_device_path(const char *p)
{
    ensure_init();
    if (!p) return 0;
    for (int i = 0; i < ndevices; i++) if (strcmp(p, devices[i].path) == 0) return i + 1;
    return 0;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ------------------------------------------------------------------ device state */

#define SG_MAXFD 65536
#define MAX_ALIASES 16
#define DEFAULT_TIMEOUT_MS 60000
#define DEFAULT_RESERVED (32 * 1024)
#define MAX_SECTORS_BYTES (4 * 1024 * 1024)
#define SG_TABLESIZE 128
#define MAX_IOVECS 1024
#define DRIVER_SENSE_BIT 0x08

struct sgreq {
    struct sgreq *next;
    uint64_t id;
    int async;
    int done;
    uint8_t opcode;
    sg_io_hdr_t hdr;   /* async: the header as written, results filled in; read() returns it */
    sg_io_hdr_t *out;  /* where results go: the caller's header (SG_IO) or &hdr (async) */
    int64_t start_ns;
    int64_t deadline_ns;
};

struct sgdev {
    pthread_mutex_t mu;    /* everything below except the socket's byte streams */
    pthread_cond_t cv;     /* a reply was handed over, or the reader role is free */
    pthread_mutex_t wmu;   /* one request frame at a time on the socket */
    int sock;              /* the socket (one of fds[]) */
    int index;             /* which of devices[] */
    int fds[MAX_ALIASES];  /* descriptors (dup'ed aliases) that name this device */
    int nfds;
    pid_t pid;
    int access_flags;      /* O_ACCMODE bits as opened, for F_GETFL */
    int nonblock;
    int dead;
    int reader;
    int timeout_user;      /* SG_SET_TIMEOUT, in USER_HZ ticks */
    int reserved_size;
    int command_q;
    int force_pack_id;
    int keep_orphan;
    uint64_t next_id;
    struct sgreq *pending;
    struct sgreq *done_head, *done_tail;
    int ndone;
    int nasync_pending;
};

static struct sgdev *_Atomic fdtab[SG_MAXFD];
static pthread_mutex_t tab_mu = PTHREAD_MUTEX_INITIALIZER;

static inline struct sgdev *dev_of(int fd)
{
    if ((unsigned)fd >= SG_MAXFD) return NULL;
    return atomic_load_explicit(&fdtab[fd], memory_order_acquire);
}

static void free_requests(struct sgdev *d)
{
    struct sgreq *r, *n;
    for (r = d->pending; r; r = n) { n = r->next; if (r->async) free(r); }
    for (r = d->done_head; r; r = n) { n = r->next; free(r); }
    d->pending = d->done_head = d->done_tail = NULL;
    d->ndone = d->nasync_pending = 0;
}

static void init_sync(struct sgdev *d)
{
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    pthread_mutex_init(&d->wmu, NULL);
}

static int connect_bridge(int index, int cloexec)
{
    ensure_init();
    const char *socket_path = devices[index].socket;
    if (!socket_path[0]) { errno = ENXIO; return -1; }
    int s = socket(AF_UNIX, SOCK_STREAM | (cloexec ? SOCK_CLOEXEC : 0), 0);
    if (s < 0) return -1;
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strcpy(a.sun_path, socket_path);
    int rc;
    do rc = connect(s, (struct sockaddr *)&a, sizeof a); while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        DBG("connect %s: %s\n", socket_path, strerror(errno));
        real.close(s);
        errno = ENXIO;
        return -1;
    }
    return s;
}

/* After fork() the child shares the parent's socket; give it a connection of its own. */
static void ensure_owner(struct sgdev *d)
{
    pid_t me = getpid();
    if (__builtin_expect(d->pid == me, 1)) return;
    init_sync(d);
    free_requests(d);
    d->reader = 0;
    d->pid = me;
    int cloexec = (real.fcntl(d->sock, F_GETFD) & FD_CLOEXEC) != 0;
    int s = connect_bridge(d->index, cloexec);
    if (s < 0) { d->dead = 1; return; }
    for (int i = 0; i < d->nfds; i++) real.dup3(s, d->fds[i], cloexec ? O_CLOEXEC : 0);
    real.close(s);
    DBG("fork: reconnected fd %d\n", d->sock);
}

static int fake_open(int index, const char *path, int flags)
{
    int fd = connect_bridge(index, (flags & O_CLOEXEC) != 0);
    if (fd < 0) { DBG("open %s -> %s\n", path, strerror(errno)); return -1; }
    if (fd >= SG_MAXFD) { real.close(fd); errno = EMFILE; return -1; }
    struct sgdev *d = calloc(1, sizeof *d);
    if (!d) { real.close(fd); errno = ENOMEM; return -1; }
    init_sync(d);
    d->sock = fd;
    d->index = index;
    d->fds[0] = fd;
    d->nfds = 1;
    d->pid = getpid();
    d->access_flags = flags & O_ACCMODE;
    d->nonblock = (flags & O_NONBLOCK) != 0;
    d->timeout_user = DEFAULT_TIMEOUT_MS / 10; /* USER_HZ = 100 */
    d->reserved_size = DEFAULT_RESERVED;
    d->command_q = 1;
    d->next_id = 1;
    pthread_mutex_lock(&tab_mu);
    atomic_store_explicit(&fdtab[fd], d, memory_order_release);
    pthread_mutex_unlock(&tab_mu);
    DBG("open %s flags 0x%x -> fd %d\n", path, flags, fd);
    return fd;
}

/* Forget descriptor `fd` (closed or replaced); frees the device with its last descriptor. */
static void release_fd(int fd)
{
    pthread_mutex_lock(&tab_mu);
    struct sgdev *d = dev_of(fd);
    if (!d) { pthread_mutex_unlock(&tab_mu); return; }
    atomic_store_explicit(&fdtab[fd], NULL, memory_order_release);
    for (int i = 0; i < d->nfds; i++)
        if (d->fds[i] == fd) { d->fds[i] = d->fds[--d->nfds]; break; }
    int last = d->nfds == 0;
    if (!last && d->sock == fd) d->sock = d->fds[0];
    pthread_mutex_unlock(&tab_mu);
    if (last) {
        DBG("close fd %d (device released)\n", fd);
        free_requests(d);
        pthread_mutex_destroy(&d->mu);
        pthread_mutex_destroy(&d->wmu);
        pthread_cond_destroy(&d->cv);
        free(d);
    }
}

static int add_alias(struct sgdev *d, int newfd)
{
    if (newfd < 0 || newfd >= SG_MAXFD) return -1;
    pthread_mutex_lock(&tab_mu);
    if (d->nfds >= MAX_ALIASES) { pthread_mutex_unlock(&tab_mu); return -1; }
    d->fds[d->nfds++] = newfd;
    atomic_store_explicit(&fdtab[newfd], d, memory_order_release);
    pthread_mutex_unlock(&tab_mu);
    return 0;
}

/* ------------------------------------------------------------------ socket I/O */

static int send_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        struct msghdr m;
        memset(&m, 0, sizeof m);
        m.msg_iov = iov;
        m.msg_iovlen = (size_t)(n > IOV_MAX ? IOV_MAX : n);
        ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) { struct pollfd p = { fd, POLLOUT, 0 }; real.poll(&p, 1, 1000); continue; }
            return -1;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) { w -= (ssize_t)iov->iov_len; iov++; n--; }
        if (n > 0) { iov->iov_base = (char *)iov->iov_base + w; iov->iov_len -= (size_t)w; }
    }
    return 0;
}

/* Reads exactly n bytes (dst NULL: discards them). 0 ok, -1 closed or failed. */
static int recv_all(int fd, void *dst, size_t n)
{
    char scratch[8192];
    while (n > 0) {
        void *p = dst ? dst : scratch;
        size_t want = dst ? n : (n < sizeof scratch ? n : sizeof scratch);
        ssize_t r = recv(fd, p, want, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) { struct pollfd q = { fd, POLLIN, 0 }; real.poll(&q, 1, 1000); continue; }
            return -1;
        }
        if (r == 0) return -1;
        n -= (size_t)r;
        if (dst) dst = (char *)dst + r;
    }
    return 0;
}

/* Reads up to n bytes into a scatter list; returns the bytes placed, -1 on failure. */
static int64_t recv_iov(int fd, const sg_iovec_t *iov, int count, size_t n)
{
    int64_t placed = 0;
    for (int i = 0; i < count && n > 0; i++) {
        size_t c = iov[i].iov_len < n ? iov[i].iov_len : n;
        if (c && recv_all(fd, iov[i].iov_base, c) < 0) return -1;
        n -= c;
        placed += (int64_t)c;
    }
    return placed;
}

/* ------------------------------------------------------------------ completion */

static int sg_direction(const sg_io_hdr_t *h)
{
    if (h->dxfer_len == 0) return SGB_DIR_NONE;
    switch (h->dxfer_direction) {
    case SG_DXFER_TO_DEV: return SGB_DIR_TO_DEVICE;
    case SG_DXFER_FROM_DEV: case SG_DXFER_TO_FROM_DEV: return SGB_DIR_FROM_DEVICE;
    default: return SGB_DIR_NONE;
    }
}

/* Removes r from the pending list. Caller holds d->mu. */
static void unlink_pending(struct sgdev *d, struct sgreq *r)
{
    for (struct sgreq **pp = &d->pending; *pp; pp = &(*pp)->next)
        if (*pp == r) { *pp = r->next; r->next = NULL; if (r->async) d->nasync_pending--; return; }
}

/* Fills in the results and hands r over (to the done queue, or to its waiting SG_IO caller).
 * Caller holds d->mu; r is pending. */
static void complete(struct sgdev *d, struct sgreq *r, int status, int host, int driver, int32_t residual,
                     uint32_t data_in, const uint8_t *sense, int sense_len)
{
    sg_io_hdr_t *h = r->out;
    unlink_pending(d, r);
    int dir = sg_direction(h);
    int64_t resid = residual < 0 ? 0 : residual;
    if (dir == SGB_DIR_FROM_DEVICE && (int64_t)h->dxfer_len - data_in > resid) resid = (int64_t)h->dxfer_len - data_in;
    if (dir == SGB_DIR_NONE || resid < 0) resid = 0;
    if (resid > h->dxfer_len) resid = h->dxfer_len;
    h->status = (unsigned char)status;
    h->masked_status = (unsigned char)((status >> 1) & 0x7f);
    h->msg_status = 0;
    h->host_status = (unsigned short)host;
    h->driver_status = (unsigned short)(driver | (sense_len > 0 ? DRIVER_SENSE_BIT : 0));
    h->sb_len_wr = 0;
    if (sense_len > 0 && h->sbp && h->mx_sb_len > 0) {
        int n = sense_len < h->mx_sb_len ? sense_len : h->mx_sb_len;
        memcpy(h->sbp, sense, (size_t)n);
        h->sb_len_wr = (unsigned char)n;
    }
    h->resid = (int)resid;
    h->duration = (unsigned int)((now_ns() - r->start_ns) / 1000000);
    h->info = (h->masked_status || h->host_status || h->driver_status) ? SG_INFO_CHECK : SG_INFO_OK;
    DBG("done id %llu op 0x%02x: status 0x%02x host %d driver 0x%x resid %d sense %d\n",
        (unsigned long long)r->id, r->opcode, status, host, h->driver_status,
        h->resid, sense_len);
    r->done = 1;
    if (r->async) {
        if (d->done_tail) d->done_tail->next = r; else d->done_head = r;
        d->done_tail = r;
        d->ndone++;
    }
}

static void fail_all(struct sgdev *d, int host)
{
    while (d->pending) complete(d, d->pending, 0, host, 0, 0, 0, NULL, 0);
}

static void expire(struct sgdev *d, int64_t now)
{
    struct sgreq *r = d->pending, *n;
    for (; r; r = n) {
        n = r->next;
        if (r->deadline_ns && now >= r->deadline_ns) {
            DBG("id %llu timed out\n", (unsigned long long)r->id);
            complete(d, r, 0, SGB_DID_TIME_OUT, 0, 0, 0, NULL, 0);
        }
    }
}

static struct sgreq *find_pending(struct sgdev *d, uint64_t id)
{
    for (struct sgreq *r = d->pending; r; r = r->next) if (r->id == id) return r;
    return NULL;
}

/* Receives one reply frame. Runs as the reader, without d->mu. 1 done, -1 connection lost. */
static int recv_reply(struct sgdev *d)
{
    struct sgb_reply_header h;
    uint8_t sense[SGB_MAX_SENSE_LENGTH];
    if (recv_all(d->sock, &h, sizeof h) < 0) return -1;
    uint32_t magic = le32toh(h.magic), din = le32toh(h.data_in_length);
    uint64_t id = le64toh(h.id);
    if (magic != SGB_REPLY_MAGIC || le16toh(h.version) != SGB_PROTOCOL_VERSION
        || h.sense_length > SGB_MAX_SENSE_LENGTH || din > SGB_MAX_TRANSFER) {
        fprintf(stderr, "fcinit-sgshim: protocol error from the SG bridge (magic 0x%08x version %u)\n",
                magic, le16toh(h.version));
        return -1;
    }
    if (h.sense_length && recv_all(d->sock, sense, h.sense_length) < 0) return -1;
    pthread_mutex_lock(&d->mu);
    struct sgreq *r = find_pending(d, id);
    pthread_mutex_unlock(&d->mu);
    /* r stays pending until we complete it: only the reader completes requests. */
    uint32_t used = 0;
    if (r && din) {
        sg_io_hdr_t *o = r->out;
        uint32_t cap = sg_direction(o) == SGB_DIR_FROM_DEVICE ? o->dxfer_len : 0;
        used = din < cap ? din : cap;
        if (o->iovec_count > 0) {
            int64_t placed = recv_iov(d->sock, o->dxferp, o->iovec_count, used);
            if (placed < 0) return -1;
            used = (uint32_t)placed;
        } else if (recv_all(d->sock, o->dxferp, used) < 0) {
            return -1;
        }
    }
    if (din > used && recv_all(d->sock, NULL, din - used) < 0) return -1;
    pthread_mutex_lock(&d->mu);
    if (r) complete(d, r, h.status, le16toh(h.host_status), le16toh(h.driver_status),
                    (int32_t)le32toh((uint32_t)h.residual), used, sense, h.sense_length);
    else DBG("reply for unknown id %llu dropped\n", (unsigned long long)id);
    pthread_mutex_unlock(&d->mu);
    return 1;
}

/* Takes the reader role for one wait of at most wait_ms (-1: until the nearest deadline) and
 * receives at most one reply. Called and returns with d->mu held and d->reader clear. */
static void pump(struct sgdev *d, int wait_ms)
{
    if (d->dead) { fail_all(d, SGB_DID_NO_CONNECT); return; }
    int64_t now = now_ns(), nearest = 0;
    for (struct sgreq *r = d->pending; r; r = r->next)
        if (r->deadline_ns && (!nearest || r->deadline_ns < nearest)) nearest = r->deadline_ns;
    if (nearest) {
        int64_t ms = (nearest - now + 999999) / 1000000;
        if (ms < 0) ms = 0;
        if (wait_ms < 0 || ms < wait_ms) wait_ms = ms > INT_MAX ? INT_MAX : (int)ms;
    }
    d->reader = 1;
    pthread_mutex_unlock(&d->mu);
    struct pollfd p = { d->sock, POLLIN, 0 };
    int rc = real.poll(&p, 1, wait_ms);
    if (rc < 0 && errno == EINTR) rc = 0;
    if (rc > 0) rc = (p.revents & POLLNVAL) ? -1 : recv_reply(d);
    pthread_mutex_lock(&d->mu);
    if (rc < 0) {
        DBG("bridge connection lost on fd %d\n", d->sock);
        d->dead = 1;
        fail_all(d, SGB_DID_NO_CONNECT);
    }
    expire(d, now_ns());
    d->reader = 0;
    pthread_cond_broadcast(&d->cv);
}

/* ------------------------------------------------------------------ submission */

static int validate(const sg_io_hdr_t *h)
{
    if (h->interface_id != 'S') return EINVAL; /* sg v4 ('Q') is not offered: SG_GET_VERSION_NUM < 40000 */
    if (!h->cmdp || h->cmd_len < 1) return EINVAL; /* cmd_len is a byte: always <= SGB_MAX_CDB_LENGTH */
    if (h->dxfer_len > SGB_MAX_TRANSFER) return ENOMEM;
    if (sg_direction(h) != SGB_DIR_NONE && !h->dxferp) return EFAULT;
    if (h->iovec_count > MAX_IOVECS) return EINVAL;
    return 0;
}

/* Sends r's request frame. Caller does not hold d->mu. 0 ok; -1 the connection is unusable. */
static int send_request(struct sgdev *d, struct sgreq *r)
{
    const sg_io_hdr_t *h = r->out;
    struct { struct sgb_request_header h; uint8_t cdb[SGB_MAX_CDB_LENGTH]; } f;
    int dir = sg_direction(h);
    memset(&f.h, 0, sizeof f.h);
    f.h.magic = htole32(SGB_REQUEST_MAGIC);
    f.h.version = htole16(SGB_PROTOCOL_VERSION);
    f.h.cdb_length = htole16(h->cmd_len);
    f.h.id = htole64(r->id);
    f.h.direction = (uint8_t)dir;
    f.h.timeout_ms = htole32(h->timeout);
    uint32_t len = dir == SGB_DIR_NONE ? 0 : h->dxfer_len;
    struct iovec stack_iov[17], *iov = stack_iov;
    int n = 0;
    if (dir == SGB_DIR_TO_DEVICE && h->iovec_count > 0) {
        const sg_iovec_t *sv = h->dxferp;
        uint64_t total = 0;
        for (int i = 0; i < h->iovec_count; i++) total += sv[i].iov_len;
        if (total < len) len = (uint32_t)total;
        if (h->iovec_count + 1 > (int)(sizeof stack_iov / sizeof stack_iov[0])) {
            iov = malloc(sizeof *iov * (size_t)(h->iovec_count + 1));
            if (!iov) return -2;
        }
    }
    f.h.transfer_length = htole32(len);
    memcpy(f.cdb, h->cmdp, h->cmd_len);
    iov[n].iov_base = &f;
    iov[n++].iov_len = sizeof f.h + h->cmd_len;
    if (dir == SGB_DIR_TO_DEVICE && len) {
        if (h->iovec_count > 0) {
            const sg_iovec_t *sv = h->dxferp;
            uint32_t left = len;
            for (int i = 0; i < h->iovec_count && left; i++) {
                size_t c = sv[i].iov_len < left ? sv[i].iov_len : left;
                iov[n].iov_base = sv[i].iov_base;
                iov[n++].iov_len = c;
                left -= (uint32_t)c;
            }
        } else {
            iov[n].iov_base = h->dxferp;
            iov[n++].iov_len = len;
        }
    }
    pthread_mutex_lock(&d->wmu);
    int rc = send_all(d->sock, iov, n);
    pthread_mutex_unlock(&d->wmu);
    if (iov != stack_iov) free(iov);
    return rc;
}

/* Registers and sends r. Returns with r pending or already completed (dead bridge). */
static void submit(struct sgdev *d, struct sgreq *r)
{
    sg_io_hdr_t *h = r->out;
    r->start_ns = now_ns();
    r->opcode = ((const uint8_t *)h->cmdp)[0];
    unsigned int t = h->timeout ? h->timeout : DEFAULT_TIMEOUT_MS;
    r->deadline_ns = r->start_ns + (int64_t)t * 1000000;
    pthread_mutex_lock(&d->mu);
    r->id = d->next_id++;
    r->done = 0;
    r->next = d->pending;
    d->pending = r;
    if (r->async) d->nasync_pending++;
    if (d->dead) {
        complete(d, r, 0, SGB_DID_NO_CONNECT, 0, 0, 0, NULL, 0);
        pthread_mutex_unlock(&d->mu);
        return;
    }
    pthread_mutex_unlock(&d->mu);
    DBG("submit id %llu op 0x%02x len %u dir %d%s\n", (unsigned long long)r->id,
        r->opcode, h->dxfer_len, h->dxfer_direction, r->async ? " async" : "");
    int rc = send_request(d, r);
    if (rc == -2) { /* out of memory before anything was sent */
        pthread_mutex_lock(&d->mu);
        complete(d, r, 0, SGB_DID_ERROR, 0, 0, 0, NULL, 0);
        pthread_mutex_unlock(&d->mu);
    } else if (rc < 0) {
        /* The stream may hold half a frame: end it; the reader fails what is outstanding. */
        DBG("send failed: %s\n", strerror(errno));
        shutdown(d->sock, SHUT_RDWR);
    }
}

static int do_sg_io(struct sgdev *d, sg_io_hdr_t *h)
{
    int e = validate(h);
    if (e) { errno = e; return -1; }
    ensure_owner(d);
    struct sgreq r;
    memset(&r, 0, sizeof r);
    r.out = h;
    submit(d, &r);
    pthread_mutex_lock(&d->mu);
    while (!r.done) {
        if (d->reader) pthread_cond_wait(&d->cv, &d->mu);
        else pump(d, -1);
    }
    pthread_mutex_unlock(&d->mu);
    return 0;
}

static ssize_t do_write(struct sgdev *d, const void *buf, size_t count)
{
    if (count < sizeof(sg_io_hdr_t)) { errno = EINVAL; return -1; } /* the sg v2 interface is not offered */
    struct sgreq *r = calloc(1, sizeof *r);
    if (!r) { errno = ENOMEM; return -1; }
    memcpy(&r->hdr, buf, sizeof r->hdr);
    int e = validate(&r->hdr);
    if (e) { free(r); errno = e; return -1; }
    ensure_owner(d);
    r->out = &r->hdr;
    r->async = 1;
    submit(d, r);
    return (ssize_t)count;
}

/* Takes the first completed request (with pack_id `want` unless it is -1). Holds d->mu. */
static struct sgreq *take_done(struct sgdev *d, int want)
{
    struct sgreq **pp = &d->done_head, *prev = NULL;
    for (; *pp; prev = *pp, pp = &(*pp)->next) {
        struct sgreq *r = *pp;
        if (want != -1 && r->hdr.pack_id != want) continue;
        *pp = r->next;
        if (d->done_tail == r) d->done_tail = prev;
        d->ndone--;
        return r;
    }
    return NULL;
}

static ssize_t do_read(struct sgdev *d, void *buf, size_t count)
{
    if (count < sizeof(sg_io_hdr_t)) { errno = EINVAL; return -1; }
    ensure_owner(d);
    int want = -1;
    pthread_mutex_lock(&d->mu);
    if (d->force_pack_id) want = ((const sg_io_hdr_t *)buf)->pack_id;
    for (;;) {
        struct sgreq *r = take_done(d, want);
        if (r) {
            pthread_mutex_unlock(&d->mu);
            memcpy(buf, &r->hdr, sizeof r->hdr);
            free(r);
            return (ssize_t)sizeof(sg_io_hdr_t);
        }
        if (d->nasync_pending == 0) { /* nothing could ever arrive: say so rather than hang */
            pthread_mutex_unlock(&d->mu);
            errno = EAGAIN;
            return -1;
        }
        if (d->nonblock) {
            if (d->reader) break;
            pump(d, 0);
            if (!(r = take_done(d, want))) break;
            pthread_mutex_unlock(&d->mu);
            memcpy(buf, &r->hdr, sizeof r->hdr);
            free(r);
            return (ssize_t)sizeof(sg_io_hdr_t);
        }
        if (d->reader) pthread_cond_wait(&d->cv, &d->mu);
        else pump(d, -1);
    }
    pthread_mutex_unlock(&d->mu);
    errno = EAGAIN;
    return -1;
}

/* SCSI_IOCTL_SEND_COMMAND: the old interface some tools still use. */
struct scsi_send_command { unsigned int inlen, outlen; unsigned char data[]; };

static int cdb_size(uint8_t op)
{
    static const int sizes[8] = { 6, 10, 10, 12, 16, 12, 10, 10 };
    return sizes[(op >> 5) & 7];
}

static int do_send_command(struct sgdev *d, struct scsi_send_command *sc)
{
    if (!sc) { errno = EINVAL; return -1; }
    int clen = cdb_size(sc->data[0]);
    sg_io_hdr_t h;
    uint8_t sense[32];
    memset(&h, 0, sizeof h);
    h.interface_id = 'S';
    h.cmdp = sc->data;
    h.cmd_len = (unsigned char)clen;
    h.sbp = sense;
    h.mx_sb_len = sizeof sense;
    h.timeout = DEFAULT_TIMEOUT_MS;
    unsigned int n = sc->inlen > sc->outlen ? sc->inlen : sc->outlen;
    uint8_t *buf = n ? malloc(n) : NULL;
    if (n && !buf) { errno = ENOMEM; return -1; }
    if (sc->inlen) {
        memcpy(buf, sc->data + clen, sc->inlen);
        h.dxfer_direction = SG_DXFER_TO_DEV;
        h.dxfer_len = sc->inlen;
    } else if (sc->outlen) {
        h.dxfer_direction = SG_DXFER_FROM_DEV;
        h.dxfer_len = sc->outlen;
    } else {
        h.dxfer_direction = SG_DXFER_NONE;
    }
    h.dxferp = buf;
    int rc = do_sg_io(d, &h);
    if (rc == 0) {
        if (h.status || h.host_status) {
            if (h.sb_len_wr) memcpy(sc->data, sense, h.sb_len_wr < 16 ? h.sb_len_wr : 16);
            rc = h.status | (h.host_status << 16);
        } else if (sc->outlen) {
            memcpy(sc->data, buf, sc->outlen - (h.resid > 0 ? (unsigned)h.resid : 0));
        }
    }
    free(buf);
    return rc;
}

static int do_ioctl(struct sgdev *d, unsigned long req, void *arg)
{
    int *ip = arg, v;
    DBG("ioctl fd %d 0x%lx\n", d->sock, req);
#define NEED_ARG do { if (!arg) { errno = EFAULT; return -1; } } while (0)
    switch (req) {
    case SG_IO: NEED_ARG; return do_sg_io(d, arg);
    case SG_GET_VERSION_NUM: NEED_ARG; *ip = 30536; return 0;
    case SG_GET_TIMEOUT: return d->timeout_user;
    case SG_SET_TIMEOUT: NEED_ARG; if (*ip < 0) { errno = EIO; return -1; } d->timeout_user = *ip; return 0;
    case SG_GET_RESERVED_SIZE: NEED_ARG; *ip = d->reserved_size; return 0;
    case SG_SET_RESERVED_SIZE:
        NEED_ARG; v = *ip;
        if (v < 0) { errno = EINVAL; return -1; }
        d->reserved_size = v > MAX_SECTORS_BYTES ? MAX_SECTORS_BYTES : v;
        return 0;
    case SG_GET_SCSI_ID: {
        NEED_ARG;
        struct sg_scsi_id *id = arg;
        memset(id, 0, sizeof *id);
        id->host_no = 0;
        id->channel = 0;
        id->scsi_id = devices[d->index].minor;
        id->lun = devices[d->index].lun;
        id->scsi_type = 0; /* TYPE_DISK */
        id->h_cmd_per_lun = 64;
        id->d_queue_depth = 64;
        return 0;
    }
    case SG_EMULATED_HOST: NEED_ARG; *ip = 0; return 0;
    case SG_GET_SG_TABLESIZE: NEED_ARG; *ip = SG_TABLESIZE; return 0;
    case SG_SET_COMMAND_Q: NEED_ARG; d->command_q = *ip ? 1 : 0; return 0;
    case SG_GET_COMMAND_Q: NEED_ARG; *ip = d->command_q; return 0;
    case SG_SET_FORCE_PACK_ID: NEED_ARG; d->force_pack_id = *ip ? 1 : 0; return 0;
    case SG_GET_PACK_ID:
        NEED_ARG;
        pthread_mutex_lock(&d->mu);
        *ip = d->done_head ? d->done_head->hdr.pack_id : -1;
        pthread_mutex_unlock(&d->mu);
        return 0;
    case SG_GET_NUM_WAITING:
        NEED_ARG;
        pthread_mutex_lock(&d->mu);
        *ip = d->ndone;
        pthread_mutex_unlock(&d->mu);
        return 0;
    case SG_SET_KEEP_ORPHAN: NEED_ARG; d->keep_orphan = *ip; return 0;
    case SG_GET_KEEP_ORPHAN: NEED_ARG; *ip = d->keep_orphan; return 0;
    case SG_GET_LOW_DMA: NEED_ARG; *ip = 0; return 0;
    case SG_GET_ACCESS_COUNT: NEED_ARG; *ip = 1; return 0;
    case SG_SET_DEBUG: case SG_NEXT_CMD_LEN: return 0;
    case SG_SCSI_RESET: return 0;
    case SG_GET_REQUEST_TABLE: NEED_ARG; memset(arg, 0, sizeof(sg_req_info_t) * SG_MAX_QUEUE); return 0;
    case BLKSECTGET: NEED_ARG; *ip = MAX_SECTORS_BYTES; return 0;
    case SCSI_IOCTL_GET_IDLUN: {
        NEED_ARG;
        int l = devices[d->index].lun;
        ip[0] = (devices[d->index].minor & 0xff) | ((l & 0xff) << 8); /* id | lun << 8 | channel << 16 | host << 24 */
        ip[1] = 0;
        return 0;
    }
    case SCSI_IOCTL_GET_BUS_NUMBER: NEED_ARG; *ip = 0; return 0;
    case SCSI_IOCTL_SEND_COMMAND: return do_send_command(d, arg);
    default:
        DBG("ioctl 0x%lx not supported\n", req);
        errno = ENOTTY;
        return -1;
    }
#undef NEED_ARG
}

/* ------------------------------------------------------------------ stat */

static void fill_stat(struct stat *st, int index)
{
    int device_minor = devices[index].minor;
    memset(st, 0, sizeof *st);
    st->st_dev = makedev(0, 5);
    st->st_ino = 0x5c510000u + (unsigned)device_minor;
    st->st_mode = S_IFCHR | 0660;
    st->st_nlink = 1;
    st->st_uid = getuid();
    st->st_gid = getgid();
    st->st_rdev = makedev(SCSI_GENERIC_MAJOR, device_minor);
    st->st_blksize = 4096;
}

static void fill_statx(struct statx *sx, int index)
{
    int device_minor = devices[index].minor;
    struct stat st;
    fill_stat(&st, index);
    memset(sx, 0, sizeof *sx);
    sx->stx_mask = STATX_BASIC_STATS;
    sx->stx_blksize = (uint32_t)st.st_blksize;
    sx->stx_nlink = 1;
    sx->stx_uid = st.st_uid;
    sx->stx_gid = st.st_gid;
    sx->stx_mode = (uint16_t)st.st_mode;
    sx->stx_ino = st.st_ino;
    sx->stx_rdev_major = SCSI_GENERIC_MAJOR;
    sx->stx_rdev_minor = (uint32_t)device_minor;
    sx->stx_dev_major = 0;
    sx->stx_dev_minor = 5;
}

static int fake_at(int dirfd, const char *path, int flags)
{
    if (path && path[0] == '\0' && (flags & AT_EMPTY_PATH)) { struct sgdev *d = dev_of(dirfd); return d ? d->index + 1 : 0; }
    (void)dirfd;
    return is_device_path(path);
}

EXPORT int stat(const char *p, struct stat *st) { int k = is_device_path(p); if (k) { fill_stat(st, k - 1); return 0; } return real.stat(p, st); }
EXPORT int stat64(const char *p, struct stat64 *st) { int k = is_device_path(p); if (k) { fill_stat((struct stat *)st, k - 1); return 0; } return real.stat64(p, st); }
EXPORT int lstat(const char *p, struct stat *st) { int k = is_device_path(p); if (k) { fill_stat(st, k - 1); return 0; } return real.lstat(p, st); }
EXPORT int lstat64(const char *p, struct stat64 *st) { int k = is_device_path(p); if (k) { fill_stat((struct stat *)st, k - 1); return 0; } return real.lstat64(p, st); }
EXPORT int fstat(int fd, struct stat *st) { ensure_init(); struct sgdev *d = dev_of(fd); if (d) { fill_stat(st, d->index); return 0; } return real.fstat(fd, st); }
EXPORT int fstat64(int fd, struct stat64 *st) { ensure_init(); struct sgdev *d = dev_of(fd); if (d) { fill_stat((struct stat *)st, d->index); return 0; } return real.fstat64(fd, st); }
EXPORT int fstatat(int dfd, const char *p, struct stat *st, int fl) { int k = fake_at(dfd, p, fl); if (k) { fill_stat(st, k - 1); return 0; } return real.fstatat(dfd, p, st, fl); }
EXPORT int fstatat64(int dfd, const char *p, struct stat64 *st, int fl) { int k = fake_at(dfd, p, fl); if (k) { fill_stat((struct stat *)st, k - 1); return 0; } return real.fstatat64(dfd, p, st, fl); }
EXPORT int __xstat(int v, const char *p, struct stat *st) { int k = is_device_path(p); if (k) { fill_stat(st, k - 1); return 0; } return real.__xstat(v, p, st); }
EXPORT int __xstat64(int v, const char *p, struct stat64 *st) { int k = is_device_path(p); if (k) { fill_stat((struct stat *)st, k - 1); return 0; } return real.__xstat64(v, p, st); }
EXPORT int __lxstat(int v, const char *p, struct stat *st) { int k = is_device_path(p); if (k) { fill_stat(st, k - 1); return 0; } return real.__lxstat(v, p, st); }
EXPORT int __lxstat64(int v, const char *p, struct stat64 *st) { int k = is_device_path(p); if (k) { fill_stat((struct stat *)st, k - 1); return 0; } return real.__lxstat64(v, p, st); }
EXPORT int __fxstat(int v, int fd, struct stat *st) { ensure_init(); struct sgdev *d = dev_of(fd); if (d) { fill_stat(st, d->index); return 0; } return real.__fxstat(v, fd, st); }
EXPORT int __fxstat64(int v, int fd, struct stat64 *st) { ensure_init(); struct sgdev *d = dev_of(fd); if (d) { fill_stat((struct stat *)st, d->index); return 0; } return real.__fxstat64(v, fd, st); }
EXPORT int __fxstatat(int v, int dfd, const char *p, struct stat *st, int fl) { int k = fake_at(dfd, p, fl); if (k) { fill_stat(st, k - 1); return 0; } return real.__fxstatat(v, dfd, p, st, fl); }
EXPORT int __fxstatat64(int v, int dfd, const char *p, struct stat64 *st, int fl) { int k = fake_at(dfd, p, fl); if (k) { fill_stat((struct stat *)st, k - 1); return 0; } return real.__fxstatat64(v, dfd, p, st, fl); }
EXPORT int statx(int dfd, const char *p, int fl, unsigned int mask, struct statx *sx)
{
    int k = fake_at(dfd, p, fl);
    if (k) { fill_statx(sx, k - 1); return 0; }
    return real.statx(dfd, p, fl, mask, sx);
}
EXPORT int access(const char *p, int mode) { if (is_device_path(p)) return 0; return real.access(p, mode); }
EXPORT int faccessat(int dfd, const char *p, int mode, int fl) { if (is_device_path(p)) return 0; return real.faccessat(dfd, p, mode, fl); }

/* ------------------------------------------------------------------ open / close / dup */

#define OPEN_MODE(flags, mode) \
    mode_t mode = 0; \
    if ((flags) & (O_CREAT | __O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = (mode_t)va_arg(ap, int); va_end(ap); }

EXPORT int open(const char *p, int flags, ...)
{
    OPEN_MODE(flags, m);
    { int k = is_device_path(p); if (k) return fake_open(k - 1, p, flags); }
    return real.open(p, flags, m);
}
EXPORT int open64(const char *p, int flags, ...)
{
    OPEN_MODE(flags, m);
    { int k = is_device_path(p); if (k) return fake_open(k - 1, p, flags); }
    return real.open64(p, flags, m);
}
EXPORT int openat(int dfd, const char *p, int flags, ...)
{
    OPEN_MODE(flags, m);
    { int k = is_device_path(p); if (k) return fake_open(k - 1, p, flags); }
    return real.openat(dfd, p, flags, m);
}
EXPORT int openat64(int dfd, const char *p, int flags, ...)
{
    OPEN_MODE(flags, m);
    { int k = is_device_path(p); if (k) return fake_open(k - 1, p, flags); }
    return real.openat64(dfd, p, flags, m);
}
EXPORT int __open_2(const char *p, int flags) { { int k = is_device_path(p); if (k) return fake_open(k - 1, p, flags); } return real.__open_2(p, flags); }
EXPORT int __open64_2(const char *p, int flags) { { int k = is_device_path(p); if (k) return fake_open(k - 1, p, flags); } return real.__open64_2(p, flags); }
EXPORT int __openat_2(int dfd, const char *p, int flags) { { int k = is_device_path(p); if (k) return fake_open(k - 1, p, flags); } return real.__openat_2(dfd, p, flags); }
EXPORT int __openat64_2(int dfd, const char *p, int flags) { { int k = is_device_path(p); if (k) return fake_open(k - 1, p, flags); } return real.__openat64_2(dfd, p, flags); }

EXPORT int close(int fd)
{
    ensure_init();
    if (dev_of(fd)) release_fd(fd);
    return real.close(fd);
}

EXPORT int dup(int fd)
{
    ensure_init();
    struct sgdev *d = dev_of(fd);
    int n = real.dup(fd);
    if (d && n >= 0 && add_alias(d, n) < 0) { real.close(n); errno = EMFILE; return -1; }
    return n;
}

static int dup_into(int oldfd, int newfd, int flags, int three)
{
    ensure_init();
    struct sgdev *d = dev_of(oldfd);
    if (oldfd == newfd && !three) return real.dup2(oldfd, newfd);
    int had = dev_of(newfd) != NULL;
    int n = three ? real.dup3(oldfd, newfd, flags) : real.dup2(oldfd, newfd);
    if (n < 0) return n;
    if (had) release_fd(newfd);
    if (d && add_alias(d, n) < 0) { real.close(n); errno = EMFILE; return -1; }
    return n;
}
EXPORT int dup2(int oldfd, int newfd) { return dup_into(oldfd, newfd, 0, 0); }
EXPORT int dup3(int oldfd, int newfd, int flags) { return dup_into(oldfd, newfd, flags, 1); }

static int do_fcntl(int (*fn)(int, int, ...), int fd, int cmd, void *arg)
{
    struct sgdev *d = dev_of(fd);
    if (!d) return fn(fd, cmd, arg);
    switch (cmd) {
    case F_GETFL:
        return d->access_flags | (d->nonblock ? O_NONBLOCK : 0);
    case F_SETFL:
        d->nonblock = ((long)arg & O_NONBLOCK) != 0; /* the socket itself stays blocking */
        return 0;
    case F_DUPFD: case F_DUPFD_CLOEXEC: {
        int n = fn(fd, cmd, arg);
        if (n >= 0 && add_alias(d, n) < 0) { real.close(n); errno = EMFILE; return -1; }
        return n;
    }
    default:
        return fn(fd, cmd, arg);
    }
}

EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap; va_start(ap, cmd); void *arg = va_arg(ap, void *); va_end(ap);
    ensure_init();
    return do_fcntl(real.fcntl, fd, cmd, arg);
}
EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap; va_start(ap, cmd); void *arg = va_arg(ap, void *); va_end(ap);
    ensure_init();
    return do_fcntl(real.fcntl64 ? real.fcntl64 : real.fcntl, fd, cmd, arg);
}

/* ------------------------------------------------------------------ ioctl / read / write */

EXPORT int ioctl(int fd, unsigned long req, ...)
{
    va_list ap; va_start(ap, req); void *arg = va_arg(ap, void *); va_end(ap);
    ensure_init();
    struct sgdev *d = dev_of(fd);
    if (!d) return real.ioctl(fd, req, arg);
    return do_ioctl(d, req, arg);
}

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    ensure_init();
    struct sgdev *d = dev_of(fd);
    if (!d) return real.read(fd, buf, n);
    return do_read(d, buf, n);
}

EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    ensure_init();
    struct sgdev *d = dev_of(fd);
    if (!d) return real.__read_chk(fd, buf, n, buflen);
    if (n > buflen) abort();
    return do_read(d, buf, n);
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    ensure_init();
    struct sgdev *d = dev_of(fd);
    if (!d) return real.write(fd, buf, n);
    return do_write(d, buf, n);
}

/* ------------------------------------------------------------------ poll */

/* POLLIN while completed commands wait to be read, POLLOUT always, POLLHUP once the bridge is
 * gone and nothing is left to read. Holds no lock. */
static short fake_revents(struct sgdev *d, short events)
{
    short rev = POLLOUT | POLLWRNORM;
    pthread_mutex_lock(&d->mu);
    if (d->ndone > 0) rev |= POLLIN | POLLRDNORM;
    else if (d->dead && d->nasync_pending == 0) rev |= POLLHUP;
    pthread_mutex_unlock(&d->mu);
    return (short)(rev & (events | POLLHUP | POLLERR));
}

/* The earliest deadline of d's pending commands (0: none). Holds no lock. */
static int64_t nearest_deadline(struct sgdev *d)
{
    int64_t nearest = 0;
    pthread_mutex_lock(&d->mu);
    for (struct sgreq *r = d->pending; r; r = r->next)
        if (r->deadline_ns && (!nearest || r->deadline_ns < nearest)) nearest = r->deadline_ns;
    pthread_mutex_unlock(&d->mu);
    return nearest;
}

static int poll_core(struct pollfd *fds, nfds_t n, int64_t timeout_ns, const sigset_t *sigmask, int use_ppoll)
{
    struct pollfd stack[64], *tmp = n <= 64 ? stack : malloc(sizeof *tmp * n);
    if (!tmp) { errno = ENOMEM; return -1; }
    int64_t deadline = timeout_ns < 0 ? -1 : now_ns() + timeout_ns;
    int result;
    for (;;) {
        int ready = 0;
        int64_t expiry = 0; /* the nearest command deadline: a command that times out completes */
        for (nfds_t i = 0; i < n; i++) {
            tmp[i] = fds[i];
            tmp[i].revents = 0;
            struct sgdev *d = dev_of(fds[i].fd);
            if (!d) continue;
            ensure_owner(d);
            short rev = fake_revents(d, fds[i].events);
            if (rev) { ready = 1; tmp[i].fd = -1; tmp[i].revents = rev; continue; }
            tmp[i].events = POLLIN; /* a reply arriving on the socket */
            int64_t e = nearest_deadline(d);
            if (e && (!expiry || e < expiry)) expiry = e;
        }
        int64_t wait_until = deadline;
        if (expiry && (wait_until < 0 || expiry < wait_until)) wait_until = expiry;
        int64_t wait_ns = ready ? 0 : wait_until < 0 ? -1 : wait_until - now_ns();
        if (wait_ns < -1) wait_ns = 0;
        int rc;
        if (use_ppoll) {
            struct timespec ts = { wait_ns / 1000000000, wait_ns % 1000000000 };
            rc = real.ppoll(tmp, n, wait_ns < 0 ? NULL : &ts, sigmask);
        } else {
            rc = real.poll(tmp, n, wait_ns < 0 ? -1 : (int)((wait_ns + 999999) / 1000000));
        }
        if (rc < 0) { result = -1; break; }
        int count = 0, progress = 0;
        int expired = expiry && now_ns() >= expiry;
        for (nfds_t i = 0; i < n; i++) {
            struct sgdev *d = dev_of(fds[i].fd);
            if (d && tmp[i].fd >= 0 && (tmp[i].revents || expired)) {
                /* The socket has something, or a command's deadline passed: receive, expire, and see
                 * whether a command completed. */
                pthread_mutex_lock(&d->mu);
                if (!d->reader) { pump(d, 0); progress = 1; }
                pthread_mutex_unlock(&d->mu);
                tmp[i].revents = fake_revents(d, fds[i].events);
            } else if (d && tmp[i].fd < 0) {
                /* Ready before the wait: the kernel cleared revents of the fd left out (-1). */
                tmp[i].revents = fake_revents(d, fds[i].events);
            }
            fds[i].revents = tmp[i].revents;
            if (fds[i].revents) count++;
        }
        if (count > 0 || (deadline >= 0 && now_ns() >= deadline)) { result = count; break; }
        if (!progress) { struct timespec ts = { 0, 200000 }; nanosleep(&ts, NULL); } /* another thread reads */
    }
    if (tmp != stack) free(tmp);
    return result;
}

static int any_fake(const struct pollfd *fds, nfds_t n)
{
    for (nfds_t i = 0; i < n; i++) if (dev_of(fds[i].fd)) return 1;
    return 0;
}

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    ensure_init();
    if (!any_fake(fds, n)) return real.poll(fds, n, timeout);
    return poll_core(fds, n, timeout < 0 ? -1 : (int64_t)timeout * 1000000, NULL, 0);
}

EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
    if (fdslen / sizeof *fds < n) abort();
    return poll(fds, n, timeout);
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *sigmask)
{
    ensure_init();
    if (!any_fake(fds, n)) return real.ppoll(fds, n, ts, sigmask);
    return poll_core(fds, n, ts ? (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec : -1, sigmask, 1);
}

EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *ss, size_t fdslen)
{
    if (fdslen / sizeof *fds < n) abort();
    return ppoll(fds, n, ts, ss);
}

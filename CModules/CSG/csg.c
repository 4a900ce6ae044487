#define _GNU_SOURCE
#include "CSG.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <scsi/sg.h>

/* glibc's <scsi/sg.h> stops at HOST; the kernel's include/uapi/scsi/sg.h has these. */
#ifndef SG_SCSI_RESET_TARGET
#define SG_SCSI_RESET_TARGET 4
#endif

static int direction_of(int d) {
    switch (d) {
    case STMF_SG_TO_DEVICE: return SG_DXFER_TO_DEV;
    case STMF_SG_FROM_DEVICE: return SG_DXFER_FROM_DEV;
    default: return SG_DXFER_NONE;
    }
}

static void fill(sg_io_hdr_t *h, const uint8_t *cdb, int cdb_length, int direction, void *data, uint32_t data_length,
                 uint8_t *sense, int sense_capacity, uint32_t timeout_ms, int32_t pack_id) {
    memset(h, 0, sizeof *h);
    h->interface_id = 'S';
    h->dxfer_direction = data_length == 0 ? SG_DXFER_NONE : direction_of(direction);
    h->cmd_len = (unsigned char)cdb_length;
    h->mx_sb_len = (unsigned char)(sense_capacity > 255 ? 255 : sense_capacity);
    h->dxfer_len = data_length;
    h->dxferp = data_length == 0 ? NULL : data;
    h->cmdp = (unsigned char *)cdb;
    h->sbp = sense;
    h->timeout = timeout_ms;
    h->pack_id = pack_id;
}

static void result_of(const sg_io_hdr_t *h, stmf_sg_result *out) {
    out->pack_id = h->pack_id;
    out->status = h->status;
    out->sense_length = h->sb_len_wr;
    out->host_status = h->host_status;
    out->driver_status = h->driver_status;
    out->residual = h->resid;
    out->duration_ms = h->duration;
    out->info = h->info;
}

int stmf_sg_submit(int fd, const uint8_t *cdb, int cdb_length, int direction, void *data, uint32_t data_length,
                   uint8_t *sense, int sense_capacity, uint32_t timeout_ms, int32_t pack_id) {
    if (cdb_length < 6 || cdb_length > 255) return -EINVAL;
    sg_io_hdr_t h;
    fill(&h, cdb, cdb_length, direction, data, data_length, sense, sense_capacity, timeout_ms, pack_id);
    ssize_t n = write(fd, &h, sizeof h);
    if (n < 0) return -errno;
    return n == (ssize_t)sizeof h ? 0 : -EIO;
}

int stmf_sg_receive(int fd, stmf_sg_result *out) {
    sg_io_hdr_t h;
    memset(&h, 0, sizeof h);
    h.interface_id = 'S';
    h.pack_id = -1;
    ssize_t n = read(fd, &h, sizeof h);
    if (n < 0) return errno == EAGAIN ? 0 : -errno;
    if (n != (ssize_t)sizeof h) return -EIO;
    result_of(&h, out);
    return 1;
}

int stmf_sg_io(int fd, const uint8_t *cdb, int cdb_length, int direction, void *data, uint32_t data_length,
               uint8_t *sense, int sense_capacity, uint32_t timeout_ms, stmf_sg_result *out) {
    if (cdb_length < 6 || cdb_length > 255) return -EINVAL;
    sg_io_hdr_t h;
    fill(&h, cdb, cdb_length, direction, data, data_length, sense, sense_capacity, timeout_ms, 0);
    if (ioctl(fd, SG_IO, &h) < 0) return -errno;
    result_of(&h, out);
    return 0;
}

int stmf_sg_reset(int fd, int what) {
    int v;
    switch (what) {
    case 1: v = SG_SCSI_RESET_DEVICE; break;
    case 2: v = SG_SCSI_RESET_TARGET; break;
    case 3: v = SG_SCSI_RESET_BUS; break;
    case 4: v = SG_SCSI_RESET_HOST; break;
    default: return -EINVAL;
    }
    return ioctl(fd, SG_SCSI_RESET, &v) < 0 ? -errno : 0;
}

int stmf_sg_max_transfer(int fd) {
    int v = 0;
    if (ioctl(fd, BLKSECTGET, &v) < 0) return -errno;
    return v;
}

int stmf_sg_version(int fd) {
    int v = 0;
    if (ioctl(fd, SG_GET_VERSION_NUM, &v) < 0) return -errno;
    return v;
}

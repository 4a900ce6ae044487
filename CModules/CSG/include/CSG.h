#ifndef STMF_CSG_H
#define STMF_CSG_H
#include <stdint.h>

/// The Linux SCSI generic driver (<scsi/sg.h>, interface v3) as the pass-through LU provider
/// uses it: asynchronous write()/read() of sg_io_hdr on a non-blocking descriptor, served on an
/// event loop, and a blocking SG_IO for the identity queries made when an LU is created.

/// Data direction of a command.
#define STMF_SG_NONE 0
#define STMF_SG_TO_DEVICE 1
#define STMF_SG_FROM_DEVICE 2

/// How the sg driver ended one command (the fields of sg_io_hdr read back).
typedef struct stmf_sg_result {
    int32_t pack_id;
    uint8_t status;         /// SCSI status byte
    uint8_t sense_length;   /// sense bytes written (sb_len_wr)
    uint16_t host_status;   /// DID_* of the host adapter
    uint16_t driver_status; /// DRIVER_* of the mid level
    int32_t residual;       /// resid
    uint32_t duration_ms;
    uint32_t info;          /// SG_INFO_* bits
} stmf_sg_result;

/// Starts a command (write of an sg_io_hdr). `sense` must stay valid until its result is read:
/// the driver writes the sense there when the command ends. Returns 0 or -errno (-EAGAIN: the
/// descriptor's queue is full; -ENODEV: the device is gone).
int stmf_sg_submit(int fd, const uint8_t *cdb, int cdb_length, int direction, void *data, uint32_t data_length,
                   uint8_t *sense, int sense_capacity, uint32_t timeout_ms, int32_t pack_id);

/// Reads one finished command, if one is ready. Returns 1 (one read into `out`), 0 (none
/// ready) or -errno.
int stmf_sg_receive(int fd, stmf_sg_result *out);

/// A blocking SG_IO. Returns 0 or -errno; the outcome is in `out`.
int stmf_sg_io(int fd, const uint8_t *cdb, int cdb_length, int direction, void *data, uint32_t data_length,
               uint8_t *sense, int sense_capacity, uint32_t timeout_ms, stmf_sg_result *out);

/// SG_SCSI_RESET: 1 device (LOGICAL UNIT RESET), 2 target, 3 bus, 4 host. Returns 0 or -errno.
int stmf_sg_reset(int fd, int what);

/// The largest transfer the device's queue takes in one command, in bytes (BLKSECTGET on an sg
/// descriptor), or -errno.
int stmf_sg_max_transfer(int fd);

/// Whether `fd` is an sg device of interface version 3 or later (SG_GET_VERSION_NUM). Returns the
/// version number or -errno.
int stmf_sg_version(int fd);

#endif

/*
 * fcinit SG bridge wire protocol, version 1.
 *
 * The LD_PRELOAD shim (libfcinit-sgshim.so, sgshim.c) makes the path in $FCINIT_DEVICE open as a
 * fake SCSI generic device. Every opened descriptor is a Unix stream socket connected to the
 * bridge at $FCINIT_SGBRIDGE (the Swift `SGBridgeServer`, Sources/SGBridge), and every SCSI
 * command the program issues on it (SG_IO ioctl, or sg v3 asynchronous write()/read()) travels
 * as one request frame; the bridge answers each with one reply frame carrying the same id.
 *
 * The Swift side mirrors these definitions in Sources/SGBridge/SGBridgeProtocol.swift (a test
 * compares the two). Change both together and bump SGB_PROTOCOL_VERSION.
 *
 * All integers are little-endian. Frames follow each other back to back on the stream.
 *
 * Request (shim -> bridge): a 32-byte header, then the CDB, then the data-out bytes.
 *
 *   off size field
 *    0   4   magic            SGB_REQUEST_MAGIC ("SGBQ")
 *    4   2   version          SGB_PROTOCOL_VERSION
 *    6   2   cdb_length       1 ... SGB_MAX_CDB_LENGTH
 *    8   8   id               chosen by the shim, unique among the connection's outstanding
 *                             requests; the reply carries it back
 *   16   1   direction        SGB_DIR_NONE / SGB_DIR_TO_DEVICE / SGB_DIR_FROM_DEVICE
 *   17   1   flags            0 (reserved)
 *   18   2   reserved         0
 *   20   4   timeout_ms       the caller's timeout (0 = none given)
 *   24   4   transfer_length  data-out bytes that follow (TO_DEVICE), or the most data-in
 *                             bytes the caller accepts (FROM_DEVICE); 0 for NONE;
 *                             at most SGB_MAX_TRANSFER
 *   28   4   reserved         0
 *   32   cdb_length bytes     CDB
 *   ..   transfer_length bytes data-out, present only when direction == SGB_DIR_TO_DEVICE
 *
 * Reply (bridge -> shim): a 32-byte header, then the sense bytes, then the data-in bytes.
 *
 *   off size field
 *    0   4   magic            SGB_REPLY_MAGIC ("SGBR")
 *    4   2   version          SGB_PROTOCOL_VERSION
 *    6   1   status           SCSI status byte (GOOD 0x00, CHECK CONDITION 0x02, ...)
 *    7   1   sense_length     0 ... SGB_MAX_SENSE_LENGTH
 *    8   8   id               the request's id
 *   16   2   host_status      Linux DID_* code: DID_OK 0, DID_NO_CONNECT 1, DID_BUS_BUSY 2,
 *                             DID_TIME_OUT 3, DID_BAD_TARGET 4, DID_ABORT 5, DID_ERROR 7, ...
 *   18   2   driver_status    Linux DRIVER_* code, normally 0 (the shim adds DRIVER_SENSE
 *                             itself when sense bytes are present)
 *   20   4   residual         signed: transfer_length minus the bytes actually moved
 *                             (negative on overflow, which the shim reports as 0)
 *   24   4   data_in_length   data-in bytes that follow (0 unless FROM_DEVICE); bytes beyond
 *                             the request's transfer_length are discarded by the shim
 *   28   4   reserved         0
 *   32   sense_length bytes   sense data
 *   ..   data_in_length bytes data-in
 *
 * Replies may come in any order; several requests may be outstanding on one connection.
 * A frame with a bad magic, version or length is a protocol error: the receiver closes the
 * connection. When the connection closes, the shim completes every outstanding command with
 * host_status DID_NO_CONNECT, and commands issued later fail the same way.
 */
#ifndef FCINIT_SGBRIDGE_H
#define FCINIT_SGBRIDGE_H

#include <stdint.h>

#define SGB_PROTOCOL_VERSION 1
#define SGB_REQUEST_MAGIC 0x51424753u /* "SGBQ" */
#define SGB_REPLY_MAGIC 0x52424753u   /* "SGBR" */
#define SGB_REQUEST_HEADER_SIZE 32
#define SGB_REPLY_HEADER_SIZE 32
#define SGB_MAX_CDB_LENGTH 260
#define SGB_MAX_SENSE_LENGTH 252
#define SGB_MAX_TRANSFER (64u * 1024u * 1024u)
#define SGB_MAX_DEVICES 16 /* fake devices (paths) one program can be given */

#define SGB_DIR_NONE 0
#define SGB_DIR_TO_DEVICE 1
#define SGB_DIR_FROM_DEVICE 2

/* host_status values (Linux include/scsi/scsi_status.h). */
#define SGB_DID_OK 0x00
#define SGB_DID_NO_CONNECT 0x01
#define SGB_DID_BUS_BUSY 0x02
#define SGB_DID_TIME_OUT 0x03
#define SGB_DID_BAD_TARGET 0x04
#define SGB_DID_ABORT 0x05
#define SGB_DID_ERROR 0x07
#define SGB_DID_TRANSPORT_DISRUPTED 0x0e

/* The environment variables the shim reads. */
#define SGB_ENV_DEVICE "FCINIT_DEVICE"
#define SGB_ENV_SOCKET "FCINIT_SGBRIDGE"
#define SGB_ENV_DEBUG "FCINIT_SGSHIM_DEBUG"
/* The LUN the device reports in SG_GET_SCSI_ID. Further paths of a multipath `fcinit exec` add
 * _1, _2 ... to FCINIT_DEVICE, FCINIT_SGBRIDGE and FCINIT_LUN. */
#define SGB_ENV_LUN "FCINIT_LUN"

struct sgb_request_header {
    uint32_t magic;
    uint16_t version;
    uint16_t cdb_length;
    uint64_t id;
    uint8_t direction;
    uint8_t flags;
    uint16_t reserved0;
    uint32_t timeout_ms;
    uint32_t transfer_length;
    uint32_t reserved1;
};

struct sgb_reply_header {
    uint32_t magic;
    uint16_t version;
    uint8_t status;
    uint8_t sense_length;
    uint64_t id;
    uint16_t host_status;
    uint16_t driver_status;
    int32_t residual;
    uint32_t data_in_length;
    uint32_t reserved;
};

_Static_assert(sizeof(struct sgb_request_header) == SGB_REQUEST_HEADER_SIZE, "request header layout");
_Static_assert(sizeof(struct sgb_reply_header) == SGB_REPLY_HEADER_SIZE, "reply header layout");

#endif

#ifndef CTCMU_H
#define CTCMU_H

/* The kernel's own description of the TCMU (target_core_user) shared area, for Sources/TCMU.
 *
 * Swift imports the uapi structs, but not their anonymous unions' offsets (MemoryLayout.offset(of:)
 * answers nil for them), nor the flexible arrays, nor macros such as sizeof(__u64). So every offset
 * and constant Swift needs is taken here from the header with offsetof/sizeof: nothing is copied by
 * hand. (The req half of tcmu_cmd_entry is naturally aligned inside the packed struct: cdb_off is
 * at 24 and iov[] at 48, not at the 20 and 44 a hand count of packed fields gives.) */

#include <stddef.h>
#include <stdint.h>
/* target_core_user.h includes <linux/uio.h> for struct iovec, which glibc's <sys/uio.h> also
 * defines (with size_t for __kernel_size_t: the same layout). Swift imports both modules, and
 * clang refuses two definitions of one struct, so glibc's is used and the kernel's is kept out
 * through its include guard. */
#include <sys/uio.h>
#ifndef __LINUX_UIO_H
#define __LINUX_UIO_H
#endif
#include <linux/target_core_user.h>

enum {
    /* struct tcmu_mailbox */
    CTCMU_MAILBOX_SIZE = sizeof(struct tcmu_mailbox),
    CTCMU_MB_VERSION = offsetof(struct tcmu_mailbox, version),
    CTCMU_MB_FLAGS = offsetof(struct tcmu_mailbox, flags),
    CTCMU_MB_CMDR_OFF = offsetof(struct tcmu_mailbox, cmdr_off),
    CTCMU_MB_CMDR_SIZE = offsetof(struct tcmu_mailbox, cmdr_size),
    CTCMU_MB_CMD_HEAD = offsetof(struct tcmu_mailbox, cmd_head),
    CTCMU_MB_CMD_TAIL = offsetof(struct tcmu_mailbox, cmd_tail),

    /* struct tcmu_cmd_entry_hdr (at the start of every entry) */
    CTCMU_HDR_SIZE = sizeof(struct tcmu_cmd_entry_hdr),
    CTCMU_HDR_LEN_OP = offsetof(struct tcmu_cmd_entry_hdr, len_op),
    CTCMU_HDR_CMD_ID = offsetof(struct tcmu_cmd_entry_hdr, cmd_id),
    CTCMU_HDR_KFLAGS = offsetof(struct tcmu_cmd_entry_hdr, kflags),
    CTCMU_HDR_UFLAGS = offsetof(struct tcmu_cmd_entry_hdr, uflags),

    /* struct tcmu_cmd_entry: the request the kernel writes */
    CTCMU_ENTRY_SIZE = sizeof(struct tcmu_cmd_entry),
    CTCMU_REQ_IOV_CNT = offsetof(struct tcmu_cmd_entry, req.iov_cnt),
    CTCMU_REQ_IOV_BIDI_CNT = offsetof(struct tcmu_cmd_entry, req.iov_bidi_cnt),
    CTCMU_REQ_IOV_DIF_CNT = offsetof(struct tcmu_cmd_entry, req.iov_dif_cnt),
    CTCMU_REQ_CDB_OFF = offsetof(struct tcmu_cmd_entry, req.cdb_off),
    CTCMU_REQ_IOV = offsetof(struct tcmu_cmd_entry, req.iov),
    CTCMU_IOVEC_SIZE = sizeof(struct iovec),
    CTCMU_IOVEC_BASE = offsetof(struct iovec, iov_base),
    CTCMU_IOVEC_LEN = offsetof(struct iovec, iov_len),

    /* struct tcmu_cmd_entry: the response userspace writes */
    CTCMU_RSP_SCSI_STATUS = offsetof(struct tcmu_cmd_entry, rsp.scsi_status),
    CTCMU_RSP_PAD1 = offsetof(struct tcmu_cmd_entry, rsp.__pad1),
    CTCMU_RSP_PAD2 = offsetof(struct tcmu_cmd_entry, rsp.__pad2),
    CTCMU_RSP_READ_LEN = offsetof(struct tcmu_cmd_entry, rsp.read_len),
    CTCMU_RSP_SENSE = offsetof(struct tcmu_cmd_entry, rsp.sense_buffer),
    CTCMU_SENSE_BUFFERSIZE = TCMU_SENSE_BUFFERSIZE,

    /* struct tcmu_tmr_entry */
    CTCMU_TMR_SIZE = sizeof(struct tcmu_tmr_entry),
    CTCMU_TMR_TYPE = offsetof(struct tcmu_tmr_entry, tmr_type),
    CTCMU_TMR_CMD_CNT = offsetof(struct tcmu_tmr_entry, cmd_cnt),
    CTCMU_TMR_CMD_IDS = offsetof(struct tcmu_tmr_entry, cmd_ids),

    /* Constants */
    CTCMU_MAILBOX_VERSION = TCMU_MAILBOX_VERSION,
    CTCMU_CAP_OOOC = TCMU_MAILBOX_FLAG_CAP_OOOC,
    CTCMU_CAP_READ_LEN = TCMU_MAILBOX_FLAG_CAP_READ_LEN,
    CTCMU_CAP_TMR = TCMU_MAILBOX_FLAG_CAP_TMR,
    CTCMU_CAP_KEEP_BUF = TCMU_MAILBOX_FLAG_CAP_KEEP_BUF,
    CTCMU_OP_PAD = TCMU_OP_PAD,
    CTCMU_OP_CMD = TCMU_OP_CMD,
    CTCMU_OP_TMR = TCMU_OP_TMR,
    CTCMU_OP_MASK = TCMU_OP_MASK,
    CTCMU_OP_ALIGN_SIZE = TCMU_OP_ALIGN_SIZE,
    CTCMU_UFLAG_UNKNOWN_OP = TCMU_UFLAG_UNKNOWN_OP,
    CTCMU_UFLAG_READ_LEN = TCMU_UFLAG_READ_LEN,
    CTCMU_UFLAG_KEEP_BUF = TCMU_UFLAG_KEEP_BUF,
};

/* The two words the kernel and userspace race on. The kernel publishes cmd_head with
 * smp_store_release (UPDATE_HEAD) after writing the entries; userspace reads it with acquire so
 * that every entry up to it is visible. Userspace publishes cmd_tail with release after writing the
 * responses, so the kernel (which reads cmd_tail, then the entries behind it) sees them. */
static inline uint32_t ctcmu_load_acquire_u32(const void *p) {
    return __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE);
}

static inline void ctcmu_store_release_u32(void *p, uint32_t value) {
    __atomic_store_n((uint32_t *)p, value, __ATOMIC_RELEASE);
}

#endif

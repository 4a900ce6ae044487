#include "ctcmu.h"

/* The layout facts Sources/TCMU relies on beyond the offsets themselves. */
_Static_assert(CTCMU_MB_CMD_TAIL % 4 == 0, "cmd_tail must be aligned for atomic access");
_Static_assert(CTCMU_MB_CMD_HEAD % 4 == 0, "cmd_head must be aligned for atomic access");
_Static_assert(CTCMU_ENTRY_SIZE % TCMU_OP_ALIGN_SIZE == 0, "entries are 8-byte multiples");
_Static_assert(CTCMU_REQ_IOV % TCMU_OP_ALIGN_SIZE == 0, "the iovec array keeps entries aligned");
_Static_assert(CTCMU_RSP_SENSE + TCMU_SENSE_BUFFERSIZE <= CTCMU_ENTRY_SIZE, "the response fits an entry");

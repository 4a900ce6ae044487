#ifndef STMF_CNETLINK_H
#define STMF_CNETLINK_H
#include <stdint.h>

/* The kernel's TCMU generic netlink family (TCM-USER, version 2, multicast group "config"),
 * through libnl-3: what a TCMU handler hears about devices (added, removed, reconfigured) and
 * what it may answer. A small C face so Swift sees no varargs, macros or callbacks of libnl. */

typedef struct stmf_tcmu_nl stmf_tcmu_nl;

/* The kernel's commands (enum tcmu_genl_cmd). */
enum {
    STMF_TCMU_CMD_ADDED_DEVICE = 1,
    STMF_TCMU_CMD_REMOVED_DEVICE = 2,
    STMF_TCMU_CMD_RECONFIG_DEVICE = 3,
};

/* One event: `device` is the uio name ("tcm-user/<hba>/<name>[/<config>]"); for a reconfigure,
 * which of dev_config / dev_size / write cache changed (has_*) and to what. */
typedef struct {
    int command;
    char device[256];
    uint32_t minor;
    uint32_t device_id;
    int has_config;
    char config[256];
    int has_size;
    uint64_t size;
    int has_write_cache;
    uint8_t write_cache;
} stmf_tcmu_event;

typedef void (*stmf_tcmu_event_fn)(void *context, const stmf_tcmu_event *event);

/* Socket, sequence checks off (the events are unsolicited), connect, resolve the family and its
 * "config" group, join it, non-blocking. NULL on failure, with a libnl or errno text in `why`. */
stmf_tcmu_nl *stmf_tcmu_nl_open(char *why, int why_size);
int stmf_tcmu_nl_fd(const stmf_tcmu_nl *nl);
int stmf_tcmu_nl_family(const stmf_tcmu_nl *nl);
/* Reads what is pending, calling `fn` per event. 0, or a negative libnl error. */
int stmf_tcmu_nl_receive(stmf_tcmu_nl *nl, stmf_tcmu_event_fn fn, void *context);
/* The reply to an event (ADDED/REMOVED/RECONFIG _DONE) with a status (0 or -errno). */
int stmf_tcmu_nl_reply(stmf_tcmu_nl *nl, int command, uint32_t device_id, int32_t status);
/* SET_FEATURES: whether this handler sends replies (module-wide in the kernel). */
int stmf_tcmu_nl_set_features(stmf_tcmu_nl *nl, int replies);
void stmf_tcmu_nl_close(stmf_tcmu_nl *nl);
const char *stmf_tcmu_nl_error(int code);
#endif

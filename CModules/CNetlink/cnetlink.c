#include "cnetlink.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
/* glibc's struct iovec (sys/socket.h) is the one used: the kernel's <linux/uio.h> is kept out
 * through its include guard, as CModules/CTCMU does. */
#ifndef __LINUX_UIO_H
#define __LINUX_UIO_H
#endif
#include <linux/target_core_user.h>

struct stmf_tcmu_nl {
    struct nl_sock *sock;
    int family;
    stmf_tcmu_event_fn fn;
    void *context;
};

static struct nla_policy policy[TCMU_ATTR_MAX + 1] = {
    [TCMU_ATTR_DEVICE] = { .type = NLA_STRING },
    [TCMU_ATTR_MINOR] = { .type = NLA_U32 },
    [TCMU_ATTR_DEV_CFG] = { .type = NLA_STRING },
    [TCMU_ATTR_DEV_SIZE] = { .type = NLA_U64 },
    [TCMU_ATTR_WRITECACHE] = { .type = NLA_U8 },
    [TCMU_ATTR_CMD_STATUS] = { .type = NLA_S32 },
    [TCMU_ATTR_DEVICE_ID] = { .type = NLA_U32 },
    [TCMU_ATTR_SUPP_KERN_CMD_REPLY] = { .type = NLA_U8 },
};

static int on_message(struct nl_msg *msg, void *arg) {
    struct stmf_tcmu_nl *nl = arg;
    struct nlmsghdr *h = nlmsg_hdr(msg);
    struct genlmsghdr *g = nlmsg_data(h);
    struct nlattr *a[TCMU_ATTR_MAX + 1];
    if (h->nlmsg_type != nl->family) return NL_SKIP;
    if (genlmsg_parse(h, 0, a, TCMU_ATTR_MAX, policy) < 0) return NL_SKIP;
    stmf_tcmu_event e;
    memset(&e, 0, sizeof e);
    e.command = g->cmd;
    if (a[TCMU_ATTR_DEVICE]) snprintf(e.device, sizeof e.device, "%s", nla_get_string(a[TCMU_ATTR_DEVICE]));
    if (a[TCMU_ATTR_MINOR]) e.minor = nla_get_u32(a[TCMU_ATTR_MINOR]);
    if (a[TCMU_ATTR_DEVICE_ID]) e.device_id = nla_get_u32(a[TCMU_ATTR_DEVICE_ID]);
    if (a[TCMU_ATTR_DEV_CFG]) { e.has_config = 1; snprintf(e.config, sizeof e.config, "%s", nla_get_string(a[TCMU_ATTR_DEV_CFG])); }
    if (a[TCMU_ATTR_DEV_SIZE]) { e.has_size = 1; e.size = nla_get_u64(a[TCMU_ATTR_DEV_SIZE]); }
    if (a[TCMU_ATTR_WRITECACHE]) { e.has_write_cache = 1; e.write_cache = nla_get_u8(a[TCMU_ATTR_WRITECACHE]); }
    if (nl->fn) nl->fn(nl->context, &e);
    return NL_OK;
}

stmf_tcmu_nl *stmf_tcmu_nl_open(char *why, int why_size) {
    struct stmf_tcmu_nl *nl = calloc(1, sizeof *nl);
    if (!nl) { snprintf(why, why_size, "out of memory"); return NULL; }
    nl->sock = nl_socket_alloc();
    if (!nl->sock) { snprintf(why, why_size, "nl_socket_alloc failed"); free(nl); return NULL; }
    nl_socket_disable_seq_check(nl->sock);
    int rc = genl_connect(nl->sock);
    if (rc < 0) { snprintf(why, why_size, "genl_connect: %s", nl_geterror(rc)); goto fail; }
    nl->family = genl_ctrl_resolve(nl->sock, "TCM-USER");
    if (nl->family < 0) {
        snprintf(why, why_size, "the TCM-USER netlink family is not there (%s): load target_core_user", nl_geterror(nl->family));
        goto fail;
    }
    int group = genl_ctrl_resolve_grp(nl->sock, "TCM-USER", "config");
    if (group < 0) { snprintf(why, why_size, "TCM-USER has no config group: %s", nl_geterror(group)); goto fail; }
    rc = nl_socket_add_membership(nl->sock, group);
    if (rc < 0) { snprintf(why, why_size, "joining TCM-USER/config: %s", nl_geterror(rc)); goto fail; }
    nl_socket_modify_cb(nl->sock, NL_CB_VALID, NL_CB_CUSTOM, on_message, nl);
    nl_socket_set_nonblocking(nl->sock);
    return nl;
fail:
    nl_socket_free(nl->sock);
    free(nl);
    return NULL;
}

int stmf_tcmu_nl_fd(const stmf_tcmu_nl *nl) { return nl_socket_get_fd(nl->sock); }
int stmf_tcmu_nl_family(const stmf_tcmu_nl *nl) { return nl->family; }

int stmf_tcmu_nl_receive(stmf_tcmu_nl *nl, stmf_tcmu_event_fn fn, void *context) {
    nl->fn = fn;
    nl->context = context;
    int rc = nl_recvmsgs_default(nl->sock);
    nl->fn = NULL;
    nl->context = NULL;
    if (rc == -NLE_AGAIN) return 0;
    return rc < 0 ? rc : 0;
}

static int send_command(stmf_tcmu_nl *nl, int command, int with_device, uint32_t device_id, int32_t status, int features) {
    struct nl_msg *msg = nlmsg_alloc();
    if (!msg) return -NLE_NOMEM;
    int rc = -NLE_NOMEM;
    if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, 0, command, 2)) goto out;
    if (with_device) {
        if (nla_put_s32(msg, TCMU_ATTR_CMD_STATUS, status) < 0) goto out;
        if (nla_put_u32(msg, TCMU_ATTR_DEVICE_ID, device_id) < 0) goto out;
    } else {
        if (nla_put_u8(msg, TCMU_ATTR_SUPP_KERN_CMD_REPLY, (uint8_t)features) < 0) goto out;
    }
    rc = nl_send_auto(nl->sock, msg);
    if (rc > 0) rc = 0;
out:
    nlmsg_free(msg);
    return rc;
}

int stmf_tcmu_nl_reply(stmf_tcmu_nl *nl, int command, uint32_t device_id, int32_t status) {
    int done;
    switch (command) {
    case STMF_TCMU_CMD_ADDED_DEVICE: done = TCMU_CMD_ADDED_DEVICE_DONE; break;
    case STMF_TCMU_CMD_REMOVED_DEVICE: done = TCMU_CMD_REMOVED_DEVICE_DONE; break;
    case STMF_TCMU_CMD_RECONFIG_DEVICE: done = TCMU_CMD_RECONFIG_DEVICE_DONE; break;
    default: return -NLE_INVAL;
    }
    return send_command(nl, done, 1, device_id, status, 0);
}

int stmf_tcmu_nl_set_features(stmf_tcmu_nl *nl, int replies) {
    return send_command(nl, TCMU_CMD_SET_FEATURES, 0, 0, 0, replies ? 1 : 0);
}

void stmf_tcmu_nl_close(stmf_tcmu_nl *nl) {
    if (!nl) return;
    nl_socket_free(nl->sock);
    free(nl);
}

const char *stmf_tcmu_nl_error(int code) { return nl_geterror(code); }

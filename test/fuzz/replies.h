/* replies.h: the input of fuzz_replies (a probe setup and a node's replies in call order), shared with record_replies, which records seeds from real nodes. */
#ifndef BP_FUZZ_REPLIES_H
#define BP_FUZZ_REPLIES_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

/*
 * Input: byte 0 picks the probe setup (replies_setups[byte % REPLIES_SETUPS]); then, for every
 * call the collection sends, in the order the rounds send them, one reply: a 4-byte big-endian
 * length and that many bytes of external term format, version byte included (what rex's answer
 * carries as Reply). REPLIES_NONE as the length: the call got no reply (it times out). When the
 * input ends, every call left gets no reply.
 */
#define REPLIES_NONE 0xffffffffu

/* A probe setup: option names and values as bp_config_set takes them, NULL-terminated. */
typedef struct {
    const char *name;
    const char *const *opts;
} replies_setup;

#define REPLIES_GOVERNORS "governor", "cost_guard,rollback_guard,backlog_valve"
#define REPLIES_PROCS REPLIES_GOVERNORS, "supervisor", "demo_sup", "supervisor-strict", NULL, "require-app", "demo", \
                      "check-mfa", "erlang:is_alive"
#define REPLIES_FAMILY "governors-under", "demo_governor_sup", "supervisor", "kernel_sup,logger_sup"
#define REPLIES_MNESIA "mnesia", NULL, "governor", "cost_guard"
#define REPLIES_TOP "top", "3", "top-window", "50ms"
#define REPLIES_SETUP(nm, plan, ...) \
    { nm "-" plan, (const char *const[]){ "plan", plan, __VA_ARGS__, NULL } }

static const replies_setup replies_setups[] = {
    REPLIES_SETUP("ready", "one-round", "probe", "ready"),
    REPLIES_SETUP("ready", "multi-round", "probe", "ready"),
    REPLIES_SETUP("procs", "one-round", REPLIES_PROCS),
    REPLIES_SETUP("procs", "multi-round", REPLIES_PROCS),
    REPLIES_SETUP("family", "one-round", REPLIES_FAMILY),
    REPLIES_SETUP("family", "multi-round", REPLIES_FAMILY),
    REPLIES_SETUP("mnesia", "one-round", REPLIES_MNESIA),
    REPLIES_SETUP("mnesia", "multi-round", REPLIES_MNESIA),
    REPLIES_SETUP("top", "one-round", REPLIES_TOP),
    REPLIES_SETUP("top", "multi-round", REPLIES_TOP),
    REPLIES_SETUP("live", "multi-round", "probe", "live"),
    REPLIES_SETUP("startup", "multi-round", "probe", "startup"),
};
#define REPLIES_SETUPS (sizeof replies_setups / sizeof replies_setups[0])

/* Defaults, then setup k's options; 0, or BP_EUSAGE with err. */
static inline int replies_configure(bp_config *cfg, size_t k, char *err, size_t errlen)
{
    bp_config_defaults(cfg);
    for (const char *const *o = replies_setups[k % REPLIES_SETUPS].opts; *o; o += 2) {
        int rc = bp_config_set(cfg, o[0], o[1], err, errlen);
        if (rc)
            return rc;
    }
    bp_config_finish(cfg);
    return bp_config_validate(cfg, err, errlen);
}

#endif

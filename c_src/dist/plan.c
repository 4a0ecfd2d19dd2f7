/* plan.c: the choice between the one-round and the multi-round plan (--plan, and auto's round-trip rule). */
#include "dist/plan.h"

#include <stdio.h>
#include <string.h>

bp_plan bp_plan_choose(const char *plan, int64_t rtt_us, char *why, size_t whylen)
{
    if (whylen)
        why[0] = '\0';
    if (strcmp(plan, "multi-round") == 0) {
        snprintf(why, whylen, "--plan multi-round");
        return BP_PLAN_MULTI_ROUND;
    }
    if (strcmp(plan, "auto") != 0)
        return BP_PLAN_ONE_ROUND;
    if (rtt_us < 0) {
        snprintf(why, whylen, "auto: round trip not measured");
        return BP_PLAN_ONE_ROUND;
    }
    int fast = rtt_us < BP_PLAN_AUTO_RTT_US;
    snprintf(why, whylen, "auto: the TCP connect took %.2f ms, %s %.1f ms", (double)rtt_us / 1000.0,
             fast ? "under" : "at least", BP_PLAN_AUTO_RTT_US / 1000.0);
    return fast ? BP_PLAN_MULTI_ROUND : BP_PLAN_ONE_ROUND;
}

/* plan.h: which plan a probe runs (one request the node evaluates, or a round per step), from --plan and the measured round trip. */
#ifndef BP_PLAN_H
#define BP_PLAN_H

#include <stddef.h>
#include <stdint.h>

/*
 * --plan auto runs the one-round request only from this round-trip time up: below it, the
 * rounds it saves cost less than the target's interpretation of the request (on loopback the
 * multi-round plan is faster and costs the target less; docs/DESIGN-NOTES.md, "Choosing the plan").
 */
#define BP_PLAN_AUTO_RTT_US 500

typedef enum { BP_PLAN_ONE_ROUND, BP_PLAN_MULTI_ROUND } bp_plan;

/*
 * The plan for `--plan plan` ("one-round", "multi-round" or "auto") with the network's round
 * trip rtt_us (the TCP connect's time) (-1: not measured, which auto takes as a remote node). *why (NULL when
 * there is nothing to say) tells why; with auto it names the measured time.
 */
bp_plan bp_plan_choose(const char *plan, int64_t rtt_us, char *why, size_t whylen);

#endif

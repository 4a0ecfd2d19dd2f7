/* oneround.h: the one-round plan: one erl_eval request makes every call of the collector's rounds on the target; later rounds are answered from its reply. */
#ifndef BP_ONEROUND_H
#define BP_ONEROUND_H

#include <stdint.h>

#include "core/snapshot.h"
#include "dist/collect.h"

/*
 * An executor (bp_collect_exec) in front of another one (the session's). Its first
 * round sends, beside the calls of the collector's round one that it does not cover,
 * erl_eval:expr/5 of the request built from c_src/dist/oneround.erl.src with `params`: the target makes there
 * the calls every round of the multi-round plan would make, and replies with each call
 * and its reply. Every later call of the collector that equals one of those (module,
 * function and arguments) is answered from that reply; any other goes to the node, as
 * one more round. The collector judges every reply as it always does.
 * When the node refuses the request, every call goes to the node: the multi-round plan.
 * snap->round_trips counts the rounds that went to the node; snap->plan says which plan
 * ran. docs/DESIGN-NOTES.md, "One round trip", argues why this is safe.
 */
typedef struct bp_oneround bp_oneround;

/* A new one-round executor; params: term_to_binary of the parameters (version byte included). NULL on OOM. */
bp_oneround *bp_oneround_new(const bp_collect_exec *inner, const unsigned char *params, size_t len, bp_snapshot *snap);
/* The executor's call (bp_collect_exec.call); ctx is the bp_oneround. */
int bp_oneround_call(void *ctx, bp_batch *b, int64_t deadline_ms);
/*
 * The procedures of the request (generated from oneround.erl.src), element 5 of the parameters:
 * a tuple, [] in place of those no feature in `features` (BP_ONEROUND_*) needs. ei's return.
 */
int bp_oneround_encode_procs(ei_x_buff *x, unsigned features);

/* The features of oneround.erl.src a probe may need (its -part attributes, in order). */
enum {
    BP_ONEROUND_CGROUP = 1u << 0,
    BP_ONEROUND_MNESIA = 1u << 1,
    BP_ONEROUND_PROCS = 1u << 2,
    BP_ONEROUND_FAMILIES = 1u << 3,
    BP_ONEROUND_GPROC = 1u << 4,
    BP_ONEROUND_TOP = 1u << 5,
};
/*
 * The arguments of erl_eval:expr/5 that run the request with `params` (term_to_binary, version
 * byte included): the request expression, #{Bin => Params}, none, none, value. ei's return.
 */
int bp_oneround_encode_request(ei_x_buff *x, const unsigned char *params, size_t len);

/* After the collection: record in the snapshot how many answers of the target went unused. */
void bp_oneround_finish(bp_oneround *o);
void bp_oneround_free(bp_oneround *o);

/*
 * Does argument `ours` (a call we would send) equal `theirs` (as the target echoed it)? Atoms by
 * name, where the target may give a binary for an atom it does not have; a string equals the
 * list of the same bytes. Exposed for the unit tests.
 */
int bp_oneround_same(const bp_term *ours, const bp_term *theirs);

#endif

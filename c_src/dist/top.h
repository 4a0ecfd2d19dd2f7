/* top.h: --top's reply read into the snapshot (collect_top.c), exposed for the unit tests. */
#ifndef BP_TOP_H
#define BP_TOP_H

#include "core/snapshot.h"
#include "dist/term.h"

/*
 * Read the reply of the --top call, {ok, 1, [{erl_eval, expr, [N, Window], Result}]}
 * (oneround.erl.src, top/2), into s->top (its strings in s's arena). Anything else, or any part
 * malformed, leaves the lists empty and s->top.unavailable saying why: 0 read, -1 not.
 */
int bp_top_read(bp_snapshot *s, const bp_term *reply);

#endif

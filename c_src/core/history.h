/* history.h: a node's state transitions (overall status, checks, governor states), kept in a bounded ring. */
#ifndef BP_HISTORY_H
#define BP_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "core/report.h"

typedef enum { BP_TR_NODE = 0, BP_TR_CHECK, BP_TR_GOVERNOR } bp_transition_kind;

typedef struct {
    int64_t time_ms;          /* Unix time of the report that showed the change */
    bp_transition_kind kind;
    char name[128];           /* "node", the check's name, or the governor's */
    char from[32], to[32];    /* status or state names; "" for "not seen before" is never recorded */
    char reason[160];         /* the check's reason after the change (cut) */
} bp_transition;

/*
 * One node's history. bp_history_observe compares each new report with the
 * last one it saw: every change of the overall status (a node that cannot be
 * reached is "down"), of a check's status and of a governor's state becomes a
 * transition, the newest `cap` of them kept (oldest first). It also writes
 * into the report when each check's status and each governor's state last
 * changed (since_ms, state_since_ms; the first report seen counts as the
 * start) and how many transitions each check has had (transitions).
 * Thread-safe: one observer and any number of readers.
 */
typedef struct bp_history bp_history;

/* A history of at most cap transitions (0: none are kept, since and counts still are). NULL on OOM. */
bp_history *bp_history_new(size_t cap);
void bp_history_free(bp_history *h);
/* Observe report r made at now_ms (Unix ms); fills r's since fields. 0 or BP_ENOMEM (then nothing recorded). */
int bp_history_observe(bp_history *h, bp_report *r, int64_t now_ms);
/* Copy the transitions, oldest first, into out[0..max); returns how many are kept in all. */
size_t bp_history_copy(bp_history *h, bp_transition *out, size_t max);
/*
 * The transitions the latest bp_history_observe recorded (whatever the ring's
 * cap), copied into out[0..max); returns how many it recorded. *first (may be
 * NULL) is 1 when that report was the first the history observed.
 */
size_t bp_history_latest(bp_history *h, bp_transition *out, size_t max, int *first);
/* Transitions the node's overall status and checks have had since the history began. */
uint64_t bp_history_total(bp_history *h);

#endif

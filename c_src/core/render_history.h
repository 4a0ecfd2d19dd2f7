/* render_history.h: the transition history of nodes as the JSON of /health/history. */
#ifndef BP_RENDER_HISTORY_H
#define BP_RENDER_HISTORY_H

#include <jansson.h>
#include <stddef.h>

#include "core/history.h"

typedef struct {
    const char *node;                /* the node's own name */
    const bp_transition *transitions; /* oldest first */
    size_t n;                        /* copied */
    size_t kept;                     /* kept in all (n may be smaller when cut) */
} bp_history_node;

/*
 * {"capacity": cap, "nodes": [{"node": ..., "transitions": [{"time", "kind", "name", "from", "to",
 * "reason"}, ...]}, ...]}: a malloc'd string, or NULL when out of memory.
 */
char *bp_render_history_json(const bp_history_node *nodes, size_t n, size_t cap);

/* Put t's fields "time", "kind", "name", "from", "to", "reason" into object e (*oom set on failure). */
void bp_render_transition(int *oom, json_t *e, const bp_transition *t);

#endif

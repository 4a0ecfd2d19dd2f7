/* site_history.c: copies the targets' transition histories for /health/history and the status page. */
#include "http/site_int.h"

#include <stdlib.h>
#include <string.h>

size_t bp__site_histories(bp_site *s, bp__view *const *views, const char *filter, bp_history_node *nodes, int *oom)
{
    size_t n = 0;
    *oom = 0;
    pthread_mutex_lock(&s->mu); /* a reload may take the histories over */
    for (size_t i = 0; i < s->targets.n && !*oom; i++) {
        const char *own = bp_snapshot_name_or(views[i]->snap, s->targets.v[i]);
        if (filter && strcmp(filter, own) != 0 && strcmp(filter, s->targets.v[i]) != 0)
            continue;
        size_t kept = bp_history_copy(s->hist[i], NULL, 0); /* only what is there is copied */
        bp_transition *t = malloc((kept + 1) * sizeof *t);
        *oom = !t;
        nodes[n].node = own;
        nodes[n].transitions = t;
        nodes[n].kept = t ? bp_history_copy(s->hist[i], t, kept) : 0;
        nodes[n].n = nodes[n].kept < kept ? nodes[n].kept : kept;
        n++;
    }
    pthread_mutex_unlock(&s->mu);
    return n;
}

void bp__site_histories_free(bp_history_node *nodes, size_t n)
{
    for (size_t i = 0; nodes && i < n; i++)
        free((void *)nodes[i].transitions);
}

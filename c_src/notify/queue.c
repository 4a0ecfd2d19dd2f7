/* queue.c: a bounded FIFO of pointers that drops its oldest entry when full. */
#include "notify/queue.h"

#include <stdlib.h>

#include "beamprobe.h"

int bp_nqueue_init(bp_nqueue *q, size_t cap)
{
    q->head = q->len = 0;
    q->dropped = 0;
    q->cap = cap;
    q->v = cap ? calloc(cap, sizeof *q->v) : NULL;
    if (cap == 0)
        return BP_EUSAGE;
    return q->v ? 0 : BP_ENOMEM;
}

void bp_nqueue_free(bp_nqueue *q, void (*free_item)(void *))
{
    void *item;
    while (free_item && (item = bp_nqueue_pop(q)))
        free_item(item);
    free(q->v);
    q->v = NULL;
    q->len = q->cap = 0;
}

void *bp_nqueue_push(bp_nqueue *q, void *item)
{
    void *old = NULL;
    if (q->len == q->cap) {
        old = bp_nqueue_pop(q);
        q->dropped++;
    }
    q->v[(q->head + q->len) % q->cap] = item;
    q->len++;
    return old;
}

void *bp_nqueue_pop(bp_nqueue *q)
{
    if (q->len == 0)
        return NULL;
    void *item = q->v[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return item;
}

void *bp_nqueue_at(const bp_nqueue *q, size_t i)
{
    return i < q->len ? q->v[(q->head + i) % q->cap] : NULL;
}

void *bp_nqueue_take(bp_nqueue *q, size_t i)
{
    if (i >= q->len)
        return NULL;
    void *item = bp_nqueue_at(q, i);
    for (size_t k = i; k + 1 < q->len; k++) /* close the gap: later entries move one place up */
        q->v[(q->head + k) % q->cap] = q->v[(q->head + k + 1) % q->cap];
    q->len--;
    return item;
}

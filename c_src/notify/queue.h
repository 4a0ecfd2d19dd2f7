/* queue.h: a bounded FIFO of pointers that drops its oldest entry when full, so a producer never waits. */
#ifndef BP_NOTIFY_QUEUE_H
#define BP_NOTIFY_QUEUE_H

#include <stddef.h>
#include <stdint.h>

/* Not thread-safe: the owner locks. A zeroed queue is unusable until bp_nqueue_init. */
typedef struct {
    void **v;
    size_t cap, head, len;
    uint64_t dropped; /* entries pushed out by newer ones */
} bp_nqueue;

/* A queue of at most cap (>= 1) entries: 0, or BP_EUSAGE / BP_ENOMEM. */
int bp_nqueue_init(bp_nqueue *q, size_t cap);
/* Free the ring; free_item (may be NULL) is called on every entry still queued. */
void bp_nqueue_free(bp_nqueue *q, void (*free_item)(void *));
/* Append item. When the queue was full the oldest entry is removed, counted in dropped and returned for the caller to free; else NULL. */
void *bp_nqueue_push(bp_nqueue *q, void *item);
/* Remove and return the oldest entry, or NULL when empty. */
void *bp_nqueue_pop(bp_nqueue *q);
/* The i-th oldest entry (i < len). */
void *bp_nqueue_at(const bp_nqueue *q, size_t i);
/* Remove and return the i-th oldest entry (i < len), the others keeping their order. */
void *bp_nqueue_take(bp_nqueue *q, size_t i);

#endif

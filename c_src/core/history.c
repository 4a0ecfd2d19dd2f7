/* history.c: state transitions of one node's reports, in a bounded ring, and when each state began. */
#include "core/history.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "core/str.h"

/* What the history knows of one tracked item: its last value, since when, how often it changed. */
typedef struct {
    bp_transition_kind kind;
    char name[128];
    char value[32];
    int64_t since_ms;
    uint64_t transitions;
} tracked;

struct bp_history {
    pthread_mutex_t mu;
    size_t cap;           /* ring capacity */
    bp_transition *ring;  /* grows up to cap as transitions come */
    size_t ring_alloc, head, count;
    tracked *items;
    size_t n_items, items_alloc;
    uint64_t total;
    bp_transition *latest; /* what the latest observe recorded */
    size_t n_latest, latest_alloc;
    int latest_first;      /* the latest observe was the first */
};

bp_history *bp_history_new(size_t cap)
{
    bp_history *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    pthread_mutex_init(&h->mu, NULL);
    h->cap = cap;
    return h;
}

void bp_history_free(bp_history *h)
{
    if (!h)
        return;
    pthread_mutex_destroy(&h->mu);
    free(h->ring);
    free(h->items);
    free(h->latest);
    free(h);
}

/* Room for one more transition: grow the ring until cap, then overwrite the oldest. */
static bp_transition *ring_push(bp_history *h)
{
    if (h->cap == 0)
        return NULL;
    if (h->count < h->cap && h->count == h->ring_alloc) {
        /* the ring is not full and not wrapped yet: entries are 0..count-1 in order */
        size_t n = h->ring_alloc ? h->ring_alloc * 2 : 16;
        n = n > h->cap ? h->cap : n;
        bp_transition *r = realloc(h->ring, n * sizeof *r);
        if (!r)
            return NULL;
        h->ring = r;
        h->ring_alloc = n;
    }
    size_t at;
    if (h->count < h->cap) {
        at = (h->head + h->count) % h->ring_alloc;
        h->count++;
    } else {
        at = h->head;
        h->head = (h->head + 1) % h->ring_alloc;
    }
    return &h->ring[at];
}

static tracked *find(bp_history *h, bp_transition_kind kind, const char *name)
{
    for (size_t i = 0; i < h->n_items; i++)
        if (h->items[i].kind == kind && strcmp(h->items[i].name, name) == 0)
            return &h->items[i];
    if (h->n_items == h->items_alloc) {
        size_t n = h->items_alloc ? h->items_alloc * 2 : 16;
        tracked *t = realloc(h->items, n * sizeof *t);
        if (!t)
            return NULL;
        h->items = t;
        h->items_alloc = n;
    }
    tracked *t = &h->items[h->n_items++];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->since_ms = -1;
    bp_strlcpy(t->name, name, sizeof t->name);
    return t;
}

/* Keep a copy of tr among the latest observe's transitions (out of memory: not kept). */
static void latest_push(bp_history *h, const bp_transition *tr)
{
    if (h->n_latest == h->latest_alloc) {
        size_t n = h->latest_alloc ? h->latest_alloc * 2 : 8;
        bp_transition *l = realloc(h->latest, n * sizeof *l);
        if (!l)
            return;
        h->latest = l;
        h->latest_alloc = n;
    }
    h->latest[h->n_latest++] = *tr;
}

/* Item `name` now has `value`: a transition when it had another one; returns the item (NULL on OOM). */
static tracked *see(bp_history *h, bp_transition_kind kind, const char *name, const char *value, const char *reason,
                    int64_t now_ms)
{
    tracked *t = find(h, kind, name);
    if (!t)
        return NULL;
    if (t->since_ms < 0) { /* first seen: its state began no later than now */
        bp_strlcpy(t->value, value, sizeof t->value);
        t->since_ms = now_ms;
        return t;
    }
    if (strcmp(t->value, value) == 0)
        return t;
    bp_transition tr = { .time_ms = now_ms, .kind = kind };
    bp_strlcpy(tr.name, name, sizeof tr.name);
    bp_strlcpy(tr.from, t->value, sizeof tr.from);
    bp_strlcpy(tr.to, value, sizeof tr.to);
    bp_strlcpy(tr.reason, reason ? reason : "", sizeof tr.reason);
    bp_transition *slot = ring_push(h);
    if (slot)
        *slot = tr;
    latest_push(h, &tr);
    bp_strlcpy(t->value, value, sizeof t->value);
    t->since_ms = now_ms;
    t->transitions++;
    h->total++;
    return t;
}

int bp_history_observe(bp_history *h, bp_report *r, int64_t now_ms)
{
    if (!h || !r)
        return BP_EUSAGE;
    pthread_mutex_lock(&h->mu);
    h->n_latest = 0;
    h->latest_first = h->n_items == 0;
    int up = r->snap && r->snap->connect.state == BP_FACT_OK;
    const char *first = NULL;
    for (size_t i = 0; i < r->n_checks && !first; i++)
        if (r->checks[i].status != BP_PASS)
            first = r->checks[i].reason;
    tracked *node = see(h, BP_TR_NODE, "node", up ? bp_overall_name(r->status) : "down", first, now_ms);
    int rc = node ? 0 : BP_ENOMEM;
    if (node)
        r->since_ms = node->since_ms;
    for (size_t i = 0; i < r->n_checks && rc == 0; i++) {
        bp_check *c = &r->checks[i];
        tracked *t = see(h, BP_TR_CHECK, c->name, bp_status_name(c->status), c->reason, now_ms);
        if (!t) {
            rc = BP_ENOMEM;
            break;
        }
        c->since_ms = t->since_ms;
        c->transitions = t->transitions;
        const bp_governor_snap *g = c->kind == BP_CHECK_GOVERNOR ? c->governor : NULL;
        if (g && g->alive && g->state && g->state_fact.state == BP_FACT_OK) {
            tracked *s = see(h, BP_TR_GOVERNOR, g->name, g->state, c->reason, now_ms);
            if (!s)
                rc = BP_ENOMEM;
            else
                c->state_since_ms = s->since_ms;
        }
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

size_t bp_history_copy(bp_history *h, bp_transition *out, size_t max)
{
    if (!h)
        return 0;
    pthread_mutex_lock(&h->mu);
    size_t n = h->count;
    for (size_t i = 0; out && i < n && i < max; i++)
        out[i] = h->ring[(h->head + i) % h->ring_alloc];
    pthread_mutex_unlock(&h->mu);
    return n;
}

size_t bp_history_latest(bp_history *h, bp_transition *out, size_t max, int *first)
{
    if (!h)
        return 0;
    pthread_mutex_lock(&h->mu);
    size_t n = h->n_latest;
    for (size_t i = 0; out && i < n && i < max; i++)
        out[i] = h->latest[i];
    if (first)
        *first = h->latest_first;
    pthread_mutex_unlock(&h->mu);
    return n;
}

uint64_t bp_history_total(bp_history *h)
{
    if (!h)
        return 0;
    pthread_mutex_lock(&h->mu);
    uint64_t n = h->total;
    pthread_mutex_unlock(&h->mu);
    return n;
}

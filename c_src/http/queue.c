/* queue.c: the server's intrusive connection lists: fixed-duration timer queues and the ready list. */
#include "http/server_int.h"

#include <stddef.h>

void bp__http_tq_remove(bp__http_conn *c)
{
    bp__http_tq *q = c->tq;
    if (!q)
        return;
    if (c->tprev)
        c->tprev->tnext = c->tnext;
    else
        q->head = c->tnext;
    if (c->tnext)
        c->tnext->tprev = c->tprev;
    else
        q->tail = c->tprev;
    c->tprev = c->tnext = NULL;
    c->tq = NULL;
}

/* Every deadline on q is "armed time + q->ms", so the tail is always the latest. */
void bp__http_tq_arm(bp__http_tq *q, bp__http_conn *c, int64_t now_ms)
{
    bp__http_tq_remove(c);
    c->deadline_ms = now_ms + q->ms;
    c->tq = q;
    c->tprev = q->tail;
    c->tnext = NULL;
    if (q->tail)
        q->tail->tnext = c;
    else
        q->head = c;
    q->tail = c;
}

void bp__http_ready_push(bp_http_server *s, bp__http_conn *c)
{
    if (c->ready)
        return;
    c->ready = 1;
    c->rprev = s->ready_tail;
    c->rnext = NULL;
    if (s->ready_tail)
        s->ready_tail->rnext = c;
    else
        s->ready_head = c;
    s->ready_tail = c;
}

void bp__http_ready_remove(bp_http_server *s, bp__http_conn *c)
{
    if (!c->ready)
        return;
    if (c->rprev)
        c->rprev->rnext = c->rnext;
    else
        s->ready_head = c->rnext;
    if (c->rnext)
        c->rnext->rprev = c->rprev;
    else
        s->ready_tail = c->rprev;
    c->rprev = c->rnext = NULL;
    c->ready = 0;
}

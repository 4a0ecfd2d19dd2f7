/* bufpool.c: the per-server pool of connection I/O buffers (taken while a request is live, kept for reuse). */
#include "http/server_int.h"

#include <stdlib.h>
#include <string.h>

bp__http_buf *bp__http_buf_get(bp_http_server *s)
{
    bp__http_buf *b = s->pool;
    if (b) {
        s->pool = b->next;
        s->pool_n--;
    } else {
        b = malloc(sizeof *b + s->max_head);
        if (!b)
            return NULL;
    }
    b->next = NULL;
    b->off = b->len = 0;
    b->responding = 0;
    memset(&b->msg, 0, sizeof b->msg);
    return b;
}

void bp__http_buf_put(bp_http_server *s, bp__http_buf *b)
{
    if (!b)
        return;
    if (s->pool_n >= BP__HTTP_POOL_KEEP) {
        free(b);
        return;
    }
    b->next = s->pool;
    s->pool = b;
    s->pool_n++;
}

void bp__http_pool_free(bp_http_server *s)
{
    while (s->pool) {
        bp__http_buf *b = s->pool;
        s->pool = b->next;
        free(b);
    }
    s->pool_n = 0;
}

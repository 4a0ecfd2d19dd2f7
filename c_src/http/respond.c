/* respond.c: turn a request into an answer (the handler's, or the server's own error) and write it out. */
#include "http/server_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "core/log.h"

static const char text_plain[] = "text/plain; charset=utf-8";

static void reset_response(bp_http_response *r)
{
    r->status = 0;
    r->content_type = NULL;
    r->body = NULL;
    r->body_len = 0;
    r->tail_len = 0;
    r->headers_len = 0;
    r->hold = NULL;
    r->release = NULL;
}

static void release_hold(bp_http_response *r)
{
    void (*release)(void *) = r->release;
    r->release = NULL;
    if (release)
        release(r->hold);
    r->hold = NULL;
}

/* What the handler left must be usable as is; anything else is its failure (500). */
static int response_ok(const bp_http_response *r)
{
    if (r->status < 200 || r->status > 599)
        return 0;
    if (r->headers_len > sizeof r->headers || r->tail_len > sizeof r->tail)
        return 0;
    if (r->headers_len && (r->headers_len < 2 || memcmp(r->headers + r->headers_len - 2, "\r\n", 2) != 0))
        return 0;
    return r->body || r->body_len == 0;
}

/* The cached Date line, refreshed when the second changes. */
static void refresh_date(bp_http_server *s)
{
    int64_t now = (int64_t)time(NULL);
    if (now != s->date_sec) {
        s->date_len = bp__http_date_line(now, s->date, sizeof s->date);
        s->date_sec = now;
    }
}

/* A plain-text answer from the server itself ("404 Not Found\n" style), body in resp.tail. */
static void own_answer(bp_http_response *r, int status)
{
    reset_response(r);
    r->status = status;
    r->content_type = text_plain;
    int n = snprintf(r->tail, sizeof r->tail, "%d %s\n", status, bp__http_reason(status));
    r->tail_len = n > 0 && (size_t)n < sizeof r->tail ? (size_t)n : 0;
}

/* Lay out head, body and tail for writing; keep_alive is what the head says. */
static void queue_response(bp_http_server *s, bp__http_conn *c, int keep_alive, int head_only)
{
    bp__http_buf *b = c->buf;
    bp_http_response *r = &b->resp;
    refresh_date(s);
    bp__http_head h = { .status = r->status, .content_type = r->content_type,
                        .content_length = (uint64_t)r->body_len + r->tail_len, .keep_alive = keep_alive,
                        .date = s->date_len ? s->date : NULL, .date_len = s->date_len,
                        .extra = r->headers, .extra_len = r->headers_len };
    size_t hl = bp__http_head_format(&h, b->head, sizeof b->head);
    if (hl == 0) { /* an over-long or broken content type or header block */
        release_hold(r);
        own_answer(r, 500);
        h = (bp__http_head){ .status = 500, .content_type = r->content_type, .content_length = r->tail_len,
                             .keep_alive = keep_alive, .date = h.date, .date_len = h.date_len };
        hl = bp__http_head_format(&h, b->head, sizeof b->head);
    }
    int bodyless = head_only || r->status == 204 || r->status == 304;
    b->iov_n = 0;
    b->iov[b->iov_n++] = (struct iovec){ .iov_base = b->head, .iov_len = hl };
    if (!bodyless && r->body_len)
        b->iov[b->iov_n++] = (struct iovec){ .iov_base = (void *)(uintptr_t)r->body, .iov_len = r->body_len };
    if (!bodyless && r->tail_len)
        b->iov[b->iov_n++] = (struct iovec){ .iov_base = r->tail, .iov_len = r->tail_len };
    b->iov_i = 0;
    b->out_len = 0;
    for (int i = 0; i < b->iov_n; i++)
        b->out_len += b->iov[i].iov_len;
    b->status = r->status;
    b->responding = 1;
    c->close_after = !keep_alive;
    bp__http_tq_arm(&s->write_q, c, s->now_ms); /* the answer must be written within the idle timeout; never evicted */
}

void bp__http_respond(bp_http_server *s, bp__http_conn *c, size_t head_len)
{
    bp__http_buf *b = c->buf;
    bp__http_msg *m = &b->msg;
    bp_http_response *r = &b->resp;
    bp_http_request req = { .method = m->method, .method_len = m->method_len,
                            .path = m->path, .path_len = m->path_len,
                            .query = m->query, .query_len = m->query_len,
                            .authorization = m->authorization, .authorization_len = m->authorization_len,
                            .head = m->head };
    b->t0_us = s->access_log ? bp_now_us() : 0;
    b->off += head_len; /* the head stays in place (req points into it) until the answer is done */
    c->discard = m->content_length;
    reset_response(r);
    s->handler(s->ctx, &req, r);
    if (!response_ok(r)) {
        release_hold(r);
        own_answer(r, 500);
    }
    /*
     * A client that asked "Expect: 100-continue" may never send the body
     * after a final answer: close rather than guess where the next request starts.
     */
    int keep = m->keep_alive && !s->stopping && !(m->expect_continue && m->content_length > 0);
    queue_response(s, c, keep, m->head);
}

void bp__http_respond_error(bp_http_server *s, bp__http_conn *c, int status)
{
    bp__http_buf *b = c->buf;
    b->t0_us = s->access_log ? bp_now_us() : 0;
    b->msg.method = NULL; /* the request is not trusted: the access log shows "-" */
    own_answer(&b->resp, status);
    c->linger = 1;
    queue_response(s, c, 0, 0);
}

int bp__http_respond_flush(bp__http_conn *c)
{
    bp__http_buf *b = c->buf;
    while (b->iov_i < b->iov_n) {
        uint32_t want;
        ssize_t w = bp__http_io_writev(c, b->iov + b->iov_i, b->iov_n - b->iov_i, &want);
        if (w < 0)
            return BP_EIO;
        size_t left = (size_t)w;
        while (left > 0 && b->iov_i < b->iov_n) {
            struct iovec *v = &b->iov[b->iov_i];
            if (left >= v->iov_len) {
                left -= v->iov_len;
                b->iov_i++;
            } else {
                v->iov_base = (char *)v->iov_base + left;
                v->iov_len -= left;
                left = 0;
            }
        }
        if (want) {
            c->wr_block = want;
            return 0;
        }
        if (w == 0)
            return BP_EIO; /* no progress and no reason to wait */
    }
    return 1;
}

/* "GET /health 200 151 14us": method, path (at most 256 bytes), status, bytes sent, time to the last byte. */
static void access_log(const bp__http_buf *b)
{
    const bp__http_msg *m = &b->msg;
    int64_t us = bp_now_us() - b->t0_us;
    int pl = m->method && m->path_len < 256 ? (int)m->path_len : 256;
    bp_log("http", NULL, "%.*s %.*s %d %zu %lldus", m->method ? (int)m->method_len : 1,
           m->method ? m->method : "-", m->method ? pl : 1, m->method ? m->path : "-", b->status, b->out_len,
           (long long)us);
}

void bp__http_respond_done(bp_http_server *s, bp__http_conn *c)
{
    bp__http_buf *b = c->buf;
    if (s->access_log)
        access_log(b);
    release_hold(&b->resp);
    b->responding = 0;
    memset(&b->msg, 0, sizeof b->msg);
}

void bp__http_respond_abort(bp__http_conn *c)
{
    release_hold(&c->buf->resp);
    c->buf->responding = 0;
}

/* fuzz_http.c: libFuzzer target for the HTTP request-head parser (http/parse.c, bp__http_parse). */
/*
 * The first input byte picks max_head (64 bytes to 8 KiB) and where the head
 * is cut for an incremental parse; the rest is the request. Invariants: every
 * pointer lies inside the head, lengths and codes are in range, and feeding
 * the request in two pieces gives the same answer as in one.
 */
#include <stdio.h>

#include "beamprobe.h"
#include "http/parse.h"
#include "fuzz.h"

static int method_ok(const char *p, size_t n)
{
    static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE",
                                           "CONNECT" };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strlen(methods[i]) == n && memcmp(methods[i], p, n) == 0)
            return 1;
    return 0;
}

static void check_msg(const char *buf, size_t len, size_t max_head, int rc, const bp__http_msg *m)
{
    if (rc < 0) {
        CHECK(rc == BP_EDECODE || rc == BP_ETOOBIG);
        CHECK(m->status == 400 || m->status == 411 || m->status == 413 || m->status == 431 || m->status == 505);
        CHECK((rc == BP_ETOOBIG) == (m->status == 413 || m->status == 431));
        return;
    }
    if (rc == 0)
        return;
    size_t head = (size_t)rc;
    CHECK(head <= len && head <= max_head);
    CHECK(buf[head - 1] == '\n');
    CHECK(m->method && fuzz_within(m->method, m->method_len, buf, head));
    CHECK(m->method_len <= BP__HTTP_METHOD_MAX && method_ok(m->method, m->method_len));
    CHECK(m->head == (m->method_len == 4 && memcmp(m->method, "HEAD", 4) == 0));
    CHECK(m->path && m->path_len > 0);
    CHECK(fuzz_within(m->path, m->path_len, buf, head) || (m->path_len == 1 && m->path[0] == '/'));
    CHECK(!m->query || fuzz_within(m->query, m->query_len, buf, head));
    CHECK(!m->authorization || fuzz_within(m->authorization, m->authorization_len, buf, head));
    CHECK(!m->host || fuzz_within(m->host, m->host_len, buf, head));
    CHECK(m->minor == 0 || m->minor == 1);
    CHECK(m->minor == 0 || m->host);
    CHECK(m->keep_alive == 0 || m->keep_alive == 1);
    CHECK(m->content_length <= BP__HTTP_BODY_MAX);
    if (m->head || (m->method_len == 3 && memcmp(m->method, "GET", 3) == 0))
        CHECK(m->content_length == 0);
    for (size_t i = 0; i < m->path_len; i++)
        CHECK(m->path[i] > 0x20 && m->path[i] < 0x7f);
}

/* Where p lies in buf[0..len): its offset, -1 for NULL, -2 elsewhere (the static "/"). */
static ptrdiff_t off(const char *buf, size_t len, const char *p)
{
    return !p ? -1 : fuzz_within(p, 0, buf, len) ? p - buf : -2;
}

/* The answers of two parses agree (pointers compared as offsets into their buffers). */
static void same(const char *a, size_t alen, const bp__http_msg *ma, const char *b, size_t blen,
                 const bp__http_msg *mb)
{
#define OFF(buf, p) off(buf, buf == a ? alen : blen, p)
    CHECK(OFF(a, ma->method) == OFF(b, mb->method) && ma->method_len == mb->method_len);
    CHECK(OFF(a, ma->path) == OFF(b, mb->path) && ma->path_len == mb->path_len);
    CHECK(OFF(a, ma->query) == OFF(b, mb->query) && ma->query_len == mb->query_len);
    CHECK(OFF(a, ma->host) == OFF(b, mb->host) && ma->host_len == mb->host_len);
    CHECK(OFF(a, ma->authorization) == OFF(b, mb->authorization) && ma->authorization_len == mb->authorization_len);
    CHECK(ma->minor == mb->minor && ma->keep_alive == mb->keep_alive && ma->head == mb->head);
    CHECK(ma->content_length == mb->content_length && ma->expect_continue == mb->expect_continue);
#undef OFF
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max_head = (size_t)64 << (data[0] & 7);
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;

    bp__http_msg one;
    memset(&one, 0, sizeof one);
    int rc = bp__http_parse(buf, len, max_head, &one);
    check_msg(buf, len, max_head, rc, &one);

    /* the same request in two reads: the first piece in a buffer of exactly its size */
    size_t cut = len ? (size_t)(data[0] >> 3) * len / 31 : 0;
    char *piece = malloc(cut ? cut : 1);
    if (!piece)
        return 0;
    memcpy(piece, buf, cut);
    bp__http_msg two;
    memset(&two, 0, sizeof two);
    int rc1 = bp__http_parse(piece, cut, max_head, &two);
    check_msg(piece, cut, max_head, rc1, &two);
    if (rc1 > 0) { /* complete in the first piece: the whole buffer holds the same head */
        CHECK(rc1 == rc);
        same(piece, cut, &two, buf, len, &one);
    } else if (rc1 < 0) {
        CHECK(rc == rc1 && one.status == two.status);
    } else {
        int rc2 = bp__http_parse(buf, len, max_head, &two);
        CHECK(rc2 == rc);
        if (rc > 0)
            same(buf, len, &two, buf, len, &one);
        else if (rc < 0)
            CHECK(two.status == one.status);
    }
    free(piece);
    return 0;
}

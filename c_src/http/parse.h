/* parse.h: HTTP/1.x request-head parser: a pure function over a byte buffer (no I/O, no allocation). */
#ifndef BP_HTTP_PARSE_H
#define BP_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Longest method token accepted before the request is refused with 400. */
#define BP__HTTP_METHOD_MAX 16
/* A request body (non-GET/HEAD methods) up to this size is read and discarded; larger: 413. */
#define BP__HTTP_BODY_MAX (64 * 1024)

/*
 * One parsed request head. Every pointer points into the buffer given to
 * bp__http_parse and is valid as long as that buffer is, but one: the path of
 * an absolute-form target without a path ("http://host") is a static "/".
 */
typedef struct {
    const char *method;
    size_t method_len;
    const char *path;          /* without the query string, not decoded */
    size_t path_len;
    const char *query;         /* after '?', or NULL */
    size_t query_len;
    const char *authorization; /* the Authorization value (trimmed), or NULL */
    size_t authorization_len;
    const char *host;          /* the Host value, or NULL (HTTP/1.0 only) */
    size_t host_len;
    int minor;                 /* HTTP/1.<minor>: 0 or 1 */
    int keep_alive;            /* the connection may serve another request */
    int head;                  /* method is HEAD */
    uint64_t content_length;   /* body bytes following the head (never with GET/HEAD) */
    int expect_continue;       /* Expect: 100-continue (the body may never come) */
    int status;                /* on error: the status to answer (400, 411, 413, 431, 505) */
    /* Incremental state: zero the whole struct before the first call for each request. */
    size_t scanned;            /* bytes known to hold no end of the head */
    size_t line_end;           /* end of the request line once seen and checked, else 0 */
} bp__http_msg;

/*
 * Parse the request head at the start of buf[0..len). max_head caps the head
 * (leading empty lines, request line, header fields and the blank line) and
 * must be at most INT_MAX.
 *
 * Returns the length of the head (> 0) when it is complete, 0 when more bytes
 * are needed, or a negative code with m->status set:
 *   BP_EDECODE  400 malformed; 411 Transfer-Encoding (bodies need Content-Length);
 *               505 an HTTP version other than 1.0 and 1.1
 *   BP_ETOOBIG  431 head over max_head; 413 Content-Length over BP__HTTP_BODY_MAX
 *
 * Call it again with the same m and a longer buf (same start) after 0: it
 * continues where it stopped. A bad request line or method is reported as
 * soon as it is seen, without waiting for the end of the head.
 *
 * What it accepts: CRLF or a bare LF as line end (a CR anywhere else is
 * refused); empty lines before the request line are skipped; optional
 * whitespace around field values is trimmed; field names are
 * case-insensitive. What it refuses (400): obsolete line folding, whitespace
 * before the colon, control characters (NUL included) in any line, a method
 * that is not one of GET HEAD POST PUT DELETE OPTIONS PATCH TRACE CONNECT,
 * HTTP/1.1 without exactly one Host, duplicate Authorization, a bad or
 * conflicting Content-Length, Content-Length together with Transfer-Encoding,
 * any body on GET or HEAD, a target other than origin-form ("/..."),
 * absolute-form ("http://host/..."), "*" with OPTIONS, or authority-form with
 * CONNECT.
 */
int bp__http_parse(const char *buf, size_t len, size_t max_head, bp__http_msg *m);

#endif

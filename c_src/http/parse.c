/* parse.c: HTTP/1.x request-head parser (RFC 9112): request line, header fields, framing checks. */
#include "http/parse.h"

#include <string.h>

#include "beamprobe.h"

/* Header-field framing facts gathered while parsing, checked at the end. */
typedef struct {
    int hosts;
    int te;          /* Transfer-Encoding seen */
    int cl_seen;     /* Content-Length seen */
    int conn_close;  /* Connection: close */
    int conn_keep;   /* Connection: keep-alive */
} framing;

static int fail(bp__http_msg *m, int status)
{
    m->status = status;
    return status == 413 || status == 431 ? BP_ETOOBIG : BP_EDECODE;
}

/* tchar of RFC 9110 5.6.2: the characters of methods and field names. */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return 1;
    default:
        return 0;
    }
}

/* Visible ASCII: the characters of a request target. */
static int is_target(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

/* Field-value characters: VCHAR, obs-text, SP and HTAB; no other control character. */
static int is_value(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* p[0..n) equals the lowercase literal lit, ignoring ASCII case. */
static int eq_nocase(const char *p, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n && lit[i]; i++)
        if (lower(p[i]) != lit[i])
            return 0;
    return i == n && lit[i] == '\0';
}

static int eq(const char *p, size_t n, const char *lit)
{
    size_t ln = strlen(lit);
    return n == ln && memcmp(p, lit, n) == 0;
}

static int known_method(const char *p, size_t n)
{
    static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE",
                                           "OPTIONS", "PATCH", "TRACE", "CONNECT" };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (eq(p, n, methods[i]))
            return 1;
    return 0;
}

/* Skip empty lines (CRLF or LF) before the request line: 0 and *start, 1 need more, or an error. */
static int skip_empty_lines(const char *b, size_t len, size_t *start, bp__http_msg *m)
{
    size_t i = 0;
    while (i < len) {
        if (b[i] == '\n') {
            i++;
        } else if (b[i] == '\r') {
            if (i + 1 == len)
                return 1; /* need the LF */
            if (b[i + 1] != '\n')
                return fail(m, 400);
            i += 2;
        } else {
            break;
        }
    }
    *start = i;
    return 0;
}

/*
 * Find the end of the head (the byte after the blank line) at or after
 * m->scanned; 0 when not there yet.
 */
static size_t find_head_end(const char *b, size_t len, size_t start, bp__http_msg *m)
{
    size_t i = m->scanned > start ? m->scanned : start;
    while (i < len) {
        const char *lf = memchr(b + i, '\n', len - i);
        if (!lf)
            break;
        size_t p = (size_t)(lf - b);
        if (p + 1 >= len || (b[p + 1] == '\r' && p + 2 >= len)) {
            m->scanned = p; /* look at this LF again when more has come */
            return 0;
        }
        if (b[p + 1] == '\n')
            return p + 2;
        if (b[p + 1] == '\r' && b[p + 2] == '\n')
            return p + 3;
        i = p + 1;
    }
    m->scanned = len;
    return 0;
}

static int parse_version(const char *v, size_t n, bp__http_msg *m)
{
    if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' || v[7] < '0'
        || v[7] > '9')
        return fail(m, 400);
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
        return fail(m, 505);
    m->minor = v[7] - '0';
    return 0;
}

/* Split an origin-form target ("/path?query") into path and query. */
static void split_origin(const char *t, size_t n, bp__http_msg *m)
{
    const char *q = memchr(t, '?', n);
    m->path = t;
    m->path_len = q ? (size_t)(q - t) : n;
    if (q) {
        m->query = q + 1;
        m->query_len = n - m->path_len - 1;
    }
}

static int parse_target(const char *t, size_t n, bp__http_msg *m)
{
    static const char root[] = "/";
    if (t[0] == '/') {
        split_origin(t, n, m);
        return 0;
    }
    if (n == 1 && t[0] == '*') {
        if (!eq(m->method, m->method_len, "OPTIONS"))
            return fail(m, 400);
        m->path = t;
        m->path_len = 1;
        return 0;
    }
    size_t skip = 0;
    if (n > 7 && eq_nocase(t, 7, "http://"))
        skip = 7;
    else if (n > 8 && eq_nocase(t, 8, "https://"))
        skip = 8;
    if (skip) { /* absolute-form: drop scheme and authority */
        size_t i = skip;
        while (i < n && t[i] != '/' && t[i] != '?')
            i++;
        if (i == skip)
            return fail(m, 400);
        if (i < n && t[i] == '/') {
            split_origin(t + i, n - i, m);
        } else {
            m->path = root;
            m->path_len = 1;
            if (i < n) {
                m->query = t + i + 1;
                m->query_len = n - i - 1;
            }
        }
        return 0;
    }
    if (eq(m->method, m->method_len, "CONNECT")) { /* authority-form, passed as the path */
        m->path = t;
        m->path_len = n;
        return 0;
    }
    return fail(m, 400);
}

/* The method token seen so far, before its line is complete: refuse garbage early. */
static int check_partial_line(const char *p, size_t n, bp__http_msg *m)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == ' ')
            return i == 0 ? fail(m, 400) : 0;
        if (!is_tchar((unsigned char)p[i]) || i >= BP__HTTP_METHOD_MAX)
            return fail(m, 400);
    }
    return 0;
}

/* method SP request-target SP HTTP-version (the line without its CRLF/LF). */
static int parse_request_line(const char *p, size_t n, bp__http_msg *m)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i > BP__HTTP_METHOD_MAX || i >= n || p[i] != ' ')
        return fail(m, 400);
    m->method = p;
    m->method_len = i;
    size_t t = ++i;
    while (i < n && is_target((unsigned char)p[i]))
        i++;
    if (i == t || i >= n || p[i] != ' ')
        return fail(m, 400);
    int rc = parse_version(p + i + 1, n - i - 1, m);
    if (rc)
        return rc;
    if (!known_method(m->method, m->method_len))
        return fail(m, 400);
    m->head = eq(m->method, m->method_len, "HEAD");
    m->query = NULL;
    m->query_len = 0;
    return parse_target(p + t, i - t, m);
}

static int parse_content_length(const char *v, size_t n, bp__http_msg *m, framing *f)
{
    if (n == 0)
        return fail(m, 400);
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return fail(m, 400);
        if (x <= UINT64_MAX / 100) /* saturate: anything this large is refused as 413 */
            x = x * 10 + (uint64_t)(v[i] - '0');
    }
    if (f->cl_seen && x != m->content_length)
        return fail(m, 400);
    f->cl_seen = 1;
    m->content_length = x;
    return 0;
}

/* Comma-separated connection options: close, keep-alive (others ignored). */
static void parse_connection(const char *v, size_t n, framing *f)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (is_ows(v[i]) || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && is_ows(v[e - 1]))
            e--;
        if (eq_nocase(v + s, e - s, "close"))
            f->conn_close = 1;
        else if (eq_nocase(v + s, e - s, "keep-alive"))
            f->conn_keep = 1;
    }
}

/* One header field line (without its CRLF/LF). */
static int parse_field(const char *p, size_t n, bp__http_msg *m, framing *f)
{
    if (is_ows(p[0]))
        return fail(m, 400); /* obs-fold, or whitespace before the name */
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= n || p[i] != ':')
        return fail(m, 400);
    size_t name_len = i++;
    while (i < n && is_ows(p[i]))
        i++;
    size_t vs = i, ve = n;
    while (ve > vs && is_ows(p[ve - 1]))
        ve--;
    for (size_t k = vs; k < ve; k++)
        if (!is_value((unsigned char)p[k]))
            return fail(m, 400);
    const char *v = p + vs;
    size_t vn = ve - vs;
    if (eq_nocase(p, name_len, "host")) {
        f->hosts++;
        m->host = v;
        m->host_len = vn;
    } else if (eq_nocase(p, name_len, "content-length")) {
        return parse_content_length(v, vn, m, f);
    } else if (eq_nocase(p, name_len, "transfer-encoding")) {
        f->te = 1;
    } else if (eq_nocase(p, name_len, "connection")) {
        parse_connection(v, vn, f);
    } else if (eq_nocase(p, name_len, "expect")) {
        m->expect_continue = eq_nocase(v, vn, "100-continue");
    } else if (eq_nocase(p, name_len, "authorization")) {
        if (m->authorization)
            return fail(m, 400);
        m->authorization = v;
        m->authorization_len = vn;
    }
    return 0;
}

/* Length of the line at p (up to its LF, which must exist before end) without CR/LF. */
static size_t line_len(const char *p, const char *end, const char **next)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    size_t n = (size_t)(lf - p);
    *next = lf + 1;
    if (n > 0 && p[n - 1] == '\r')
        n--;
    return n;
}

/* Framing and connection rules once every field is known. */
static int check_framing(bp__http_msg *m, const framing *f)
{
    if (f->hosts > 1 || (m->minor == 1 && f->hosts == 0))
        return fail(m, 400);
    if (f->te && f->cl_seen)
        return fail(m, 400);
    int bodyless = m->head || eq(m->method, m->method_len, "GET");
    if (bodyless && (f->te || m->content_length > 0))
        return fail(m, 400);
    if (f->te)
        return fail(m, 411);
    if (m->content_length > BP__HTTP_BODY_MAX)
        return fail(m, 413);
    m->keep_alive = m->minor == 1 ? !f->conn_close : f->conn_keep && !f->conn_close;
    return 0;
}

/*
 * Check the request line in the first lim bytes of an incomplete head: the
 * whole line once its end is there (m->line_end then records it), else the
 * method so far. Only the first max_head bytes are looked at, so that the
 * answer does not depend on how the bytes arrived (one read or several).
 */
static int check_first_line(const char *buf, size_t lim, size_t start, bp__http_msg *m)
{
    if (m->line_end || start >= lim)
        return 0;
    const char *lf = memchr(buf + start, '\n', lim - start);
    if (!lf)
        return check_partial_line(buf + start, lim - start, m);
    const char *next;
    size_t n = line_len(buf + start, buf + lim, &next);
    int rc = parse_request_line(buf + start, n, m);
    if (rc == 0)
        m->line_end = (size_t)(next - buf);
    return rc;
}

int bp__http_parse(const char *buf, size_t len, size_t max_head, bp__http_msg *m)
{
    size_t start;
    int rc = skip_empty_lines(buf, len < max_head ? len : max_head, &start, m); /* within the cap, too */
    if (rc)
        return rc > 0 ? (len >= max_head ? fail(m, 431) : 0) : rc;
    size_t end = find_head_end(buf, len, start, m);
    if (end == 0 || end > max_head) {
        /* not complete, or too long: the request line is still refused as soon as it is seen bad */
        rc = check_first_line(buf, len < max_head ? len : max_head, start, m);
        if (rc)
            return rc;
        return end > max_head || len >= max_head ? fail(m, 431) : 0;
    }

    const char *p = buf + start, *stop = buf + end, *next;
    size_t n = line_len(p, stop, &next);
    rc = parse_request_line(p, n, m);
    if (rc)
        return rc;
    m->authorization = NULL;
    m->authorization_len = 0;
    m->host = NULL;
    m->host_len = 0;
    m->content_length = 0;
    m->expect_continue = 0;
    framing f = { 0 };
    for (p = next; p < stop; p = next) {
        n = line_len(p, stop, &next);
        if (n == 0)
            break; /* the blank line */
        rc = parse_field(p, n, m, &f);
        if (rc)
            return rc;
    }
    rc = check_framing(m, &f);
    if (rc)
        return rc;
    return (int)end;
}

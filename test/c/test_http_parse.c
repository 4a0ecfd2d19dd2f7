/* test_http_parse.c: unit tests of the HTTP/1.x request-head parser (c_src/http/parse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "http/parse.h"

#define MAX 8192

static int parse(const char *s, size_t n, bp__http_msg *m)
{
    memset(m, 0, sizeof *m);
    return bp__http_parse(s, n, MAX, m);
}

static int parse_str(const char *s, bp__http_msg *m)
{
    return parse(s, strlen(s), m);
}

static int field_is(const char *p, size_t n, const char *want)
{
    return p && n == strlen(want) && memcmp(p, want, n) == 0;
}

/* The status of a request that must be refused. */
static int refused(const char *s)
{
    bp__http_msg m;
    int rc = parse_str(s, &m);
    assert_true(rc < 0);
    return m.status;
}

static void test_simple_get(void **state)
{
    (void)state;
    const char *r = "GET /health/live?verbose=1&x HTTP/1.1\r\nHost: pod:8080\r\nUser-Agent: kube-probe/1.29\r\n"
                    "Accept: */*\r\n\r\n";
    bp__http_msg m;
    assert_int_equal(parse_str(r, &m), (int)strlen(r));
    assert_true(field_is(m.method, m.method_len, "GET"));
    assert_true(field_is(m.path, m.path_len, "/health/live"));
    assert_true(field_is(m.query, m.query_len, "verbose=1&x"));
    assert_true(field_is(m.host, m.host_len, "pod:8080"));
    assert_null(m.authorization);
    assert_int_equal(m.minor, 1);
    assert_int_equal(m.keep_alive, 1);
    assert_int_equal(m.head, 0);
    assert_int_equal(m.content_length, 0);
}

static void test_no_query_and_empty_query(void **state)
{
    (void)state;
    bp__http_msg m;
    assert_true(parse_str("GET /metrics HTTP/1.0\r\n\r\n", &m) > 0);
    assert_true(field_is(m.path, m.path_len, "/metrics"));
    assert_null(m.query);
    assert_int_equal(m.query_len, 0);
    assert_true(parse_str("GET /metrics? HTTP/1.0\r\n\r\n", &m) > 0);
    assert_true(field_is(m.path, m.path_len, "/metrics"));
    assert_non_null(m.query);
    assert_int_equal(m.query_len, 0);
    /* not decoded */
    assert_true(parse_str("GET /a%20b?q=%2F HTTP/1.0\r\n\r\n", &m) > 0);
    assert_true(field_is(m.path, m.path_len, "/a%20b"));
    assert_true(field_is(m.query, m.query_len, "q=%2F"));
}

static void test_head_and_methods(void **state)
{
    (void)state;
    bp__http_msg m;
    assert_true(parse_str("HEAD /livez HTTP/1.1\r\nHost: x\r\n\r\n", &m) > 0);
    assert_int_equal(m.head, 1);
    const char *ok[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char r[128];
        snprintf(r, sizeof r, "%s / HTTP/1.1\r\nHost: x\r\n\r\n", ok[i]);
        assert_true(parse_str(r, &m) > 0);
        assert_true(field_is(m.method, m.method_len, ok[i]));
    }
    /* unknown, lowercase, over-long, empty */
    assert_int_equal(refused("FOO / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(refused("get / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(refused("GETGETGETGETGETGETGET / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(refused(" / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(refused("G(T / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
}

static void test_request_targets(void **state)
{
    (void)state;
    bp__http_msg m;
    assert_true(parse_str("GET http://pod:8080/readyz?a=1 HTTP/1.1\r\nHost: pod\r\n\r\n", &m) > 0);
    assert_true(field_is(m.path, m.path_len, "/readyz"));
    assert_true(field_is(m.query, m.query_len, "a=1"));
    assert_true(parse_str("GET HTTPS://pod HTTP/1.1\r\nHost: pod\r\n\r\n", &m) > 0);
    assert_true(field_is(m.path, m.path_len, "/"));
    assert_true(parse_str("GET http://pod?x HTTP/1.1\r\nHost: pod\r\n\r\n", &m) > 0);
    assert_true(field_is(m.path, m.path_len, "/"));
    assert_true(field_is(m.query, m.query_len, "x"));
    assert_true(parse_str("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", &m) > 0);
    assert_true(field_is(m.path, m.path_len, "*"));
    assert_true(parse_str("CONNECT pod:443 HTTP/1.1\r\nHost: pod:443\r\n\r\n", &m) > 0);
    assert_true(field_is(m.path, m.path_len, "pod:443"));
    assert_int_equal(refused("GET * HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(refused("GET health HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(refused("GET http:/// HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(refused("GET /a b HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(refused("GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(refused("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(refused("GET  / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(refused("GET / HTTP/1.1 \r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(refused("GET /\r\nHost: x\r\n\r\n"), 400); /* HTTP/0.9 */
}

static void test_pipelined(void **state)
{
    (void)state;
    const char *r = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                    "HEAD /b HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    "GET /d HT";
    const char *want[] = { "/a", "/b", "/c" };
    size_t off = 0, n = strlen(r);
    bp__http_msg m;
    for (int i = 0; i < 3; i++) {
        int rc = parse(r + off, n - off, &m);
        assert_true(rc > 0);
        assert_true(field_is(m.path, m.path_len, want[i]));
        assert_int_equal(m.keep_alive, i < 2);
        assert_int_equal(m.head, i == 1);
        off += (size_t)rc;
    }
    assert_int_equal(parse(r + off, n - off, &m), 0);
}

static void test_body_framing(void **state)
{
    (void)state;
    bp__http_msg m;
    const char *post = "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n";
    int rc = parse_str(post, &m);
    assert_true(rc > 0);
    assert_int_equal(m.content_length, 5);
    assert_memory_equal(post + rc, "hello", 5);
    assert_int_equal(m.expect_continue, 0);
    assert_true(parse_str("PUT /x HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 9\r\n\r\n", &m) > 0);
    assert_int_equal(m.expect_continue, 1);
    assert_true(parse_str("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", &m) > 0);
    assert_true(parse_str("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &m) > 0);
    /* bodies on GET/HEAD */
    assert_int_equal(refused("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n"), 400);
    assert_int_equal(refused("HEAD / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    /* chunked elsewhere: send a length */
    assert_int_equal(refused("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"), 411);
    /* smuggling shapes */
    assert_int_equal(refused("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
                     400);
    assert_int_equal(refused("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"), 400);
    assert_int_equal(refused("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\n"), 400);
    assert_int_equal(refused("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"), 400);
    assert_int_equal(refused("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n"), 400);
    assert_int_equal(refused("POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n"), 400);
    /* too large to drain */
    assert_int_equal(refused("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n"), 413);
    assert_int_equal(refused("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999999\r\n\r\n"), 413);
    bp__http_msg m2;
    assert_int_equal(parse_str("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n", &m2), BP_ETOOBIG);
}

static void test_connection_and_versions(void **state)
{
    (void)state;
    bp__http_msg m;
    assert_true(parse_str("GET / HTTP/1.0\r\n\r\n", &m) > 0);
    assert_int_equal(m.minor, 0);
    assert_int_equal(m.keep_alive, 0);
    assert_true(parse_str("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &m) > 0);
    assert_int_equal(m.keep_alive, 1);
    assert_true(parse_str("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &m) > 0);
    assert_int_equal(m.keep_alive, 0);
    assert_true(parse_str("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, CLOSE\r\n\r\n", &m) > 0);
    assert_int_equal(m.keep_alive, 0);
    assert_true(parse_str("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n", &m) > 0);
    assert_int_equal(m.keep_alive, 1);
    assert_true(parse_str("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", &m) > 0);
    assert_int_equal(m.keep_alive, 0);
    /* versions */
    assert_int_equal(refused("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
    assert_int_equal(refused("GET / HTTP/1.2\r\nHost: x\r\n\r\n"), 505);
    assert_int_equal(refused("GET / HTTP/0.9\r\nHost: x\r\n\r\n"), 505);
    assert_int_equal(refused("GET / HTTP/3.0\r\nHost: x\r\n\r\n"), 505);
    assert_int_equal(refused("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
    assert_int_equal(refused("GET / HTTP/1\r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(refused("GET / HTTP/1.10\r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(refused("GET / http/1.1\r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(refused("GET / HTTX/1.1\r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(refused("GET / HTTP/1.a\r\nHost: x\r\n\r\n"), 400);
    /* HTTP/1.1 needs exactly one Host */
    assert_int_equal(refused("GET / HTTP/1.1\r\n\r\n"), 400);
    assert_int_equal(refused("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
}

static void test_case_insensitive_names(void **state)
{
    (void)state;
    bp__http_msg m;
    assert_true(parse_str("GET / HTTP/1.1\r\nhOST: x\r\nAUTHORIZATION: Bearer t0k\r\nconnection: CLOSE\r\n\r\n", &m)
                > 0);
    assert_true(field_is(m.host, m.host_len, "x"));
    assert_true(field_is(m.authorization, m.authorization_len, "Bearer t0k"));
    assert_int_equal(m.keep_alive, 0);
    assert_true(parse_str("POST / HTTP/1.1\r\nHost: x\r\ncOnTeNt-LeNgTh: 2\r\n\r\n", &m) > 0);
    assert_int_equal(m.content_length, 2);
    assert_int_equal(refused("GET / HTTP/1.1\r\nHost: x\r\nauthorization: a\r\nAuthorization: b\r\n\r\n"), 400);
}

static void test_whitespace(void **state)
{
    (void)state;
    bp__http_msg m;
    /* optional whitespace around values, tabs included; empty values; inner spaces kept */
    assert_true(parse_str("GET / HTTP/1.1\r\nHost:x\r\nAuthorization: \t Bearer  a b \t \r\nX-Empty:\r\n"
                          "X-Blank:   \r\n\r\n", &m) > 0);
    assert_true(field_is(m.host, m.host_len, "x"));
    assert_true(field_is(m.authorization, m.authorization_len, "Bearer  a b"));
    /* obs-text in values is allowed */
    assert_true(parse_str("GET / HTTP/1.1\r\nHost: x\r\nX-Name: caf\xc3\xa9\r\n\r\n", &m) > 0);
    /* obsolete line folding */
    assert_int_equal(refused("GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n"), 400);
    assert_int_equal(refused("GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n\ttwo\r\n\r\n"), 400);
    /* whitespace before the colon or before the name */
    assert_int_equal(refused("GET / HTTP/1.1\r\nHost : x\r\n\r\n"), 400);
    assert_int_equal(refused("GET / HTTP/1.1\r\n Host: x\r\n\r\n"), 400);
    /* no colon, empty name, bad name characters */
    assert_int_equal(refused("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n"), 400);
    assert_int_equal(refused("GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n"), 400);
    assert_int_equal(refused("GET / HTTP/1.1\r\nHost: x\r\nX(y): v\r\n\r\n"), 400);
    /* control characters in values */
    assert_int_equal(refused("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01z\r\n\r\n"), 400);
    assert_int_equal(refused("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fz\r\n\r\n"), 400);
}

static void test_line_endings(void **state)
{
    (void)state;
    bp__http_msg m;
    /* bare LF is accepted as a line end, also mixed with CRLF */
    const char *lf = "GET /lf HTTP/1.1\nHost: x\nConnection: close\n\n";
    assert_int_equal(parse_str(lf, &m), (int)strlen(lf));
    assert_true(field_is(m.path, m.path_len, "/lf"));
    assert_int_equal(m.keep_alive, 0);
    const char *mixed = "GET / HTTP/1.1\r\nHost: x\n\r\n";
    assert_int_equal(parse_str(mixed, &m), (int)strlen(mixed));
    /* empty lines before the request line are skipped */
    const char *lead = "\r\n\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(parse_str(lead, &m), (int)strlen(lead));
    assert_true(field_is(m.method, m.method_len, "GET"));
    /* a CR that does not end a line */
    assert_int_equal(refused("GET / HTTP/1.1\r\r\nHost: x\r\n\r\n"), 400);
    assert_int_equal(refused("GET / HTTP/1.1\r\nHost: x\r\r\n\r\n"), 400);
    assert_int_equal(refused("GET / HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n"), 400);
    assert_int_equal(refused("GET / HTTP/1.1\r\nHost: x\r\n\rX\r\n\r\n"), 400);
    assert_int_equal(refused("\rGET / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
}

static void test_missing_crlf_needs_more(void **state)
{
    (void)state;
    bp__http_msg m;
    assert_int_equal(parse_str("GET / HTTP/1.1", &m), 0);
    assert_int_equal(parse_str("GET / HTTP/1.1\r\n", &m), 0);
    assert_int_equal(parse_str("GET / HTTP/1.1\r\nHost: x", &m), 0);
    assert_int_equal(parse_str("GET / HTTP/1.1\r\nHost: x\r\n", &m), 0);
    assert_int_equal(parse_str("GET / HTTP/1.1\r\nHost: x\r\n\r", &m), 0);
    assert_int_equal(parse_str("", &m), 0);
    assert_int_equal(parse_str("\r\n", &m), 0);
}

static void test_nul_bytes(void **state)
{
    (void)state;
#define R(lit) { lit, sizeof lit - 1 }
    static const struct {
        const char *s;
        size_t n;
    } reqs[] = {
        R("G\0T / HTTP/1.1\r\nHost: x\r\n\r\n"),
        R("GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n"),
        R("GET / HTTP/1.1\0\r\nHost: x\r\n\r\n"),
        R("GET / HTTP/1.1\r\nHo\0st: x\r\n\r\n"),
        R("GET / HTTP/1.1\r\nHost: x\0y\r\n\r\n"),
        R("GET / HTTP/1.1\r\nHost: x\r\nX-A: \0\r\n\r\n"),
        R("\0GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        R("GET / HTTP/1.1\r\nHost: x\r\n\0\r\n\r\n"),
    };
#undef R
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        bp__http_msg m;
        assert_int_equal(parse(reqs[i].s, reqs[i].n, &m), BP_EDECODE);
        assert_int_equal(m.status, 400);
    }
}

static void test_garbage_refused_early(void **state)
{
    (void)state;
    bp__http_msg m;
    /* a TLS ClientHello on the plain port: refused before any line end */
    const char hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
    assert_int_equal(parse(hello, sizeof hello - 1, &m), BP_EDECODE);
    assert_int_equal(m.status, 400);
    assert_int_equal(parse_str("xx\x01", &m), BP_EDECODE);
    assert_int_equal(parse_str("ABCDEFGHIJKLMNOPQ", &m), BP_EDECODE); /* 17-character method */
    /* a bad request line is refused at its LF, before the blank line */
    assert_int_equal(parse_str("GET / HTTP/9.9\r\nHost: x\r\n", &m), BP_EDECODE);
    assert_int_equal(m.status, 505);
    assert_int_equal(parse_str("GET nope HTTP/1.1\r\n", &m), BP_EDECODE);
}

static void test_very_long_lines(void **state)
{
    (void)state;
    bp__http_msg m;
    size_t n = 20000;
    char *r = malloc(n + 64);
    assert_non_null(r);
    /* a 10 KiB target */
    memcpy(r, "GET /", 5);
    memset(r + 5, 'a', 10240);
    size_t o = 5 + 10240;
    memcpy(r + o, " HTTP/1.1\r\nHost: x\r\n\r\n", 22);
    o += 22;
    assert_int_equal(bp__http_parse(r, o, MAX, memset(&m, 0, sizeof m)), BP_ETOOBIG);
    assert_int_equal(m.status, 431);
    /* the same while still arriving: refused once the cap is reached */
    assert_int_equal(bp__http_parse(r, MAX, MAX, memset(&m, 0, sizeof m)), BP_ETOOBIG);
    assert_int_equal(bp__http_parse(r, MAX - 1, MAX, memset(&m, 0, sizeof m)), 0);
    /* accepted with a larger cap */
    assert_int_equal(bp__http_parse(r, o, 16384, memset(&m, 0, sizeof m)), (int)o);
    assert_int_equal(m.path_len, 10241);
    /* a 10 KiB header value */
    const char *start = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ";
    size_t sl = strlen(start);
    memcpy(r, start, sl);
    memset(r + sl, 'b', 10240);
    memcpy(r + sl + 10240, "\r\n\r\n", 4);
    o = sl + 10240 + 4;
    assert_int_equal(bp__http_parse(r, o, MAX, memset(&m, 0, sizeof m)), BP_ETOOBIG);
    assert_int_equal(m.status, 431);
    /* a head of exactly the cap is fine, one byte more is not */
    assert_int_equal(bp__http_parse(r, o, o, memset(&m, 0, sizeof m)), (int)o);
    assert_int_equal(bp__http_parse(r, o, o - 1, memset(&m, 0, sizeof m)), BP_ETOOBIG);
    free(r);
}

/* Every proper prefix needs more bytes, then the whole request parses, fresh or incrementally. */
static void check_all_prefixes(const char *r, size_t n)
{
    bp__http_msg inc;
    memset(&inc, 0, sizeof inc);
    for (size_t k = 0; k < n; k++) {
        bp__http_msg m;
        assert_int_equal(parse(r, k, &m), 0);
        assert_int_equal(bp__http_parse(r, k, MAX, &inc), 0);
    }
    bp__http_msg m;
    assert_int_equal(parse(r, n, &m), (int)n);
    assert_int_equal(bp__http_parse(r, n, MAX, &inc), (int)n);
    assert_int_equal(inc.method_len, m.method_len);
    assert_int_equal(inc.path_len, m.path_len);
    assert_int_equal(inc.keep_alive, m.keep_alive);
}

static void test_truncated_at_every_offset(void **state)
{
    (void)state;
    static const char *const reqs[] = {
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        ("GET /health/ready?x=1 HTTP/1.1\r\nHost: pod:8080\r\nUser-Agent: kube-probe/1.29\r\n"
         "Authorization: Bearer abc\r\nConnection: close\r\n\r\n"),
        "\r\nHEAD /livez HTTP/1.0\nConnection: keep-alive\n\n",
        "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++)
        check_all_prefixes(reqs[i], strlen(reqs[i]));
}

/* Deterministic mutations: the parser must never crash, read out of bounds or return nonsense. */
static void test_mutations_are_safe(void **state)
{
    (void)state;
    const char *base = "GET /health?x=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: 0\r\n\r\n";
    size_t n = strlen(base);
    char *r = malloc(n);
    assert_non_null(r);
    unsigned seed = 12345;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(r, base, n);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % n;
            seed = seed * 1103515245u + 12345u;
            r[at] = (char)(seed >> 16);
        }
        seed = seed * 1103515245u + 12345u;
        size_t len = (seed >> 8) % (n + 1);
        bp__http_msg m;
        int rc = parse(r, len, &m);
        assert_true(rc <= (int)len);
        if (rc < 0)
            assert_true(m.status >= 400 && m.status <= 505);
        if (rc > 0) {
            assert_true(m.method >= r && m.method + m.method_len <= r + rc);
            assert_true(m.path_len > 0);
        }
    }
    free(r);
}

/* One read or two, the same answer: a bad request line wins over the head-size limit (found by fuzz_http). */
static void test_same_answer_however_split(void **state)
{
    (void)state;
    static const char r[] = "/1.1\r\x7fPOST / HTTP/0.1\r\nContent-Length: 3\r\nCooten\nHost: x\r\n"
                            "t-LengthHTTP/CN4o";
    size_t len = sizeof r - 1, cuts[] = { 0, 5, 23, 24, 40, len };
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        bp__http_msg m;
        memset(&m, 0, sizeof m);
        int rc = bp__http_parse(r, cuts[k], 64, &m);
        if (rc == 0)
            rc = bp__http_parse(r, len, 64, &m);
        assert_int_equal(rc, BP_EDECODE);
        assert_int_equal(m.status, 400);
    }
    /* a request line longer than the limit, bad only after it: 431, whatever the reads */
    char line[200];
    memset(line, 'a', sizeof line);
    memcpy(line, "GET /", 5);
    line[150] = '\0';
    memcpy(line + 190, "\r\n\r\n", 4);
    for (size_t cut = 0; cut <= 194; cut += 8) {
        bp__http_msg m;
        memset(&m, 0, sizeof m);
        int rc = bp__http_parse(line, cut, 64, &m);
        if (rc == 0)
            rc = bp__http_parse(line, 194, 64, &m);
        assert_int_equal(rc, BP_ETOOBIG);
        assert_int_equal(m.status, 431);
    }
    /* empty lines up to the limit, then a stray CR: 431, whatever the reads */
    char lfs[100];
    memset(lfs, '\n', sizeof lfs);
    memcpy(lfs + 75, "\r^/health/live\0", 15);
    for (size_t cut = 0; cut <= sizeof lfs; cut += 10) {
        bp__http_msg m;
        memset(&m, 0, sizeof m);
        int rc = bp__http_parse(lfs, cut, 64, &m);
        if (rc == 0)
            rc = bp__http_parse(lfs, sizeof lfs, 64, &m);
        assert_int_equal(rc, BP_ETOOBIG);
        assert_int_equal(m.status, 431);
    }
    /* a good request line, then a head over the limit: 431 in one read or two */
    static const char big[] = "GET / HTTP/1.1\r\nHost: x\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    for (size_t cut = 0; cut <= sizeof big - 1; cut += 16) {
        bp__http_msg m;
        memset(&m, 0, sizeof m);
        int rc = bp__http_parse(big, cut, 64, &m);
        if (rc == 0)
            rc = bp__http_parse(big, sizeof big - 1, 64, &m);
        assert_int_equal(rc, BP_ETOOBIG);
        assert_int_equal(m.status, 431);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_no_query_and_empty_query),
        cmocka_unit_test(test_head_and_methods),
        cmocka_unit_test(test_request_targets),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_body_framing),
        cmocka_unit_test(test_connection_and_versions),
        cmocka_unit_test(test_case_insensitive_names),
        cmocka_unit_test(test_whitespace),
        cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_missing_crlf_needs_more),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_garbage_refused_early),
        cmocka_unit_test(test_very_long_lines),
        cmocka_unit_test(test_truncated_at_every_offset),
        cmocka_unit_test(test_mutations_are_safe),
        cmocka_unit_test(test_same_answer_however_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

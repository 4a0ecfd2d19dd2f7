/* test_http_server.c: the HTTP server end to end on 127.0.0.1:0 in a thread, with libcurl and raw sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "http/server.h"
#include "test_certs.h"

/* ---------- the test handler ---------- */

#define BIG_LEN (8u << 20)

typedef struct {
    atomic_int releases; /* release(hold) calls */
    atomic_int holds;    /* responses handed out with a hold */
    char *big;           /* BIG_LEN bytes */
} tctx;

static tctx g_ctx;

static void count_release(void *hold)
{
    tctx *t = hold;
    atomic_fetch_add(&t->releases, 1);
}

static int path_is(const bp_http_request *r, const char *p)
{
    return r->path_len == strlen(p) && memcmp(r->path, p, r->path_len) == 0;
}

static void set_tail(bp_http_response *resp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_tail(bp_http_response *resp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(resp->tail, sizeof resp->tail, fmt, ap);
    va_end(ap);
    resp->tail_len = n > 0 && (size_t)n < sizeof resp->tail ? (size_t)n : sizeof resp->tail - 1;
}

static void handler(void *ctx, const bp_http_request *req, bp_http_response *resp)
{
    tctx *t = ctx;
    int is_get = (req->method_len == 3 && memcmp(req->method, "GET", 3) == 0) || req->head;
    if (!is_get) {
        resp->status = 405;
        resp->content_type = "text/plain";
        resp->body = "method not allowed\n";
        resp->body_len = strlen(resp->body);
        resp->headers_len = (size_t)snprintf(resp->headers, sizeof resp->headers, "Allow: GET, HEAD\r\n");
        return;
    }
    resp->hold = t;
    resp->release = count_release;
    atomic_fetch_add(&t->holds, 1);
    if (path_is(req, "/hello")) {
        resp->status = 200;
        resp->content_type = "text/plain";
        resp->body = "hello";
        resp->body_len = 5;
        set_tail(resp, " world\n");
        resp->headers_len = (size_t)snprintf(resp->headers, sizeof resp->headers, "X-Test: yes\r\n");
    } else if (path_is(req, "/echo")) {
        resp->status = 200;
        resp->content_type = "text/plain";
        set_tail(resp, "path=%.*s query=%.*s auth=%.*s\n", (int)req->path_len, req->path,
                 req->query ? (int)req->query_len : 6, req->query ? req->query : "(none)",
                 req->authorization ? (int)req->authorization_len : 6,
                 req->authorization ? req->authorization : "(none)");
    } else if (path_is(req, "/big")) {
        resp->status = 200;
        resp->content_type = "application/octet-stream";
        resp->body = t->big;
        resp->body_len = BIG_LEN;
    } else if (path_is(req, "/zero")) {
        resp->body = "never sent";
        resp->body_len = 10; /* status left 0: the handler failed */
    } else if (path_is(req, "/badheaders")) {
        resp->status = 200;
        resp->headers_len = (size_t)snprintf(resp->headers, sizeof resp->headers, "X-No-Crlf: 1");
    } else if (path_is(req, "/nocontent")) {
        resp->status = 204;
    } else {
        resp->status = 404;
        resp->content_type = "text/plain";
        resp->body = "not found\n";
        resp->body_len = 10;
    }
}

/* ---------- a server in a thread ---------- */

typedef struct {
    bp_http_server *s;
    pthread_t th;
    int rc;
    int port;
} srv;

static void *run_thread(void *arg)
{
    srv *v = arg;
    v->rc = bp_http_run(v->s);
    return NULL;
}

static void srv_start(srv *v, const bp_http_opts *o)
{
    char err[512] = "";
    memset(v, 0, sizeof *v);
    int rc = bp_http_new(o, handler, &g_ctx, &v->s, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "bp_http_new: %s\n", err);
    assert_int_equal(rc, 0);
    v->port = bp_http_port(v->s);
    assert_true(v->port > 0);
    v->rc = -999;
    assert_int_equal(pthread_create(&v->th, NULL, run_thread, v), 0);
}

static void srv_start_plain(srv *v)
{
    bp_http_opts o = { .listen = "127.0.0.1:0" };
    srv_start(v, &o);
}

static void srv_stop(srv *v)
{
    bp_http_stop(v->s);
    pthread_join(v->th, NULL);
    assert_int_equal(v->rc, 0);
    bp_http_free(v->s);
    v->s = NULL;
}

/* Wait until every hold handed out has been released (the server thread runs on its own). */
static void wait_releases(void)
{
    for (int i = 0; i < 500 && atomic_load(&g_ctx.releases) != atomic_load(&g_ctx.holds); i++)
        usleep(10000);
    assert_int_equal(atomic_load(&g_ctx.releases), atomic_load(&g_ctx.holds));
}

/* ---------- raw sockets ---------- */

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int raw_connect_rcvbuf(int port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr = { .s_addr = htonl(INADDR_LOOPBACK) } };
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = { .tv_sec = 5 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static int raw_connect(int port)
{
    return raw_connect_rcvbuf(port, 0);
}

static void raw_send(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        assert_true(w > 0);
        p += w;
        n -= (size_t)w;
    }
}

static void raw_send_str(int fd, const char *s)
{
    raw_send(fd, s, strlen(s));
}

/* Complete responses at the start of b[0..len) (HEAD answers not supported). */
static int count_responses(const char *b, size_t len)
{
    int n = 0;
    size_t off = 0;
    while (off < len) {
        const char *e = memmem(b + off, len - off, "\r\n\r\n", 4);
        if (!e)
            break;
        size_t hl = (size_t)(e + 4 - (b + off));
        const char *cl = memmem(b + off, hl, "Content-Length: ", 16);
        size_t body = cl ? strtoul(cl + 16, NULL, 10) : 0;
        if (off + hl + body > len)
            break;
        off += hl + body;
        n++;
    }
    return n;
}

/* Read until n responses are complete, or EOF / error / 5 s; returns bytes (NUL-terminated). */
static size_t read_responses(int fd, int n, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    while (count_responses(buf, len) < n && len + 1 < cap) {
        ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
    }
    return len;
}

/* 1 when the peer has closed (EOF or reset) within 5 s, 0 when data came instead, -1 timeout. */
static int peer_closed(int fd)
{
    char c;
    ssize_t r = recv(fd, &c, 1, 0);
    if (r == 0 || (r < 0 && errno == ECONNRESET))
        return 1;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return -1;
    return r > 0 ? 0 : 1;
}

static size_t read_until_closed(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    buf[len] = '\0';
    return len;
}

/* ---------- curl ---------- */

typedef struct {
    char data[65536];
    size_t len;
    size_t total;
    int abort_after_first; /* return 0 from the write callback: curl drops the connection */
} sink;

static size_t on_data(char *p, size_t sz, size_t n, void *u)
{
    sink *s = u;
    size_t k = sz * n;
    if (s->abort_after_first && s->total > 0)
        return 0;
    size_t room = sizeof s->data - 1 - s->len;
    size_t c = k < room ? k : room;
    memcpy(s->data + s->len, p, c);
    s->len += c;
    s->data[s->len] = '\0';
    s->total += k;
    return k;
}

static CURL *curl_new(void)
{
    CURL *h = curl_easy_init();
    assert_non_null(h);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* curl must not touch SIGPIPE: the server has to cope alone */
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    return h;
}

/* Perform url; returns the HTTP status (0 if the transfer failed) and the body in out. */
static long curl_get(CURL *h, const char *url, sink *out, CURLcode *cc)
{
    long code = 0;
    memset(out, 0, sizeof *out);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    CURLcode rc = curl_easy_perform(h);
    if (cc)
        *cc = rc;
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

static void url_for(char *u, size_t n, const char *scheme, int port, const char *path)
{
    snprintf(u, n, "%s://127.0.0.1:%d%s", scheme, port, path);
}

/* ---------- plain HTTP ---------- */

static void test_get_and_head(void **state)
{
    (void)state;
    srv v;
    srv_start_plain(&v);
    CURL *h = curl_new();
    sink out;
    char url[128];
    url_for(url, sizeof url, "http", v.port, "/hello");
    assert_int_equal(curl_get(h, url, &out, NULL), 200);
    assert_string_equal(out.data, "hello world\n");
    curl_off_t clo = 0;
    curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clo);
    assert_int_equal(clo, 12);
    char *ct = NULL;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    assert_non_null(ct);
    assert_string_equal(ct, "text/plain");

    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    assert_int_equal(curl_get(h, url, &out, NULL), 200);
    assert_int_equal(out.len, 0);
    curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clo);
    assert_int_equal(clo, 12);
    curl_easy_setopt(h, CURLOPT_NOBODY, 0L);

    url_for(url, sizeof url, "http", v.port, "/echo?a=1&b=%20");
    curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, "t0k3n");
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
    assert_int_equal(curl_get(h, url, &out, NULL), 200);
    assert_string_equal(out.data, "path=/echo query=a=1&b=%20 auth=Bearer t0k3n\n");
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_NONE);

    url_for(url, sizeof url, "http", v.port, "/nowhere");
    assert_int_equal(curl_get(h, url, &out, NULL), 404);
    curl_easy_cleanup(h);

    /* the raw head: status line, Date, framing, extra header */
    int fd = raw_connect(v.port);
    char buf[4096];
    raw_send_str(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    read_responses(fd, 1, buf, sizeof buf);
    assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(buf, "\r\nDate: "));
    assert_non_null(strstr(buf, " GMT\r\n"));
    assert_non_null(strstr(buf, "\r\nContent-Length: 12\r\n"));
    assert_non_null(strstr(buf, "\r\nConnection: keep-alive\r\n"));
    assert_non_null(strstr(buf, "\r\nX-Test: yes\r\n\r\nhello world\n"));
    /* HEAD: the same head and no body; 204: no Content-Length, no body */
    raw_send_str(fd, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /nocontent HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    read_until_closed(fd, buf, sizeof buf);
    char *second = strstr(buf, "\r\n\r\n");
    assert_non_null(second);
    assert_non_null(strstr(buf, "Content-Length: 12\r\n"));
    second += 4;
    assert_true(starts_with(second, "HTTP/1.1 204 No Content\r\n"));
    assert_null(strstr(second, "Content-Length"));
    assert_non_null(strstr(second, "Connection: close\r\n\r\n"));
    assert_int_equal(strlen(strstr(second, "\r\n\r\n")), 4);
    close(fd);
    srv_stop(&v);
    wait_releases();
}

static void test_keepalive_reuse(void **state)
{
    (void)state;
    srv v;
    srv_start_plain(&v);
    CURL *h = curl_new();
    sink out;
    char url[128];
    url_for(url, sizeof url, "http", v.port, "/hello");
    for (int i = 0; i < 5; i++) {
        assert_int_equal(curl_get(h, url, &out, NULL), 200);
        long conns = -1;
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &conns);
        assert_int_equal(conns, i == 0 ? 1 : 0); /* only the first transfer opened a connection */
    }
    /* HTTP/1.0 closes unless asked, and keeps the connection when asked */
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_0);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    assert_int_equal(curl_get(h, url, &out, NULL), 200);
    curl_easy_cleanup(h);

    int fd = raw_connect(v.port);
    char buf[4096];
    raw_send_str(fd, "GET /hello HTTP/1.0\r\n\r\n");
    read_until_closed(fd, buf, sizeof buf);
    assert_non_null(strstr(buf, "Connection: close\r\n"));
    assert_non_null(strstr(buf, "hello world\n"));
    close(fd);

    fd = raw_connect(v.port);
    raw_send_str(fd, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    read_responses(fd, 1, buf, sizeof buf);
    assert_non_null(strstr(buf, "Connection: keep-alive\r\n"));
    raw_send_str(fd, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    read_until_closed(fd, buf, sizeof buf);
    assert_non_null(strstr(buf, "Connection: close\r\n"));
    close(fd);
    srv_stop(&v);
    wait_releases();
}

static void test_pipelining(void **state)
{
    (void)state;
    srv v;
    srv_start_plain(&v);
    char buf[16384];
    int fd = raw_connect(v.port);
    raw_send_str(fd, "GET /echo?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /echo?n=2 HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /echo?n=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    size_t n = read_until_closed(fd, buf, sizeof buf);
    assert_int_equal(count_responses(buf, n), 3);
    char *a = strstr(buf, "query=n=1"), *b = strstr(buf, "query=n=2"), *c = strstr(buf, "query=n=3");
    assert_true(a && b && c && a < b && b < c);
    close(fd);

    /* many at once: more than one buffer and more than one turn of the loop */
    enum { N = 400 };
    static char req[N * 64];
    size_t len = 0;
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(req + len, sizeof req - len, "GET /echo?i=%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
    static char resp[N * 512];
    fd = raw_connect(v.port);
    raw_send(fd, req, len);
    n = read_responses(fd, N, resp, sizeof resp);
    assert_int_equal(count_responses(resp, n), N);
    char *p = resp;
    for (int i = 0; i < N; i++) { /* in order */
        char want[32];
        snprintf(want, sizeof want, "query=i=%d ", i);
        p = strstr(p, want);
        assert_non_null(p);
    }
    close(fd);

    /* one byte at a time */
    fd = raw_connect(v.port);
    const char *slow = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    for (size_t i = 0; slow[i]; i++) {
        raw_send(fd, slow + i, 1);
        usleep(1000);
    }
    read_responses(fd, 1, buf, sizeof buf);
    assert_non_null(strstr(buf, "hello world\n"));
    close(fd);
    srv_stop(&v);
    wait_releases();
}

static void test_request_errors(void **state)
{
    (void)state;
    srv v;
    srv_start_plain(&v);
    char buf[16384];

    /* 10 KiB of headers: 431, then the connection closes */
    int fd = raw_connect(v.port);
    static char big[12000];
    size_t o = (size_t)snprintf(big, sizeof big, "GET /hello HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; o < 10240 + 100; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, "X-Filler-%03d: %0100d\r\n", i, 0);
    o += (size_t)snprintf(big + o, sizeof big - o, "\r\n");
    raw_send(fd, big, o);
    read_until_closed(fd, buf, sizeof buf);
    assert_true(starts_with(buf, "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
    assert_non_null(strstr(buf, "Connection: close\r\n"));
    close(fd);

    /* curl sees the same */
    CURL *h = curl_new();
    struct curl_slist *hdrs = NULL;
    static char line[11000];
    memcpy(line, "X-Huge: ", 8);
    memset(line + 8, 'h', 10240);
    line[8 + 10240] = '\0';
    hdrs = curl_slist_append(hdrs, line);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    sink out;
    char url[128];
    url_for(url, sizeof url, "http", v.port, "/hello");
    assert_int_equal(curl_get(h, url, &out, NULL), 431);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);

    struct {
        const char *req;
        const char *status;
    } cases[] = {
        { "\x01\x02garbage\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n" },
        { "GARBAGE\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n" },
        { "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", "HTTP/1.1 400 Bad Request\r\n" }, /* TLS hello */
        { "GET / HTTP/2.0\r\nHost: x\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported\r\n" },
        { "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n" },
        { "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody", "HTTP/1.1 400 Bad Request\r\n" },
        { "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HTTP/1.1 411 " },
        { "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n", "HTTP/1.1 413 " },
        { "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fd = raw_connect(v.port);
        raw_send_str(fd, cases[i].req);
        read_until_closed(fd, buf, sizeof buf);
        if (!starts_with(buf, cases[i].status))
            fail_msg("case %zu: got \"%.60s\"", i, buf);
        assert_non_null(strstr(buf, "Connection: close\r\n"));
        close(fd);
    }

    /* the handler's own mistakes: 500 */
    h = curl_new();
    url_for(url, sizeof url, "http", v.port, "/zero");
    assert_int_equal(curl_get(h, url, &out, NULL), 500);
    assert_string_equal(out.data, "500 Internal Server Error\n");
    url_for(url, sizeof url, "http", v.port, "/badheaders");
    assert_int_equal(curl_get(h, url, &out, NULL), 500);
    curl_easy_cleanup(h);
    srv_stop(&v);
    wait_releases();
}

static void test_body_discarded_keepalive(void **state)
{
    (void)state;
    srv v;
    srv_start_plain(&v);
    char buf[8192];
    int fd = raw_connect(v.port);
    /* a POST body (split across sends) is dropped and the next request answered on the same connection */
    raw_send_str(fd, "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello");
    usleep(20000);
    raw_send_str(fd, "worldGET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    size_t n = read_until_closed(fd, buf, sizeof buf);
    assert_int_equal(count_responses(buf, n), 2);
    assert_true(starts_with(buf, "HTTP/1.1 405 Method Not Allowed\r\n"));
    assert_non_null(strstr(buf, "Allow: GET, HEAD\r\n"));
    assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
    close(fd);

    /* a 60 000-byte body spans many reads of the 8 KiB buffer */
    static char post[70000];
    size_t pl = (size_t)snprintf(post, sizeof post, "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n");
    memset(post + pl, 'p', 60000);
    pl += 60000;
    pl += (size_t)snprintf(post + pl, sizeof post - pl, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    fd = raw_connect(v.port);
    raw_send(fd, post, pl);
    n = read_responses(fd, 2, buf, sizeof buf);
    assert_int_equal(count_responses(buf, n), 2);
    assert_true(starts_with(buf, "HTTP/1.1 405 "));
    assert_non_null(strstr(buf, "hello world\n"));
    close(fd);

    /* the client half-closes right after its request: it still gets the answer, then EOF */
    fd = raw_connect(v.port);
    raw_send_str(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    shutdown(fd, SHUT_WR);
    int64_t t0 = bp_now_ms();
    n = read_until_closed(fd, buf, sizeof buf);
    assert_int_equal(count_responses(buf, n), 1);
    assert_non_null(strstr(buf, "hello world\n"));
    assert_true(bp_now_ms() - t0 < 4000); /* closed at EOF, not by the 30 s idle timeout */
    close(fd);

    /* a body announced with Expect: 100-continue may never come: answer, then close */
    fd = raw_connect(v.port);
    raw_send_str(fd, "PUT /hello HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n");
    n = read_until_closed(fd, buf, sizeof buf);
    assert_int_equal(count_responses(buf, n), 1);
    assert_true(starts_with(buf, "HTTP/1.1 405 Method Not Allowed\r\n"));
    assert_non_null(strstr(buf, "Connection: close\r\n"));
    close(fd);

    /* curl POST */
    CURL *h = curl_new();
    sink out;
    char url[128];
    url_for(url, sizeof url, "http", v.port, "/hello");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "x=1");
    assert_int_equal(curl_get(h, url, &out, NULL), 405);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    assert_int_equal(curl_get(h, url, &out, NULL), 200);
    long conns = -1;
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &conns);
    assert_int_equal(conns, 0);
    curl_easy_cleanup(h);
    srv_stop(&v);
    wait_releases();
}

static void test_idle_timeout(void **state)
{
    (void)state;
    srv v;
    bp_http_opts o = { .listen = "127.0.0.1:0", .idle_timeout_ms = 200 };
    srv_start(&v, &o);
    /* silent client */
    int fd = raw_connect(v.port);
    int64_t t0 = bp_now_ms();
    assert_int_equal(peer_closed(fd), 1);
    printf("    idle connection closed after %lld ms (timeout 200)\n", (long long)(bp_now_ms() - t0));
    close(fd);
    /* slowloris: half a request, then a byte now and then; never extended */
    fd = raw_connect(v.port);
    raw_send_str(fd, "GET /hello HTTP/1.1\r\n");
    for (int i = 0; i < 6; i++) {
        usleep(50000);
        if (send(fd, "X", 1, MSG_NOSIGNAL) < 0)
            break;
    }
    assert_int_equal(peer_closed(fd), 1);
    close(fd);
    /* keep-alive: a served connection is closed once idle */
    fd = raw_connect(v.port);
    char buf[4096];
    raw_send_str(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    read_responses(fd, 1, buf, sizeof buf);
    assert_non_null(strstr(buf, "hello world"));
    assert_int_equal(peer_closed(fd), 1);
    close(fd);
    srv_stop(&v);
    wait_releases();
}

/* Send one GET on fd and read its answer into buf (NUL-terminated); 1 if it was a 200. */
static int get_ok(int fd, const char *path, char *buf, size_t cap)
{
    char req[256];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    (void)!send(fd, req, strlen(req), MSG_NOSIGNAL);
    read_responses(fd, 1, buf, cap);
    return starts_with(buf, "HTTP/1.1 200 OK\r\n");
}

/* Start /big on a connection with a small receive buffer and read a little: the answer stays mid-write. */
static int start_big(int port, size_t *got)
{
    int fd = raw_connect_rcvbuf(port, 32 * 1024);
    char tmp[4096];
    raw_send_str(fd, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    ssize_t r = recv(fd, tmp, sizeof tmp, 0);
    assert_true(r > 0);
    *got = (size_t)r;
    return fd;
}

/* Read the rest of a /big answer (got bytes of it already read); 1 when head and body all arrived. */
static int finish_big(int fd, size_t got)
{
    size_t cap = BIG_LEN + 8192, len = got;
    char *buf = malloc(cap);
    assert_non_null(buf);
    while (len < cap) {
        ssize_t r = recv(fd, buf + len, cap - len, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len > BIG_LEN + 64) /* the head is more than 64 bytes */
            break;
    }
    free(buf);
    return len > BIG_LEN + 64;
}

/* At the cap a new client is served: the longest-idle keep-alive connection makes room, never one being answered. */
static void test_evict_at_cap(void **state)
{
    (void)state;
    enum { CAP = 4 };
    srv v;
    bp_http_opts o = { .listen = "127.0.0.1:0", .max_connections = CAP };
    srv_start(&v, &o);
    char buf[4096];
    size_t got;
    int busy = start_big(v.port, &got);         /* mid-response: never evicted */
    int idle1 = raw_connect(v.port);            /* keep-alive, idle the longest */
    assert_true(get_ok(idle1, "/hello", buf, sizeof buf));
    int idle2 = raw_connect(v.port);            /* keep-alive, idle since later */
    assert_true(get_ok(idle2, "/hello", buf, sizeof buf));
    int fresh = raw_connect(v.port);            /* connected, no request yet: the cap is full */

    int n1 = raw_connect(v.port);
    assert_true(get_ok(n1, "/hello", buf, sizeof buf)); /* not a 503: served */
    assert_int_equal(peer_closed(idle1), 1);    /* the longest-idle one made room */
    int n2 = raw_connect(v.port);
    assert_true(get_ok(n2, "/hello", buf, sizeof buf));
    assert_int_equal(peer_closed(idle2), 1);
    assert_true(get_ok(fresh, "/hello", buf, sizeof buf)); /* a request head in progress outranks idle ones */
    /* the answer being written was never touched */
    assert_true(finish_big(busy, got));
    close(busy);
    close(idle1);
    close(idle2);
    close(fresh);
    close(n1);
    close(n2);
    srv_stop(&v);
    wait_releases();
}

/* Every slot writing an answer: the new client is closed without a 503 (a 503 says "unhealthy"). */
static void test_cap_all_answering(void **state)
{
    (void)state;
    srv v;
    bp_http_opts o = { .listen = "127.0.0.1:0", .max_connections = 1 };
    srv_start(&v, &o);
    size_t got;
    int busy = start_big(v.port, &got);
    int late = raw_connect(v.port);
    char buf[4096];
    (void)!send(late, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 32, MSG_NOSIGNAL);
    read_until_closed(late, buf, sizeof buf);
    assert_null(strstr(buf, "503"));
    assert_false(starts_with(buf, "HTTP/1.1"));
    close(late);
    assert_true(finish_big(busy, got));
    close(busy);
    int again = raw_connect(v.port);            /* the slot is free again once the answer is done */
    assert_true(get_ok(again, "/hello", buf, sizeof buf));
    close(again);
    srv_stop(&v);
    wait_releases();
}

/* At the cap with slowloris clients: a new client is served, the slowest request head makes room. */
static void test_evict_slowloris(void **state)
{
    (void)state;
    enum { CAP = 8 };
    srv v;
    bp_http_opts o = { .listen = "127.0.0.1:0", .max_connections = CAP };
    srv_start(&v, &o);
    int slow[CAP];
    char buf[4096];
    for (int i = 0; i < CAP; i++) {
        slow[i] = raw_connect(v.port);
        raw_send_str(slow[i], "GET /hello HTTP/1.1\r\nX-a: ");
    }
    for (int i = 0; i < CAP; i++)
        raw_send_str(slow[i], "b");
    CURL *h = curl_new();
    sink out;
    char url[128];
    url_for(url, sizeof url, "http", v.port, "/hello");
    for (int i = 0; i < 3; i++) {
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        assert_int_equal(curl_get(h, url, &out, NULL), 200);
    }
    assert_int_equal(peer_closed(slow[0]), 1); /* the oldest request head went first */
    /* the newest slow client is still there and can finish its request */
    raw_send_str(slow[CAP - 1], "\r\nHost: x\r\n\r\n");
    read_responses(slow[CAP - 1], 1, buf, sizeof buf);
    assert_true(starts_with(buf, "HTTP/1.1 200 OK\r\n"));
    curl_easy_cleanup(h);
    for (int i = 0; i < CAP; i++)
        close(slow[i]);
    srv_stop(&v);
    wait_releases();
}

/*
 * The header deadline is separate from the idle timeout: a request head must
 * be complete within header_timeout_ms of accept or of its first byte, while
 * an idle keep-alive connection waits idle_timeout_ms. The idle timeout here
 * is a minute, longer than peer_closed's 5 s wait, so a close is the header
 * deadline's doing.
 */
static void test_header_timeout(void **state)
{
    (void)state;
    srv v;
    bp_http_opts o = { .listen = "127.0.0.1:0", .idle_timeout_ms = 60000, .header_timeout_ms = 200 };
    srv_start(&v, &o);
    char buf[4096];
    /* slowloris: a byte now and then never extends the deadline */
    int fd = raw_connect(v.port);
    raw_send_str(fd, "GET /hello HTTP/1.1\r\n");
    for (int i = 0; i < 6; i++) {
        usleep(50000);
        if (send(fd, "X", 1, MSG_NOSIGNAL) < 0)
            break;
    }
    assert_int_equal(peer_closed(fd), 1);
    close(fd);
    /* a connection that never sends its first request */
    fd = raw_connect(v.port);
    assert_int_equal(peer_closed(fd), 1);
    close(fd);
    /* keep-alive: idle for longer than the header deadline is fine ... */
    fd = raw_connect(v.port);
    assert_true(get_ok(fd, "/hello", buf, sizeof buf));
    usleep(600000);
    assert_true(get_ok(fd, "/hello", buf, sizeof buf));
    /* ... but once the next request has begun, its head is due */
    raw_send_str(fd, "GET /hello HTTP/1.1\r\n");
    assert_int_equal(peer_closed(fd), 1);
    close(fd);
    srv_stop(&v);
    wait_releases();
}

static void test_graceful_stop(void **state)
{
    (void)state;
    srv v;
    srv_start_plain(&v);
    int idle = raw_connect(v.port);
    /* a small receive buffer keeps most of the 8 MiB in flight when the stop comes */
    int fd = raw_connect_rcvbuf(v.port, 32 * 1024);
    raw_send_str(fd, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    char *buf = malloc(BIG_LEN + 4096);
    assert_non_null(buf);
    size_t len = 0;
    while (len < 4096) {
        ssize_t r = recv(fd, buf + len, 4096, 0);
        assert_true(r > 0);
        len += (size_t)r;
    }
    bp_http_stop(v.s);
    for (;;) {
        ssize_t r = recv(fd, buf + len, BIG_LEN + 4096 - len, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    pthread_join(v.th, NULL);
    assert_int_equal(v.rc, 0);
    char *body = memmem(buf, len, "\r\n\r\n", 4);
    assert_non_null(body);
    body += 4;
    assert_int_equal(len - (size_t)(body - buf), BIG_LEN); /* the whole answer arrived */
    assert_memory_equal(body, g_ctx.big, BIG_LEN);
    assert_int_equal(peer_closed(idle), 1); /* idle connections are closed */
    /* the listener is gone */
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)v.port),
                              .sin_addr = { .s_addr = htonl(INADDR_LOOPBACK) } };
    assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof sa), -1);
    close(c);
    close(fd);
    close(idle);
    free(buf);
    bp_http_free(v.s);
    wait_releases();

    /* a stop before the loop runs makes it return at once */
    char err[256];
    bp_http_server *s = NULL;
    bp_http_opts o = { .listen = "127.0.0.1:0" };
    assert_int_equal(bp_http_new(&o, handler, &g_ctx, &s, err, sizeof err), 0);
    bp_http_stop(s);
    assert_int_equal(bp_http_run(s), 0);
    assert_int_equal(bp_http_run(s), BP_EUSAGE);
    bp_http_free(s);
    bp_http_free(NULL);
}

/* A client that dies mid-answer: no SIGPIPE, the hold is released, the server goes on. */
static void test_dead_client(void **state)
{
    (void)state;
    srv v;
    srv_start_plain(&v);
    for (int i = 0; i < 3; i++) {
        int fd = raw_connect(v.port);
        raw_send_str(fd, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
        char tmp[1024];
        assert_true(recv(fd, tmp, sizeof tmp, 0) > 0);
        struct linger lg = { .l_onoff = 1, .l_linger = 0 }; /* reset, not FIN */
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fd);
    }
    for (int i = 0; i < 3; i++) { /* FIN with the request half-read */
        int fd = raw_connect(v.port);
        raw_send_str(fd, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
        close(fd);
    }
    wait_releases();
    CURL *h = curl_new();
    sink out = { .abort_after_first = 1 }; /* zeroed: on_data reads total and len (valgrind) */
    char url[128];
    url_for(url, sizeof url, "http", v.port, "/big");
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(h, CURLOPT_URL, url);
    assert_int_not_equal(curl_easy_perform(h), CURLE_OK);
    url_for(url, sizeof url, "http", v.port, "/hello");
    assert_int_equal(curl_get(h, url, &out, NULL), 200);
    curl_easy_cleanup(h);
    srv_stop(&v);
    wait_releases();
}

static void raise_nofile(rlim_t want)
{
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void test_many_idle_connections(void **state)
{
    (void)state;
    enum { IDLE = 1000, REQS = 200 };
    raise_nofile(4096);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 2 * IDLE + 64)
        skip();
    srv v;
    bp_http_opts o = { .listen = "127.0.0.1:0", .max_connections = IDLE + 24 };
    srv_start(&v, &o);
    int *fds = malloc(IDLE * sizeof *fds);
    assert_non_null(fds);
    for (int i = 0; i < IDLE; i++)
        fds[i] = raw_connect(v.port);
    CURL *h = curl_new();
    sink out;
    char url[128];
    url_for(url, sizeof url, "http", v.port, "/hello");
    int64_t t0 = bp_now_us();
    for (int i = 0; i < REQS; i++) {
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, (long)(i % 10 == 0));
        assert_int_equal(curl_get(h, url, &out, NULL), 200);
    }
    int64_t t1 = bp_now_us();
    printf("    %d requests with %d idle connections open: %.1f us each\n", REQS, IDLE,
           (double)(t1 - t0) / REQS);
    /* the idle ones still work */
    for (int i = 0; i < IDLE; i += 97) {
        char buf[1024];
        raw_send_str(fds[i], "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        read_responses(fds[i], 1, buf, sizeof buf);
        assert_non_null(strstr(buf, "hello world\n"));
    }
    curl_easy_cleanup(h);
    for (int i = 0; i < IDLE; i++)
        close(fds[i]);
    free(fds);
    srv_stop(&v);
    wait_releases();
}

/* Lower the descriptor limit and use up all but one descriptor (for a client socket); returns how many fill[] holds. */
static int exhaust_fds(struct rlimit *old, int fill[64])
{
    struct rlimit low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, old), 0);
    int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(probe >= 0);
    close(probe);
    low = *old;
    low.rlim_cur = (rlim_t)probe + 32;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    int nf = 0;
    while (nf < 64) {
        int f = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (f < 0)
            break;
        fill[nf++] = f;
    }
    assert_true(nf > 0 && nf < 64);
    close(fill[--nf]); /* room for the client's socket, none for the server's accept */
    return nf;
}

static void restore_fds(const struct rlimit *old, int fill[64], int nf)
{
    while (nf > 0)
        close(fill[--nf]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, old), 0);
}

/* EMFILE on accept with an idle keep-alive connection open: it is evicted and the new client is served. */
static void test_out_of_descriptors_evicts(void **state)
{
    (void)state;
    srv v;
    srv_start_plain(&v);
    char buf[4096];
    int idle = raw_connect(v.port);
    assert_true(get_ok(idle, "/hello", buf, sizeof buf));
    struct rlimit old;
    int fill[64];
    int nf = exhaust_fds(&old, fill);
    int c = raw_connect(v.port);
    int served = get_ok(c, "/hello", buf, sizeof buf);
    int evicted = peer_closed(idle);
    close(c);
    close(idle);
    restore_fds(&old, fill, nf);
    assert_true(served);
    assert_int_equal(evicted, 1);
    srv_stop(&v);
    wait_releases();
}

/* EMFILE on accept with nothing to evict: the waiting client is closed, and the loop does not spin. */
static void test_out_of_descriptors(void **state)
{
    (void)state;
    srv v;
    srv_start_plain(&v);
    struct rlimit old;
    int fill[64];
    int nf = exhaust_fds(&old, fill);
    int c = raw_connect(v.port);
    assert_int_equal(peer_closed(c), 1);
    close(c);
    clockid_t cid;
    struct timespec a, b;
    assert_int_equal(pthread_getcpuclockid(v.th, &cid), 0);
    clock_gettime(cid, &a);
    usleep(300000);
    clock_gettime(cid, &b);
    double cpu_ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    printf("    server thread CPU over 300 ms after EMFILE: %.2f ms\n", cpu_ms);
    assert_true(cpu_ms < 150.0); /* a spinning loop would burn all 300 */
    restore_fds(&old, fill, nf);
    CURL *h = curl_new();
    sink out;
    char url[128];
    url_for(url, sizeof url, "http", v.port, "/hello");
    assert_int_equal(curl_get(h, url, &out, NULL), 200);
    curl_easy_cleanup(h);
    srv_stop(&v);
    wait_releases();
}

static void test_two_servers(void **state)
{
    (void)state;
    srv a, b;
    srv_start_plain(&a);
    srv_start_plain(&b);
    assert_int_not_equal(a.port, b.port);
    CURL *h = curl_new();
    sink out;
    char url[128];
    for (int i = 0; i < 4; i++) {
        url_for(url, sizeof url, "http", i % 2 ? a.port : b.port, "/hello");
        assert_int_equal(curl_get(h, url, &out, NULL), 200);
    }
    curl_easy_cleanup(h);
    srv_stop(&b);
    url_for(url, sizeof url, "http", a.port, "/hello");
    h = curl_new();
    assert_int_equal(curl_get(h, url, &out, NULL), 200);
    curl_easy_cleanup(h);
    srv_stop(&a);
    wait_releases();
}

static void test_listen_addresses(void **state)
{
    (void)state;
    char err[256];
    bp_http_server *s = NULL;
    const char *bad[] = { "127.0.0.1:99999", "127.0.0.1", "127.0.0.1:", "nonsense:x", "::1:80", "[::1]80", "", NULL };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bp_http_opts o = { .listen = bad[i] };
        err[0] = '\0';
        assert_int_equal(bp_http_new(&o, handler, &g_ctx, &s, err, sizeof err), BP_EUSAGE);
        assert_true(strlen(err) > 0);
    }
    /* options no server can run with */
    bp_http_opts neg = { .listen = "127.0.0.1:0", .idle_timeout_ms = -1 };
    assert_int_equal(bp_http_new(&neg, handler, &g_ctx, &s, err, sizeof err), BP_EUSAGE);
    assert_string_equal(err, "max_connections, idle_timeout_ms and header_timeout_ms must not be negative");
    assert_null(s);
    assert_int_equal(bp_http_new(NULL, handler, &g_ctx, &s, err, sizeof err), BP_EUSAGE);
    assert_non_null(strstr(err, "are required"));
    /* a port in use */
    srv v;
    srv_start_plain(&v);
    char spec[64];
    snprintf(spec, sizeof spec, "127.0.0.1:%d", v.port);
    bp_http_opts o = { .listen = spec };
    assert_int_equal(bp_http_new(&o, handler, &g_ctx, &s, err, sizeof err), BP_EIO);
    assert_non_null(strstr(err, "in use"));
    srv_stop(&v);
    /* every interface, and IPv6 loopback when the host has it */
    bp_http_opts any = { .listen = ":0" };
    assert_int_equal(bp_http_new(&any, handler, &g_ctx, &s, err, sizeof err), 0);
    assert_true(bp_http_port(s) > 0);
    bp_http_free(s);
    bp_http_opts v6 = { .listen = "[::1]:0" };
    if (bp_http_new(&v6, handler, &g_ctx, &s, err, sizeof err) == 0) {
        srv w;
        memset(&w, 0, sizeof w);
        w.s = s;
        w.port = bp_http_port(s);
        assert_int_equal(pthread_create(&w.th, NULL, run_thread, &w), 0);
        CURL *h = curl_new();
        sink out;
        char url[128];
        snprintf(url, sizeof url, "http://[::1]:%d/hello", w.port);
        assert_int_equal(curl_get(h, url, &out, NULL), 200);
        curl_easy_cleanup(h);
        srv_stop(&w);
    } else {
        printf("    no IPv6 loopback here: %s\n", err);
    }
    wait_releases();
}

static void test_access_log(void **state)
{
    (void)state;
    char path[] = "/tmp/bp-http-log-XXXXXX";
    int lf = mkstemp(path);
    assert_true(lf >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(lf, STDERR_FILENO);
    srv v;
    bp_http_opts o = { .listen = "127.0.0.1:0", .access_log = 1 };
    srv_start(&v, &o);
    CURL *h = curl_new();
    sink out;
    char url[128];
    url_for(url, sizeof url, "http", v.port, "/hello?q=1");
    curl_get(h, url, &out, NULL);
    url_for(url, sizeof url, "http", v.port, "/missing");
    curl_get(h, url, &out, NULL);
    curl_easy_cleanup(h);
    int fd = raw_connect(v.port);
    raw_send_str(fd, "junk\x01\r\n\r\n");
    char buf[1024];
    read_until_closed(fd, buf, sizeof buf);
    close(fd);
    srv_stop(&v);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char logbuf[4096];
    ssize_t n = pread(lf, logbuf, sizeof logbuf - 1, 0);
    close(lf);
    unlink(path);
    assert_true(n > 0);
    logbuf[n] = '\0';
    printf("%s", logbuf);
    assert_non_null(strstr(logbuf, "GET /hello 200 "));
    assert_non_null(strstr(logbuf, "GET /missing 404 "));
    assert_non_null(strstr(logbuf, "- - 400 "));
    assert_non_null(strstr(logbuf, "us"));
    wait_releases();
}

/* ---------- TLS ---------- */

/* A CA, a server certificate for 127.0.0.1/localhost, a client certificate, and bad ones, by openssl(1). */
static int make_certs(void)
{
    return make_certs_with(
        "/tmp/bp-http-tls-XXXXXX",
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n' > srv.ext && "
        "printf 'extendedKeyUsage=clientAuth\\n' > cli.ext && "
        "openssl req -x509 $EC -keyout ca.key -out ca.pem -days 2 -subj /CN=bp-test-ca "
        "  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign && "
        "openssl req $EC -keyout srv.key -out srv.csr -subj /CN=localhost && "
        "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 "
        "  -extfile srv.ext && "
        "openssl req $EC -keyout cli.key -out cli.csr -subj /CN=probe-client && "
        "openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cli.pem -days 2 "
        "  -extfile cli.ext && "
        "openssl req -x509 $EC -keyout ca2.key -out ca2.pem -days 2 -subj /CN=other-ca "
        "  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign && "
        "openssl req $EC -keyout bad.key -out bad.csr -subj /CN=intruder && "
        "openssl x509 -req -in bad.csr -CA ca2.pem -CAkey ca2.key -CAcreateserial -out bad.pem -days 2 "
        "  -extfile cli.ext && "
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out other.key && "
        "openssl pkey -in srv.key -aes256 -passout pass:secret -out enc.key && "
        "printf 'not a certificate\\n' > garbage.pem",
        "    openssl(1) failed or is missing: TLS tests skipped (apt-get install openssl)\n");
}

static void tls_curl(CURL *h, const char *cert, const char *key)
{
    char ca[128], c[128], k[128];
    cert_path(ca, sizeof ca, "ca.pem");
    curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (cert) {
        cert_path(c, sizeof c, cert);
        cert_path(k, sizeof k, key);
        curl_easy_setopt(h, CURLOPT_SSLCERT, c);
        curl_easy_setopt(h, CURLOPT_SSLKEY, k);
    }
}

static void tls_opts(bp_http_opts *o, char *cert, char *key, char *ca, int mutual)
{
    cert_path(cert, 128, "srv.pem");
    cert_path(key, 128, "srv.key");
    cert_path(ca, 128, "ca.pem");
    memset(o, 0, sizeof *o);
    o->listen = "127.0.0.1:0";
    o->tls_cert = cert;
    o->tls_key = key;
    o->tls_client_ca = mutual ? ca : NULL;
}

static void test_https(void **state)
{
    (void)state;
    if (!make_certs())
        skip();
    char cert[128], key[128], ca[128], url[128];
    bp_http_opts o;
    tls_opts(&o, cert, key, ca, 0);
    srv v;
    srv_start(&v, &o);
    CURL *h = curl_new();
    tls_curl(h, NULL, NULL);
    sink out;
    url_for(url, sizeof url, "https", v.port, "/hello");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(curl_get(h, url, &out, NULL), 200);
        assert_string_equal(out.data, "hello world\n");
        long conns = -1;
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &conns);
        assert_int_equal(conns, i == 0 ? 1 : 0);
    }
    /* a large answer through partial TLS writes, and a client dying in the middle of one */
    url_for(url, sizeof url, "https", v.port, "/big");
    assert_int_equal(curl_get(h, url, &out, NULL), 200);
    assert_int_equal(out.total, BIG_LEN);
    memset(&out, 0, sizeof out);
    out.abort_after_first = 1;
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    curl_easy_perform(h);
    /* TLS 1.1 is refused */
    CURL *old = curl_new();
    tls_curl(old, NULL, NULL);
    curl_easy_setopt(old, CURLOPT_SSLVERSION, (long)(CURL_SSLVERSION_TLSv1_0 | CURL_SSLVERSION_MAX_TLSv1_1));
    url_for(url, sizeof url, "https", v.port, "/hello");
    CURLcode cc;
    assert_int_equal(curl_get(old, url, &out, &cc), 0);
    assert_int_not_equal(cc, CURLE_OK);
    curl_easy_cleanup(old);
    /* plain HTTP on the TLS port: closed, and the server is fine */
    int fd = raw_connect(v.port);
    raw_send_str(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    char buf[1024];
    read_until_closed(fd, buf, sizeof buf);
    assert_null(strstr(buf, "hello world"));
    close(fd);
    /* a client that connects and never starts the handshake does not block others */
    int silent = raw_connect(v.port);
    assert_int_equal(curl_get(h, url, &out, NULL), 200);
    close(silent);
    curl_easy_cleanup(h);
    srv_stop(&v);
    wait_releases();
}

static void test_mutual_tls(void **state)
{
    (void)state;
    if (!make_certs())
        skip();
    char cert[128], key[128], ca[128], url[128];
    bp_http_opts o;
    tls_opts(&o, cert, key, ca, 1);
    srv v;
    srv_start(&v, &o);
    url_for(url, sizeof url, "https", v.port, "/hello");
    sink out;
    CURLcode cc;
    /* with a client certificate from the CA */
    CURL *h = curl_new();
    tls_curl(h, "cli.pem", "cli.key");
    assert_int_equal(curl_get(h, url, &out, &cc), 200);
    assert_string_equal(out.data, "hello world\n");
    curl_easy_cleanup(h);
    /* without one */
    h = curl_new();
    tls_curl(h, NULL, NULL);
    assert_int_equal(curl_get(h, url, &out, &cc), 0);
    assert_int_not_equal(cc, CURLE_OK);
    curl_easy_cleanup(h);
    /* with one from another CA */
    h = curl_new();
    tls_curl(h, "bad.pem", "bad.key");
    assert_int_equal(curl_get(h, url, &out, &cc), 0);
    assert_int_not_equal(cc, CURLE_OK);
    curl_easy_cleanup(h);
    /* and the good client still gets in */
    h = curl_new();
    tls_curl(h, "cli.pem", "cli.key");
    assert_int_equal(curl_get(h, url, &out, &cc), 200);
    curl_easy_cleanup(h);
    srv_stop(&v);
    wait_releases();
}

static void expect_tls_error(const char *cert, const char *key, const char *ca, const char *needle)
{
    char c[128], k[128], a[128], err[512] = "";
    if (cert)
        cert_path(c, sizeof c, cert);
    if (key)
        cert_path(k, sizeof k, key);
    if (ca)
        cert_path(a, sizeof a, ca);
    bp_http_opts o = { .listen = "127.0.0.1:0", .tls_cert = cert ? c : NULL, .tls_key = key ? k : NULL,
                       .tls_client_ca = ca ? a : NULL };
    bp_http_server *s = NULL;
    int rc = bp_http_new(&o, handler, &g_ctx, &s, err, sizeof err);
    printf("    %s / %s / %s: %s\n", cert ? cert : "-", key ? key : "-", ca ? ca : "-", err);
    assert_int_equal(rc, BP_EUSAGE);
    assert_null(s);
    if (!strstr(err, needle))
        fail_msg("\"%s\" does not say \"%s\"", err, needle);
}

static void test_bad_tls_files(void **state)
{
    (void)state;
    if (!make_certs())
        skip();
    expect_tls_error("missing.pem", "srv.key", NULL, "No such file");
    expect_tls_error("srv.pem", "missing.key", NULL, "missing.key");
    expect_tls_error("garbage.pem", "srv.key", NULL, "garbage.pem");
    expect_tls_error("srv.pem", "garbage.pem", NULL, "garbage.pem");
    expect_tls_error("srv.pem", "other.key", NULL, "does not match");
    expect_tls_error("srv.pem", "enc.key", NULL, "enc.key");
    expect_tls_error("srv.pem", NULL, NULL, "tls_key");
    expect_tls_error(NULL, "srv.key", NULL, "tls_cert");
    expect_tls_error(NULL, NULL, "ca.pem", "tls_cert");
    expect_tls_error("srv.pem", "srv.key", "garbage.pem", "garbage.pem");
    expect_tls_error("srv.pem", "srv.key", "missing-ca.pem", "No such file");
}

int main(void)
{
    g_ctx.big = malloc(BIG_LEN);
    if (!g_ctx.big)
        return 1;
    for (size_t i = 0; i < BIG_LEN; i++)
        g_ctx.big[i] = (char)('a' + (i * 7 + i / 4096) % 26);
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_and_head),
        cmocka_unit_test(test_keepalive_reuse),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_request_errors),
        cmocka_unit_test(test_body_discarded_keepalive),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_evict_at_cap),
        cmocka_unit_test(test_cap_all_answering),
        cmocka_unit_test(test_evict_slowloris),
        cmocka_unit_test(test_header_timeout),
        cmocka_unit_test(test_graceful_stop),
        cmocka_unit_test(test_dead_client),
        cmocka_unit_test(test_many_idle_connections),
        cmocka_unit_test(test_out_of_descriptors),
        cmocka_unit_test(test_out_of_descriptors_evicts),
        cmocka_unit_test(test_two_servers),
        cmocka_unit_test(test_listen_addresses),
        cmocka_unit_test(test_access_log),
        cmocka_unit_test(test_https),
        cmocka_unit_test(test_mutual_tls),
        cmocka_unit_test(test_bad_tls_files),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    remove_certs();
    curl_global_cleanup();
    free(g_ctx.big);
    return rc;
}

/* test_http_bench.c: the HTTP server's cost per request and memory, printed not asserted; also a wrk target. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "http/server.h"

/*
 * As a unit test: ping-pong requests over one keep-alive connection and
 * pipelined bursts, printing requests/s, latency percentiles and RSS.
 *
 * As a load-test target: BP_HTTP_BENCH_LISTEN=127.0.0.1:18080 build/test_http_bench
 * serves GET /health (a 64-byte JSON body plus a tail) until SIGINT/SIGTERM;
 * BP_HTTP_BENCH_CERT / BP_HTTP_BENCH_KEY turn on HTTPS. Then e.g.
 *   wrk -t1 -c100 -d30s --latency http://127.0.0.1:18080/health
 */

static const char body[] = "{\"status\":\"pass\",\"probe\":\"ready\",\"node\":\"app@host\",\"checks\":[]}";

static void handler(void *ctx, const bp_http_request *req, bp_http_response *resp)
{
    (void)ctx;
    if (req->path_len != 7 || memcmp(req->path, "/health", 7) != 0) {
        resp->status = 404;
        return;
    }
    resp->status = 200;
    resp->content_type = "application/json";
    resp->body = body;
    resp->body_len = sizeof body - 1;
    resp->tail[0] = '\n';
    resp->tail_len = 1;
}

static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

typedef struct {
    bp_http_server *s;
    pthread_t th;
    int rc;
} srv;

static void *run_thread(void *arg)
{
    srv *v = arg;
    v->rc = bp_http_run(v->s);
    return NULL;
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr = { .s_addr = htonl(INADDR_LOOPBACK) } };
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = { .tv_sec = 5 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* Read until `want` bytes of answers have arrived (every answer has the same length). */
static void read_exact(int fd, char *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        ssize_t r = recv(fd, buf, want - got < 65536 ? want - got : 65536, 0);
        assert_true(r > 0);
        got += (size_t)r;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_cost_per_request(void **state)
{
    (void)state;
    enum { PING = 20000, BURST = 64, BURSTS = 2000 };
    static const char req[] = "GET /health HTTP/1.1\r\nHost: bench\r\n\r\n";
    char err[256];
    srv v = { 0 };
    bp_http_opts o = { .listen = "127.0.0.1:0" };
    assert_int_equal(bp_http_new(&o, handler, NULL, &v.s, err, sizeof err), 0);
    assert_int_equal(pthread_create(&v.th, NULL, run_thread, &v), 0);
    int fd = connect_to(bp_http_port(v.s));
    static char buf[1 << 20];

    /* one answer's length: head + Content-Length */
    assert_int_equal(send(fd, req, sizeof req - 1, MSG_NOSIGNAL), (ssize_t)(sizeof req - 1));
    size_t got = 0, one = 0;
    while (one == 0 || got < one) {
        ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        assert_true(n > 0);
        got += (size_t)n;
        buf[got] = '\0';
        char *end = strstr(buf, "\r\n\r\n"), *cl = strstr(buf, "Content-Length: ");
        if (end && cl)
            one = (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10);
    }
    assert_int_equal(got, one);
    long rss0 = rss_kib();

    int64_t *lat = malloc(PING * sizeof *lat);
    assert_non_null(lat);
    int64_t t0 = bp_now_us();
    for (int i = 0; i < PING; i++) {
        int64_t a = bp_now_us();
        assert_int_equal(send(fd, req, sizeof req - 1, MSG_NOSIGNAL), (ssize_t)(sizeof req - 1));
        read_exact(fd, buf, one);
        lat[i] = bp_now_us() - a;
    }
    int64_t t1 = bp_now_us();
    qsort(lat, PING, sizeof *lat, cmp_i64);
    printf("    ping-pong, 1 connection: %.0f req/s, p50 %lld us, p99 %lld us, max %lld us\n",
           PING * 1e6 / (double)(t1 - t0), (long long)lat[PING / 2], (long long)lat[PING * 99 / 100],
           (long long)lat[PING - 1]);
    free(lat);

    static char burst[BURST * sizeof req];
    for (int i = 0; i < BURST; i++)
        memcpy(burst + i * (sizeof req - 1), req, sizeof req - 1);
    t0 = bp_now_us();
    for (int i = 0; i < BURSTS; i++) {
        size_t len = BURST * (sizeof req - 1);
        assert_int_equal(send(fd, burst, len, MSG_NOSIGNAL), (ssize_t)len);
        read_exact(fd, buf, BURST * one);
    }
    t1 = bp_now_us();
    printf("    pipelined bursts of %d: %.0f req/s\n", BURST, (double)BURST * BURSTS * 1e6 / (double)(t1 - t0));
    printf("    RSS %ld KiB before, %ld KiB after %d requests\n", rss0, rss_kib(), PING + BURST * BURSTS);
    close(fd);
    bp_http_stop(v.s);
    pthread_join(v.th, NULL);
    assert_int_equal(v.rc, 0);
    bp_http_free(v.s);
}

/* ---------- load-test target ---------- */

static bp_http_server *target;

static void on_signal(int sig)
{
    (void)sig;
    bp_http_stop(target);
}

static int serve(const char *listen)
{
    char err[512];
    bp_http_opts o = { .listen = listen, .tls_cert = getenv("BP_HTTP_BENCH_CERT"),
                       .tls_key = getenv("BP_HTTP_BENCH_KEY"), .access_log = getenv("BP_HTTP_BENCH_LOG") != NULL };
    if (bp_http_new(&o, handler, NULL, &target, err, sizeof err) != 0) {
        fprintf(stderr, "test_http_bench: %s\n", err);
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    fprintf(stderr, "test_http_bench: serving GET /health on port %d until SIGINT\n", bp_http_port(target));
    int rc = bp_http_run(target);
    bp_http_free(target);
    return rc == 0 ? 0 : 1;
}

int main(void)
{
    const char *listen = getenv("BP_HTTP_BENCH_LISTEN");
    if (listen && *listen)
        return serve(listen);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cost_per_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_handshake.c: unit tests of bp_session_open's failures: bad names, refusals by status, a closing or silent node, no listener. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <poll.h>
#include <string.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "dist/session.h"
#include "fake_epmd.h"

/* A scripted node: reads our send_name, then writes `reply` (none: stays silent) or closes at once,
 * then waits (at most 5 s) for us to close. */
typedef struct {
    int lfd;
    const unsigned char *reply;
    size_t reply_len;
    int close_at_once;
} fake_node;

static void *fake_node_main(void *arg)
{
    fake_node *n = arg;
    int c = accept(n->lfd, NULL, NULL);
    if (c < 0)
        return NULL;
    unsigned char in[512];
    (void)!recv(c, in, sizeof in, 0); /* our send_name */
    if (!n->close_at_once) {
        if (n->reply_len)
            (void)!write(c, n->reply, n->reply_len);
        struct pollfd p = { .fd = c, .events = POLLIN };
        while (poll(&p, 1, 5000) > 0 && recv(c, in, sizeof in, 0) > 0) {
        }
    }
    close(c);
    return NULL;
}

static int listen_loopback(unsigned *port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &len);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* bp_session_open on node@127.0.0.1 whose EPMD (scripted) points at the scripted node n (NULL: at a
 * port nobody listens on); its code, err filled. */
static int open_against(fake_node *n, int timeout_ms, int *refused_alive, char *err, size_t errlen)
{
    unsigned port;
    int nfd = listen_loopback(&port);
    if (!n)
        close(nfd); /* the port is free again: connecting is refused */
    unsigned char found[32];
    fake_epmd f = { .reply = found, .reply_len = epmd_found_reply(found, port) };
    pthread_t te = start_fake(&f), tn;
    if (n) {
        n->lfd = nfd;
        assert_int_equal(pthread_create(&tn, NULL, fake_node_main, n), 0);
    }
    bp_session_opts o = { .target = "node@127.0.0.1", .cookie = "secret", .cnode_alive = "bp_test_0",
                          .timeout_ms = timeout_ms, .refused_alive = refused_alive };
    bp_session *s = NULL;
    err[0] = '\0';
    int rc = bp_session_open(&o, bp_now_ms() + timeout_ms, &s, err, errlen);
    if (s)
        bp_session_close(s);
    pthread_join(te, NULL);
    close(f.lfd);
    if (n) {
        pthread_join(tn, NULL);
        close(nfd);
    }
    unsetenv("ERL_EPMD_PORT");
    assert_null(s);
    return rc;
}

/* the status message of the handshake ("s" + status, 2-byte length) */
static size_t status_packet(unsigned char *out, const char *status)
{
    size_t n = strlen(status) + 1;
    out[0] = (unsigned char)(n >> 8);
    out[1] = (unsigned char)n;
    out[2] = 's';
    memcpy(out + 3, status, n - 1);
    return n + 2;
}

static int refused_with(const char *status, int *alive, char *err, size_t errlen)
{
    unsigned char pkt[64];
    fake_node n = { .reply = pkt, .reply_len = status_packet(pkt, status) };
    return open_against(&n, 2000, alive, err, errlen);
}

static void test_status_not_allowed(void **state)
{
    (void)state;
    char err[512];
    int alive = 0;
    assert_int_equal(refused_with("not_allowed", &alive, err, sizeof err), BP_EHANDSHAKE);
    assert_non_null(strstr(err, "node node@127.0.0.1 refused the handshake (not_allowed): check short vs long names"));
    assert_int_equal(alive, 0);
}

/* "alive": a node of our name is still connected; the caller is told, to retry under another name */
static void test_status_alive_is_reported_to_the_caller(void **state)
{
    (void)state;
    char err[512];
    int alive = 0;
    assert_int_equal(refused_with("alive", &alive, err, sizeof err), BP_EHANDSHAKE);
    assert_non_null(strstr(err, "a node named bp_test_0@"));
    assert_non_null(strstr(err, "is already connected to it"));
    assert_int_equal(alive, 1);
}

static void test_status_unknown(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(refused_with("nok", NULL, err, sizeof err), BP_EHANDSHAKE);
    assert_string_equal(err, "node node@127.0.0.1 refused the handshake (status 'nok')");
}

/* A TLS node reads our plain name as a broken record and closes: the message suggests --dist-tls. */
static void test_closed_without_status_suggests_tls(void **state)
{
    (void)state;
    char err[512];
    fake_node n = { .close_at_once = 1 };
    assert_int_equal(open_against(&n, 2000, NULL, err, sizeof err), BP_EHANDSHAKE);
    assert_non_null(strstr(err, "closed the handshake without a status: it probably uses TLS distribution "
                                "(try --dist-tls)"));
}

static void test_silent_node_times_out(void **state)
{
    (void)state;
    char err[512];
    fake_node n = { 0 };
    assert_int_equal(open_against(&n, 300, NULL, err, sizeof err), BP_ETIMEDOUT);
    assert_string_equal(err, "timed out after 300 ms waiting for the distribution handshake with node@127.0.0.1");
}

static void test_nobody_listening_on_the_port(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(open_against(NULL, 2000, NULL, err, sizeof err), BP_ECONNECT);
    assert_non_null(strstr(err, "cannot connect to node@127.0.0.1 at 127.0.0.1:"));
    assert_non_null(strstr(err, "Connection refused"));
}

/* EPMD of a remote host does not know the name: said so, with the host */
static void test_not_registered_on_a_remote_host(void **state)
{
    (void)state;
    static const unsigned char missing[] = { 119, 1 };
    fake_epmd f = { .reply = missing, .reply_len = sizeof missing };
    pthread_t t = start_fake(&f);
    bp_session_opts o = { .target = "node@127.0.0.1", .cookie = "secret", .cnode_alive = "bp_test_0",
                          .timeout_ms = 2000 };
    bp_session *s = NULL;
    char err[512];
    assert_int_equal(bp_session_open(&o, bp_now_ms() + 2000, &s, err, sizeof err), BP_ENOTREG);
    pthread_join(t, NULL);
    close(f.lfd);
    unsetenv("ERL_EPMD_PORT");
    assert_null(s);
    assert_string_equal(err, "node node@127.0.0.1 not registered with EPMD on 127.0.0.1");
}

static void test_bad_names_and_hosts(void **state)
{
    (void)state;
    static const char *const bad[] = { "a@b@c", "@host", "name@", "" };
    char err[512];
    bp_session *s = NULL;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bp_session_opts o = { .target = bad[i], .cookie = "c", .cnode_alive = "bp_test_0", .timeout_ms = 500 };
        assert_int_equal(bp_session_open(&o, bp_now_ms() + 500, &s, err, sizeof err), BP_EUSAGE);
        assert_null(s);
        assert_non_null(strstr(err, "bad node name '"));
        assert_non_null(strstr(err, bad[i]));
    }
    bp_session_opts o = { .target = "node@no-such-host.invalid", .cookie = "c", .cnode_alive = "bp_test_0",
                          .timeout_ms = 2000 };
    int rc = bp_session_open(&o, bp_now_ms() + 2000, &s, err, sizeof err);
    assert_null(s);
    assert_true(rc == BP_ERESOLVE || rc == BP_ETIMEDOUT);
    assert_non_null(strstr(err, rc == BP_ERESOLVE ? "cannot resolve host no-such-host.invalid (of node "
                                                  : "resolving host no-such-host.invalid"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_not_allowed),
        cmocka_unit_test(test_status_alive_is_reported_to_the_caller),
        cmocka_unit_test(test_status_unknown),
        cmocka_unit_test(test_closed_without_status_suggests_tls),
        cmocka_unit_test(test_silent_node_times_out),
        cmocka_unit_test(test_nobody_listening_on_the_port),
        cmocka_unit_test(test_not_registered_on_a_remote_host),
        cmocka_unit_test(test_bad_names_and_hosts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

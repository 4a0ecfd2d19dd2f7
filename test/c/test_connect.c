/* test_connect.c: unit tests of the steps before a session: cookie, name slots, resolve, EPMD client, deadlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "dist/cookie.h"
#include "dist/challenge.h"
#include "dist/session.h"
#include "dist/epmd.h"
#include "dist/nameslot.h"
#include "dist/net.h"
#include "dist/resolve.h"
#include "dist/transport.h"
#include "fake_epmd.h"

/* ---------- cookie ---------- */

static char tmpdir[64];

static int setup_tmp(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/bp-unit-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *content, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_cookie_file_first_line_trimmed(void **state)
{
    (void)state;
    char path[128], out[BP_COOKIE_MAX + 1], err[256];
    snprintf(path, sizeof path, "%s/c1", tmpdir);
    write_file(path, "S3CRET  \nsecond line\n", 0400);
    assert_int_equal(bp_cookie_load(path, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "S3CRET");
}

static void test_cookie_file_group_readable_refused(void **state)
{
    (void)state;
    char path[128], out[BP_COOKIE_MAX + 1], err[256];
    snprintf(path, sizeof path, "%s/c2", tmpdir);
    write_file(path, "TOPSECRETVALUE\n", 0640);
    assert_int_equal(bp_cookie_load(path, out, sizeof out, err, sizeof err), BP_ECOOKIE);
    assert_non_null(strstr(err, "group or others"));
    assert_null(strstr(err, "TOPSECRETVALUE"));
}

static void test_cookie_missing_empty_and_env(void **state)
{
    (void)state;
    char path[128], out[BP_COOKIE_MAX + 1], err[256];
    snprintf(path, sizeof path, "%s/absent", tmpdir);
    assert_int_equal(bp_cookie_load(path, out, sizeof out, err, sizeof err), BP_ECOOKIE);
    assert_non_null(strstr(err, "cannot open"));
    snprintf(path, sizeof path, "%s/empty", tmpdir);
    write_file(path, "\n", 0600);
    assert_int_equal(bp_cookie_load(path, out, sizeof out, err, sizeof err), BP_ECOOKIE);

    /* no file given: the environment wins over ~/.erlang.cookie */
    setenv("BEAMPROBE_COOKIE", "FROMENV", 1);
    assert_int_equal(bp_cookie_load("", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "FROMENV");
    setenv("BEAMPROBE_COOKIE", "", 1);
    setenv("HOME", tmpdir, 1);
    snprintf(path, sizeof path, "%s/.erlang.cookie", tmpdir);
    write_file(path, "HOMECOOKIE", 0400);
    assert_int_equal(bp_cookie_load(NULL, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "HOMECOOKIE");
    unsetenv("BEAMPROBE_COOKIE");
}

static void test_cookie_too_long(void **state)
{
    (void)state;
    char path[128], out[BP_COOKIE_MAX + 1], err[256], big[600];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    snprintf(path, sizeof path, "%s/long", tmpdir);
    write_file(path, big, 0400);
    assert_int_equal(bp_cookie_load(path, out, sizeof out, err, sizeof err), BP_ECOOKIE);
    setenv("BEAMPROBE_COOKIE", big, 1);
    assert_int_equal(bp_cookie_load(NULL, out, sizeof out, err, sizeof err), BP_ECOOKIE);
    unsetenv("BEAMPROBE_COOKIE");
}

/* The file rules on an in-memory content: first line, trailing blanks, length, NULs. */
static void test_cookie_check(void **state)
{
    (void)state;
    char out[BP_COOKIE_MAX + 1], err[256], buf[BP_COOKIE_MAX + 2];
    snprintf(buf, sizeof buf, "AB\t \r\nCD");
    assert_int_equal(bp_cookie_check("f", buf, strlen(buf), out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "AB");
    memcpy(buf, "X\0Y\n", 5);
    buf[5] = '\0';
    assert_int_equal(bp_cookie_check("f", buf, 5, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "X");
    snprintf(buf, sizeof buf, " \t\n");
    assert_int_equal(bp_cookie_check("f", buf, 3, out, sizeof out, err, sizeof err), BP_ECOOKIE);
    assert_non_null(strstr(err, "empty or unusable"));
    memset(buf, 'A', BP_COOKIE_MAX + 1);
    buf[BP_COOKIE_MAX + 1] = '\0';
    assert_int_equal(bp_cookie_check("f", buf, BP_COOKIE_MAX + 1, out, sizeof out, err, sizeof err), BP_ECOOKIE);
    assert_non_null(strstr(err, "longer than"));
    buf[BP_COOKIE_MAX] = '\n'; /* exactly BP_COOKIE_MAX bytes, then the line end */
    assert_int_equal(bp_cookie_check("f", buf, BP_COOKIE_MAX + 1, out, sizeof out, err, sizeof err), 0);
    assert_int_equal(strlen(out), BP_COOKIE_MAX);
    memset(buf, 'A', 10);
    buf[10] = '\0';
    assert_int_equal(bp_cookie_check("f", buf, 10, out, 10, err, sizeof err), BP_ECOOKIE); /* out too small */
}

/* ---------- name slots ---------- */

static void test_nameslot_distinct_and_released(void **state)
{
    (void)state;
    char a[64], b[64], c[64];
    int fa, fb, fc;
    int64_t dl = bp_now_ms() + 50;
    char target[64];
    snprintf(target, sizeof target, "unit%d@host", (int)getpid());
    assert_int_equal(bp_nameslot_acquire("bpunit", 2, target, dl, a, sizeof a, &fa), 0);
    assert_int_equal(bp_nameslot_acquire("bpunit", 2, target, dl, b, sizeof b, &fb), 0);
    assert_string_equal(a, "bpunit_0");
    assert_string_equal(b, "bpunit_1");
    /* pool exhausted: waits until the deadline, then BP_EBUSY */
    assert_int_equal(bp_nameslot_acquire("bpunit", 2, target, bp_now_ms() + 30, c, sizeof c, &fc), BP_EBUSY);
    /* another target has its own slots */
    assert_int_equal(bp_nameslot_acquire("bpunit", 2, "other@host", dl, c, sizeof c, &fc), 0);
    assert_string_equal(c, "bpunit_0");
    bp_nameslot_release(fc);
    bp_nameslot_release(fa);
    assert_int_equal(bp_nameslot_acquire("bpunit", 2, target, bp_now_ms() + 50, c, sizeof c, &fc), 0);
    assert_string_equal(c, "bpunit_0");
    bp_nameslot_release(fc);
    bp_nameslot_release(fb);
}

/* ---------- resolve ---------- */

static void test_resolve(void **state)
{
    (void)state;
    struct in_addr a;
    assert_int_equal(bp__resolve_ipv4("127.0.0.1", bp_now_ms() + 500, &a), 0);
    assert_int_equal(ntohl(a.s_addr), 0x7f000001);
    assert_int_equal(bp__resolve_ipv4("localhost", bp_now_ms() + 2000, &a), 0);
    assert_int_equal(bp__resolve_ipv4("no-such-host.invalid", bp_now_ms() + 2000, &a), BP_ERESOLVE);
    /* a deadline already passed never waits on the resolver */
    int rc = bp__resolve_ipv4("no-such-host-2.invalid", bp_now_ms() - 1, &a);
    assert_true(rc == BP_ETIMEDOUT || rc == BP_ERESOLVE);
}

/* ---------- a scripted EPMD (fake_epmd.h) ---------- */

static const char *epmd_why;

static int port_please_with(const unsigned char *reply, size_t len, int delay_ms, int timeout_ms, int *port)
{
    fake_epmd f = { .reply = reply, .reply_len = len, .delay_ms = delay_ms };
    pthread_t t = start_fake(&f);
    bp__addr lo = bp__addr_ipv4((struct in_addr){ htonl(0x7f000001) });
    epmd_why = NULL;
    int rc = bp__epmd_port_please(&lo, "node", bp_now_ms() + timeout_ms, port, &epmd_why);
    pthread_join(t, NULL);
    close(f.lfd);
    unsetenv("ERL_EPMD_PORT");
    return rc;
}

static void test_epmd_port_please_replies(void **state)
{
    (void)state;
    int port = 0;
    static const unsigned char found[] = { 119, 0, 0x9c, 0x40, 77, 0, 0, 6, 0, 5, 0, 4, 'n', 'o', 'd', 'e', 0, 0 };
    assert_int_equal(port_please_with(found, sizeof found, 0, 500, &port), 0);
    assert_int_equal(port, 40000);
    static const unsigned char missing[] = { 119, 1 };
    assert_int_equal(port_please_with(missing, sizeof missing, 0, 500, &port), BP_ENOTREG);
    static const unsigned char garbage[] = { 'H', 'T', 'T', 'P' };
    assert_int_equal(port_please_with(garbage, sizeof garbage, 0, 500, &port), BP_EEPMD);
    assert_string_equal(epmd_why, "answered something that is not EPMD's protocol");
    assert_int_equal(port_please_with(NULL, 0, 0, 500, &port), BP_EEPMD); /* closes without a word */
    assert_string_equal(epmd_why, "closed the connection without a full answer");
    assert_int_equal(port_please_with(found, sizeof found, 400, 100, &port), BP_ETIMEDOUT);
}

static void test_epmd_unreachable(void **state)
{
    (void)state;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
    bind(s, (struct sockaddr *)&sa, sizeof sa);
    socklen_t len = sizeof sa;
    getsockname(s, (struct sockaddr *)&sa, &len);
    close(s); /* a port nobody listens on */
    char port[16];
    snprintf(port, sizeof port, "%d", ntohs(sa.sin_port));
    setenv("ERL_EPMD_PORT", port, 1);
    int p;
    bp__addr lo = bp__addr_ipv4((struct in_addr){ htonl(0x7f000001) });
    const char *why = NULL;
    assert_int_equal(bp__epmd_port_please(&lo, "node", bp_now_ms() + 500, &p, &why), BP_EEPMD);
    assert_string_equal(why, "not reachable");
    unsetenv("ERL_EPMD_PORT");
    assert_int_equal(bp__epmd_port(), 4369);
}

/* ---------- a node whose challenge acknowledgement is wrong ---------- */

static void put16(unsigned char *b, size_t v)
{
    b[0] = (unsigned char)(v >> 8);
    b[1] = (unsigned char)v;
}

/* One handshake (protocol 6): read our name, "sok", a challenge, read our reply, then an ack
 * whose digest is not the cookie's. */
static void *bad_ack_node_main(void *arg)
{
    int lfd = *(int *)arg;
    int c = accept(lfd, NULL, NULL);
    if (c < 0)
        return NULL;
    unsigned char in[512], out[128];
    size_t o = 0;
    (void)!recv(c, in, sizeof in, 0); /* our send_name */
    static const char name[] = "node@127.0.0.1";
    put16(out, 3);
    memcpy(out + 2, "sok", 3);
    o = 5;
    size_t body = 1 + 8 + 4 + 4 + 2 + sizeof name - 1;
    put16(out + o, body);
    out[o + 2] = 'N';
    memset(out + o + 3, 0, 8);
    out[o + 3 + 4] = 0x7f; /* flags: every capability of the low 32 bits, handshake 23 among them */
    memset(out + o + 3 + 5, 0xff, 3);
    memset(out + o + 11, 0x42, 4); /* challenge */
    memset(out + o + 15, 0, 4);    /* creation */
    out[o + 18] = 7;
    put16(out + o + 19, sizeof name - 1);
    memcpy(out + o + 21, name, sizeof name - 1);
    o += 2 + body;
    (void)!write(c, out, o);
    (void)!recv(c, in, sizeof in, 0); /* our challenge reply */
    put16(out, 17);
    out[2] = 'a';
    memset(out + 3, 0x13, 16); /* not MD5(cookie ++ our challenge) */
    (void)!write(c, out, 19);
    usleep(200 * 1000);
    close(c);
    return NULL;
}

static void test_wrong_challenge_ack(void **state)
{
    (void)state;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
    int nfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(nfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(nfd, 4), 0);
    socklen_t len = sizeof sa;
    getsockname(nfd, (struct sockaddr *)&sa, &len);
    unsigned port = ntohs(sa.sin_port);
    unsigned char found[32];
    fake_epmd f = { .reply = found, .reply_len = epmd_found_reply(found, port) };
    pthread_t te = start_fake(&f), tn;
    assert_int_equal(pthread_create(&tn, NULL, bad_ack_node_main, &nfd), 0);
    bp_session_opts o = { .target = "node@127.0.0.1", .cookie = "secret", .cnode_alive = "bp_test_0",
                          .timeout_ms = 2000 };
    bp_session *s = NULL;
    char err[512];
    int rc = bp_session_open(&o, bp_now_ms() + 2000, &s, err, sizeof err);
    pthread_join(te, NULL);
    pthread_join(tn, NULL);
    close(f.lfd);
    close(nfd);
    unsetenv("ERL_EPMD_PORT");
    assert_null(s);
    assert_int_equal(rc, BP_EAUTH);
    assert_non_null(strstr(err, "its challenge acknowledgement does not match our cookie"));
}

static void test_epmd_parse_names(void **state)
{
    (void)state;
    /* 4294967297 is 2^32 + 1: sscanf's %d made it port 1 */
    const char body[] = "name a_1 at port 40001\nname b at port 40002\ngarbage line\nname c at port 99999\n"
                        "name w at port 4294967297\nname x at port 99999999999999999999999\nname y at port -1\n"
                        "name d at port 40004";
    char names[8][256];
    int ports[8];
    size_t n = bp__epmd_parse_names(body, sizeof body - 1, names, ports, 8);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "a_1");
    assert_int_equal(ports[1], 40002);
    assert_string_equal(names[2], "d");
    assert_int_equal(bp__epmd_parse_names(body, sizeof body - 1, names, ports, 1), 1);
}

/* The PORT2_RESP reply parser on its own, byte by byte. */
static void test_epmd_port2_reply(void **state)
{
    (void)state;
    static const unsigned char found[] = { 119, 0, 0x9c, 0x40, 77, 0 };
    const char *why = NULL;
    int port = -1;
    for (size_t len = 0; len < 4; len++)
        assert_int_equal(bp__epmd_port2_reply(found, len, &port, &why), 1);
    assert_int_equal(port, -1);
    assert_int_equal(bp__epmd_port2_reply(found, sizeof found, &port, &why), 0);
    assert_int_equal(port, 40000);
    assert_null(why);
    static const unsigned char missing[] = { 119, 1 };
    assert_int_equal(bp__epmd_port2_reply(missing, sizeof missing, &port, &why), BP_ENOTREG);
    static const unsigned char port0[] = { 119, 0, 0, 0 };
    assert_int_equal(bp__epmd_port2_reply(port0, sizeof port0, &port, &why), BP_EEPMD);
    assert_string_equal(why, "answered something that is not EPMD's protocol");
    static const unsigned char http[] = { 'H', 'T' };
    why = NULL;
    assert_int_equal(bp__epmd_port2_reply(http, sizeof http, &port, &why), BP_EEPMD);
    assert_non_null(why);
    assert_int_equal(port, 40000);
}

/* ---------- deadlines on plain sockets (outcomes only: no timing thresholds in unit tests) ---------- */

static void test_read_write_deadlines(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    char buf[8];
    assert_int_equal(bp__read_full(sv[0], buf, 4, bp_now_ms() + 60, NULL), BP_ETIMEDOUT);
    assert_int_equal(bp__write_full(sv[1], "abcd", 4, bp_now_ms() + 100), 0);
    assert_int_equal(bp__read_full(sv[0], buf, 4, bp_now_ms() + 100, NULL), 0);
    assert_memory_equal(buf, "abcd", 4);
    close(sv[1]);
    int e = -1;
    assert_int_equal(bp__read_full(sv[0], buf, 1, bp_now_ms() + 100, &e), BP_EIO);
    assert_int_equal(e, 0); /* clean EOF */
    close(sv[0]);
}

/* ---------- handshake status record ---------- */

static void test_transport_status(void **state)
{
    (void)state;
    bp__transport t;
    char st[32];
    bp__addr lo = bp__addr_ipv4((struct in_addr){ htonl(0x7f000001) });
    bp__transport_init(&t, 0, &lo, NULL, NULL);
    bp__transport_status(&t, st, sizeof st);
    assert_string_equal(st, "");
    static const unsigned char alive[] = { 0, 6, 's', 'a', 'l', 'i', 'v', 'e' };
    memcpy(t.hs, alive, sizeof alive);
    t.hs_len = sizeof alive;
    bp__transport_status(&t, st, sizeof st);
    assert_string_equal(st, "alive");
    bp__transport_status(&t, st, 3);
    assert_string_equal(st, "al");
    static const unsigned char lying[] = { 0xff, 0xff, 's', 'o', 'k' }; /* length beyond the bytes kept */
    memcpy(t.hs, lying, sizeof lying);
    t.hs_len = sizeof lying;
    bp__transport_status(&t, st, sizeof st);
    assert_string_equal(st, "ok");
    t.hs[2] = 'n'; /* not a status packet */
    bp__transport_status(&t, st, sizeof st);
    assert_string_equal(st, "");
}

/* Over TLS the handshake packets carry a 4-byte length (inet_tls_dist). */
static void test_transport_status_tls_header(void **state)
{
    (void)state;
    bp__transport t;
    char st[32];
    bp__addr lo = bp__addr_ipv4((struct in_addr){ htonl(0x7f000001) });
    bp__transport_init(&t, 0, &lo, (bp__tls_client *)(uintptr_t)1, "host"); /* only its presence is read */
    static const unsigned char nok[] = { 0, 0, 0, 4, 's', 'n', 'o', 'k' };
    memcpy(t.hs, nok, sizeof nok);
    t.hs_len = sizeof nok;
    bp__transport_status(&t, st, sizeof st);
    assert_string_equal(st, "nok");
    static const unsigned char two[] = { 0, 4, 's', 'n', 'o', 'k' }; /* a TCP-style header is not a status here */
    memcpy(t.hs, two, sizeof two);
    t.hs_len = sizeof two;
    bp__transport_status(&t, st, sizeof st);
    assert_string_equal(st, "");
}

/* ---------- the node's own name, from its handshake challenge ---------- */

/* Status "ok" then a challenge stating `name`, behind `header`-byte lengths; returns the bytes written. */
static size_t put_challenge(unsigned char *b, size_t header, int new_style, const char *name)
{
    size_t n = strlen(name), o = 0, body = new_style ? 19 + n : 11 + n;
    static const char ok[] = "sok";
    for (size_t i = 0; i < header; i++)
        b[o++] = (unsigned char)(i + 1 == header ? 3 : 0);
    memcpy(b + o, ok, 3);
    o += 3;
    for (size_t i = 0; i < header; i++)
        b[o++] = (unsigned char)(i + 2 == header ? body >> 8 : i + 1 == header ? body & 0xff : 0);
    memset(b + o, 0x5a, body); /* flags, challenge, creation: any bytes */
    b[o] = new_style ? 'N' : 'n';
    if (new_style) {
        b[o + 17] = (unsigned char)(n >> 8);
        b[o + 18] = (unsigned char)(n & 0xff);
    }
    memcpy(b + o + body - n, name, n);
    return o + body;
}

static void test_challenge_name(void **state)
{
    (void)state;
    unsigned char b[400];
    char name[64];
    size_t len = put_challenge(b, 2, 1, "app@vm");
    assert_int_equal(bp__challenge_name(b, len, 2, name, sizeof name), 0);
    assert_string_equal(name, "app@vm");
    len = put_challenge(b, 2, 0, "app@10.0.0.5"); /* the old 'n' challenge: the name runs to the end */
    assert_int_equal(bp__challenge_name(b, len, 2, name, sizeof name), 0);
    assert_string_equal(name, "app@10.0.0.5");
    len = put_challenge(b, 4, 1, "app@host.example.com"); /* TLS: 4-byte lengths */
    assert_int_equal(bp__challenge_name(b, len, 4, name, sizeof name), 0);
    assert_string_equal(name, "app@host.example.com");
    assert_int_equal(bp__challenge_name(b, len, 2, name, sizeof name), -1);
    /* through a transport that kept what it read */
    bp__transport t;
    bp__addr lo = bp__addr_ipv4((struct in_addr){ htonl(0x7f000001) });
    bp__transport_init(&t, 0, &lo, NULL, NULL);
    assert_int_equal(bp__transport_peer_name(&t, name, sizeof name), -1); /* nothing read yet */
    t.hs_len = (int)put_challenge(t.hs, 2, 1, "demo_1@vm");
    assert_int_equal(bp__transport_peer_name(&t, name, sizeof name), 0);
    assert_string_equal(name, "demo_1@vm");
    /* refused: incomplete, no status first, a name that does not fit or is not a node name */
    len = put_challenge(b, 2, 1, "app@vm");
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(bp__challenge_name(b, cut, 2, name, sizeof name), -1);
    assert_int_equal(bp__challenge_name(b, len, 2, name, 6), -1);
    assert_int_equal(bp__challenge_name(b + 5, len - 5, 2, name, sizeof name), -1);
    static const char *const bad[] = { "appvm", "@vm", "app@", "a@b@c", "app@v m", "app@v\nm" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        len = put_challenge(b, 2, 1, bad[i]);
        assert_int_equal(bp__challenge_name(b, len, 2, name, sizeof name), -1);
    }
    len = put_challenge(b, 2, 1, "app@vm");
    b[5 + 2 + 18] = 200; /* a name length beyond the packet */
    assert_int_equal(bp__challenge_name(b, len, 2, name, sizeof name), -1);
}

/* Bytes as an OTP 27.3 node (Debian 13, ERTS 15.2.7) answered beamprobe's 'N' send_name: status, then
   a version-6 challenge (flags 0xd07df7fbd, challenge, creation, name); OTP 25 sends the same layout. */
static void test_challenge_recorded_otp27(void **state)
{
    (void)state;
    static const unsigned char hs[] = {
        0x00, 0x03, 's', 'o', 'k', 0x00, 0x22,
        'N', 0x00, 0x00, 0x00, 0x0d, 0x07, 0xdf, 0x7f, 0xbd, 0xd4, 0x8d, 0xe4, 0xf0, 0x6b, 0x13, 0x69, 0x94,
        0x00, 0x0f, 'b', 'p', 'o', 't', 'p', '2', '5', '0', '3', '4', '_', '1', '@', 'v', 'm',
    };
    char name[64];
    assert_int_equal(bp__challenge_name(hs, sizeof hs, 2, name, sizeof name), 0);
    assert_string_equal(name, "bpotp25034_1@vm");
    assert_int_equal(bp__challenge_name(hs, sizeof hs - 1, 2, name, sizeof name), -1);
}

/* Literals of both families, the family asked for, and the text form. */
static void test_resolve_families(void **state)
{
    (void)state;
    bp__addr a;
    char txt[64];
    assert_int_equal(bp__resolve_addr("::1", AF_UNSPEC, bp_now_ms() + 500, &a), 0);
    assert_int_equal(a.ss.ss_family, AF_INET6);
    bp__addr_text(&a, txt, sizeof txt);
    assert_string_equal(txt, "::1");
    assert_int_equal(bp__resolve_addr("127.0.0.1", AF_UNSPEC, bp_now_ms() + 500, &a), 0);
    assert_int_equal(a.ss.ss_family, AF_INET);
    assert_int_equal(bp__resolve_addr("127.0.0.1", AF_INET6, bp_now_ms() + 2000, &a), BP_ERESOLVE);
    assert_int_equal(bp__resolve_addr("::1", AF_INET, bp_now_ms() + 2000, &a), BP_ERESOLVE);
    /* localhost has an IPv4 address: preferred unless IPv6 is asked for */
    assert_int_equal(bp__resolve_addr("localhost", AF_UNSPEC, bp_now_ms() + 2000, &a), 0);
    assert_int_equal(a.ss.ss_family, AF_INET);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cookie_file_first_line_trimmed, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_cookie_file_group_readable_refused, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_cookie_missing_empty_and_env, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_cookie_too_long, setup_tmp, teardown_tmp),
        cmocka_unit_test(test_nameslot_distinct_and_released),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_resolve_families),
        cmocka_unit_test(test_transport_status_tls_header),
        cmocka_unit_test(test_challenge_name),
        cmocka_unit_test(test_challenge_recorded_otp27),
        cmocka_unit_test(test_epmd_port_please_replies),
        cmocka_unit_test(test_epmd_unreachable),
        cmocka_unit_test(test_epmd_parse_names),
        cmocka_unit_test(test_cookie_check),
        cmocka_unit_test(test_epmd_port2_reply),
        cmocka_unit_test(test_wrong_challenge_ack),
        cmocka_unit_test(test_read_write_deadlines),
        cmocka_unit_test(test_transport_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_discover.c: discovery: name lists, DNS wire format and client, EPMD, Kubernetes JSON and API client (local HTTPS stand-in). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "discover/discover.h"
#include "http/server.h"
#include "test_certs.h"

static int has_name(const bp_nodeset *l, const char *name)
{
    return bp_nodeset_has(l, name);
}

static void expect_names(const bp_nodeset *l, const char *const *names, size_t n)
{
    if (l->n != n) {
        for (size_t i = 0; i < l->n; i++)
            print_message("    got %s\n", l->v[i]);
    }
    assert_int_equal(l->n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(l->v[i], names[i]);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* ---------- name lists and checks ---------- */

static void test_natural_order(void **state)
{
    (void)state;
    bp_nodeset l = { 0 };
    assert_int_equal(bp__disc_add(&l, "app", "10.0.0.10"), 0);
    assert_int_equal(bp__disc_add(&l, "app", "10.0.0.9"), 0);
    assert_int_equal(bp__disc_add(&l, "app", "10.0.0.9"), 0); /* duplicate dropped */
    assert_int_equal(bp__disc_add(&l, "app", "9.0.0.1"), 0);
    bp_nodeset_sort(&l);
    static const char *const want[] = { "app@9.0.0.1", "app@10.0.0.9", "app@10.0.0.10" };
    expect_names(&l, want, 3);
    char longhost[300];
    memset(longhost, 'h', sizeof longhost - 1);
    longhost[sizeof longhost - 1] = '\0';
    assert_int_equal(bp__disc_add(&l, "n", longhost), BP_EUSAGE);
    assert_int_equal(l.n, 3);
    bp_nodeset_free(&l);
}

/* --node-basename with --epmd-host: the basename itself, or followed by '-', '_' or a digit */
static void test_basename_match(void **state)
{
    (void)state;
    static const char *const yes[] = { "app", "app1", "app-2", "app_x", "app-", "app0rest", "app_" };
    static const char *const no[] = { "apple", "ap", "xapp", "App", "app.x", "", "appX1", "rabbitmqcli-12-app" };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(bp__disc_basename_match(yes[i], "app"));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(bp__disc_basename_match(no[i], "app"));
    assert_false(bp__disc_basename_match("app", ""));
}

static void test_checks(void **state)
{
    (void)state;
    assert_true(bp__disc_alive_ok("app_1-x"));
    assert_false(bp__disc_alive_ok(""));
    assert_false(bp__disc_alive_ok("a@b"));
    assert_false(bp__disc_alive_ok("a.b"));
    assert_false(bp__disc_alive_ok(NULL));
    assert_true(bp__disc_host_ok("app.prod.svc.cluster.local"));
    assert_true(bp__disc_host_ok("10.0.0.1"));
    assert_false(bp__disc_host_ok("a..b"));
    assert_false(bp__disc_host_ok(".a"));
    assert_false(bp__disc_host_ok("a b"));
    assert_false(bp__disc_host_ok("fd00::1"));
    assert_true(bp__disc_label_ok("app-0"));
    assert_false(bp__disc_label_ok("App"));
    assert_false(bp__disc_label_ok("-a"));
    assert_false(bp__disc_label_ok("a.b"));

    char ns[64], svc[64], err[256];
    assert_int_equal(bp_k8s_parse_target("prod/app", ns, sizeof ns, svc, sizeof svc, err, sizeof err), 0);
    assert_string_equal(ns, "prod");
    assert_string_equal(svc, "app");
    assert_int_equal(bp_k8s_parse_target("prod", ns, sizeof ns, svc, sizeof svc, err, sizeof err), BP_EUSAGE);
    assert_non_null(strstr(err, "NAMESPACE/SERVICE"));
    assert_int_equal(bp_k8s_parse_target("prod/App", ns, sizeof ns, svc, sizeof svc, err, sizeof err), BP_EUSAGE);
    assert_int_equal(bp_k8s_parse_target("a/b/c", ns, sizeof ns, svc, sizeof svc, err, sizeof err), BP_EUSAGE);
    assert_int_equal(bp_k8s_parse_target("/app", ns, sizeof ns, svc, sizeof svc, err, sizeof err), BP_EUSAGE);
}

/* ---------- DNS wire format ---------- */

typedef struct {
    unsigned char b[32768]; /* up to ~2000 A records */
    size_t n;
} msg;

static void m_u8(msg *m, unsigned v)
{
    m->b[m->n++] = (unsigned char)v;
}

static void m_u16(msg *m, unsigned v)
{
    m_u8(m, v >> 8);
    m_u8(m, v & 0xff);
}

static void m_name(msg *m, const char *name)
{
    if (!name) { /* pointer to the question name at offset 12 */
        m_u16(m, 0xc00c);
        return;
    }
    const char *p = name;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        m_u8(m, (unsigned)l);
        memcpy(m->b + m->n, p, l);
        m->n += l;
        p += l;
        if (*p == '.')
            p++;
    }
    m_u8(m, 0);
}

static void m_header(msg *m, unsigned id, unsigned flags, unsigned an)
{
    m->n = 0;
    m_u16(m, id);
    m_u16(m, flags);
    m_u16(m, 1);
    m_u16(m, an);
    m_u16(m, 0);
    m_u16(m, 0);
}

static void m_question(msg *m, const char *name, unsigned type)
{
    m_name(m, name);
    m_u16(m, type);
    m_u16(m, 1);
}

static void m_rr_head(msg *m, const char *owner, unsigned type, unsigned rdlen)
{
    m_name(m, owner);
    m_u16(m, type);
    m_u16(m, 1);
    m_u16(m, 0);
    m_u16(m, 30); /* TTL */
    m_u16(m, rdlen);
}

static void m_rr_a(msg *m, const char *owner, const char *ip)
{
    struct in_addr a;
    inet_pton(AF_INET, ip, &a);
    m_rr_head(m, owner, BP_DNS_TYPE_A, 4);
    memcpy(m->b + m->n, &a.s_addr, 4);
    m->n += 4;
}

static void m_rr_name(msg *m, const char *owner, unsigned type, const char *target)
{
    msg t = { .n = 0 };
    m_name(&t, target);
    m_rr_head(m, owner, type, (unsigned)t.n);
    memcpy(m->b + m->n, t.b, t.n);
    m->n += t.n;
}

#define RESP 0x8180 /* QR, RD, RA */

/* Decode m as the reply (id 11) to the PTR query of 10.0.0.1. */
static int decode_ptr(const msg *m, char *ptr, size_t ptrlen, size_t *count)
{
    return bp__dns_decode_reply(m->b, m->n, 11, "1.0.0.10.in-addr.arpa", BP_DNS_TYPE_PTR, NULL, 0, count, ptr, ptrlen,
                                NULL);
}

static void test_dns_encode(void **state)
{
    (void)state;
    unsigned char buf[512];
    size_t n = bp__dns_encode_query(0x1234, "a.bc.", BP_DNS_TYPE_A, buf, sizeof buf);
    static const unsigned char want[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1, 1, 'a', 2, 'b', 'c', 0,
                                          0, 1, 0, 1, 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0 };
    assert_int_equal(n, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
    assert_int_equal(bp__dns_encode_query(1, "a..b", BP_DNS_TYPE_A, buf, sizeof buf), 0);
    assert_int_equal(bp__dns_encode_query(1, "", BP_DNS_TYPE_A, buf, sizeof buf), 0);
    char label[80];
    memset(label, 'x', 64);
    label[64] = '\0';
    assert_int_equal(bp__dns_encode_query(1, label, BP_DNS_TYPE_A, buf, sizeof buf), 0);
    assert_int_equal(bp__dns_encode_query(1, "a.b", BP_DNS_TYPE_A, buf, 10), 0);

    struct sockaddr_storage sa;
    socklen_t sl;
    assert_int_equal(bp__dns_parse_server("127.0.0.1", &sa, &sl), 0);
    assert_int_equal(ntohs(((struct sockaddr_in *)(void *)&sa)->sin_port), 53);
    assert_int_equal(bp__dns_parse_server("127.0.0.1:5353", &sa, &sl), 0);
    assert_int_equal(ntohs(((struct sockaddr_in *)(void *)&sa)->sin_port), 5353);
    assert_int_equal(bp__dns_parse_server("[::1]:5353", &sa, &sl), 0);
    assert_int_equal(sa.ss_family, AF_INET6);
    assert_int_equal(bp__dns_parse_server("fd00::10", &sa, &sl), 0);
    assert_int_equal(sa.ss_family, AF_INET6);
    assert_int_equal(bp__dns_parse_server("kube-dns:53", &sa, &sl), BP_EUSAGE);
    assert_int_equal(bp__dns_parse_server("127.0.0.1:0", &sa, &sl), BP_EUSAGE);
    assert_int_equal(bp__dns_parse_server("127.0.0.1:99999", &sa, &sl), BP_EUSAGE);
    assert_int_equal(bp__dns_parse_server("127.0.0.1:", &sa, &sl), BP_EUSAGE);
    assert_int_equal(bp__dns_parse_server("[::1]x", &sa, &sl), BP_EUSAGE);
}

static void test_dns_decode(void **state)
{
    (void)state;
    msg m;
    struct in_addr addrs[8];
    size_t count;
    char ptr[256];
    int rcode;
    char ip[INET_ADDRSTRLEN];

    /* Several A records, a duplicate, an unrelated owner (ignored), a CNAME chain. */
    m_header(&m, 7, RESP, 6);
    m_question(&m, "app.ns.svc", BP_DNS_TYPE_A);
    m_rr_name(&m, NULL, BP_DNS_TYPE_CNAME, "real.ns.svc");
    m_rr_a(&m, "real.ns.svc", "10.0.0.2");
    m_rr_a(&m, "REAL.ns.svc", "10.0.0.1");
    m_rr_a(&m, "real.ns.svc", "10.0.0.2");
    m_rr_a(&m, "elsewhere.example", "192.0.2.1");
    m_rr_a(&m, NULL, "10.0.0.3");
    assert_int_equal(bp__dns_decode_reply(m.b, m.n, 7, "app.ns.svc.", BP_DNS_TYPE_A, addrs, 8, &count, NULL, 0, &rcode),
                     0);
    assert_int_equal(count, 3);
    assert_string_equal(inet_ntop(AF_INET, &addrs[0], ip, sizeof ip), "10.0.0.2");
    assert_string_equal(inet_ntop(AF_INET, &addrs[1], ip, sizeof ip), "10.0.0.1");
    assert_string_equal(inet_ntop(AF_INET, &addrs[2], ip, sizeof ip), "10.0.0.3");
    /* max is respected */
    assert_int_equal(bp__dns_decode_reply(m.b, m.n, 7, "app.ns.svc", BP_DNS_TYPE_A, addrs, 2, &count, NULL, 0, NULL), 0);
    assert_int_equal(count, 2);
    /* wrong id, wrong question, not a response */
    assert_int_equal(bp__dns_decode_reply(m.b, m.n, 8, "app.ns.svc", BP_DNS_TYPE_A, addrs, 8, &count, NULL, 0, NULL),
                     BP_EDECODE);
    assert_int_equal(bp__dns_decode_reply(m.b, m.n, 7, "other.ns.svc", BP_DNS_TYPE_A, addrs, 8, &count, NULL, 0, NULL),
                     BP_EDECODE);
    assert_int_equal(bp__dns_decode_reply(m.b, m.n, 7, "app.ns.svc", BP_DNS_TYPE_PTR, addrs, 8, &count, NULL, 0, NULL),
                     BP_EDECODE);
    m.b[2] &= 0x7f;
    assert_int_equal(bp__dns_decode_reply(m.b, m.n, 7, "app.ns.svc", BP_DNS_TYPE_A, addrs, 8, &count, NULL, 0, NULL),
                     BP_EDECODE);
    /* every truncation of a valid reply is refused, never read past */
    m.b[2] |= 0x80;
    for (size_t cut = 0; cut < m.n; cut++) {
        unsigned char *copy = malloc(cut ? cut : 1);
        memcpy(copy, m.b, cut);
        assert_int_equal(bp__dns_decode_reply(copy, cut, 7, "app.ns.svc", BP_DNS_TYPE_A, addrs, 8, &count, NULL, 0,
                                              NULL),
                         BP_EDECODE);
        free(copy);
    }

    /* NXDOMAIN, SERVFAIL, NOERROR without data, TC */
    m_header(&m, 9, RESP | 3, 0);
    m_question(&m, "nx.test", BP_DNS_TYPE_A);
    assert_int_equal(bp__dns_decode_reply(m.b, m.n, 9, "nx.test", BP_DNS_TYPE_A, addrs, 8, &count, NULL, 0, &rcode),
                     BP_ERESOLVE);
    assert_int_equal(rcode, 3);
    m_header(&m, 9, RESP | 2, 0);
    m_question(&m, "nx.test", BP_DNS_TYPE_A);
    assert_int_equal(bp__dns_decode_reply(m.b, m.n, 9, "nx.test", BP_DNS_TYPE_A, addrs, 8, &count, NULL, 0, &rcode),
                     BP_ERESOLVE);
    assert_int_equal(rcode, 2);
    m_header(&m, 9, RESP, 0);
    m_question(&m, "nx.test", BP_DNS_TYPE_A);
    assert_int_equal(bp__dns_decode_reply(m.b, m.n, 9, "nx.test", BP_DNS_TYPE_A, addrs, 8, &count, NULL, 0, &rcode), 0);
    assert_int_equal(count, 0);
    m_header(&m, 9, RESP | 0x0200, 0);
    assert_int_equal(bp__dns_decode_reply(m.b, m.n, 9, "nx.test", BP_DNS_TYPE_A, addrs, 8, &count, NULL, 0, &rcode), 1);

    /* An A record whose data is not 4 bytes; an rdlength past the end. */
    m_header(&m, 5, RESP, 1);
    m_question(&m, "a.test", BP_DNS_TYPE_A);
    m_rr_head(&m, NULL, BP_DNS_TYPE_A, 5);
    for (int i = 0; i < 5; i++)
        m_u8(&m, 1);
    assert_int_equal(bp__dns_decode_reply(m.b, m.n, 5, "a.test", BP_DNS_TYPE_A, addrs, 8, &count, NULL, 0, NULL),
                     BP_EDECODE);
    m_header(&m, 5, RESP, 1);
    m_question(&m, "a.test", BP_DNS_TYPE_A);
    m_rr_head(&m, NULL, BP_DNS_TYPE_A, 400);
    assert_int_equal(bp__dns_decode_reply(m.b, m.n, 5, "a.test", BP_DNS_TYPE_A, addrs, 8, &count, NULL, 0, NULL),
                     BP_EDECODE);

    /* Compression loops: a pointer to itself, and a forward pointer. */
    m_header(&m, 5, RESP, 1);
    m_question(&m, "a.test", BP_DNS_TYPE_A);
    size_t at = m.n;
    m_u16(&m, 0xc000 | (unsigned)at);
    m_u16(&m, 1);
    m_u16(&m, 1);
    m_u16(&m, 0);
    m_u16(&m, 0);
    m_u16(&m, 4);
    m_u16(&m, 0);
    m_u16(&m, 0);
    assert_int_equal(bp__dns_decode_reply(m.b, m.n, 5, "a.test", BP_DNS_TYPE_A, addrs, 8, &count, NULL, 0, NULL),
                     BP_EDECODE);
    m.b[at + 1] = (unsigned char)(at + 4);
    assert_int_equal(bp__dns_decode_reply(m.b, m.n, 5, "a.test", BP_DNS_TYPE_A, addrs, 8, &count, NULL, 0, NULL),
                     BP_EDECODE);

    /* PTR */
    m_header(&m, 11, RESP, 1);
    m_question(&m, "1.0.0.10.in-addr.arpa", BP_DNS_TYPE_PTR);
    m_rr_name(&m, NULL, BP_DNS_TYPE_PTR, "app-0.app.ns.svc.cluster.local");
    assert_int_equal(decode_ptr(&m, ptr, sizeof ptr, &count), 0);
    assert_int_equal(count, 1);
    assert_string_equal(ptr, "app-0.app.ns.svc.cluster.local");
    /* a label with a dot in it cannot become a host name */
    m_header(&m, 11, RESP, 1);
    m_question(&m, "1.0.0.10.in-addr.arpa", BP_DNS_TYPE_PTR);
    m_rr_head(&m, NULL, BP_DNS_TYPE_PTR, 5);
    m_u8(&m, 3);
    m_u8(&m, 'a');
    m_u8(&m, '.');
    m_u8(&m, 'b');
    m_u8(&m, 0);
    assert_int_equal(decode_ptr(&m, ptr, sizeof ptr, &count), BP_EDECODE);

    /* a PTR to the root names nothing: the next PTR record is the answer (found by fuzz_dns) */
    m_header(&m, 11, RESP, 2);
    m_question(&m, "1.0.0.10.in-addr.arpa", BP_DNS_TYPE_PTR);
    m_rr_name(&m, NULL, BP_DNS_TYPE_PTR, "");
    m_rr_name(&m, NULL, BP_DNS_TYPE_PTR, "app-0.app.ns.svc.cluster.local");
    assert_int_equal(decode_ptr(&m, ptr, sizeof ptr, &count), 0);
    assert_int_equal(count, 1);
    assert_string_equal(ptr, "app-0.app.ns.svc.cluster.local");
    m.b[7] = 1; /* only the PTR to the root: no name */
    assert_int_equal(decode_ptr(&m, ptr, sizeof ptr, &count), 0);
    assert_int_equal(count, 0);
    assert_string_equal(ptr, "");

    /* 300 A records (a bp_namelist held 64): every one, in order, up to max */
    m_header(&m, 12, RESP, 300);
    m_question(&m, "big.ns.svc", BP_DNS_TYPE_A);
    for (int i = 0; i < 300; i++) {
        char dotted[32];
        snprintf(dotted, sizeof dotted, "10.1.%d.%d", i / 250, i % 250 + 1);
        m_rr_a(&m, NULL, dotted);
    }
    struct in_addr *many = calloc(400, sizeof *many);
    assert_non_null(many);
    assert_int_equal(bp__dns_decode_reply(m.b, m.n, 12, "big.ns.svc", BP_DNS_TYPE_A, many, 400, &count, NULL, 0, NULL),
                     0);
    assert_int_equal(count, 300);
    assert_string_equal(inet_ntop(AF_INET, &many[0], ip, sizeof ip), "10.1.0.1");
    assert_string_equal(inet_ntop(AF_INET, &many[299], ip, sizeof ip), "10.1.1.50");
    assert_int_equal(bp__dns_decode_reply(m.b, m.n, 12, "big.ns.svc", BP_DNS_TYPE_A, many, 256, &count, NULL, 0, NULL),
                     0);
    assert_int_equal(count, 256);
    free(many);
}

/* ---------- a scripted DNS server on 127.0.0.1 (UDP and TCP on one port) ---------- */

typedef struct {
    int udp, tcp, stop[2];
    int port;
    pthread_t thread;
    atomic_int drop1_seen;
    atomic_int queries;
} fake_dns;

static fake_dns g_dns;

/* Parse a query: id, name (uncompressed), type. 0 or -1. */
static int parse_query(const unsigned char *q, size_t n, unsigned *id, char *name, size_t namelen, unsigned *type)
{
    if (n < 17)
        return -1;
    *id = (unsigned)(q[0] << 8 | q[1]);
    size_t off = 12, o = 0;
    while (off < n && q[off]) {
        size_t l = q[off];
        if (off + 1 + l >= n || o + l + 2 > namelen)
            return -1;
        if (o)
            name[o++] = '.';
        memcpy(name + o, q + off + 1, l);
        o += l;
        off += 1 + l;
    }
    name[o] = '\0';
    if (off + 5 > n)
        return -1;
    *type = (unsigned)(q[off + 1] << 8 | q[off + 2]);
    return 0;
}

/* The scripted answer to (name, type), over UDP or TCP. 0 = send m, -1 = stay silent. */
static int script(unsigned id, const char *name, unsigned type, int tcp, msg *m)
{
    atomic_fetch_add(&g_dns.queries, 1);
    if (type == BP_DNS_TYPE_PTR) {
        const char *target = NULL;
        if (strcmp(name, "1.0.0.10.in-addr.arpa") == 0)
            target = "app-0.app.ns.svc.cluster.local";
        else if (strcmp(name, "3.0.0.10.in-addr.arpa") == 0)
            target = "app-2.app.ns.svc.cluster.local";
        m_header(m, id, target ? RESP : RESP | 3, target ? 1 : 0);
        m_question(m, name, type);
        if (target)
            m_rr_name(m, NULL, BP_DNS_TYPE_PTR, target);
        return 0;
    }
    if (strcmp(name, "silent.test") == 0)
        return -1;
    if (strcmp(name, "drop1.test") == 0 && atomic_fetch_add(&g_dns.drop1_seen, 1) == 0)
        return -1;
    if (strcmp(name, "nx.test") == 0 || strcmp(name, "servfail.test") == 0 || strcmp(name, "refused.test") == 0) {
        m_header(m, id, RESP | (name[0] == 'n' ? 3 : name[0] == 's' ? 2 : 5), 0);
        m_question(m, name, type);
        return 0;
    }
    if (strcmp(name, "garbage.test") == 0) {
        m_header(m, id, RESP, 1);
        m_u8(m, 60); /* a label running past the end */
        return 0;
    }
    /* truncated over UDP, then over TCP too (nonsense), or then no answer over TCP */
    if (strcmp(name, "tctrunc.test") == 0 || (strcmp(name, "tcpclose.test") == 0 && !tcp)) {
        m_header(m, id, RESP | 0x0200, 0);
        m_question(m, name, type);
        return 0;
    }
    if (strcmp(name, "tcpclose.test") == 0)
        return -1;
    int large = strcmp(name, "big.test") == 0 || strcmp(name, "huge.test") == 0 || strcmp(name, "full.test") == 0 ||
                strcmp(name, "toomany.test") == 0;
    if (large && !tcp) {
        m_header(m, id, RESP | 0x0200, 0);
        m_question(m, name, type);
        return 0;
    }
    int count = 0, base = 0;
    if (strcmp(name, "multi.test") == 0 || strcmp(name, "drop1.test") == 0 || strcmp(name, "wrongid.test") == 0) {
        count = 3;
    } else if (strcmp(name, "big.test") == 0) {
        count = 40;
        base = 100;
    } else if (strcmp(name, "huge.test") == 0) {
        count = 70;
        base = 100;
    } else if (strcmp(name, "full.test") == 0 || strcmp(name, "toomany.test") == 0) {
        count = name[0] == 'f' ? 1024 : 1030; /* a full target set, and more */
    }
    m_header(m, id, RESP, (unsigned)count + (count == 3 ? 1u : 0u));
    m_question(m, name, type);
    char ip[32];
    for (int i = count; i >= 1; i--) { /* out of order on purpose */
        if (count > 250)
            snprintf(ip, sizeof ip, "10.2.%d.%d", (i - 1) / 250, (i - 1) % 250 + 1);
        else
            snprintf(ip, sizeof ip, "10.0.%d.%d", base ? 1 : 0, base ? base + i : i);
        m_rr_a(m, NULL, ip);
    }
    if (count == 3)
        m_rr_a(m, NULL, "10.0.0.1"); /* duplicate */
    return 0;
}

static void serve_tcp(int fd)
{
    unsigned char q[600], lenb[2];
    struct pollfd p = { .fd = fd, .events = POLLIN };
    size_t got = 0, want = 2;
    unsigned char *dst = lenb;
    while (got < want) {
        if (poll(&p, 1, 2000) <= 0)
            return;
        ssize_t r = recv(fd, dst + got, want - got, 0);
        if (r <= 0)
            return;
        got += (size_t)r;
        if (dst == lenb && got == 2) {
            want = (size_t)(lenb[0] << 8 | lenb[1]);
            if (want > sizeof q)
                return;
            dst = q;
            got = 0;
        }
    }
    unsigned id, type;
    char name[256];
    msg *m = calloc(1, sizeof *m);
    if (m && parse_query(q, want, &id, name, sizeof name, &type) == 0 && script(id, name, type, 1, m) == 0) {
        unsigned char hdr[2] = { (unsigned char)(m->n >> 8), (unsigned char)(m->n & 0xff) };
        (void)!send(fd, hdr, 2, MSG_NOSIGNAL);
        (void)!send(fd, m->b, m->n, MSG_NOSIGNAL);
    }
    free(m);
}

static void *fake_dns_main(void *arg)
{
    (void)arg;
    msg *m = calloc(1, sizeof *m);
    for (;;) {
        struct pollfd p[3] = { { g_dns.udp, POLLIN, 0 }, { g_dns.tcp, POLLIN, 0 }, { g_dns.stop[0], POLLIN, 0 } };
        if (poll(p, 3, -1) < 0)
            continue;
        if (p[2].revents)
            break;
        if (p[1].revents & POLLIN) {
            int c = accept(g_dns.tcp, NULL, NULL);
            if (c >= 0) {
                serve_tcp(c);
                close(c);
            }
        }
        if (p[0].revents & POLLIN) {
            unsigned char q[600];
            struct sockaddr_storage from;
            socklen_t fl = sizeof from;
            ssize_t r = recvfrom(g_dns.udp, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
            unsigned id, type;
            char name[256];
            if (r <= 0 || parse_query(q, (size_t)r, &id, name, sizeof name, &type) < 0)
                continue;
            if (strcmp(name, "wrongid.test") == 0) { /* a stray answer first: must be ignored */
                msg stray;
                m_header(&stray, (id + 1) & 0xffff, RESP, 1);
                m_question(&stray, name, type);
                m_rr_a(&stray, NULL, "192.0.2.66");
                sendto(g_dns.udp, stray.b, stray.n, 0, (struct sockaddr *)&from, fl);
            }
            if (script(id, name, type, 0, m) == 0)
                sendto(g_dns.udp, m->b, m->n, 0, (struct sockaddr *)&from, fl);
        }
    }
    free(m);
    return NULL;
}

static int fake_dns_start(void **state)
{
    (void)state;
    /* UDP and TCP on one port: take a free TCP port, then the same UDP port (retry if that one is taken) */
    for (int attempt = 0; attempt < 50; attempt++) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t al = sizeof a;
        g_dns.tcp = socket(AF_INET, SOCK_STREAM, 0);
        if (g_dns.tcp < 0 || bind(g_dns.tcp, (struct sockaddr *)&a, sizeof a) < 0 ||
            getsockname(g_dns.tcp, (struct sockaddr *)&a, &al) < 0 || listen(g_dns.tcp, 8) < 0)
            return -1;
        g_dns.udp = socket(AF_INET, SOCK_DGRAM, 0);
        if (g_dns.udp >= 0 && bind(g_dns.udp, (struct sockaddr *)&a, sizeof a) == 0) {
            g_dns.port = ntohs(a.sin_port);
            break;
        }
        close(g_dns.tcp);
        if (g_dns.udp >= 0)
            close(g_dns.udp);
        g_dns.tcp = g_dns.udp = -1;
    }
    if (g_dns.tcp < 0 || pipe(g_dns.stop) < 0)
        return -1;
    return pthread_create(&g_dns.thread, NULL, fake_dns_main, NULL) == 0 ? 0 : -1;
}

static int fake_dns_stop(void **state)
{
    (void)state;
    (void)!write(g_dns.stop[1], "x", 1);
    pthread_join(g_dns.thread, NULL);
    close(g_dns.udp);
    close(g_dns.tcp);
    close(g_dns.stop[0]);
    close(g_dns.stop[1]);
    return 0;
}

static int dns_at(const char *name, int by_hostname, int timeout_ms, bp_nodeset *out, char *err, size_t errlen,
                  int64_t *elapsed)
{
    char server[64];
    snprintf(server, sizeof server, "127.0.0.1:%d", g_dns.port);
    bp_dns_opts o = { .by_hostname = by_hostname, .server = server };
    int64_t t0 = bp_now_ms();
    int rc = bp_discover_dns(name, "app", &o, t0 + timeout_ms, out, err, errlen);
    if (elapsed)
        *elapsed = bp_now_ms() - t0;
    return rc;
}

static void test_dns_client(void **state)
{
    (void)state;
    bp_nodeset *l = calloc(1, sizeof *l);
    char err[512];
    int64_t ms;
    assert_non_null(l);

    assert_int_equal(dns_at("multi.test", 0, 1000, l, err, sizeof err, NULL), 0);
    static const char *const three[] = { "app@10.0.0.1", "app@10.0.0.2", "app@10.0.0.3" };
    expect_names(l, three, 3);

    /* by host name: PTR for .1 and .3; .2 has none and keeps its address */
    assert_int_equal(dns_at("multi.test.", 1, 1000, l, err, sizeof err, NULL), 0);
    static const char *const named[] = { "app@10.0.0.2", "app@app-0.app.ns.svc.cluster.local",
                                         "app@app-2.app.ns.svc.cluster.local" };
    expect_names(l, named, 3);

    /* a lost datagram is sent again; a reply with another id is ignored */
    atomic_store(&g_dns.drop1_seen, 0);
    assert_int_equal(dns_at("drop1.test", 0, 2000, l, err, sizeof err, &ms), 0);
    assert_int_equal(l->n, 3);
    assert_true(ms >= 200 && ms < 1500);
    assert_int_equal(dns_at("wrongid.test", 0, 1000, l, err, sizeof err, NULL), 0);
    assert_false(has_name(l, "app@192.0.2.66"));
    assert_int_equal(l->n, 3);

    /* truncated over UDP: the whole answer over TCP */
    assert_int_equal(dns_at("big.test", 0, 1000, l, err, sizeof err, NULL), 0);
    assert_int_equal(l->n, 40);
    assert_string_equal(l->v[0], "app@10.0.1.101");
    assert_string_equal(l->v[39], "app@10.0.1.140");
    assert_int_equal(dns_at("huge.test", 0, 1000, l, err, sizeof err, NULL), 0); /* over the old 64 */
    assert_int_equal(l->n, 70);
    assert_string_equal(l->v[69], "app@10.0.1.170");
    assert_int_equal(dns_at("full.test", 0, 2000, l, err, sizeof err, NULL), 0);
    assert_int_equal(l->n, BP_TARGETS_MAX);
    assert_string_equal(l->v[0], "app@10.2.0.1");
    assert_string_equal(l->v[BP_TARGETS_MAX - 1], "app@10.2.4.24");
    assert_int_equal(dns_at("toomany.test", 0, 2000, l, err, sizeof err, NULL), BP_ETOOBIG);
    assert_non_null(strstr(err, "toomany.test has more than 1024 addresses"));
    /* a caller's smaller cap */
    bp_nodeset_free(l);
    l->max = 50;
    assert_int_equal(dns_at("huge.test", 0, 1000, l, err, sizeof err, NULL), BP_ETOOBIG);
    assert_non_null(strstr(err, "more than 50"));
    assert_int_equal(l->n, 50);
    l->max = 0;

    assert_int_equal(dns_at("nx.test", 0, 1000, l, err, sizeof err, NULL), BP_ERESOLVE);
    assert_non_null(strstr(err, "NXDOMAIN"));
    assert_int_equal(dns_at("servfail.test", 0, 1000, l, err, sizeof err, NULL), BP_ERESOLVE);
    assert_non_null(strstr(err, "SERVFAIL"));
    assert_int_equal(dns_at("empty.test", 0, 1000, l, err, sizeof err, NULL), BP_ERESOLVE);
    assert_non_null(strstr(err, "no A"));
    assert_int_equal(dns_at("garbage.test", 0, 1000, l, err, sizeof err, NULL), BP_EDECODE);
    assert_non_null(strstr(err, "malformed"));
    assert_int_equal(dns_at("refused.test", 0, 1000, l, err, sizeof err, NULL), BP_ERESOLVE);
    assert_non_null(strstr(err, "refused.test: REFUSED from 127.0.0.1:"));
    /* after a truncated UDP reply: a TCP reply truncated too is nonsense; a TCP connection closed unanswered fails */
    assert_int_equal(dns_at("tctrunc.test", 0, 1000, l, err, sizeof err, NULL), BP_EDECODE);
    assert_non_null(strstr(err, "malformed reply from 127.0.0.1:"));
    assert_int_equal(dns_at("tcpclose.test", 0, 1000, l, err, sizeof err, NULL), BP_ECONNECT);
    assert_non_null(strstr(err, "the A query of tcpclose.test"));
    assert_int_equal(l->n, 0);

    /* a server that never answers costs the deadline, not more */
    assert_int_equal(dns_at("silent.test", 0, 600, l, err, sizeof err, &ms), BP_ETIMEDOUT);
    assert_true(ms >= 590 && ms < 900);
    assert_non_null(strstr(err, "deadline"));
    assert_int_equal(l->n, 0);

    bp_nodeset_free(l);
    free(l);
}

static void test_dns_errors(void **state)
{
    (void)state;
    bp_nodeset *l = calloc(1, sizeof *l);
    char err[512];
    assert_non_null(l);
    /* nothing listens on the port: the ICMP error comes back as BP_ECONNECT */
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    close(s);
    char server[64];
    snprintf(server, sizeof server, "127.0.0.1:%d", ntohs(a.sin_port));
    bp_dns_opts o = { .server = server };
    int64_t t0 = bp_now_ms();
    assert_int_equal(bp_discover_dns("multi.test", "app", &o, t0 + 1000, l, err, sizeof err), BP_ECONNECT);
    assert_true(bp_now_ms() - t0 < 500);
    assert_non_null(strstr(err, server));

    o.server = "not-an-ip";
    assert_int_equal(bp_discover_dns("multi.test", "app", &o, bp_now_ms() + 1000, l, err, sizeof err), BP_EUSAGE);
    assert_non_null(strstr(err, "not-an-ip"));
    assert_int_equal(bp_discover_dns("bad..name", "app", NULL, bp_now_ms() + 1000, l, err, sizeof err), BP_EUSAGE);
    assert_int_equal(bp_discover_dns("ok.name", "app@x", NULL, bp_now_ms() + 1000, l, err, sizeof err), BP_EUSAGE);
    assert_non_null(strstr(err, "basename"));
    bp_nodeset_free(l);
    free(l);
}

/* The system resolver path (getaddrinfo/getnameinfo on a thread), through /etc/hosts. */
static void test_dns_system_resolver(void **state)
{
    (void)state;
    bp_nodeset *l = calloc(1, sizeof *l);
    char err[512];
    assert_non_null(l);
    assert_int_equal(bp_discover_dns("localhost", "app", NULL, bp_now_ms() + 2000, l, err, sizeof err), 0);
    assert_true(has_name(l, "app@127.0.0.1"));
    bp_dns_opts o = { .by_hostname = 1 };
    assert_int_equal(bp_discover_dns("localhost", "app", &o, bp_now_ms() + 2000, l, err, sizeof err), 0);
    assert_int_equal(l->n, 1);
    assert_false(has_name(l, "app@127.0.0.1")); /* 127.0.0.1 has a reverse name in /etc/hosts */
    /* ".invalid" never resolves (RFC 6761); without a network the resolver may give up only at the deadline */
    int64_t t0 = bp_now_ms();
    int rc = bp_discover_dns("no-such-host.invalid", "app", NULL, t0 + 1500, l, err, sizeof err);
    assert_true(rc == BP_ERESOLVE || rc == BP_ETIMEDOUT);
    assert_true(bp_now_ms() - t0 < 1700);
    assert_int_equal(l->n, 0);
    bp_nodeset_free(l);
    free(l);
}

/* ---------- EPMD: a registration of our own on the machine's EPMD ---------- */

/* Register `name` with the EPMD on 127.0.0.1 (ALIVE2_REQ); the returned socket holds it. -1 if no EPMD. */
static int epmd_register(const char *name)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = htons(4369) };
    const char *env = getenv("ERL_EPMD_PORT");
    if (env && *env)
        a.sin_port = htons((uint16_t)atoi(env));
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    size_t nl = strlen(name);
    unsigned char req[300];
    size_t n = 0, body = 13 + nl;
    req[n++] = (unsigned char)(body >> 8);
    req[n++] = (unsigned char)(body & 0xff);
    req[n++] = 120;           /* ALIVE2_REQ */
    req[n++] = 0xde;          /* port 57005: never connected to */
    req[n++] = 0xad;
    req[n++] = 72;            /* hidden node */
    req[n++] = 0;             /* protocol tcp/ipv4 */
    req[n++] = 0;             /* highest version 6 */
    req[n++] = 6;
    req[n++] = 0;             /* lowest version 6 */
    req[n++] = 6;
    req[n++] = (unsigned char)(nl >> 8);
    req[n++] = (unsigned char)(nl & 0xff);
    memcpy(req + n, name, nl);
    n += nl;
    req[n++] = 0;             /* no extra */
    req[n++] = 0;
    unsigned char resp[16];
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (send(fd, req, n, MSG_NOSIGNAL) != (ssize_t)n || poll(&p, 1, 2000) != 1 || recv(fd, resp, sizeof resp, 0) < 2 ||
        (resp[0] != 121 && resp[0] != 118) || resp[1] != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void test_epmd(void **state)
{
    (void)state;
    char name[64];
    snprintf(name, sizeof name, "bpdisc_%d_n", (int)getpid()); /* ends in a letter: suffixes sort plainly */
    int fd = epmd_register(name);
    if (fd < 0) {
        (void)!system("epmd -daemon >/dev/null 2>&1");
        sleep_ms(300);
        fd = epmd_register(name);
    }
    if (fd < 0) {
        print_message("    no EPMD on 127.0.0.1 and none could be started: EPMD discovery test skipped\n");
        skip();
    }
    bp_nodeset *l = calloc(1, sizeof *l);
    char err[512], want[128];
    assert_non_null(l);
    assert_int_equal(bp_discover_epmd("127.0.0.1", NULL, bp_now_ms() + 1000, l, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s@127.0.0.1", name);
    assert_true(has_name(l, want));
    for (size_t i = 1; i < l->n; i++) /* natural order */
        assert_true(bp_nodeset_natcmp(l->v[i - 1], l->v[i]) <= 0);
    assert_int_equal(bp_discover_epmd("localhost", "", bp_now_ms() + 1000, l, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s@localhost", name);
    assert_true(has_name(l, want));

    /* with a basename: only name, name1, name-2, name_x; not namele (think "app" and "apple") nor others */
    static const char *const suffixes[] = { "1", "-2", "_x", "le", "10" };
    int fds[5];
    char other[80];
    for (int i = 0; i < 5; i++) {
        snprintf(other, sizeof other, "%s%s", name, suffixes[i]);
        fds[i] = epmd_register(other);
        assert_true(fds[i] >= 0);
    }
    assert_int_equal(bp_discover_epmd("127.0.0.1", name, bp_now_ms() + 1000, l, err, sizeof err), 0);
    char want5[5][128];
    static const char *const order[] = { "-2", "1", "10", "", "_x" }; /* natural order: - 1 @ _ */
    for (int i = 0; i < 5; i++)
        snprintf(want5[i], sizeof want5[i], "%s%s@127.0.0.1", name, order[i]);
    const char *const wanted[] = { want5[0], want5[1], want5[2], want5[3], want5[4] };
    expect_names(l, wanted, 5);
    l->max = 3; /* a smaller cap: too many matches is an error that says so */
    assert_int_equal(bp_discover_epmd("127.0.0.1", name, bp_now_ms() + 1000, l, err, sizeof err), BP_ETOOBIG);
    assert_non_null(strstr(err, "more than 3 nodes named"));
    assert_int_equal(l->n, 3);
    l->max = 0;
    assert_int_equal(bp_discover_epmd("127.0.0.1", "a@b", bp_now_ms() + 1000, l, err, sizeof err), BP_EUSAGE);
    assert_non_null(strstr(err, "basename"));
    for (int i = 0; i < 5; i++)
        close(fds[i]);

    close(fd); /* EPMD forgets the name with the connection */
    sleep_ms(100);
    assert_int_equal(bp_discover_epmd("127.0.0.1", NULL, bp_now_ms() + 1000, l, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s@127.0.0.1", name);
    assert_false(has_name(l, want));

    /* failures */
    assert_int_equal(bp_discover_epmd("no-such-host.invalid", NULL, bp_now_ms() + 1500, l, err, sizeof err) < 0, 1);
    assert_int_equal(bp_discover_epmd("bad host", NULL, bp_now_ms() + 1000, l, err, sizeof err), BP_EUSAGE);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    close(s);
    char port[16], *old = getenv("ERL_EPMD_PORT");
    char saved[16] = "";
    if (old)
        snprintf(saved, sizeof saved, "%s", old);
    snprintf(port, sizeof port, "%d", ntohs(a.sin_port));
    setenv("ERL_EPMD_PORT", port, 1);
    assert_int_equal(bp_discover_epmd("127.0.0.1", NULL, bp_now_ms() + 1000, l, err, sizeof err), BP_EEPMD);
    assert_non_null(strstr(err, port));
    if (saved[0])
        setenv("ERL_EPMD_PORT", saved, 1);
    else
        unsetenv("ERL_EPMD_PORT");
    bp_nodeset_free(l);
    free(l);
}

/* ---------- Kubernetes JSON ---------- */

static char fixture_dir[512];

static void find_fixtures(void)
{
    /* __FILE__ is the absolute path c_src/Makefile compiles: .../test/c/test_discover.c */
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    if (slash)
        snprintf(fixture_dir, sizeof fixture_dir, "%.*s/../fixtures/k8s_api_stub", (int)(slash - file), file);
    else
        snprintf(fixture_dir, sizeof fixture_dir, "test/fixtures/k8s_api_stub");
}

static char *read_fixture(const char *name, size_t *len)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", fixture_dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

static const bp_k8s_opts k8s_app = { .ns = "prod", .service = "app", .basename = "app" };

/* Empty a result for the next parse (the parsers append), releasing its sets. */
static void reset(bp_k8s_result *r)
{
    bp_k8s_result_free(r);
    memset(r, 0, sizeof *r);
}

/* An EndpointSliceList of one IPv4 slice with count ready endpoints 10.9.x.y (malloc'd). */
static char *slices_json(int count, size_t *len)
{
    size_t cap = (size_t)count * 80 + 512, n = 0;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    n += (size_t)snprintf(b + n, cap - n,
                          "{\"kind\":\"EndpointSliceList\",\"apiVersion\":\"discovery.k8s.io/v1\",\"metadata\":{},"
                          "\"items\":[{\"metadata\":{\"name\":\"many-1\"},\"addressType\":\"IPv4\",\"endpoints\":[");
    for (int i = 0; i < count; i++)
        n += (size_t)snprintf(b + n, cap - n, "%s{\"addresses\":[\"10.9.%d.%d\"],\"conditions\":{\"ready\":true}}",
                              i ? "," : "", i / 250, i % 250 + 1);
    n += (size_t)snprintf(b + n, cap - n, "]}]}");
    *len = n;
    return b;
}

static void test_k8s_parse_endpoints(void **state)
{
    (void)state;
    size_t len;
    char *body = read_fixture("endpoints.json", &len);
    assert_non_null(body);
    bp_k8s_result *r = calloc(1, sizeof *r);
    char err[512];
    assert_int_equal(bp__k8s_parse_endpoints(body, len, &k8s_app, r, err, sizeof err), 0);
    static const char *const ready[] = { "app@app-0.app.prod.svc.cluster.local", "app@app-1.app.prod.svc.cluster.local" };
    static const char *const not_ready[] = { "app@app-2.app.prod.svc.cluster.local" };
    bp_nodeset_sort(&r->ready);
    expect_names(&r->ready, ready, 2);
    expect_names(&r->not_ready, not_ready, 1);

    /* by address, and another cluster domain */
    bp_k8s_opts o = k8s_app;
    o.names = BP_K8S_NAMES_IP;
    reset(r);
    assert_int_equal(bp__k8s_parse_endpoints(body, len, &o, r, err, sizeof err), 0);
    static const char *const ready_ip[] = { "app@10.244.1.10", "app@10.244.2.11" };
    static const char *const not_ready_ip[] = { "app@10.244.3.12" };
    expect_names(&r->ready, ready_ip, 2);
    expect_names(&r->not_ready, not_ready_ip, 1);
    o = k8s_app;
    o.cluster_domain = "k8s.example.org";
    reset(r);
    assert_int_equal(bp__k8s_parse_endpoints(body, len, &o, r, err, sizeof err), 0);
    assert_true(has_name(&r->ready, "app@app-0.app.prod.svc.k8s.example.org"));
    free(body);

    /* a Deployment's Service: no hostnames, one address in two subsets */
    body = read_fixture("endpoints_legacy.json", &len);
    assert_non_null(body);
    o = k8s_app;
    o.service = "legacy";
    reset(r);
    assert_int_equal(bp__k8s_parse_endpoints(body, len, &o, r, err, sizeof err), 0);
    bp_nodeset_sort(&r->ready);
    static const char *const legacy[] = { "app@10.244.1.9", "app@10.244.1.20" };
    static const char *const legacy_nr[] = { "app@10.244.2.30" };
    expect_names(&r->ready, legacy, 2);
    expect_names(&r->not_ready, legacy_nr, 1);
    free(body);

    /* no subsets at all */
    body = read_fixture("endpoints_empty.json", &len);
    assert_non_null(body);
    reset(r);
    assert_int_equal(bp__k8s_parse_endpoints(body, len, &k8s_app, r, err, sizeof err), 0);
    assert_int_equal(r->ready.n + r->not_ready.n, 0);
    free(body);

    /* "subsets": [] and "subsets": null, empty address lists */
    static const char *const empties[] = {
        "{\"kind\":\"Endpoints\",\"subsets\":[]}",
        "{\"kind\":\"Endpoints\",\"subsets\":null}",
        "{\"kind\":\"Endpoints\",\"subsets\":[{\"addresses\":[],\"notReadyAddresses\":null}]}",
        "{\"subsets\":[{}]}",
    };
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        reset(r);
        assert_int_equal(bp__k8s_parse_endpoints(empties[i], strlen(empties[i]), &k8s_app, r, err, sizeof err), 0);
        assert_int_equal(r->ready.n + r->not_ready.n, 0);
    }
    bp_k8s_result_free(r);
    free(r);
}

static void test_k8s_parse_slices(void **state)
{
    (void)state;
    size_t len, items;
    char *body = read_fixture("endpointslices.json", &len);
    assert_non_null(body);
    bp_k8s_result *r = calloc(1, sizeof *r);
    char err[512];
    assert_int_equal(bp__k8s_parse_slices(body, len, &k8s_app, r, &items, err, sizeof err), 0);
    assert_int_equal(items, 3);
    bp_nodeset_sort(&r->ready);
    bp_nodeset_sort(&r->not_ready);
    /* conditions {} (unknown) counts as ready; the IPv6 slice repeats app-0 by hostname */
    static const char *const ready[] = { "app@app-0.app.prod.svc.cluster.local", "app@app-1.app.prod.svc.cluster.local",
                                         "app@app-4.app.prod.svc.cluster.local" };
    static const char *const not_ready[] = { "app@app-2.app.prod.svc.cluster.local",
                                             "app@app-3.app.prod.svc.cluster.local" };
    expect_names(&r->ready, ready, 3);
    expect_names(&r->not_ready, not_ready, 2);
    assert_int_equal(r->skipped, 0);

    bp_k8s_opts o = k8s_app;
    o.names = BP_K8S_NAMES_IP;
    reset(r);
    assert_int_equal(bp__k8s_parse_slices(body, len, &o, r, &items, err, sizeof err), 0);
    bp_nodeset_sort(&r->ready);
    bp_nodeset_sort(&r->not_ready);
    static const char *const ready_ip[] = { "app@10.244.1.10", "app@10.244.2.11", "app@10.244.4.14" };
    static const char *const not_ready_ip[] = { "app@10.244.3.12", "app@10.244.3.13" };
    expect_names(&r->ready, ready_ip, 3);
    expect_names(&r->not_ready, not_ready_ip, 2);
    assert_int_equal(r->skipped, 1); /* the IPv6 address */
    free(body);

    /* null endpoints, a bad address, the same address not ready in one slice and ready in another */
    body = read_fixture("endpointslices_web.json", &len);
    assert_non_null(body);
    o = k8s_app;
    o.service = "web";
    reset(r);
    assert_int_equal(bp__k8s_parse_slices(body, len, &o, r, &items, err, sizeof err), 0);
    assert_int_equal(items, 3);
    bp_nodeset_sort(&r->ready);
    static const char *const web[] = { "app@10.244.5.2", "app@10.244.5.10" };
    expect_names(&r->ready, web, 2);
    assert_int_equal(r->not_ready.n, 0);
    assert_int_equal(r->skipped, 1);
    free(body);

    body = read_fixture("endpointslices_empty.json", &len);
    assert_non_null(body);
    reset(r);
    assert_int_equal(bp__k8s_parse_slices(body, len, &k8s_app, r, &items, err, sizeof err), 0);
    assert_int_equal(items, 0);
    free(body);

    /* 200 addresses (a bp_namelist held 64); then more than a set holds */
    body = slices_json(200, &len);
    assert_non_null(body);
    reset(r);
    assert_int_equal(bp__k8s_parse_slices(body, len, &k8s_app, r, &items, err, sizeof err), 0);
    bp_nodeset_sort(&r->ready);
    assert_int_equal(r->ready.n, 200);
    assert_string_equal(r->ready.v[0], "app@10.9.0.1");
    assert_string_equal(r->ready.v[199], "app@10.9.0.200");
    free(body);
    body = slices_json(BP_TARGETS_MAX + 1, &len);
    assert_non_null(body);
    reset(r);
    assert_int_equal(bp__k8s_parse_slices(body, len, &k8s_app, r, &items, err, sizeof err), BP_ETOOBIG);
    assert_non_null(strstr(err, "service prod/app has more than 1024 addresses"));
    assert_int_equal(r->ready.n, BP_TARGETS_MAX);
    free(body);
    reset(r);
    free(r);
}

static void test_k8s_parse_garbage(void **state)
{
    (void)state;
    bp_k8s_result *r = calloc(1, sizeof *r);
    char err[512];
    size_t items;
    static const struct {
        const char *body;
        const char *why;
    } slices[] = {
        { "", "malformed JSON" },
        { "{\"kind\":\"EndpointSliceList\",\"items\":[{", "malformed JSON" },
        { "<html>502 Bad Gateway</html>", "malformed JSON" },
        { "[]", "not an object" },
        { "{\"kind\":\"Status\",\"message\":\"x\"}", "kind Status" },
        { "{\"kind\":\"EndpointSliceList\"}", "no items" },
        { "{\"items\":{}}", "no items" },
        { "{\"items\":[3]}", "items[0] is not an object" },
        { "{\"items\":[{\"addressType\":\"IPv4\",\"endpoints\":{}}]}", "endpoints is not an array" },
        { "{\"items\":[{\"addressType\":\"IPv4\",\"endpoints\":[{\"conditions\":{}}]}]}", "has no addresses" },
        { "{\"items\":[],\"items\":[]}", "malformed JSON" },
    };
    for (size_t i = 0; i < sizeof slices / sizeof slices[0]; i++) {
        reset(r);
        err[0] = '\0';
        assert_int_equal(bp__k8s_parse_slices(slices[i].body, strlen(slices[i].body), &k8s_app, r, &items, err,
                                              sizeof err),
                         BP_EDECODE);
        if (!strstr(err, slices[i].why))
            print_message("    %zu: %s\n", i, err);
        assert_non_null(strstr(err, slices[i].why));
    }
    static const struct {
        const char *body;
        const char *why;
    } eps[] = {
        { "{\"kind\":\"Endpoints\",\"subsets\":{}}", "subsets is not an array" },
        { "{\"subsets\":[1]}", "subsets[0] is not an object" },
        { "{\"subsets\":[{\"addresses\":\"10.0.0.1\"}]}", "subsets[0].addresses is not an array" },
        { "{\"subsets\":[{\"notReadyAddresses\":[\"10.0.0.1\"]}]}", "notReadyAddresses[0] is not an object" },
        { "{\"kind\":\"EndpointSliceList\",\"items\":[]}", "kind EndpointSliceList" },
        { "nul", "malformed JSON" },
    };
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++) {
        reset(r);
        assert_int_equal(bp__k8s_parse_endpoints(eps[i].body, strlen(eps[i].body), &k8s_app, r, err, sizeof err),
                         BP_EDECODE);
        assert_non_null(strstr(err, eps[i].why));
    }
    /* addresses without an IP or with a bad hostname are skipped, not fatal */
    const char *odd = "{\"subsets\":[{\"addresses\":[{\"hostname\":\"UPPER\"},{\"ip\":\"10.0.0.300\"},"
                      "{\"ip\":\"10.0.0.5\",\"hostname\":\"Bad_Host\"},{\"ip\":42}]}]}";
    reset(r);
    assert_int_equal(bp__k8s_parse_endpoints(odd, strlen(odd), &k8s_app, r, err, sizeof err), 0);
    static const char *const odd_names[] = { "app@10.0.0.5" };
    expect_names(&r->ready, odd_names, 1);
    assert_int_equal(r->skipped, 3);
    bp_k8s_result_free(r);
    free(r);
}

/* ---------- tokens ---------- */

static void b64url(const char *in, char *out, size_t outlen)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n = strlen(in), o = 0;
    for (size_t i = 0; i < n && o + 5 < outlen; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = tab[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = tab[v & 63];
    }
    out[o] = '\0';
}

/* A token shaped like a projected service-account token (not signed: the stand-in only compares it). */
static void make_token(const char *sub, char *out, size_t outlen)
{
    char head[128], body[512], claims[400];
    b64url("{\"alg\":\"RS256\",\"kid\":\"test\"}", head, sizeof head);
    snprintf(claims, sizeof claims,
             "{\"aud\":[\"https://kubernetes.default.svc\"],\"exp\":4102444800,\"iss\":\"https://kubernetes.default.svc\","
             "\"kubernetes.io\":{\"namespace\":\"prod\",\"serviceaccount\":{\"name\":\"beamprobe\"}},\"sub\":\"%s\"}",
             sub);
    b64url(claims, body, sizeof body);
    snprintf(out, outlen, "%s.%s.c2lnbmF0dXJlLW5vdC1jaGVja2Vk", head, body);
}

static void test_token_subject(void **state)
{
    (void)state;
    char tok[1024], sub[128];
    make_token("system:serviceaccount:prod:beamprobe", tok, sizeof tok);
    assert_int_equal(bp__k8s_token_subject(tok, sub, sizeof sub), 0);
    assert_string_equal(sub, "system:serviceaccount:prod:beamprobe");
    assert_int_equal(bp__k8s_token_subject(tok, sub, 10), -1);
    assert_int_equal(bp__k8s_token_subject("opaque-token", sub, sizeof sub), -1);
    assert_int_equal(bp__k8s_token_subject("a.!!!.c", sub, sizeof sub), -1);
    make_token("bad\\u0001sub", tok, sizeof tok);
    assert_int_equal(bp__k8s_token_subject(tok, sub, sizeof sub), -1);
}

/* ---------- the Kubernetes API stand-in ---------- */

typedef struct {
    char token[1024];
    char *slices, *slices_empty, *slices_web, *slices_many, *slices_toomany, *endpoints, *endpoints_legacy,
        *endpoints_empty;
    size_t slices_len, slices_empty_len, slices_web_len, slices_many_len, slices_toomany_len, endpoints_len,
        endpoints_legacy_len, endpoints_empty_len;
    const char *dyn_file;   /* prod/dyn's EndpointSliceList, read again at every request ($BP_K8S_DYN_FILE), or NULL */
    atomic_int requests;
} k8s_stub;

static const char status_401[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                                 "\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}\n";
static const char status_403_slices[] =
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"endpointslices."
    "discovery.k8s.io is forbidden: User \\\"system:serviceaccount:prod:beamprobe\\\" cannot list resource "
    "\\\"endpointslices\\\" in API group \\\"discovery.k8s.io\\\" in the namespace \\\"prod\\\"\",\"reason\":"
    "\"Forbidden\",\"details\":{\"group\":\"discovery.k8s.io\",\"kind\":\"endpointslices\"},\"code\":403}\n";
static const char status_403_endpoints[] =
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"endpoints "
    "\\\"forbidden\\\" is forbidden: User \\\"system:serviceaccount:prod:beamprobe\\\" cannot get resource "
    "\\\"endpoints\\\" in API group \\\"\\\" in the namespace \\\"prod\\\"\",\"reason\":\"Forbidden\",\"details\":"
    "{\"name\":\"forbidden\",\"kind\":\"endpoints\"},\"code\":403}\n";
static const char status_404[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                                 "\"message\":\"endpoints \\\"missing\\\" not found\",\"reason\":\"NotFound\","
                                 "\"details\":{\"name\":\"missing\",\"kind\":\"endpoints\"},\"code\":404}\n";
static const char page_404[] = "404 page not found\n";
static const char status_500[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                                 "\"message\":\"etcdserver: request timed out\",\"code\":500}\n";
static const char garbage[] = "{\"kind\":\"EndpointSliceList\",\"apiVersion\":\"discovery.k8s.io/v1\",\"items\":[{\"me";

static void answer(bp_http_response *resp, int status, const char *body, size_t len)
{
    resp->status = status;
    resp->content_type = status == 404 && body == page_404 ? "text/plain; charset=utf-8" : "application/json";
    resp->body = body;
    resp->body_len = len;
}

#define ANSWER(resp, status, s) answer(resp, status, s, sizeof(s) - 1)

/* Copy the path segment after prefix (up to '/' or the end) into out. */
static int segment(const char *path, size_t plen, const char *prefix, char *out, size_t outlen, const char **rest)
{
    size_t pl = strlen(prefix);
    if (plen < pl || memcmp(path, prefix, pl) != 0)
        return -1;
    size_t i = pl;
    while (i < plen && path[i] != '/')
        i++;
    if (i - pl == 0 || i - pl >= outlen)
        return -1;
    memcpy(out, path + pl, i - pl);
    out[i - pl] = '\0';
    *rest = path + i;
    return 0;
}

/* prod/dyn: the EndpointSlice list in k->dyn_file as it is now (a test edits it); no such file: no slice. */
static void dyn_answer(const k8s_stub *k, bp_http_response *resp)
{
    FILE *f = fopen(k->dyn_file, "r");
    char *buf = f ? malloc(1 << 20) : NULL;
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    if (f)
        fclose(f);
    if (!buf) {
        answer(resp, 200, k->slices_empty, k->slices_empty_len);
        return;
    }
    answer(resp, 200, buf, n);
    resp->hold = buf;
    resp->release = free;
}

static void k8s_handler(void *ctx, const bp_http_request *req, bp_http_response *resp)
{
    k8s_stub *k = ctx;
    atomic_fetch_add(&k->requests, 1);
    char want[1100];
    snprintf(want, sizeof want, "Bearer %s", k->token);
    if (!req->authorization || req->authorization_len != strlen(want) ||
        memcmp(req->authorization, want, req->authorization_len) != 0) {
        ANSWER(resp, 401, status_401);
        return;
    }
    char ns[64], svc[64] = "", tail[128];
    const char *rest;
    int is_slices = 0;
    size_t plen = req->path_len;
    if (segment(req->path, plen, "/apis/discovery.k8s.io/v1/namespaces/", ns, sizeof ns, &rest) == 0) {
        size_t rl = plen - (size_t)(rest - req->path);
        static const char sel[] = "labelSelector=kubernetes.io%2Fservice-name%3D";
        if (rl != strlen("/endpointslices") || memcmp(rest, "/endpointslices", rl) != 0 || !req->query ||
            req->query_len <= sizeof sel - 1 || req->query_len - (sizeof sel - 1) >= sizeof svc ||
            memcmp(req->query, sel, sizeof sel - 1) != 0) {
            ANSWER(resp, 404, page_404);
            return;
        }
        memcpy(svc, req->query + sizeof sel - 1, req->query_len - (sizeof sel - 1));
        svc[req->query_len - (sizeof sel - 1)] = '\0';
        is_slices = 1;
    } else if (segment(req->path, plen, "/api/v1/namespaces/", ns, sizeof ns, &rest) == 0 &&
               segment(rest, plen - (size_t)(rest - req->path), "/endpoints/", svc, sizeof svc, &rest) == 0 &&
               rest == req->path + plen) {
        is_slices = 0;
    } else {
        ANSWER(resp, 404, page_404);
        return;
    }
    snprintf(tail, sizeof tail, "%s/%s", ns, svc);
    if (strcmp(ns, "old") == 0) { /* an API server without discovery.k8s.io/v1 */
        if (is_slices)
            ANSWER(resp, 404, page_404);
        else
            answer(resp, 200, k->endpoints, k->endpoints_len);
        return;
    }
    if (strcmp(ns, "prod") != 0) {
        if (is_slices)
            answer(resp, 200, k->slices_empty, k->slices_empty_len);
        else
            ANSWER(resp, 404, status_404);
        return;
    }
    if (strcmp(svc, "app") == 0) {
        if (is_slices)
            answer(resp, 200, k->slices, k->slices_len);
        else
            answer(resp, 200, k->endpoints, k->endpoints_len);
    } else if (strcmp(svc, "legacy") == 0) {
        if (is_slices)
            answer(resp, 200, k->slices_empty, k->slices_empty_len);
        else
            answer(resp, 200, k->endpoints_legacy, k->endpoints_legacy_len);
    } else if (strcmp(svc, "web") == 0) {
        if (is_slices)
            answer(resp, 200, k->slices_web, k->slices_web_len);
        else
            ANSWER(resp, 404, status_404);
    } else if (strcmp(svc, "idle") == 0) {
        if (is_slices)
            answer(resp, 200, k->slices_empty, k->slices_empty_len);
        else
            answer(resp, 200, k->endpoints_empty, k->endpoints_empty_len);
    } else if (strcmp(svc, "rbac") == 0) {
        if (is_slices)
            ANSWER(resp, 403, status_403_slices);
        else
            answer(resp, 200, k->endpoints, k->endpoints_len);
    } else if (strcmp(svc, "forbidden") == 0) {
        if (is_slices)
            ANSWER(resp, 403, status_403_slices);
        else
            ANSWER(resp, 403, status_403_endpoints);
    } else if (strcmp(svc, "garbage") == 0) {
        ANSWER(resp, 200, garbage);
    } else if (strcmp(svc, "slow") == 0) {
        sleep_ms(1200); /* blocks the stand-in's loop: fine for a test */
        answer(resp, 200, k->slices, k->slices_len);
    } else if (strcmp(svc, "dyn") == 0 && k->dyn_file && is_slices) {
        dyn_answer(k, resp);
    } else if (strcmp(svc, "oops") == 0) {
        ANSWER(resp, 500, status_500);
    } else if (strcmp(svc, "many") == 0 && is_slices) {
        answer(resp, 200, k->slices_many, k->slices_many_len);
    } else if (strcmp(svc, "toomany") == 0 && is_slices) {
        answer(resp, 200, k->slices_toomany, k->slices_toomany_len);
    } else if (is_slices) {
        answer(resp, 200, k->slices_empty, k->slices_empty_len);
    } else {
        ANSWER(resp, 404, status_404);
    }
}

static int stub_load(k8s_stub *k, const char *token)
{
    snprintf(k->token, sizeof k->token, "%s", token);
    k->slices = read_fixture("endpointslices.json", &k->slices_len);
    k->slices_empty = read_fixture("endpointslices_empty.json", &k->slices_empty_len);
    k->slices_web = read_fixture("endpointslices_web.json", &k->slices_web_len);
    k->endpoints = read_fixture("endpoints.json", &k->endpoints_len);
    k->endpoints_legacy = read_fixture("endpoints_legacy.json", &k->endpoints_legacy_len);
    k->endpoints_empty = read_fixture("endpoints_empty.json", &k->endpoints_empty_len);
    k->slices_many = slices_json(70, &k->slices_many_len);           /* over the old 64 */
    k->slices_toomany = slices_json(1100, &k->slices_toomany_len);   /* over BP_TARGETS_MAX */
    return k->slices && k->slices_empty && k->slices_web && k->endpoints && k->endpoints_legacy && k->endpoints_empty &&
                   k->slices_many && k->slices_toomany
               ? 0
               : -1;
}

static void stub_free(k8s_stub *k)
{
    free(k->slices);
    free(k->slices_empty);
    free(k->slices_web);
    free(k->slices_many);
    free(k->slices_toomany);
    free(k->endpoints);
    free(k->endpoints_legacy);
    free(k->endpoints_empty);
}

/* A CA and a server certificate for 127.0.0.1/localhost, and an unrelated CA, by openssl(1). */
static int make_certs(void)
{
    return make_certs_with(
        "/tmp/bp-disc-tls-XXXXXX",
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n' > srv.ext && "
        "openssl req -x509 $EC -keyout ca.key -out ca.pem -days 2 -subj /CN=bp-test-k8s-ca "
        "  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign && "
        "openssl req $EC -keyout srv.key -out srv.csr -subj /CN=kubernetes && "
        "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 "
        "  -extfile srv.ext && "
        "openssl req -x509 $EC -keyout other.key -out other.pem -days 2 -subj /CN=other-ca "
        "  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
        "    openssl(1) failed or is missing: Kubernetes API tests skipped (apt-get install openssl)\n");
}

typedef struct {
    k8s_stub stub;
    bp_http_server *srv;
    pthread_t thread;
    int port;
    char url[64], ca[128], other_ca[128], token_file[128], bad_token_file[128];
} k8s_env;

static k8s_env g_k8s;

static void *run_server(void *arg)
{
    bp_http_run(arg);
    return NULL;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static int k8s_start(void **state)
{
    (void)state;
    if (!make_certs())
        return 0; /* the tests skip */
    char tok[1024], cert[128], key[128], err[256];
    make_token("system:serviceaccount:prod:beamprobe", tok, sizeof tok);
    if (stub_load(&g_k8s.stub, tok) < 0)
        return -1;
    cert_path(cert, sizeof cert, "srv.pem");
    cert_path(key, sizeof key, "srv.key");
    cert_path(g_k8s.ca, sizeof g_k8s.ca, "ca.pem");
    cert_path(g_k8s.other_ca, sizeof g_k8s.other_ca, "other.pem");
    cert_path(g_k8s.token_file, sizeof g_k8s.token_file, "token");
    cert_path(g_k8s.bad_token_file, sizeof g_k8s.bad_token_file, "expired-token");
    size_t tl = strlen(tok);
    tok[tl] = '\n'; /* as kubelet writes it: trailing newline trimmed by the reader */
    tok[tl + 1] = '\0';
    write_text(g_k8s.token_file, tok);
    char bad[1024];
    make_token("system:serviceaccount:prod:old", bad, sizeof bad);
    write_text(g_k8s.bad_token_file, bad);
    bp_http_opts o = { .listen = "127.0.0.1:0", .tls_cert = cert, .tls_key = key };
    if (bp_http_new(&o, k8s_handler, &g_k8s.stub, &g_k8s.srv, err, sizeof err) != 0) {
        print_message("    stand-in: %s\n", err);
        return -1;
    }
    g_k8s.port = bp_http_port(g_k8s.srv);
    snprintf(g_k8s.url, sizeof g_k8s.url, "https://127.0.0.1:%d/", g_k8s.port);
    return pthread_create(&g_k8s.thread, NULL, run_server, g_k8s.srv) == 0 ? 0 : -1;
}

static int k8s_stop(void **state)
{
    (void)state;
    if (g_k8s.srv) {
        bp_http_stop(g_k8s.srv);
        pthread_join(g_k8s.thread, NULL);
        bp_http_free(g_k8s.srv);
        g_k8s.srv = NULL;
    }
    stub_free(&g_k8s.stub);
    return 0;
}

static int k8s_at(const char *ns, const char *svc, bp_k8s_opts *o, int timeout_ms, bp_k8s_result *r, char *err,
                  size_t errlen, int64_t *elapsed)
{
    o->ns = ns;
    o->service = svc;
    if (!o->basename)
        o->basename = "app";
    if (!o->api_url)
        o->api_url = g_k8s.url;
    if (!o->token_file)
        o->token_file = g_k8s.token_file;
    if (!o->ca_file)
        o->ca_file = g_k8s.ca;
    int64_t t0 = bp_now_ms();
    err[0] = '\0';
    int rc = bp_discover_k8s(o, t0 + timeout_ms, r, err, errlen);
    if (elapsed)
        *elapsed = bp_now_ms() - t0;
    return rc;
}

static void test_k8s_api_ok(void **state)
{
    (void)state;
    if (!g_k8s.srv)
        skip();
    bp_k8s_result *r = calloc(1, sizeof *r);
    char err[1024];
    bp_k8s_opts o = { 0 };

    assert_int_equal(k8s_at("prod", "app", &o, 2000, r, err, sizeof err, NULL), 0);
    assert_string_equal(r->source, "endpointslices");
    static const char *const ready[] = { "app@app-0.app.prod.svc.cluster.local", "app@app-1.app.prod.svc.cluster.local",
                                         "app@app-4.app.prod.svc.cluster.local" };
    static const char *const not_ready[] = { "app@app-2.app.prod.svc.cluster.local",
                                             "app@app-3.app.prod.svc.cluster.local" };
    expect_names(&r->ready, ready, 3);
    expect_names(&r->not_ready, not_ready, 2);

    /* Endpoints only, by address */
    memset(&o, 0, sizeof o);
    o.source = BP_K8S_SOURCE_ENDPOINTS;
    o.names = BP_K8S_NAMES_IP;
    assert_int_equal(k8s_at("prod", "app", &o, 2000, r, err, sizeof err, NULL), 0);
    assert_string_equal(r->source, "endpoints");
    static const char *const ready_ip[] = { "app@10.244.1.10", "app@10.244.2.11" };
    static const char *const not_ready_ip[] = { "app@10.244.3.12" };
    expect_names(&r->ready, ready_ip, 2);
    expect_names(&r->not_ready, not_ready_ip, 1);

    /* fallbacks to Endpoints: no slices for the service; slices forbidden; API group not served */
    memset(&o, 0, sizeof o);
    assert_int_equal(k8s_at("prod", "legacy", &o, 2000, r, err, sizeof err, NULL), 0);
    assert_string_equal(r->source, "endpoints");
    static const char *const legacy[] = { "app@10.244.1.9", "app@10.244.1.20" };
    expect_names(&r->ready, legacy, 2);
    memset(&o, 0, sizeof o);
    assert_int_equal(k8s_at("prod", "rbac", &o, 2000, r, err, sizeof err, NULL), 0);
    assert_string_equal(r->source, "endpoints");
    assert_true(has_name(&r->ready, "app@app-0.rbac.prod.svc.cluster.local"));
    memset(&o, 0, sizeof o);
    assert_int_equal(k8s_at("old", "app", &o, 2000, r, err, sizeof err, NULL), 0);
    assert_string_equal(r->source, "endpoints");
    assert_int_equal(r->ready.n, 2);

    /* 70 endpoints in one slice (more than the old 64): every one is a target */
    memset(&o, 0, sizeof o);
    assert_int_equal(k8s_at("prod", "many", &o, 2000, r, err, sizeof err, NULL), 0);
    assert_int_equal(r->ready.n, 70);
    assert_string_equal(r->ready.v[69], "app@10.9.0.70");

    /* an existing Service without endpoints */
    memset(&o, 0, sizeof o);
    assert_int_equal(k8s_at("prod", "idle", &o, 2000, r, err, sizeof err, NULL), 0);
    assert_int_equal(r->ready.n + r->not_ready.n, 0);

    /* the in-cluster URL from KUBERNETES_SERVICE_HOST/PORT */
    char port[16];
    snprintf(port, sizeof port, "%d", g_k8s.port);
    setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", port, 1);
    memset(&o, 0, sizeof o);
    o.api_url = "";
    assert_int_equal(k8s_at("prod", "web", &o, 2000, r, err, sizeof err, NULL), 0);
    static const char *const web[] = { "app@10.244.5.2", "app@10.244.5.10" };
    expect_names(&r->ready, web, 2);
    unsetenv("KUBERNETES_SERVICE_HOST");
    memset(&o, 0, sizeof o);
    o.api_url = "";
    assert_int_equal(k8s_at("prod", "web", &o, 2000, r, err, sizeof err, NULL), BP_ECONFIG);
    assert_non_null(strstr(err, "KUBERNETES_SERVICE_HOST"));
    unsetenv("KUBERNETES_SERVICE_PORT");
    bp_k8s_result_free(r);
    free(r);
}

static void test_k8s_api_errors(void **state)
{
    (void)state;
    if (!g_k8s.srv)
        skip();
    bp_k8s_result *r = calloc(1, sizeof *r);
    char err[1024];
    bp_k8s_opts o = { 0 };
    int64_t ms;

    /* 401: the message names the service account from the token, never the token */
    o.token_file = g_k8s.bad_token_file;
    assert_int_equal(k8s_at("prod", "app", &o, 2000, r, err, sizeof err, NULL), BP_EAUTH);
    assert_non_null(strstr(err, "unauthorized"));
    assert_non_null(strstr(err, "401"));
    assert_non_null(strstr(err, "system:serviceaccount:prod:old"));
    assert_null(strstr(err, "eyJ"));
    /* no token at all (explicit URL, no default token file on this machine) */
    struct stat st;
    if (stat(BP_K8S_TOKEN_FILE, &st) != 0) {
        memset(&o, 0, sizeof o);
        o.token_file = "";
        assert_int_equal(k8s_at("prod", "app", &o, 2000, r, err, sizeof err, NULL), BP_EAUTH);
        assert_non_null(strstr(err, "anonymous"));
    }
    /* 403 on both APIs */
    memset(&o, 0, sizeof o);
    assert_int_equal(k8s_at("prod", "forbidden", &o, 2000, r, err, sizeof err, NULL), BP_EAUTH);
    assert_non_null(strstr(err, "system:serviceaccount:prod:beamprobe"));
    assert_non_null(strstr(err, "403"));
    assert_non_null(strstr(err, "endpointslices"));
    memset(&o, 0, sizeof o);
    o.source = BP_K8S_SOURCE_SLICES;
    assert_int_equal(k8s_at("prod", "rbac", &o, 2000, r, err, sizeof err, NULL), BP_EAUTH);
    /* 404 */
    memset(&o, 0, sizeof o);
    assert_int_equal(k8s_at("prod", "missing", &o, 2000, r, err, sizeof err, NULL), BP_ERESOLVE);
    assert_non_null(strstr(err, "prod/missing not found"));
    memset(&o, 0, sizeof o);
    assert_int_equal(k8s_at("nowhere", "app", &o, 2000, r, err, sizeof err, NULL), BP_ERESOLVE);
    memset(&o, 0, sizeof o);
    o.source = BP_K8S_SOURCE_SLICES;
    assert_int_equal(k8s_at("old", "app", &o, 2000, r, err, sizeof err, NULL), BP_ERESOLVE);
    assert_non_null(strstr(err, "EndpointSlices"));
    /* malformed body */
    memset(&o, 0, sizeof o);
    assert_int_equal(k8s_at("prod", "garbage", &o, 2000, r, err, sizeof err, NULL), BP_EDECODE);
    assert_non_null(strstr(err, "malformed JSON"));
    /* other statuses */
    memset(&o, 0, sizeof o);
    assert_int_equal(k8s_at("prod", "oops", &o, 2000, r, err, sizeof err, NULL), BP_EIO);
    assert_non_null(strstr(err, "500"));
    assert_non_null(strstr(err, "etcdserver"));
    /* over the size cap; over the list size */
    memset(&o, 0, sizeof o);
    o.max_body = 1024;
    assert_int_equal(k8s_at("prod", "app", &o, 2000, r, err, sizeof err, NULL), BP_ETOOBIG);
    assert_non_null(strstr(err, "1024 bytes"));
    memset(&o, 0, sizeof o);
    assert_int_equal(k8s_at("prod", "toomany", &o, 2000, r, err, sizeof err, NULL), BP_ETOOBIG);
    assert_int_equal(r->ready.n, BP_TARGETS_MAX);
    assert_non_null(strstr(err, "more than 1024 addresses"));
    /* a slow answer costs the deadline, not more */
    memset(&o, 0, sizeof o);
    assert_int_equal(k8s_at("prod", "slow", &o, 400, r, err, sizeof err, &ms), BP_ETIMEDOUT);
    assert_true(ms >= 390 && ms < 700);
    assert_non_null(strstr(err, "deadline"));
    sleep_ms(900); /* let the stand-in finish its nap */
    /* a certificate the CA does not vouch for; a CA file that is not there; no token file */
    memset(&o, 0, sizeof o);
    o.ca_file = g_k8s.other_ca;
    assert_int_equal(k8s_at("prod", "app", &o, 2000, r, err, sizeof err, NULL), BP_ECONNECT);
    assert_non_null(strstr(err, "certificate"));
    memset(&o, 0, sizeof o);
    o.ca_file = "/nonexistent/ca.crt";
    assert_int_equal(k8s_at("prod", "app", &o, 2000, r, err, sizeof err, NULL), BP_ECONFIG);
    memset(&o, 0, sizeof o);
    o.token_file = "/nonexistent/token";
    assert_int_equal(k8s_at("prod", "app", &o, 2000, r, err, sizeof err, NULL), BP_ECONFIG);
    assert_non_null(strstr(err, "/nonexistent/token"));
    /* token files no bearer token can come from: refused before any request, naming the file */
    char tpath[160];
    cert_path(tpath, sizeof tpath, "bad-token");
    static const char *const why[] = { "is empty", "holds characters a bearer token cannot have",
                                       "is larger than 65536 bytes" };
    char *big = malloc(70000);
    assert_non_null(big);
    memset(big, 'a', 69999);
    big[69999] = '\0';
    const char *content[] = { " \n\n", "abc def\n", big };
    for (size_t i = 0; i < 3; i++) {
        write_text(tpath, content[i]);
        memset(&o, 0, sizeof o);
        o.token_file = tpath;
        assert_int_equal(k8s_at("prod", "app", &o, 2000, r, err, sizeof err, NULL), BP_ECONFIG);
        assert_non_null(strstr(err, tpath));
        assert_non_null(strstr(err, why[i]));
        assert_null(strstr(err, "abc"));
    }
    free(big);
    /* nothing listening */
    memset(&o, 0, sizeof o);
    o.api_url = "https://127.0.0.1:1";
    assert_int_equal(k8s_at("prod", "app", &o, 2000, r, err, sizeof err, NULL), BP_ECONNECT);
    /* bad options */
    memset(&o, 0, sizeof o);
    o.api_url = "ftp://127.0.0.1/";
    assert_int_equal(k8s_at("prod", "app", &o, 2000, r, err, sizeof err, NULL), BP_EUSAGE);
    memset(&o, 0, sizeof o);
    assert_int_equal(k8s_at("Prod", "app", &o, 2000, r, err, sizeof err, NULL), BP_EUSAGE);
    memset(&o, 0, sizeof o);
    o.basename = "a@b";
    assert_int_equal(k8s_at("prod", "app", &o, 2000, r, err, sizeof err, NULL), BP_EUSAGE);
    bp_k8s_result_free(r);
    free(r);
}

/* ---------- command mode, for test/integration/test_discovery.sh ---------- */

static bp_http_server *volatile g_serving;

static void on_term(int sig)
{
    (void)sig;
    if (g_serving)
        bp_http_stop(g_serving);
}

static int usage(void)
{
    fprintf(stderr,
            "usage: test_discover                      (the unit tests)\n"
            "       test_discover discover epmd HOST [--basename APP] [--timeout MS]\n"
            "       test_discover discover dns NAME BASENAME [--by-hostname] [--server IP:PORT] [--timeout MS]\n"
            "       test_discover discover k8s NS/SVC BASENAME [--api URL] [--token F] [--ca F] [--ip-names]\n"
            "                                          [--source auto|slices|endpoints] [--timeout MS]\n"
            "       test_discover serve-k8s CERT KEY TOKEN_FILE PORT_FILE   (the API stand-in, until SIGTERM;\n"
            "                                          prod/dyn answers the file $BP_K8S_DYN_FILE as it is now)\n"
            "       test_discover epmd-hold NAME...    (register NAMEs with the local EPMD, port 57005 that nothing\n"
            "                                          serves; print \"ready\"; hold them until SIGTERM)\n");
    return 64;
}

/* Hold EPMD registrations of names that no node serves (their port refuses), until a signal ends the process. */
static int epmd_hold(int argc, char **argv)
{
    int *fds = calloc((size_t)argc, sizeof *fds);
    int rc = fds ? 0 : 1;
    for (int i = 2; rc == 0 && i < argc; i++) {
        fds[i] = epmd_register(argv[i]);
        if (fds[i] < 0) {
            fprintf(stderr, "cannot register %s with EPMD on 127.0.0.1\n", argv[i]);
            rc = 1;
        }
    }
    if (rc == 0) {
        printf("ready\n");
        fflush(stdout);
        for (;;) /* SIGTERM ends the process; the kernel closes the sockets and EPMD forgets the names */
            pause();
    }
    for (int i = 2; fds && i < argc; i++)
        if (fds[i] > 0)
            close(fds[i]);
    free(fds);
    return rc;
}

static int command(int argc, char **argv)
{
    if (strcmp(argv[1], "epmd-hold") == 0)
        return argc > 2 ? epmd_hold(argc, argv) : usage();
    if (strcmp(argv[1], "serve-k8s") == 0) {
        if (argc != 6)
            return usage();
        find_fixtures();
        char tok[1100] = "";
        FILE *f = fopen(argv[4], "r");
        if (!f || !fgets(tok, sizeof tok, f)) {
            fprintf(stderr, "cannot read %s\n", argv[4]);
            return 1;
        }
        fclose(f);
        tok[strcspn(tok, "\r\n")] = '\0';
        k8s_stub *k = calloc(1, sizeof *k);
        if (!k || stub_load(k, tok) < 0) {
            fprintf(stderr, "cannot load the fixtures from %s\n", fixture_dir);
            return 1;
        }
        k->dyn_file = getenv("BP_K8S_DYN_FILE");
        bp_http_opts o = { .listen = "127.0.0.1:0", .tls_cert = argv[2], .tls_key = argv[3] };
        bp_http_server *srv;
        char err[256];
        if (bp_http_new(&o, k8s_handler, k, &srv, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        g_serving = srv;
        signal(SIGTERM, on_term);
        signal(SIGINT, on_term);
        FILE *pf = fopen(argv[5], "w");
        if (!pf)
            return 1;
        fprintf(pf, "%d\n", bp_http_port(srv));
        fclose(pf);
        int rc = bp_http_run(srv);
        bp_http_free(srv);
        stub_free(k);
        free(k);
        return rc ? 1 : 0;
    }
    if (strcmp(argv[1], "discover") != 0 || argc < 4)
        return usage();
    const char *kind = argv[2];
    int timeout = 2000, by_hostname = 0;
    const char *server = NULL, *basename = NULL;
    bp_k8s_opts ko = { 0 };
    int first = strcmp(kind, "epmd") == 0 ? 4 : 5;
    if (argc < first)
        return usage();
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--by-hostname") == 0) {
            by_hostname = 1;
        } else if (strcmp(a, "--ip-names") == 0) {
            ko.names = BP_K8S_NAMES_IP;
        } else if (v && strcmp(a, "--timeout") == 0) {
            timeout = atoi(v), i++;
        } else if (v && strcmp(a, "--server") == 0) {
            server = v, i++;
        } else if (v && strcmp(a, "--basename") == 0) {
            basename = v, i++;
        } else if (v && strcmp(a, "--api") == 0) {
            ko.api_url = v, i++;
        } else if (v && strcmp(a, "--token") == 0) {
            ko.token_file = v, i++;
        } else if (v && strcmp(a, "--ca") == 0) {
            ko.ca_file = v, i++;
        } else if (v && strcmp(a, "--source") == 0) {
            ko.source = strcmp(v, "slices") == 0      ? BP_K8S_SOURCE_SLICES
                        : strcmp(v, "endpoints") == 0 ? BP_K8S_SOURCE_ENDPOINTS
                                                      : BP_K8S_SOURCE_AUTO;
            i++;
        } else {
            return usage();
        }
    }
    char err[1024] = "";
    int rc;
    int64_t deadline = bp_now_ms() + timeout;
    if (strcmp(kind, "epmd") == 0 || strcmp(kind, "dns") == 0) {
        bp_nodeset l = { 0 };
        bp_dns_opts o = { .by_hostname = by_hostname, .server = server };
        rc = kind[0] == 'e' ? bp_discover_epmd(argv[3], basename, deadline, &l, err, sizeof err)
                            : bp_discover_dns(argv[3], argv[4], &o, deadline, &l, err, sizeof err);
        for (size_t i = 0; rc == 0 && i < l.n; i++)
            printf("%s\n", l.v[i]);
        bp_nodeset_free(&l);
    } else if (strcmp(kind, "k8s") == 0) {
        char ns[64], svc[64];
        bp_k8s_result *r = calloc(1, sizeof *r);
        rc = r ? bp_k8s_parse_target(argv[3], ns, sizeof ns, svc, sizeof svc, err, sizeof err) : BP_ENOMEM;
        if (rc == 0) {
            ko.ns = ns;
            ko.service = svc;
            ko.basename = argv[4];
            rc = bp_discover_k8s(&ko, deadline, r, err, sizeof err);
        }
        for (size_t i = 0; rc == 0 && i < r->ready.n; i++)
            printf("ready %s\n", r->ready.v[i]);
        for (size_t i = 0; rc == 0 && i < r->not_ready.n; i++)
            printf("not-ready %s\n", r->not_ready.v[i]);
        if (rc == 0)
            printf("source %s\n", r->source);
        bp_k8s_result_free(r);
        free(r);
    } else {
        return usage();
    }
    if (rc) {
        fprintf(stderr, "error %s: %s\n", bp_strerror(rc), err);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return command(argc, argv);
    find_fixtures();
    const struct CMUnitTest basics[] = {
        cmocka_unit_test(test_natural_order),
        cmocka_unit_test(test_basename_match),
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_dns_encode),
        cmocka_unit_test(test_dns_decode),
        cmocka_unit_test(test_dns_errors),
        cmocka_unit_test(test_dns_system_resolver),
        cmocka_unit_test(test_epmd),
        cmocka_unit_test(test_k8s_parse_endpoints),
        cmocka_unit_test(test_k8s_parse_slices),
        cmocka_unit_test(test_k8s_parse_garbage),
        cmocka_unit_test(test_token_subject),
    };
    const struct CMUnitTest dns[] = {
        cmocka_unit_test(test_dns_client),
    };
    const struct CMUnitTest k8s[] = {
        cmocka_unit_test(test_k8s_api_ok),
        cmocka_unit_test(test_k8s_api_errors),
    };
    int rc = cmocka_run_group_tests_name("discover", basics, NULL, NULL);
    rc += cmocka_run_group_tests_name("discover_dns_client", dns, fake_dns_start, fake_dns_stop);
    rc += cmocka_run_group_tests_name("discover_k8s_api", k8s, k8s_start, k8s_stop);
    remove_certs();
    return rc;
}

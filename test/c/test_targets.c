/* test_targets.c: the target set type, bp_targets_resolve over a scripted EPMD, and a fleet of 100 probes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/snapshot.h"
#include "dist/fleet.h"
#include "discover/nodeset.h"
#include "discover/targets.h"

/* ---------- bp_nodeset ---------- */

static void test_nodeset_grows_to_its_cap(void **state)
{
    (void)state;
    bp_nodeset s = { 0 }; /* zeroed: empty, default cap */
    char name[64];
    assert_int_equal(bp_nodeset_limit(&s), BP_TARGETS_MAX);
    for (int i = 0; i < BP_TARGETS_MAX; i++) {
        snprintf(name, sizeof name, "n%d@h", i);
        assert_int_equal(bp_nodeset_add(&s, name), 0);
    }
    assert_int_equal(s.n, BP_TARGETS_MAX);
    assert_int_equal(s.cap, BP_TARGETS_MAX); /* doubling, clipped at the cap */
    assert_int_equal(bp_nodeset_add(&s, "n0@h"), 0); /* present: not an overflow */
    assert_int_equal(bp_nodeset_add(&s, "one-more@h"), BP_ETOOBIG);
    assert_int_equal(s.n, BP_TARGETS_MAX);
    assert_false(bp_nodeset_has(&s, "one-more@h"));
    assert_string_equal(s.v[0], "n0@h");
    assert_string_equal(s.v[BP_TARGETS_MAX - 1], "n1023@h");
    bp_nodeset_clear(&s);
    assert_int_equal(s.n, 0);
    assert_non_null(s.v); /* storage kept for the next round */
    bp_nodeset_free(&s);
    assert_null(s.v);
    assert_int_equal(s.n + s.cap, 0);
    bp_nodeset_free(&s); /* twice is fine */
    bp_nodeset_free(NULL);
}

static void test_nodeset_small_cap_and_names(void **state)
{
    (void)state;
    bp_nodeset s = { .max = 3 };
    assert_int_equal(bp_nodeset_add(&s, "a@h"), 0);
    assert_int_equal(bp_nodeset_add(&s, "b@h"), 0);
    assert_int_equal(bp_nodeset_add(&s, "c@h"), 0);
    assert_int_equal(bp_nodeset_add(&s, "d@h"), BP_ETOOBIG);
    assert_int_equal(s.cap, 3);
    char longname[BP_NAME_MAX + 8];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(bp_nodeset_add(&s, longname), BP_EUSAGE);
    longname[BP_NAME_MAX - 1] = '\0'; /* 255 bytes fit */
    assert_int_equal(bp_nodeset_remove(&s, "b@h"), 1);
    assert_int_equal(bp_nodeset_remove(&s, "b@h"), 0);
    assert_int_equal(bp_nodeset_add(&s, longname), 0);
    assert_string_equal(s.v[0], "a@h"); /* order kept */
    assert_string_equal(s.v[1], "c@h");
    assert_string_equal(s.v[2], longname);
    bp_nodeset_free(&s);
    assert_int_equal(bp_nodeset_limit(&s), 3); /* the cap survives free */
}

/* Names in a fresh, zeroed list (static: one at a time). */
static bp_namelist *in_set(const char *const *names, size_t n)
{
    static bp_namelist l;
    memset(&l, 0, sizeof l);
    for (size_t i = 0; i < n; i++)
        snprintf(l.v[l.n++], BP_NAME_MAX, "%s", names[i]);
    return &l;
}

static void test_nodeset_order_and_merge(void **state)
{
    (void)state;
    assert_true(bp_nodeset_natcmp("app@10.0.0.9", "app@10.0.0.10") < 0);
    assert_true(bp_nodeset_natcmp("app-2", "app-10") < 0);
    assert_true(bp_nodeset_natcmp("app-10", "app-2") > 0);
    assert_true(bp_nodeset_natcmp("a", "ab") < 0);
    assert_int_equal(bp_nodeset_natcmp("x1y", "x1y"), 0);
    assert_int_equal(bp_nodeset_natcmp("x01", "x1"), 0);

    bp_namelist *l = calloc(1, sizeof *l);
    assert_non_null(l);
    static const char *const in[] = { "app@10.0.0.10", "app@10.0.0.9", "app@9.0.0.1", "x01@h", "x1@h" };
    for (size_t i = 0; i < 5; i++)
        snprintf(l->v[l->n++], BP_NAME_MAX, "%s", in[i]);
    bp_nodeset s = { 0 };
    assert_int_equal(bp_nodeset_add_all(&s, l->v, l->n), 0);
    assert_int_equal(bp_nodeset_add_all(&s, l->v, l->n), 0); /* all present */
    assert_int_equal(s.n, 5);
    bp_nodeset_sort(&s);
    static const char *const want[] = { "app@9.0.0.1", "app@10.0.0.9", "app@10.0.0.10", "x01@h", "x1@h" };
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(s.v[i], want[i]);
    bp_nodeset t = { .max = 4 };
    assert_int_equal(bp_nodeset_add_all(&t, (const char (*)[BP_NAME_MAX])s.v, s.n), BP_ETOOBIG);
    assert_int_equal(t.n, 4);
    /* equal as text, whatever the slots hold past each name; order and count count */
    memset(l->v[0] + strlen(l->v[0]) + 1, 'x', 8);
    assert_true(bp_names_equal((const char (*)[BP_NAME_MAX])l->v, 5, (const char (*)[BP_NAME_MAX])in_set(in, 5)->v, 5));
    assert_false(bp_names_equal((const char (*)[BP_NAME_MAX])l->v, 4, (const char (*)[BP_NAME_MAX])l->v, 5));
    assert_false(bp_names_equal((const char (*)[BP_NAME_MAX])s.v, 5, (const char (*)[BP_NAME_MAX])l->v, 5)); /* sorted */
    assert_true(bp_names_equal(NULL, 0, NULL, 0));
    bp_nodeset_free(&s);
    bp_nodeset_free(&t);
    free(l);
}

/* ---------- a scripted EPMD on 127.0.0.1: NAMES from a list, PORT_PLEASE2 always "not registered" ---------- */

typedef struct {
    int lfd, stop[2];
    pthread_t thread;
    char *names;          /* the NAMES body */
    size_t names_len;
    atomic_int port_please;
} fake_epmd;

static fake_epmd g_epmd;

/* Set the NAMES answer: bpt0..bpt{n-1}, then every extra name. */
static void epmd_names(int n, const char *const *extra, size_t n_extra)
{
    size_t cap = (size_t)n * 40 + n_extra * 300 + 1, len = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(b + len, cap - len, "name bpt%d at port %d\n", i, 20000 + i);
    for (size_t i = 0; i < n_extra; i++)
        len += (size_t)snprintf(b + len, cap - len, "name %s at port 30000\n", extra[i]);
    free(g_epmd.names);
    g_epmd.names = b;
    g_epmd.names_len = len;
}

static void epmd_answer(int c)
{
    unsigned char req[300];
    size_t got = 0;
    struct pollfd p = { .fd = c, .events = POLLIN };
    while (got < 3 && poll(&p, 1, 2000) > 0) {
        ssize_t r = recv(c, req + got, sizeof req - got, 0);
        if (r <= 0)
            return;
        got += (size_t)r;
    }
    if (got < 3)
        return;
    if (req[2] == 110) { /* NAMES: our port, then the lines */
        static const unsigned char port[4] = { 0, 0, 0x11, 0x11 };
        (void)!send(c, port, sizeof port, MSG_NOSIGNAL);
        (void)!send(c, g_epmd.names, g_epmd.names_len, MSG_NOSIGNAL);
    } else if (req[2] == 122) { /* PORT_PLEASE2: not registered */
        static const unsigned char no[2] = { 119, 1 };
        atomic_fetch_add(&g_epmd.port_please, 1);
        (void)!send(c, no, sizeof no, MSG_NOSIGNAL);
    }
}

static void *epmd_main(void *arg)
{
    (void)arg;
    for (;;) {
        struct pollfd p[2] = { { g_epmd.lfd, POLLIN, 0 }, { g_epmd.stop[0], POLLIN, 0 } };
        if (poll(p, 2, -1) < 0)
            continue;
        if (p[1].revents)
            return NULL;
        int c = accept(g_epmd.lfd, NULL, NULL);
        if (c >= 0) {
            epmd_answer(c);
            close(c);
        }
    }
}

static int epmd_start(void **state)
{
    (void)state;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    g_epmd.lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (g_epmd.lfd < 0 || bind(g_epmd.lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(g_epmd.lfd, (struct sockaddr *)&a, &al) < 0 || listen(g_epmd.lfd, 1024) < 0 || pipe(g_epmd.stop) < 0)
        return -1;
    char port[16];
    snprintf(port, sizeof port, "%d", ntohs(a.sin_port));
    setenv("ERL_EPMD_PORT", port, 1);
    return pthread_create(&g_epmd.thread, NULL, epmd_main, NULL) == 0 ? 0 : -1;
}

static int epmd_stop(void **state)
{
    (void)state;
    (void)!write(g_epmd.stop[1], "x", 1);
    pthread_join(g_epmd.thread, NULL);
    close(g_epmd.lfd);
    close(g_epmd.stop[0]);
    close(g_epmd.stop[1]);
    free(g_epmd.names);
    unsetenv("ERL_EPMD_PORT");
    return 0;
}

static bp_config *config(void)
{
    bp_config *c = calloc(1, sizeof *c);
    assert_non_null(c);
    bp_config_defaults(c);
    return c;
}

/* ---------- bp_targets_resolve ---------- */

static void test_resolve_many(void **state)
{
    (void)state;
    bp_config *c = config();
    bp_nodeset t = { 0 };
    char err[600];
    static const char *const strays[] = { "bptx", "remsh123", "bpt", "rabbitmqcli-7-bpt" };
    epmd_names(200, strays, 4);
    snprintf(c->epmd_host, sizeof c->epmd_host, "127.0.0.1");
    snprintf(c->nodes.v[c->nodes.n++], BP_NAME_MAX, "named@elsewhere");
    snprintf(c->nodes.v[c->nodes.n++], BP_NAME_MAX, "bpt7@127.0.0.1"); /* also discovered: once */

    /* every registered name, over the old 64, --nodes first */
    assert_int_equal(bp_targets_resolve(c, bp_now_ms() + 2000, &t, err, sizeof err), 0);
    assert_int_equal(t.n, 1 + 200 + 4);
    assert_string_equal(t.v[0], "named@elsewhere");
    assert_string_equal(t.v[1], "bpt7@127.0.0.1");
    assert_true(bp_nodeset_has(&t, "bpt199@127.0.0.1"));
    assert_true(bp_nodeset_has(&t, "remsh123@127.0.0.1"));

    /* --node-basename keeps bpt, bpt<digit>...; not bptx, remsh..., rabbitmqcli-... */
    snprintf(c->node_basename, sizeof c->node_basename, "bpt");
    assert_int_equal(bp_targets_resolve(c, bp_now_ms() + 2000, &t, err, sizeof err), 0);
    assert_int_equal(t.n, 1 + 200 + 1);
    assert_true(bp_nodeset_has(&t, "bpt@127.0.0.1"));
    assert_false(bp_nodeset_has(&t, "bptx@127.0.0.1"));
    assert_false(bp_nodeset_has(&t, "remsh123@127.0.0.1"));
    assert_false(bp_nodeset_has(&t, "rabbitmqcli-7-bpt@127.0.0.1"));

    /* one source over the cap */
    epmd_names(BP_TARGETS_MAX + 5, NULL, 0);
    assert_int_equal(bp_targets_resolve(c, bp_now_ms() + 2000, &t, err, sizeof err), BP_ETOOBIG);
    assert_non_null(strstr(err, "--epmd-host 127.0.0.1: more than 1024 nodes named bpt registered on 127.0.0.1"));

    /* every source within the cap, but not all together */
    epmd_names(BP_TARGETS_MAX, NULL, 0);
    assert_int_equal(bp_targets_resolve(c, bp_now_ms() + 2000, &t, err, sizeof err), BP_ETOOBIG);
    assert_non_null(strstr(err, "more than 1024 targets in all"));
    c->nodes.n = 0;
    assert_int_equal(bp_targets_resolve(c, bp_now_ms() + 2000, &t, err, sizeof err), 0);
    assert_int_equal(t.n, BP_TARGETS_MAX);

    /* a source that fails names itself */
    c->node_basename[0] = '\0';
    snprintf(c->dns_name, sizeof c->dns_name, "app.svc");
    assert_int_equal(bp_targets_resolve(c, bp_now_ms() + 2000, &t, err, sizeof err), BP_EUSAGE);
    assert_non_null(strstr(err, "--dns app.svc: needs --node-basename"));
    bp_nodeset_free(&t);
    free(c);
}

/* ---------- a fleet of 100: more threads than a bp_namelist had names ---------- */

static void test_fleet_of_100(void **state)
{
    (void)state;
    enum { N = 100 };
    bp_config *c = config();
    c->timeout_ms = 3000;
    const char **names = calloc(N, sizeof *names);
    char (*buf)[32] = calloc(N, sizeof *buf);
    bp_snapshot **snaps = calloc(N, sizeof *snaps);
    assert_true(names && buf && snaps);
    for (int i = 0; i < N; i++) {
        snprintf(buf[i], sizeof buf[i], "bpt%d@127.0.0.1", i);
        names[i] = buf[i];
    }
    atomic_store(&g_epmd.port_please, 0);
    int64_t t0 = bp_now_ms();
    assert_int_equal(bp_probe_fleet(c, names, N, "cookie", snaps), 0);
    int64_t ms = bp_now_ms() - t0;
    assert_int_equal(atomic_load(&g_epmd.port_please), N); /* each asked once */
    for (int i = 0; i < N; i++) {
        assert_non_null(snaps[i]);
        assert_string_equal(snaps[i]->node, names[i]); /* out[i] is nodes[i]'s */
        assert_int_equal(snaps[i]->connect.state != BP_FACT_OK, 1);
        assert_non_null(snaps[i]->connect.error);
        assert_non_null(strstr(snaps[i]->connect.error, "not registered"));
        bp_snapshot_free(snaps[i]);
    }
    assert_true(ms < 2000); /* unknown names fail fast: nothing waited for the deadline */
    assert_int_equal(bp_probe_fleet(c, names, BP_FLEET_MAX + 1, "cookie", snaps), BP_EUSAGE);
    assert_int_equal(bp_probe_fleet(c, names, 0, "cookie", snaps), 0);
    free(names);
    free(buf);
    free(snaps);
    free(c);
}

int main(void)
{
    const struct CMUnitTest sets[] = {
        cmocka_unit_test(test_nodeset_grows_to_its_cap),
        cmocka_unit_test(test_nodeset_small_cap_and_names),
        cmocka_unit_test(test_nodeset_order_and_merge),
    };
    const struct CMUnitTest epmd[] = {
        cmocka_unit_test(test_resolve_many),
        cmocka_unit_test(test_fleet_of_100),
    };
    int rc = cmocka_run_group_tests_name("nodeset", sets, NULL, NULL);
    rc += cmocka_run_group_tests_name("targets", epmd, epmd_start, epmd_stop);
    return rc;
}

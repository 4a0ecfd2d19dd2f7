/* test_notify.c: cmocka tests of notifications: queue bound and drops, backoff, HMAC, alert table, Alertmanager and webhook bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "beamprobe.h"
#include "core/render_prom.h"
#include "notify/alert.h"
#include "notify/backoff.h"
#include "notify/payload.h"
#include "notify/queue.h"
#include "notify/sign.h"

/* ---- queue ---- */

static void test_queue_drops_oldest(void **state)
{
    (void)state;
    bp_nqueue q;
    int v[6] = { 0, 1, 2, 3, 4, 5 };
    assert_int_equal(bp_nqueue_init(&q, 3), 0);
    for (int i = 0; i < 3; i++)
        assert_null(bp_nqueue_push(&q, &v[i]));
    assert_int_equal(q.len, 3);
    assert_int_equal(q.dropped, 0);
    assert_ptr_equal(bp_nqueue_push(&q, &v[3]), &v[0]); /* full: the oldest goes, counted */
    assert_ptr_equal(bp_nqueue_push(&q, &v[4]), &v[1]);
    assert_int_equal(q.len, 3);
    assert_int_equal(q.dropped, 2);
    assert_ptr_equal(bp_nqueue_at(&q, 0), &v[2]);
    assert_ptr_equal(bp_nqueue_take(&q, 1), &v[3]); /* from the middle: order kept */
    assert_ptr_equal(bp_nqueue_push(&q, &v[5]), NULL);
    assert_ptr_equal(bp_nqueue_pop(&q), &v[2]);
    assert_ptr_equal(bp_nqueue_pop(&q), &v[4]);
    assert_ptr_equal(bp_nqueue_pop(&q), &v[5]);
    assert_null(bp_nqueue_pop(&q));
    assert_null(bp_nqueue_take(&q, 0));
    assert_int_equal(q.dropped, 2);
    bp_nqueue_free(&q, NULL);
    assert_int_equal(bp_nqueue_init(&q, 0), BP_EUSAGE);
    bp_nqueue_free(&q, NULL);
}

/* A burst far beyond the bound keeps the newest `cap` entries, and frees every dropped one. */
static void test_queue_burst(void **state)
{
    (void)state;
    bp_nqueue q;
    assert_int_equal(bp_nqueue_init(&q, 16), 0);
    for (int i = 0; i < 1000; i++) {
        int *p = malloc(sizeof *p);
        assert_non_null(p);
        *p = i;
        free(bp_nqueue_push(&q, p));
    }
    assert_int_equal(q.len, 16);
    assert_int_equal(q.dropped, 1000 - 16);
    assert_int_equal(*(int *)bp_nqueue_at(&q, 0), 1000 - 16);
    assert_int_equal(*(int *)bp_nqueue_at(&q, 15), 999);
    bp_nqueue_free(&q, free);
}

/* ---- backoff ---- */

static void test_backoff_schedule(void **state)
{
    (void)state;
    const int64_t want[] = { 0, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000 };
    for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(bp_notify_backoff_ms(i, BP_NOTIFY_RETRY_BASE_MS, BP_NOTIFY_RETRY_CAP_MS), want[i]);
    assert_int_equal(bp_notify_backoff_ms(4000000000u, 500, 30000), 30000); /* no overflow */
    assert_int_equal(bp_notify_backoff_ms(3, 100, 250), 250);
    assert_int_equal(bp_notify_backoff_ms(3, 0, 250), 0);
    /* the retries of one notification together stay within a minute */
    int64_t total = 0;
    for (unsigned i = 1; i < BP_NOTIFY_ATTEMPTS; i++)
        total += bp_notify_backoff_ms(i, BP_NOTIFY_RETRY_BASE_MS, BP_NOTIFY_RETRY_CAP_MS);
    assert_int_equal(total, 15500);
}

/* ---- HMAC-SHA256 ---- */

static void test_hmac_known_vectors(void **state)
{
    (void)state;
    char sig[BP_SIGNATURE_LEN];
    /* RFC 4231, test case 2 */
    const char *data = "what do ya want for nothing?";
    assert_int_equal(bp_notify_sign("Jefe", 4, data, strlen(data), sig), 0);
    assert_string_equal(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* RFC 4231, test case 1: key 20 x 0x0b, "Hi There" */
    unsigned char key[20];
    memset(key, 0x0b, sizeof key);
    assert_int_equal(bp_notify_sign(key, sizeof key, "Hi There", 8, sig), 0);
    assert_string_equal(sig, "sha256=b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* one byte of the body changed: another signature */
    assert_int_equal(bp_notify_sign(key, sizeof key, "Hi there", 8, sig), 0);
    assert_string_not_equal(sig, "sha256=b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

/* ---- the alert table ---- */

static bp_failing failing(const char *check, bp_check_kind kind, int critical, int64_t since, const char *reason)
{
    bp_failing f = { .kind = kind, .critical = critical, .since_ms = since };
    strncpy(f.check, check, sizeof f.check - 1);
    strncpy(f.reason, reason, sizeof f.reason - 1);
    return f;
}

static void test_alerts_apply(void **state)
{
    (void)state;
    bp_alert_list firing = { 0 }, changed = { 0 };
    bp_failing f[2] = { failing("governor:cost_guard", BP_CHECK_GOVERNOR, 1, 1000, "state refusing"),
                        failing("memory", BP_CHECK_MEMORY, 0, 900, "memory 85%") };

    assert_int_equal(bp_alerts_apply(&firing, "a@h", f, 2, 1100, &changed), 0);
    assert_int_equal(firing.n, 2);
    assert_int_equal(changed.n, 2);
    assert_string_equal(changed.v[0].alertname, "BeamprobeGovernorFailing");
    assert_int_equal(changed.v[0].starts_ms, 1000); /* the history's since, not now */
    assert_int_equal(changed.v[0].ends_ms, 0);
    assert_string_equal(changed.v[1].alertname, "BeamprobeCheckFailing");
    assert_int_equal(changed.v[1].critical, 0);

    /* another node: its own alerts, a@h's untouched */
    bp_failing down = failing("connection", BP_CHECK_CONNECTION, 1, 1200, "connection refused");
    changed.n = 0;
    assert_int_equal(bp_alerts_apply(&firing, "b@h", &down, 1, 1200, &changed), 0);
    assert_int_equal(changed.n, 1);
    assert_string_equal(changed.v[0].alertname, "BeamprobeNodeDown");
    assert_int_equal(firing.n, 3);

    /* the same again: nothing changes */
    changed.n = 0;
    assert_int_equal(bp_alerts_apply(&firing, "a@h", f, 2, 1300, &changed), 0);
    assert_int_equal(changed.n, 0);

    /* memory from warn to fail: the warning resolves, a critical alert fires */
    f[1].critical = 1;
    f[1].since_ms = 1400;
    assert_int_equal(bp_alerts_apply(&firing, "a@h", f, 2, 1400, &changed), 0);
    assert_int_equal(changed.n, 2);
    assert_int_equal(changed.v[0].critical, 0);
    assert_int_equal(changed.v[0].ends_ms, 1400);
    assert_int_equal(changed.v[1].critical, 1);
    assert_int_equal(changed.v[1].ends_ms, 0);
    assert_int_equal(firing.n, 3);

    /* a@h heals: both its alerts resolve at now, b@h's stays */
    changed.n = 0;
    assert_int_equal(bp_alerts_apply(&firing, "a@h", NULL, 0, 1500, &changed), 0);
    assert_int_equal(changed.n, 2);
    assert_int_equal(changed.v[0].ends_ms, 1500);
    assert_int_equal(changed.v[1].ends_ms, 1500);
    assert_int_equal(firing.n, 1);
    assert_string_equal(firing.v[0].node, "b@h");
    bp_alert_list_free(&firing);
    bp_alert_list_free(&changed);
}

static void test_alerts_forget(void **state)
{
    (void)state;
    bp_alert_list firing = { 0 }, changed = { 0 };
    bp_failing f[2] = { failing("governor:cost_guard", BP_CHECK_GOVERNOR, 1, 1000, "state refusing"),
                        failing("applications", BP_CHECK_APPLICATIONS, 1, 1000, "demo is not running") };
    assert_int_equal(bp_alerts_apply(&firing, "a@h", f, 2, 1100, &changed), 0);
    assert_int_equal(bp_alerts_apply(&firing, "ab@h", f, 1, 1100, &changed), 0);
    assert_int_equal(bp_alerts_apply(&firing, "b@h", f, 1, 1100, &changed), 0);
    assert_int_equal(bp_alerts_apply(&firing, "c@h", f, 1, 1100, &changed), 0);
    assert_int_equal(firing.n, 5);

    /* a target nobody alerts on: nothing */
    changed.n = 0;
    assert_int_equal(bp_alerts_forget(&firing, "z@h", 1200, &changed), 0);
    assert_int_equal(changed.n, 0);
    assert_int_equal(firing.n, 5);

    /* a short name matches its node's own name "a@h", not "ab@h" */
    assert_int_equal(bp_alerts_forget(&firing, "a", 1300, &changed), 0);
    assert_int_equal(changed.n, 2);
    for (size_t i = 0; i < changed.n; i++) {
        assert_string_equal(changed.v[i].node, "a@h");
        assert_int_equal(changed.v[i].ends_ms, 1300);
    }
    assert_int_equal(firing.n, 3);
    assert_string_equal(firing.v[0].node, "ab@h");

    /* a full name matches only itself */
    changed.n = 0;
    assert_int_equal(bp_alerts_forget(&firing, "c@h", 1400, &changed), 0);
    assert_int_equal(changed.n, 1);
    assert_string_equal(changed.v[0].node, "c@h");
    assert_int_equal(firing.n, 2);
    assert_string_equal(firing.v[1].node, "b@h");
    bp_alert_list_free(&firing);
    bp_alert_list_free(&changed);
}

/* ---- bodies ---- */

static const char *sget(json_t *o, const char *path1, const char *path2)
{
    json_t *v = json_object_get(o, path1);
    if (path2)
        v = json_object_get(v, path2);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void test_alertmanager_body(void **state)
{
    (void)state;
    bp_alert a[2] = { { .node = "app@host1", .check = "governor:cost_guard", .alertname = "BeamprobeGovernorFailing",
                        .critical = 1, .reason = "state refusing \"quoted\" \xff", .starts_ms = 1796426912292 },
                      { .node = "app@host2", .check = "memory", .alertname = "BeamprobeCheckFailing",
                        .critical = 0, .reason = "memory 85%", .starts_ms = 1796426900000,
                        .ends_ms = 1796426960000 } };
    char *body = bp_alerts_body(a, 2, 1796426950000, 120000, "http://probe:8080/health");
    assert_non_null(body);
    json_error_t e;
    json_t *doc = json_loads(body, 0, &e);
    assert_non_null(doc);
    assert_true(json_is_array(doc));
    assert_int_equal(json_array_size(doc), 2);
    json_t *f = json_array_get(doc, 0), *r = json_array_get(doc, 1);
    assert_string_equal(sget(f, "labels", "alertname"), "BeamprobeGovernorFailing");
    assert_string_equal(sget(f, "labels", "node"), "app@host1");
    assert_string_equal(sget(f, "labels", "check"), "governor:cost_guard");
    assert_string_equal(sget(f, "labels", "severity"), "critical");
    assert_int_equal(json_object_size(json_object_get(f, "labels")), 4);
    assert_string_equal(sget(f, "annotations", "summary"), "check governor:cost_guard fails on app@host1");
    assert_string_equal(sget(f, "annotations", "description"), "state refusing \"quoted\" \xEF\xBF\xBD");
    assert_string_equal(sget(f, "startsAt", NULL), "2026-12-04T23:28:32.292Z");
    assert_string_equal(sget(f, "endsAt", NULL), "2026-12-04T23:31:10.000Z"); /* firing: now + valid */
    assert_string_equal(sget(f, "generatorURL", NULL), "http://probe:8080/health");
    assert_string_equal(sget(r, "labels", "severity"), "warning");
    assert_string_equal(sget(r, "annotations", "summary"), "check memory warns on app@host2");
    assert_string_equal(sget(r, "endsAt", NULL), "2026-12-04T23:29:20.000Z"); /* resolved: when */
    json_decref(doc);
    free(body);
    body = bp_alerts_body(NULL, 0, 0, 0, "x");
    assert_string_equal(body, "[]");
    free(body);
}

static void test_webhook_body(void **state)
{
    (void)state;
    bp_transition t = { .time_ms = 1796426912292, .kind = BP_TR_GOVERNOR, .name = "cost_guard", .from = "stable",
                        .to = "refusing", .reason = "state refusing (fail state)" };
    char *body = bp_webhook_body("app@host1", &t);
    assert_non_null(body);
    assert_string_equal(body, "{\"node\":\"app@host1\",\"time\":\"2026-12-04T23:28:32.292Z\",\"kind\":\"governor\","
                              "\"name\":\"cost_guard\",\"from\":\"stable\",\"to\":\"refusing\","
                              "\"reason\":\"state refusing (fail state)\",\"time_ms\":1796426912292}");
    free(body);
    t.kind = BP_TR_NODE;
    body = bp_webhook_body("app@host1", &t);
    assert_non_null(strstr(body, "\"kind\":\"node\""));
    free(body);
}

/* ---- the counters in /metrics ---- */

static void test_counter_family(void **state)
{
    (void)state;
    bp_prom_buf b = { 0 };
    bp_prom_count v[2] = { { .label = "http://am:9093/api/v2/alerts", .value = 7 },
                           { .label = "http://h/\"x\"\\", .value = 0 } };
    assert_int_equal(bp_render_prom_counter(&b, "beamprobe_notifications_sent_total", "Sent.", "receiver", v, 2), 0);
    assert_string_equal(b.p, "# HELP beamprobe_notifications_sent_total Sent.\n"
                             "# TYPE beamprobe_notifications_sent_total counter\n"
                             "beamprobe_notifications_sent_total{receiver=\"http://am:9093/api/v2/alerts\"} 7\n"
                             "beamprobe_notifications_sent_total{receiver=\"http://h/\\\"x\\\"\\\\\"} 0\n");
    bp_prom_buf_reset(&b);
    bp_prom_count d = { .value = 3 };
    assert_int_equal(bp_render_prom_counter(&b, "x_total", "X.", NULL, &d, 1), 0);
    assert_string_equal(b.p, "# HELP x_total X.\n# TYPE x_total counter\nx_total 3\n");
    bp_prom_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_drops_oldest),
        cmocka_unit_test(test_queue_burst),
        cmocka_unit_test(test_backoff_schedule),
        cmocka_unit_test(test_hmac_known_vectors),
        cmocka_unit_test(test_alerts_apply),
        cmocka_unit_test(test_alerts_forget),
        cmocka_unit_test(test_alertmanager_body),
        cmocka_unit_test(test_webhook_body),
        cmocka_unit_test(test_counter_family),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* notifier.c: the notifier's state: the producer side (copies into the bounded inbox), start, stop and its counters (docs/NOTIFY.md). */
#include "notify/notify_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "beamprobe.h"
#include "core/str.h"

void bp__notify_event_free(void *p)
{
    event *e = p;
    if (!e)
        return;
    free(e->failing);
    free(e->tr);
    free(e);
}

void bp__notify_delivery_free(void *p)
{
    delivery *d = p;
    if (d)
        free(d->body);
    free(d);
}

/* ---- the producer side (site publishers) ---- */

/* Push e (taken over) into the inbox and wake the worker; a full inbox drops (and counts) its oldest. */
static void push_event(bp_notifier *n, event *e)
{
    pthread_mutex_lock(&n->mu);
    event *old = bp_nqueue_push(&n->inbox, e);
    pthread_cond_signal(&n->wake);
    pthread_mutex_unlock(&n->mu);
    if (old) {
        atomic_fetch_add(&n->dropped, 1);
        bp__notify_event_free(old);
    }
}

void bp_notifier_observe(bp_notifier *n, const char *node, const bp_report *r, const bp_transition *tr,
                         size_t n_tr, int first)
{
    if (!n || (!first && n_tr == 0) || (n->n_am == 0 && n_tr == 0))
        return;
    event *e = calloc(1, sizeof *e);
    if (!e)
        goto oom;
    bp_strlcpy(e->node, node, sizeof e->node);
    if (n->n_am > 0 && r->n_checks > 0 && !(e->failing = calloc(r->n_checks, sizeof *e->failing)))
        goto oom;
    for (size_t i = 0; e->failing && i < r->n_checks; i++) {
        const bp_check *c = &r->checks[i];
        if (c->status == BP_PASS)
            continue;
        bp_failing *f = &e->failing[e->n_failing++];
        bp_strlcpy(f->check, c->name, sizeof f->check);
        f->kind = c->kind;
        f->critical = c->status == BP_FAIL;
        f->since_ms = c->since_ms;
        bp_strlcpy(f->reason, c->reason, sizeof f->reason);
    }
    if (n->n_hook > 0 && n_tr > 0) {
        if (!(e->tr = malloc(n_tr * sizeof *e->tr)))
            goto oom;
        memcpy(e->tr, tr, n_tr * sizeof *e->tr);
        e->n_tr = n_tr;
    }
    push_event(n, e);
    return;
oom:
    bp__notify_event_free(e);
    atomic_fetch_add(&n->dropped, 1);
}

void bp_notifier_forget(bp_notifier *n, const char *target)
{
    if (!n || n->n_am == 0)
        return;
    event *e = calloc(1, sizeof *e);
    if (!e) {
        atomic_fetch_add(&n->dropped, 1);
        return;
    }
    bp_strlcpy(e->node, target, sizeof e->node);
    e->forget = 1;
    push_event(n, e);
}
/* ---- start, stop, metrics ---- */

/* The receiver label: url without "user:password@" and without "?query". */
static void receiver_label(const char *url, char *out, size_t len)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    const char *at = strchr(host, '@'), *slash = strchr(host, '/');
    size_t scheme = (size_t)(host - url);
    bp_strlcpy(out, url, len);
    if (at && (!slash || at < slash) && scheme < len)
        bp_strlcpy(out + scheme, at + 1, len - scheme);
    char *q = strchr(out, '?');
    if (q)
        *q = '\0';
}

static int add_receivers(bp_notifier *n, const bp_namelist *urls, int alertmanager)
{
    for (size_t k = 0; k < urls->n; k++) {
        receiver *r = &n->rcv[n->n_rcv++];
        const char *u = urls->v[k];
        size_t ul = strlen(u);
        r->alertmanager = alertmanager;
        bp_strlcpy(r->url, u, sizeof r->url); /* BP_NAME_MAX: the suffix always fits */
        if (alertmanager) {
            while (ul > 0 && u[ul - 1] == '/')
                ul--;
            bp_strlcpy(r->url + ul, "/api/v2/alerts", sizeof r->url - ul);
        }
        receiver_label(r->url, r->label, sizeof r->label);
        atomic_init(&r->sent, 0);
        atomic_init(&r->failed, 0);
    }
    return 0;
}

/* The --alertmanager-token-file and --notify-secret-file. 0 or BP_EUSAGE. */
static int load_secrets(bp_notifier *n, const bp_config *c, char *err, size_t errlen)
{
    if (c->alertmanager_token_file[0] && n->n_am > 0) {
        if (bp_token_file_load(c->alertmanager_token_file, n->bearer, sizeof n->bearer, err, errlen) != 0)
            return BP_EUSAGE;
        n->have_bearer = 1;
    }
    if (c->notify_secret_file[0] && n->n_hook > 0) {
        if (bp_token_file_load(c->notify_secret_file, n->secret, sizeof n->secret, err, errlen) != 0)
            return BP_EUSAGE;
        n->secret_len = strlen(n->secret);
    }
    return 0;
}

int bp_notifier_start(const bp_config *c, const char *base_url, bp_notifier **out, char *err, size_t errlen)
{
    *out = NULL;
    size_t total = c->alertmanagers.n + c->notify_webhooks.n;
    if (total == 0)
        return 0;
    bp_notifier *n = calloc(1, sizeof *n);
    int rc = BP_ENOMEM;
    if (!n || !(n->rcv = calloc(total, sizeof *n->rcv)))
        goto fail;
    pthread_mutex_init(&n->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->wake, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&n->stopping, 0);
    atomic_init(&n->dropped, 0);
    n->n_am = c->alertmanagers.n;
    n->n_hook = c->notify_webhooks.n;
    add_receivers(n, &c->alertmanagers, 1);
    add_receivers(n, &c->notify_webhooks, 0);
    bp_strlcpy(n->ca_file, c->alertmanager_ca_file, sizeof n->ca_file);
    snprintf(n->generator_url, sizeof n->generator_url, "%s/health", base_url);
    n->resend_ms = c->alert_resend_interval_ms > 0 ? c->alert_resend_interval_ms : 30000;
    size_t qsize = c->notify_queue_size > 0 ? (size_t)c->notify_queue_size : 1024;
    if ((rc = load_secrets(n, c, err, errlen)) != 0)
        goto fail;
    rc = BP_ENOMEM;
    if (bp_nqueue_init(&n->inbox, qsize) != 0 || bp_nqueue_init(&n->outbox, qsize) != 0)
        goto fail;
    if (pthread_create(&n->thread, NULL, bp__notify_worker, n) != 0)
        goto fail;
    n->started = 1;
    *out = n;
    return 0;
fail:
    if (rc == BP_ENOMEM)
        snprintf(err, errlen, "out of memory starting the notifier");
    bp_notifier_stop(n);
    return rc;
}

void bp_notifier_stop(bp_notifier *n)
{
    if (!n)
        return;
    if (n->started) {
        pthread_mutex_lock(&n->mu);
        atomic_store(&n->stopping, 1);
        pthread_cond_signal(&n->wake);
        pthread_mutex_unlock(&n->mu);
        pthread_join(n->thread, NULL);
    }
    if (n->rcv) {
        pthread_mutex_destroy(&n->mu);
        pthread_cond_destroy(&n->wake);
    }
    bp_nqueue_free(&n->inbox, bp__notify_event_free);
    bp_nqueue_free(&n->outbox, bp__notify_delivery_free);
    bp_alert_list_free(&n->firing);
    explicit_bzero(n->bearer, sizeof n->bearer);
    explicit_bzero(n->secret, sizeof n->secret);
    free(n->rcv);
    free(n);
}

int bp_notifier_render_prom(bp_notifier *n, bp_prom_buf *b)
{
    if (!n)
        return 0;
    bp_prom_count v[2 * BP_LIST_MAX] = { { 0 } };
    size_t k = n->n_rcv < 2 * BP_LIST_MAX ? n->n_rcv : 2 * BP_LIST_MAX;
    for (size_t i = 0; i < k; i++)
        v[i] = (bp_prom_count){ .label = n->rcv[i].label, .value = atomic_load(&n->rcv[i].sent) };
    int rc = bp_render_prom_counter(b, "beamprobe_notifications_sent_total",
                                    "Notification POSTs a receiver accepted (2xx).", "receiver", v, k);
    for (size_t i = 0; i < k; i++)
        v[i].value = atomic_load(&n->rcv[i].failed);
    if (rc == 0)
        rc = bp_render_prom_counter(b, "beamprobe_notifications_failed_total",
                                    "Notification POSTs that failed (no answer, or not 2xx); each retry counts.",
                                    "receiver", v, k);
    bp_prom_count d = { .value = atomic_load(&n->dropped) };
    if (rc == 0)
        rc = bp_render_prom_counter(b, "beamprobe_notifications_dropped_total",
                                    "Notifications discarded undelivered: the queue was full, or every retry failed.",
                                    NULL, &d, 1);
    return rc;
}

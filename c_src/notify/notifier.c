/* notifier.c: the notifier's state, its bounded queues and its one worker thread (docs/NOTIFY.md). */
#include "notify/notify.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "core/token_file.h"
#include "notify/alert.h"
#include "notify/backoff.h"
#include "notify/payload.h"
#include "notify/post.h"
#include "notify/queue.h"
#include "notify/sign.h"

#define URL_MAX (BP_NAME_MAX + 32)
#define CONNECT_TIMEOUT_MS 2000L
#define POST_TIMEOUT_MS 5000L
#define VALID_RESENDS 4 /* a firing alert's endsAt lies this many resend intervals ahead */

typedef struct {
    int alertmanager;        /* else a webhook */
    char url[URL_MAX];       /* where to POST */
    char label[URL_MAX];     /* the receiver label: the URL without user info or query */
    atomic_uint_fast64_t sent, failed;
    int down;                /* worker only: the last attempt failed (logged once) */
} receiver;

/* One POST to one receiver, with its retries. */
typedef struct {
    size_t rcv;
    char *body;
    size_t len;
    unsigned attempts;       /* made so far */
    int64_t due_ms;          /* monotonic: not before */
} delivery;

/* What a report changed, copied from the site. */
typedef struct {
    char node[BP_NAME_MAX];
    bp_failing *failing;
    size_t n_failing;
    bp_transition *tr;
    size_t n_tr;
} event;

struct bp_notifier {
    receiver *rcv;
    size_t n_rcv, n_am, n_hook;
    char bearer[BP_TOKEN_MAX + 1];
    int have_bearer;
    char secret[BP_TOKEN_MAX + 1];
    size_t secret_len;
    char ca_file[1024];
    char generator_url[URL_MAX];
    int64_t resend_ms;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    bp_nqueue inbox;         /* events (guarded by mu) */
    bp_nqueue outbox;        /* deliveries (worker only) */
    atomic_int stopping;
    atomic_uint_fast64_t dropped;
    pthread_t thread;
    int started;
    bp_alert_list firing;    /* worker only */
    int64_t next_resend_ms;  /* worker only: monotonic, 0 = nothing firing */
};

static void event_free(void *p)
{
    event *e = p;
    if (!e)
        return;
    free(e->failing);
    free(e->tr);
    free(e);
}

static void delivery_free(void *p)
{
    delivery *d = p;
    if (d)
        free(d->body);
    free(d);
}

/* ---- the producer side (site publishers) ---- */

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
    pthread_mutex_lock(&n->mu);
    event *old = bp_nqueue_push(&n->inbox, e);
    pthread_cond_signal(&n->wake);
    pthread_mutex_unlock(&n->mu);
    if (old) {
        atomic_fetch_add(&n->dropped, 1);
        event_free(old);
    }
    return;
oom:
    event_free(e);
    atomic_fetch_add(&n->dropped, 1);
}

/* ---- the worker ---- */

/* Queue body (taken over) for receiver i; the oldest delivery is dropped when the outbox is full. */
static void enqueue(bp_notifier *n, size_t i, char *body, int64_t now)
{
    delivery *d = body ? calloc(1, sizeof *d) : NULL;
    if (!d) {
        free(body);
        atomic_fetch_add(&n->dropped, 1);
        return;
    }
    d->rcv = i;
    d->body = body;
    d->len = strlen(body);
    d->due_ms = now;
    delivery *old = bp_nqueue_push(&n->outbox, d);
    if (old) {
        atomic_fetch_add(&n->dropped, 1);
        delivery_free(old);
    }
}

/* Post alerts a[0..k) to every Alertmanager. */
static void enqueue_alerts(bp_notifier *n, const bp_alert *a, size_t k, int64_t now)
{
    if (k == 0)
        return;
    char *body = bp_alerts_body(a, k, bp_wall_ms(), VALID_RESENDS * n->resend_ms, n->generator_url);
    for (size_t i = 0; i < n->n_rcv; i++)
        if (n->rcv[i].alertmanager)
            enqueue(n, i, body ? strdup(body) : NULL, now);
    free(body);
}

static void handle_event(bp_notifier *n, const event *e, int64_t now)
{
    if (n->n_am > 0) {
        bp_alert_list changed = { 0 };
        if (bp_alerts_apply(&n->firing, e->node, e->failing, e->n_failing, bp_wall_ms(), &changed) != 0)
            atomic_fetch_add(&n->dropped, 1);
        enqueue_alerts(n, changed.v, changed.n, now);
        bp_alert_list_free(&changed);
        if (n->firing.n == 0)
            n->next_resend_ms = 0;
        else if (n->next_resend_ms == 0)
            n->next_resend_ms = now + n->resend_ms;
    }
    for (size_t t = 0; t < e->n_tr; t++) {
        char *body = bp_webhook_body(e->node, &e->tr[t]);
        for (size_t i = 0; i < n->n_rcv; i++)
            if (!n->rcv[i].alertmanager)
                enqueue(n, i, body ? strdup(body) : NULL, now);
        free(body);
    }
}

/* One attempt of d (taken over): counted; retried after a backoff, or given up after the last attempt. */
static void attempt(bp_notifier *n, delivery *d)
{
    receiver *r = &n->rcv[d->rcv];
    char sig[BP_SIGNATURE_LEN], err[256];
    int signed_ok = !r->alertmanager && n->secret_len > 0
                    && bp_notify_sign(n->secret, n->secret_len, d->body, d->len, sig) == 0;
    bp_post p = { .url = r->url, .body = d->body, .len = d->len,
                  .bearer = r->alertmanager && n->have_bearer ? n->bearer : NULL,
                  .signature = signed_ok ? sig : NULL,
                  .ca_file = r->alertmanager && n->ca_file[0] ? n->ca_file : NULL,
                  .abort = &n->stopping, .connect_timeout_ms = CONNECT_TIMEOUT_MS, .timeout_ms = POST_TIMEOUT_MS };
    d->attempts++;
    if (bp_notify_post(&p, err, sizeof err) == 0) {
        atomic_fetch_add(&r->sent, 1);
        if (r->down)
            bp_log("notify", NULL, "%s: delivering again", r->label);
        r->down = 0;
        delivery_free(d);
        return;
    }
    atomic_fetch_add(&r->failed, 1);
    if (!r->down && !atomic_load(&n->stopping))
        bp_log("notify", NULL, "%s: %s (retrying up to %d times with backoff; further failures are only counted)",
               r->label, err, BP_NOTIFY_ATTEMPTS - 1);
    r->down = 1;
    if (d->attempts >= BP_NOTIFY_ATTEMPTS || atomic_load(&n->stopping)) {
        atomic_fetch_add(&n->dropped, 1);
        delivery_free(d);
        return;
    }
    d->due_ms = bp_now_ms() + bp_notify_backoff_ms(d->attempts, BP_NOTIFY_RETRY_BASE_MS, BP_NOTIFY_RETRY_CAP_MS);
    delivery *old = bp_nqueue_push(&n->outbox, d);
    if (old) {
        atomic_fetch_add(&n->dropped, 1);
        delivery_free(old);
    }
}

/* The oldest delivery due at now (its index in *at), or the earliest due time of all in *next (INT64_MAX: none). */
static int due(const bp_notifier *n, int64_t now, size_t *at, int64_t *next)
{
    *next = INT64_MAX;
    for (size_t i = 0; i < n->outbox.len; i++) {
        const delivery *d = bp_nqueue_at(&n->outbox, i);
        if (d->due_ms <= now) {
            *at = i;
            return 1;
        }
        if (d->due_ms < *next)
            *next = d->due_ms;
    }
    return 0;
}

/* Wait on wake until monotonic ms `until` (mu held), an event or stop. */
static void wait_until(bp_notifier *n, int64_t until)
{
    if (until == INT64_MAX) {
        pthread_cond_wait(&n->wake, &n->mu);
        return;
    }
    int64_t ms = until - bp_now_ms();
    if (ms <= 0)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = ts.tv_nsec + ms % 1000 * 1000000;
    ts.tv_sec += (time_t)(ms / 1000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_cond_timedwait(&n->wake, &n->mu, &ts);
}

static void *worker(void *arg)
{
    bp_notifier *n = arg;
    pthread_mutex_lock(&n->mu);
    while (!atomic_load(&n->stopping)) {
        event *e = bp_nqueue_pop(&n->inbox);
        pthread_mutex_unlock(&n->mu);
        int64_t now = bp_now_ms(), next;
        size_t at = 0;
        if (e) {
            handle_event(n, e, now);
            event_free(e);
        } else if (n->next_resend_ms && now >= n->next_resend_ms) {
            enqueue_alerts(n, n->firing.v, n->firing.n, now); /* Alertmanager's resend semantics */
            n->next_resend_ms = now + n->resend_ms;
        } else if (due(n, now, &at, &next)) {
            attempt(n, bp_nqueue_take(&n->outbox, at));
        } else {
            if (n->next_resend_ms && n->next_resend_ms < next)
                next = n->next_resend_ms;
            pthread_mutex_lock(&n->mu);
            if (n->inbox.len == 0 && !atomic_load(&n->stopping))
                wait_until(n, next);
            continue;
        }
        pthread_mutex_lock(&n->mu);
    }
    pthread_mutex_unlock(&n->mu);
    return NULL;
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
    if (pthread_create(&n->thread, NULL, worker, n) != 0)
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
    bp_nqueue_free(&n->inbox, event_free);
    bp_nqueue_free(&n->outbox, delivery_free);
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

/* worker.c: the notifier's one worker thread: events into alerts and deliveries, POSTs with retries and backoff, resends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "notify/backoff.h"
#include "notify/notify_int.h"
#include "notify/payload.h"
#include "notify/post.h"
#include "notify/sign.h"

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
        bp__notify_delivery_free(old);
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
        int rc = e->forget ? bp_alerts_forget(&n->firing, e->node, bp_wall_ms(), &changed)
                           : bp_alerts_apply(&n->firing, e->node, e->failing, e->n_failing, bp_wall_ms(), &changed);
        if (rc != 0)
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
        bp__notify_delivery_free(d);
        return;
    }
    atomic_fetch_add(&r->failed, 1);
    if (!r->down && !atomic_load(&n->stopping))
        bp_log("notify", NULL, "%s: %s (retrying up to %d times with backoff; further failures are only counted)",
               r->label, err, BP_NOTIFY_ATTEMPTS - 1);
    r->down = 1;
    if (d->attempts >= BP_NOTIFY_ATTEMPTS || atomic_load(&n->stopping)) {
        atomic_fetch_add(&n->dropped, 1);
        bp__notify_delivery_free(d);
        return;
    }
    d->due_ms = bp_now_ms() + bp_notify_backoff_ms(d->attempts, BP_NOTIFY_RETRY_BASE_MS, BP_NOTIFY_RETRY_CAP_MS);
    delivery *old = bp_nqueue_push(&n->outbox, d);
    if (old) {
        atomic_fetch_add(&n->dropped, 1);
        bp__notify_delivery_free(old);
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

void *bp__notify_worker(void *arg)
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
            bp__notify_event_free(e);
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

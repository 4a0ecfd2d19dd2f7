/* serve_discovery.c: serve's discovery in the background: sources asked again on a schedule, failures retried with backoff. */
#include <stdio.h>
#include <string.h>

#include "cli/serve_int.h"
#include "core/clock.h"
#include "core/log.h"

/* A failure logged again at most this often while it stays the same. */
#define LOG_REPEAT_MS 60000

/* Errors that no retry can mend: at start they are configuration errors (exit 1). */
static int config_error(int rc)
{
    return rc == BP_EUSAGE || rc == BP_ECONFIG || rc == BP_ETOOBIG;
}

/* Log an attempt of src whose outcome was just recorded: failures (rate-limited) and the first success after them. */
static void log_attempt(bp_source *src, int rc, unsigned failed_before, const char *error_before, int64_t now)
{
    const bp_source_status *st = &src->st;
    if (rc == 0) {
        if (failed_before > 0)
            bp_log("discovery", NULL, "%s answered again after %u failed attempt(s): %zu node(s)", st->label,
                   failed_before, st->found);
        return;
    }
    if (src->failures > 1 && strcmp(error_before, st->error) == 0 && now - src->logged_ms < LOG_REPEAT_MS)
        return;
    src->logged_ms = now;
    long long wait = (long long)(src->next_ms - now);
    if (st->have)
        bp_log("discovery", NULL, "%s failed: %s; keeping its %zu node(s) found before; next attempt in %lld ms "
               "(%u failure(s) in a row)", st->label, st->error, st->found, wait, src->failures);
    else
        bp_log("discovery", NULL, "%s failed: %s; its nodes are not probed and serve is not ready until it "
               "answers; next attempt in %lld ms (%u failure(s) in a row)", st->label, st->error, wait,
               src->failures);
}

int bp__serve_ask(const bp_config *c, bp_sources *s, int all, int fatal, char *err, size_t errlen)
{
    char why[BP_SOURCE_ERROR_MAX], before[BP_SOURCE_ERROR_MAX];
    bp_nodeset found = { 0 };
    int changed = 0;
    for (size_t i = 0; i < s->n; i++) {
        bp_source *src = &s->v[i];
        if (!all && src->next_ms > bp_now_ms())
            continue;
        why[0] = '\0';
        int rc = bp_targets_source(c, src->kind, bp_now_ms() + c->timeout_ms, &found, why, sizeof why);
        if (rc && fatal && config_error(rc)) {
            snprintf(err, errlen, "%s: %s", src->st.label, why);
            bp_nodeset_free(&found);
            return -1;
        }
        unsigned failed_before = src->failures;
        memcpy(before, src->st.error, sizeof before);
        int64_t now = bp_now_ms();
        changed |= bp_source_record(src, rc, &found, why, now, bp_wall_ms(), c->rediscover_ms);
        log_attempt(src, rc, failed_before, before, now);
    }
    bp_nodeset_free(&found);
    return changed;
}

/* Whether a and b hold the same names in the same order. */
static int same_targets(const bp_nodeset *a, const bp_nodeset *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return 0;
    return 1;
}

/* One round of the thread (disc_mu held): ask the sources that are due, apply a changed target set, show the state. */
static void round_once(bp__serve *a)
{
    char err[512];
    bp_nodeset targets = { 0 };
    bp_discovery_status st;
    if (bp__serve_ask(&a->cfg, &a->sources, 0, 0, err, sizeof err) > 0) {
        if (bp_sources_merge(&a->cfg.nodes, &a->sources, &targets, err, sizeof err) != 0)
            bp_log("discovery", NULL, "kept the running targets: %s", err);
        else if (!same_targets(&targets, bp_site_targets(a->site)))
            bp__serve_apply(a, &a->cfg, &targets, "discovery");
    }
    bp_nodeset_free(&targets);
    bp_sources_status(&a->sources, &st);
    bp_site_set_discovery(a->site, &st);
}

static void *discovery_main(void *arg)
{
    bp__serve *a = arg;
    pthread_mutex_lock(&a->disc_mu);
    while (!a->disc_stop) {
        int64_t next = bp_sources_next_ms(&a->sources), now = bp_now_ms();
        if (next <= now) {
            round_once(a);
            continue;
        }
        if (next == INT64_MAX) {
            pthread_cond_wait(&a->disc_wake, &a->disc_mu);
            continue;
        }
        struct timespec until = bp_monotonic_after_us((next - now) * 1000);
        pthread_cond_timedwait(&a->disc_wake, &a->disc_mu, &until);
    }
    pthread_mutex_unlock(&a->disc_mu);
    return NULL;
}

int bp__serve_discovery_start(bp__serve *a)
{
    if (a->sources.n == 0)
        return 0;
    if (pthread_create(&a->disc_thread, NULL, discovery_main, a) != 0)
        return -1;
    a->have_disc_thread = 1;
    return 0;
}

void bp__serve_discovery_stop(bp__serve *a)
{
    if (!a->have_disc_thread)
        return;
    pthread_mutex_lock(&a->disc_mu);
    a->disc_stop = 1;
    pthread_cond_signal(&a->disc_wake);
    pthread_mutex_unlock(&a->disc_mu);
    pthread_join(a->disc_thread, NULL);
    a->have_disc_thread = 0;
}

void bp__serve_discovery_poke(bp__serve *a)
{
    pthread_cond_signal(&a->disc_wake);
}

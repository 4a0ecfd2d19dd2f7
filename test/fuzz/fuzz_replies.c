/* fuzz_replies.c: libFuzzer harness for everything that reads a node's RPC replies (collector facts, the one-round reply, process kinds, supervisor walks, families, mnesia, --top), then the policy and the renderers. */
/*
 * Built by `make -C c_src FUZZ=1 fuzzers`, run by `make fuzz` (scripts/fuzz.sh). The input
 * format is in replies.h; the seeds in corpus/replies/ are real nodes' replies recorded by
 * test/fuzz/record_corpus.sh. The collection runs on the probe's own plans (bp_collect_planned)
 * over a scripted node that answers each call with the input's next reply.
 */
#include <jansson.h>
#include <stdio.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "core/render_prom.h"
#include "core/report.h"
#include "dist/collect.h"
#include "fuzz.h"
#include "replies.h"

typedef struct {
    const uint8_t *p;
    size_t left;
    int64_t max_reply;
} replay;

/* The next reply of the input for one call: bytes and length, or none (0: the call times out). */
static int next_reply(replay *rp, const uint8_t **etf, size_t *len)
{
    if (rp->left < 4)
        return 0;
    uint32_t n = (uint32_t)rp->p[0] << 24 | (uint32_t)rp->p[1] << 16 | (uint32_t)rp->p[2] << 8 | rp->p[3];
    rp->p += 4;
    rp->left -= 4;
    if (n == REPLIES_NONE)
        return 0;
    if (n > rp->left)
        n = (uint32_t)rp->left;
    *etf = rp->p;
    *len = n;
    rp->p += n;
    rp->left -= n;
    return 1;
}

/* A round: every call of the batch gets the input's next reply, as a session would store it. */
static int replay_call(void *ctx, bp_batch *b, int64_t deadline_ms)
{
    (void)deadline_ms;
    replay *rp = ctx;
    int rc = 0;
    for (size_t i = 0; i < bp_batch_count(b); i++) {
        const uint8_t *etf;
        size_t len;
        if (!next_reply(rp, &etf, &len)) {
            rc = BP_ETIMEDOUT; /* the call keeps its BP_ETIMEDOUT */
            continue;
        }
        int r = bp_batch_set_reply(b, i, etf, len, rp->max_reply);
        CHECK(r == 0 || r == BP_EDECODE || r == BP_ETOOBIG || r == BP_ENOMEM);
        CHECK(bp_batch_get(b, i)->rc == r && (r == 0) == (bp_batch_get(b, i)->reply != NULL));
    }
    return rc;
}

/* Every fact's state is one of the states, and a failed fact says why. */
static void check_report(const bp_report *rep, const bp_config *cfg)
{
    CHECK(rep->status == BP_PASS || rep->status == BP_WARN || rep->status == BP_FAIL);
    for (size_t i = 0; i < rep->n_checks; i++) {
        const bp_check *c = &rep->checks[i];
        CHECK(c->name && c->name[0]);
        CHECK(c->status == BP_PASS || c->status == BP_WARN || c->status == BP_FAIL);
        CHECK(c->status <= rep->status);
    }
    int code = bp_report_exit_code(rep, cfg);
    CHECK(code == BP_EXIT_HEALTHY || code == BP_EXIT_INCOMPLETE || code == BP_EXIT_UNHEALTHY);
}

static void render_all(const bp_report *rep)
{
    char *json = bp_render_json(rep, 0);
    if (json) {
        json_error_t jerr;
        json_t *doc = json_loads(json, 0, &jerr); /* valid JSON, valid UTF-8 */
        CHECK(doc != NULL);
        json_decref(doc);
    }
    free(json);
    free(bp_render_text(rep));
    bp_prom_buf prom = { 0 };
    int rc = bp_render_prom(&prom, rep, 1, 0.5);
    CHECK(rc == 0 || rc == BP_ENOMEM);
    CHECK(rc != 0 || (prom.p && strlen(prom.p) == prom.len));
    bp_prom_buf_free(&prom);
}

/* FUZZ_REPLIES_EXPECT_HEALTHY=1: every input must give a complete, healthy report (the recorded
   seeds of healthy nodes do, while they match the collector's calls; scripts/fuzz.sh checks). */
static int expect_healthy(void)
{
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("FUZZ_REPLIES_EXPECT_HEALTHY");
        v = e && strcmp(e, "1") == 0;
    }
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static bp_config cfg; /* large: its name lists are arrays */
    char err[256];
    CHECK(replies_configure(&cfg, data[0], err, sizeof err) == 0);
    replay rp = { .p = data + 1, .left = size - 1, .max_reply = cfg.max_reply_bytes };
    bp_snapshot *snap = bp_snapshot_new("app@host");
    CHECK(snap);
    snap->rtt_us = -1;
    snap->connect.state = BP_FACT_OK; /* connected: what follows is the node's replies */
    bp_collect_exec node = { .call = replay_call, .ctx = &rp, .self_name = "beamprobe_0@host" };
    int rc = bp_collect_planned(&node, &cfg, bp_now_ms() + 60000, snap);
    CHECK(rc == 0 || rc == BP_ENOMEM);
    if (rc == 0) {
        bp_report rep;
        rc = bp_evaluate(snap, &cfg, &rep);
        CHECK(rc == 0 || rc == BP_ENOMEM);
        if (rc == 0) {
            check_report(&rep, &cfg);
            if (expect_healthy() && (rep.status != BP_PASS || rep.incomplete)) {
                char *text = bp_render_text(&rep);
                fprintf(stderr, "fuzz_replies: setup %s: not healthy:\n%s\n",
                        replies_setups[data[0] % REPLIES_SETUPS].name, text ? text : "");
                free(text);
                abort();
            }
            render_all(&rep);
        }
    }
    bp_snapshot_free(snap);
    return 0;
}

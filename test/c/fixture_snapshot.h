/* fixture_snapshot.h: header-only builders of a realistic healthy snapshot and config for unit tests. */
#ifndef BP_FIXTURE_SNAPSHOT_H
#define BP_FIXTURE_SNAPSHOT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/config.h"
#include "core/report.h"
#include "core/snapshot.h"

/* An arena string vector of the n strings that follow. */
static inline bp_strv fixture_strv(bp_snapshot *s, size_t n, ...)
{
    bp_strv v = {0};
    if (n == 0)
        return v;
    v.v = bp_arena_alloc(s->arena, n * sizeof *v.v);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n && v.v; i++)
        v.v[v.n++] = bp_arena_strdup(s->arena, va_arg(ap, const char *));
    va_end(ap);
    return v;
}

static inline void fixture_list_add(bp_namelist *l, const char *name)
{
    if (l->n < BP_LIST_MAX)
        snprintf(l->v[l->n++], BP_NAME_MAX, "%s", name);
}

static inline void fixture_memory_add(bp_snapshot *s, const char *kind, int64_t bytes)
{
    if (s->n_memory < sizeof s->memory_kinds / sizeof s->memory_kinds[0]) {
        s->memory_kinds[s->n_memory].kind = bp_arena_strdup(s->arena, kind);
        s->memory_kinds[s->n_memory].bytes = bytes;
        s->n_memory++;
    }
}

/* Replace the value of memory kind `kind` (it must exist). */
static inline void fixture_memory_set(bp_snapshot *s, const char *kind, int64_t bytes)
{
    for (size_t i = 0; i < s->n_memory; i++)
        if (strcmp(s->memory_kinds[i].kind, kind) == 0)
            s->memory_kinds[i].bytes = bytes;
}

/* Config for a ready probe with the thresholds the tests reason about. */
static inline void fixture_config(bp_config *c)
{
    memset(c, 0, sizeof *c);
    c->probe = BP_PROBE_READY;
    c->expect_size = -1;
    c->memory_limit = 0;
    c->thresholds.memory = (bp_ratio){0.80, 0.90};
    c->thresholds.processes = (bp_ratio){0.80, 0.90};
    c->thresholds.ports = (bp_ratio){0.80, 0.90};
    c->thresholds.atoms = (bp_ratio){0.80, 0.90};
    c->thresholds.ets = (bp_ratio){0.80, 0.90};
    c->thresholds.fds = (bp_ratio){0.80, 0.90};
    c->thresholds.run_queue_warn = 2.0;
    c->thresholds.run_queue_fail = 4.0;
    fixture_list_add(&c->governor_fail_states, "refusing");
    fixture_list_add(&c->governor_fail_states, "degraded");
    fixture_list_add(&c->governor_warn_states, "warning");
    fixture_list_add(&c->governor_warn_states, "intervening");
}

/* Open file descriptors and their limit, as only a snapshot built inside the VM has them. */
static inline void fixture_fds(bp_snapshot *s, int64_t open_fds, int64_t max_fds)
{
    s->open_fds = open_fds;
    s->max_fds = max_fds;
}

/* A healthy three-node-cluster member running the demo application. Free with bp_snapshot_free. */
static inline bp_snapshot *fixture_snapshot(void)
{
    bp_snapshot *s = bp_snapshot_new("app@host1");
    if (!s)
        return NULL;
    bp_arena *a = s->arena;
    s->timestamp_ms = 1700000000123LL; /* 2023-11-14T22:13:20.123Z */
    s->duration_us = 2300;
    s->round_trips = 1;
    s->connect.state = BP_FACT_OK;

    s->identity.state = BP_FACT_OK;
    s->otp_release = "25";
    s->erts_version = "13.1.5";
    s->uptime_ms = 7380000; /* 2h03m */

    s->membership.state = BP_FACT_OK;
    s->visible = fixture_strv(s, 2, "app@host2", "app@host3");
    s->hidden = fixture_strv(s, 1, "console@host1");

    s->memory.state = BP_FACT_OK;
    fixture_memory_add(s, "total", 200LL << 20);
    fixture_memory_add(s, "processes", 60LL << 20);
    fixture_memory_add(s, "processes_used", 59LL << 20);
    fixture_memory_add(s, "system", 140LL << 20);
    fixture_memory_add(s, "atom", 1LL << 20);
    fixture_memory_add(s, "atom_used", 900LL << 10);
    fixture_memory_add(s, "binary", 20LL << 20);
    fixture_memory_add(s, "code", 30LL << 20);
    fixture_memory_add(s, "ets", 5LL << 20);

    s->cgroup.state = BP_FACT_OK;
    s->cgroup_version = "v2";
    s->cgroup_limit = 1LL << 30;
    s->cgroup_usage = 300LL << 20;

    s->limits.state = BP_FACT_OK;
    s->process_count = 300;
    s->process_limit = 262144;
    s->port_count = 50;
    s->port_limit = 65536;
    s->atom_count = 20000;
    s->atom_limit = 1048576;
    s->ets_count = 40;
    s->ets_limit = 8192;
    /* open_fds and max_fds stay -1 (unknown), as in a remote probe: fixture_fds sets them */

    s->schedulers.state = BP_FACT_OK;
    s->run_queue = 2;
    s->dirty_cpu_run_queue = 0;
    s->dirty_io_run_queue = 1;
    s->schedulers_online = 4;
    s->dirty_cpu_schedulers_online = 4;
    s->dirty_io_schedulers = 10;

    s->applications.state = BP_FACT_OK;
    s->n_apps = 4;
    s->apps = bp_arena_alloc(a, s->n_apps * sizeof *s->apps);
    s->apps[0] = (bp_app){"kernel", "8.5.3"};
    s->apps[1] = (bp_app){"stdlib", "4.2"};
    s->apps[2] = (bp_app){"sasl", "4.2"};
    s->apps[3] = (bp_app){"demo", "0.1.0"};

    s->n_supervisors = 3;
    s->supervisors = bp_arena_alloc(a, s->n_supervisors * sizeof *s->supervisors);
    bp_supervisor_snap *sv = s->supervisors;
    sv[0].name = "demo_sup";
    sv[0].pid = "<0.90.0>";
    sv[0].depth = 0;
    sv[0].fact.state = BP_FACT_OK;
    sv[0].specs = 3, sv[0].active = 3, sv[0].supervisors = 2, sv[0].workers = 1;
    sv[1].name = "demo_sup/demo_worker_sup";
    sv[1].pid = "<0.91.0>";
    sv[1].depth = 1;
    sv[1].fact.state = BP_FACT_OK;
    sv[1].specs = 4, sv[1].active = 4, sv[1].supervisors = 0, sv[1].workers = 4;
    sv[2].name = "demo_sup/demo_governor_sup";
    sv[2].pid = "<0.95.0>";
    sv[2].depth = 1;
    sv[2].fact.state = BP_FACT_OK;
    sv[2].specs = 1, sv[2].active = 1, sv[2].supervisors = 0, sv[2].workers = 1;

    s->n_governors = 1;
    s->governors = bp_arena_alloc(a, sizeof *s->governors);
    bp_governor_snap *g = s->governors;
    g->name = "cost_guard";
    g->fact.state = BP_FACT_OK;
    g->alive = 1;
    g->pid = "<0.96.0>";
    g->message_queue_len = 0;
    g->memory = 10240;
    g->state_fact.state = BP_FACT_OK;
    g->state = "stable";

    s->n_custom = 1;
    s->custom = bp_arena_alloc(a, sizeof *s->custom);
    s->custom[0].mfa = "demo:health";
    s->custom[0].fact.state = BP_FACT_OK;
    s->custom[0].verdict = BP_VERDICT_PASS;
    s->custom[0].detail = "ok";
    return s;
}

/* The state of a policy or render test: the fixture snapshot and config, a report, and the
 * rendered output and its parsed JSON when a test makes them (freed by the teardown). */
typedef struct {
    bp_snapshot *snap;
    bp_config cfg;
    bp_report rep;
    char *out;
    json_t *doc;
} fixture_fx;

/* cmocka setup: a fresh fixture_fx in *state. */
static inline int fixture_fx_setup(void **state)
{
    static fixture_fx f;
    memset(&f, 0, sizeof f);
    f.snap = fixture_snapshot();
    if (!f.snap)
        return -1;
    fixture_config(&f.cfg);
    *state = &f;
    return 0;
}

static inline int fixture_fx_teardown(void **state)
{
    fixture_fx *f = *state;
    free(f->out);
    json_decref(f->doc);
    bp_snapshot_free(f->snap);
    return 0;
}

#endif

/* policy_procs.c: judging supervisors, governors and their families, mnesia and custom checks. */
#include <inttypes.h>
#include <string.h>

#include "beamprobe.h"
#include "core/policy_int.h"

/* A nested supervisor "root/child/..." belongs to root. */
static int nested_in(const bp_supervisor_snap *n, const char *root)
{
    if (n->depth <= 0 || !n->name || !root)
        return 0;
    size_t len = strlen(root);
    return strncmp(n->name, root, len) == 0 && n->name[len] == '/';
}

/* Append the first entries of src (n of them, the rest only counted) to a check's list. */
static void list_children(const bp_supervisor_snap *n, const char *const *src, size_t count, bp_child_down *dst,
                          size_t *listed)
{
    size_t k_max = count < BP_CHILD_DOWN_MAX ? count : BP_CHILD_DOWN_MAX;
    for (size_t k = 0; k < k_max && dst && *listed < DOWN_LISTED_MAX; k++) {
        if (!src[k])
            continue;
        dst[*listed].supervisor = n->name;
        dst[*listed].child = src[k];
        (*listed)++;
    }
}

/* Closer to its restart intensity than *worst? (recent restarts / intensity; 0 restarts never) */
static int nearer_intensity(const bp_supervisor_snap *n, const bp_supervisor_snap *worst)
{
    if (n->recent_restarts <= 0 || n->intensity < 0)
        return 0;
    if (!worst)
        return 1;
    return (double)n->recent_restarts / (double)(n->intensity + 1)
           > (double)worst->recent_restarts / (double)(worst->intensity + 1);
}

/* "a (restarting) in root/x, b (restarting) in root" */
static void add_child_list(sbuf *b, const bp_child_down *l, size_t listed, size_t total)
{
    size_t shown = listed < REASON_DOWN_MAX ? listed : REASON_DOWN_MAX;
    for (size_t k = 0; k < shown; k++)
        bp__sb_addf(b, "%s%s in %s", k ? ", " : "", l[k].child, bp__or_q(l[k].supervisor));
    if (total > shown)
        bp__sb_addf(b, "%s+%zu more", shown ? ", " : "", total - shown);
}

/*
 * As OTP judges a supervisor: a child being restarted is down, and a supervisor whose
 * restarts within its period reached its intensity terminates at the next one (fail);
 * any recent restart warns. A child whose pid is `undefined` (start returned ignore,
 * or terminate_child) is kept by the supervisor and never restarted: reported, and
 * failing only under --supervisor-strict.
 */
void bp__check_supervisor(eval_ctx *x, const bp_supervisor_snap *root)
{
    const bp_snapshot *s = x->snap;
    bp_check *c = bp__add_check(x, BP_CHECK_SUPERVISOR, "supervisor", root->name);
    if (!c)
        return;
    c->supervisor = root;
    if (!bp__check_fact_ok(c, &root->fact))
        return;
    c->children_down = bp_arena_alloc(s->arena, DOWN_LISTED_MAX * sizeof *c->children_down);
    c->children_stopped = bp_arena_alloc(s->arena, DOWN_LISTED_MAX * sizeof *c->children_stopped);
    if (!c->children_down || !c->children_stopped)
        x->err = BP_ENOMEM;
    const bp_supervisor_snap *bad = NULL; /* first nested one that did not answer */
    size_t n_bad = 0;
    for (size_t i = 0; i < s->n_supervisors; i++) {
        const bp_supervisor_snap *n = &s->supervisors[i];
        if (n != root && !nested_in(n, root->name))
            continue;
        if (n != root) {
            c->n_nested++;
            if (n->fact.state != BP_FACT_OK) {
                if (!bad)
                    bad = n;
                n_bad++;
                if (n->fact.state != BP_FACT_ERROR)
                    c->incomplete = 1;
                continue;
            }
        }
        c->children_truncated |= n->children_truncated;
        c->n_children_down += n->n_down;
        c->n_children_stopped += n->n_stopped;
        list_children(n, n->down, n->n_down, c->children_down, &c->n_children_listed);
        list_children(n, n->stopped, n->n_stopped, c->children_stopped, &c->n_stopped_listed);
        if (nearer_intensity(n, c->restarts))
            c->restarts = n;
    }
    const bp_supervisor_snap *rs = c->restarts;
    int at_intensity = rs && rs->recent_restarts >= rs->intensity;
    int strict_stopped = x->cfg->supervisor_strict && c->n_children_stopped > 0;
    sbuf b;
    bp__sb_init(&b, c->reason, sizeof c->reason);
    const char *sep = "";
    if (c->n_children_down > 0) {
        bp__sb_addf(&b, "%zu child%s down: ", c->n_children_down, c->n_children_down == 1 ? "" : "ren");
        add_child_list(&b, c->children_down, c->n_children_listed, c->n_children_down);
        sep = "; ";
    }
    if (n_bad > 0) {
        bp__sb_addf(&b, "%s%zu nested supervisor%s not answering: %s: %s", sep, n_bad, n_bad == 1 ? "" : "s",
                bp__or_q(bad->name), bad->fact.error ? bad->fact.error : "timed out");
        sep = "; ";
    }
    if (rs) {
        bp__sb_addf(&b, "%s%s: %" PRId64 " restart%s in the last %" PRId64 " s (intensity %" PRId64 "%s)", sep,
                bp__or_q(rs->name), rs->recent_restarts, rs->recent_restarts == 1 ? "" : "s", rs->period,
                rs->intensity, at_intensity ? ": the next one terminates it" : "");
        sep = "; ";
    }
    if (c->n_children_stopped > 0) {
        bp__sb_addf(&b, "%s%zu child%s not running (ignored or stopped): ", sep, c->n_children_stopped,
                c->n_children_stopped == 1 ? "" : "ren");
        add_child_list(&b, c->children_stopped, c->n_stopped_listed, c->n_children_stopped);
        sep = "; ";
    }
    if (c->n_children_down > 0 || n_bad > 0 || at_intensity || strict_stopped) {
        c->status = BP_FAIL;
        return;
    }
    c->status = rs ? BP_WARN : BP_PASS;
    char sp[24], ac[24], wk[24], su[24];
    bp__sb_addf(&b, "%sspecs %s, active %s, workers %s, supervisors %s", sep, bp__num(root->specs, sp, sizeof sp),
            bp__num(root->active, ac, sizeof ac), bp__num(root->workers, wk, sizeof wk),
            bp__num(root->supervisors, su, sizeof su));
    if (c->n_nested > 0)
        bp__sb_addf(&b, "; %zu nested supervisor%s all up", c->n_nested, c->n_nested == 1 ? "" : "s");
    if (c->children_truncated)
        bp__sb_addf(&b, "; child list truncated");
}

/* One governor's status and reason (into c), from its facts. */
static void judge_governor(const bp_config *cfg, bp_check *c, const bp_governor_snap *g)
{
    if (!bp__check_fact_ok(c, &g->fact))
        return;
    if (!g->alive) {
        bp__judge(c, BP_FAIL, "not registered");
        return;
    }
    char q[24], m[32];
    bp__num(g->message_queue_len, q, sizeof q);
    bp_format_bytes(g->memory, m, sizeof m);
    switch (g->state_fact.state) {
    case BP_FACT_OK:
        break;
    case BP_FACT_ERROR:
        if (g->sys_refused) { /* its kind handles no sys request: none was sent */
            bp__judge(c, BP_FAIL, "%s; queue %s, memory %s", bp__or_q(g->state_fact.error), q, m);
            return;
        }
        /* sys:get_state's own timeout (an error reply from the target) is an answer: the governor is stuck. */
        bp__judge(c, BP_FAIL, "unresponsive: %s; queue %s, memory %s",
              g->state_fact.error ? g->state_fact.error : "sys:get_state failed", q, m);
        return;
    case BP_FACT_TIMEOUT:
        /* No reply before the probe's own deadline (a slow or cut link, or a deadline too short for
         * --governor-timeout): nothing is known of the governor, so the check is incomplete (exit 3),
         * not a stuck governor (exit 4). */
        c->incomplete = 1;
        bp__judge(c, BP_FAIL, "%s; queue %s, memory %s", bp__or_q(g->state_fact.error), q, m);
        return;
    case BP_FACT_UNSET:
    default:
        c->incomplete = 1;
        bp__judge(c, BP_FAIL, "state not collected; queue %s, memory %s", q, m);
        return;
    }
    if (!g->state) {
        bp__judge(c, BP_PASS, "state not readable (%s); queue %s, memory %s", bp__or_q(g->unreadable), q, m);
        return;
    }
    bp_status st = BP_PASS;
    const char *tag = "";
    if (bp__in_namelist(&cfg->governor_fail_states, g->state)) {
        st = BP_FAIL;
        tag = " (fail state)";
    } else if (bp__in_namelist(&cfg->governor_warn_states, g->state)) {
        st = BP_WARN;
        tag = " (warn state)";
    }
    bp__judge(c, st, "state %s%s; queue %s, memory %s", g->state, tag, q, m);
}

void bp__check_governor(eval_ctx *x, const bp_governor_snap *g)
{
    bp_check *c = bp__add_check(x, BP_CHECK_GOVERNOR, "governor", g->name);
    if (!c)
        return;
    c->governor = g;
    judge_governor(x->cfg, c, g);
}

/* Count one member under its state (or its failure) in the check's tally. */
static void tally(bp_check *c, const char *label)
{
    for (size_t i = 0; i < c->n_states; i++)
        if (strcmp(c->states[i].state, label) == 0) {
            c->states[i].count++;
            return;
        }
    if (c->n_states < BP_FAMILY_STATES_MAX) {
        c->states[c->n_states].state = label;
        c->states[c->n_states++].count = 1;
    } else {
        c->states_other++;
    }
}

/*
 * A family of governors as one check: members counted per state, the worst member
 * decides, and every member in a warn or fail state is named (the first
 * BP_FAMILY_FLAGGED_MAX of them).
 */
void bp__check_family(eval_ctx *x, const bp_govfamily_snap *f)
{
    const bp_snapshot *s = x->snap;
    bp_check *c = bp__add_check(x, BP_CHECK_GOVERNORS, "governors", f->name);
    if (!c)
        return;
    c->family = f;
    if (!bp__check_fact_ok(c, &f->fact))
        return;
    c->states = bp_arena_alloc(s->arena, BP_FAMILY_STATES_MAX * sizeof *c->states);
    c->flagged = bp_arena_alloc(s->arena, BP_FAMILY_FLAGGED_MAX * sizeof *c->flagged);
    if (!c->states || !c->flagged) {
        x->err = BP_ENOMEM;
        return;
    }
    bp_status worst = BP_PASS;
    for (size_t i = 0; i < f->n_members; i++) {
        const bp_governor_snap *g = &f->members[i];
        bp_check one;
        memset(&one, 0, sizeof one);
        judge_governor(x->cfg, &one, g);
        c->incomplete |= one.incomplete;
        const char *label = g->fact.state != BP_FACT_OK ? "not inspected"
                            : !g->alive ? "not running"
                            : g->sys_refused ? "no system messages"
                            : g->state_fact.state == BP_FACT_TIMEOUT ? "no answer in time"
                            : g->state_fact.state != BP_FACT_OK ? "unresponsive"
                            : g->state ? g->state
                                       : "not readable";
        tally(c, label);
        if (one.status > worst)
            worst = one.status;
        if (one.status != BP_PASS) {
            if (c->n_flagged < BP_FAMILY_FLAGGED_MAX) {
                bp_flagged *fl = &c->flagged[c->n_flagged++];
                fl->governor = g;
                fl->label = label;
                fl->status = one.status;
                fl->reason = bp_arena_strdup(s->arena, one.reason);
            }
            c->n_flagged_total++;
        }
    }
    sbuf b;
    bp__sb_init(&b, c->reason, sizeof c->reason);
    bp__sb_addf(&b, "%zu governor%s", f->n_total, f->n_total == 1 ? "" : "s");
    if (f->n_members < f->n_total)
        bp__sb_addf(&b, " (first %zu inspected)", f->n_members);
    for (size_t i = 0; i < c->n_states; i++)
        bp__sb_addf(&b, "%s%zu %s", i ? ", " : ": ", c->states[i].count, c->states[i].state);
    for (size_t i = 0; i < c->n_flagged && i < REASON_DOWN_MAX; i++)
        bp__sb_addf(&b, "%s%s %s", i ? ", " : "; ", bp__or_q(c->flagged[i].governor->name), c->flagged[i].label);
    if (c->n_flagged_total > REASON_DOWN_MAX)
        bp__sb_addf(&b, ", +%zu more", c->n_flagged_total - REASON_DOWN_MAX);
    c->status = f->n_total == 0 ? BP_WARN : worst; /* an empty family is worth a word */
    if (f->n_total == 0)
        bp__sb_addf(&b, " found");
}

/* Strings of a not in b, into out (arena). */
static int strv_minus(const bp_snapshot *s, const bp_strv *a, const bp_strv *b, bp_strv *out)
{
    out->n = 0;
    out->v = bp_arena_alloc(s->arena, (a->n + 1) * sizeof *out->v);
    if (!out->v)
        return BP_ENOMEM;
    for (size_t i = 0; i < a->n; i++) {
        int found = 0;
        for (size_t k = 0; k < b->n && !found; k++)
            found = strcmp(a->v[i], b->v[k]) == 0;
        if (!found)
            out->v[out->n++] = a->v[i];
    }
    return 0;
}

/* mnesia runs here and on every db node, and every table has a loaded copy. */
void bp__check_mnesia(eval_ctx *x)
{
    const bp_snapshot *s = x->snap;
    bp_check *c = bp__add_check(x, BP_CHECK_MNESIA, NULL, "mnesia");
    if (!c || !bp__check_fact_ok(c, &s->mnesia))
        return;
    if (!s->mnesia_running || strcmp(s->mnesia_running, "yes") != 0) {
        bp__judge(c, BP_FAIL, "mnesia is not running (%s)", bp__or_q(s->mnesia_running));
        return;
    }
    if (strv_minus(s, &s->mnesia_db_nodes, &s->mnesia_running_nodes, &x->r->mnesia_missing) != 0) {
        x->err = BP_ENOMEM;
        return;
    }
    const bp_strv *miss = &x->r->mnesia_missing, *unl = &s->mnesia_unloaded;
    sbuf b;
    bp__sb_init(&b, c->reason, sizeof c->reason);
    if (miss->n > 0) {
        bp__sb_addf(&b, "%zu of %zu db nodes not running mnesia: ", miss->n, s->mnesia_db_nodes.n);
        for (size_t i = 0; i < miss->n && i < REASON_DOWN_MAX; i++)
            bp__sb_addf(&b, "%s%s", i ? ", " : "", miss->v[i]);
        if (miss->n > REASON_DOWN_MAX)
            bp__sb_addf(&b, ", +%zu more", miss->n - REASON_DOWN_MAX);
    }
    if (unl->n > 0) {
        bp__sb_addf(&b, "%s%zu table%s without a loaded copy: ", miss->n ? "; " : "", unl->n, unl->n == 1 ? "" : "s");
        for (size_t i = 0; i < unl->n && i < REASON_DOWN_MAX; i++)
            bp__sb_addf(&b, "%s%s", i ? ", " : "", unl->v[i]);
        if (unl->n > REASON_DOWN_MAX)
            bp__sb_addf(&b, ", +%zu more", unl->n - REASON_DOWN_MAX);
    }
    if (miss->n || unl->n) {
        c->status = BP_FAIL;
        return;
    }
    char t[24];
    bp__judge(c, BP_PASS, "running on %zu of %zu db nodes; %s tables, all loaded", s->mnesia_running_nodes.n,
          s->mnesia_db_nodes.n, bp__num(s->mnesia_tables, t, sizeof t));
}

void bp__check_custom(eval_ctx *x, const bp_custom_snap *k)
{
    bp_check *c = bp__add_check(x, BP_CHECK_CUSTOM, "custom", k->mfa);
    if (!c)
        return;
    c->custom = k;
    if (!bp__check_fact_ok(c, &k->fact))
        return;
    bp_status st = k->verdict == BP_VERDICT_FAIL ? BP_FAIL : k->verdict == BP_VERDICT_WARN ? BP_WARN : BP_PASS;
    bp__judge(c, st, "returned %s", k->detail ? k->detail : bp_status_name(st));
}


/* test_render_prom.c: unit tests of the Prometheus renderer; the output is parsed back line by line and checked against format 0.0.4. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "beamprobe.h"
#include "core/render_prom.h"
#include "fixture_snapshot.h"

/* ---- a strict parser of the text format, as much of it as the renderer may use ---- */

#define LABELS_MAX 8

typedef struct {
    char *name;
    size_t n_labels;
    char *lname[LABELS_MAX];
    char *lvalue[LABELS_MAX]; /* unescaped */
    char *key;                /* name and label text as written: identifies the series */
    double value;
} psample;

typedef struct {
    char *name;
    char *help;
    char *type;
    size_t samples;
} pfamily;

typedef struct {
    psample *s;
    size_t n;
    pfamily *f;
    size_t nf;
} parsed;

static void parsed_free(parsed *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->s[i].name);
        free(p->s[i].key);
        for (size_t j = 0; j < p->s[i].n_labels; j++) {
            free(p->s[i].lname[j]);
            free(p->s[i].lvalue[j]);
        }
    }
    for (size_t i = 0; i < p->nf; i++) {
        free(p->f[i].name);
        free(p->f[i].help);
        free(p->f[i].type);
    }
    free(p->s);
    free(p->f);
    memset(p, 0, sizeof *p);
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    assert_non_null(d);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* Length of a metric name [a-zA-Z_:][a-zA-Z0-9_:]* at s (0: none). */
static size_t metric_name_len(const char *s)
{
    size_t i = 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_' || s[0] == ':'))
        return 0;
    for (i = 1; (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
                s[i] == '_' || s[i] == ':';
         i++)
        ;
    return i;
}

/* Length of a label name [a-zA-Z_][a-zA-Z0-9_]* at s (0: none). */
static size_t label_name_len(const char *s)
{
    size_t i = 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return 0;
    for (i = 1; (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
                s[i] == '_';
         i++)
        ;
    return i;
}

/* Is s[0..n) valid UTF-8 (RFC 3629)? */
static int valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], cp, min;
        size_t k;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0)
            k = 2, cp = c & 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0)
            k = 3, cp = c & 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0)
            k = 4, cp = c & 0x07, min = 0x10000;
        else
            return 0;
        if (i + k > n)
            return 0;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k;
    }
    return 1;
}

static pfamily *family_of(parsed *p, const char *name, size_t len)
{
    for (size_t i = 0; i < p->nf; i++)
        if (strlen(p->f[i].name) == len && memcmp(p->f[i].name, name, len) == 0)
            return &p->f[i];
    return NULL;
}

static pfamily *family_new(parsed *p, const char *name, size_t len)
{
    p->f = realloc(p->f, (p->nf + 1) * sizeof *p->f);
    assert_non_null(p->f);
    pfamily *f = &p->f[p->nf++];
    memset(f, 0, sizeof *f);
    f->name = dupn(name, len);
    return f;
}

/* # HELP name text / # TYPE name type */
static void parse_meta(parsed *p, const char *line, size_t len, const char **current)
{
    int help = len > 7 && memcmp(line, "# HELP ", 7) == 0;
    int type = len > 7 && memcmp(line, "# TYPE ", 7) == 0;
    if (!help && !type)
        fail_msg("comment line that is neither HELP nor TYPE: %.*s", (int)len, line);
    const char *name = line + 7;
    size_t nlen = metric_name_len(name);
    if (nlen == 0 || 7 + nlen >= len || name[nlen] != ' ')
        fail_msg("bad metric name in: %.*s", (int)len, line);
    const char *text = name + nlen + 1;
    size_t tlen = len - 7 - nlen - 1;
    pfamily *f = family_of(p, name, nlen);
    if (help) {
        if (f)
            fail_msg("second HELP (or HELP after TYPE) for %s", f->name);
        f = family_new(p, name, nlen);
        for (size_t i = 0; i < tlen; i++)
            if (text[i] == '\\' && (i + 1 == tlen || (text[i + 1] != '\\' && text[i + 1] != 'n')))
                fail_msg("bad escape in HELP of %s", f->name);
            else if (text[i] == '\\')
                i++;
        assert_true(valid_utf8((const unsigned char *)text, tlen));
        f->help = dupn(text, tlen);
        *current = f->name;
    } else {
        if (!f || !f->help)
            fail_msg("TYPE before HELP: %.*s", (int)len, line);
        if (f->type)
            fail_msg("second TYPE for %s", f->name);
        if (f->samples)
            fail_msg("TYPE after samples for %s", f->name);
        if (strcmp(*current, f->name) != 0)
            fail_msg("TYPE of %s separated from its HELP", f->name);
        f->type = dupn(text, tlen);
        if (strcmp(f->type, "gauge") != 0 && strcmp(f->type, "counter") != 0 && strcmp(f->type, "untyped") != 0)
            fail_msg("unexpected type %s for %s", f->type, f->name);
    }
}

/* name{l="v",...} value */
static void parse_sample(parsed *p, const char *line, size_t len, const char *current)
{
    size_t nlen = metric_name_len(line);
    if (nlen == 0)
        fail_msg("bad metric name: %.*s", (int)len, line);
    pfamily *f = family_of(p, line, nlen);
    if (!f || !f->help || !f->type)
        fail_msg("sample without HELP and TYPE before it: %.*s", (int)len, line);
    if (!current || strcmp(current, f->name) != 0)
        fail_msg("sample of %s outside its family's block", f->name);
    f->samples++;

    p->s = realloc(p->s, (p->n + 1) * sizeof *p->s);
    assert_non_null(p->s);
    psample *s = &p->s[p->n++];
    memset(s, 0, sizeof *s);
    s->name = dupn(line, nlen);

    size_t i = nlen;
    if (i < len && line[i] == '{') {
        i++;
        while (i < len && line[i] != '}') {
            size_t ln = label_name_len(line + i);
            if (ln == 0)
                fail_msg("bad label name at %zu: %.*s", i, (int)len, line);
            if (s->n_labels == LABELS_MAX)
                fail_msg("too many labels: %.*s", (int)len, line);
            char *lname = dupn(line + i, ln);
            for (size_t j = 0; j < s->n_labels; j++)
                if (strcmp(s->lname[j], lname) == 0)
                    fail_msg("label %s twice: %.*s", lname, (int)len, line);
            s->lname[s->n_labels] = lname;
            i += ln;
            if (i + 1 >= len || line[i] != '=' || line[i + 1] != '"')
                fail_msg("expected =\" at %zu: %.*s", i, (int)len, line);
            i += 2;
            char *v = malloc(len + 1);
            assert_non_null(v);
            size_t vn = 0;
            for (;; i++) {
                if (i >= len)
                    fail_msg("unterminated label value: %.*s", (int)len, line);
                if (line[i] == '"')
                    break;
                if (line[i] == '\\') {
                    i++;
                    if (i < len && line[i] == '\\')
                        v[vn++] = '\\';
                    else if (i < len && line[i] == '"')
                        v[vn++] = '"';
                    else if (i < len && line[i] == 'n')
                        v[vn++] = '\n';
                    else
                        fail_msg("bad escape in label value: %.*s", (int)len, line);
                } else {
                    v[vn++] = line[i];
                }
            }
            v[vn] = '\0';
            if (!valid_utf8((const unsigned char *)v, vn))
                fail_msg("label value is not UTF-8: %.*s", (int)len, line);
            s->lvalue[s->n_labels++] = v;
            i++; /* closing quote */
            if (i < len && line[i] == ',')
                i++;
            else if (i >= len || line[i] != '}')
                fail_msg("expected , or } at %zu: %.*s", i, (int)len, line);
        }
        if (i >= len)
            fail_msg("unterminated label set: %.*s", (int)len, line);
        i++;
    }
    s->key = dupn(line, i);
    if (i >= len || line[i] != ' ')
        fail_msg("expected a space before the value: %.*s", (int)len, line);
    i++;
    char *num = dupn(line + i, len - i);
    char *end = NULL;
    s->value = strtod(num, &end);
    if (end == num || *end != '\0')
        fail_msg("bad value \"%s\" (or a timestamp): %.*s", num, (int)len, line);
    free(num);

    /* what this renderer promises on top of the format */
    if (!isfinite(s->value) || s->value < 0)
        fail_msg("negative or non-finite value: %.*s", (int)len, line);
    if (s->n_labels == 0 || strcmp(s->lname[0], "node") != 0)
        fail_msg("sample without a leading node label: %.*s", (int)len, line);
    for (size_t k = 0; k + 1 < p->n; k++)
        if (strcmp(p->s[k].key, s->key) == 0)
            fail_msg("duplicate series %s", s->key);
}

/* Parse an exposition, failing the test on anything invalid. */
static void parse(const char *text, size_t len, parsed *p)
{
    memset(p, 0, sizeof *p);
    assert_int_equal(strlen(text), len);
    if (len == 0)
        return;
    if (text[len - 1] != '\n')
        fail_msg("exposition does not end with a newline");
    const char *current = NULL;
    for (const char *line = text; line < text + len;) {
        const char *nl = memchr(line, '\n', (size_t)(text + len - line));
        size_t n = (size_t)(nl - line);
        if (n == 0)
            fail_msg("empty line");
        if (line[0] == '#')
            parse_meta(p, line, n, &current);
        else
            parse_sample(p, line, n, current);
        line = nl + 1;
    }
    for (size_t i = 0; i < p->nf; i++) {
        if (!p->f[i].type)
            fail_msg("HELP without TYPE for %s", p->f[i].name);
        if (p->f[i].samples == 0)
            fail_msg("family %s without samples", p->f[i].name);
    }
}

/* The sample `name` with exactly the labels given as name, value pairs after it (NULL-terminated). */
static const psample *find(const parsed *p, const char *name, ...)
{
    const char *k[LABELS_MAX], *v[LABELS_MAX];
    size_t n = 0;
    va_list ap;
    va_start(ap, name);
    for (const char *key; (key = va_arg(ap, const char *)) != NULL && n < LABELS_MAX; n++) {
        k[n] = key;
        v[n] = va_arg(ap, const char *);
    }
    va_end(ap);
    for (size_t i = 0; i < p->n; i++) {
        const psample *s = &p->s[i];
        if (strcmp(s->name, name) != 0 || s->n_labels != n)
            continue;
        size_t m = 0;
        for (size_t a = 0; a < n; a++)
            for (size_t b = 0; b < s->n_labels; b++)
                if (strcmp(k[a], s->lname[b]) == 0 && strcmp(v[a], s->lvalue[b]) == 0)
                    m++;
        if (m == n)
            return s;
    }
    return NULL;
}

static size_t count(const parsed *p, const char *name)
{
    size_t c = 0;
    for (size_t i = 0; i < p->n; i++)
        c += strcmp(p->s[i].name, name) == 0;
    return c;
}

/* Samples of `name` whose label `lname` is `lvalue`. */
static size_t count_with(const parsed *p, const char *name, const char *lname, const char *lvalue)
{
    size_t c = 0;
    for (size_t i = 0; i < p->n; i++)
        for (size_t j = 0; strcmp(p->s[i].name, name) == 0 && j < p->s[i].n_labels; j++)
            c += strcmp(p->s[i].lname[j], lname) == 0 && strcmp(p->s[i].lvalue[j], lvalue) == 0;
    return c;
}

static int has_family(const parsed *p, const char *name)
{
    for (size_t i = 0; i < p->nf; i++)
        if (strcmp(p->f[i].name, name) == 0)
            return 1;
    return 0;
}

#define VAL(p, ...) value_of(find(p, __VA_ARGS__, NULL), #__VA_ARGS__)

static double value_of(const psample *s, const char *what)
{
    if (!s)
        fail_msg("no sample %s", what);
    return s->value;
}

/* ---- fixtures ---- */

typedef struct {
    bp_snapshot *snap[3];
    bp_config cfg;
    bp_report rep[3];
    bp_prom_buf out;
    parsed p;
} fx;

static int setup(void **state)
{
    static fx f;
    memset(&f, 0, sizeof f);
    fixture_config(&f.cfg);
    for (int i = 0; i < 3; i++) {
        f.snap[i] = fixture_snapshot();
        if (!f.snap[i])
            return -1;
    }
    f.snap[1]->node = "app@host2";
    f.snap[1]->process_count = 1234;
    f.snap[2]->node = "app@host3";
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    for (int i = 0; i < 3; i++)
        bp_snapshot_free(f->snap[i]);
    bp_prom_buf_free(&f->out);
    parsed_free(&f->p);
    return 0;
}

static void evaluate(fx *f, int i)
{
    assert_int_equal(bp_evaluate(f->snap[i], &f->cfg, &f->rep[i]), 0);
}

/* Render nodes into f->out (reset first) and parse the result into f->p. */
static parsed *render(fx *f, const bp_prom_node *nodes, size_t n, unsigned flags)
{
    bp_prom_buf_reset(&f->out);
    parsed_free(&f->p);
    assert_int_equal(bp_render_prom_multi(&f->out, nodes, n, flags), 0);
    parse(f->out.p ? f->out.p : "", f->out.len, &f->p);
    return &f->p;
}

static bp_prom_node node_of(const bp_report *r, int up, double age)
{
    bp_prom_node n = {.report = r, .node = NULL, .up = up, .age_seconds = age, .duration_seconds = 0};
    return n;
}

/* ---- tests ---- */

static void one_node_values(void **state)
{
    fx *f = *state;
    evaluate(f, 0);
    bp_prom_node n = node_of(&f->rep[0], 1, 1.5);
    parsed *p = render(f, &n, 1, 0);
    const char *N = "app@host1";

    assert_true(VAL(p, "beamprobe_up", "node", N) == 1);
    assert_true(VAL(p, "beamprobe_info", "node", N, "otp_release", "25", "erts_version", "13.1.5", "version",
                    BP_VERSION) == 1);
    assert_true(VAL(p, "beamprobe_report_incomplete", "node", N) == 0);
    assert_true(fabs(VAL(p, "beamprobe_probe_duration_seconds", "node", N) - 0.0023) < 1e-12);
    assert_true(VAL(p, "beamprobe_vm_uptime_seconds", "node", N) == 7380);
    assert_true(VAL(p, "beamprobe_memory_limit_bytes", "node", N, "source", "cgroup") == 1073741824.0);
    assert_true(VAL(p, "beamprobe_cgroup_memory_limit_bytes", "node", N) == 1073741824.0);
    assert_true(VAL(p, "beamprobe_cgroup_memory_usage_bytes", "node", N) == 314572800.0);
    assert_true(VAL(p, "beamprobe_visible_nodes", "node", N) == 2);
    assert_true(VAL(p, "beamprobe_hidden_nodes", "node", N) == 1);
    assert_true(VAL(p, "beamprobe_report_age_seconds", "node", N) == 1.5);

    assert_true(VAL(p, "erlang_vm_memory_bytes", "node", N, "kind", "system") == 146800640.0);
    assert_true(VAL(p, "erlang_vm_memory_bytes", "node", N, "kind", "processes") == 62914560.0);
    assert_int_equal(count(p, "erlang_vm_memory_bytes"), 2);
    assert_true(VAL(p, "erlang_vm_memory_processes_bytes", "node", N, "usage", "used") == 61865984.0);
    assert_true(VAL(p, "erlang_vm_memory_processes_bytes", "node", N, "usage", "free") == 1048576.0);
    assert_true(VAL(p, "erlang_vm_memory_system_bytes", "node", N, "usage", "atom") == 1048576.0);
    assert_true(VAL(p, "erlang_vm_memory_system_bytes", "node", N, "usage", "binary") == 20971520.0);
    assert_true(VAL(p, "erlang_vm_memory_system_bytes", "node", N, "usage", "code") == 31457280.0);
    assert_true(VAL(p, "erlang_vm_memory_system_bytes", "node", N, "usage", "ets") == 5242880.0);
    assert_true(VAL(p, "erlang_vm_memory_system_bytes", "node", N, "usage", "other") == 88080384.0);
    assert_true(VAL(p, "erlang_vm_memory_atom_bytes", "node", N, "usage", "used") == 921600.0);
    assert_true(VAL(p, "erlang_vm_memory_atom_bytes", "node", N, "usage", "free") == 126976.0);
    assert_true(VAL(p, "erlang_vm_memory_ets_tables", "node", N) == 40);
    assert_true(VAL(p, "erlang_vm_processes", "node", N) == 300);
    assert_true(VAL(p, "erlang_vm_process_limit", "node", N) == 262144);
    assert_true(VAL(p, "erlang_vm_ports", "node", N) == 50);
    assert_true(VAL(p, "erlang_vm_port_limit", "node", N) == 65536);
    assert_true(VAL(p, "erlang_vm_atoms", "node", N) == 20000);
    assert_true(VAL(p, "erlang_vm_atom_limit", "node", N) == 1048576);
    assert_true(VAL(p, "erlang_vm_ets_limit", "node", N) == 8192);
    assert_true(VAL(p, "erlang_vm_schedulers_online", "node", N) == 4);
    assert_true(VAL(p, "erlang_vm_dirty_cpu_schedulers_online", "node", N) == 4);
    assert_true(VAL(p, "erlang_vm_dirty_io_schedulers", "node", N) == 10);
    /* statistics(run_queue) = normal (2) + dirty CPU (0) */
    assert_true(VAL(p, "erlang_vm_statistics_run_queues_length", "node", N) == 2);
    assert_true(VAL(p, "erlang_vm_statistics_dirty_cpu_run_queue_length", "node", N) == 0);
    assert_true(VAL(p, "erlang_vm_statistics_dirty_io_run_queue_length", "node", N) == 1);

    /* every family is a gauge and the age family comes last */
    for (size_t i = 0; i < p->nf; i++)
        assert_string_equal(p->f[i].type, "gauge");
    assert_string_equal(p->f[p->nf - 1].name, "beamprobe_report_age_seconds");
    assert_string_equal(p->f[0].name, "beamprobe_up");
}

static void state_sets(void **state)
{
    fx *f = *state;
    f->snap[0]->run_queue = 9; /* 2.25 per scheduler: warn */
    evaluate(f, 0);
    assert_int_equal(f->rep[0].status, BP_WARN);
    bp_prom_node n = node_of(&f->rep[0], 1, 0);
    parsed *p = render(f, &n, 1, 0);
    const char *N = "app@host1";

    assert_true(VAL(p, "beamprobe_health_status", "node", N, "status", "healthy") == 0);
    assert_true(VAL(p, "beamprobe_health_status", "node", N, "status", "degraded") == 1);
    assert_true(VAL(p, "beamprobe_health_status", "node", N, "status", "unhealthy") == 0);
    assert_int_equal(count(p, "beamprobe_health_status"), 3);

    assert_int_equal(count(p, "beamprobe_check_status"), 3 * f->rep[0].n_checks);
    for (size_t i = 0; i < f->rep[0].n_checks; i++) {
        const bp_check *c = &f->rep[0].checks[i];
        for (bp_status st = BP_PASS; st <= BP_FAIL; st++)
            assert_true(VAL(p, "beamprobe_check_status", "node", N, "check", c->name, "status", bp_status_name(st)) ==
                        (c->status == st ? 1 : 0));
    }
    assert_true(VAL(p, "beamprobe_check_status", "node", N, "check", "schedulers", "status", "warn") == 1);
    assert_true(VAL(p, "beamprobe_check_status", "node", N, "check", "memory", "status", "pass") == 1);
    assert_true(VAL(p, "beamprobe_check_status", "node", N, "check", "governor:cost_guard", "status", "pass") == 1);
    assert_true(VAL(p, "erlang_vm_statistics_run_queues_length", "node", N) == 9);

    /* a governor's state set: the configured warn and fail states, and its own */
    assert_true(VAL(p, "beamprobe_governor_state", "node", N, "governor", "cost_guard", "state", "stable") == 1);
    assert_true(VAL(p, "beamprobe_governor_state", "node", N, "governor", "cost_guard", "state", "refusing") == 0);
    assert_true(VAL(p, "beamprobe_governor_state", "node", N, "governor", "cost_guard", "state", "warning") == 0);
    assert_int_equal(count(p, "beamprobe_governor_state"), 5); /* 2 warn + 2 fail states + stable */
    f->snap[0]->governors[0].state = "refusing";
    evaluate(f, 0);
    p = render(f, &n, 1, 0);
    assert_true(VAL(p, "beamprobe_governor_state", "node", N, "governor", "cost_guard", "state", "refusing") == 1);
    assert_int_equal(count(p, "beamprobe_governor_state"), 4);
}

/* One series per peer: 1 for those in nodes(), 0 for expected ones missing (first), capped. */
static void peer_series(void **state)
{
    fx *f = *state;
    fixture_list_add(&f->cfg.expect_peers, "app@host2");
    fixture_list_add(&f->cfg.expect_peers, "app@host9");
    f->cfg.peer_series_max = 256;
    evaluate(f, 0);
    bp_prom_node n = node_of(&f->rep[0], 1, 0);
    parsed *p = render(f, &n, 1, 0);
    const char *N = "app@host1";
    assert_true(VAL(p, "beamprobe_peer_connected", "node", N, "peer", "app@host2") == 1);
    assert_true(VAL(p, "beamprobe_peer_connected", "node", N, "peer", "app@host3") == 1);
    assert_true(VAL(p, "beamprobe_peer_connected", "node", N, "peer", "app@host9") == 0);
    assert_int_equal(count(p, "beamprobe_peer_connected"), 3);
    f->cfg.peer_series_max = 1; /* the missing peer comes first */
    evaluate(f, 0);
    p = render(f, &n, 1, 0);
    assert_int_equal(count(p, "beamprobe_peer_connected"), 1);
    assert_true(VAL(p, "beamprobe_peer_connected", "node", N, "peer", "app@host9") == 0);
    f->cfg.expect_peers.n = 0;
}

static void two_nodes(void **state)
{
    fx *f = *state;
    evaluate(f, 0);
    evaluate(f, 1);
    bp_prom_node n[2] = {node_of(&f->rep[0], 1, 0.5), node_of(&f->rep[1], 1, 2.0)};
    n[1].duration_seconds = 0.25;
    parsed *p = render(f, n, 2, 0);

    /* each family once, with both nodes' samples in its block (the parser checks the blocks) */
    for (size_t i = 0; i < p->nf; i++) {
        assert_int_equal(count_with(p, p->f[i].name, "node", "app@host1"),
                         count_with(p, p->f[i].name, "node", "app@host2"));
        assert_true(count_with(p, p->f[i].name, "node", "app@host1") > 0);
    }
    assert_true(VAL(p, "erlang_vm_processes", "node", "app@host1") == 300);
    assert_true(VAL(p, "erlang_vm_processes", "node", "app@host2") == 1234);
    assert_true(VAL(p, "beamprobe_report_age_seconds", "node", "app@host2") == 2.0);
    assert_true(VAL(p, "beamprobe_probe_duration_seconds", "node", "app@host2") == 0.25);
    assert_true(fabs(VAL(p, "beamprobe_probe_duration_seconds", "node", "app@host1") - 0.0023) < 1e-12);

    /* the node label of the entry wins over the snapshot's */
    n[1].node = "alias@elsewhere";
    p = render(f, n, 2, 0);
    assert_true(VAL(p, "beamprobe_up", "node", "alias@elsewhere") == 1);
    assert_int_equal(count_with(p, "beamprobe_up", "node", "app@host2"), 0);

    /* ... until the node stated a name of its own (serve --node app@10.0.0.5): the label is that name */
    n[1].node = "app@10.0.0.5";
    f->snap[1]->node = "app@10.0.0.5";
    assert_int_equal(bp_snapshot_set_node(f->snap[1], "app@pod-0"), 0);
    p = render(f, n, 2, 0);
    assert_true(VAL(p, "beamprobe_up", "node", "app@pod-0") == 1);
    assert_true(VAL(p, "erlang_vm_processes", "node", "app@pod-0") == 1234);
    assert_int_equal(count_with(p, "beamprobe_up", "node", "app@10.0.0.5"), 0);
}

static void node_without_report(void **state)
{
    fx *f = *state;
    bp_prom_node n = {.report = NULL, .node = "app@host9", .up = 0, .age_seconds = 12.5, .duration_seconds = 1};
    parsed *p = render(f, &n, 1, 0);
    assert_int_equal(p->nf, 2);
    assert_string_equal(p->f[0].name, "beamprobe_up");
    assert_string_equal(p->f[1].name, "beamprobe_report_age_seconds");
    assert_true(VAL(p, "beamprobe_up", "node", "app@host9") == 0);
    assert_true(VAL(p, "beamprobe_report_age_seconds", "node", "app@host9") == 12.5);
    assert_int_equal(p->n, 2);

    /* no age known: beamprobe_up alone */
    n.age_seconds = -1;
    p = render(f, &n, 1, 0);
    assert_int_equal(p->nf, 1);
    assert_int_equal(p->n, 1);
    n.age_seconds = NAN;
    p = render(f, &n, 1, 0);
    assert_int_equal(p->n, 1);

    /* next to a node with a report: still one block per family */
    evaluate(f, 0);
    bp_prom_node both[2] = {n, node_of(&f->rep[0], 1, 3)};
    both[0].age_seconds = 7;
    p = render(f, both, 2, 0);
    assert_int_equal(count(p, "beamprobe_up"), 2);
    assert_int_equal(count(p, "beamprobe_report_age_seconds"), 2);
    assert_int_equal(count_with(p, "erlang_vm_processes", "node", "app@host9"), 0);
    assert_int_equal(count_with(p, "beamprobe_health_status", "node", "app@host9"), 0);
    assert_true(VAL(p, "beamprobe_up", "node", "app@host1") == 1);

    /* the single-node call */
    bp_prom_buf_reset(&f->out);
    assert_int_equal(bp_render_prom(&f->out, NULL, 0, 4), 0);
    parsed_free(&f->p);
    parse(f->out.p, f->out.len, &f->p);
    assert_true(VAL(&f->p, "beamprobe_up", "node", "") == 0);
    assert_true(VAL(&f->p, "beamprobe_report_age_seconds", "node", "") == 4);
}

static void down_node_with_report(void **state)
{
    fx *f = *state;
    bp_snapshot *s = f->snap[0];
    bp_fact_fail(s, &s->connect, BP_FACT_ERROR, "node not registered with EPMD");
    s->identity.state = s->memory.state = s->limits.state = s->schedulers.state = BP_FACT_UNSET;
    s->membership.state = s->cgroup.state = s->applications.state = BP_FACT_UNSET;
    evaluate(f, 0);
    bp_prom_node n = node_of(&f->rep[0], 0, 0.1);
    parsed *p = render(f, &n, 1, 0);
    assert_true(VAL(p, "beamprobe_up", "node", "app@host1") == 0);
    assert_true(VAL(p, "beamprobe_health_status", "node", "app@host1", "status", "unhealthy") == 1);
    assert_true(VAL(p, "beamprobe_check_status", "node", "app@host1", "check", "connection", "status", "fail") == 1);
    for (size_t i = 0; i < p->nf; i++)
        if (strncmp(p->f[i].name, "erlang_vm_", 10) == 0)
            fail_msg("VM family %s for a node that did not connect", p->f[i].name);
    assert_false(has_family(p, "beamprobe_info"));
    assert_false(has_family(p, "beamprobe_vm_uptime_seconds"));
    assert_false(has_family(p, "beamprobe_cgroup_memory_usage_bytes"));
}

static void unknown_values_omitted(void **state)
{
    fx *f = *state;
    bp_snapshot *s = f->snap[0];
    s->limits.state = BP_FACT_TIMEOUT;        /* every limit family goes */
    s->cgroup_limit = -1;                     /* unlimited: no limit sample, usage stays */
    s->dirty_cpu_run_queue = -1;              /* run_queues_length needs it too */
    s->uptime_ms = -1;
    s->duration_us = -1;
    fixture_memory_set(s, "atom_used", -1);   /* atom used/free go, system{usage="atom"} stays */
    fixture_memory_set(s, "code", -1);        /* system{usage="code"} and "other" go */
    evaluate(f, 0);
    f->rep[0].memory_limit = -1;
    bp_prom_node n = node_of(&f->rep[0], 1, -1);
    parsed *p = render(f, &n, 1, 0);
    const char *N = "app@host1";

    static const char *const gone[] = {
        "erlang_vm_processes", "erlang_vm_process_limit", "erlang_vm_ports", "erlang_vm_port_limit",
        "erlang_vm_atoms", "erlang_vm_atom_limit", "erlang_vm_ets_limit", "erlang_vm_memory_ets_tables",
        "beamprobe_cgroup_memory_limit_bytes", "erlang_vm_statistics_run_queues_length",
        "erlang_vm_statistics_dirty_cpu_run_queue_length", "beamprobe_vm_uptime_seconds",
        "beamprobe_probe_duration_seconds", "erlang_vm_memory_atom_bytes", "beamprobe_memory_limit_bytes",
        "beamprobe_report_age_seconds",
    };
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        if (has_family(p, gone[i]))
            fail_msg("%s rendered although unknown", gone[i]);
    assert_true(VAL(p, "beamprobe_cgroup_memory_usage_bytes", "node", N) == 314572800.0);
    assert_true(VAL(p, "erlang_vm_statistics_dirty_io_run_queue_length", "node", N) == 1);
    assert_true(VAL(p, "erlang_vm_memory_system_bytes", "node", N, "usage", "atom") == 1048576.0);
    assert_null(find(p, "erlang_vm_memory_system_bytes", "node", N, "usage", "code", NULL));
    assert_null(find(p, "erlang_vm_memory_system_bytes", "node", N, "usage", "other", NULL));
    assert_int_equal(count(p, "erlang_vm_memory_system_bytes"), 3);
    assert_null(strstr(f->out.p, "-1"));

    /* the whole memory group failed */
    bp_fact_fail(s, &s->memory, BP_FACT_ERROR, "badrpc");
    s->cgroup.state = BP_FACT_ERROR;
    p = render(f, &n, 1, 0);
    for (size_t i = 0; i < p->nf; i++)
        if (strncmp(p->f[i].name, "erlang_vm_memory_", 17) == 0 || strncmp(p->f[i].name, "beamprobe_cgroup", 16) == 0)
            fail_msg("%s rendered although memory and cgroup are unknown", p->f[i].name);
    assert_true(has_family(p, "erlang_vm_schedulers_online"));
}

/* process_open_fds / process_max_fds: only from snapshots that know them (built inside the VM). */
static void fds_families(void **state)
{
    fx *f = *state;
    evaluate(f, 0);
    bp_prom_node n[2] = {node_of(&f->rep[0], 1, 0.5), node_of(&f->rep[1], 1, 0.5)};
    parsed *p = render(f, n, 1, 0);
    assert_false(has_family(p, "process_open_fds")); /* a remote probe */
    assert_false(has_family(p, "process_max_fds"));
    assert_null(strstr(f->out.p, "fds"));

    fixture_fds(f->snap[0], 42, 1024);
    evaluate(f, 0);
    p = render(f, n, 1, 0);
    const char *N = "app@host1";
    assert_true(VAL(p, "process_open_fds", "node", N) == 42);
    assert_true(VAL(p, "process_max_fds", "node", N) == 1024);
    assert_int_equal(count(p, "process_open_fds"), 1);
    assert_int_equal(count(p, "process_max_fds"), 1);
    assert_non_null(strstr(f->out.p, "# HELP process_open_fds Number of open file descriptors.\n"
                                      "# TYPE process_open_fds gauge\n"
                                      "process_open_fds{node=\"app@host1\"} 42\n"
                                      "# HELP process_max_fds Maximum number of open file descriptors.\n"
                                      "# TYPE process_max_fds gauge\n"
                                      "process_max_fds{node=\"app@host1\"} 1024\n"
                                      "# HELP beamprobe_report_age_seconds "));

    /* one known fact is enough for its family; nodes that do not know are left out */
    fixture_fds(f->snap[0], 42, -1);
    fixture_fds(f->snap[1], 7, 2048);
    evaluate(f, 0);
    evaluate(f, 1);
    p = render(f, n, 2, 0);
    assert_true(VAL(p, "process_open_fds", "node", N) == 42);
    assert_true(VAL(p, "process_open_fds", "node", "app@host2") == 7);
    assert_true(VAL(p, "process_max_fds", "node", "app@host2") == 2048);
    assert_int_equal(count(p, "process_max_fds"), 1);
    assert_null(strstr(f->out.p, "-1"));

    /* the old prometheus.erl names do not touch them */
    p = render(f, n, 2, BP_PROM_PRE6_NAMES);
    assert_true(has_family(p, "process_open_fds"));
    assert_true(has_family(p, "process_max_fds"));
}

static void escaping(void **state)
{
    fx *f = *state;
    evaluate(f, 0);
    evaluate(f, 1);
    /* checks with odd names, one name twice */
    f->rep[0].checks[0].name = "odd \"check\"\\\nname:\xc3"; /* truncated UTF-8 at the end */
    f->rep[0].checks[1].name = "custom:dup";
    f->rep[0].checks[2].name = "custom:dup";
    f->rep[0].checks[3].name = "";
    bp_prom_node n[2] = {node_of(&f->rep[0], 1, 1), node_of(&f->rep[1], 1, 1)};
    n[0].node = "we\"ird\\no\nde@h\xff\xfe st\xc3\xa9";
    n[1].node = "{}=,\" \t#@x";
    parsed *p = render(f, n, 2, 0);

    const char *want0 = "we\"ird\\no\nde@h\xEF\xBF\xBD\xEF\xBF\xBD st\xc3\xa9";
    assert_true(VAL(p, "beamprobe_up", "node", want0) == 1);
    assert_true(VAL(p, "beamprobe_up", "node", "{}=,\" \t#@x") == 1);
    assert_non_null(find(p, "beamprobe_check_status", "node", want0, "check", "odd \"check\"\\\nname:\xEF\xBF\xBD",
                         "status", "pass", NULL));
    assert_non_null(find(p, "beamprobe_check_status", "node", want0, "check", "custom:dup", "status", "pass", NULL));
    assert_non_null(find(p, "beamprobe_check_status", "node", want0, "check", "custom:dup#2", "status", "pass", NULL));
    assert_non_null(find(p, "beamprobe_check_status", "node", want0, "check", "", "status", "pass", NULL));
    assert_int_equal(count_with(p, "beamprobe_check_status", "node", want0), 3 * f->rep[0].n_checks);
    /* the escapes as written */
    assert_non_null(strstr(f->out.p, "node=\"we\\\"ird\\\\no\\nde@h\xEF\xBF\xBD\xEF\xBF\xBD st\xc3\xa9\""));
}

static void duplicate_nodes_skipped(void **state)
{
    fx *f = *state;
    evaluate(f, 0);
    evaluate(f, 1);
    bp_prom_node n[3] = {node_of(&f->rep[0], 1, 1), node_of(&f->rep[1], 0, 2), node_of(NULL, 0, 3)};
    n[1].node = "app@host1";
    n[2].node = "app@host1";
    parsed *p = render(f, n, 3, 0);
    assert_int_equal(count(p, "beamprobe_up"), 1);
    assert_true(VAL(p, "beamprobe_up", "node", "app@host1") == 1);
    assert_true(VAL(p, "erlang_vm_processes", "node", "app@host1") == 300);
    assert_true(VAL(p, "beamprobe_report_age_seconds", "node", "app@host1") == 1);
    /* two invalid byte sequences that clean up to the same label are duplicates too */
    n[0].node = "a\xff";
    n[1].node = "a\xfe";
    p = render(f, n, 2, 0);
    assert_int_equal(count(p, "beamprobe_up"), 1);
}

static void split_rendering(void **state)
{
    fx *f = *state;
    evaluate(f, 0);
    evaluate(f, 1);
    bp_prom_node n[3] = {node_of(&f->rep[0], 1, 0.5), node_of(NULL, 0, 9.75), node_of(&f->rep[1], 1, 1.25)};
    n[1].node = "app@host9";
    bp_prom_buf whole = {0}, part = {0};
    assert_int_equal(bp_render_prom_multi(&whole, n, 3, 0), 0);
    assert_int_equal(bp_render_prom_multi(&part, n, 3, BP_PROM_NO_AGE), 0);
    assert_null(strstr(part.p, "beamprobe_report_age_seconds"));
    size_t pre = part.len;
    assert_int_equal(bp_render_prom_ages(&part, n, 3), 0);
    assert_true(part.len > pre);
    assert_int_equal(part.len, whole.len);
    assert_memory_equal(part.p, whole.p, whole.len);
    /* and it is the same every time, appended to whatever came before */
    part.len = pre;
    part.p[pre] = '\0';
    n[0].age_seconds = 100;
    assert_int_equal(bp_render_prom_ages(&part, n, 3), 0);
    parse(part.p, part.len, &f->p);
    assert_true(VAL(&f->p, "beamprobe_report_age_seconds", "node", "app@host1") == 100);
    assert_true(VAL(&f->p, "beamprobe_report_age_seconds", "node", "app@host9") == 9.75);

    /* ages alone: a complete family, or nothing at all */
    bp_prom_buf ages = {0};
    assert_int_equal(bp_render_prom_ages(&ages, n, 3), 0);
    parsed_free(&f->p);
    parse(ages.p, ages.len, &f->p);
    assert_int_equal(f->p.nf, 1);
    assert_int_equal(f->p.n, 3);
    bp_prom_buf_reset(&ages);
    for (int i = 0; i < 3; i++)
        n[i].age_seconds = -1;
    assert_int_equal(bp_render_prom_ages(&ages, n, 3), 0);
    assert_int_equal(ages.len, 0);
    assert_int_equal(bp_render_prom_ages(&ages, NULL, 0), 0);
    assert_int_equal(ages.len, 0);
    bp_prom_buf_free(&ages);
    bp_prom_buf_free(&whole);
    bp_prom_buf_free(&part);
}

static void pre6_names(void **state)
{
    fx *f = *state;
    evaluate(f, 0);
    bp_prom_node n = node_of(&f->rep[0], 1, 0.5);
    parsed *p = render(f, &n, 1, BP_PROM_PRE6_NAMES);
    static const char *const old[] = {"erlang_vm_memory_bytes_total", "erlang_vm_memory_processes_bytes_total",
                                      "erlang_vm_memory_system_bytes_total", "erlang_vm_memory_atom_bytes_total",
                                      "erlang_vm_process_count", "erlang_vm_port_count", "erlang_vm_atom_count"};
    static const char *const now[] = {"erlang_vm_memory_bytes", "erlang_vm_memory_processes_bytes",
                                      "erlang_vm_memory_system_bytes", "erlang_vm_memory_atom_bytes",
                                      "erlang_vm_processes", "erlang_vm_ports", "erlang_vm_atoms"};
    for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) {
        assert_true(has_family(p, old[i]));
        assert_false(has_family(p, now[i]));
    }
    assert_true(VAL(p, "erlang_vm_process_count", "node", "app@host1") == 300);
    assert_true(has_family(p, "erlang_vm_process_limit"));
    assert_true(has_family(p, "erlang_vm_memory_ets_tables"));
}

static void appends_and_usage(void **state)
{
    fx *f = *state;
    evaluate(f, 0);
    bp_prom_node n = node_of(&f->rep[0], 1, 0.5);
    bp_prom_buf b = {0};
    assert_int_equal(bp_render_prom_multi(&b, &n, 1, 0), 0);
    size_t one = b.len;
    char *first = strdup(b.p);
    assert_non_null(first);
    assert_int_equal(bp_render_prom_multi(&b, &n, 1, 0), 0); /* appends, never overwrites */
    assert_int_equal(b.len, 2 * one);
    assert_memory_equal(b.p + one, first, one);
    assert_int_equal(strlen(b.p), b.len);
    free(first);

    assert_int_equal(bp_render_prom_multi(NULL, &n, 1, 0), BP_EUSAGE);
    assert_int_equal(bp_render_prom_multi(&b, NULL, 1, 0), BP_EUSAGE);
    assert_int_equal(bp_render_prom_ages(NULL, &n, 1), BP_EUSAGE);
    assert_int_equal(bp_render_prom_multi(&b, NULL, 0, 0), 0);
    assert_int_equal(b.len, 2 * one);

    bp_prom_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.p, "");
    bp_prom_buf_free(&b);
    bp_prom_buf_free(&b);
    bp_prom_buf_free(NULL);
    bp_prom_buf_reset(NULL);
    assert_null(b.p);

    /* the one-node call names the node after its snapshot */
    assert_int_equal(bp_render_prom(&b, &f->rep[0], 1, 2), 0);
    parse(b.p, b.len, &f->p);
    assert_true(VAL(&f->p, "beamprobe_up", "node", "app@host1") == 1);
    assert_true(VAL(&f->p, "beamprobe_report_age_seconds", "node", "app@host1") == 2);
    bp_prom_buf_free(&b);
}

/*
 * With BP_PROM_OUT=FILE, write a demanding exposition (three nodes, odd names,
 * unknown values, a node without a report) for `promtool check metrics < FILE`.
 */
static void write_for_promtool(void **state)
{
    fx *f = *state;
    const char *path = getenv("BP_PROM_OUT");
    f->snap[1]->schedulers.state = BP_FACT_TIMEOUT;
    f->snap[1]->cgroup_limit = -1;
    fixture_fds(f->snap[0], 42, 1024); /* as the NIF sees them; one known fact on node 1 */
    fixture_fds(f->snap[1], 7, -1);
    evaluate(f, 0);
    evaluate(f, 1);
    f->rep[1].checks[0].name = "odd \"check\"\\\nname\xc3";
    f->rep[1].checks[2].name = f->rep[1].checks[1].name;
    bp_prom_node n[3] = {node_of(&f->rep[0], 1, 0.5), node_of(&f->rep[1], 1, 1.75), node_of(NULL, 0, 30)};
    n[1].node = "we\"ird\\no\nde@h\xff st\xc3\xa9";
    n[2].node = "app@host9";
    parsed *p = render(f, n, 3, 0);
    assert_true(p->n > 100);
    if (!path || !*path)
        return;
    FILE *out = fopen(path, "w");
    if (!out)
        fail_msg("cannot write %s", path);
    assert_int_equal(fwrite(f->out.p, 1, f->out.len, out), f->out.len);
    assert_int_equal(fclose(out), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(one_node_values),
        T(state_sets),
        T(peer_series),
        T(two_nodes),
        T(node_without_report),
        T(down_node_with_report),
        T(unknown_values_omitted),
        T(fds_families),
        T(escaping),
        T(duplicate_nodes_skipped),
        T(split_rendering),
        T(pre6_names),
        T(appends_and_usage),
        T(write_for_promtool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

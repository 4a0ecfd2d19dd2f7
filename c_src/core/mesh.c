/* mesh.c: pure cluster-mesh analysis: connectivity matrix, partitions, asymmetry, quorum and verdict. */
#include "core/mesh.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"

#define REASON_MAX 1024
#define REASON_NAMES 4      /* names listed per group in a reason before "+N more" */
#define REASON_PARTITIONS 4 /* partitions listed in a reason */

/* ---- small helpers ---- */

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The node's own name once its snapshot learned it, else the name it was probed by. */
static const char *input_name(const bp_mesh_input *in)
{
    return bp_snapshot_name_or(in->snap, in->node);
}

static int input_row_known(const bp_mesh_input *in)
{
    return in->reachable && in->snap && in->snap->membership.state == BP_FACT_OK;
}

int bp_mesh_find(const bp_mesh *m, const char *name)
{
    if (!m || !name || !m->nodes)
        return -1;
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->nodes[mid].name, name);
        if (c == 0)
            return mid <= INT32_MAX ? (int)mid : -1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int bp_mesh_link(const bp_mesh *m, size_t i, size_t j)
{
    if (!m || !m->matrix || i >= m->n || j >= m->n)
        return BP_LINK_UNKNOWN;
    return m->matrix[i * m->n + j];
}

const char *bp_cluster_verdict_name(bp_cluster_verdict v)
{
    switch (v) {
    case BP_CLUSTER_CONVERGED: return "converged";
    case BP_CLUSTER_DEGRADED: return "degraded";
    case BP_CLUSTER_PARTITIONED: return "partitioned";
    case BP_CLUSTER_NO_QUORUM: return "no_quorum";
    case BP_CLUSTER_UNREACHABLE: return "unreachable";
    }
    return "unknown";
}

/* ---- a bounded reason line ---- */

typedef struct {
    char buf[REASON_MAX];
    size_t len;
    int truncated;
} rbuf;

__attribute__((format(printf, 2, 3)))
static void rb_addf(rbuf *b, const char *fmt, ...)
{
    if (b->truncated)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->buf + b->len, sizeof b->buf - b->len, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    if ((size_t)k >= sizeof b->buf - b->len) {
        b->len = sizeof b->buf - 1;
        b->truncated = 1;
        memcpy(b->buf + b->len - 3, "...", 3);
        return;
    }
    b->len += (size_t)k;
}

/* "; " between fragments. */
static void rb_sep(rbuf *b)
{
    if (b->len > 0)
        rb_addf(b, "; ");
}

/* "a@h, b@h, +3 more" for node indices idx[0..k). */
static void rb_names(rbuf *b, const bp_mesh *m, const size_t *idx, size_t k)
{
    size_t shown = k < REASON_NAMES ? k : REASON_NAMES;
    for (size_t i = 0; i < shown; i++)
        rb_addf(b, "%s%s", i ? ", " : "", m->nodes[idx[i]].name);
    if (k > shown)
        rb_addf(b, ", +%zu more", k - shown);
}

static void rb_partitions(rbuf *b, const bp_mesh *m)
{
    size_t shown = m->n_components < REASON_PARTITIONS ? m->n_components : REASON_PARTITIONS;
    rb_addf(b, "%zu partitions: ", m->n_components);
    for (size_t c = 0; c < shown; c++) {
        rb_addf(b, "%s{", c ? " | " : "");
        rb_names(b, m, m->components[c].members, m->components[c].n);
        rb_addf(b, "}");
    }
    if (m->n_components > shown)
        rb_addf(b, " | +%zu more", m->n_components - shown);
}

/* ---- analysis steps ---- */

/* An expected name that was probed under a name the node does not use stands for the node's own name. */
static const char *expected_name(const bp_mesh_input *in, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (in[i].snap && in[i].snap->given_as && strcmp(in[i].snap->given_as, name) == 0)
            return in[i].snap->node;
    return name;
}

/* Sorted, deduplicated names of probed, expected and seen nodes, copied into the arena. */
static int build_universe(const bp_mesh_input *in, size_t n, const bp_namelist *expected, bp_arena *a,
                          bp_mesh *m)
{
    size_t n_exp = expected ? (expected->n < BP_LIST_MAX ? expected->n : BP_LIST_MAX) : 0;
    size_t cap = n + n_exp;
    for (size_t i = 0; i < n; i++) {
        if (!input_row_known(&in[i]))
            continue;
        if (in[i].snap->visible.n > SIZE_MAX / sizeof(char *) - cap)
            return BP_ENOMEM;
        cap += in[i].snap->visible.v ? in[i].snap->visible.n : 0;
    }
    if (cap == 0)
        return 0;
    const char **all = malloc(cap * sizeof *all);
    if (!all)
        return BP_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        all[k++] = input_name(&in[i]);
    /* expected names live in fixed-size slots: copy them bounded so the sort can compare them */
    for (size_t i = 0; i < n_exp; i++) {
        size_t len = strnlen(expected->v[i], BP_NAME_MAX);
        if (len == 0)
            continue;
        const char *copy = bp_arena_strndup(a, expected->v[i], len);
        if (!copy) {
            free(all);
            return BP_ENOMEM;
        }
        all[k++] = expected_name(in, n, copy);
    }
    for (size_t i = 0; i < n; i++) {
        if (!input_row_known(&in[i]) || !in[i].snap->visible.v)
            continue;
        for (size_t j = 0; j < in[i].snap->visible.n; j++)
            if (in[i].snap->visible.v[j] && in[i].snap->visible.v[j][0])
                all[k++] = in[i].snap->visible.v[j];
    }
    qsort(all, k, sizeof *all, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || strcmp(all[u - 1], all[i]) != 0)
            all[u++] = all[i];
    int rc = 0;
    m->nodes = bp_arena_alloc(a, u * sizeof *m->nodes);
    if (!m->nodes)
        rc = BP_ENOMEM;
    for (size_t i = 0; rc == 0 && i < u; i++) {
        m->nodes[i].name = bp_arena_strdup(a, all[i]);
        m->nodes[i].input = -1;
        m->nodes[i].component = -1;
        if (!m->nodes[i].name)
            rc = BP_ENOMEM;
    }
    if (rc == 0)
        m->n = u;
    free(all);
    return rc;
}

/* Mark probed/reachable nodes and fill the matrix rows of the row-known ones. */
static int fill_matrix(const bp_mesh_input *in, size_t n, bp_arena *a, bp_mesh *m)
{
    if (m->n > 0 && m->n > SIZE_MAX / m->n)
        return BP_ENOMEM;
    m->matrix = bp_arena_alloc(a, m->n > 0 ? m->n * m->n : 1);
    if (!m->matrix)
        return BP_ENOMEM;
    memset(m->matrix, BP_LINK_UNKNOWN, m->n * m->n);
    for (size_t i = 0; i < n; i++) {
        int k = bp_mesh_find(m, input_name(&in[i]));
        if (k < 0 || i > INT32_MAX || !m->nodes) /* found implies nodes; said for the analyzer */
            continue;
        bp_mesh_node *x = &m->nodes[k];
        if (!x->probed)
            m->n_probed++;
        x->probed = 1;
        /* the first reachable input of a node wins; without one, the first input */
        if (x->input < 0 || (in[i].reachable && !x->reachable))
            x->input = (int)i;
        if (in[i].reachable && !x->reachable) {
            x->reachable = 1;
            m->n_reachable++;
        }
    }
    for (size_t k = 0; k < m->n; k++) {
        bp_mesh_node *x = &m->nodes[k];
        if (x->input < 0 || !input_row_known(&in[x->input]))
            continue;
        x->row_known = 1;
        signed char *row = m->matrix + k * m->n;
        memset(row, BP_LINK_NO, m->n);
        const bp_strv *vis = &in[x->input].snap->visible;
        for (size_t j = 0; vis->v && j < vis->n; j++) {
            int t = bp_mesh_find(m, vis->v[j]);
            if (t >= 0 && (size_t)t != k)
                row[t] = BP_LINK_YES;
        }
    }
    return 0;
}

static void mark_expected(const bp_mesh_input *in, size_t n, const bp_namelist *expected, int expected_size,
                          bp_mesh *m)
{
    size_t n_exp = expected ? (expected->n < BP_LIST_MAX ? expected->n : BP_LIST_MAX) : 0;
    size_t named = 0;
    for (size_t i = 0; i < n_exp; i++) {
        char name[BP_NAME_MAX + 1];
        size_t len = strnlen(expected->v[i], BP_NAME_MAX);
        memcpy(name, expected->v[i], len);
        name[len] = '\0';
        int k = len ? bp_mesh_find(m, expected_name(in, n, name)) : -1;
        if (k >= 0 && !m->nodes[k].expected) {
            m->nodes[k].expected = 1;
            named++;
        }
    }
    if (named > 0) {
        m->expect_source = BP_EXPECT_NAMES;
        m->expected = named;
        return;
    }
    for (size_t k = 0; k < m->n; k++)
        m->nodes[k].expected = m->nodes[k].probed;
    if (expected_size > 0) {
        m->expect_source = BP_EXPECT_SIZE;
        m->expected = (size_t)expected_size;
    } else {
        m->expect_source = BP_EXPECT_PROBED;
        m->expected = m->n_probed;
    }
}

static void count_links(bp_mesh *m)
{
    for (size_t i = 0; i < m->n; i++) {
        if (!m->nodes[i].row_known)
            continue;
        for (size_t j = 0; j < m->n; j++) {
            if (j != i && m->matrix[i * m->n + j] == BP_LINK_YES) {
                m->nodes[i].sees++;
                m->nodes[j].seen_by++;
            }
        }
    }
    for (size_t i = 0; i < m->n; i++)
        for (size_t j = 0; m->nodes[i].row_known && j < m->n; j++)
            if (j != i && bp_mesh_present(&m->nodes[j]) && m->matrix[i * m->n + j] != BP_LINK_YES)
                m->n_missing_links++;
}

static size_t uf_root(size_t *parent, size_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static int find_components(bp_arena *a, bp_mesh *m)
{
    if (m->n == 0)
        return 0;
    size_t *parent = malloc(m->n * sizeof *parent);
    size_t *id = malloc(m->n * sizeof *id);
    int rc = 0;
    if (!parent || !id) {
        rc = BP_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < m->n; i++)
        parent[i] = i;
    for (size_t i = 0; i < m->n; i++) {
        for (size_t j = 0; m->nodes[i].row_known && j < m->n; j++) {
            if (j == i || m->matrix[i * m->n + j] != BP_LINK_YES)
                continue;
            size_t ri = uf_root(parent, i), rj = uf_root(parent, j);
            if (ri != rj)
                parent[ri > rj ? ri : rj] = ri < rj ? ri : rj;
        }
    }
    /* ids in order of each component's lowest member; SIZE_MAX = not present */
    for (size_t i = 0; i < m->n; i++)
        id[i] = SIZE_MAX;
    size_t nc = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (!bp_mesh_present(&m->nodes[i]))
            continue;
        size_t r = uf_root(parent, i);
        if (id[r] == SIZE_MAX)
            id[r] = nc++;
        m->nodes[i].component = (int)id[r];
    }
    m->components = bp_arena_alloc(a, (nc ? nc : 1) * sizeof *m->components);
    if (!m->components) {
        rc = BP_ENOMEM;
        goto out;
    }
    m->n_components = nc;
    for (size_t i = 0; i < m->n; i++)
        if (m->nodes[i].component >= 0)
            m->components[m->nodes[i].component].n++;
    for (size_t c = 0; c < nc; c++) {
        m->components[c].members = bp_arena_alloc(a, m->components[c].n * sizeof(size_t));
        if (!m->components[c].members) {
            rc = BP_ENOMEM;
            goto out;
        }
        m->components[c].n = 0;
    }
    for (size_t i = 0; i < m->n; i++) {
        const bp_mesh_node *x = &m->nodes[i];
        if (x->component < 0)
            continue;
        bp_mesh_component *c = &m->components[x->component];
        c->members[c->n++] = i;
        if (x->reachable)
            c->reachable++;
        if (m->expect_source == BP_EXPECT_SIZE || x->expected)
            c->votes++;
    }
out:
    free(parent);
    free(id);
    return rc;
}

/* Index list of the nodes matching pred; NULL list with *k == 0 when none. */
static int collect(bp_arena *a, const bp_mesh *m, int (*pred)(const bp_mesh *, size_t), size_t **out, size_t *k)
{
    size_t cnt = 0;
    for (size_t i = 0; i < m->n; i++)
        cnt += pred(m, i) ? 1 : 0;
    *k = 0;
    *out = NULL;
    if (cnt == 0)
        return 0;
    *out = bp_arena_alloc(a, cnt * sizeof **out);
    if (!*out)
        return BP_ENOMEM;
    for (size_t i = 0; i < m->n; i++)
        if (pred(m, i))
            (*out)[(*k)++] = i;
    return 0;
}

static int is_unreachable_seen(const bp_mesh *m, size_t i)
{
    const bp_mesh_node *x = &m->nodes[i];
    return !x->reachable && x->seen_by > 0 && (x->probed || x->expected);
}

static int is_unexpected(const bp_mesh *m, size_t i)
{
    return m->expect_source == BP_EXPECT_NAMES && !m->nodes[i].expected && bp_mesh_present(&m->nodes[i]);
}

static int is_absent(const bp_mesh *m, size_t i)
{
    return m->nodes[i].expected && !bp_mesh_present(&m->nodes[i]);
}

static int is_down(const bp_mesh *m, size_t i)
{
    return m->nodes[i].expected && !m->nodes[i].reachable;
}

static int is_probed_down(const bp_mesh *m, size_t i)
{
    return m->nodes[i].probed && !m->nodes[i].reachable;
}

static int is_row_unknown(const bp_mesh *m, size_t i)
{
    return m->nodes[i].reachable && !m->nodes[i].row_known;
}

static int find_asymmetric(bp_arena *a, bp_mesh *m)
{
    size_t cnt = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < m->n; i++) {
            for (size_t j = 0; m->nodes[i].row_known && j < m->n; j++) {
                if (j == i || !m->nodes[j].row_known || m->matrix[i * m->n + j] != BP_LINK_YES ||
                    m->matrix[j * m->n + i] == BP_LINK_YES)
                    continue;
                if (pass == 1)
                    m->asymmetric[m->n_asymmetric++] = (bp_mesh_pair){i, j};
                else
                    cnt++;
            }
        }
        if (pass == 0) {
            if (cnt == 0)
                return 0;
            m->asymmetric = bp_arena_alloc(a, cnt * sizeof *m->asymmetric);
            if (!m->asymmetric)
                return BP_ENOMEM;
        }
    }
    return 0;
}

static void find_quorum(bp_mesh *m)
{
    m->quorum_needed = m->expected / 2 + 1;
    m->quorum_component = -1;
    for (size_t c = 0; c < m->n_components; c++) {
        if (m->quorum_component < 0 || m->components[c].votes > m->quorum_largest) {
            m->quorum_largest = m->components[c].votes;
            m->quorum_component = (int)c;
        }
    }
    m->quorum = m->expected > 0 && m->quorum_largest >= m->quorum_needed;
}

/* The fragments every non-trivial verdict mentions: what is down, odd or missing. */
static int problems(const bp_mesh *m, rbuf *b, bp_arena *a)
{
    size_t *idx = NULL, k = 0;
    if (m->expect_source == BP_EXPECT_SIZE) {
        if (m->n_reachable < m->expected) {
            rb_sep(b);
            rb_addf(b, "%zu of %zu expected nodes reachable", m->n_reachable, m->expected);
        }
        if (collect(a, m, is_probed_down, &idx, &k) != 0)
            return BP_ENOMEM;
        if (k > 0) {
            rb_sep(b);
            rb_addf(b, "%zu probed node%s down (", k, k == 1 ? "" : "s");
            rb_names(b, m, idx, k);
            rb_addf(b, ")");
        }
    } else {
        if (collect(a, m, is_down, &idx, &k) != 0)
            return BP_ENOMEM;
        if (k > 0) {
            rb_sep(b);
            rb_addf(b, "%zu of %zu expected node%s down (", k, m->expected, m->expected == 1 ? "" : "s");
            rb_names(b, m, idx, k);
            rb_addf(b, ")");
        }
    }
    if (collect(a, m, is_row_unknown, &idx, &k) != 0)
        return BP_ENOMEM;
    if (k > 0) {
        rb_sep(b);
        rb_addf(b, "nodes() not collected from ");
        rb_names(b, m, idx, k);
    }
    if (m->n_unreachable_seen > 0) {
        rb_sep(b);
        rb_addf(b, "unreachable from the probe but seen by others: ");
        rb_names(b, m, m->unreachable_seen, m->n_unreachable_seen);
    }
    if (m->n_asymmetric > 0) {
        const bp_mesh_pair *p = &m->asymmetric[0];
        rb_sep(b);
        rb_addf(b, "asymmetric: %s sees %s but not the reverse", m->nodes[p->observer].name,
                m->nodes[p->observed].name);
        if (m->n_asymmetric > 1)
            rb_addf(b, " (+%zu more pair%s)", m->n_asymmetric - 1, m->n_asymmetric == 2 ? "" : "s");
    }
    /* missing links inside a partition that are not already reported as asymmetric
     * (links across partitions are implied by the partition list) */
    size_t other = 0, fi = 0, fj = 0;
    for (size_t i = 0; i < m->n; i++) {
        for (size_t j = 0; m->nodes[i].row_known && j < m->n; j++) {
            if (j == i || !bp_mesh_present(&m->nodes[j]) || m->nodes[j].component != m->nodes[i].component ||
                m->matrix[i * m->n + j] == BP_LINK_YES || m->matrix[j * m->n + i] == BP_LINK_YES)
                continue;
            if (other++ == 0)
                fi = i, fj = j;
        }
    }
    if (other > 0) {
        rb_sep(b);
        rb_addf(b, "mesh incomplete: %s does not see %s", m->nodes[fi].name, m->nodes[fj].name);
        if (other > 1)
            rb_addf(b, " (+%zu more missing link%s)", other - 1, other == 2 ? "" : "s");
    }
    if (m->n_unexpected > 0) {
        rb_sep(b);
        rb_addf(b, "unexpected: ");
        rb_names(b, m, m->unexpected, m->n_unexpected);
    }
    if (m->n_mnesia_trouble > 0) {
        rb_sep(b);
        rb_addf(b, "mnesia incomplete as seen from ");
        rb_names(b, m, m->mnesia_trouble, m->n_mnesia_trouble);
    }
    return 0;
}

/* With --mnesia, a node's own view: mnesia not running there, a db node not running it, a table not loaded. */
static int mnesia_troubled(const bp_snapshot *s)
{
    if (!s || s->mnesia.state == BP_FACT_UNSET)
        return 0;
    if (s->mnesia.state != BP_FACT_OK || !s->mnesia_running || strcmp(s->mnesia_running, "yes") != 0)
        return 1;
    return s->mnesia_running_nodes.n < s->mnesia_db_nodes.n || s->mnesia_unloaded.n > 0;
}

static int find_mnesia_trouble(const bp_mesh_input *in, bp_arena *a, bp_mesh *m)
{
    m->mnesia_trouble = bp_arena_alloc(a, (m->n + 1) * sizeof *m->mnesia_trouble);
    if (!m->mnesia_trouble)
        return BP_ENOMEM;
    for (size_t i = 0; i < m->n; i++)
        if (m->nodes[i].reachable && m->nodes[i].input >= 0 && mnesia_troubled(in[m->nodes[i].input].snap))
            m->mnesia_trouble[m->n_mnesia_trouble++] = i;
    return 0;
}

static int decide(bp_arena *a, bp_mesh *m)
{
    rbuf b;
    b.len = 0;
    b.truncated = 0;
    b.buf[0] = '\0';
    if (m->n_reachable == 0) {
        m->verdict = BP_CLUSTER_UNREACHABLE;
        if (m->n_probed == 0) {
            rb_addf(&b, "no node probed");
        } else {
            size_t *idx = NULL, k = 0;
            if (collect(a, m, is_probed_down, &idx, &k) != 0)
                return BP_ENOMEM;
            rb_addf(&b, "none of the %zu probed node%s reachable (", m->n_probed, m->n_probed == 1 ? "" : "s");
            rb_names(&b, m, idx, k);
            rb_addf(&b, ")");
        }
    } else if (!m->quorum) {
        m->verdict = BP_CLUSTER_NO_QUORUM;
        rb_addf(&b, "no quorum: largest partition holds %zu of %zu expected nodes, %zu needed", m->quorum_largest,
                m->expected, m->quorum_needed);
        if (m->n_components > 1) {
            rb_sep(&b);
            rb_partitions(&b, m);
        }
        if (problems(m, &b, a) != 0)
            return BP_ENOMEM;
    } else if (m->n_components > 1) {
        m->verdict = BP_CLUSTER_PARTITIONED;
        rb_partitions(&b, m);
        if (problems(m, &b, a) != 0)
            return BP_ENOMEM;
        const bp_mesh_component *q = &m->components[m->quorum_component];
        rb_sep(&b);
        rb_addf(&b, "quorum holds in {");
        rb_names(&b, m, q->members, q->n);
        rb_addf(&b, "} (%zu/%zu)", m->quorum_largest, m->expected);
    } else {
        size_t down = 0, unknown = 0;
        for (size_t i = 0; i < m->n; i++) {
            down += is_down(m, i) ? 1 : 0;
            unknown += is_row_unknown(m, i) ? 1 : 0;
        }
        int whole = down == 0 && (m->expect_source != BP_EXPECT_SIZE || m->n_reachable >= m->expected);
        if (whole && unknown == 0 && m->n_missing_links == 0 && m->n_asymmetric == 0 && m->n_unexpected == 0
            && m->n_mnesia_trouble == 0) {
            m->verdict = BP_CLUSTER_CONVERGED;
            if (m->expect_source == BP_EXPECT_SIZE)
                rb_addf(&b, "%zu nodes up (%zu expected), full mesh", m->n_reachable, m->expected);
            else
                rb_addf(&b, "all %zu expected node%s up, full mesh", m->expected, m->expected == 1 ? "" : "s");
        } else {
            m->verdict = BP_CLUSTER_DEGRADED;
            if (problems(m, &b, a) != 0)
                return BP_ENOMEM;
            rb_sep(&b);
            rb_addf(&b, "quorum holds (%zu/%zu)", m->quorum_largest, m->expected);
        }
    }
    m->reason = bp_arena_strndup(a, b.buf, b.len);
    return m->reason ? 0 : BP_ENOMEM;
}

int bp_mesh_analyze(const bp_mesh_input *in, size_t n, const bp_namelist *expected, int expected_size,
                    bp_arena *a, bp_mesh *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!out || !a || (n > 0 && !in) || n > INT32_MAX)
        return BP_EUSAGE;
    for (size_t i = 0; i < n; i++)
        if (!input_name(&in[i]) || !input_name(&in[i])[0])
            return BP_EUSAGE;
    bp_mesh m;
    memset(&m, 0, sizeof m);
    m.quorum_component = -1;
    int rc = build_universe(in, n, expected, a, &m);
    if (rc == 0)
        rc = fill_matrix(in, n, a, &m);
    if (rc == 0) {
        mark_expected(in, n, expected, expected_size, &m);
        count_links(&m);
        rc = find_components(a, &m);
    }
    if (rc == 0)
        rc = find_asymmetric(a, &m);
    if (rc == 0)
        rc = collect(a, &m, is_unreachable_seen, &m.unreachable_seen, &m.n_unreachable_seen);
    if (rc == 0)
        rc = collect(a, &m, is_unexpected, &m.unexpected, &m.n_unexpected);
    if (rc == 0)
        rc = collect(a, &m, is_absent, &m.absent, &m.n_absent);
    if (rc == 0)
        rc = find_mnesia_trouble(in, a, &m);
    if (rc == 0) {
        find_quorum(&m);
        rc = decide(a, &m);
    }
    if (rc == 0)
        *out = m;
    return rc;
}

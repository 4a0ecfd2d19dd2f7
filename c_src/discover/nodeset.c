/* nodeset.c: a heap-backed, growable set of node names: discovered targets and the nodes a cluster view probes. */
#include "discover/nodeset.h"

#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"

#define FIRST_SLOTS 16

size_t bp_nodeset_limit(const bp_nodeset *s)
{
    return s->max ? s->max : BP_TARGETS_MAX;
}

int bp_nodeset_has(const bp_nodeset *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], name) == 0)
            return 1;
    return 0;
}

/* Room for one more name: 0, BP_ETOOBIG or BP_ENOMEM. */
static int reserve_one(bp_nodeset *s)
{
    size_t limit = bp_nodeset_limit(s);
    if (s->n >= limit)
        return BP_ETOOBIG;
    if (s->n < s->cap)
        return 0;
    size_t cap = s->cap ? s->cap * 2 : FIRST_SLOTS;
    if (cap > limit)
        cap = limit;
    char(*v)[BP_NAME_MAX] = realloc(s->v, cap * sizeof *v);
    if (!v)
        return BP_ENOMEM;
    s->v = v;
    s->cap = cap;
    return 0;
}

int bp_names_equal(const char (*a)[BP_NAME_MAX], size_t na, const char (*b)[BP_NAME_MAX], size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return 0;
    return 1;
}

int bp_nodeset_add(bp_nodeset *s, const char *name)
{
    size_t len = strnlen(name, BP_NAME_MAX);
    if (len >= BP_NAME_MAX)
        return BP_EUSAGE;
    if (bp_nodeset_has(s, name))
        return 0;
    int rc = reserve_one(s);
    if (rc)
        return rc;
    memcpy(s->v[s->n], name, len + 1);
    s->n++;
    return 0;
}

int bp_nodeset_add_all(bp_nodeset *s, const char (*names)[BP_NAME_MAX], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = bp_nodeset_add(s, names[i]);
        if (rc)
            return rc;
    }
    return 0;
}

int bp_nodeset_remove(bp_nodeset *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i], name) == 0) {
            memmove(s->v[i], s->v[i + 1], (s->n - i - 1) * sizeof s->v[0]);
            s->n--;
            return 1;
        }
    }
    return 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int bp_nodeset_natcmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (is_digit(*a) && is_digit(*b)) {
            while (*a == '0' && is_digit(a[1]))
                a++;
            while (*b == '0' && is_digit(b[1]))
                b++;
            size_t la = 0, lb = 0;
            while (is_digit(a[la]))
                la++;
            while (is_digit(b[lb]))
                lb++;
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = memcmp(a, b, la);
            if (c)
                return c < 0 ? -1 : 1;
            a += la;
            b += lb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    if (*a || *b)
        return *a ? 1 : -1;
    return 0;
}

static int natcmp_entries(const void *x, const void *y)
{
    int c = bp_nodeset_natcmp(x, y);
    return c ? c : strcmp(x, y); /* "a01" and "a1" compare equal above: keep a total order */
}

void bp_nodeset_sort(bp_nodeset *s)
{
    if (s->n > 1)
        qsort(s->v, s->n, sizeof s->v[0], natcmp_entries);
}

void bp_nodeset_clear(bp_nodeset *s)
{
    s->n = 0;
}

void bp_nodeset_free(bp_nodeset *s)
{
    if (!s)
        return;
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

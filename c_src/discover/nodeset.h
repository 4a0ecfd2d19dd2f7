/* nodeset.h: a heap-backed, growable set of node names: discovered targets and the nodes a cluster view probes. */
#ifndef BP_NODESET_H
#define BP_NODESET_H

#include <stddef.h>

#include "core/config.h"

/* Nodes one cluster view may probe: discovery results and targets in all (= BP_FLEET_MAX). */
#define BP_TARGETS_MAX 1024

/*
 * Names "alive@host" (each shorter than BP_NAME_MAX), without duplicates, in
 * the order they were added until bp_nodeset_sort. v[i] reads like
 * bp_namelist's, but the storage is on the heap and grows (doubling) up to
 * `max` names (0 = BP_TARGETS_MAX), so a set costs what it holds, not its cap.
 *
 * A zeroed value is an empty set with the default cap: `bp_nodeset s = { 0 };`
 * is ready to use. The owner releases the storage with bp_nodeset_free; do
 * not copy the struct (both copies would own the storage).
 */
typedef struct {
    size_t n;                /* names in v[0..n) */
    size_t max;              /* cap on n; 0 = BP_TARGETS_MAX */
    size_t cap;              /* slots allocated */
    char (*v)[BP_NAME_MAX];
} bp_nodeset;

/* The cap of s: s->max, or BP_TARGETS_MAX when 0. */
size_t bp_nodeset_limit(const bp_nodeset *s);

/*
 * Add name unless present. 0 (added, or already there), BP_ETOOBIG (the set
 * holds its cap; unchanged), BP_EUSAGE (name of BP_NAME_MAX bytes or more),
 * BP_ENOMEM.
 */
int bp_nodeset_add(bp_nodeset *s, const char *name);

/* Add names[0..n) in order (a bp_namelist's or another set's v and n); stops at the first error, as bp_nodeset_add. */
int bp_nodeset_add_all(bp_nodeset *s, const char (*names)[BP_NAME_MAX], size_t n);

/* Whether name is in s. */
int bp_nodeset_has(const bp_nodeset *s, const char *name);
/* Whether names a[0..na) and b[0..nb) are the same in the same order (compared as text: the bytes past each NUL do not count). */
int bp_names_equal(const char (*a)[BP_NAME_MAX], size_t na, const char (*b)[BP_NAME_MAX], size_t nb);

/* Remove name, keeping the order of the others: 1 if it was there, else 0. */
int bp_nodeset_remove(bp_nodeset *s, const char *name);

/* Sort in natural order (bp_nodeset_natcmp; ties broken by strcmp). */
void bp_nodeset_sort(bp_nodeset *s);

/* Empty the set, keeping its storage for reuse. */
void bp_nodeset_clear(bp_nodeset *s);

/* Release the storage; s is then an empty set with the same cap. NULL is fine. */
void bp_nodeset_free(bp_nodeset *s);

/*
 * Natural comparison: digit runs compare as numbers, so app@10.0.0.9 sorts
 * before app@10.0.0.10 and app-2 before app-10 ("a01" and "a1" compare equal).
 */
int bp_nodeset_natcmp(const char *a, const char *b);

#endif

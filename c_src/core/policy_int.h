/* policy_int.h: the policy's evaluation context and text helpers, shared by policy.c and policy_procs.c only. */
#ifndef BP_POLICY_INT_H
#define BP_POLICY_INT_H

#include <stdint.h>

#include "core/report.h"

#define DOWN_LISTED_MAX 16 /* children_down entries kept per supervisor check */
#define REASON_DOWN_MAX 3  /* children named in a supervisor reason */

typedef struct {
    const bp_snapshot *snap;
    const bp_config *cfg;
    bp_report *r;
    size_t cap; /* room in r->checks */
    int err;    /* BP_ENOMEM once an allocation failed */
} eval_ctx;

/* ---- bounded text building ---- */

typedef struct {
    char *buf;
    size_t cap, len;
    int full;
} sbuf;

void bp__sb_init(sbuf *b, char *buf, size_t cap);
void bp__sb_addf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Set a check's status and reason. */
void bp__judge(bp_check *c, bp_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* int64 as text, "?" when unknown (< 0). */
const char *bp__num(int64_t v, char *buf, size_t len);
int bp__in_namelist(const bp_namelist *l, const char *s);
/* s, or "?" for NULL. */
const char *bp__or_q(const char *s);
/* A new check "prefix:name" (or name) in the report; NULL (x->err set) when there is no room. */
bp_check *bp__add_check(eval_ctx *x, bp_check_kind kind, const char *prefix, const char *name);
/* 1 when the fact was collected; otherwise the check fails with the fact's reason and 0. */
int bp__check_fact_ok(bp_check *c, const bp_fact *f);

/* The process checks (policy_procs.c). */
void bp__check_supervisor(eval_ctx *x, const bp_supervisor_snap *root);
void bp__check_governor(eval_ctx *x, const bp_governor_snap *g);
void bp__check_family(eval_ctx *x, const bp_govfamily_snap *f);
void bp__check_mnesia(eval_ctx *x);
void bp__check_custom(eval_ctx *x, const bp_custom_snap *k);

#endif

/* report.h: the evaluated health report (policy output) and the renderers that print it. */
#ifndef BP_REPORT_H
#define BP_REPORT_H

#include <stddef.h>

#include "core/config.h"
#include "core/snapshot.h"

/* Check-level status; the overall status uses the same scale. */
typedef enum { BP_PASS = 0, BP_WARN = 1, BP_FAIL = 2 } bp_status;

#define BP_REASON_MAX 256

typedef struct {
    const char *name;            /* "memory", "governor:cost_guard", ... (arena) */
    bp_status status;
    int incomplete;              /* the facts behind it timed out */
    char reason[BP_REASON_MAX];  /* one line, always set */
} bp_check;

typedef struct bp_report {
    const bp_snapshot *snap;     /* borrowed; must outlive the report */
    bp_probe_kind probe;
    bp_status status;            /* worst check */
    int incomplete;              /* some check could not complete in time */
    size_t n_checks;
    bp_check *checks;            /* allocated from snap->arena */
} bp_report;

/*
 * Evaluate a snapshot under the configuration's thresholds and probe kind.
 * Pure: no I/O. Returns 0 or BP_ENOMEM.
 */
int bp_evaluate(const bp_snapshot *snap, const bp_config *cfg, bp_report *out);

/* "pass" / "warn" / "fail" */
const char *bp_status_name(bp_status s);
/* Overall words: "healthy" / "degraded" / "unhealthy" */
const char *bp_overall_name(bp_status s);
/* "live" / "ready" / "startup" */
const char *bp_probe_name(bp_probe_kind k);
/* The check named `name`, or NULL. */
const bp_check *bp_report_find(const bp_report *r, const char *name);

/* CLI exit code for a report (BP_EXIT_*), honouring cfg->strict. */
int bp_report_exit_code(const bp_report *r, const bp_config *cfg);

/*
 * Renderers. Each returns a malloc'd NUL-terminated string the caller frees,
 * or NULL on OOM. The JSON document is described in docs/SCHEMA.md.
 */
char *bp_render_json(const bp_report *r, int pretty);
char *bp_render_text(const bp_report *r);

#endif

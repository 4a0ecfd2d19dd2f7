/* report.h: the evaluated health report (policy output) and the renderers that print it. */
#ifndef BP_REPORT_H
#define BP_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/snapshot.h"

/* Check-level status; the overall status uses the same scale. */
typedef enum { BP_PASS = 0, BP_WARN = 1, BP_FAIL = 2 } bp_status;

/* What a check looks at; decides which detail fields below are meaningful. */
typedef enum {
    BP_CHECK_CONNECTION = 0,
    BP_CHECK_IDENTITY,
    BP_CHECK_MEMORY,
    BP_CHECK_LIMITS,
    BP_CHECK_SCHEDULERS,
    BP_CHECK_APPLICATIONS,
    BP_CHECK_MEMBERSHIP,
    BP_CHECK_SUPERVISOR,
    BP_CHECK_GOVERNOR,
    BP_CHECK_GOVERNORS,  /* a family: --governors-under, --governor gproc:TAG */
    BP_CHECK_MNESIA,
    BP_CHECK_CUSTOM
} bp_check_kind;

#define BP_REASON_MAX 256

/* A child found down under a supervisor check (root or one of its nested supervisors). */
typedef struct {
    const char *supervisor; /* snapshot name of the supervisor holding it (borrowed) */
    const char *child;      /* "child_id (restarting)" (borrowed from the snapshot) */
} bp_child_down;

/* A family member's state and how many members are in it. */
typedef struct {
    const char *state;  /* the state name, or "not readable", "unresponsive", "not running", ... */
    size_t count;
} bp_state_count;

/* A family member in a warn or fail state. */
typedef struct {
    const bp_governor_snap *governor;
    const char *label;  /* its state, or what went wrong ("unresponsive", ...), as counted */
    bp_status status;
    const char *reason; /* as a check of its own would say it */
} bp_flagged;

#define BP_FAMILY_STATES_MAX 16   /* distinct states counted per family; the rest as "other" */
#define BP_FAMILY_FLAGGED_MAX 16  /* members in a warn or fail state named per family */

typedef struct {
    const char *name;            /* "memory", "governor:cost_guard", ... (arena) */
    bp_check_kind kind;
    bp_status status;
    int incomplete;              /* the facts behind it timed out or were not collected */
    char reason[BP_REASON_MAX];  /* one line, always set */

    /* Per-kind details; all borrowed from the snapshot or its arena. */
    const char *subject;                   /* supervisor/governor name or custom mfa, else NULL */
    const bp_supervisor_snap *supervisor;  /* SUPERVISOR: the root, NULL if not in the snapshot */
    const bp_governor_snap *governor;      /* GOVERNOR: NULL if not in the snapshot */
    const bp_custom_snap *custom;          /* CUSTOM: NULL if not in the snapshot */
    size_t n_nested;                       /* SUPERVISOR: nested supervisors rolled in */
    size_t n_children_down;                /* SUPERVISOR: total down, root + nested */
    size_t n_children_listed;              /* SUPERVISOR: entries in children_down */
    bp_child_down *children_down;          /* SUPERVISOR: first ones, arena */
    int children_truncated;                /* SUPERVISOR: some which_children was refused */
    size_t n_children_stopped;             /* SUPERVISOR: not running (pid undefined), root + nested */
    size_t n_stopped_listed;               /* SUPERVISOR: entries in children_stopped */
    bp_child_down *children_stopped;       /* SUPERVISOR: first ones (child = its id), arena */
    const bp_supervisor_snap *restarts;    /* SUPERVISOR: the one nearest its restart intensity
                                              (recent restarts > 0), NULL if none */
    int64_t since_ms;                      /* Unix ms its status last changed (a history's; -1 unknown) */
    int64_t state_since_ms;                /* GOVERNOR: Unix ms its state last changed (-1 unknown) */
    uint64_t transitions;                  /* status changes it has had (a history's; 0 without one) */
    const bp_govfamily_snap *family;       /* GOVERNORS */
    bp_state_count *states;                /* GOVERNORS: members per state, arena */
    size_t n_states, states_other;         /* GOVERNORS: distinct states counted; members beyond */
    bp_flagged *flagged;                   /* GOVERNORS: members in a warn/fail state, first ones */
    size_t n_flagged, n_flagged_total;
} bp_check;

/* One system limit as the `limits` check saw it. */
typedef struct {
    const char *name;      /* "processes", "ports", "atoms", "ets", "fds" (static) */
    int64_t count, limit;  /* -1 unknown */
    double ratio;          /* count / limit, -1 unknown */
    bp_ratio threshold;
    bp_status status;
} bp_limit_use;

#define BP_LIMIT_KINDS 5

typedef struct bp_report {
    const bp_snapshot *snap;     /* borrowed; must outlive the report */
    bp_probe_kind probe;
    bp_status status;            /* worst check */
    int incomplete;              /* some check could not complete in time */
    size_t n_checks;
    bp_check *checks;            /* allocated from snap->arena */

    bp_thresholds thresholds;    /* copy of the thresholds the checks were judged by */

    /* memory: computed limit and where it came from */
    int64_t memory_total;        /* erlang:memory(total), -1 unknown */
    int64_t memory_limit;        /* bytes, -1 none known */
    const char *memory_limit_source; /* "config", "cgroup" or NULL (static) */
    double memory_ratio;         /* total / limit, -1 unknown */

    bp_limit_use limits[BP_LIMIT_KINDS]; /* processes, ports, atoms, ets, fds */

    double run_queue_per_scheduler; /* -1 unknown */

    bp_strv missing_apps;        /* required applications not running (arena) */
    bp_strv missing_peers;       /* expected peers not visible (arena) */
    int expect_size;             /* copy of cfg->expect_size (<= 0: not set) */
    bp_strv governor_states;     /* the configured warn and fail states (arena): a governor's state set */
    bp_strv mnesia_missing;      /* db nodes not running mnesia as the node sees it (arena) */
    int64_t since_ms;            /* Unix ms the overall status last changed (a history's; -1 unknown) */
    int peer_series_max;         /* copy of cfg->peer_series_max: beamprobe_peer_connected series per node */
} bp_report;

/*
 * Evaluate a snapshot under the configuration's thresholds and probe kind.
 * Pure: no I/O. Returns 0, BP_ENOMEM (snapshot arena full) or BP_EUSAGE (NULL argument).
 * A ratio threshold <= 0 disables that level (warn or fail).
 */
int bp_evaluate(const bp_snapshot *snap, const bp_config *cfg, bp_report *out);
/* The same as probe `kind` whatever cfg->probe says (a site judges one snapshot as all three kinds). */
int bp_evaluate_as(const bp_snapshot *snap, const bp_config *cfg, bp_probe_kind kind, bp_report *out);

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

/* "512 B", "12.3 KiB", "1.5 GiB" into buf (always NUL-terminated); returns buf. */
char *bp_format_bytes(int64_t bytes, char *buf, size_t len);

/*
 * Renderers. Each returns a malloc'd NUL-terminated string the caller frees,
 * or NULL on OOM. The JSON document is described in docs/SCHEMA.md.
 */
char *bp_render_json(const bp_report *r, int pretty);
char *bp_render_text(const bp_report *r);

#endif

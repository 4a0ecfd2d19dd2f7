/* render_prom.h: Prometheus text exposition (format 0.0.4) of health reports, for one node or many (docs/METRICS.md). */
#ifndef BP_RENDER_PROM_H
#define BP_RENDER_PROM_H

#include <stddef.h>

#include "core/report.h"

/*
 * A growable text buffer. A zeroed struct is an empty buffer; bp_prom_buf_free
 * releases it. Whenever p is non-NULL it holds len bytes followed by a NUL.
 * Renderers only append: several calls can build one exposition.
 */
typedef struct {
    char *p;
    size_t len, cap;
} bp_prom_buf;

/* Forget the content, keep the memory for the next render. */
void bp_prom_buf_reset(bp_prom_buf *b);
/* Free the memory; the buffer is empty (zeroed) again. NULL is fine. */
void bp_prom_buf_free(bp_prom_buf *b);

/* One node of an exposition. Nothing is copied or kept after the call. */
typedef struct {
    const bp_report *report; /* NULL when the node has no report yet: then only
                                beamprobe_up and beamprobe_report_age_seconds */
    const char *node;        /* the node label until the report's snapshot learned the node's own
                                name (then that name); NULL: report->snap->node ("" without a report) */
    int up;                  /* 1 when the last probe connected, else 0 */
    double age_seconds;      /* age of the report; < 0 or not finite: no age sample */
    double duration_seconds; /* wall time of the probe; <= 0 or not finite: the
                                snapshot's duration_us (only rendered with a report) */
} bp_prom_node;

/* Flags of bp_render_prom_multi. */
enum {
    /* Leave out the beamprobe_report_age_seconds family, to append it later
       with bp_render_prom_ages (see below). */
    BP_PROM_NO_AGE = 1u << 0,
    /* Name the VM families as prometheus.erl before 6.0 did
       (erlang_vm_memory_bytes_total, erlang_vm_process_count, ...) instead of
       today's promtool-clean names. promtool's linter complains about these. */
    BP_PROM_PRE6_NAMES = 1u << 1
};

/*
 * Append the metrics of n nodes as one valid exposition: each metric family is
 * written once, its # HELP and # TYPE lines followed by the samples of every node
 * (a family no node has a sample for is left out). Every sample carries a node
 * label. Unknown facts are left out, never rendered as -1. A node whose label
 * equals an earlier node's is skipped (its samples would duplicate series).
 *
 * beamprobe_report_age_seconds is always the last family. A server that renders
 * on every refresh and answers many scrapes in between can therefore render
 * once with BP_PROM_NO_AGE and, per scrape, copy that text and append
 * bp_render_prom_ages() with the current ages: the result is byte for byte what
 * a single call without the flag gives.
 *
 * Returns 0, BP_ENOMEM (the buffer is then as it was before the call) or
 * BP_EUSAGE (b NULL, or nodes NULL with n > 0).
 */
int bp_render_prom_multi(bp_prom_buf *b, const bp_prom_node *nodes, size_t n, unsigned flags);

/*
 * Append only the beamprobe_report_age_seconds family (HELP, TYPE, one sample per
 * node whose age_seconds is >= 0 and finite; nothing at all when there is none).
 * Reads only `node` and `age_seconds` of each entry, plus report->snap->node when
 * `node` is NULL. Same duplicate rule and return values as bp_render_prom_multi.
 */
int bp_render_prom_ages(bp_prom_buf *b, const bp_prom_node *nodes, size_t n);

/* One sample of a counter: its label's value (ignored without a label name) and its count. */
typedef struct {
    const char *label;
    uint64_t value;
} bp_prom_count;

/*
 * Append a counter family: HELP, TYPE and v[0..n) as `name{label="v[i].label"}
 * value` (label NULL: `name value`; the value escaped as a label value must be).
 * 0, BP_ENOMEM (the buffer as it was) or BP_EUSAGE.
 */
int bp_render_prom_counter(bp_prom_buf *b, const char *name, const char *help, const char *label,
                           const bp_prom_count *v, size_t n);

/* One sample of a gauge: its label's value and its value. */
typedef struct {
    const char *label;
    double value;
} bp_prom_gauge;

/* Append a gauge family, as bp_render_prom_counter does a counter (values with up to 15 significant digits). */
int bp_render_prom_gauge(bp_prom_buf *b, const char *name, const char *help, const char *label,
                         const bp_prom_gauge *v, size_t n);

/* One node: bp_render_prom_multi of {r, r->snap->node, up, age_seconds, 0}. r may be NULL. */
int bp_render_prom(bp_prom_buf *b, const bp_report *r, int up, double age_seconds);

#endif

/* render_html.h: the status page: one self-contained HTML document over a mesh analysis and its histories. */
#ifndef BP_RENDER_HTML_H
#define BP_RENDER_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "core/mesh.h"
#include "core/render_history.h"

/* The page's only style and only script, exactly as inlined (a CSP hashes them: bp_page_csp). */
extern const char bp_page_css[];
extern const char bp_page_js[];

#define BP_PAGE_HISTORY_MS 3600000 /* the history strips cover the last hour */

typedef struct {
    const bp_mesh *mesh;           /* the analysis */
    const bp_mesh_input *in;       /* and its inputs (as for bp_render_cluster_text); may be NULL when n == 0 */
    size_t n;
    const bp_history_node *hist;   /* transitions per node, matched by node name; may be NULL */
    size_t n_hist;
    int64_t now_ms;                /* Unix ms of the rendering */
    int age_ms;                    /* age of the oldest report shown, -1 when none */
    int refresh_ms;                /* the script's refresh period (0: none) */
    const char *notice;            /* shown above the verdict (e.g. discovery not done), or NULL */
} bp_page;

/*
 * The page (readable without its script): the verdict banner with quorum arithmetic, the mesh
 * (render_svg.h), then per node its status, checks, governors with time in state, memory against
 * its limit, and history strips for the node and each governor. Everything from a target is
 * escaped (html_escape.h). A malloc'd string, or NULL on OOM or a NULL mesh.
 */
char *bp_render_page(const bp_page *p);

#endif

/* render_svg.h: the cluster mesh as an SVG picture (nodes on a circle, partitions grouped, links drawn by kind). */
#ifndef BP_RENDER_SVG_H
#define BP_RENDER_SVG_H

#include <stddef.h>

#include "core/mesh.h"
#include "core/textbuf.h"

/* Above this many nodes only missing and one-way links are drawn (a full mesh is said in words). */
#define BP_SVG_ALL_LINKS_MAX 40

/* The styles of the picture's classes: light, and dark under prefers-color-scheme. Also part of the page's CSS. */
#define BP_SVG_CSS                                                                                             \
    "svg.mesh{--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--dim:#6e7781;--ink:#1f2328;font:12px sans-serif;"     \
    "max-width:100%;height:auto}"                                                                              \
    "@media (prefers-color-scheme:dark){svg.mesh{--ok:#3fb950;--warn:#d29922;--bad:#f85149;--dim:#8b949e;"    \
    "--ink:#e6edf3}}"                                                                                          \
    "svg.mesh text{fill:var(--ink)}svg.mesh path.l-ok,svg.mesh path.l-half{fill:none}"                         \
    "svg.mesh .l-ok{stroke:var(--ok);stroke-width:1.5}"                          \
    "svg.mesh .l-half{stroke:var(--dim);stroke-width:1}"                                                       \
    "svg.mesh .l-oneway{stroke:var(--warn);stroke-width:2;stroke-dasharray:8 4}"                               \
    "svg.mesh .l-missing{stroke:var(--bad);stroke-width:1.5;stroke-dasharray:2 4}"                             \
    "svg.mesh .arrow{fill:var(--warn)}svg.mesh .part{fill:none;stroke:var(--dim);stroke-width:14;"            \
    "stroke-opacity:.25;stroke-linecap:round}svg.mesh .part-q{stroke:var(--ok)}"                               \
    "svg.mesh .s-healthy{fill:var(--ok)}svg.mesh .s-degraded{fill:var(--warn)}"                                \
    "svg.mesh .s-unhealthy{fill:var(--bad)}svg.mesh .s-down,svg.mesh .s-seen,svg.mesh .s-absent,"              \
    "svg.mesh .s-unprobed{fill:none;stroke:var(--bad);stroke-width:2}"                                         \
    "svg.mesh .s-seen,svg.mesh .s-unprobed{stroke:var(--dim);stroke-dasharray:3 2}"                            \
    "svg.mesh a:focus{outline:2px solid var(--ink)}"

/*
 * One word for node k's state: "healthy", "degraded", "unhealthy" (its readiness report),
 * "down" (probed, not reachable), "seen" (not probed, seen by a reachable node),
 * "absent" (expected, neither reachable nor seen), "unprobed" (otherwise).
 */
const char *bp_mesh_node_state(const bp_mesh *m, size_t k, const bp_mesh_input *in, size_t n);

/*
 * Append the picture. standalone: an XML document of its own with its styles;
 * else an inline <svg> for an HTML page whose nodes link to "#node-K".
 * Every name is escaped (core/html_escape.h).
 */
void bp_svg_mesh(bp_textbuf *b, const bp_mesh *m, const bp_mesh_input *in, size_t n, int standalone);

/* The standalone picture as a malloc'd string (`beamprobe cluster --format svg`), NULL on OOM. */
char *bp_render_cluster_svg(const bp_mesh *m, const bp_mesh_input *in, size_t n);

#endif

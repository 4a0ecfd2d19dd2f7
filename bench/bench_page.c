/* bench_page.c: server-side render time and size of the status page for N synthetic nodes; built by bench_page.sh. */
/*
 * Usage: bench_page N ROUNDS [TRANSITIONS]
 * Builds N realistic healthy nodes (test/c/fixture_page.h, as the unit test of the page's size) in a
 * full mesh, each with TRANSITIONS (20) transitions in its last hour, evaluates them once, then renders the
 * page ROUNDS times (bp_render_page, what GET / costs besides the mesh analysis) and, as
 * part of the request's cost, the mesh analysis ROUNDS times. Prints one line:
 * "N BYTES RENDER_MEDIAN_US RENDER_P90_US ANALYZE_MEDIAN_US".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mesh.h"
#include "core/render_html.h"
#include "fixture_page.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atoi(argv[1]) : 30, rounds = argc > 2 ? (size_t)atoi(argv[2]) : 200;
    size_t nt = argc > 3 ? (size_t)atoi(argv[3]) : 20;
    int64_t now = 1800000000000LL;
    fixture_cluster c;
    double *t = calloc(rounds, sizeof *t), *ta = calloc(rounds, sizeof *ta);
    if (!t || !ta || fixture_cluster_build(&c, n, nt, now) != 0)
        return 1;
    bp_mesh_input *in = c.in;
    bp_history_node *hist = c.hist;
    size_t bytes = 0;
    for (size_t r = 0; r < rounds; r++) {
        bp_arena *a = bp_arena_new(0);
        bp_mesh m;
        double t0 = now_us();
        if (!a || bp_mesh_analyze(in, n, NULL, -1, a, &m) != 0)
            return 1;
        double t1 = now_us();
        bp_page p = { .mesh = &m, .in = in, .n = n, .hist = hist, .n_hist = n, .now_ms = now, .age_ms = 500,
                      .refresh_ms = 2000 };
        char *page = bp_render_page(&p);
        double t2 = now_us();
        if (!page)
            return 1;
        bytes = strlen(page);
        free(page);
        bp_arena_free(a);
        ta[r] = t1 - t0;
        t[r] = t2 - t1;
    }
    qsort(t, rounds, sizeof *t, cmp);
    qsort(ta, rounds, sizeof *ta, cmp);
    printf("%zu %zu %.1f %.1f %.1f\n", n, bytes, t[rounds / 2], t[rounds * 9 / 10], ta[rounds / 2]);
    if (getenv("BENCH_PAGE_DUMP")) { /* the last page, to look at */
        bp_arena *a = bp_arena_new(0);
        bp_mesh m;
        if (a && bp_mesh_analyze(in, n, NULL, -1, a, &m) == 0) {
            bp_page p = { .mesh = &m, .in = in, .n = n, .hist = hist, .n_hist = n, .now_ms = now, .age_ms = 500 };
            char *page = bp_render_page(&p);
            FILE *f = fopen(getenv("BENCH_PAGE_DUMP"), "w");
            if (f && page)
                fputs(page, f);
            if (f)
                fclose(f);
            free(page);
        }
        bp_arena_free(a);
    }
    fixture_cluster_free(&c);
    free(t), free(ta);
    return 0;
}

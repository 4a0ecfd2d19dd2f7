/* bench_deflate.c: size and cost of compressing the one-round request's parameters (dist/deflate.c) for a plain and a full probe. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "beamprobe.h"
#include "core/config.h"
#include "dist/collect_int.h"
#include "dist/deflate.h"

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* The parameters of a probe with options opts (name, value pairs) as the request sends them, and uncompressed. */
static void measure(const char *name, const char *const *opts, int batches)
{
    static bp_config cfg;
    char err[256];
    bp_config_defaults(&cfg);
    for (size_t i = 0; opts[i]; i += 2)
        if (bp_config_set(&cfg, opts[i], opts[i + 1], err, sizeof err) != 0) {
            fprintf(stderr, "bench_deflate: %s\n", err);
            exit(1);
        }
    ei_x_buff sent;
    ei_x_new_with_version(&sent);
    if (bp__oneround_params(&cfg, 1000, &sent) != 0 || (unsigned char)sent.buff[1] != 80)
        exit(1);
    size_t raw = (size_t)(unsigned char)sent.buff[2] << 24 | (size_t)(unsigned char)sent.buff[3] << 16
                 | (size_t)(unsigned char)sent.buff[4] << 8 | (unsigned char)sent.buff[5];
    ei_x_buff raw_term;
    ei_x_new(&raw_term);
    if (bp__oneround_params_raw(&cfg, 1000, &raw_term) != 0)
        exit(1);
    double best = 1e18;
    for (int b = 0; b < batches; b++) {
        double t0 = now_us();
        for (int i = 0; i < 50; i++) {
            ei_x_buff z;
            ei_x_new(&z);
            if (bp_deflate_term((const unsigned char *)raw_term.buff, (size_t)raw_term.index, &z) != 0)
                exit(1);
            ei_x_free(&z);
        }
        double t = (now_us() - t0) / 50;
        if (t < best)
            best = t;
    }
    printf("| %s | %zu | %d | %.1f |\n", name, raw + 1, sent.index, best);
    ei_x_free(&raw_term);
    ei_x_free(&sent);
}

int main(int argc, char **argv)
{
    int batches = argc > 1 ? atoi(argv[1]) : 20;
    static const char *const plain[] = { NULL };
    static const char *const full[] = { "governor", "cost_guard,rollback_guard,backlog_valve", "supervisor", "demo_sup",
                                        "require-app", "demo", NULL };
    static const char *const every[] = { "governor", "gov_a,global:gov_b,gproc:tag_c", "supervisor", "sup_d,sup_e",
                                         "governors-under", "sup_f", "mnesia", "1", "top", "5", NULL };
    printf("| probe | parameters (bytes) | sent, compressed (bytes) | compressing them (µs, best of %d x 50) |\n", batches);
    printf("|---|---:|---:|---:|\n");
    measure("plain `check`", plain, batches);
    measure("full check (3 governors, a supervisor, an application)", full, batches);
    measure("every feature (governors, gproc, global, families, mnesia, --top)", every, batches);
    return 0;
}

/* oneround_samples.c: write the one-round request's parameters for sample configurations (every feature), for the cross-release decode check. */
#include <stdio.h>
#include <string.h>

#include "beamprobe.h"
#include "core/config.h"
#include "dist/collect_int.h"

/* Each sample: option=value pairs (NULL-terminated) on top of the defaults. */
static const char *const samples[][12] = {
    { NULL },                                  /* the defaults: a ready probe, no names */
    { "probe", "live", NULL },
    { "probe", "startup", NULL },
    { "governor", "gov_a,global:gov_b,gproc:tag_c", "supervisor", "sup_d,sup_e",
      "governors-under", "sup_f", "mnesia", "1", NULL },
    { "governor", "gproc:only_gproc", NULL },
    { "mnesia", "1", "supervisor", "sup_g", NULL },
    { "top", "10", "governor", "gov_h", NULL },
};

static int write_sample(const char *dir, size_t k, const char *const *opts)
{
    static bp_config cfg; /* large: not on the stack */
    char err[256], path[4096];
    ei_x_buff x;
    bp_config_defaults(&cfg);
    for (size_t i = 0; opts[i]; i += 2)
        if (bp_config_set(&cfg, opts[i], opts[i + 1], err, sizeof err) != 0) {
            fprintf(stderr, "oneround_samples: --%s %s: %s\n", opts[i], opts[i + 1], err);
            return -1;
        }
    if (ei_x_new_with_version(&x) != 0)
        return -1;
    int rc = bp__oneround_params(&cfg, 1000, &x) == 0 ? 0 : -1;
    FILE *f = NULL;
    if (rc == 0 && snprintf(path, sizeof path, "%s/params_%zu.bin", dir, k) < (int)sizeof path && (f = fopen(path, "wb")))
        rc = fwrite(x.buff, 1, (size_t)x.index, f) == (size_t)x.index ? 0 : -1;
    else
        rc = -1;
    if (f && fclose(f) != 0)
        rc = -1;
    ei_x_free(&x);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: oneround_samples DIR\n");
        return 2;
    }
    for (size_t k = 0; k < sizeof samples / sizeof samples[0]; k++)
        if (write_sample(argv[1], k, samples[k]) != 0) {
            fprintf(stderr, "oneround_samples: cannot write sample %zu in %s\n", k, argv[1]);
            return 1;
        }
    return 0;
}

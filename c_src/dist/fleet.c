/* fleet.c: probe many nodes at once, one thread each, so the whole takes as long as the slowest. */
#include "dist/fleet.h"

#include <pthread.h>
#include <stdlib.h>

#include "beamprobe.h"
#include "dist/collect.h"

typedef struct {
    const bp_config *cfg;
    const char *node, *cookie;
    bp_snapshot *snap;
} job;

static void *fleet_worker(void *arg)
{
    job *j = arg;
    j->snap = bp_probe_node(j->cfg, j->node, j->cookie);
    return NULL;
}

int bp_probe_fleet(const bp_config *cfg, const char *const *nodes, size_t n, const char *cookie,
                   bp_snapshot **out)
{
    if (n > BP_FLEET_MAX)
        return BP_EUSAGE;
    job *jobs = calloc(n + 1, sizeof *jobs);
    pthread_t *t = calloc(n + 1, sizeof *t);
    char *started = calloc(n + 1, 1);
    int rc = BP_ENOMEM;
    if (!jobs || !t || !started)
        goto out;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (size_t i = 0; i < n; i++) {
        jobs[i] = (job){ .cfg = cfg, .node = nodes[i], .cookie = cookie };
        started[i] = pthread_create(&t[i], &attr, fleet_worker, &jobs[i]) == 0;
        if (!started[i])
            fleet_worker(&jobs[i]); /* no thread: probe in place, the slower way */
    }
    pthread_attr_destroy(&attr);
    for (size_t i = 0; i < n; i++) {
        if (started[i])
            pthread_join(t[i], NULL);
        out[i] = jobs[i].snap;
    }
    rc = 0;
out:
    free(jobs);
    free(t);
    free(started);
    return rc;
}

/* fleet.c: probe many nodes at once, one thread each, so the whole takes as long as the slowest. */
#include "dist/fleet.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "beamprobe.h"
#include "dist/collect.h"

/* A probe's deepest frames are a few tens of KiB (bp_collect_with ~16 KiB): 1024 threads cost 256 MiB of address space, not memory. */
#define FLEET_STACK (256 * 1024)

typedef struct {
    const bp_config *cfg;
    const char *const *nodes;
    const char *cookie;
    bp_snapshot **out;
    size_t n;
    atomic_size_t next; /* the next node nobody probes yet */
} fleet;

/* Probe nodes until none is left: normally one each; fewer threads (pthread_create failed) take several. */
static void *fleet_worker(void *arg)
{
    fleet *f = arg;
    for (size_t i; (i = atomic_fetch_add(&f->next, 1)) < f->n;)
        f->out[i] = bp_probe_node(f->cfg, f->nodes[i], f->cookie);
    return NULL;
}

int bp_probe_fleet(const bp_config *cfg, const char *const *nodes, size_t n, const char *cookie,
                   bp_snapshot **out)
{
    if (n > BP_FLEET_MAX)
        return BP_EUSAGE;
    fleet f = { .cfg = cfg, .nodes = nodes, .cookie = cookie, .out = out, .n = n };
    atomic_init(&f.next, 0);
    pthread_t *t = calloc(n + 1, sizeof *t);
    if (!t)
        return BP_ENOMEM;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, FLEET_STACK);
    size_t started = 0;
    while (started + 1 < n && pthread_create(&t[started], &attr, fleet_worker, &f) == 0)
        started++;
    pthread_attr_destroy(&attr);
    fleet_worker(&f); /* this thread takes a node too, and every node no thread could */
    for (size_t i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    free(t);
    return 0;
}

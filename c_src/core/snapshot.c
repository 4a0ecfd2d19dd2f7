/* snapshot.c: creation and small accessors of the per-node fact snapshot. */
#include "core/snapshot.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"

/* Snapshots hold names, app lists and reasons, never raw replies. */
#define SNAPSHOT_ARENA_MAX ((size_t)8 << 20)

bp_snapshot *bp_snapshot_new(const char *node)
{
    bp_arena *a = bp_arena_new(SNAPSHOT_ARENA_MAX);
    if (!a)
        return NULL;
    bp_snapshot *s = bp_arena_alloc(a, sizeof *s);
    if (!s) {
        bp_arena_free(a);
        return NULL;
    }
    s->arena = a;
    s->node = bp_arena_strdup(a, node ? node : "");
    s->cgroup_limit = s->cgroup_usage = -1;
    s->uptime_ms = -1;
    s->plan_unused = -1;
    s->rtt_us = -1;
    s->open_fds = s->max_fds = -1; /* remote probes never collect them */
    return s;
}

int bp_snapshot_set_node(bp_snapshot *s, const char *real)
{
    if (!real || !*real || strcmp(real, s->node) == 0)
        return 0;
    const char *given = bp_snapshot_target(s);
    const char *copy = bp_arena_strdup(s->arena, real);
    if (!copy)
        return BP_ENOMEM;
    s->node = copy;
    s->given_as = strcmp(given, copy) == 0 ? NULL : given;
    return 0;
}

const char *bp_snapshot_target(const bp_snapshot *s)
{
    return s->given_as ? s->given_as : s->node;
}

const char *bp_snapshot_name_or(const bp_snapshot *s, const char *given)
{
    if (s && s->given_as)
        return s->node;
    return given ? given : s ? s->node : NULL;
}

void bp_snapshot_free(bp_snapshot *s)
{
    if (s)
        bp_arena_free(s->arena); /* s itself lives in the arena */
}

void bp_fact_fail(bp_snapshot *s, bp_fact *f, bp_fact_state state, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    f->state = state;
    f->error = bp_arena_strdup(s->arena, buf);
}

int64_t bp_snapshot_memory(const bp_snapshot *s, const char *kind)
{
    for (size_t i = 0; i < s->n_memory; i++)
        if (s->memory_kinds[i].kind && strcmp(s->memory_kinds[i].kind, kind) == 0)
            return s->memory_kinds[i].bytes;
    return -1;
}

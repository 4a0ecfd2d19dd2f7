/* collect_oneround.c: the parameters of the one-round request: what the collector's rounds would ask, as data for c_src/dist/oneround.erl.src. */
#include <string.h>

#include "beamprobe.h"
#include "core/cgroup.h"
#include "dist/collect_int.h"
#include "dist/deflate.h"
#include "dist/oneround.h"

/* Job kinds of oneround.erl.src (jobs/3). */
enum { K_GOVERNOR = 1, K_SUPERVISOR = 2, K_FAMILY = 3, K_GPROC = 4 };

static int encode_bin(ei_x_buff *x, const char *s)
{
    return ei_x_encode_binary(x, s, (long)strlen(s));
}

/* {Kind, Global, Name}: a name as given ("global:NAME" looked up in global), every name a binary. */
static int encode_job(ei_x_buff *x, int kind, const char *name)
{
    int global = strncmp(name, "global:", 7) == 0;
    if (kind == K_GOVERNOR && strncmp(name, "gproc:", 6) == 0) {
        kind = K_GPROC;
        name += 6;
    } else if (global) {
        name += 7;
    }
    return ei_x_encode_tuple_header(x, 3) < 0 || ei_x_encode_long(x, kind) < 0 || ei_x_encode_long(x, global) < 0
                   || encode_bin(x, name) < 0
               ? -1
               : 0;
}

static int encode_jobs(const bp_config *cfg, int only_top, ei_x_buff *x)
{
    const bp_namelist *lists[3] = { &cfg->governors, &cfg->governor_families, &cfg->supervisors };
    const int kinds[3] = { K_GOVERNOR, K_FAMILY, K_SUPERVISOR };
    long n = 0;
    if (cfg->probe != BP_PROBE_READY || only_top)
        return ei_x_encode_empty_list(x);
    for (int l = 0; l < 3; l++)
        n += (long)lists[l]->n;
    if (n > 0 && ei_x_encode_list_header(x, n) < 0)
        return -1;
    for (int l = 0; l < 3; l++)
        for (size_t i = 0; i < lists[l]->n; i++)
            if (encode_job(x, kinds[l], lists[l]->v[i]) != 0)
                return -1;
    return ei_x_encode_empty_list(x);
}

static int encode_cgroup(const bp_config *cfg, int only_top, ei_x_buff *x)
{
    if (!bp__wants_cgroup(cfg->probe) || only_top)
        return ei_x_encode_empty_list(x) < 0 || ei_x_encode_tuple_header(x, 4) < 0 || ei_x_encode_string(x, "") < 0
                       || ei_x_encode_string(x, "") < 0 || ei_x_encode_string(x, "") < 0 || ei_x_encode_string(x, "") < 0
                   ? -1
                   : 0;
    if (ei_x_encode_list_header(x, BP__CGROUP_FILES) < 0)
        return -1;
    for (int i = 0; i < BP__CGROUP_FILES; i++)
        if (ei_x_encode_string(x, bp__cgroup_paths[i]) < 0)
            return -1;
    return ei_x_encode_empty_list(x) < 0 || ei_x_encode_tuple_header(x, 4) < 0
                   || ei_x_encode_string(x, bp_cgroup_limit_file(1)) < 0
                   || ei_x_encode_string(x, bp_cgroup_usage_file(1)) < 0
                   || ei_x_encode_string(x, bp_cgroup_limit_file(2)) < 0
                   || ei_x_encode_string(x, bp_cgroup_usage_file(2)) < 0
               ? -1
               : 0;
}

/* Names of atoms a node may lack (mnesia's and gproc's): the target makes atoms of them only if it has them. */
static int encode_names(ei_x_buff *x)
{
    static const char *const names[] = { "mnesia", "db_nodes", "running_db_nodes", "tables", "where_to_read",
                                         "gproc", "n", "l" };
    if (ei_x_encode_tuple_header(x, (long)(sizeof names / sizeof names[0])) < 0)
        return -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (encode_bin(x, names[i]) < 0)
            return -1;
    return 0;
}

/* --top: 0 (off), or {N, WindowMs}. */
static int encode_top(const bp_config *cfg, ei_x_buff *x)
{
    if (cfg->top <= 0)
        return ei_x_encode_long(x, 0);
    return ei_x_encode_tuple_header(x, 2) < 0 || ei_x_encode_long(x, cfg->top) < 0
                   || ei_x_encode_long(x, cfg->top_window_ms) < 0
               ? -1
               : 0;
}

/* The features of the request this probe needs: only their procedures are sent. */
static unsigned features(const bp_config *cfg, int only_top)
{
    unsigned f = cfg->top > 0 ? BP_ONEROUND_TOP : 0;
    int ready = cfg->probe == BP_PROBE_READY;
    if (only_top)
        return f;
    if (bp__wants_cgroup(cfg->probe))
        f |= BP_ONEROUND_CGROUP;
    if (ready && cfg->mnesia)
        f |= BP_ONEROUND_MNESIA;
    if (ready && cfg->governors.n + cfg->governor_families.n + cfg->supervisors.n > 0)
        f |= BP_ONEROUND_PROCS;
    if (ready && cfg->governor_families.n > 0)
        f |= BP_ONEROUND_FAMILIES;
    for (size_t i = 0; ready && i < cfg->governors.n; i++)
        if (strncmp(cfg->governors.v[i], "gproc:", 6) == 0)
            f |= BP_ONEROUND_GPROC;
    return f;
}

/*
 * {1, {Budget, AppsTimeout, CgroupPaths, CgroupFiles, GovTimeout, Depth, MaxSupervisors,
 *      FamilyMax, Mnesia, MnesiaTablesMax, Names, ReplyMax, Top}, Jobs, Rule, Procedures};
 * only_top: every feature off but --top (the collector's own --top call, collect_top.c).
 */
static int encode_params(const bp_config *cfg, int64_t budget_ms, int only_top, ei_x_buff *x)
{
    int ready = cfg->probe == BP_PROBE_READY && !only_top;
    int64_t reply_max = cfg->max_reply_bytes / 10 * 9 - 1024; /* room for the reply's own frame */
    if (ei_x_encode_tuple_header(x, 5) < 0 || ei_x_encode_long(x, 1) < 0 || ei_x_encode_tuple_header(x, 13) < 0
        || ei_x_encode_longlong(x, budget_ms) < 0
        || ei_x_encode_long(x, bp__wants_apps(cfg->probe) && !only_top ? cfg->governor_timeout_ms : -1) < 0
        || encode_cgroup(cfg, only_top, x) != 0 || ei_x_encode_long(x, cfg->governor_timeout_ms) < 0
        || ei_x_encode_long(x, cfg->supervisor_depth) < 0 || ei_x_encode_long(x, BP__MAX_SUPERVISORS) < 0
        || ei_x_encode_long(x, BP_FAMILY_MAX) < 0 || ei_x_encode_long(x, ready && cfg->mnesia) < 0
        || ei_x_encode_long(x, BP__MN_TABLES_MAX) < 0 || encode_names(x) != 0
        || ei_x_encode_longlong(x, reply_max > 0 ? reply_max : 0) < 0 || encode_top(cfg, x) != 0
        || encode_jobs(cfg, only_top, x) != 0 || (only_top ? ei_x_encode_empty_list(x) : bp_prockind_encode_rule(x)) < 0
        || bp_oneround_encode_procs(x, features(cfg, only_top)) < 0)
        return BP_ENOMEM;
    return 0;
}

/*
 * Parameters up to this size go as they are: with the request's expression and the message's
 * framing they fit TCP's initial window (10 segments of 1448 bytes on a 1500-byte MTU): nothing
 * to gain, and both sides are spared the work (bench/bench_link.sh measures it).
 */
#define RAW_MAX 12288

/*
 * The parameters compressed as term_to_binary(_, [compressed]) would (dist/deflate.h): 17 KB for
 * a plain probe, 57 KB for a full check, most of it the procedures' abstract code, become 3 and
 * 9 KB. Sent whole they exceed TCP's initial window: on a fresh connection (and on serve's kept
 * one after an idle interval, which restarts the window) the request would cost one or two round
 * trips more than its one.
 */
static int compressed_params(const bp_config *cfg, int64_t budget_ms, int only_top, ei_x_buff *x)
{
    ei_x_buff raw;
    if (ei_x_new(&raw) < 0)
        return BP_ENOMEM;
    int rc = encode_params(cfg, budget_ms, only_top, &raw);
    if (rc == 0) {
        rc = raw.index <= RAW_MAX ? 1 : bp_deflate_term((const unsigned char *)raw.buff, (size_t)raw.index, x);
        if (rc == 1) /* small enough, or not worth it */
            rc = ei_x_append_buf(x, raw.buff, raw.index) < 0 ? BP_ENOMEM : 0;
    }
    ei_x_free(&raw);
    return rc;
}

int bp__oneround_params(const bp_config *cfg, int64_t budget_ms, ei_x_buff *x)
{
    return compressed_params(cfg, budget_ms, 0, x);
}

int bp__oneround_top_params(const bp_config *cfg, int64_t budget_ms, ei_x_buff *x)
{
    return compressed_params(cfg, budget_ms, 1, x);
}

int bp__oneround_params_raw(const bp_config *cfg, int64_t budget_ms, ei_x_buff *x)
{
    return encode_params(cfg, budget_ms, 0, x);
}

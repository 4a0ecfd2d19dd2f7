/* collect_int.h: the collector's state and reply helpers, shared by collect.c and collect_procs.c only. */
#ifndef BP_COLLECT_INT_H
#define BP_COLLECT_INT_H

#include "dist/collect.h"
#include "dist/prockind.h"
#include "dist/term.h"

#define BP__MAX_SUPERVISORS 64
#define BP__MN_TABLES_MAX 1024 /* --mnesia: tables asked about per probe */
#define BP__CGROUP_FILES 6

typedef enum { J_ATOM, J_WHEREIS, J_GPROC, J_PROVE, J_ATTRS, J_ASK, J_DONE } bp__job_stage;

/*
 * One process the probe looks into: a governor (alone or a member of a family),
 * a supervisor (a root by name, or a nested one by pid), or the root of a
 * governor family (its supervisor, or its gproc query). It moves through the
 * stages one round at a time: find the pid, prove the process's kind, (for a
 * hibernated one) read its module's behaviours, then ask what its kind
 * answers, or refuse to.
 */
typedef struct {
    bp_supervisor_snap *sup;   /* exactly one of sup, gov, fam */
    bp_governor_snap *gov;
    bp_govfamily_snap *fam;
    const char *name;          /* registered name (J_ATOM, J_WHEREIS; "global:NAME" for global), or gproc tag */
    bp__job_stage stage;
    bp_term pid;               /* valid from J_PROVE on; its node name lives in the snapshot's arena */
    bp_prockind kind;
    int at[3];                 /* this round's calls of the job, -1 if none */
} bp__proc_job;

typedef struct {
    const bp_collect_exec *ex;
    const bp_config *cfg;
    bp_snapshot *snap;
    int64_t deadline;
    int at[32];                        /* index of each node call in round one, -1 if not asked */
    int *custom_at;
    int cg_files;                      /* round one: the cgroup_paths read */
    int cg_version, cg_files2;         /* round two: the located cgroup's limit and usage */
    int bif_at;                        /* the one block_call carrying every cheap BIF, or -1 */
    int bif_ok;                        /* it answered: bif_items[k] holds each result */
    int bif_fallback;                  /* it was refused: round two asks each BIF alone */
    const bp_term *bif_items[32];
    int64_t mono_now_s;                /* the target's erlang:monotonic_time(second), if mono_known */
    int mono_known;
    int mn_stage;                      /* --mnesia: next step (collect_mnesia.c) */
    int mn_at[4];
    const bp_term *mn_tables;          /* the table list, in the previous round's batch */
    int top_at;                        /* --top: the call of round one, -1 if none */
    bp__proc_job *jobs;                /* heap, grows; freed by bp__procs_free */
    size_t n_jobs, cap_jobs;
} bp__collector;

/* The useful reply of call i, or NULL with the fact marked failed (the first failure wins). */
const bp_term *bp__reply_of(bp__collector *c, bp_batch *b, int i, bp_fact *f);
/* Add a call to b; its index goes to *index. NULL on OOM. */
ei_x_buff *bp__add_call(bp_batch *b, const char *mod, const char *fun, int argc, int *index);
int64_t bp__int_or(const bp_term *t, int64_t dflt);
/* A pid as text, "<node.id.serial>", in a (NULL on OOM). */
const char *bp__pid_text(bp_arena *a, const bp_term *pid);
/* Fact OK unless a reply already failed it. */
void bp__fact_ok(bp_fact *f);
/* Encode `fun mod:fun/arity` (an export fun, which a node applies without loading code). ei's result. */
int bp__encode_export(ei_x_buff *x, const char *mod, const char *fun, long arity);
/* Is the reply {badrpc, {'EXIT', Reason}} with Reason (or its first element) the atom `reason`? */
int bp__exit_reason_is(const bp_rpc *r, const char *reason);

/* Does probe kind k read the applications, the cgroup (collect.c)? */
int bp__wants_apps(bp_probe_kind k);
int bp__wants_cgroup(bp_probe_kind k);
/* The cgroup files round one reads: where the node's cgroup is, then a container's own limit files. */
extern const char *const bp__cgroup_paths[BP__CGROUP_FILES];

/*
 * The parameters of the one-round request (c_src/dist/oneround.erl.src) for cfg, with budget_ms for
 * the calls that may wait, as term_to_binary output into x (collect_oneround.c), compressed when
 * over 12 KiB. 0 or BP_ENOMEM.
 */
int bp__oneround_params(const bp_config *cfg, int64_t budget_ms, ei_x_buff *x);
/* The same request with every feature off but --top: the collector's own --top call (collect_top.c). */
int bp__oneround_top_params(const bp_config *cfg, int64_t budget_ms, ei_x_buff *x);
/* bp__oneround_params uncompressed (test_deflate.c, bench/bench_deflate.c). */
int bp__oneround_params_raw(const bp_config *cfg, int64_t budget_ms, ei_x_buff *x);

/* --top: plan the one call of round one into b (c->top_at), then take its reply (collect_top.c). */
int bp__top_plan(bp__collector *c, bp_batch *b);
void bp__top_take(bp__collector *c, bp_batch *b);

/* Create the jobs of the configured governors and supervisors. 0 or BP_ENOMEM. */
int bp__procs_init(bp__collector *c);
/* Add every unfinished job's calls for this round to b. 0 or BP_ENOMEM. */
int bp__procs_plan(bp__collector *c, bp_batch *b);
/* Take the replies of the calls bp__procs_plan put into b; jobs move on (nested supervisors join). */
void bp__procs_take(bp__collector *c, bp_batch *b);
/* Free the jobs. */
void bp__procs_free(bp__collector *c);

/* --mnesia: plan this round's calls into b (0 or BP_ENOMEM), then take their replies. */
int bp__mnesia_plan(bp__collector *c, bp_batch *b);
void bp__mnesia_take(bp__collector *c, bp_batch *b);
/* Names of a list of atoms into out (arena); -1 if the term is no such list. */
int bp__names_of(bp__collector *c, const bp_term *list, bp_strv *out, const char *skip);

#endif

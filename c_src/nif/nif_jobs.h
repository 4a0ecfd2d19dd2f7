/* nif_jobs.h: the API's network waits on threads of their own, answered by message: one thread per call, capped. */
#ifndef BP_NIF_JOBS_H
#define BP_NIF_JOBS_H

#include <erl_nif.h>

#define BP_NIF_MAX_JOBS_DEFAULT 256
#define BP_NIF_MAX_JOBS_LIMIT 4096

/*
 * The work of a job, run on the job's thread: builds its answer in env (a
 * process-independent environment) and returns it (0 for {error, enomem}).
 * It must end by its own deadline (every probe does: --timeout).
 * free_arg releases arg once the work is over (or was never started).
 */
typedef ERL_NIF_TERM bp_nif_work_fn(ErlNifEnv *env, void *arg);
typedef void bp_nif_work_free_fn(void *arg);

/* The jobs of one instance of the library (enif_priv_data): a count, a cap, finished threads to join. */
typedef struct bp_nif_jobs bp_nif_jobs;

/* max_jobs outside 1..BP_NIF_MAX_JOBS_LIMIT gives the default. NULL on OOM. */
bp_nif_jobs *bp_nif_jobs_new(int max_jobs);
/* Wait until every job's thread has finished, join them all, free jobs (module unload). */
void bp_nif_jobs_free(bp_nif_jobs *jobs);

/*
 * Start work(arg) on a new thread for the calling process, which gets
 * {Ref, Answer} from it exactly once, unless it cancels the job first
 * (nif_job_finish). Takes arg whatever happens. Returns {ok, Job},
 * {error, busy} when max_jobs are running or the system refuses a thread,
 * or {error, enomem}.
 */
ERL_NIF_TERM bp_nif_job_start(ErlNifEnv *env, ERL_NIF_TERM ref, bp_nif_work_fn *work, bp_nif_work_free_fn *free_arg,
                              void *arg);

/*
 * nif_job_finish(Job) -> answered | cancelled: the caller stops waiting.
 * cancelled: no answer will ever come; answered: the answer is in the
 * caller's mailbox or about to be. Joins the threads of finished jobs.
 */
ERL_NIF_TERM bp_nif_job_finish(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);

#endif

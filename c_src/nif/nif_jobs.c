/* nif_jobs.c: one thread per network wait of the API, capped, answering its caller once by message. */
#include "nif/nif_jobs.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "nif/nif.h"

static char name_jobs[] = "beamprobe_jobs"; /* enif takes char * */
static char name_job[] = "beamprobe_job";

/* A job's thread stack: a probe needs tens of KiB (more under ASan); this is address space, not memory. */
#define JOB_STACK_KWORDS 128

enum { JOB_WAITING, JOB_ANSWERED, JOB_CANCELLED };

/*
 * The Job term's resource: the one fact the caller and the thread decide
 * together, by compare-and-swap from JOB_WAITING. Whoever moves it first
 * wins: the thread sends its answer only if it moved it to JOB_ANSWERED,
 * and a caller that moved it to JOB_CANCELLED knows no answer will come.
 */
struct bp_nif_job_cell {
    atomic_int state;
};

/* What a job's thread owns; once finished, it waits on the exited list to be joined and freed. */
typedef struct job {
    bp_nif_jobs *owner;
    struct bp_nif_job_cell *cell; /* kept until the answer is decided */
    ErlNifPid caller;
    ErlNifEnv *env;               /* holds ref and the answer */
    ERL_NIF_TERM ref;
    bp_nif_work_fn *work;
    bp_nif_work_free_fn *free_arg;
    void *arg;
    ErlNifTid tid;                /* written under owner->mu before the thread can exit */
    struct job *next;
} job;

struct bp_nif_jobs {
    ErlNifMutex *mu;
    ErlNifCond *idle; /* signalled when running drops */
    ErlNifThreadOpts *opts;
    int running;      /* threads started and not yet on the exited list */
    int max;
    job *exited;      /* finished threads, to join */
};

bp_nif_jobs *bp_nif_jobs_new(int max_jobs)
{
    bp_nif_jobs *j = enif_alloc(sizeof *j);
    if (!j)
        return NULL;
    memset(j, 0, sizeof *j);
    j->max = max_jobs >= 1 && max_jobs <= BP_NIF_MAX_JOBS_LIMIT ? max_jobs : BP_NIF_MAX_JOBS_DEFAULT;
    j->mu = enif_mutex_create(name_jobs);
    j->idle = enif_cond_create(name_jobs);
    j->opts = enif_thread_opts_create(name_job);
    if (!j->mu || !j->idle || !j->opts) {
        bp_nif_jobs_free(j);
        return NULL;
    }
    j->opts->suggested_stack_size = JOB_STACK_KWORDS;
    return j;
}

/* Join and free the threads that have finished (each is past its last use of anything but its stack). */
static void reap(bp_nif_jobs *j)
{
    enif_mutex_lock(j->mu);
    job *list = j->exited;
    j->exited = NULL;
    enif_mutex_unlock(j->mu);
    while (list) {
        job *next = list->next;
        enif_thread_join(list->tid, NULL);
        enif_free(list);
        list = next;
    }
}

void bp_nif_jobs_free(bp_nif_jobs *j)
{
    if (!j)
        return;
    if (j->mu && j->idle) {
        enif_mutex_lock(j->mu);
        while (j->running > 0)
            enif_cond_wait(j->idle, j->mu);
        enif_mutex_unlock(j->mu);
        reap(j);
    }
    if (j->opts)
        enif_thread_opts_destroy(j->opts);
    if (j->idle)
        enif_cond_destroy(j->idle);
    if (j->mu)
        enif_mutex_destroy(j->mu);
    enif_free(j);
}

/*
 * How much nicer than the VM a job's thread runs. It mostly waits on
 * sockets and needs little CPU, but 50 threads made at once all runnable
 * on 2 cores took the CPU from the VM's schedulers for tens of ms (a file
 * read meanwhile waited 34 ms); at a lower priority they make way for them.
 */
#define JOB_NICE_DELTA 10

static void make_way_for_the_vm(void)
{
    id_t self = (id_t)gettid();
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, self);
    if (nice == -1 && errno != 0)
        return;
    (void)setpriority(PRIO_PROCESS, self, nice + JOB_NICE_DELTA > 19 ? 19 : nice + JOB_NICE_DELTA);
}

static void *job_main(void *arg)
{
    job *jb = arg;
    make_way_for_the_vm(); /* Linux: per thread; the fleet's threads inherit it */
    ERL_NIF_TERM answer = jb->work(jb->env, jb->arg);
    jb->free_arg(jb->arg);
    jb->arg = NULL;
    int waiting = JOB_WAITING;
    if (atomic_compare_exchange_strong(&jb->cell->state, &waiting, JOB_ANSWERED)) {
        if (!answer)
            answer = bp_nif_error(jb->env, bp_atom.enomem);
        /* a caller that has died meanwhile is simply not there to get it */
        (void)enif_send(NULL, &jb->caller, jb->env, enif_make_tuple2(jb->env, jb->ref, answer));
    }
    enif_free_env(jb->env); /* an answer nobody took (a snapshot resource) goes with it */
    enif_release_resource(jb->cell);
    bp_nif_jobs *j = jb->owner;
    enif_mutex_lock(j->mu);
    jb->next = j->exited;
    j->exited = jb;
    j->running--;
    enif_cond_broadcast(j->idle);
    enif_mutex_unlock(j->mu);
    return NULL;
}

ERL_NIF_TERM bp_nif_job_start(ErlNifEnv *env, ERL_NIF_TERM ref, bp_nif_work_fn *work, bp_nif_work_free_fn *free_arg,
                              void *arg)
{
    bp_nif_priv *p = bp_nif_priv_of(env);
    bp_nif_jobs *j = p->jobs;
    reap(j);
    job *jb = enif_alloc(sizeof *jb);
    struct bp_nif_job_cell *cell = enif_alloc_resource(p->job, sizeof *cell);
    ErlNifEnv *menv = enif_alloc_env();
    if (!jb || !cell || !menv) {
        free_arg(arg);
        enif_free(jb);
        if (cell)
            enif_release_resource(cell);
        if (menv)
            enif_free_env(menv);
        return bp_nif_error(env, bp_atom.enomem);
    }
    atomic_init(&cell->state, JOB_WAITING);
    *jb = (job){ .owner = j, .cell = cell, .env = menv, .ref = enif_make_copy(menv, ref), .work = work,
                 .free_arg = free_arg, .arg = arg };
    enif_self(env, &jb->caller);
    ERL_NIF_TERM result = enif_make_tuple2(env, bp_atom.ok, enif_make_resource(env, cell));
    /* the thread is made under the lock, so its tid is written before it can exit and be joined */
    enif_mutex_lock(j->mu);
    int started = j->running < j->max && enif_thread_create(name_job, &jb->tid, job_main, jb, j->opts) == 0;
    if (started)
        j->running++;
    enif_mutex_unlock(j->mu);
    if (!started) {
        free_arg(arg);
        enif_free_env(menv);
        enif_release_resource(cell);
        enif_free(jb);
        return bp_nif_error(env, bp_atom.busy);
    }
    return result; /* the thread's reference to cell is the one alloc gave; the term holds its own */
}

ERL_NIF_TERM bp_nif_job_finish(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    bp_nif_priv *p = bp_nif_priv_of(env);
    struct bp_nif_job_cell *cell;
    if (!enif_get_resource(env, argv[0], p->job, (void **)&cell))
        return enif_make_badarg(env);
    int waiting = JOB_WAITING;
    int cancelled = atomic_compare_exchange_strong(&cell->state, &waiting, JOB_CANCELLED)
                    || waiting == JOB_CANCELLED;
    reap(p->jobs);
    return cancelled ? bp_atom.cancelled : bp_atom.answered;
}

/* nif_agent.c: the in-VM health server: `serve`'s site and HTTP server on NIF threads, plus a VM watchdog. */
#include "nif/nif.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "core/token_file.h"
#include "http/server.h"
#include "http/site.h"

static char name_agent[] = "beamprobe_agent"; /* enif takes char * */
static char name_http[] = "beamprobe_http"; /* enif takes char * */
static char name_watchdog[] = "beamprobe_watchdog"; /* enif takes char * */

/*
 * The HTTP thread answers from what the agent process (beamprobe.erl)
 * published last, so it keeps answering when the VM does not. The watchdog
 * thread sends that process {'$beamprobe_ping', Seq} and the process answers
 * with nif_agent_pong/2: a ping left unanswered for longer than the budget
 * means the schedulers are not running normal work, and every probe route
 * then answers 503 "VM unresponsive" at once instead of hanging or
 * repeating a stale verdict.
 */
typedef struct {
    ErlNifMutex *mu;          /* guards the lifecycle fields below */
    int running;              /* threads started, not yet joined */
    atomic_int stopping;
    bp_site *site;
    bp_http_server *http;
    ErlNifTid http_tid, dog_tid;
    ErlNifPid owner;
    int budget_ms;
    atomic_llong ping_sent_us;    /* monotonic µs of the unanswered ping, 0 if none */
    atomic_ullong pings, pongs;
    atomic_llong last_rtt_us;     /* -1 before the first answer */
} agent;

static agent *get_agent(ErlNifEnv *env, ERL_NIF_TERM t)
{
    agent *a;
    return enif_get_resource(env, t, bp_nif_priv_of(env)->agent, (void **)&a) ? a : NULL;
}

/* Milliseconds the VM has owed an answer, 0 when it is keeping up. */
static int64_t owed_ms(agent *a)
{
    int64_t sent = atomic_load(&a->ping_sent_us);
    return sent ? (bp_now_us() - sent) / 1000 : 0;
}

static void handle(void *ctx, const bp_http_request *req, bp_http_response *resp)
{
    agent *a = ctx;
    int64_t owed = owed_ms(a);
    if (owed > a->budget_ms && bp_site_is_probe_route(req)) {
        int n = snprintf(resp->tail, sizeof resp->tail,
                         "{\"status\":\"fail\",\"ok\":false,\"reason\":\"VM unresponsive\",\"detail\":\"no answer "
                         "from the VM's schedulers for %lld ms (budget %d ms)\",\"unresponsive_ms\":%lld}\n",
                         (long long)owed, a->budget_ms, (long long)owed);
        resp->status = 503;
        resp->content_type = "application/json";
        resp->tail_len = n > 0 && (size_t)n < sizeof resp->tail ? (size_t)n : 0;
        resp->headers_len = (size_t)snprintf(resp->headers, sizeof resp->headers, "Cache-Control: no-store\r\n");
        return;
    }
    bp_site_handle(a->site, req, resp);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void *http_main(void *arg)
{
    agent *a = arg;
    (void)bp_http_run(a->http);
    return NULL;
}

/* Ping the owner every budget/4 (at least 20 ms), one ping outstanding at a time. */
static void *dog_main(void *arg)
{
    agent *a = arg;
    ErlNifEnv *msg_env = enif_alloc_env();
    ERL_NIF_TERM tag = enif_make_atom(msg_env, "$beamprobe_ping");
    int period = a->budget_ms / 4 > 20 ? a->budget_ms / 4 : 20;
    while (!atomic_load(&a->stopping)) {
        if (atomic_load(&a->ping_sent_us) == 0) {
            unsigned long long seq = atomic_fetch_add(&a->pings, 1) + 1;
            atomic_store(&a->ping_sent_us, bp_now_us());
            ERL_NIF_TERM msg = enif_make_tuple2(msg_env, tag, enif_make_uint64(msg_env, seq));
            if (!enif_send(NULL, &a->owner, msg_env, msg))
                atomic_store(&a->ping_sent_us, 0); /* owner gone: the resource goes with it */
            enif_clear_env(msg_env);
            tag = enif_make_atom(msg_env, "$beamprobe_ping");
        }
        /* short slices, so that a stop is prompt */
        for (int slept = 0; slept < period && !atomic_load(&a->stopping); slept += 10)
            sleep_ms(10);
    }
    enif_free_env(msg_env);
    return NULL;
}

/* Stop and join both threads, free the server and the site. Idempotent. */
static void agent_shutdown(agent *a)
{
    enif_mutex_lock(a->mu);
    int was = a->running;
    a->running = 0;
    atomic_store(&a->stopping, 1);
    enif_mutex_unlock(a->mu);
    if (was) {
        bp_http_stop(a->http);
        enif_thread_join(a->http_tid, NULL);
        enif_thread_join(a->dog_tid, NULL);
    }
    enif_mutex_lock(a->mu); /* publish and info look at these under the lock */
    bp_http_free(a->http);
    a->http = NULL;
    bp_site_free(a->site);
    a->site = NULL;
    enif_mutex_unlock(a->mu);
}

void bp_nif_agent_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    agent *a = obj;
    if (a->mu) {
        agent_shutdown(a);
        enif_mutex_destroy(a->mu);
    }
}

/*
 * nif_agent_start(Config, Node, BudgetMs) -> {ok, Agent, Port} | {error, {Reason, Message}}.
 * The calling process owns the agent: it gets the pings, and when it exits
 * the resource goes and the destructor stops the server.
 */
ERL_NIF_TERM bp_nif_agent_start(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    const bp_config *cfg0 = bp_nif_get_config(env, argv[0]);
    char node[BP_NAME_MAX], err[512];
    int budget;
    if (!cfg0 || !bp_nif_text(env, argv[1], node, sizeof node) || !enif_get_int(env, argv[2], &budget)
        || budget < 10)
        return enif_make_badarg(env);
    agent *a = enif_alloc_resource(bp_nif_priv_of(env)->agent, sizeof *a);
    if (!a)
        return bp_nif_error(env, bp_atom.enomem);
    memset(a, 0, sizeof *a);
    atomic_init(&a->last_rtt_us, -1);
    a->budget_ms = budget;
    a->mu = enif_mutex_create(name_agent);
    enif_self(env, &a->owner);
    ERL_NIF_TERM result;
    char token[BP_TOKEN_MAX + 1];
    int have_token = cfg0->auth_token_file[0] != '\0'; /* read as strictly as serve reads it */
    if (have_token && bp_token_file_load(cfg0->auth_token_file, token, sizeof token, err, sizeof err) != 0) {
        result = bp_nif_error(env, enif_make_tuple2(env, bp_atom.usage, bp_nif_binary(env, err, strlen(err))));
        goto out;
    }
    a->site = a->mu ? bp_nif_site_for(cfg0, node, have_token ? token : NULL) : NULL;
    explicit_bzero(token, sizeof token);
    if (!a->site) {
        result = bp_nif_error(env, bp_atom.enomem);
        goto out;
    }
    bp_http_opts ho = {
        .listen = cfg0->listen,
        .max_connections = cfg0->max_connections,
        .idle_timeout_ms = cfg0->idle_timeout_ms,
        .header_timeout_ms = cfg0->header_timeout_ms,
        .tls_cert = cfg0->tls_cert[0] ? cfg0->tls_cert : NULL,
        .tls_key = cfg0->tls_key[0] ? cfg0->tls_key : NULL,
        .tls_client_ca = cfg0->tls_client_ca[0] ? cfg0->tls_client_ca : NULL,
        .access_log = cfg0->access_log,
    };
    int rc = bp_http_new(&ho, handle, a, &a->http, err, sizeof err);
    if (rc != 0) {
        result = bp_nif_error(env, enif_make_tuple2(env, rc == BP_EUSAGE ? bp_atom.usage : bp_atom.eio,
                                                      bp_nif_binary(env, err, strlen(err))));
        goto out;
    }
    if (enif_thread_create(name_http, &a->http_tid, http_main, a, NULL) != 0) {
        result = bp_nif_error(env, bp_atom.enomem);
        goto out;
    }
    if (enif_thread_create(name_watchdog, &a->dog_tid, dog_main, a, NULL) != 0) {
        bp_http_stop(a->http);
        enif_thread_join(a->http_tid, NULL);
        result = bp_nif_error(env, bp_atom.enomem);
        goto out;
    }
    a->running = 1;
    result = enif_make_tuple3(env, bp_atom.ok, enif_make_resource(env, a), enif_make_int(env, bp_http_port(a->http)));
out:
    enif_release_resource(a); /* on failure the destructor frees what was made */
    return result;
}

/* nif_agent_publish(Agent, Snapshot) -> ok: the site adopts the snapshot. */
ERL_NIF_TERM bp_nif_agent_publish(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    agent *a = get_agent(env, argv[0]);
    bp_nif_snapshot *sr = bp_nif_get_snapshot(env, argv[1]);
    if (!a || !sr)
        return enif_make_badarg(env);
    enif_mutex_lock(a->mu);
    if (!a->site) {
        enif_mutex_unlock(a->mu);
        return bp_nif_error(env, bp_atom.not_running);
    }
    bp_snapshot *snap = bp_nif_take_snapshot(sr);
    if (snap)
        bp_site_publish(a->site, snap);
    enif_mutex_unlock(a->mu);
    return snap ? bp_atom.ok : enif_make_badarg(env);
}

/* nif_agent_pong(Agent, Seq) -> ok: the VM answered ping Seq. */
ERL_NIF_TERM bp_nif_agent_pong(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    agent *a = get_agent(env, argv[0]);
    ErlNifUInt64 seq;
    if (!a || !enif_get_uint64(env, argv[1], &seq))
        return enif_make_badarg(env);
    int64_t sent = atomic_load(&a->ping_sent_us);
    if (seq == atomic_load(&a->pings) && sent) {
        atomic_store(&a->last_rtt_us, bp_now_us() - sent);
        atomic_fetch_add(&a->pongs, 1);
        atomic_store(&a->ping_sent_us, 0);
    }
    return bp_atom.ok;
}

/* nif_agent_stop(Agent) -> ok (dirty I/O: in-flight responses get up to BP_HTTP_STOP_GRACE_MS). */
ERL_NIF_TERM bp_nif_agent_stop(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    agent *a = get_agent(env, argv[0]);
    if (!a)
        return enif_make_badarg(env);
    agent_shutdown(a);
    return bp_atom.ok;
}

/* nif_agent_info(Agent) -> #{port, pings, pongs, last_rtt_us, owed_ms, running}. */
ERL_NIF_TERM bp_nif_agent_info(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    agent *a = get_agent(env, argv[0]);
    if (!a)
        return enif_make_badarg(env);
    enif_mutex_lock(a->mu);
    int running = a->running, port = a->http ? bp_http_port(a->http) : 0;
    enif_mutex_unlock(a->mu);
    ERL_NIF_TERM keys[] = { enif_make_atom(env, "running"), enif_make_atom(env, "port"), enif_make_atom(env, "pings"),
                            enif_make_atom(env, "pongs"), enif_make_atom(env, "last_rtt_us"),
                            enif_make_atom(env, "owed_ms"), enif_make_atom(env, "budget_ms") };
    ERL_NIF_TERM vals[] = { running ? bp_atom.true : bp_atom.false, enif_make_int(env, port),
                            enif_make_uint64(env, atomic_load(&a->pings)),
                            enif_make_uint64(env, atomic_load(&a->pongs)),
                            enif_make_int64(env, atomic_load(&a->last_rtt_us)), enif_make_int64(env, owed_ms(a)),
                            enif_make_int(env, a->budget_ms) };
    ERL_NIF_TERM m;
    if (!enif_make_map_from_arrays(env, keys, vals, sizeof keys / sizeof keys[0], &m))
        return enif_make_badarg(env);
    return m;
}

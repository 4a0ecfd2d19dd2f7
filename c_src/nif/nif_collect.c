/* nif_collect.c: a snapshot of the NIF's own VM: the remote probe's RPC plan, run in-VM by beamprobe.erl. */
#include "nif/nif.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "dist/collect.h"
#include "nif/nif_facts.h"

/*
 * Collection is replayed: every step runs bp_collect_with from the start,
 * answering each round from the replies Erlang has sent so far. The first
 * round without replies is handed to Erlang as a list of calls, and the step
 * ends. The plan is a pure function of the configuration and the replies, so
 * each replay asks the same calls; rounds are few (1 + supervisor depth), and
 * no state lives in C between steps: nothing to leak when a caller dies.
 */
/*
 * Reply bytes a step decodes (every replayed round counts) above which it
 * moves to a dirty scheduler: decoding costs ~50 ns per term and a term can
 * be one byte ([] or a small integer), so 16 KiB stays under ~1 ms
 * (bench/bench_nif.sh measures it).
 */
#define DIRTY_ABOVE (16 * 1024)
#define FILE_MAX (256 * 1024)   /* a file read in C for the plan (cgroup, mountinfo) */
#define FILE_START (16 * 1024)  /* its first buffer, doubled up to FILE_MAX */

typedef struct {
    ErlNifEnv *env;
    ERL_NIF_TERM rounds;   /* replies not yet used, one list per round */
    int64_t max_reply;
    int need;              /* reached a round without replies: `calls` holds it */
    int bad;               /* the replies do not fit the plan */
    ERL_NIF_TERM calls;
} replay;

/* Read one file into out as {ok, Binary} or {error, Reason}. */
static int encode_file(ei_x_buff *out, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return ei_x_encode_tuple_header(out, 2) | ei_x_encode_atom(out, "error")
               | ei_x_encode_atom(out, errno == ENOENT ? "enoent" : errno == EACCES ? "eacces" : "eio");
    /* grown as needed: the files are a few KiB, and FILE_MAX at once would be mapped and unmapped every call */
    size_t cap = FILE_START, n = 0;
    char *buf = malloc(cap);
    ssize_t got = 1;
    while (buf && n < FILE_MAX && (got = read(fd, buf + n, cap - n)) > 0) {
        n += (size_t)got;
        if (n == cap && cap < FILE_MAX) {
            char *more = realloc(buf, cap * 2);
            if (!more) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = more;
            cap *= 2;
        }
    }
    close(fd);
    int rc;
    if (!buf || got < 0 || n == FILE_MAX)
        rc = ei_x_encode_tuple_header(out, 2) | ei_x_encode_atom(out, "error")
             | ei_x_encode_atom(out, !buf ? "enomem" : got < 0 ? "eio" : "efbig");
    else
        rc = ei_x_encode_tuple_header(out, 2) | ei_x_encode_atom(out, "ok") | ei_x_encode_binary(out, buf, (long)n);
    free(buf);
    return rc;
}

/*
 * lists:map(fun file:read_file/1, Paths), the plan's only file access, is
 * answered here: the container facts are read in C, not through the VM's
 * file server. 1 with the reply (external term format) in *out, which the
 * caller frees; 0 if r is some other call (or out of memory: Erlang runs it).
 */
static int answer_in_c(const bp_rpc *r, ei_x_buff *out)
{
    if (strcmp(r->mod, "lists") != 0 || strcmp(r->fun, "map") != 0 || r->argc != 2)
        return 0;
    const char *in = r->args.buff;
    int i = 0, arity, n, type, size;
    erlang_fun f;
    if (ei_decode_list_header(in, &i, &arity) < 0 || arity != 2 || ei_decode_fun(in, &i, &f) < 0)
        return 0;
    int is_read = f.type == EI_FUN_EXPORT && strcmp(f.module, "file") == 0
                  && strcmp(f.u.exprt.func, "read_file") == 0;
    free_fun(&f);
    if (!is_read || ei_decode_list_header(in, &i, &n) < 0)
        return 0;
    if (ei_x_new_with_version(out) < 0)
        return 0;
    if (n > 0 && ei_x_encode_list_header(out, n) < 0)
        goto fail;
    for (int k = 0; k < n; k++) {
        char path[1100];
        if (ei_get_type(in, &i, &type, &size) < 0 || size >= (int)sizeof path || ei_decode_string(in, &i, path) < 0
            || encode_file(out, path) < 0)
            goto fail;
    }
    if (ei_x_encode_empty_list(out) < 0)
        goto fail;
    return 1;
fail:
    ei_x_free(out);
    return 0;
}

/*
 * A round whose every call is answered in C (the cgroup files of round two)
 * is answered right away, without a trip through Erlang and another replay:
 * 1 when it was (replies set, or *rc = BP_ENOMEM), 0 when Erlang must run it.
 * Deterministic, as the replay needs: such a round never reaches Erlang, so
 * the rounds Erlang sends back are only the others.
 */
static int answer_round_in_c(bp_batch *b, int64_t max_reply, int *rc)
{
    size_t n = bp_batch_count(b);
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const bp_rpc *r = bp_batch_get(b, i);
        if (strcmp(r->mod, "lists") != 0 || strcmp(r->fun, "map") != 0)
            return 0; /* cheap filter; answer_in_c decides */
    }
    *rc = 0;
    for (size_t i = 0; i < n; i++) {
        ei_x_buff out;
        if (!answer_in_c(bp_batch_get(b, i), &out))
            return i == 0 ? 0 : (*rc = BP_ENOMEM, 1); /* a later call of the same shape failed: out of memory */
        if (bp_batch_set_reply(b, i, (const unsigned char *)out.buff, (size_t)out.index, max_reply) == BP_ENOMEM)
            *rc = BP_ENOMEM;
        ei_x_free(&out);
        if (*rc)
            return 1;
    }
    return 1;
}

/* The round's calls for Erlang: {reply, Bin} (answered in C) or {block | spawn, M, F, Args}. */
static ERL_NIF_TERM export_calls(ErlNifEnv *env, bp_batch *b)
{
    ERL_NIF_TERM list = enif_make_list(env, 0);
    for (size_t i = bp_batch_count(b); i-- > 0;) {
        const bp_rpc *r = bp_batch_get(b, i);
        ei_x_buff out;
        ERL_NIF_TERM call;
        if (answer_in_c(r, &out)) {
            call = enif_make_tuple2(env, bp_atom.reply, bp_nif_binary(env, out.buff, (size_t)out.index));
            ei_x_free(&out);
        } else {
            /* the encoded arguments lack the version byte and the list's tail */
            size_t n = (size_t)r->args.index;
            ErlNifBinary etf;
            ERL_NIF_TERM args;
            if (!enif_alloc_binary(n + 2, &etf))
                return 0;
            etf.data[0] = 131;
            memcpy(etf.data + 1, r->args.buff, n);
            etf.data[n + 1] = 106; /* NIL_EXT */
            size_t used = enif_binary_to_term(env, etf.data, etf.size, &args, 0);
            enif_release_binary(&etf);
            if (used == 0)
                return 0;
            call = enif_make_tuple4(env, r->block ? bp_atom.block : bp_atom.spawn, enif_make_atom(env, r->mod),
                                    enif_make_atom(env, r->fun), args);
        }
        list = enif_make_list_cell(env, call, list);
    }
    return list;
}

static int replay_call(void *ctx, bp_batch *b, int64_t deadline_ms)
{
    (void)deadline_ms;
    replay *x = ctx;
    ERL_NIF_TERM replies, head;
    unsigned len;
    int rc = 0;
    if (x->need || x->bad)
        return BP_ETIMEDOUT; /* past the round Erlang must run: the rest is discarded */
    if (answer_round_in_c(b, x->max_reply, &rc))
        return rc;
    if (!enif_get_list_cell(x->env, x->rounds, &replies, &x->rounds)) {
        x->need = 1;
        x->calls = export_calls(x->env, b);
        x->bad = !x->calls;
        return BP_ETIMEDOUT;
    }
    if (!enif_get_list_length(x->env, replies, &len) || len != bp_batch_count(b)) {
        x->bad = 1;
        return BP_EIO;
    }
    for (size_t i = 0; enif_get_list_cell(x->env, replies, &head, &replies); i++) {
        ErlNifBinary bin;
        if (enif_inspect_binary(x->env, head, &bin)) {
            int r = bp_batch_set_reply(b, i, bin.data, bin.size, x->max_reply);
            if (r == BP_ENOMEM)
                return BP_ENOMEM;
        } else if (enif_is_identical(head, bp_atom.timeout)) {
            rc = BP_ETIMEDOUT; /* stays unanswered */
        } else {
            x->bad = 1;
            return BP_EIO;
        }
    }
    return rc;
}

static size_t reply_bytes(ErlNifEnv *env, ERL_NIF_TERM rounds)
{
    ERL_NIF_TERM round, r;
    ErlNifBinary bin;
    size_t total = 0;
    while (enif_get_list_cell(env, rounds, &round, &rounds))
        while (enif_get_list_cell(env, round, &r, &round))
            if (enif_inspect_binary(env, r, &bin))
                total += bin.size;
    return total;
}

/*
 * nif_collect_step(Config, Node, Rounds, {TimestampMs, ElapsedUs})
 *   -> {calls, [Call]} | {done, Snapshot} | {error, enomem}
 * Rounds: the replies so far, oldest round first, each a list with one
 * entry per call of that round: term_to_binary(Result) or 'timeout'.
 */
ERL_NIF_TERM bp_nif_collect_step(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    const bp_config *cfg = bp_nif_get_config(env, argv[0]);
    char node[BP_NAME_MAX];
    const ERL_NIF_TERM *times;
    int arity;
    ErlNifSInt64 ts, elapsed;
    if (!cfg || !bp_nif_text(env, argv[1], node, sizeof node) || !enif_is_list(env, argv[2])
        || !enif_get_tuple(env, argv[3], &arity, &times) || arity != 2 || !enif_get_int64(env, times[0], &ts)
        || !enif_get_int64(env, times[1], &elapsed))
        return enif_make_badarg(env);
    if (enif_thread_type() == ERL_NIF_THR_NORMAL_SCHEDULER && reply_bytes(env, argv[2]) > DIRTY_ABOVE)
        return enif_schedule_nif(env, "nif_collect_step", ERL_NIF_DIRTY_JOB_CPU_BOUND, bp_nif_collect_step, argc,
                                 argv);

    int64_t t0 = bp_now_us();
    bp_snapshot *snap = bp_snapshot_new(node);
    if (!snap)
        return bp_nif_error(env, bp_atom.enomem);
    snap->timestamp_ms = ts;
    snap->connect.state = BP_FACT_OK; /* in-VM: nothing to connect */
    replay x = { .env = env, .rounds = argv[2], .max_reply = cfg->max_reply_bytes };
    bp_collect_exec ex = { .call = replay_call, .ctx = &x, .self_name = NULL };
    int rc = bp_collect_with(&ex, cfg, INT64_MAX, snap);
    bp_nif_consume(env, t0);
    if (rc != 0 || x.bad || x.need) {
        bp_snapshot_free(snap);
        if (rc == BP_ENOMEM)
            return bp_nif_error(env, bp_atom.enomem);
        if (x.bad)
            return enif_make_badarg(env);
        return enif_make_tuple2(env, bp_atom.calls, x.calls);
    }
    if (cfg->probe != BP_PROBE_STARTUP)
        bp_nif_local_facts(snap);
    snap->duration_us = elapsed;
    ERL_NIF_TERM t = bp_nif_make_snapshot(env, snap);
    return t ? enif_make_tuple2(env, bp_atom.done, t) : bp_nif_error(env, bp_atom.enomem);
}

/* record_replies.c: records a real node's replies to one probe setup as a fuzz_replies seed (replies.h). */
/*
 * Usage: record_replies NODE COOKIE_FILE SETUP OUT
 * Connects to NODE as a probe would, runs the collection of setup SETUP (an index or a name of
 * replies_setups) and writes byte SETUP, then every call's reply in call order, to OUT. A reply is
 * written as the decoded term encoded again (what the harness decodes is what the probe saw);
 * a call without a reply is written as REPLIES_NONE. Exit 0, 1 on failure (with a message).
 * Run by test/fuzz/record_corpus.sh against a demo cluster.
 */
#include <ei.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "dist/collect.h"
#include "dist/cookie.h"
#include "dist/nameslot.h"
#include "dist/term.h"
#include "replies.h"

typedef struct {
    bp_session *s;
    FILE *out;
    int failed;
} recorder;

/* The external term format of t (no version byte), as close to what the node sent as the tree keeps. */
static int encode(ei_x_buff *x, const bp_term *t)
{
    switch (t->type) {
    case BP_T_ATOM: return ei_x_encode_atom_len(x, t->str, (int)t->len);
    case BP_T_INT: return ei_x_encode_longlong(x, t->i);
    case BP_T_BIGINT: return ei_x_encode_double(x, t->f); /* the tree keeps only an approximation */
    case BP_T_FLOAT: return ei_x_encode_double(x, t->f);
    case BP_T_BINARY: return ei_x_encode_binary(x, t->str, (long)t->len);
    case BP_T_BITSTR: return ei_x_encode_bitstring(x, t->str, 0, (size_t)t->i);
    case BP_T_STRING: return ei_x_encode_string_len(x, t->str, (int)t->len);
    case BP_T_NIL: return ei_x_encode_empty_list(x);
    case BP_T_PID: return bp_encode_pid(x, t);
    case BP_T_FUN: return ei_x_encode_atom(x, "fun"); /* the tree keeps only a description */
    case BP_T_PORT: {
        erlang_port p = { .id = (unsigned long long)t->i, .creation = t->creation };
        snprintf(p.node, sizeof p.node, "%s", t->str ? t->str : "");
        return ei_x_encode_port(x, &p);
    }
    case BP_T_REF: {
        erlang_ref r = { .len = 3, .creation = t->creation };
        snprintf(r.node, sizeof r.node, "%s", t->str ? t->str : "");
        return ei_x_encode_ref(x, &r);
    }
    case BP_T_TUPLE:
        if (ei_x_encode_tuple_header(x, (long)t->n) < 0)
            return -1;
        break;
    case BP_T_MAP:
        if (ei_x_encode_map_header(x, (long)t->n) < 0)
            return -1;
        break;
    case BP_T_LIST:
        if (ei_x_encode_list_header(x, (long)t->n) < 0)
            return -1;
        break;
    }
    size_t n = t->type == BP_T_MAP ? 2 * t->n : t->n;
    for (size_t i = 0; i < n; i++)
        if (encode(x, &t->items[i]) < 0)
            return -1;
    if (t->type == BP_T_LIST)
        return t->tail ? encode(x, t->tail) : ei_x_encode_empty_list(x);
    return 0;
}

static void put_len(FILE *f, uint32_t n)
{
    unsigned char b[4] = { (unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                           (unsigned char)n };
    if (fwrite(b, 1, 4, f) != 4)
        exit(1);
}

/* A round over the session; then every call's reply goes to the seed. */
static int record_call(void *ctx, bp_batch *b, int64_t deadline_ms)
{
    recorder *r = ctx;
    int rc = bp_session_call(r->s, b, deadline_ms);
    for (size_t i = 0; i < bp_batch_count(b); i++) {
        const bp_rpc *c = bp_batch_get(b, i);
        ei_x_buff x;
        if (c->rc != 0 || !c->reply) {
            put_len(r->out, REPLIES_NONE);
            fprintf(stderr, "record_replies: %s:%s: %s (recorded as no reply)\n", c->mod, c->fun, bp_rpc_error(c));
            continue;
        }
        if (ei_x_new_with_version(&x) < 0 || encode(&x, c->reply) < 0) {
            r->failed = 1;
            put_len(r->out, REPLIES_NONE);
        } else {
            put_len(r->out, (uint32_t)x.index);
            if (fwrite(x.buff, 1, (size_t)x.index, r->out) != (size_t)x.index)
                r->failed = 1;
        }
        ei_x_free(&x);
    }
    return rc;
}

static long setup_index(const char *arg)
{
    for (size_t k = 0; k < REPLIES_SETUPS; k++)
        if (strcmp(arg, replies_setups[k].name) == 0)
            return (long)k;
    char *end;
    long k = strtol(arg, &end, 10);
    return *arg && !*end && k >= 0 && (size_t)k < REPLIES_SETUPS ? k : -1;
}

int main(int argc, char **argv)
{
    static bp_config cfg;
    char err[512], cookie[256];
    long k = argc == 5 ? setup_index(argv[3]) : -1;
    if (k < 0) {
        fprintf(stderr, "usage: record_replies NODE COOKIE_FILE SETUP OUT\nsetups:");
        for (size_t i = 0; i < REPLIES_SETUPS; i++)
            fprintf(stderr, " %s", replies_setups[i].name);
        fprintf(stderr, "\n");
        return 1;
    }
    if (replies_configure(&cfg, (size_t)k, err, sizeof err) != 0
        || bp_cookie_load(argv[2], cookie, sizeof cookie, err, sizeof err) != 0) {
        fprintf(stderr, "record_replies: %s\n", err);
        return 1;
    }
    int64_t deadline = bp_now_ms() + 10000;
    recorder r = { 0 };
    int lock = -1;
    if (bp_connect_node(&cfg, argv[1], cookie, deadline, &r.s, &lock, err, sizeof err) != 0) {
        fprintf(stderr, "record_replies: %s\n", err);
        return 1;
    }
    r.out = fopen(argv[4], "wb");
    if (!r.out) {
        perror(argv[4]);
        return 1;
    }
    unsigned char setup = (unsigned char)k;
    bp_snapshot *snap = bp_snapshot_new(argv[1]);
    bp_collect_exec node = { .call = record_call, .ctx = &r, .self_name = bp_session_self_name(r.s) };
    int rc = !snap || fwrite(&setup, 1, 1, r.out) != 1 ? BP_ENOMEM : bp_collect_planned(&node, &cfg, deadline, snap);
    if (fclose(r.out) != 0 || rc != 0 || r.failed) {
        fprintf(stderr, "record_replies: %s: failed (%s)\n", argv[4], rc ? bp_strerror(rc) : "write or encode");
        rc = 1;
    }
    bp_snapshot_free(snap);
    bp_session_close(r.s);
    bp_nameslot_release(lock);
    return rc ? 1 : 0;
}

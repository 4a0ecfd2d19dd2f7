/* rpc.c: pipelined remote calls: all requests of a batch in one write, replies matched by tag. */
#include "dist/session.h"
#include "dist/session_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"

/* Distribution control operations that carry a message after them. */
enum { DOP_SEND = 2, DOP_REG_SEND = 6, DOP_SEND_TT = 12, DOP_REG_SEND_TT = 16,
       DOP_SEND_SENDER = 22, DOP_SEND_SENDER_TT = 23, DOP_ALIAS_SEND = 33 };
#define PASS_THROUGH 112
#define VERSION_MAGIC 131

struct bp_batch {
    bp_rpc *calls;
    size_t n, cap, sent;
    bp_arena *arena;
};

bp_batch *bp_batch_new(size_t arena_cap)
{
    bp_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->arena = bp_arena_new(arena_cap ? arena_cap : (size_t)64 << 20);
    if (!b->arena) {
        free(b);
        return NULL;
    }
    return b;
}

void bp_batch_free(bp_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        ei_x_free(&b->calls[i].args);
    free(b->calls);
    bp_arena_free(b->arena);
    free(b);
}

ei_x_buff *bp_batch_add(bp_batch *b, const char *mod, const char *fun, int argc)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        bp_rpc *nc = realloc(b->calls, cap * sizeof *nc);
        if (!nc)
            return NULL;
        b->calls = nc;
        b->cap = cap;
    }
    bp_rpc *r = &b->calls[b->n];
    memset(r, 0, sizeof *r);
    snprintf(r->mod, sizeof r->mod, "%s", mod);
    snprintf(r->fun, sizeof r->fun, "%s", fun);
    snprintf(r->label, sizeof r->label, "%.31s:%.31s", mod, fun);
    r->argc = argc;
    r->rc = BP_ETIMEDOUT; /* until answered */
    if (ei_x_new(&r->args) < 0)
        return NULL;
    if (argc > 0 && ei_x_encode_list_header(&r->args, argc) < 0) {
        ei_x_free(&r->args);
        return NULL;
    }
    b->n++;
    return &r->args;
}

int bp_batch_copy_call(bp_batch *dst, const bp_rpc *src)
{
    ei_x_buff *x = bp_batch_add(dst, src->mod, src->fun, 0);
    if (!x)
        return BP_ENOMEM;
    bp_rpc *r = &dst->calls[dst->n - 1];
    r->argc = src->argc;
    r->block = src->block;
    memcpy(r->label, src->label, sizeof r->label);
    return ei_x_append_buf(x, src->args.buff, src->args.index) < 0 ? BP_ENOMEM : 0;
}

void bp__batch_mark_sent(bp_batch *b)
{
    b->sent = b->n;
}

size_t bp_batch_count(const bp_batch *b)
{
    return b->n;
}

bp_rpc *bp_batch_get(bp_batch *b, size_t i)
{
    return i < b->n ? &b->calls[i] : NULL;
}

bp_arena *bp_batch_arena(bp_batch *b)
{
    return b->arena;
}

/* Append one REG_SEND packet {'$gen_call', {Self, Tag}, {call | block_call, M, F, Args, user}} to rex. */
int bp__rpc_encode_call(const erlang_pid *self, const bp_rpc *r, ei_x_buff *out)
{
    int start = out->index;
    static const char zero[5] = { 0, 0, 0, 0, PASS_THROUGH };
    if (ei_x_append_buf(out, zero, sizeof zero) < 0
        || ei_x_encode_version(out) < 0
        || ei_x_encode_tuple_header(out, 4) < 0 || ei_x_encode_long(out, DOP_REG_SEND) < 0
        || ei_x_encode_pid(out, self) < 0 || ei_x_encode_atom(out, "") < 0
        || ei_x_encode_atom(out, "rex") < 0
        || ei_x_encode_version(out) < 0
        || ei_x_encode_tuple_header(out, 3) < 0 || ei_x_encode_atom(out, "$gen_call") < 0
        || ei_x_encode_tuple_header(out, 2) < 0 || ei_x_encode_pid(out, self) < 0
        || ei_x_encode_ulonglong(out, (unsigned long long)r->tag) < 0
        || ei_x_encode_tuple_header(out, 5) < 0 || ei_x_encode_atom(out, r->block ? "block_call" : "call") < 0
        || ei_x_encode_atom(out, r->mod) < 0 || ei_x_encode_atom(out, r->fun) < 0
        || ei_x_append_buf(out, r->args.buff, r->args.index) < 0
        || ei_x_encode_empty_list(out) < 0 /* tail of the argument list (or [] itself) */
        || ei_x_encode_atom(out, "user") < 0)
        return BP_ENOMEM;
    uint32_t len = (uint32_t)(out->index - start - 4);
    unsigned char *p = (unsigned char *)out->buff + start;
    p[0] = (unsigned char)(len >> 24);
    p[1] = (unsigned char)(len >> 16);
    p[2] = (unsigned char)(len >> 8);
    p[3] = (unsigned char)len;
    return 0;
}

static bp_rpc *find_tag(bp_batch *b, const bp_term *tag)
{
    int64_t v;
    if (bp_term_int(tag, &v) != 0)
        return NULL;
    for (size_t i = 0; i < b->sent; i++)
        if (b->calls[i].tag == (uint64_t)v)
            return &b->calls[i];
    return NULL;
}

/*
 * Parse the control part of a packet; returns the offset of the message or 0
 * if the packet carries no message for us.
 */
static size_t message_offset(const unsigned char *d, size_t len, bp_arena *scratch)
{
    size_t i = 1;
    bp_term *ctrl = NULL;
    if (len < 2 || d[0] != PASS_THROUGH)
        return 0;
    if (bp_term_decode(d, len, &i, 1, scratch, &ctrl) != 0)
        return 0;
    int64_t op;
    if (ctrl->type != BP_T_TUPLE || ctrl->n < 1 || bp_term_int(&ctrl->items[0], &op) != 0)
        return 0;
    switch (op) {
    case DOP_SEND: case DOP_REG_SEND: case DOP_SEND_TT: case DOP_REG_SEND_TT:
    case DOP_SEND_SENDER: case DOP_SEND_SENDER_TT: case DOP_ALIAS_SEND:
        return i;
    default:
        return 0;
    }
}

/* The tag of a {Tag, Reply} message without decoding Reply. */
static bp_rpc *peek_call(bp_batch *b, const unsigned char *d, size_t len, bp_arena *scratch)
{
    size_t i = message_offset(d, len, scratch);
    if (i == 0 || i + 3 > len || d[i] != VERSION_MAGIC || d[i + 1] != 104 || d[i + 2] != 2)
        return NULL;
    i += 3;
    bp_term *tag = NULL;
    if (bp_term_decode(d, len, &i, 0, scratch, &tag) != 0)
        return NULL;
    return find_tag(b, tag);
}

/* Handle one packet: store the reply it carries, if it answers a pending call. */
void bp__rpc_take_packet(bp_batch *b, const bp__packet *p, size_t *pending)
{
    bp_arena *scratch = bp_arena_new(64 * 1024);
    if (!scratch)
        return;
    const unsigned char *d = p->oversized ? p->prefix : p->data;
    size_t len = p->oversized ? p->prefix_len : p->len;
    bp_rpc *r = peek_call(b, d, len, scratch);
    if (!r || r->rc != BP_ETIMEDOUT)
        goto out; /* not ours, late, or a duplicate */
    r->reply_bytes = p->len;
    if (p->oversized) {
        r->rc = BP_ETOOBIG;
    } else {
        size_t i = message_offset(d, len, scratch);
        bp_term *msg = NULL;
        int rc = bp_term_decode(d, len, &i, 1, b->arena, &msg);
        if (rc == 0 && (msg->type != BP_T_TUPLE || msg->n != 2))
            rc = BP_EDECODE;
        r->rc = rc;
        r->reply = rc == 0 ? &msg->items[1] : NULL;
    }
    (*pending)--;
out:
    bp_arena_free(scratch);
}

int bp_session_call(bp_session *s, bp_batch *b, int64_t deadline_ms)
{
    if (!bp_session_alive(s)) {
        for (size_t i = 0; i < b->n; i++)
            if (b->calls[i].rc == BP_ETIMEDOUT)
                b->calls[i].rc = BP_EIO;
        b->sent = b->n;
        return BP_EIO;
    }
    ei_x_buff out;
    if (ei_x_new(&out) < 0)
        return BP_ENOMEM;
    int rc = 0;
    size_t pending = 0;
    for (size_t i = b->sent; i < b->n; i++) {
        bp_rpc *r = &b->calls[i];
        r->tag = ++s->next_tag;
        rc = bp__rpc_encode_call(ei_self(&s->ec), r, &out);
        if (rc)
            goto out;
    }
    for (size_t i = 0; i < b->n; i++)
        pending += b->calls[i].rc == BP_ETIMEDOUT;
    b->sent = b->n;
    if (out.index > 0) {
        rc = bp__session_write(s, out.buff, (size_t)out.index, deadline_ms);
        if (rc)
            goto out;
    }
    while (pending > 0) {
        bp__packet p;
        rc = bp__session_read_packet(s, deadline_ms, &p);
        if (rc)
            goto out;
        bp__rpc_take_packet(b, &p, &pending);
    }
out:
    if (rc == BP_ETIMEDOUT || rc == BP_EIO)
        for (size_t i = 0; i < b->n; i++)
            if (b->calls[i].rc == BP_ETIMEDOUT && rc == BP_EIO)
                b->calls[i].rc = BP_EIO;
    ei_x_free(&out);
    return rc;
}

int bp_batch_set_reply(bp_batch *b, size_t i, const unsigned char *etf, size_t len, int64_t max_reply)
{
    bp_rpc *r = bp_batch_get(b, i);
    if (!r)
        return BP_EUSAGE;
    r->reply = NULL;
    r->reply_bytes = len;
    if (max_reply > 0 && len > (uint64_t)max_reply) {
        r->rc = BP_ETOOBIG;
    } else {
        size_t at = 0;
        bp_term *t = NULL;
        r->rc = bp_term_decode(etf, len, &at, 1, b->arena, &t);
        if (r->rc == 0 && at != len)
            r->rc = BP_EDECODE;
        r->reply = r->rc == 0 ? t : NULL;
    }
    if (b->sent <= i)
        b->sent = i + 1;
    return r->rc;
}

const char *bp_rpc_error(const bp_rpc *r)
{
    switch (r->rc) {
    case 0: return "ok";
    case BP_ETIMEDOUT: return "no reply before the deadline";
    case BP_ETOOBIG: return "reply larger than --max-reply, refused";
    case BP_EDECODE: return "malformed reply";
    case BP_ENOMEM: return "reply too large to decode";
    case BP_EIO: return "connection lost";
    default: return bp_strerror(r->rc);
    }
}

int bp_encode_pid(ei_x_buff *x, const bp_term *pid)
{
    erlang_pid p;
    memset(&p, 0, sizeof p);
    snprintf(p.node, sizeof p.node, "%s", pid->str ? pid->str : "");
    p.num = (unsigned)pid->i;
    p.serial = (unsigned)pid->serial;
    p.creation = pid->creation;
    return ei_x_encode_pid(x, &p);
}

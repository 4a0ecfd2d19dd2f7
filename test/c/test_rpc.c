/* test_rpc.c: unit tests of request encoding and reply matching of pipelined RPC batches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "beamprobe.h"
#include "dist/session.h"
#include "dist/session_int.h"

static erlang_pid self_pid(void)
{
    erlang_pid p;
    memset(&p, 0, sizeof p);
    snprintf(p.node, sizeof p.node, "beamprobe_0@host");
    p.num = 1;
    p.serial = 0;
    p.creation = 7;
    return p;
}

/* A batch with n calls erlang:node/0, marked sent, with tags 1..n. */
static bp_batch *batch_of(size_t n)
{
    bp_batch *b = bp_batch_new(1 << 20);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(bp_batch_add(b, "erlang", "node", 0));
        bp_batch_get(b, i)->tag = i + 1;
    }
    bp__batch_mark_sent(b);
    return b;
}

/* Packet body: pass-through, control {Op, '', Pid} and message {Tag, Reply-encoded-by-fn}. */
static int reply_at; /* offset of the reply term in the last packet built */

static void packet(ei_x_buff *x, long op, unsigned long long tag, const char *reply_atom, long reply_int)
{
    erlang_pid p = self_pid();
    ei_x_new(x);
    char pt = 112;
    ei_x_append_buf(x, &pt, 1);
    ei_x_encode_version(x);
    ei_x_encode_tuple_header(x, 3);
    ei_x_encode_long(x, op);
    ei_x_encode_atom(x, "");
    ei_x_encode_pid(x, &p);
    ei_x_encode_version(x);
    ei_x_encode_tuple_header(x, 2);
    ei_x_encode_ulonglong(x, tag);
    reply_at = x->index;
    if (reply_atom)
        ei_x_encode_atom(x, reply_atom);
    else
        ei_x_encode_long(x, reply_int);
}

static void take(bp_batch *b, const ei_x_buff *x, size_t *pending)
{
    bp__packet p;
    memset(&p, 0, sizeof p);
    p.len = (size_t)x->index;
    p.data = (const unsigned char *)x->buff;
    bp__rpc_take_packet(b, &p, pending);
}

static void test_replies_matched_by_tag_in_any_order(void **state)
{
    (void)state;
    bp_batch *b = batch_of(3);
    size_t pending = 3;
    ei_x_buff x;
    packet(&x, 2, 3, NULL, 33);
    take(b, &x, &pending);
    ei_x_free(&x);
    packet(&x, 2, 1, "first", 0);
    take(b, &x, &pending);
    ei_x_free(&x);
    assert_int_equal(pending, 1);
    assert_int_equal(bp_batch_get(b, 0)->rc, 0);
    assert_true(bp_term_is_atom(bp_batch_get(b, 0)->reply, "first"));
    assert_int_equal(bp_batch_get(b, 1)->rc, BP_ETIMEDOUT); /* still unanswered */
    int64_t v;
    assert_int_equal(bp_term_int(bp_batch_get(b, 2)->reply, &v), 0);
    assert_int_equal(v, 33);
    bp_batch_free(b);
}

static void test_unknown_duplicate_and_foreign_packets_ignored(void **state)
{
    (void)state;
    bp_batch *b = batch_of(1);
    size_t pending = 1;
    ei_x_buff x;
    packet(&x, 2, 99, "stranger", 0); /* tag nobody asked for */
    take(b, &x, &pending);
    ei_x_free(&x);
    packet(&x, 19, 1, "monitor", 0); /* a control op that carries no message */
    take(b, &x, &pending);
    ei_x_free(&x);
    assert_int_equal(pending, 1);
    packet(&x, 22, 1, "ok", 0); /* SEND_SENDER is a send too */
    take(b, &x, &pending);
    take(b, &x, &pending); /* duplicate */
    ei_x_free(&x);
    assert_int_equal(pending, 0);
    assert_int_equal(bp_batch_get(b, 0)->rc, 0);
    bp_batch_free(b);
}

static void test_malformed_and_truncated_packets(void **state)
{
    (void)state;
    ei_x_buff x;
    packet(&x, 2, 1, "a_reply_atom", 0);
    /* every truncation of a valid packet: never a crash, never a false answer */
    for (int cut = 0; cut < x.index; cut++) {
        bp_batch *b = batch_of(1);
        size_t pending = 1;
        bp__packet p;
        memset(&p, 0, sizeof p);
        p.len = (size_t)cut;
        p.data = (const unsigned char *)x.buff;
        bp__rpc_take_packet(b, &p, &pending);
        const bp_rpc *r = bp_batch_get(b, 0);
        assert_true(r->rc == BP_ETIMEDOUT || r->rc == BP_EDECODE);
        assert_true(r->rc != 0);
        bp_batch_free(b);
    }
    /* garbage after the tag: the call is answered with a decode error */
    bp_batch *b = batch_of(1);
    size_t pending = 1;
    x.buff[reply_at] = (char)200; /* no such term tag */
    take(b, &x, &pending);
    assert_int_equal(bp_batch_get(b, 0)->rc, BP_EDECODE);
    assert_int_equal(pending, 0);
    assert_null(bp_batch_get(b, 0)->reply);
    bp_batch_free(b);
    ei_x_free(&x);
}

static void test_oversized_reply_refused_by_prefix(void **state)
{
    (void)state;
    bp_batch *b = batch_of(2);
    size_t pending = 2;
    ei_x_buff x;
    packet(&x, 2, 2, "huge", 0);
    bp__packet p;
    memset(&p, 0, sizeof p);
    p.len = 50u * 1024 * 1024; /* what the length header claimed */
    p.oversized = 1;
    memcpy(p.prefix, x.buff, (size_t)x.index);
    p.prefix_len = (size_t)x.index;
    bp__rpc_take_packet(b, &p, &pending);
    assert_int_equal(pending, 1);
    assert_int_equal(bp_batch_get(b, 1)->rc, BP_ETOOBIG);
    assert_null(bp_batch_get(b, 1)->reply);
    assert_int_equal(bp_batch_get(b, 1)->reply_bytes, 50u * 1024 * 1024);
    assert_string_equal(bp_rpc_error(bp_batch_get(b, 1)), "reply larger than --max-reply, refused");
    ei_x_free(&x);
    bp_batch_free(b);
}

static void test_encoded_call_is_a_gen_call_to_rex(void **state)
{
    (void)state;
    bp_batch *b = bp_batch_new(0);
    ei_x_buff *args = bp_batch_add(b, "erlang", "system_info", 1);
    ei_x_encode_atom(args, "process_count");
    bp_rpc *r = bp_batch_get(b, 0);
    r->tag = 42;
    r->block = 1;
    erlang_pid self = self_pid();
    ei_x_buff out;
    ei_x_new(&out);
    assert_int_equal(bp__rpc_encode_call(&self, r, &out), 0);
    const unsigned char *d = (const unsigned char *)out.buff;
    uint32_t len = ((uint32_t)d[0] << 24) | ((uint32_t)d[1] << 16) | ((uint32_t)d[2] << 8) | d[3];
    assert_int_equal(len, (uint32_t)out.index - 4);
    assert_int_equal(d[4], 112);

    bp_arena *a = bp_arena_new(0);
    size_t i = 5;
    bp_term *ctrl, *msg;
    assert_int_equal(bp_term_decode(d, (size_t)out.index, &i, 1, a, &ctrl), 0);
    int64_t op;
    assert_int_equal(bp_term_int(bp_term_elem(ctrl, 0), &op), 0);
    assert_int_equal(op, 6); /* REG_SEND */
    assert_true(bp_term_is_atom(bp_term_elem(ctrl, 3), "rex"));
    assert_int_equal(bp_term_decode(d, (size_t)out.index, &i, 1, a, &msg), 0);
    assert_int_equal(i, (size_t)out.index);
    assert_true(bp_term_is_tagged(msg, "$gen_call", 3));
    const bp_term *from = bp_term_elem(msg, 1);
    assert_int_equal(bp_term_elem(from, 0)->type, BP_T_PID);
    int64_t tag;
    assert_int_equal(bp_term_int(bp_term_elem(from, 1), &tag), 0);
    assert_int_equal(tag, 42);
    const bp_term *call = bp_term_elem(msg, 2);
    assert_true(bp_term_is_tagged(call, "block_call", 5));
    assert_true(bp_term_is_atom(bp_term_elem(call, 1), "erlang"));
    assert_true(bp_term_is_atom(bp_term_elem(call, 2), "system_info"));
    const bp_term *argl = bp_term_elem(call, 3);
    assert_int_equal(argl->type, BP_T_LIST);
    assert_int_equal(argl->n, 1);
    assert_true(bp_term_is_atom(&argl->items[0], "process_count"));
    assert_true(bp_term_is_atom(bp_term_elem(call, 4), "user"));
    bp_arena_free(a);
    ei_x_free(&out);
    bp_batch_free(b);
}

static void test_zero_argument_call_encodes_empty_list(void **state)
{
    (void)state;
    bp_batch *b = bp_batch_new(0);
    bp_batch_add(b, "erlang", "memory", 0);
    erlang_pid self = self_pid();
    ei_x_buff out;
    ei_x_new(&out);
    assert_int_equal(bp__rpc_encode_call(&self, bp_batch_get(b, 0), &out), 0);
    bp_arena *a = bp_arena_new(0);
    size_t i = 5;
    bp_term *ctrl, *msg;
    assert_int_equal(bp_term_decode((unsigned char *)out.buff, (size_t)out.index, &i, 1, a, &ctrl), 0);
    assert_int_equal(bp_term_decode((unsigned char *)out.buff, (size_t)out.index, &i, 1, a, &msg), 0);
    assert_int_equal(bp_term_elem(bp_term_elem(msg, 2), 3)->type, BP_T_NIL);
    assert_true(bp_term_is_tagged(bp_term_elem(msg, 2), "call", 5));
    bp_arena_free(a);
    ei_x_free(&out);
    bp_batch_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replies_matched_by_tag_in_any_order),
        cmocka_unit_test(test_unknown_duplicate_and_foreign_packets_ignored),
        cmocka_unit_test(test_malformed_and_truncated_packets),
        cmocka_unit_test(test_oversized_reply_refused_by_prefix),
        cmocka_unit_test(test_encoded_call_is_a_gen_call_to_rex),
        cmocka_unit_test(test_zero_argument_call_encodes_empty_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

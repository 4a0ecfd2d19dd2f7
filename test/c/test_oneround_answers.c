/* test_oneround_answers.c: the one-round reply as answers: batches flattened, shared pids, gen:call and sys:get_state replies as rex gives them, grouping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <ei.h>

#include "dist/oneround_answers.h"

static void pid(ei_x_buff *x, int n)
{
    erlang_pid p;
    memset(&p, 0, sizeof p);
    snprintf(p.node, sizeof p.node, "n@h");
    p.num = (unsigned)n;
    ei_x_encode_pid(x, &p);
}

static void tag(ei_x_buff *x, const char *t, int arity)
{
    ei_x_encode_tuple_header(x, arity);
    ei_x_encode_atom(x, t);
}

/* The term x holds (x is freed). */
static bp_term *decoded(ei_x_buff *x, bp_arena *a)
{
    bp_term *t = NULL;
    size_t i = 0;
    assert_int_equal(bp_term_decode((const unsigned char *)x->buff, (size_t)x->index, &i, 1, a, &t), 0);
    ei_x_free(x);
    return t;
}

/* {0, M, F, {Pids, Extra, Replies, Mode}} header; the caller encodes Pids, Extra, Replies, Mode. */
static void batch_head(ei_x_buff *x, const char *m, const char *f)
{
    ei_x_encode_tuple_header(x, 4);
    ei_x_encode_long(x, 0);
    ei_x_encode_atom(x, m);
    ei_x_encode_atom(x, f);
    ei_x_encode_tuple_header(x, 4);
}

/*
 * [{erlang, whereis, [cost_guard], <0.1.0>},
 *  {0, erlang, process_info, {[P1, P2], [[status]], [[{status, waiting}], undefined], 0}},
 *  {0, sys, get_state, {-1, [200], [{reply, s1}, {error, {noproc, P2}}], 2}},
 *  {0, gen, call, {[P1, P2], ['$gen_call', which_children, 200], [timeout, {reply, []}], 1}}]
 */
static bp_term *reply(bp_arena *a)
{
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_list_header(&x, 4);
    ei_x_encode_tuple_header(&x, 4);
    ei_x_encode_atom(&x, "erlang");
    ei_x_encode_atom(&x, "whereis");
    ei_x_encode_list_header(&x, 1);
    ei_x_encode_atom(&x, "cost_guard");
    ei_x_encode_empty_list(&x);
    pid(&x, 1);

    batch_head(&x, "erlang", "process_info");
    ei_x_encode_list_header(&x, 2);
    pid(&x, 1);
    pid(&x, 2);
    ei_x_encode_empty_list(&x);
    ei_x_encode_list_header(&x, 1);
    ei_x_encode_list_header(&x, 1);
    ei_x_encode_atom(&x, "status");
    ei_x_encode_empty_list(&x);
    ei_x_encode_empty_list(&x);
    ei_x_encode_list_header(&x, 2);
    ei_x_encode_list_header(&x, 1);
    tag(&x, "status", 2);
    ei_x_encode_atom(&x, "waiting");
    ei_x_encode_empty_list(&x);
    ei_x_encode_atom(&x, "undefined");
    ei_x_encode_empty_list(&x);
    ei_x_encode_long(&x, 0);

    batch_head(&x, "sys", "get_state");
    ei_x_encode_long(&x, -1);
    ei_x_encode_string(&x, "\310"); /* [200], as the node encodes it */
    ei_x_encode_list_header(&x, 2);
    tag(&x, "reply", 2);
    ei_x_encode_atom(&x, "s1");
    tag(&x, "error", 2);
    ei_x_encode_tuple_header(&x, 2);
    ei_x_encode_atom(&x, "noproc");
    pid(&x, 2);
    ei_x_encode_empty_list(&x);
    ei_x_encode_long(&x, 2);

    batch_head(&x, "gen", "call");
    ei_x_encode_list_header(&x, 2);
    pid(&x, 1);
    pid(&x, 2);
    ei_x_encode_empty_list(&x);
    ei_x_encode_list_header(&x, 3);
    ei_x_encode_atom(&x, "$gen_call");
    ei_x_encode_atom(&x, "which_children");
    ei_x_encode_long(&x, 200);
    ei_x_encode_empty_list(&x);
    ei_x_encode_list_header(&x, 2);
    ei_x_encode_atom(&x, "timeout");
    tag(&x, "reply", 2);
    ei_x_encode_empty_list(&x);
    ei_x_encode_empty_list(&x);
    ei_x_encode_long(&x, 1);
    ei_x_encode_empty_list(&x);

    return decoded(&x, a);
}

static void test_batches_flattened(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(1 << 20);
    bp_or_answer *v = NULL;
    size_t n = 0;
    assert_int_equal(bp_or_answers(reply(a), a, &v, &n), 0);
    assert_int_equal(n, 7); /* whereis, 2 process_info, 2 get_state (the pids before), 2 gen:call */
    assert_non_null(v[0].args);
    assert_null(v[1].args);
    assert_int_equal(v[2].pid->i, 2);
    assert_string_equal(v[3].fun->str, "get_state");
    assert_int_equal(v[3].pid->i, 1); /* -1: the pids of the process_info batch */
    assert_int_equal(v[4].pid->i, 2);

    /* process_info's replies as they are */
    assert_true(bp_or_answer_reply(&v[2], a)->type == BP_T_ATOM);
    /* sys:get_state: the state, or the exit sys makes: {badrpc, {'EXIT', {noproc, {sys, get_state, [P2, 200]}}}} */
    assert_true(bp_term_is_atom(bp_or_answer_reply(&v[3], a), "s1"));
    const bp_term *r = bp_or_answer_reply(&v[4], a);
    assert_true(bp_term_is_tagged(r, "badrpc", 2));
    const bp_term *why = bp_term_elem(bp_term_elem(r, 1), 1);
    assert_true(bp_term_is_atom(bp_term_elem(why, 0), "noproc"));
    const bp_term *mfa = bp_term_elem(why, 1);
    assert_true(bp_term_is_atom(bp_term_elem(mfa, 1), "get_state"));
    const bp_term *args = bp_term_elem(mfa, 2);
    assert_true(args->type == BP_T_LIST && args->n == 2 && args->items[0].i == 2 && args->items[1].i == 200);
    /* gen:call: timeout exits, a reply is {ok, Reply} */
    r = bp_or_answer_reply(&v[5], a);
    assert_true(bp_term_is_tagged(r, "badrpc", 2) && bp_term_is_atom(bp_term_elem(bp_term_elem(r, 1), 1), "timeout"));
    r = bp_or_answer_reply(&v[6], a);
    assert_true(bp_term_is_tagged(r, "ok", 2) && bp_term_elem(r, 1)->type == BP_T_NIL);
    bp_arena_free(a);
}

static void test_grouped_by_function(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(1 << 20);
    bp_or_answer *v = NULL;
    size_t n = 0;
    bp_or_group *g = NULL;
    size_t ng = 0;
    assert_int_equal(bp_or_answers(reply(a), a, &v, &n), 0);
    assert_int_equal(bp_or_group_answers(v, n, a, &g, &ng), 0);
    assert_int_equal(ng, 4);
    assert_string_equal(g[1].fun->str, "process_info");
    assert_int_equal(g[1].n, 2);
    assert_int_equal(g[1].idx[0], 1);
    assert_int_equal(g[1].idx[1], 2);
    assert_int_equal(g[3].idx[1], 6);
    bp_arena_free(a);
}

/* A batch whose pids are -1 with no batch before it is left out (its calls go to the node). */
static void test_dangling_pids_refused(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(1 << 20);
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_list_header(&x, 1);
    batch_head(&x, "sys", "get_state");
    ei_x_encode_long(&x, -1);
    ei_x_encode_empty_list(&x);
    ei_x_encode_list_header(&x, 1);
    ei_x_encode_atom(&x, "timeout");
    ei_x_encode_empty_list(&x);
    ei_x_encode_long(&x, 2);
    ei_x_encode_empty_list(&x);
    bp_or_answer *v = NULL;
    size_t n = 0;
    assert_int_equal(bp_or_answers(decoded(&x, a), a, &v, &n), -1);
    assert_int_equal(n, 0);
    bp_arena_free(a);
}

/* sys:get_state on OTP 26.1+ (mode 3): the process replies {ok, State} or {error, Why}; the state
   {ok, x} of an older node (mode 2) stays as it is. */
static void test_get_state_ok_wrapped(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(1 << 20);
    for (int mode = 2; mode <= 3; mode++) {
        ei_x_buff x;
        ei_x_new_with_version(&x);
        ei_x_encode_list_header(&x, 1);
        batch_head(&x, "sys", "get_state");
        ei_x_encode_list_header(&x, 2);
        pid(&x, 1);
        pid(&x, 2);
        ei_x_encode_empty_list(&x);
        ei_x_encode_string(&x, "\310");
        ei_x_encode_list_header(&x, 2);
        tag(&x, "reply", 2); /* {reply, {ok, {stable, 1}}} */
        tag(&x, "ok", 2);
        tag(&x, "stable", 2);
        ei_x_encode_long(&x, 1);
        tag(&x, "reply", 2); /* {reply, {error, why}} */
        tag(&x, "error", 2);
        ei_x_encode_atom(&x, "why");
        ei_x_encode_empty_list(&x);
        ei_x_encode_long(&x, mode);
        ei_x_encode_empty_list(&x);
        bp_or_answer *v = NULL;
        size_t n = 0;
        assert_int_equal(bp_or_answers(decoded(&x, a), a, &v, &n), 0);
        assert_int_equal(n, 2);
        const bp_term *s0 = bp_or_answer_reply(&v[0], a), *s1 = bp_or_answer_reply(&v[1], a);
        if (mode == 3) { /* the state {stable, 1} */
            assert_true(bp_term_is_tagged(s0, "stable", 2));
        } else { /* the state as the process gave it */
            assert_true(bp_term_is_tagged(s0, "ok", 2));
        }
        /* error(why) either way: {badrpc, {'EXIT', {why, []}}} */
        assert_true(bp_term_is_tagged(s1, "badrpc", 2));
        assert_true(bp_term_is_atom(bp_term_elem(bp_term_elem(bp_term_elem(s1, 1), 1), 0), "why"));
    }
    bp_arena_free(a);
}

/* process_info's values as a tuple (mode 4): the items put back; a process gone, or a tuple of another size, as it came. */
static void test_process_info_values(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(1 << 20);
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_list_header(&x, 1);
    batch_head(&x, "erlang", "process_info");
    ei_x_encode_list_header(&x, 3);
    for (int p = 1; p <= 3; p++)
        pid(&x, p);
    ei_x_encode_empty_list(&x);
    ei_x_encode_list_header(&x, 1); /* Extra: [[current_function, status]] */
    ei_x_encode_list_header(&x, 2);
    ei_x_encode_atom(&x, "current_function");
    ei_x_encode_atom(&x, "status");
    ei_x_encode_empty_list(&x);
    ei_x_encode_empty_list(&x);
    ei_x_encode_list_header(&x, 3);
    ei_x_encode_tuple_header(&x, 2); /* {{m, f, 0}, waiting} */
    ei_x_encode_tuple_header(&x, 3);
    ei_x_encode_atom(&x, "m");
    ei_x_encode_atom(&x, "f");
    ei_x_encode_long(&x, 0);
    ei_x_encode_atom(&x, "waiting");
    ei_x_encode_atom(&x, "undefined");
    tag(&x, "odd", 1); /* {odd}: one value for two items */
    ei_x_encode_empty_list(&x);
    ei_x_encode_long(&x, 4);
    ei_x_encode_empty_list(&x);
    bp_or_answer *v = NULL;
    size_t n = 0;
    assert_int_equal(bp_or_answers(decoded(&x, a), a, &v, &n), 0);
    assert_int_equal(n, 3);
    const bp_term *r = bp_or_answer_reply(&v[0], a);
    assert_true(r->type == BP_T_LIST && r->n == 2);
    assert_true(bp_term_is_atom(bp_term_elem(bp_term_prop(r, "current_function"), 1), "f"));
    assert_true(bp_term_is_atom(bp_term_prop(r, "status"), "waiting"));
    assert_true(bp_term_is_atom(bp_or_answer_reply(&v[1], a), "undefined"));
    assert_true(bp_term_is_tagged(bp_or_answer_reply(&v[2], a), "odd", 1));
    bp_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_flattened),
        cmocka_unit_test(test_grouped_by_function),
        cmocka_unit_test(test_dangling_pids_refused),
        cmocka_unit_test(test_get_state_ok_wrapped),
        cmocka_unit_test(test_process_info_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

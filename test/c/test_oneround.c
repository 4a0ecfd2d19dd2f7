/* test_oneround.c: the one-round executor: answers from the request's reply, the rest from the node, rounds counted, the fallback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "beamprobe.h"
#include "core/config.h"
#include "dist/collect_int.h"
#include "dist/oneround.h"
#include "rpc_replies.h"

/* How the scripted node answers the request, and what reached it. */
typedef struct {
    enum { ANSWER, REFUSE, OTHER_NAME } mode;
    int rounds, requests, whereis; /* whereis: calls that would have made the atom on the node */
    int top;                       /* --top 3: the reply carries the top answer too */
} node_script;

/* {erl_eval, expr, [3, 100], {7, 100, 4096, Empty, Empty, Empty}}: --top's answer (oneround.erl.src, top/2). */
static void encode_top_answer(ei_x_buff *x)
{
    ei_x_encode_tuple_header(x, 4);
    ei_x_encode_atom(x, "erl_eval");
    ei_x_encode_atom(x, "expr");
    ei_x_encode_list_header(x, 2);
    ei_x_encode_long(x, 3);
    ei_x_encode_long(x, 100);
    ei_x_encode_empty_list(x);
    ei_x_encode_tuple_header(x, 6);
    ei_x_encode_long(x, 7);
    ei_x_encode_long(x, 100);
    ei_x_encode_long(x, 4096);
    for (int k = 0; k < 3; k++) {
        ei_x_encode_tuple_header(x, 3);
        ei_x_encode_empty_list(x);
        ei_x_encode_empty_list(x);
        ei_x_encode_empty_list(x);
    }
}

/* {ok, 1, [Entries]}: whereis of a name the node has no atom for, the applications, the cgroup files. */
static void encode_request_reply(node_script *ns, ei_x_buff *x)
{
    if (ns->mode == REFUSE) { /* no erl_eval */
        encode_badrpc_undef(x);
        return;
    }
    ei_x_encode_tuple_header(x, 3);
    ei_x_encode_atom(x, "ok");
    ei_x_encode_long(x, 1);
    ei_x_encode_list_header(x, ns->top ? 4 : 3);
    if (ns->top)
        encode_top_answer(x);
    /* {erlang, binary_to_existing_atom, [<<"typo_x">>, utf8], {badrpc, {'EXIT', {badarg, []}}}} */
    ei_x_encode_tuple_header(x, 4);
    ei_x_encode_atom(x, "erlang");
    ei_x_encode_atom(x, "binary_to_existing_atom");
    ei_x_encode_list_header(x, 2);
    const char *name = ns->mode == OTHER_NAME ? "other" : "typo_x";
    ei_x_encode_binary(x, name, (long)strlen(name));
    ei_x_encode_atom(x, "utf8");
    ei_x_encode_empty_list(x);
    encode_badrpc_exit(x, "badarg");
    /* {application, which_applications, [200], []}: [200] as the node encodes it, a string */
    ei_x_encode_tuple_header(x, 4);
    ei_x_encode_atom(x, "application");
    ei_x_encode_atom(x, "which_applications");
    ei_x_encode_string_len(x, "\xc8", 1);
    ei_x_encode_empty_list(x);
    /* {lists, map, [fun file:read_file/1, Paths], [{error, enoent}, ...]} */
    ei_x_encode_tuple_header(x, 4);
    ei_x_encode_atom(x, "lists");
    ei_x_encode_atom(x, "map");
    ei_x_encode_list_header(x, 2);
    bp__encode_export(x, "file", "read_file", 1);
    ei_x_encode_list_header(x, BP__CGROUP_FILES);
    for (int i = 0; i < BP__CGROUP_FILES; i++) { /* as lists of integers, where ours are STRING_EXT */
        const char *p = bp__cgroup_paths[i];
        ei_x_encode_list_header(x, (long)strlen(p));
        for (; *p; p++)
            ei_x_encode_long(x, (unsigned char)*p);
        ei_x_encode_empty_list(x);
    }
    ei_x_encode_empty_list(x);
    ei_x_encode_empty_list(x);
    ei_x_encode_list_header(x, BP__CGROUP_FILES);
    for (int i = 0; i < BP__CGROUP_FILES; i++) {
        ei_x_encode_tuple_header(x, 2);
        ei_x_encode_atom(x, "error");
        ei_x_encode_atom(x, "enoent");
    }
    ei_x_encode_empty_list(x);
    ei_x_encode_empty_list(x); /* the entries */
}

/* lists:zipwith(fun erlang:apply/2, Funs, Args): one integer per BIF asked. */
static void encode_bifs(const bp_rpc *r, ei_x_buff *x)
{
    int i = 0, arity = 0, n = 0;
    assert_int_equal(ei_decode_list_header(r->args.buff, &i, &arity), 0);
    assert_int_equal(ei_skip_term(r->args.buff, &i), 0);
    assert_int_equal(ei_decode_list_header(r->args.buff, &i, &n), 0);
    ei_x_encode_list_header(x, n);
    for (int k = 0; k < n; k++)
        ei_x_encode_long(x, 1);
    ei_x_encode_empty_list(x);
}

static void encode_reply(void *ctx, const bp_rpc *r, ei_x_buff *x)
{
    node_script *ns = ctx;
    if (strcmp(r->mod, "erl_eval") == 0) {
        ns->requests++;
        encode_request_reply(ns, x);
    } else if (strcmp(r->fun, "zipwith") == 0) {
        encode_bifs(r, x);
    } else if (strcmp(r->fun, "binary_to_existing_atom") == 0) {
        encode_badrpc_exit(x, "badarg"); /* the node has no atom typo_x */
    } else {
        ns->whereis += strcmp(r->fun, "whereis") == 0;
        ei_x_encode_atom(x, "undefined");
    }
}

static int scripted_call(void *ctx, bp_batch *b, int64_t deadline_ms)
{
    (void)deadline_ms;
    ((node_script *)ctx)->rounds++;
    answer_batch(b, encode_reply, ctx);
    return 0;
}

/* A ready probe of --governor typo_x through the one-round executor in front of the scripted node. */
static bp_snapshot *probe(node_script *ns)
{
    bp_config *cfg = test_malloc(sizeof *cfg);
    char err[256];
    bp_config_defaults(cfg);
    assert_int_equal(bp_config_set(cfg, "governor", "typo_x", err, sizeof err), 0);
    if (ns->top)
        assert_int_equal(bp_config_set(cfg, "top", "3", err, sizeof err), 0);
    bp_snapshot *snap = bp_snapshot_new("n@h");
    ei_x_buff params;
    ei_x_new_with_version(&params);
    assert_int_equal(bp__oneround_params(cfg, 1000, &params), 0);
    bp_collect_exec node = { .call = scripted_call, .ctx = ns };
    bp_oneround *o = bp_oneround_new(&node, (const unsigned char *)params.buff, (size_t)params.index, snap);
    assert_non_null(o);
    bp_collect_exec one = { .call = bp_oneround_call, .ctx = o, .counts_rounds = 1 };
    assert_int_equal(bp_collect_with(&one, cfg, INT64_MAX, snap), 0);
    bp_oneround_finish(o);
    bp_oneround_free(o);
    ei_x_free(&params);
    test_free(cfg);
    return snap;
}

/* Every call of every round is answered from the request's reply: one round, and the unknown name never reached the node as an atom. */
static void test_one_round(void **state)
{
    (void)state;
    node_script ns = { .mode = ANSWER };
    bp_snapshot *s = probe(&ns);
    assert_int_equal(s->round_trips, 1);
    assert_int_equal(ns.rounds, 1);
    assert_int_equal(ns.requests, 1);
    assert_int_equal(ns.whereis, 0);
    assert_string_equal(s->plan, "one-round");
    assert_null(s->plan_reason);
    assert_int_equal(s->plan_unused, 0);
    assert_int_equal(s->n_governors, 1);
    assert_int_equal(s->governors[0].fact.state, BP_FACT_OK); /* answered: not registered */
    assert_int_equal(s->governors[0].alive, 0);
    assert_int_equal(s->applications.state, BP_FACT_OK);
    bp_snapshot_free(s);
}

/* --top: the collector's own request call (erl_eval:expr/5, every part off but top) is answered by the
   top answer of the one request: it never reaches the node, and the probe stays one round. */
static void test_top_in_the_one_round(void **state)
{
    (void)state;
    node_script ns = { .mode = ANSWER, .top = 1 };
    bp_snapshot *s = probe(&ns);
    assert_int_equal(s->round_trips, 1);
    assert_int_equal(ns.rounds, 1);
    assert_int_equal(ns.requests, 1);
    assert_int_equal(s->plan_unused, 0);
    assert_true(s->top.asked);
    assert_null(s->top.unavailable);
    assert_int_equal(s->top.processes, 7);
    assert_int_equal(s->top.probe_memory, 4096);
    bp_snapshot_free(s);
}

/* --top on a node that refuses the request: the top call goes to the node like every other, and is refused too. */
static void test_top_refused(void **state)
{
    (void)state;
    node_script ns = { .mode = REFUSE, .top = 1 };
    bp_snapshot *s = probe(&ns);
    assert_int_equal(s->round_trips, 2);
    assert_int_equal(ns.requests, 2);
    assert_non_null(s->top.unavailable);
    assert_non_null(strstr(s->top.unavailable, "undef"));
    bp_snapshot_free(s);
}

/* The node refuses the request: the calls it would have answered go to the node, one round more, and the report says why. */
static void test_refused_falls_back(void **state)
{
    (void)state;
    node_script ns = { .mode = REFUSE };
    bp_snapshot *s = probe(&ns);
    assert_int_equal(s->round_trips, 2);
    assert_int_equal(ns.whereis, 0); /* looked up as an existing atom: none, so no whereis */
    assert_string_equal(s->plan, "multi-round");
    assert_non_null(strstr(s->plan_reason, "refused the one-round request"));
    assert_int_equal(s->plan_unused, -1);
    assert_int_equal(s->governors[0].fact.state, BP_FACT_OK);
    bp_snapshot_free(s);
}

/* An answer for another call than ours is not used: that call goes to the node, and the unused answer is counted. */
static void test_mismatch_costs_a_round(void **state)
{
    (void)state;
    node_script ns = { .mode = OTHER_NAME };
    bp_snapshot *s = probe(&ns);
    assert_int_equal(s->round_trips, 2);
    assert_int_equal(ns.whereis, 0);
    assert_string_equal(s->plan, "one-round");
    assert_int_equal(s->plan_unused, 1);
    bp_snapshot_free(s);
}

static bp_term atom(const char *s)
{
    bp_term t = { .type = BP_T_ATOM, .str = s, .len = strlen(s) };
    return t;
}

static void test_same(void **state)
{
    (void)state;
    bp_term a = atom("cost_guard"), b = atom("cost_guard"), c = atom("other");
    bp_term bin = { .type = BP_T_BINARY, .str = "cost_guard", .len = 10 };
    assert_true(bp_oneround_same(&a, &b));
    assert_false(bp_oneround_same(&a, &c));
    assert_true(bp_oneround_same(&a, &bin));  /* the node has no such atom: it echoes the name as a binary */
    assert_false(bp_oneround_same(&bin, &a)); /* never the other way round */

    bp_term str = { .type = BP_T_STRING, .str = "ab", .len = 2 };
    bp_term ints[2] = { { .type = BP_T_INT, .i = 'a' }, { .type = BP_T_INT, .i = 'b' } };
    bp_term list = { .type = BP_T_LIST, .items = ints, .n = 2 };
    assert_true(bp_oneround_same(&str, &list));
    assert_true(bp_oneround_same(&list, &str));
    ints[1].i = 'c';
    assert_false(bp_oneround_same(&str, &list));

    bp_term p1 = { .type = BP_T_PID, .str = "n@h", .i = 7, .serial = 0, .creation = 3 };
    bp_term p2 = p1;
    assert_true(bp_oneround_same(&p1, &p2));
    p2.creation = 4; /* the same pid of an earlier incarnation of the node is another process */
    assert_false(bp_oneround_same(&p1, &p2));

    bp_term items1[2] = { atom("l"), atom("n") }, items2[2] = { atom("l"), bin };
    bp_term t1 = { .type = BP_T_TUPLE, .items = items1, .n = 2 }, t2 = { .type = BP_T_TUPLE, .items = items2, .n = 2 };
    assert_false(bp_oneround_same(&t1, &t2));
    items2[1] = atom("n");
    assert_true(bp_oneround_same(&t1, &t2));
    bp_term i1 = { .type = BP_T_INT, .i = 200 }, f1 = { .type = BP_T_FLOAT, .f = 200.0 };
    assert_false(bp_oneround_same(&i1, &f1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_round),
        cmocka_unit_test(test_refused_falls_back),
        cmocka_unit_test(test_top_in_the_one_round),
        cmocka_unit_test(test_top_refused),
        cmocka_unit_test(test_mismatch_costs_a_round),
        cmocka_unit_test(test_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

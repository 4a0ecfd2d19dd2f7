/* test_top.c: --top's reply read into the snapshot (well-formed and malformed), and its text and JSON rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ei.h>
#include <jansson.h>

#include "beamprobe.h"
#include "dist/term.h"
#include "dist/top.h"
#include "fixture_snapshot.h"

typedef fixture_fx fx;

/* What to break in the reply encode_reply builds. */
enum { GOOD, ERROR_TUPLE, EMPTY_LIST, SHORT_RESULT, UNEVEN, NOT_PID, VALUE_ATOM, TOO_MANY, DEAD, NOT_OK, SKIPPED };

static void encode_pid(ei_x_buff *x, unsigned num)
{
    erlang_pid p;
    memset(&p, 0, sizeof p);
    snprintf(p.node, sizeof p.node, "n@h");
    p.num = num;
    p.creation = 1;
    ei_x_encode_pid(x, &p);
}

static void encode_mfa(ei_x_buff *x, const char *m, const char *f, long a)
{
    ei_x_encode_tuple_header(x, 3);
    ei_x_encode_atom(x, m);
    ei_x_encode_atom(x, f);
    ei_x_encode_long(x, a);
}

/* {[{Value, Pid}], [Info], [Translated]} with n winners, values base, base-1, ... */
static void encode_category(ei_x_buff *x, int how, long n, long base)
{
    ei_x_encode_tuple_header(x, 3);
    ei_x_encode_list_header(x, n);
    for (long i = 0; i < n; i++) {
        ei_x_encode_tuple_header(x, 2);
        if (how == VALUE_ATOM)
            ei_x_encode_atom(x, "many");
        else
            ei_x_encode_long(x, base - i);
        if (how == NOT_PID)
            ei_x_encode_atom(x, "nopid");
        else
            encode_pid(x, (unsigned)(100 + i));
    }
    ei_x_encode_empty_list(x);
    ei_x_encode_list_header(x, how == UNEVEN ? n - 1 : n);
    for (long i = 0; i < (how == UNEVEN ? n - 1 : n); i++) {
        if (how == DEAD) {
            ei_x_encode_atom(x, "undefined");
            continue;
        }
        ei_x_encode_list_header(x, 3);
        ei_x_encode_tuple_header(x, 2);
        ei_x_encode_atom(x, "registered_name");
        if (i == 0)
            ei_x_encode_atom(x, "busy_one");
        else
            ei_x_encode_empty_list(x);
        ei_x_encode_tuple_header(x, 2);
        ei_x_encode_atom(x, "current_function");
        encode_mfa(x, "gen_server", "loop", 7);
        ei_x_encode_tuple_header(x, 2);
        ei_x_encode_atom(x, "initial_call");
        encode_mfa(x, "proc_lib", "init_p", 5);
        ei_x_encode_empty_list(x);
    }
    ei_x_encode_empty_list(x);
    ei_x_encode_list_header(x, n);
    for (long i = 0; i < n; i++)
        if (how == DEAD)
            ei_x_encode_atom(x, "false");
        else if (i == 1)
            encode_mfa(x, "proc_lib", "init_p", 5); /* not started by proc_lib: the raw one is shown */
        else
            encode_mfa(x, "my_worker", "init", 1);
    ei_x_encode_empty_list(x);
}

static bp_term *encode_reply(bp_arena *a, int how)
{
    ei_x_buff x;
    ei_x_new_with_version(&x);
    if (how == ERROR_TUPLE) {
        ei_x_encode_tuple_header(&x, 2);
        ei_x_encode_atom(&x, "error");
        ei_x_encode_tuple_header(&x, 2);
        ei_x_encode_atom(&x, "error");
        ei_x_encode_atom(&x, "badarg");
    } else {
        ei_x_encode_tuple_header(&x, 3);
        ei_x_encode_atom(&x, how == NOT_OK ? "okay" : "ok");
        ei_x_encode_long(&x, 1);
        if (how != EMPTY_LIST) {
            ei_x_encode_list_header(&x, 1);
            ei_x_encode_tuple_header(&x, 4);
            ei_x_encode_atom(&x, "erl_eval");
            ei_x_encode_atom(&x, "expr");
            ei_x_encode_list_header(&x, 2);
            ei_x_encode_long(&x, 3);
            ei_x_encode_long(&x, 100);
            ei_x_encode_empty_list(&x);
            if (how == SKIPPED) { /* no room before the deadline: {badrpc, timeout} */
                ei_x_encode_tuple_header(&x, 2);
                ei_x_encode_atom(&x, "badrpc");
                ei_x_encode_atom(&x, "timeout");
                ei_x_encode_empty_list(&x);
                goto decode;
            }
            ei_x_encode_tuple_header(&x, how == SHORT_RESULT ? 5 : 6);
            ei_x_encode_long(&x, 100000);
            ei_x_encode_long(&x, 100);
            ei_x_encode_long(&x, 4242);
            long n = how == TOO_MANY ? 51 : 3;
            encode_category(&x, how, n, 1000);
            encode_category(&x, how, n, 5000000);
            if (how != SHORT_RESULT)
                encode_category(&x, how, n, 70000);
        }
        ei_x_encode_empty_list(&x);
    }
decode:;
    bp_term *t = NULL;
    size_t i = 0;
    assert_int_equal(bp_term_decode((const unsigned char *)x.buff, (size_t)x.index, &i, 1, a, &t), 0);
    ei_x_free(&x);
    return t;
}

static int setup(void **state)
{
    int rc = fixture_fx_setup(state);
    fx *f = *state;
    f->snap->top.asked = 1;
    f->cfg.top = 3;
    return rc;
}

static void test_reads_the_three_lists(void **state)
{
    fx *f = *state;
    bp_top_snap *t = &f->snap->top;
    assert_int_equal(bp_top_read(f->snap, encode_reply(f->snap->arena, GOOD)), 0);
    assert_null(t->unavailable);
    assert_int_equal(t->processes, 100000);
    assert_int_equal(t->window_ms, 100);
    assert_int_equal(t->probe_memory, 4242);
    for (int k = 0; k < BP_TOP_CATEGORIES; k++)
        assert_int_equal(t->n[k], 3);
    const bp_top_entry *e = &t->list[BP_TOP_QUEUE][0];
    assert_int_equal(e->value, 1000);
    assert_string_equal(e->pid, "<n@h.100.0>");
    assert_string_equal(e->name, "busy_one");
    assert_string_equal(e->current_function, "gen_server:loop/7");
    assert_string_equal(e->initial_call, "my_worker:init/1");
    assert_null(t->list[BP_TOP_QUEUE][1].name); /* registered_name [] */
    assert_string_equal(t->list[BP_TOP_QUEUE][1].initial_call, "proc_lib:init_p/5"); /* the raw one */
    assert_int_equal(t->list[BP_TOP_MEMORY][0].value, 5000000);
    assert_int_equal(t->list[BP_TOP_REDUCTIONS][2].value, 69998);
}

static void test_dead_winner_has_no_names(void **state)
{
    fx *f = *state;
    assert_int_equal(bp_top_read(f->snap, encode_reply(f->snap->arena, DEAD)), 0);
    const bp_top_entry *e = &f->snap->top.list[BP_TOP_MEMORY][0];
    assert_non_null(e->pid);
    assert_null(e->name);
    assert_null(e->current_function);
    assert_null(e->initial_call);
}

static void expect_unavailable(fx *f, int how, const char *why)
{
    bp_top_snap *t = &f->snap->top;
    assert_int_equal(bp_top_read(f->snap, encode_reply(f->snap->arena, how)), -1);
    assert_non_null(t->unavailable);
    if (!strstr(t->unavailable, why))
        fail_msg("case %d: \"%s\" lacks \"%s\"", how, t->unavailable, why);
    for (int k = 0; k < BP_TOP_CATEGORIES; k++)
        assert_int_equal(t->n[k], 0);
}

static void test_malformed_replies_say_why(void **state)
{
    fx *f = *state;
    expect_unavailable(f, ERROR_TUPLE, "failed on the target: {error,badarg}");
    expect_unavailable(f, EMPTY_LIST, "left it out");
    expect_unavailable(f, NOT_OK, "malformed");
    expect_unavailable(f, SHORT_RESULT, "malformed");
    expect_unavailable(f, UNEVEN, "malformed");
    expect_unavailable(f, NOT_PID, "malformed");
    expect_unavailable(f, VALUE_ATOM, "malformed");
    expect_unavailable(f, TOO_MANY, "malformed");
    expect_unavailable(f, SKIPPED, "too little time left within --timeout");
    assert_int_equal(bp_top_read(f->snap, NULL), -1);
}

static void test_text_has_a_table_per_category(void **state)
{
    fx *f = *state;
    assert_int_equal(bp_top_read(f->snap, encode_reply(f->snap->arena, GOOD)), 0);
    assert_int_equal(bp_evaluate(f->snap, &f->cfg, &f->rep), 0);
    f->out = bp_render_text(&f->rep);
    assert_non_null(f->out);
    assert_non_null(strstr(f->out, "top (100000 processes, 100 ms window, probe process 4242 bytes)"));
    assert_non_null(strstr(f->out, "longest message queues\n            1000  <n@h.100.0>"));
    assert_non_null(strstr(f->out, "most memory (bytes)\n         5000000"));
    assert_non_null(strstr(f->out, "most reductions in the window\n"));
    assert_non_null(strstr(f->out, "busy_one"));
}

static void test_text_unavailable(void **state)
{
    fx *f = *state;
    (void)bp_top_read(f->snap, encode_reply(f->snap->arena, EMPTY_LIST));
    assert_int_equal(bp_evaluate(f->snap, &f->cfg, &f->rep), 0);
    f->out = bp_render_text(&f->rep);
    assert_non_null(strstr(f->out, "top: unavailable: the target left it out"));
}

static void test_json_top_object(void **state)
{
    fx *f = *state;
    assert_int_equal(bp_top_read(f->snap, encode_reply(f->snap->arena, GOOD)), 0);
    assert_int_equal(bp_evaluate(f->snap, &f->cfg, &f->rep), 0);
    f->out = bp_render_json(&f->rep, 0);
    json_error_t err;
    f->doc = json_loads(f->out, 0, &err);
    assert_non_null(f->doc);
    json_t *top = json_object_get(f->doc, "top");
    assert_true(json_is_object(top));
    assert_true(json_is_null(json_object_get(top, "unavailable")));
    assert_int_equal(json_integer_value(json_object_get(top, "processes")), 100000);
    assert_int_equal(json_integer_value(json_object_get(top, "window_ms")), 100);
    assert_int_equal(json_integer_value(json_object_get(top, "probe_memory_bytes")), 4242);
    json_t *q = json_object_get(top, "message_queue_len");
    assert_int_equal(json_array_size(q), 3);
    json_t *e = json_array_get(q, 0);
    assert_string_equal(json_string_value(json_object_get(e, "pid")), "<n@h.100.0>");
    assert_string_equal(json_string_value(json_object_get(e, "name")), "busy_one");
    assert_string_equal(json_string_value(json_object_get(e, "current_function")), "gen_server:loop/7");
    assert_string_equal(json_string_value(json_object_get(e, "initial_call")), "my_worker:init/1");
    assert_int_equal(json_integer_value(json_object_get(e, "value")), 1000);
    assert_true(json_is_null(json_object_get(json_array_get(q, 1), "name")));
    assert_int_equal(json_array_size(json_object_get(top, "memory")), 3);
    assert_int_equal(json_array_size(json_object_get(top, "reductions")), 3);
}

static void test_json_unavailable_and_absent(void **state)
{
    fx *f = *state;
    (void)bp_top_read(f->snap, encode_reply(f->snap->arena, NOT_PID));
    assert_int_equal(bp_evaluate(f->snap, &f->cfg, &f->rep), 0);
    f->out = bp_render_json(&f->rep, 0);
    f->doc = json_loads(f->out, 0, NULL);
    json_t *top = json_object_get(f->doc, "top");
    assert_string_equal(json_string_value(json_object_get(top, "unavailable")), "malformed reply from the target");
    assert_true(json_is_null(json_object_get(top, "processes")));
    assert_int_equal(json_array_size(json_object_get(top, "memory")), 0);
    /* not asked: no `top` key at all, the document as before */
    f->snap->top.asked = 0;
    free(f->out);
    json_decref(f->doc);
    f->out = bp_render_json(&f->rep, 0);
    f->doc = json_loads(f->out, 0, NULL);
    assert_null(json_object_get(f->doc, "top"));
}

/* Diagnostic only: the verdict and the exit code are those without it. */
static void test_top_never_changes_the_verdict(void **state)
{
    fx *f = *state;
    assert_int_equal(bp_evaluate(f->snap, &f->cfg, &f->rep), 0);
    int code = bp_report_exit_code(&f->rep, &f->cfg);
    bp_status st = f->rep.status;
    (void)bp_top_read(f->snap, encode_reply(f->snap->arena, GOOD));
    assert_int_equal(bp_evaluate(f->snap, &f->cfg, &f->rep), 0);
    assert_int_equal(bp_report_exit_code(&f->rep, &f->cfg), code);
    assert_int_equal(f->rep.status, st);
    (void)bp_top_read(f->snap, encode_reply(f->snap->arena, ERROR_TUPLE));
    assert_int_equal(bp_evaluate(f->snap, &f->cfg, &f->rep), 0);
    assert_int_equal(bp_report_exit_code(&f->rep, &f->cfg), code);
    assert_false(f->rep.incomplete);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_the_three_lists, setup, fixture_fx_teardown),
        cmocka_unit_test_setup_teardown(test_dead_winner_has_no_names, setup, fixture_fx_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_replies_say_why, setup, fixture_fx_teardown),
        cmocka_unit_test_setup_teardown(test_text_has_a_table_per_category, setup, fixture_fx_teardown),
        cmocka_unit_test_setup_teardown(test_text_unavailable, setup, fixture_fx_teardown),
        cmocka_unit_test_setup_teardown(test_json_top_object, setup, fixture_fx_teardown),
        cmocka_unit_test_setup_teardown(test_json_unavailable_and_absent, setup, fixture_fx_teardown),
        cmocka_unit_test_setup_teardown(test_top_never_changes_the_verdict, setup, fixture_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_prockind.c: the proof of a process's kind from process_info and '$initial_call' replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dist/prockind.h"

typedef struct {
    const char *m, *f;
    long a;
} mfa;

static bp_arena *arena;

static int setup(void **state)
{
    (void)state;
    arena = bp_arena_new(1 << 16);
    return arena ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    bp_arena_free(arena);
    return 0;
}

static const bp_term *decode(ei_x_buff *x)
{
    bp_term *t = NULL;
    size_t i = 0;
    assert_int_equal(bp_term_decode((const unsigned char *)x->buff, (size_t)x->index, &i, 1, arena, &t), 0);
    ei_x_free(x);
    return t;
}

static void put_mfa(ei_x_buff *x, mfa v, int frame)
{
    ei_x_encode_tuple_header(x, frame ? 4 : 3);
    ei_x_encode_atom(x, v.m);
    ei_x_encode_atom(x, v.f);
    ei_x_encode_long(x, v.a);
    if (frame)
        ei_x_encode_empty_list(x);
}

/* process_info(Pid, [current_function, current_stacktrace, ...]) with these frames, innermost first. */
static const bp_term *info(mfa current, const mfa *frames, int n)
{
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_list_header(&x, 3);
    ei_x_encode_tuple_header(&x, 2);
    ei_x_encode_atom(&x, "current_function");
    put_mfa(&x, current, 0);
    ei_x_encode_tuple_header(&x, 2);
    ei_x_encode_atom(&x, "current_stacktrace");
    if (n > 0)
        ei_x_encode_list_header(&x, n);
    for (int i = 0; i < n; i++)
        put_mfa(&x, frames[i], 1);
    ei_x_encode_empty_list(&x);
    ei_x_encode_tuple_header(&x, 2);
    ei_x_encode_atom(&x, "message_queue_len");
    ei_x_encode_long(&x, 7);
    ei_x_encode_empty_list(&x);
    return decode(&x);
}

static const bp_term *ic(mfa v)
{
    ei_x_buff x;
    ei_x_new_with_version(&x);
    put_mfa(&x, v, 0);
    return decode(&x);
}

static bp_prockind kind_of(const bp_term *i, const bp_term *initial)
{
    bp_prockind k;
    assert_int_equal(bp_prockind_take(i, initial, &k), 0);
    return k;
}

static void expect(const bp_prockind *k, bp_pk_kind kind, const char *described, int sys)
{
    char buf[300];
    bp_prockind_describe(k, buf, sizeof buf);
    assert_int_equal(k->kind, kind);
    assert_string_equal(buf, described);
    assert_int_equal(bp_prockind_handles_sys(k), sys);
}

static const mfa loop7 = { "gen_server", "loop", 7 }, init_p = { "proc_lib", "init_p_do_apply", 3 };

static void test_gen_server_waiting_and_busy(void **state)
{
    (void)state;
    mfa waiting[] = { loop7, init_p };
    bp_prockind k = kind_of(info(loop7, waiting, 2), ic((mfa){ "logger_server", "init", 1 }));
    expect(&k, BP_PK_GEN_SERVER, "gen_server logger_server", 1);
    assert_int_equal(k.message_queue_len, 7);
    /* inside a callback: the dispatch frame below it proves the loop */
    mfa busy[] = { { "my_srv", "handle_call", 3 }, { "gen_server", "try_handle_call", 4 },
                   { "gen_server", "handle_msg", 6 }, init_p };
    k = kind_of(info((mfa){ "my_srv", "handle_call", 3 }, busy, 4), ic((mfa){ "my_srv", "init", 1 }));
    expect(&k, BP_PK_GEN_SERVER, "gen_server my_srv", 1);
}

/* A plain process blocked in a client call has gen_server frames, but not the loop's. */
static void test_client_frames_prove_nothing(void **state)
{
    (void)state;
    mfa frames[] = { { "gen", "do_call", 4 }, { "gen_server", "call", 3 }, { "worker", "run", 0 } };
    bp_prockind k = kind_of(info((mfa){ "gen", "do_call", 4 }, frames, 3), ic((mfa){ "proc_lib", "init_p", 5 }));
    expect(&k, BP_PK_PLAIN, "a plain process (in gen:do_call/4)", 0);
    k = kind_of(info((mfa){ "gen", "do_call", 4 }, frames, 3), ic((mfa){ "worker", "run", 0 }));
    expect(&k, BP_PK_PLAIN, "a process of worker outside any OTP behaviour's loop (in gen:do_call/4)", 0);
}

static void test_supervisors_and_bridges(void **state)
{
    (void)state;
    mfa frames[] = { loop7, init_p };
    bp_prockind k = kind_of(info(loop7, frames, 2), ic((mfa){ "supervisor", "kernel", 1 }));
    expect(&k, BP_PK_SUPERVISOR, "supervisor kernel", 1);
    k = kind_of(info(loop7, frames, 2), ic((mfa){ "supervisor_bridge", "user_sup", 1 }));
    expect(&k, BP_PK_SUPERVISOR_BRIDGE, "supervisor_bridge user_sup", 1);
    /* application_controller: a gen_server entered from its own start function */
    k = kind_of(info(loop7, frames, 2), ic((mfa){ "application_controller", "start", 1 }));
    expect(&k, BP_PK_GEN_SERVER, "gen_server application_controller", 1);
}

static void test_statem_and_event(void **state)
{
    (void)state;
    mfa sm[] = { { "gen_statem", "loop_receive", 3 }, init_p };
    bp_prockind k = kind_of(info(sm[0], sm, 2), ic((mfa){ "demo_governor", "init", 1 }));
    expect(&k, BP_PK_GEN_STATEM, "gen_statem demo_governor", 1);
    mfa ev[] = { { "gen_event", "fetch_msg", 6 }, init_p };
    k = kind_of(info(ev[0], ev, 2), ic((mfa){ "gen_event", "init_it", 6 }));
    expect(&k, BP_PK_GEN_EVENT, "gen_event", 1);
}

/* Hibernated: the stack is empty, the module's declared behaviour decides. */
static void test_hibernated(void **state)
{
    (void)state;
    mfa hib = { "erlang", "hibernate", 3 };
    bp_prockind k = kind_of(info(hib, NULL, 0), ic((mfa){ "gov", "init", 1 }));
    expect(&k, BP_PK_HIBERNATED, "a hibernated process started as gov", 0);

    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_list_header(&x, 2);
    ei_x_encode_tuple_header(&x, 2);
    ei_x_encode_atom(&x, "vsn");
    ei_x_encode_empty_list(&x);
    ei_x_encode_tuple_header(&x, 2);
    ei_x_encode_atom(&x, "behavior");
    ei_x_encode_list_header(&x, 1);
    ei_x_encode_atom(&x, "gen_statem");
    ei_x_encode_empty_list(&x);
    ei_x_encode_empty_list(&x);
    const bp_term *attrs = decode(&x);
    bp_prockind_take_attrs(attrs, &k);
    expect(&k, BP_PK_GEN_STATEM, "gen_statem gov", 1);

    /* a module that declares it, but the process was not started by gen as its callback */
    k = kind_of(info(hib, NULL, 0), ic((mfa){ "gov", "helper", 2 }));
    bp_prockind_take_attrs(attrs, &k);
    assert_int_equal(k.kind, BP_PK_PLAIN);
    /* no reply (module not loaded: badarg) */
    k = kind_of(info(hib, NULL, 0), ic((mfa){ "gov", "init", 1 }));
    bp_prockind_take_attrs(NULL, &k);
    assert_int_equal(k.kind, BP_PK_PLAIN);
    /* a hibernated gen_event needs no module */
    k = kind_of(info(hib, NULL, 0), ic((mfa){ "gen_event", "init_it", 6 }));
    assert_int_equal(k.kind, BP_PK_GEN_EVENT);
}

/* OTP 29 (forky's 29.1.1) hibernates gen_servers inside gen_server's own loop, stack kept, as recorded
   from demo_sup, net_sup and kernel_safe_sup right after start; gen_statem's counterpart is loop_hibernate. */
static void test_hibernated_in_the_loop(void **state)
{
    (void)state;
    mfa hib = { "gen_server", "loop_hibernate", 4 }, wake = { "gen_server", "loop_wakeup", 5 };
    mfa stack[] = { hib, init_p };
    bp_prockind k = kind_of(info(hib, stack, 2), ic((mfa){ "supervisor", "demo_sup", 1 }));
    expect(&k, BP_PK_SUPERVISOR, "supervisor demo_sup", 1);
    k = kind_of(info(hib, stack, 2), ic((mfa){ "cache", "init", 1 }));
    expect(&k, BP_PK_GEN_SERVER, "gen_server cache", 1);
    stack[0] = wake;
    k = kind_of(info(wake, stack, 2), ic((mfa){ "supervisor_bridge", "legacy", 1 }));
    assert_int_equal(k.kind, BP_PK_SUPERVISOR_BRIDGE);
    mfa st_hib = { "gen_statem", "loop_hibernate", 4 };
    stack[0] = st_hib;
    k = kind_of(info(st_hib, stack, 2), ic((mfa){ "gov", "init", 1 }));
    expect(&k, BP_PK_GEN_STATEM, "gen_statem gov", 1);
    /* the same names in another module prove nothing */
    mfa other = { "my_server", "loop_hibernate", 4 };
    stack[0] = other;
    k = kind_of(info(other, stack, 2), ic((mfa){ "supervisor", "demo_sup", 1 }));
    assert_int_equal(k.kind, BP_PK_PLAIN);
}

static void test_gone_and_malformed(void **state)
{
    (void)state;
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_atom(&x, "undefined");
    bp_prockind k = kind_of(decode(&x), NULL);
    expect(&k, BP_PK_GONE, "a process that has exited", 0);
    ei_x_new_with_version(&x);
    ei_x_encode_long(&x, 3);
    assert_int_equal(bp_prockind_take(decode(&x), NULL, &k), -1);
    assert_int_equal(bp_prockind_take(NULL, NULL, &k), -1);
    ei_x_new_with_version(&x);
    ei_x_encode_empty_list(&x);
    assert_int_equal(bp_prockind_take(decode(&x), NULL, &k), -1);
    /* a list without the items asked for: no frames, no function: plain, never a behaviour */
    ei_x_new_with_version(&x);
    ei_x_encode_list_header(&x, 1);
    ei_x_encode_atom(&x, "status");
    ei_x_encode_empty_list(&x);
    k = kind_of(decode(&x), NULL);
    assert_int_equal(k.kind, BP_PK_PLAIN);
    assert_int_equal(k.message_queue_len, -1);
}

/* The rule the one-round request applies on the target: the same table, one entry per module. */
static void test_rule_as_data(void **state)
{
    (void)state;
    ei_x_buff x;
    ei_x_new_with_version(&x);
    assert_int_equal(bp_prockind_encode_rule(&x), 0);
    bp_arena *a = bp_arena_new(1 << 20);
    bp_term *t = NULL;
    size_t i = 0;
    assert_int_equal(bp_term_decode((const unsigned char *)x.buff, (size_t)x.index, &i, 1, a, &t), 0);
    assert_true(t->type == BP_T_TUPLE && t->n == 3);
    const bp_term *mods = &t->items[0], *ms = &t->items[1], *items = &t->items[2];
    assert_int_equal(mods->n, 3); /* gen_server, gen_statem (its two prefixes merged), gen_event */
    assert_string_equal(mods->items[1].str, "gen_statem");
    /* one clause per exact name, one per prefix (gen_statem's "loop" and "enter", gen_event's "server_") */
    size_t exact = 0, prefixed = 0, kinds[6] = { 0 };
    int seen_try_dispatch = 0, seen_enter = 0;
    for (size_t k = 0; k < ms->n; k++) {
        const bp_term *c = &ms->items[k], *head = &c->items[0], *body = &c->items[2];
        assert_true(c->type == BP_T_TUPLE && c->n == 3 && head->type == BP_T_TUPLE && head->n == 4);
        assert_true(head->items[0].type == BP_T_BINARY && body->type == BP_T_LIST && body->n == 1);
        /* the body makes a clause {{M, F, '_', '_'}, [], [Kind]} */
        const bp_term *made = &body->items[0].items[0];
        assert_true(made->type == BP_T_TUPLE && made->n == 3 && made->items[2].type == BP_T_LIST);
        int64_t kind = made->items[2].items[0].i;
        assert_true(kind >= 3 && kind <= 5);
        kinds[kind]++;
        if (head->items[1].type == BP_T_BINARY) {
            exact++;
            assert_true(c->items[1].type == BP_T_NIL);
            seen_try_dispatch |= strcmp(head->items[0].str, "gen_server") == 0 && strcmp(head->items[1].str, "try_dispatch") == 0;
        } else {
            prefixed++;
            assert_true(head->items[1].type == BP_T_ATOM && strcmp(head->items[1].str, "$1") == 0);
            const bp_term *eq = &c->items[1].items[1];
            assert_string_equal(eq->items[0].str, "=:=");
            seen_enter |= strcmp(head->items[0].str, "gen_statem") == 0 && strcmp(eq->items[2].str, "enter") == 0;
            assert_int_equal(kind, strcmp(head->items[0].str, "gen_event") == 0 ? 5 : 4);
        }
    }
    assert_int_equal(prefixed, 3);
    assert_true(exact > 10 && kinds[3] > 0 && kinds[4] > 0 && kinds[5] > 0);
    assert_true(seen_try_dispatch && seen_enter);
    assert_int_equal(items->n, 6);
    assert_string_equal(items->items[1].str, "current_stacktrace");
    bp_arena_free(a);
    ei_x_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gen_server_waiting_and_busy),
        cmocka_unit_test(test_client_frames_prove_nothing),
        cmocka_unit_test(test_supervisors_and_bridges),
        cmocka_unit_test(test_statem_and_event),
        cmocka_unit_test(test_hibernated),
        cmocka_unit_test(test_hibernated_in_the_loop),
        cmocka_unit_test(test_gone_and_malformed),
        cmocka_unit_test(test_rule_as_data),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

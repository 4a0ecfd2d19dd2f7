/* test_sup_quirks.c: which which_children entries OTP leaves not running by design (kernel_sup's on_load). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ei.h>

#include "dist/sup_quirks.h"

static bp_arena *arena;

static int setup(void **state)
{
    (void)state;
    arena = bp_arena_new(1 << 14);
    return arena ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    bp_arena_free(arena);
    return 0;
}

/* {Id, Child, Type, [Module]} as supervisor:which_children/1 lists it. */
static const bp_term *entry(const char *id, const char *child, const char *type, const char *mod)
{
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 4);
    ei_x_encode_atom(&x, id);
    ei_x_encode_atom(&x, child);
    ei_x_encode_atom(&x, type);
    ei_x_encode_list_header(&x, 1);
    ei_x_encode_atom(&x, mod);
    ei_x_encode_empty_list(&x);
    bp_term *t = NULL;
    size_t i = 0;
    assert_int_equal(bp_term_decode((const unsigned char *)x.buff, (size_t)x.index, &i, 1, arena, &t), 0);
    ei_x_free(&x);
    return t;
}

static void test_kernel_sup_on_load(void **state)
{
    (void)state;
    /* OTP 27's kernel_sup: {on_load, undefined, worker, [kernel]} on every node */
    assert_int_equal(bp_child_stopped_by_design("kernel_sup", entry("on_load", "undefined", "worker", "kernel")), 1);
}

static void test_anything_else_counts(void **state)
{
    (void)state;
    const bp_term *on_load = entry("on_load", "undefined", "worker", "kernel");
    /* the same entry under another supervisor, nested or not */
    assert_int_equal(bp_child_stopped_by_design("demo_sup", on_load), 0);
    assert_int_equal(bp_child_stopped_by_design("demo_sup/kernel_sup", on_load), 0);
    assert_int_equal(bp_child_stopped_by_design(NULL, on_load), 0);
    /* another child of kernel_sup, another module, another type */
    assert_int_equal(bp_child_stopped_by_design("kernel_sup", entry("rex", "undefined", "worker", "rpc")), 0);
    assert_int_equal(bp_child_stopped_by_design("kernel_sup", entry("on_load", "undefined", "worker", "demo")), 0);
    assert_int_equal(bp_child_stopped_by_design("kernel_sup", entry("on_load", "undefined", "supervisor", "kernel")),
                     0);
    /* being restarted is never by design */
    assert_int_equal(bp_child_stopped_by_design("kernel_sup", entry("on_load", "restarting", "worker", "kernel")), 0);
    assert_int_equal(bp_child_stopped_by_design("kernel_sup", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_sup_on_load),
        cmocka_unit_test(test_anything_else_counts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

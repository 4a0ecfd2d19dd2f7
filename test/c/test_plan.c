/* test_plan.c: the plan a probe runs: --plan as given, and auto's choice by the measured round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dist/plan.h"

static void test_given_plans(void **state)
{
    (void)state;
    char why[128];
    assert_int_equal(bp_plan_choose("one-round", 10, why, sizeof why), BP_PLAN_ONE_ROUND);
    assert_string_equal(why, ""); /* nothing to say: the default */
    assert_int_equal(bp_plan_choose("multi-round", 100000, why, sizeof why), BP_PLAN_MULTI_ROUND);
    assert_string_equal(why, "--plan multi-round");
}

static void test_auto_by_round_trip(void **state)
{
    (void)state;
    char why[128];
    assert_int_equal(bp_plan_choose("auto", 40, why, sizeof why), BP_PLAN_MULTI_ROUND);
    assert_string_equal(why, "auto: the TCP connect took 0.04 ms, under 0.5 ms");
    assert_int_equal(bp_plan_choose("auto", BP_PLAN_AUTO_RTT_US - 1, why, sizeof why), BP_PLAN_MULTI_ROUND);
    assert_int_equal(bp_plan_choose("auto", BP_PLAN_AUTO_RTT_US, why, sizeof why), BP_PLAN_ONE_ROUND);
    assert_int_equal(bp_plan_choose("auto", 200000, why, sizeof why), BP_PLAN_ONE_ROUND);
    assert_string_equal(why, "auto: the TCP connect took 200.00 ms, at least 0.5 ms");
    /* not measured: the plan that is right for a remote node */
    assert_int_equal(bp_plan_choose("auto", -1, why, sizeof why), BP_PLAN_ONE_ROUND);
    assert_string_equal(why, "auto: round trip not measured");
}

static void test_reason_truncated_safely(void **state)
{
    (void)state;
    char why[8];
    assert_int_equal(bp_plan_choose("auto", 40, why, sizeof why), BP_PLAN_MULTI_ROUND);
    assert_int_equal(strlen(why), sizeof why - 1);
    assert_int_equal(bp_plan_choose("multi-round", 0, NULL, 0), BP_PLAN_MULTI_ROUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_given_plans),
        cmocka_unit_test(test_auto_by_round_trip),
        cmocka_unit_test(test_reason_truncated_safely),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

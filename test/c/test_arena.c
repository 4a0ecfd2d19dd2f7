/* test_arena.c: cmocka tests for the capped bump allocator (core/arena.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdalign.h>
#include <string.h>

#include "core/arena.h"

static void test_new_and_free(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    assert_non_null(a);
    assert_int_equal(bp_arena_used(a), 0);
    bp_arena_free(a);
    bp_arena_free(NULL);
    assert_int_equal(bp_arena_used(NULL), 0);
}

static void test_default_cap(void **state)
{
    (void)state;
    /* 0 means 16 MiB: 15 MiB fits, another 2 MiB does not */
    bp_arena *a = bp_arena_new(0);
    assert_non_null(bp_arena_alloc(a, (size_t)15 << 20));
    assert_null(bp_arena_alloc(a, (size_t)2 << 20));
    assert_non_null(bp_arena_alloc(a, (size_t)512 << 10));
    bp_arena_free(a);
}

static void test_cap_refusal(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(100);
    void *p = bp_arena_alloc(a, 64);
    assert_non_null(p);
    size_t used = bp_arena_used(a);
    assert_true(used >= 64);
    /* 64 more would pass the cap: refused, and nothing is counted */
    assert_null(bp_arena_alloc(a, 64));
    assert_int_equal(bp_arena_used(a), used);
    /* a smaller request still fits */
    assert_non_null(bp_arena_alloc(a, 16));
    /* absurd sizes never wrap around */
    assert_null(bp_arena_alloc(a, SIZE_MAX));
    assert_null(bp_arena_alloc(a, SIZE_MAX - 8));
    assert_null(bp_arena_strndup(a, "x", SIZE_MAX));
    bp_arena_free(a);

    /* a cap that is hit exactly */
    a = bp_arena_new(64);
    assert_non_null(bp_arena_alloc(a, 64));
    assert_null(bp_arena_alloc(a, 1));
    bp_arena_free(a);
}

static void test_alignment_and_zeroing(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    static const size_t sizes[] = { 1, 3, 7, 8, 9, 15, 16, 17, 31, 100, 8191, 8192, 9000, 1, 2 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        unsigned char *p = bp_arena_alloc(a, sizes[k]);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
        for (size_t j = 0; j < sizes[k]; j++)
            assert_int_equal(p[j], 0);
        memset(p, 0xAB, sizes[k]);
    }
    /* allocations do not overlap: write distinct patterns and read them back */
    unsigned char *ps[50];
    for (int k = 0; k < 50; k++) {
        ps[k] = bp_arena_alloc(a, 300);
        assert_non_null(ps[k]);
        memset(ps[k], k, 300);
    }
    for (int k = 0; k < 50; k++)
        for (int j = 0; j < 300; j++)
            assert_int_equal(ps[k][j], k);
    bp_arena_free(a);
}

static void test_large_allocation(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(1 << 20);
    unsigned char *small = bp_arena_alloc(a, 10);
    unsigned char *big = bp_arena_alloc(a, 100000); /* larger than one chunk */
    unsigned char *after = bp_arena_alloc(a, 10);
    assert_non_null(small);
    assert_non_null(big);
    assert_non_null(after);
    memset(big, 0x5A, 100000);
    assert_int_equal(small[0], 0);
    assert_int_equal(after[0], 0);
    assert_true(bp_arena_used(a) >= 100020);
    bp_arena_free(a);
}

static void test_strings(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    char *s = bp_arena_strdup(a, "hello");
    assert_string_equal(s, "hello");
    assert_null(bp_arena_strdup(a, NULL));
    assert_null(bp_arena_strndup(a, NULL, 3));

    s = bp_arena_strndup(a, "hello", 3);
    assert_string_equal(s, "hel");
    s = bp_arena_strndup(a, "a\0b", 3); /* copies exactly n bytes, NULs included */
    assert_memory_equal(s, "a\0b\0", 4);
    s = bp_arena_strndup(a, "", 0);
    assert_string_equal(s, "");

    s = bp_arena_printf(a, "%s-%d-%05.1f", "x", 42, 2.5);
    assert_string_equal(s, "x-42-002.5");
    s = bp_arena_printf(a, "%s", "");
    assert_string_equal(s, "");
    char big[3000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    s = bp_arena_printf(a, "<%s>", big);
    assert_int_equal(strlen(s), sizeof big + 1);
    bp_arena_free(a);

    /* string functions respect the cap too */
    a = bp_arena_new(32);
    assert_non_null(bp_arena_strdup(a, "0123456789"));
    assert_null(bp_arena_strdup(a, "0123456789012345678901234567890123456789"));
    assert_null(bp_arena_printf(a, "%s%s", big, big));
    bp_arena_free(a);
}

static void test_null_arena(void **state)
{
    (void)state;
    assert_null(bp_arena_alloc(NULL, 1));
    assert_null(bp_arena_strdup(NULL, "x"));
    assert_null(bp_arena_strndup(NULL, "x", 1));
    assert_null(bp_arena_printf(NULL, "%d", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_and_free),
        cmocka_unit_test(test_default_cap),
        cmocka_unit_test(test_cap_refusal),
        cmocka_unit_test(test_alignment_and_zeroing),
        cmocka_unit_test(test_large_allocation),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_null_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

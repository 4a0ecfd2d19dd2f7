/* test_term.c: cmocka tests for the bounded external term decoder and its helpers (dist/term.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ei.h>

#include "beamprobe.h"
#include "core/arena.h"
#include "dist/term.h"

/* ---------- helpers ---------- */

/* A growable byte buffer for hand-written terms. */
typedef struct {
    unsigned char *b;
    size_t n, cap;
} bytes;

static void b_put(bytes *o, const void *p, size_t n)
{
    if (o->n + n > o->cap) {
        size_t cap = o->cap ? o->cap : 64;
        while (cap < o->n + n)
            cap *= 2;
        unsigned char *nb = realloc(o->b, cap);
        assert_non_null(nb);
        o->b = nb;
        o->cap = cap;
    }
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void b_u8(bytes *o, unsigned v)
{
    unsigned char c = (unsigned char)v;
    b_put(o, &c, 1);
}

static void b_u16(bytes *o, unsigned v)
{
    b_u8(o, (v >> 8) & 0xFF);
    b_u8(o, v & 0xFF);
}

static void b_u32(bytes *o, uint32_t v)
{
    b_u16(o, (unsigned)(v >> 16));
    b_u16(o, (unsigned)(v & 0xFFFF));
}

static void b_str(bytes *o, const char *s)
{
    b_put(o, s, strlen(s));
}

static void b_free(bytes *o)
{
    free(o->b);
    memset(o, 0, sizeof *o);
}

/* SMALL_ATOM_UTF8_EXT */
static void b_atom(bytes *o, const char *s)
{
    b_u8(o, 119);
    b_u8(o, (unsigned)strlen(s));
    b_str(o, s);
}

/* Decode all of buf; asserts success and that every byte was used. */
static bp_term *dec_ok(bp_arena *a, const void *buf, size_t len, int versioned)
{
    size_t idx = 0;
    bp_term *t = NULL;
    int rc = bp_term_decode(buf, len, &idx, versioned, a, &t);
    assert_int_equal(rc, 0);
    assert_int_equal(idx, len);
    assert_non_null(t);
    return t;
}

static bp_term *dec_x(bp_arena *a, const ei_x_buff *x)
{
    return dec_ok(a, x->buff, (size_t)x->index, 1);
}

/* Decode expecting failure: index untouched, no tree; returns the code. */
static int dec_fail_in(bp_arena *a, const void *buf, size_t len, int versioned)
{
    size_t idx = 0;
    bp_term dummy;
    bp_term *t = &dummy;
    int rc = bp_term_decode(buf, len, &idx, versioned, a, &t);
    assert_int_not_equal(rc, 0);
    assert_int_equal(idx, 0);
    assert_null(t);
    return rc;
}

static int dec_fail(const void *buf, size_t len, int versioned)
{
    bp_arena *a = bp_arena_new(0);
    assert_non_null(a);
    int rc = dec_fail_in(a, buf, len, versioned);
    bp_arena_free(a);
    return rc;
}

static char fmtbuf[8192];

static const char *fmt(const bp_term *t)
{
    size_t n = bp_term_format(t, fmtbuf, sizeof fmtbuf);
    assert_int_equal(n, strlen(fmtbuf));
    return fmtbuf;
}

static void x_new(ei_x_buff *x)
{
    assert_int_equal(ei_x_new_with_version(x), 0);
}

static void x_atom(ei_x_buff *x, const char *s)
{
    assert_int_equal(ei_x_encode_atom(x, s), 0);
}

static void x_long(ei_x_buff *x, long v)
{
    assert_int_equal(ei_x_encode_long(x, v), 0);
}

static void make_pid(erlang_pid *p, const char *node, unsigned num, unsigned serial)
{
    memset(p, 0, sizeof *p);
    snprintf(p->node, sizeof p->node, "%s", node);
    p->num = num;
    p->serial = serial;
    p->creation = 7;
}

/* ---------- integers ---------- */

static void test_small_integer(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    ei_x_buff x;
    x_new(&x);
    x_long(&x, 255);
    assert_int_equal((unsigned char)x.buff[1], 97);
    bp_term *t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_INT);
    assert_int_equal(t->i, 255);
    assert_string_equal(fmt(t), "255");
    ei_x_free(&x);
    bp_arena_free(a);
}

static void test_integer(void **state)
{
    (void)state;
    /* ei uses INTEGER_EXT for 28-bit values only */
    const long vals[] = { 256, -1, -256, (1L << 27) - 1, -(1L << 27) };
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        bp_arena *a = bp_arena_new(0);
        ei_x_buff x;
        x_new(&x);
        x_long(&x, vals[k]);
        assert_int_equal((unsigned char)x.buff[1], 98);
        bp_term *t = dec_x(a, &x);
        int64_t v = 0;
        assert_int_equal(bp_term_int(t, &v), 0);
        assert_int_equal(v, vals[k]);
        ei_x_free(&x);
        bp_arena_free(a);
    }
    /* the full 32-bit range, by hand */
    static const unsigned char max32[] = { 131, 98, 0x7f, 0xff, 0xff, 0xff };
    static const unsigned char min32[] = { 131, 98, 0x80, 0, 0, 0 };
    bp_arena *a = bp_arena_new(0);
    assert_true(dec_ok(a, max32, sizeof max32, 1)->i == INT32_MAX);
    assert_true(dec_ok(a, min32, sizeof min32, 1)->i == INT32_MIN);
    bp_arena_free(a);
}

static void test_longlong_via_big(void **state)
{
    (void)state;
    const long long vals[] = { INT64_MAX, INT64_MIN, (long long)INT32_MAX + 1, -1234567890123LL };
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        bp_arena *a = bp_arena_new(0);
        ei_x_buff x;
        x_new(&x);
        assert_int_equal(ei_x_encode_longlong(&x, vals[k]), 0);
        assert_int_equal((unsigned char)x.buff[1], 110);
        bp_term *t = dec_x(a, &x);
        assert_int_equal(t->type, BP_T_INT);
        assert_true(t->i == vals[k]);
        ei_x_free(&x);
        bp_arena_free(a);
    }
    /* 2^63 and 2^64-1 do not fit */
    const unsigned long long big[] = { (unsigned long long)INT64_MAX + 1, UINT64_MAX };
    for (size_t k = 0; k < 2; k++) {
        bp_arena *a = bp_arena_new(0);
        ei_x_buff x;
        x_new(&x);
        assert_int_equal(ei_x_encode_ulonglong(&x, big[k]), 0);
        bp_term *t = dec_x(a, &x);
        assert_int_equal(t->type, BP_T_BIGINT);
        assert_true(fabs(t->f - (double)big[k]) <= (double)big[k] * 1e-15);
        assert_int_equal(bp_term_int(t, NULL), -1);
        ei_x_free(&x);
        bp_arena_free(a);
    }
}

/* SMALL_BIG_EXT with a little-endian magnitude. */
static void put_big(bytes *o, int neg, const unsigned char *le, size_t n, int large)
{
    b_u8(o, 131);
    if (large) {
        b_u8(o, 111);
        b_u32(o, (uint32_t)n);
    } else {
        b_u8(o, 110);
        b_u8(o, (unsigned)n);
    }
    b_u8(o, neg ? 1 : 0);
    b_put(o, le, n);
}

static void test_big_boundaries(void **state)
{
    (void)state;
    static const unsigned char max63[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f };
    static const unsigned char two63[8] = { 0, 0, 0, 0, 0, 0, 0, 0x80 };
    static const unsigned char two63p1[8] = { 1, 0, 0, 0, 0, 0, 0, 0x80 };
    static const unsigned char padded[10] = { 5, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const unsigned char two64p1[9] = { 1, 0, 0, 0, 0, 0, 0, 0, 1 };
    struct {
        int neg, large, is_int;
        const unsigned char *le;
        size_t n;
        int64_t i;
        double f;
    } cases[] = {
        { 0, 0, 1, max63, 8, INT64_MAX, 0 },
        { 1, 0, 1, max63, 8, -INT64_MAX, 0 },
        { 1, 0, 1, two63, 8, INT64_MIN, 0 },
        { 0, 0, 0, two63, 8, 0, 9223372036854775808.0 },
        { 1, 0, 0, two63p1, 8, 0, -9223372036854775809.0 },
        { 0, 1, 1, padded, 10, 5, 0 },  /* non-canonical leading zeros */
        { 1, 0, 1, padded, 0, 0, 0 },   /* no digits at all: zero */
        { 0, 1, 0, two64p1, 9, 0, 18446744073709551617.0 },
        { 1, 1, 0, two64p1, 9, 0, -18446744073709551617.0 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (int large = 0; large < 2; large++) {
            bytes o = { 0 };
            put_big(&o, cases[k].neg, cases[k].le, cases[k].n, large || cases[k].large);
            bp_arena *a = bp_arena_new(0);
            bp_term *t = dec_ok(a, o.b, o.n, 1);
            if (cases[k].is_int) {
                assert_int_equal(t->type, BP_T_INT);
                assert_true(t->i == cases[k].i);
            } else {
                assert_int_equal(t->type, BP_T_BIGINT);
                assert_true(t->f == cases[k].f);
            }
            bp_arena_free(a);
            b_free(&o);
        }
    }
    /* a huge bignum: approximation saturates to infinity, printing still works */
    unsigned char huge[200];
    memset(huge, 0xff, sizeof huge);
    bytes o = { 0 };
    put_big(&o, 0, huge, sizeof huge, 0);
    bp_arena *a = bp_arena_new(0);
    bp_term *t = dec_ok(a, o.b, o.n, 1);
    assert_int_equal(t->type, BP_T_BIGINT);
    assert_true(isinf(t->f) && t->f > 0);
    assert_true(strlen(fmt(t)) > 0);
    bp_arena_free(a);
    b_free(&o);
    /* 2^64+1 prints as an (approximate) integer */
    o = (bytes){ 0 };
    put_big(&o, 1, two64p1, 9, 0);
    a = bp_arena_new(0);
    assert_string_equal(fmt(dec_ok(a, o.b, o.n, 1)), "-18446744073709551616");
    bp_arena_free(a);
    b_free(&o);
}

/* ---------- floats ---------- */

static void test_new_float(void **state)
{
    (void)state;
    struct {
        double v;
        const char *s;
    } cases[] = {
        { 3.25, "3.25" }, { 0.1, "0.1" }, { 100.0, "100.0" }, { -2.5e-7, "-2.5e-7" },
        { 1e20, "1.0e20" }, { 0.0, "0.0" }, { 1.0 / 3.0, "0.3333333333333333" },
        { DBL_MAX, "1.7976931348623157e308" }, { 1000.0, "1.0e3" }, { 150.0, "150.0" },
        { 0.0001, "0.0001" }, { 1e-5, "1.0e-5" }, { 0.00123, "0.00123" },
        { 123456789.0, "123456789.0" }, { 12345678.9, "12345678.9" }, { 1.25e14, "1.25e14" },
        { 9007199254740991.0, "9007199254740991.0" }, { 9007199254740992.0, "9.007199254740992e15" },
        { 123456789012345678.0, "1.2345678901234568e17" }, { 5e-324, "5.0e-324" },
        { -1.5, "-1.5" }, { 93.625, "93.625" }, { 2.1495382136300014, "2.1495382136300014" },
        { -0.0, "-0.0" }, { 0.30000000000000004, "0.30000000000000004" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        bp_arena *a = bp_arena_new(0);
        ei_x_buff x;
        x_new(&x);
        assert_int_equal(ei_x_encode_double(&x, cases[k].v), 0);
        assert_int_equal((unsigned char)x.buff[1], 70);
        bp_term *t = dec_x(a, &x);
        assert_int_equal(t->type, BP_T_FLOAT);
        assert_true(t->f == cases[k].v);
        assert_string_equal(fmt(t), cases[k].s);
        ei_x_free(&x);
        bp_arena_free(a);
    }
    /* NaN and infinity do not exist in Erlang */
    static const unsigned char nan_b[] = { 131, 70, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0 };
    static const unsigned char inf_b[] = { 131, 70, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0 };
    assert_int_equal(dec_fail(nan_b, sizeof nan_b, 1), BP_EDECODE);
    assert_int_equal(dec_fail(inf_b, sizeof inf_b, 1), BP_EDECODE);
}

static void put_float_ext(bytes *o, const char *text)
{
    char f[31];
    memset(f, 0, sizeof f);
    memcpy(f, text, strlen(text));
    b_u8(o, 99);
    b_put(o, f, sizeof f);
}

static void test_float_ext(void **state)
{
    (void)state;
    bytes o = { 0 };
    b_u8(&o, 131);
    put_float_ext(&o, "3.25000000000000000000e+00");
    bp_arena *a = bp_arena_new(0);
    bp_term *t = dec_ok(a, o.b, o.n, 1);
    assert_int_equal(t->type, BP_T_FLOAT);
    assert_true(t->f == 3.25);
    bp_arena_free(a);
    b_free(&o);

    const char *bad[] = { "", "abc", "1.5x", "nan", "inf", "1e999" };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        o = (bytes){ 0 };
        b_u8(&o, 131);
        put_float_ext(&o, bad[k]);
        assert_int_equal(dec_fail(o.b, o.n, 1), BP_EDECODE);
        b_free(&o);
    }
    /* 31 bytes without any NUL still parse as one bounded string */
    o = (bytes){ 0 };
    b_u8(&o, 131);
    b_u8(&o, 99);
    b_str(&o, "1.0000000000000000000000000000");
    b_u8(&o, '0');
    assert_int_equal(o.n, 33);
    a = bp_arena_new(0);
    assert_true(dec_ok(a, o.b, o.n, 1)->f == 1.0);
    bp_arena_free(a);
    b_free(&o);
}

/* ---------- atoms ---------- */

static void test_atoms_ei(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    ei_x_buff x;
    x_new(&x);
    x_atom(&x, "ok");
    assert_int_equal((unsigned char)x.buff[1], 119);
    bp_term *t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_ATOM);
    assert_string_equal(t->str, "ok");
    assert_int_equal(t->len, 2);
    assert_true(bp_term_is_atom(t, "ok"));
    ei_x_free(&x);

    /* 200 x "é" = 400 bytes: ATOM_UTF8_EXT */
    char big[401];
    for (int k = 0; k < 200; k++) {
        big[2 * k] = (char)0xC3;
        big[2 * k + 1] = (char)0xA9;
    }
    big[400] = '\0';
    x_new(&x);
    assert_int_equal(ei_x_encode_atom_len_as(&x, big, 400, ERLANG_UTF8, ERLANG_UTF8), 0);
    assert_int_equal((unsigned char)x.buff[1], 118);
    t = dec_x(a, &x);
    assert_int_equal(t->len, 400);
    assert_memory_equal(t->str, big, 401);
    ei_x_free(&x);
    bp_arena_free(a);
}

static void test_atoms_latin1(void **state)
{
    (void)state;
    /* ATOM_EXT "abc" */
    static const unsigned char atom_ext[] = { 131, 100, 0, 3, 'a', 'b', 'c' };
    /* SMALL_ATOM_EXT "café" in Latin-1 becomes UTF-8 */
    static const unsigned char small_latin1[] = { 131, 115, 4, 'c', 'a', 'f', 0xE9 };
    bp_arena *a = bp_arena_new(0);
    bp_term *t = dec_ok(a, atom_ext, sizeof atom_ext, 1);
    assert_true(bp_term_is_atom(t, "abc"));
    t = dec_ok(a, small_latin1, sizeof small_latin1, 1);
    assert_int_equal(t->type, BP_T_ATOM);
    assert_int_equal(t->len, 5);
    assert_string_equal(t->str, "caf\xC3\xA9");
    assert_string_equal(fmt(t), "caf\xC3\xA9");
    bp_arena_free(a);

    /* Latin-1 atom of 256 characters is too long */
    bytes o = { 0 };
    b_u8(&o, 131);
    b_u8(&o, 100);
    b_u16(&o, 256);
    for (int k = 0; k < 256; k++)
        b_u8(&o, 'a');
    assert_int_equal(dec_fail(o.b, o.n, 1), BP_EDECODE);
    b_free(&o);

    /* UTF-8 atom of 256 characters, and one with invalid UTF-8 */
    o = (bytes){ 0 };
    b_u8(&o, 131);
    b_u8(&o, 118);
    b_u16(&o, 256);
    for (int k = 0; k < 256; k++)
        b_u8(&o, 'a');
    assert_int_equal(dec_fail(o.b, o.n, 1), BP_EDECODE);
    b_free(&o);
    static const unsigned char bad_utf8[] = { 131, 119, 2, 0xC3, 0x28 };
    static const unsigned char overlong[] = { 131, 119, 2, 0xC0, 0xAF };
    static const unsigned char surrogate[] = { 131, 119, 3, 0xED, 0xA0, 0x80 };
    assert_int_equal(dec_fail(bad_utf8, sizeof bad_utf8, 1), BP_EDECODE);
    assert_int_equal(dec_fail(overlong, sizeof overlong, 1), BP_EDECODE);
    assert_int_equal(dec_fail(surrogate, sizeof surrogate, 1), BP_EDECODE);
    /* the empty atom is fine */
    static const unsigned char empty[] = { 131, 119, 0 };
    a = bp_arena_new(0);
    t = dec_ok(a, empty, sizeof empty, 1);
    assert_true(bp_term_is_atom(t, ""));
    assert_string_equal(fmt(t), "''");
    bp_arena_free(a);
}

/* ---------- tuples, lists, strings, maps ---------- */

static void test_tuples(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    ei_x_buff x;
    x_new(&x);
    ei_x_encode_tuple_header(&x, 3);
    x_atom(&x, "ok");
    x_long(&x, 1);
    ei_x_encode_string(&x, "x");
    assert_int_equal((unsigned char)x.buff[1], 104);
    bp_term *t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_TUPLE);
    assert_int_equal(t->n, 3);
    assert_true(bp_term_is_tagged(t, "ok", 3));
    assert_string_equal(fmt(t), "{ok,1,\"x\"}");
    ei_x_free(&x);

    x_new(&x);
    ei_x_encode_tuple_header(&x, 300);
    for (long k = 0; k < 300; k++)
        x_long(&x, k);
    assert_int_equal((unsigned char)x.buff[1], 105);
    t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_TUPLE);
    assert_int_equal(t->n, 300);
    assert_int_equal(bp_term_elem(t, 299)->i, 299);
    assert_null(bp_term_elem(t, 300));
    ei_x_free(&x);

    x_new(&x);
    ei_x_encode_tuple_header(&x, 0);
    t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_TUPLE);
    assert_int_equal(t->n, 0);
    assert_null(bp_term_elem(t, 0));
    assert_string_equal(fmt(t), "{}");
    ei_x_free(&x);
    bp_arena_free(a);
}

static void test_nil_and_string(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    ei_x_buff x;
    x_new(&x);
    ei_x_encode_empty_list(&x);
    assert_int_equal((unsigned char)x.buff[1], 106);
    bp_term *t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_NIL);
    assert_string_equal(fmt(t), "[]");
    ei_x_free(&x);

    x_new(&x);
    ei_x_encode_string(&x, "hello");
    assert_int_equal((unsigned char)x.buff[1], 107);
    t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_STRING);
    assert_int_equal(t->len, 5);
    assert_string_equal(t->str, "hello");
    assert_string_equal(fmt(t), "\"hello\"");
    ei_x_free(&x);

    x_new(&x);
    ei_x_encode_string_len(&x, "\x01\x02\x03", 3);
    t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_STRING);
    assert_string_equal(fmt(t), "[1,2,3]");
    ei_x_free(&x);

    /* escapes and Latin-1 */
    x_new(&x);
    ei_x_encode_string(&x, "a\"b\\\n\xE9");
    t = dec_x(a, &x);
    assert_string_equal(fmt(t), "\"a\\\"b\\\\\\n\xC3\xA9\"");
    ei_x_free(&x);

    /* STRING_EXT of length 0 is [] */
    static const unsigned char s0[] = { 131, 107, 0, 0 };
    t = dec_ok(a, s0, sizeof s0, 1);
    assert_int_equal(t->type, BP_T_STRING);
    assert_int_equal(t->len, 0);
    assert_string_equal(fmt(t), "[]");
    bp_arena_free(a);
}

static void test_lists(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    ei_x_buff x;
    x_new(&x);
    ei_x_encode_list_header(&x, 2);
    x_atom(&x, "a");
    x_long(&x, 1000);
    ei_x_encode_empty_list(&x);
    assert_int_equal((unsigned char)x.buff[1], 108);
    bp_term *t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_LIST);
    assert_int_equal(t->n, 2);
    assert_null(t->tail);
    assert_string_equal(fmt(t), "[a,1000]");
    ei_x_free(&x);

    /* improper: [a|b] */
    x_new(&x);
    ei_x_encode_list_header(&x, 1);
    x_atom(&x, "a");
    x_atom(&x, "b");
    t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_LIST);
    assert_int_equal(t->n, 1);
    assert_non_null(t->tail);
    assert_true(bp_term_is_atom(t->tail, "b"));
    assert_string_equal(fmt(t), "[a|b]");
    ei_x_free(&x);

    /* [1|{}] */
    static const unsigned char imp2[] = { 131, 108, 0, 0, 0, 1, 97, 1, 104, 0 };
    t = dec_ok(a, imp2, sizeof imp2, 1);
    assert_int_equal(t->tail->type, BP_T_TUPLE);
    assert_string_equal(fmt(t), "[1|{}]");
    bp_arena_free(a);
}

static void test_list_tails_merged(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    /* [1|[2|[]]] as two LIST_EXT */
    static const unsigned char chain[] = { 131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 106 };
    bp_term *t = dec_ok(a, chain, sizeof chain, 1);
    assert_int_equal(t->type, BP_T_LIST);
    assert_int_equal(t->n, 2);
    assert_null(t->tail);
    assert_string_equal(fmt(t), "[1,2]");
    /* [1|"ab"] */
    static const unsigned char str_tail[] = { 131, 108, 0, 0, 0, 1, 97, 1, 107, 0, 2, 'a', 'b' };
    t = dec_ok(a, str_tail, sizeof str_tail, 1);
    assert_int_equal(t->n, 3);
    assert_null(t->tail);
    assert_int_equal(t->items[2].i, 'b');
    char txt[16];
    assert_int_equal(bp_term_text(t, txt, sizeof txt), 0);
    assert_string_equal(txt, "\001ab");
    /* LIST_EXT with no elements: [|a] is a */
    static const unsigned char empty_head[] = { 131, 108, 0, 0, 0, 0, 119, 1, 'a' };
    t = dec_ok(a, empty_head, sizeof empty_head, 1);
    assert_true(bp_term_is_atom(t, "a"));
    static const unsigned char empty_nil[] = { 131, 108, 0, 0, 0, 0, 106 };
    t = dec_ok(a, empty_nil, sizeof empty_nil, 1);
    assert_int_equal(t->type, BP_T_NIL);
    /* a long tail chain is flattened, not treated as nesting */
    bytes o = { 0 };
    b_u8(&o, 131);
    for (int k = 0; k < 10000; k++) {
        b_u8(&o, 108);
        b_u32(&o, 1);
        b_u8(&o, 97);
        b_u8(&o, (unsigned)(k & 0xFF));
    }
    b_u8(&o, 106);
    t = dec_ok(a, o.b, o.n, 1);
    assert_int_equal(t->type, BP_T_LIST);
    assert_int_equal(t->n, 10000);
    assert_int_equal(t->items[9999].i, 9999 & 0xFF);
    b_free(&o);
    bp_arena_free(a);
}

static void test_maps(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    ei_x_buff x;
    x_new(&x);
    ei_x_encode_map_header(&x, 2);
    x_atom(&x, "a");
    x_long(&x, 1);
    x_atom(&x, "b");
    ei_x_encode_string(&x, "x");
    assert_int_equal((unsigned char)x.buff[1], 116);
    bp_term *t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_MAP);
    assert_int_equal(t->n, 2);
    assert_string_equal(fmt(t), "#{a => 1,b => \"x\"}");
    int64_t v = 0;
    assert_int_equal(bp_term_int(bp_term_prop(t, "a"), &v), 0);
    assert_int_equal(v, 1);
    assert_null(bp_term_prop(t, "c"));
    ei_x_free(&x);

    x_new(&x);
    ei_x_encode_map_header(&x, 0);
    t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_MAP);
    assert_int_equal(t->n, 0);
    assert_string_equal(fmt(t), "#{}");
    ei_x_free(&x);
    bp_arena_free(a);
}

/* ---------- binaries ---------- */

static void test_binaries(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    ei_x_buff x;
    x_new(&x);
    assert_int_equal(ei_x_encode_binary(&x, "a\0b", 3), 0);
    assert_int_equal((unsigned char)x.buff[1], 109);
    bp_term *t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_BINARY);
    assert_int_equal(t->len, 3);
    assert_memory_equal(t->str, "a\0b\0", 4);
    assert_string_equal(fmt(t), "<<97,0,98>>");
    ei_x_free(&x);

    struct {
        const char *in;
        const char *out;
    } cases[] = {
        { "", "<<>>" },
        { "abc", "<<\"abc\">>" },
        { "h\xC3\xA9llo", "<<\"h\xC3\xA9llo\"/utf8>>" },
        { "a\"b\n", "<<\"a\\\"b\\n\">>" },
        { "\xff\xfe", "<<255,254>>" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        x_new(&x);
        assert_int_equal(ei_x_encode_binary(&x, cases[k].in, (int)strlen(cases[k].in)), 0);
        t = dec_x(a, &x);
        assert_int_equal(t->type, BP_T_BINARY);
        assert_string_equal(fmt(t), cases[k].out);
        ei_x_free(&x);
    }
    bp_arena_free(a);
}

static void test_bitstrings(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    ei_x_buff x;
    /* 11 bits: 0xAB then the top 3 bits of 0xE0 (= 7) */
    const char bits[] = { (char)0xAB, (char)0xFF };
    x_new(&x);
    assert_int_equal(ei_x_encode_bitstring(&x, bits, 0, 11), 0);
    assert_int_equal((unsigned char)x.buff[1], 77);
    bp_term *t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_BITSTR);
    assert_int_equal(t->len, 2);
    assert_int_equal(t->i, 11);
    assert_int_equal((unsigned char)t->str[1], 0xE0);
    assert_string_equal(fmt(t), "<<171,7:3>>");
    ei_x_free(&x);

    static const unsigned char three[] = { 131, 77, 0, 0, 0, 1, 3, 0xA0 };
    t = dec_ok(a, three, sizeof three, 1);
    assert_int_equal(t->type, BP_T_BITSTR);
    assert_string_equal(fmt(t), "<<5:3>>");
    static const unsigned char whole[] = { 131, 77, 0, 0, 0, 2, 8, 'h', 'i' };
    t = dec_ok(a, whole, sizeof whole, 1);
    assert_int_equal(t->type, BP_T_BINARY);
    assert_string_equal(fmt(t), "<<\"hi\">>");
    static const unsigned char empty[] = { 131, 77, 0, 0, 0, 0, 0 };
    t = dec_ok(a, empty, sizeof empty, 1);
    assert_int_equal(t->type, BP_T_BINARY);
    assert_int_equal(t->len, 0);
    bp_arena_free(a);

    static const unsigned char zero_bits[] = { 131, 77, 0, 0, 0, 1, 0, 0xA0 };
    static const unsigned char nine_bits[] = { 131, 77, 0, 0, 0, 1, 9, 0xA0 };
    static const unsigned char empty_bits[] = { 131, 77, 0, 0, 0, 0, 3 };
    assert_int_equal(dec_fail(zero_bits, sizeof zero_bits, 1), BP_EDECODE);
    assert_int_equal(dec_fail(nine_bits, sizeof nine_bits, 1), BP_EDECODE);
    assert_int_equal(dec_fail(empty_bits, sizeof empty_bits, 1), BP_EDECODE);
}

/* ---------- pids, ports, refs, funs ---------- */

static void test_pids(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    erlang_pid p;
    make_pid(&p, "n@h", 42, 1);
    ei_x_buff x;
    x_new(&x);
    assert_int_equal(ei_x_encode_pid(&x, &p), 0);
    assert_int_equal((unsigned char)x.buff[1], 88);
    bp_term *t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_PID);
    assert_string_equal(t->str, "n@h");
    assert_int_equal(t->i, 42);
    assert_int_equal(t->serial, 1);
    assert_int_equal(t->creation, 7);
    assert_string_equal(fmt(t), "<n@h.42.1>");
    ei_x_free(&x);

    bytes o = { 0 };
    b_u8(&o, 131);
    b_u8(&o, 103);
    b_u8(&o, 100); /* node as ATOM_EXT */
    b_u16(&o, 3);
    b_str(&o, "a@b");
    b_u32(&o, 7);
    b_u32(&o, 2);
    b_u8(&o, 3);
    t = dec_ok(a, o.b, o.n, 1);
    assert_int_equal(t->type, BP_T_PID);
    assert_int_equal(t->creation, 3);
    assert_string_equal(fmt(t), "<a@b.7.2>");
    b_free(&o);

    /* control characters in a node name are escaped, never printed raw */
    static const unsigned char nul_node[] = { 131, 88, 119, 3, 'a', 0, '\n', 0, 0, 0, 1,
                                              0, 0, 0, 2, 0, 0, 0, 0 };
    t = dec_ok(a, nul_node, sizeof nul_node, 1);
    assert_int_equal(t->len, 3);
    assert_string_equal(fmt(t), "<a\\x00\\n.1.2>");
    bp_arena_free(a);

    /* the node must be an atom */
    static const unsigned char bad_node[] = { 131, 88, 97, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
    assert_int_equal(dec_fail(bad_node, sizeof bad_node, 1), BP_EDECODE);
    static const unsigned char cache_node[] = { 131, 88, 82, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
    assert_int_equal(dec_fail(cache_node, sizeof cache_node, 1), BP_EDECODE);
}

static void test_ports(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    erlang_port p;
    memset(&p, 0, sizeof p);
    snprintf(p.node, sizeof p.node, "n@h");
    p.id = 5;
    p.creation = 0x01020304;
    ei_x_buff x;
    x_new(&x);
    assert_int_equal(ei_x_encode_port(&x, &p), 0);
    assert_int_equal((unsigned char)x.buff[1], 89);
    bp_term *t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_PORT);
    assert_string_equal(t->str, "n@h");
    assert_int_equal(t->i, 5);
    assert_int_equal(t->creation, 0x01020304);
    assert_string_equal(fmt(t), "#Port<n@h.5>");
    ei_x_free(&x);

    p.id = 0x123456789ULL;
    x_new(&x);
    assert_int_equal(ei_x_encode_port(&x, &p), 0);
    assert_int_equal((unsigned char)x.buff[1], 120);
    t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_PORT);
    assert_true(t->i == 0x123456789LL);
    assert_int_equal(t->creation, 0x01020304);
    ei_x_free(&x);

    bytes o = { 0 };
    b_u8(&o, 131);
    b_u8(&o, 102);
    b_atom(&o, "a@b");
    b_u32(&o, 9);
    b_u8(&o, 2);
    t = dec_ok(a, o.b, o.n, 1);
    assert_int_equal(t->type, BP_T_PORT);
    assert_int_equal(t->i, 9);
    assert_int_equal(t->creation, 2);
    b_free(&o);
    bp_arena_free(a);

    /* V4 port id beyond int64 */
    o = (bytes){ 0 };
    b_u8(&o, 131);
    b_u8(&o, 120);
    b_atom(&o, "a@b");
    b_u32(&o, 0x80000000u);
    b_u32(&o, 0);
    b_u32(&o, 1);
    assert_int_equal(dec_fail(o.b, o.n, 1), BP_EDECODE);
    b_free(&o);
}

static void test_refs(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    erlang_ref r;
    memset(&r, 0, sizeof r);
    snprintf(r.node, sizeof r.node, "n@h");
    r.len = 3;
    r.n[0] = 1;
    r.n[1] = 2;
    r.n[2] = 3;
    r.creation = 4;
    ei_x_buff x;
    x_new(&x);
    assert_int_equal(ei_x_encode_ref(&x, &r), 0);
    assert_int_equal((unsigned char)x.buff[1], 90);
    bp_term *t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_REF);
    assert_string_equal(t->str, "n@h");
    assert_int_equal(t->creation, 4);
    assert_string_equal(fmt(t), "#Ref<n@h>");
    ei_x_free(&x);

    /* REFERENCE_EXT */
    bytes o = { 0 };
    b_u8(&o, 131);
    b_u8(&o, 101);
    b_atom(&o, "a@b");
    b_u32(&o, 1);
    b_u8(&o, 2);
    t = dec_ok(a, o.b, o.n, 1);
    assert_int_equal(t->type, BP_T_REF);
    assert_string_equal(t->str, "a@b");
    assert_int_equal(t->creation, 2);
    b_free(&o);

    /* NEW_REFERENCE_EXT with 3 words */
    o = (bytes){ 0 };
    b_u8(&o, 131);
    b_u8(&o, 114);
    b_u16(&o, 3);
    b_atom(&o, "a@b");
    b_u8(&o, 1);
    b_u32(&o, 1);
    b_u32(&o, 2);
    b_u32(&o, 3);
    t = dec_ok(a, o.b, o.n, 1);
    assert_int_equal(t->type, BP_T_REF);
    assert_int_equal(t->creation, 1);
    b_free(&o);
    bp_arena_free(a);

    /* more than 5 id words */
    o = (bytes){ 0 };
    b_u8(&o, 131);
    b_u8(&o, 90);
    b_u16(&o, 6);
    b_atom(&o, "a@b");
    b_u32(&o, 1);
    for (int k = 0; k < 6; k++)
        b_u32(&o, 1);
    assert_int_equal(dec_fail(o.b, o.n, 1), BP_EDECODE);
    b_free(&o);
}

static void test_funs(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    char func[] = "map";
    erlang_fun f;
    memset(&f, 0, sizeof f);
    f.type = EI_FUN_EXPORT;
    f.arity = 2;
    snprintf(f.module, sizeof f.module, "lists");
    f.u.exprt.func = func;
    ei_x_buff x;
    x_new(&x);
    assert_int_equal(ei_x_encode_fun(&x, &f), 0);
    assert_int_equal((unsigned char)x.buff[1], 113);
    bp_term *t = dec_x(a, &x);
    assert_int_equal(t->type, BP_T_FUN);
    assert_string_equal(fmt(t), "fun lists:map/2");
    ei_x_free(&x);

    /* a closure with one free variable, inside a tuple so the skip is checked */
    ei_x_buff fv;
    assert_int_equal(ei_x_new(&fv), 0);
    ei_x_encode_tuple_header(&fv, 2);
    x_atom(&fv, "free");
    x_long(&fv, 123456);
    memset(&f, 0, sizeof f);
    f.type = EI_FUN_CLOSURE;
    f.arity = 1;
    snprintf(f.module, sizeof f.module, "mymod");
    memset(f.u.closure.md5, 0x5A, sizeof f.u.closure.md5);
    f.u.closure.index = 3;
    f.u.closure.old_index = 3;
    f.u.closure.uniq = 12345;
    f.u.closure.n_free_vars = 1;
    make_pid(&f.u.closure.pid, "n@h", 1, 0);
    f.u.closure.free_vars = fv.buff;
    f.u.closure.free_var_len = fv.index;
    x_new(&x);
    ei_x_encode_tuple_header(&x, 2);
    assert_int_equal(ei_x_encode_fun(&x, &f), 0);
    x_atom(&x, "after");
    assert_int_equal((unsigned char)x.buff[3], 112);
    t = dec_x(a, &x);
    assert_int_equal(bp_term_elem(t, 0)->type, BP_T_FUN);
    assert_true(bp_term_is_atom(bp_term_elem(t, 1), "after"));
    assert_string_equal(fmt(t), "{#Fun<mymod.3.12345>,'after'}");
    ei_x_free(&x);

    /* an old_uniq that is not a plain integer: described by its module only */
    f.u.closure.uniq = 1L << 40;
    x_new(&x);
    assert_int_equal(ei_x_encode_fun(&x, &f), 0);
    assert_string_equal(fmt(dec_x(a, &x)), "#Fun<mymod>");
    ei_x_free(&x);

    /* FUN_EXT (old closures) is refused */
    f.arity = -1;
    x_new(&x);
    assert_int_equal(ei_x_encode_fun(&x, &f), 0);
    assert_int_equal((unsigned char)x.buff[1], 117);
    assert_int_equal(dec_fail(x.buff, (size_t)x.index, 1), BP_EDECODE);
    ei_x_free(&x);
    ei_x_free(&fv);
    bp_arena_free(a);

    /* EXPORT_EXT arity must be a small integer */
    bytes o = { 0 };
    b_u8(&o, 131);
    b_u8(&o, 113);
    b_atom(&o, "m");
    b_atom(&o, "f");
    b_u8(&o, 98);
    b_u32(&o, 1);
    assert_int_equal(dec_fail(o.b, o.n, 1), BP_EDECODE);
    b_free(&o);
    /* NEW_FUN_EXT whose size leaves no room for the module */
    o = (bytes){ 0 };
    b_u8(&o, 131);
    b_u8(&o, 112);
    b_u32(&o, 4 + 25);
    for (int k = 0; k < 25; k++)
        b_u8(&o, 0);
    b_atom(&o, "m"); /* outside the declared size */
    assert_int_equal(dec_fail(o.b, o.n, 1), BP_EDECODE);
    b_free(&o);
}

/* ---------- refusals ---------- */

static void test_rejected_tags(void **state)
{
    (void)state;
    static const unsigned char compressed[] = { 131, 80, 0, 0, 0, 1, 0x78, 0x9c, 0, 0 };
    static const unsigned char cache_ref[] = { 131, 82, 0 };
    static const unsigned char dist_hdr[] = { 131, 68, 0 };
    static const unsigned char frag_hdr[] = { 131, 69, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const unsigned char local[] = { 131, 121, 0, 0, 0, 0 };
    static const unsigned char fun_ext[] = { 131, 117, 0, 0, 0, 0 };
    static const unsigned char unknown0[] = { 131, 0 };
    static const unsigned char unknown255[] = { 131, 255 };
    static const unsigned char version_only[] = { 131 };
    static const unsigned char bad_version[] = { 130, 97, 1 };
    struct {
        const unsigned char *b;
        size_t n;
    } cases[] = {
        { compressed, sizeof compressed }, { cache_ref, sizeof cache_ref },
        { dist_hdr, sizeof dist_hdr },     { frag_hdr, sizeof frag_hdr },
        { local, sizeof local },           { fun_ext, sizeof fun_ext },
        { unknown0, sizeof unknown0 },     { unknown255, sizeof unknown255 },
        { version_only, sizeof version_only }, { bad_version, sizeof bad_version },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        assert_int_equal(dec_fail(cases[k].b, cases[k].n, 1), BP_EDECODE);
    /* the same inside a container */
    static const unsigned char nested[] = { 131, 104, 2, 97, 1, 82, 0 };
    assert_int_equal(dec_fail(nested, sizeof nested, 1), BP_EDECODE);
    /* unversioned input that starts with 131 is an unknown tag */
    static const unsigned char v[] = { 131, 97, 1 };
    assert_int_equal(dec_fail(v, sizeof v, 0), BP_EDECODE);
    /* empty input */
    assert_int_equal(dec_fail(v, 0, 1), BP_EDECODE);
    assert_int_equal(dec_fail(v, 0, 0), BP_EDECODE);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    static const unsigned char v[] = { 131, 97, 1 };
    bp_arena *a = bp_arena_new(0);
    size_t idx = 0;
    bp_term *t = NULL;
    assert_int_equal(bp_term_decode(v, sizeof v, NULL, 1, a, &t), BP_EDECODE);
    assert_int_equal(bp_term_decode(v, sizeof v, &idx, 1, a, NULL), BP_EDECODE);
    assert_int_equal(bp_term_decode(NULL, 3, &idx, 1, a, &t), BP_EDECODE);
    assert_int_equal(bp_term_decode(v, sizeof v, &idx, 1, NULL, &t), BP_ENOMEM);
    assert_null(t);
    idx = 4;
    assert_int_equal(bp_term_decode(v, sizeof v, &idx, 1, a, &t), BP_EDECODE);
    assert_int_equal(idx, 4);
    idx = 3;
    assert_int_equal(bp_term_decode(v, sizeof v, &idx, 1, a, &t), BP_EDECODE);
    assert_int_equal(idx, 3);
    bp_arena_free(a);
}

static void test_unversioned_and_offsets(void **state)
{
    (void)state;
    /* junk, then two unversioned terms back to back */
    static const unsigned char b[] = { 0xEE, 0xEE, 97, 5, 119, 2, 'o', 'k', 0xEE };
    bp_arena *a = bp_arena_new(0);
    size_t idx = 2;
    bp_term *t = NULL;
    assert_int_equal(bp_term_decode(b, sizeof b, &idx, 0, a, &t), 0);
    assert_int_equal(idx, 4);
    assert_int_equal(t->i, 5);
    assert_int_equal(bp_term_decode(b, sizeof b, &idx, 0, a, &t), 0);
    assert_int_equal(idx, 8);
    assert_true(bp_term_is_atom(t, "ok"));
    assert_int_equal(bp_term_decode(b, sizeof b, &idx, 0, a, &t), BP_EDECODE);
    assert_int_equal(idx, 8);
    assert_null(t);
    bp_arena_free(a);
}

/* ---------- truncation ---------- */

/* A term using every tag ei can produce. */
static void build_everything(ei_x_buff *x)
{
    erlang_pid pid;
    erlang_port port;
    erlang_ref ref;
    erlang_fun fe, fc;
    char func[] = "info";
    make_pid(&pid, "node@host", 100, 3);
    memset(&port, 0, sizeof port);
    snprintf(port.node, sizeof port.node, "node@host");
    port.id = 77;
    memset(&ref, 0, sizeof ref);
    snprintf(ref.node, sizeof ref.node, "node@host");
    ref.len = 3;
    ref.n[0] = 9;
    memset(&fe, 0, sizeof fe);
    fe.type = EI_FUN_EXPORT;
    fe.arity = 1;
    snprintf(fe.module, sizeof fe.module, "erlang");
    fe.u.exprt.func = func;
    memset(&fc, 0, sizeof fc);
    fc.type = EI_FUN_CLOSURE;
    fc.arity = 0;
    snprintf(fc.module, sizeof fc.module, "m");
    fc.u.closure.old_index = 1;
    fc.u.closure.uniq = 2;
    make_pid(&fc.u.closure.pid, "node@host", 1, 0);
    const char bits[] = { 1, (char)0x80 };

    x_new(x);
    ei_x_encode_tuple_header(x, 3);
    x_atom(x, "ok");
    ei_x_encode_list_header(x, 20);
    x_long(x, 1);
    x_long(x, 300);
    x_long(x, -5);
    ei_x_encode_double(x, 1.5);
    ei_x_encode_binary(x, "bin", 3);
    ei_x_encode_string(x, "str");
    ei_x_encode_pid(x, &pid);
    ei_x_encode_port(x, &port);
    ei_x_encode_ref(x, &ref);
    ei_x_encode_map_header(x, 1);
    x_atom(x, "k");
    x_atom(x, "v");
    ei_x_encode_fun(x, &fe);
    ei_x_encode_fun(x, &fc);
    ei_x_encode_longlong(x, 123456789012345LL);
    ei_x_encode_tuple_header(x, 0);
    ei_x_encode_empty_list(x);
    x_atom(x, "atom with space");
    ei_x_encode_bitstring(x, bits, 0, 9);
    ei_x_encode_list_header(x, 1);
    x_atom(x, "a");
    x_atom(x, "b");
    ei_x_encode_ulonglong(x, UINT64_MAX);
    ei_x_encode_tuple_header(x, 300);
    for (long k = 0; k < 300; k++)
        x_long(x, k);
    ei_x_encode_empty_list(x);
    x_long(x, 42);
}

/* Every strict prefix of buf fails with BP_EDECODE and leaves everything untouched. */
static void check_all_prefixes(const unsigned char *buf, size_t len)
{
    for (size_t n = 0; n < len; n++) {
        /* a fresh arena each time: failed attempts keep what they took */
        bp_arena *a = bp_arena_new(0);
        assert_int_equal(dec_fail_in(a, buf, n, 1), BP_EDECODE);
        if (n > 0) {
            /* the same bytes unversioned, starting after the version byte */
            size_t idx = 1;
            bp_term *t = NULL;
            assert_int_equal(bp_term_decode(buf, n, &idx, 0, a, &t), BP_EDECODE);
            assert_int_equal(idx, 1);
            assert_null(t);
        }
        bp_arena_free(a);
    }
    bp_arena *a = bp_arena_new(0);
    dec_ok(a, buf, len, 1);
    bp_arena_free(a);
}

static void test_truncation_every_offset(void **state)
{
    (void)state;
    ei_x_buff x;
    build_everything(&x);
    check_all_prefixes((const unsigned char *)x.buff, (size_t)x.index);
    bp_arena *a = bp_arena_new(0);
    bp_term *t = dec_x(a, &x);
    assert_true(bp_term_is_tagged(t, "ok", 3));
    const bp_term *l = bp_term_elem(t, 1);
    assert_int_equal(l->type, BP_T_LIST);
    assert_int_equal(l->n, 20);
    const char *want =
        "{ok,[1,300,-5,1.5,<<\"bin\">>,\"str\",<node@host.100.3>,#Port<node@host.77>,"
        "#Ref<node@host>,#{k => v},fun erlang:info/1,#Fun<m.1.2>,123456789012345,{},[],"
        "'atom with space',<<1,1:1>>,[a|b],18446744073709551616,{0,1,2,3,4,";
    assert_memory_equal(fmt(t), want, strlen(want));
    assert_int_equal(bp_term_elem(t, 2)->i, 42);
    bp_arena_free(a);
    ei_x_free(&x);
}

static void test_truncation_old_tags(void **state)
{
    (void)state;
    bytes o = { 0 };
    b_u8(&o, 131);
    b_u8(&o, 104);
    b_u8(&o, 9);
    b_u8(&o, 100); /* ATOM_EXT */
    b_u16(&o, 2);
    b_str(&o, "ab");
    b_u8(&o, 115); /* SMALL_ATOM_EXT */
    b_u8(&o, 1);
    b_str(&o, "c");
    put_float_ext(&o, "2.50000000000000000000e+00");
    b_u8(&o, 103); /* PID_EXT */
    b_atom(&o, "a@b");
    b_u32(&o, 1);
    b_u32(&o, 2);
    b_u8(&o, 0);
    b_u8(&o, 102); /* PORT_EXT */
    b_atom(&o, "a@b");
    b_u32(&o, 3);
    b_u8(&o, 0);
    b_u8(&o, 101); /* REFERENCE_EXT */
    b_atom(&o, "a@b");
    b_u32(&o, 4);
    b_u8(&o, 0);
    b_u8(&o, 114); /* NEW_REFERENCE_EXT */
    b_u16(&o, 2);
    b_atom(&o, "a@b");
    b_u8(&o, 0);
    b_u32(&o, 5);
    b_u32(&o, 6);
    b_u8(&o, 111); /* LARGE_BIG_EXT */
    b_u32(&o, 9);
    b_u8(&o, 0);
    for (int k = 0; k < 9; k++)
        b_u8(&o, 1);
    b_u8(&o, 108); /* [1|"ab"] */
    b_u32(&o, 1);
    b_u8(&o, 97);
    b_u8(&o, 1);
    b_u8(&o, 107);
    b_u16(&o, 2);
    b_str(&o, "ab");
    check_all_prefixes(o.b, o.n);
    bp_arena *a = bp_arena_new(0);
    bp_term *t = dec_ok(a, o.b, o.n, 1);
    assert_string_equal(fmt(t), "{ab,c,2.5,<a@b.1.2>,#Port<a@b.3>,#Ref<a@b>,#Ref<a@b>,"
                                "18519084246547628032,[1,97,98]}");
    bp_arena_free(a);
    b_free(&o);
}

/* ---------- lying lengths ---------- */

static void test_lying_lengths(void **state)
{
    (void)state;
    static const unsigned char tuple[] = { 131, 105, 0xff, 0xff, 0xff, 0xff, 97, 1, 97, 2 };
    static const unsigned char list[] = { 131, 108, 0xff, 0xff, 0xff, 0xff, 97, 1, 106, 106 };
    static const unsigned char list_exact[] = { 131, 108, 0, 0, 0, 2, 97, 1, 106 }; /* no tail */
    static const unsigned char binary[] = { 131, 109, 0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd' };
    static const unsigned char binary1[] = { 131, 109, 0, 0, 0, 5, 'a', 'b', 'c', 'd' };
    static const unsigned char bitbin[] = { 131, 77, 0xff, 0xff, 0xff, 0xff, 3, 'a', 'b', 'c' };
    static const unsigned char map[] = { 131, 116, 0xff, 0xff, 0xff, 0xff, 97, 1, 97, 2 };
    static const unsigned char map_half[] = { 131, 116, 0x80, 0, 0, 0, 97, 1, 97, 2 };
    static const unsigned char map3[] = { 131, 116, 0, 0, 0, 3, 97, 1, 97, 2, 97, 3, 97, 4, 97 };
    static const unsigned char atom[] = { 131, 118, 0xff, 0xff, 'a', 'b', 'c', 'd', 'e', 'f' };
    static const unsigned char satom[] = { 131, 119, 0xff, 'a', 'b', 'c', 'd', 'e', 'f', 'g' };
    static const unsigned char string[] = { 131, 107, 0xff, 0xff, 'a', 'b', 'c', 'd', 'e', 'f' };
    static const unsigned char lbig[] = { 131, 111, 0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3 };
    static const unsigned char sbig[] = { 131, 110, 0xff, 0, 1, 2, 3, 4, 5, 6 };
    static const unsigned char fun[] = { 131, 112, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
    static const unsigned char fun_small[] = { 131, 112, 0, 0, 0, 3, 0, 0, 0, 0 };
    static const unsigned char nref[] = { 131, 90, 0xff, 0xff, 119, 1, 'a', 0, 0, 0, 0 };
    static const unsigned char nref5[] = { 131, 90, 0, 5, 119, 1, 'a', 0, 0, 0, 0, 0, 0, 0, 1 };
    static const unsigned char nested[] = { 131, 104, 2, 97, 1, 108, 0xff, 0xff, 0xff, 0xfe, 106 };
    struct {
        const unsigned char *b;
        size_t n;
    } cases[] = {
        { tuple, sizeof tuple },   { list, sizeof list },       { list_exact, sizeof list_exact },
        { binary, sizeof binary }, { binary1, sizeof binary1 }, { bitbin, sizeof bitbin },
        { map, sizeof map },       { map_half, sizeof map_half }, { map3, sizeof map3 },
        { atom, sizeof atom },     { satom, sizeof satom },     { string, sizeof string },
        { lbig, sizeof lbig },     { sbig, sizeof sbig },       { fun, sizeof fun },
        { fun_small, sizeof fun_small }, { nref, sizeof nref }, { nref5, sizeof nref5 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        bp_arena *a = bp_arena_new(0);
        assert_int_equal(dec_fail_in(a, cases[k].b, cases[k].n, 1), BP_EDECODE);
        /* refused from the header alone: nothing was allocated */
        if (cases[k].b != map3 && cases[k].b != list_exact)
            assert_int_equal(bp_arena_used(a), 0);
        bp_arena_free(a);
    }
    /* a lie one level down costs at most the outer container */
    bp_arena *a = bp_arena_new(0);
    assert_int_equal(dec_fail_in(a, nested, sizeof nested, 1), BP_EDECODE);
    assert_true(bp_arena_used(a) < 1024);
    bp_arena_free(a);
}

/* ---------- depth ---------- */

/* n nested one-element containers of the given kind around []. */
static void nested(bytes *o, int kind, size_t n)
{
    b_u8(o, 131);
    for (size_t k = 0; k < n; k++) {
        switch (kind) {
        case 0:
            b_u8(o, 108);
            b_u32(o, 1);
            break;
        case 1:
            b_u8(o, 104);
            b_u8(o, 1);
            break;
        default:
            b_u8(o, 116);
            b_u32(o, 1);
            b_u8(o, 106); /* key [] */
            break;
        }
    }
    b_u8(o, 106);
    if (kind == 0)
        for (size_t k = 0; k < n; k++)
            b_u8(o, 106);
}

static void test_depth(void **state)
{
    (void)state;
    for (int kind = 0; kind < 3; kind++) {
        bytes o = { 0 };
        nested(&o, kind, BP_TERM_MAX_DEPTH);
        bp_arena *a = bp_arena_new(0);
        bp_term *t = dec_ok(a, o.b, o.n, 1);
        size_t depth = 0;
        while (t->type != BP_T_NIL) {
            t = kind == 2 ? &t->items[1] : &t->items[0];
            depth++;
        }
        assert_int_equal(depth, BP_TERM_MAX_DEPTH);
        bp_arena_free(a);
        b_free(&o);

        o = (bytes){ 0 };
        nested(&o, kind, BP_TERM_MAX_DEPTH + 1);
        assert_int_equal(dec_fail(o.b, o.n, 1), BP_EDECODE);
        b_free(&o);

        o = (bytes){ 0 };
        nested(&o, kind, 200000);
        assert_int_equal(dec_fail(o.b, o.n, 1), BP_EDECODE);
        b_free(&o);
    }
    /* improper tails count as nesting too: [x|[x|...]] built as [1|{[1|{...}]}] */
    bytes o = { 0 };
    b_u8(&o, 131);
    for (int k = 0; k < 100; k++) {
        b_u8(&o, 108);
        b_u32(&o, 1);
        b_u8(&o, 97);
        b_u8(&o, 1);
        b_u8(&o, 104);
        b_u8(&o, 1);
    }
    b_u8(&o, 106);
    assert_int_equal(dec_fail(o.b, o.n, 1), BP_EDECODE);
    b_free(&o);
}

/* ---------- arena cap ---------- */

static void test_arena_cap(void **state)
{
    (void)state;
    ei_x_buff x;
    x_new(&x);
    ei_x_encode_list_header(&x, 1000);
    for (long k = 0; k < 1000; k++)
        x_long(&x, k);
    ei_x_encode_empty_list(&x);
    bp_arena *a = bp_arena_new(1024);
    assert_int_equal(dec_fail_in(a, x.buff, (size_t)x.index, 1), BP_ENOMEM);
    bp_arena_free(a);
    ei_x_free(&x);

    char blob[10000];
    memset(blob, 'z', sizeof blob);
    x_new(&x);
    ei_x_encode_binary(&x, blob, sizeof blob);
    a = bp_arena_new(4096);
    assert_int_equal(dec_fail_in(a, x.buff, (size_t)x.index, 1), BP_ENOMEM);
    bp_arena_free(a);
    ei_x_free(&x);

    /* growing caps: each attempt either fails with ENOMEM or succeeds completely */
    build_everything(&x);
    int ok = 0;
    for (size_t cap = 16; cap < 200000 && !ok; cap += 512) {
        a = bp_arena_new(cap);
        size_t idx = 0;
        bp_term *t = NULL;
        int rc = bp_term_decode((const unsigned char *)x.buff, (size_t)x.index, &idx, 1, a, &t);
        if (rc == 0) {
            ok = 1;
            assert_int_equal(idx, (size_t)x.index);
            assert_true(bp_term_is_tagged(t, "ok", 3));
        } else {
            assert_int_equal(rc, BP_ENOMEM);
            assert_int_equal(idx, 0);
            assert_null(t);
        }
        bp_arena_free(a);
    }
    assert_true(ok);
    ei_x_free(&x);
}

/* ---------- helpers ---------- */

static void test_helpers(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    ei_x_buff x;
    x_new(&x);
    /* [{name, <<"n1">>}, other, {7, x}, {count, 5}, {big, 2^64-1}, {name, dup}] */
    ei_x_encode_list_header(&x, 6);
    ei_x_encode_tuple_header(&x, 2);
    x_atom(&x, "name");
    ei_x_encode_binary(&x, "n1", 2);
    x_atom(&x, "other");
    ei_x_encode_tuple_header(&x, 2);
    x_long(&x, 7);
    x_atom(&x, "x");
    ei_x_encode_tuple_header(&x, 2);
    x_atom(&x, "count");
    x_long(&x, 5);
    ei_x_encode_tuple_header(&x, 2);
    x_atom(&x, "big");
    ei_x_encode_ulonglong(&x, UINT64_MAX);
    ei_x_encode_tuple_header(&x, 2);
    x_atom(&x, "name");
    x_atom(&x, "dup");
    ei_x_encode_empty_list(&x);
    bp_term *l = dec_x(a, &x);
    ei_x_free(&x);

    char txt[32];
    const bp_term *v = bp_term_prop(l, "name");
    assert_non_null(v);
    assert_int_equal(bp_term_text(v, txt, sizeof txt), 0);
    assert_string_equal(txt, "n1");
    int64_t i = 0;
    assert_int_equal(bp_term_int(bp_term_prop(l, "count"), &i), 0);
    assert_int_equal(i, 5);
    assert_int_equal(bp_term_int(bp_term_prop(l, "count"), NULL), 0);
    assert_int_equal(bp_term_int(bp_term_prop(l, "big"), &i), -1);
    assert_int_equal(i, 5);
    assert_null(bp_term_prop(l, "other"));
    assert_null(bp_term_prop(l, "x"));
    assert_null(bp_term_prop(l, "missing"));
    assert_null(bp_term_prop(NULL, "name"));
    assert_null(bp_term_prop(l, NULL));
    assert_null(bp_term_prop(&l->items[0], "name"));

    assert_true(bp_term_is_atom(&l->items[1], "other"));
    assert_false(bp_term_is_atom(&l->items[1], "othe"));
    assert_false(bp_term_is_atom(&l->items[1], "others"));
    assert_false(bp_term_is_atom(&l->items[1], NULL));
    assert_false(bp_term_is_atom(NULL, "other"));
    assert_false(bp_term_is_atom(&l->items[0], "name"));

    assert_true(bp_term_is_tagged(&l->items[0], "name", 2));
    assert_false(bp_term_is_tagged(&l->items[0], "name", 3));
    assert_false(bp_term_is_tagged(&l->items[0], "count", 2));
    assert_false(bp_term_is_tagged(&l->items[2], "x", 2));
    assert_false(bp_term_is_tagged(NULL, "name", 2));
    assert_false(bp_term_is_tagged(l, "name", 2));

    assert_non_null(bp_term_elem(&l->items[0], 1));
    assert_null(bp_term_elem(&l->items[0], 2));
    assert_null(bp_term_elem(l, 0));
    assert_null(bp_term_elem(NULL, 0));
    assert_int_equal(bp_term_int(NULL, &i), -1);
    assert_int_equal(bp_term_int(&l->items[1], &i), -1);

    /* an atom with an embedded NUL is not equal to its prefix */
    static const unsigned char nul_atom[] = { 131, 119, 3, 'a', 0, 'b' };
    bp_term *t = dec_ok(a, nul_atom, sizeof nul_atom, 1);
    assert_int_equal(t->len, 3);
    assert_false(bp_term_is_atom(t, "a"));
    assert_string_equal(fmt(t), "'a\\x00b'");
    bp_arena_free(a);
}

static void test_text(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    char out[16];
    ei_x_buff x;

    x_new(&x);
    x_atom(&x, "hello");
    bp_term *t = dec_x(a, &x);
    ei_x_free(&x);
    assert_int_equal(bp_term_text(t, out, sizeof out), 0);
    assert_string_equal(out, "hello");
    /* truncation */
    memset(out, 'X', sizeof out);
    assert_int_equal(bp_term_text(t, out, 1), 0);
    assert_string_equal(out, "");
    assert_int_equal(out[1], 'X');
    assert_int_equal(bp_term_text(t, out, 3), 0);
    assert_string_equal(out, "he");
    assert_int_equal(out[3], 'X');
    assert_int_equal(bp_term_text(t, out, 6), 0);
    assert_string_equal(out, "hello");
    /* outlen 0 writes nothing */
    memset(out, 'X', sizeof out);
    assert_int_equal(bp_term_text(t, out, 0), -1);
    assert_int_equal(out[0], 'X');
    assert_int_equal(bp_term_text(t, NULL, 10), -1);

    /* STRING_EXT in Latin-1 comes out as UTF-8; never cut inside a character */
    x_new(&x);
    ei_x_encode_string(&x, "a\xE9\xE9");
    t = dec_x(a, &x);
    ei_x_free(&x);
    assert_int_equal(bp_term_text(t, out, sizeof out), 0);
    assert_string_equal(out, "a\xC3\xA9\xC3\xA9");
    assert_int_equal(bp_term_text(t, out, 3), 0);
    assert_string_equal(out, "a");
    assert_int_equal(bp_term_text(t, out, 4), 0);
    assert_string_equal(out, "a\xC3\xA9");
    assert_int_equal(bp_term_text(t, out, 5), 0);
    assert_string_equal(out, "a\xC3\xA9");

    /* UTF-8 binary cut on a character boundary */
    x_new(&x);
    ei_x_encode_binary(&x, "\xE2\x82\xAC\xE2\x82\xAC", 6);
    t = dec_x(a, &x);
    ei_x_free(&x);
    for (size_t n = 1; n <= 8; n++) {
        assert_int_equal(bp_term_text(t, out, n), 0);
        size_t want = n - 1 >= 6 ? 6 : n - 1 >= 3 ? 3 : 0;
        assert_int_equal(strlen(out), want);
    }

    /* list of small integers, [], and things that are not text */
    static const unsigned char ints[] = { 131, 108, 0, 0, 0, 2, 97, 'h', 97, 'i', 106 };
    static const unsigned char big_int[] = { 131, 108, 0, 0, 0, 2, 97, 'h', 98, 0, 0, 1, 0, 106 };
    static const unsigned char neg_int[] = { 131, 108, 0, 0, 0, 1, 98, 0xff, 0xff, 0xff, 0xff, 106 };
    static const unsigned char improper[] = { 131, 108, 0, 0, 0, 1, 97, 'h', 97, 'i' };
    static const unsigned char nil[] = { 131, 106 };
    static const unsigned char tuple[] = { 131, 104, 0 };
    static const unsigned char num[] = { 131, 97, 1 };
    t = dec_ok(a, ints, sizeof ints, 1);
    assert_int_equal(bp_term_text(t, out, sizeof out), 0);
    assert_string_equal(out, "hi");
    t = dec_ok(a, nil, sizeof nil, 1);
    memset(out, 'X', sizeof out);
    assert_int_equal(bp_term_text(t, out, sizeof out), 0);
    assert_string_equal(out, "");
    const unsigned char *not_text[] = { big_int, neg_int, improper, tuple, num };
    const size_t not_text_len[] = { sizeof big_int, sizeof neg_int, sizeof improper, sizeof tuple,
                                    sizeof num };
    for (size_t k = 0; k < 5; k++) {
        t = dec_ok(a, not_text[k], not_text_len[k], 1);
        memset(out, 'X', sizeof out);
        assert_int_equal(bp_term_text(t, out, sizeof out), -1);
        assert_string_equal(out, "");
    }
    assert_int_equal(bp_term_text(NULL, out, sizeof out), -1);
    assert_string_equal(out, "");
    bp_arena_free(a);
}

static void test_format_atoms(void **state)
{
    (void)state;
    struct {
        const char *in;
        const char *out;
    } cases[] = {
        { "ok", "ok" },
        { "node@host", "node@host" },
        { "a_B9", "a_B9" },
        { "Caps", "'Caps'" },
        { "_x", "'_x'" },
        { "hello world", "'hello world'" },
        { "it's", "'it\\'s'" },
        { "back\\slash", "'back\\\\slash'" },
        { "new\nline", "'new\\nline'" },
        { "end", "'end'" },
        { "receive", "'receive'" },
        { "maybe", "'maybe'" },
        { "a.b", "'a.b'" },
        { "caf\xC3\xA9", "caf\xC3\xA9" },           /* Latin-1 letters need no quotes */
        { "\xC3\xA9t\xC3\xA9", "\xC3\xA9t\xC3\xA9" },
        { "\xC3\x89t\xC3\xA9", "'\xC3\x89t\xC3\xA9'" }, /* capital first letter */
        { "a\xC3\x97" "b", "'a\xC3\x97" "b'" },             /* multiplication sign */
        { "\xE2\x82\xAC", "'\xE2\x82\xAC'" },           /* beyond Latin-1 */
    };
    bp_arena *a = bp_arena_new(0);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ei_x_buff x;
        x_new(&x);
        assert_int_equal(ei_x_encode_atom_as(&x, cases[k].in, ERLANG_UTF8, ERLANG_UTF8), 0);
        assert_string_equal(fmt(dec_x(a, &x)), cases[k].out);
        ei_x_free(&x);
    }
    bp_arena_free(a);
}

/* Output never exceeds outlen-1, is NUL-terminated, is a prefix plus "..." when cut. */
static void check_format_bounds(const bp_term *t)
{
    char full[8192];
    size_t flen = bp_term_format(t, full, sizeof full);
    assert_int_equal(flen, strlen(full));
    assert_true(flen < sizeof full - 1);
    char buf[8192 + 16];
    for (size_t outlen = 0; outlen <= flen + 2; outlen++) {
        memset(buf, 'X', sizeof buf);
        size_t n = bp_term_format(t, buf, outlen);
        for (size_t k = outlen; k < outlen + 16; k++)
            assert_int_equal(buf[k], 'X');
        if (outlen == 0) {
            assert_int_equal(n, 0);
            continue;
        }
        assert_int_equal(n, strlen(buf));
        assert_true(n <= outlen - 1);
        if (flen <= outlen - 1) {
            assert_string_equal(buf, full);
            continue;
        }
        size_t dots = outlen - 1 < 3 ? outlen - 1 : 3;
        assert_true(n >= dots);
        assert_memory_equal(buf + n - dots, "...", dots);
        assert_memory_equal(buf, full, n - dots);
        /* never ends inside a UTF-8 character */
        size_t body = n - dots;
        if (body > 0) {
            size_t j = body;
            while (j > 0 && ((unsigned char)buf[j - 1] & 0xC0) == 0x80)
                j--;
            if (j > 0 && (unsigned char)buf[j - 1] >= 0xC0) {
                unsigned char lead = (unsigned char)buf[j - 1];
                size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
                assert_int_equal(body - (j - 1), want);
            }
        }
    }
}

static void test_format_truncation(void **state)
{
    (void)state;
    bp_arena *a = bp_arena_new(0);
    ei_x_buff x;
    build_everything(&x);
    bp_term *t = dec_x(a, &x);
    ei_x_free(&x);
    check_format_bounds(t);

    /* short outputs: the dots themselves get cut */
    char out[8];
    assert_int_equal(bp_term_format(t, out, 1), 0);
    assert_string_equal(out, "");
    assert_int_equal(bp_term_format(t, out, 2), 1);
    assert_string_equal(out, ".");
    assert_int_equal(bp_term_format(t, out, 3), 2);
    assert_string_equal(out, "..");
    assert_int_equal(bp_term_format(t, out, 4), 3);
    assert_string_equal(out, "...");
    assert_int_equal(bp_term_format(t, out, 5), 4);
    assert_string_equal(out, "{...");
    assert_int_equal(bp_term_format(t, out, 8), 7);
    assert_string_equal(out, "{ok,...");

    /* multi-byte characters */
    x_new(&x);
    ei_x_encode_tuple_header(&x, 3);
    assert_int_equal(ei_x_encode_atom_as(&x, "\xE2\x82\xAC\xC3\xA9\xF0\x9F\x98\x80", ERLANG_UTF8,
                                         ERLANG_UTF8), 0);
    ei_x_encode_binary(&x, "\xF0\x9F\x98\x80\xE2\x82\xAC", 7);
    ei_x_encode_string(&x, "\xE9\xE8\xE0");
    t = dec_x(a, &x);
    ei_x_free(&x);
    check_format_bounds(t);

    /* NULL terms and tiny buffers */
    memset(out, 'X', sizeof out);
    assert_int_equal(bp_term_format(NULL, out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(bp_term_format(t, NULL, 10), 0);

    /* a huge list into a small buffer */
    x_new(&x);
    ei_x_encode_list_header(&x, 100000);
    for (long k = 0; k < 100000; k++)
        x_long(&x, k);
    ei_x_encode_empty_list(&x);
    t = dec_x(a, &x);
    ei_x_free(&x);
    char small[32];
    assert_int_equal(bp_term_format(t, small, sizeof small), 31);
    assert_string_equal(small, "[0,1,2,3,4,5,6,7,8,9,10,11,1...");
    bp_arena_free(a);
}

static void test_format_misc(void **state)
{
    (void)state;
    /* a hand-built tree, as other modules might build */
    bp_term items[3];
    memset(items, 0, sizeof items);
    items[0].type = BP_T_ATOM;
    items[0].str = "x";
    items[0].len = 1;
    items[1].type = BP_T_INT;
    items[1].i = INT64_MIN;
    items[2].type = BP_T_FUN;
    bp_term list;
    memset(&list, 0, sizeof list);
    list.type = BP_T_LIST;
    list.items = items;
    list.n = 3;
    assert_string_equal(fmt(&list), "[x,-9223372036854775808,#Fun<>]");
    bp_term tail;
    memset(&tail, 0, sizeof tail);
    tail.type = BP_T_FLOAT;
    tail.f = -0.5;
    list.tail = &tail;
    assert_string_equal(fmt(&list), "[x,-9223372036854775808,#Fun<>|-0.5]");
    bp_term empty;
    memset(&empty, 0, sizeof empty);
    empty.type = BP_T_ATOM; /* NULL str */
    assert_string_equal(fmt(&empty), "''");
    char out[8];
    assert_int_equal(bp_term_text(&empty, out, sizeof out), 0);
    assert_string_equal(out, "");
}

int main(void)
{
    ei_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_integer),
        cmocka_unit_test(test_integer),
        cmocka_unit_test(test_longlong_via_big),
        cmocka_unit_test(test_big_boundaries),
        cmocka_unit_test(test_new_float),
        cmocka_unit_test(test_float_ext),
        cmocka_unit_test(test_atoms_ei),
        cmocka_unit_test(test_atoms_latin1),
        cmocka_unit_test(test_tuples),
        cmocka_unit_test(test_nil_and_string),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_list_tails_merged),
        cmocka_unit_test(test_maps),
        cmocka_unit_test(test_binaries),
        cmocka_unit_test(test_bitstrings),
        cmocka_unit_test(test_pids),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_funs),
        cmocka_unit_test(test_rejected_tags),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_unversioned_and_offsets),
        cmocka_unit_test(test_truncation_every_offset),
        cmocka_unit_test(test_truncation_old_tags),
        cmocka_unit_test(test_lying_lengths),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_arena_cap),
        cmocka_unit_test(test_helpers),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_format_atoms),
        cmocka_unit_test(test_format_truncation),
        cmocka_unit_test(test_format_misc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

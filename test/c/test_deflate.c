/* test_deflate.c: the one-round request's compressor, read back by an independent inflater of fixed-Huffman blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "beamprobe.h"
#include "core/config.h"
#include "dist/collect_int.h"
#include "dist/deflate.h"
#include "dist/term.h"

/* ---- a reader of what RFC 1950/1951 allow the compressor to write: zlib, fixed-Huffman blocks ---- */

typedef struct {
    const unsigned char *p;
    size_t n, at; /* at: bits read */
    int bad;
} bitreader;

static unsigned bit(bitreader *r)
{
    if (r->at / 8 >= r->n) {
        r->bad = 1;
        return 0;
    }
    unsigned b = (r->p[r->at / 8] >> (r->at % 8)) & 1;
    r->at++;
    return b;
}

static unsigned bits(bitreader *r, unsigned n) /* an extra-bits field: least significant first */
{
    unsigned v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= bit(r) << i;
    return v;
}

static unsigned code(bitreader *r, unsigned n, unsigned v) /* v's code continued by n more bits */
{
    for (unsigned i = 0; i < n; i++)
        v = v << 1 | bit(r);
    return v;
}

static int symbol(bitreader *r)
{
    unsigned c = code(r, 7, 0);
    if (c <= 0x17)
        return (int)(256 + c);
    c = code(r, 1, c);
    if (c >= 0x30 && c <= 0xbf)
        return (int)(c - 0x30);
    if (c >= 0xc0 && c <= 0xc7)
        return (int)(280 + c - 0xc0);
    c = code(r, 1, c);
    return c >= 0x190 && c <= 0x1ff ? (int)(144 + c - 0x190) : -1;
}

/* Inflate the zlib stream z[0..n) into out (at most cap bytes); its length, or -1 if malformed. */
static long inflate_fixed(const unsigned char *z, size_t n, unsigned char *out, size_t cap)
{
    static const unsigned lbase[29] = { 3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                        31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 };
    static const unsigned dbase[30] = { 1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
                                        193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577 };
    if (n < 6 || z[0] != 0x78 || ((unsigned)z[0] << 8 | z[1]) % 31 != 0)
        return -1;
    bitreader r = { .p = z, .n = n - 4, .at = 16 };
    size_t len = 0;
    unsigned final;
    do {
        final = bit(&r);
        if (bits(&r, 2) != 1)
            return -1; /* only fixed-Huffman blocks are expected */
        for (;;) {
            int s = symbol(&r);
            if (s < 0 || r.bad)
                return -1;
            if (s < 256) {
                if (len == cap)
                    return -1;
                out[len++] = (unsigned char)s;
                continue;
            }
            if (s == 256)
                break;
            if (s > 285)
                return -1;
            unsigned l = lbase[s - 257] + bits(&r, s < 265 || s == 285 ? 0 : (unsigned)(s - 261) / 4);
            unsigned d = code(&r, 5, 0);
            if (d > 29)
                return -1;
            d = dbase[d] + bits(&r, d < 4 ? 0 : d / 2 - 1);
            if (r.bad || d > len || len + l > cap)
                return -1;
            for (unsigned i = 0; i < l; i++, len++)
                out[len] = out[len - d];
        }
    } while (!final);
    const unsigned char *t = z + n - 4;
    uint32_t sum = (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3];
    return (r.at + 7) / 8 == n - 4 && sum == bp_adler32(1, out, len) ? (long)len : -1;
}

/* Compress d[0..n) and read it back: the compressed form, then the bytes equal to d. Returns its size. */
static size_t round_trip(const unsigned char *d, size_t n)
{
    ei_x_buff x;
    ei_x_new(&x);
    assert_int_equal(bp_deflate_term(d, n, &x), 0);
    const unsigned char *c = (const unsigned char *)x.buff;
    assert_true(x.index > 5 && (size_t)x.index < n);
    assert_int_equal(c[0], 80);
    assert_int_equal((size_t)c[1] << 24 | (size_t)c[2] << 16 | (size_t)c[3] << 8 | c[4], n);
    unsigned char *back = malloc(n + 1);
    assert_non_null(back);
    assert_int_equal(inflate_fixed(c + 5, (size_t)x.index - 5, back, n + 1), (long)n);
    assert_memory_equal(back, d, n);
    free(back);
    size_t size = (size_t)x.index;
    ei_x_free(&x);
    return size;
}

static void test_adler32(void **state)
{
    (void)state;
    assert_int_equal(bp_adler32(1, (const unsigned char *)"Wikipedia", 9), 0x11E60398u); /* RFC 1950's example value */
    assert_int_equal(bp_adler32(1, NULL, 0), 1);
    /* in pieces as whole, and past the 5552-byte run where the sums are reduced */
    unsigned char big[20000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = 0xff;
    assert_int_equal(bp_adler32(bp_adler32(1, big, 7000), big + 7000, sizeof big - 7000), bp_adler32(1, big, sizeof big));
}

static void test_round_trips(void **state)
{
    (void)state;
    size_t n = 200000;
    unsigned char *d = malloc(n);
    assert_non_null(d);
    memset(d, 0, n); /* overlapping matches of the longest length */
    assert_true(round_trip(d, n) < n / 50);
    for (size_t i = 0; i < n; i++) /* every literal, short repeats and distances up to the window */
        d[i] = (unsigned char)(i % 251 ^ (i / 1000) * 7);
    round_trip(d, n);
    uint32_t s = 1;
    for (size_t i = 0; i < n; i++) { /* text-like: repeats at random distances, past the window too */
        s = s * 1103515245u + 12345u;
        d[i] = i > 40000 && (s >> 16) % 4 ? d[i - 1 - (s >> 8) % 39000] : (unsigned char)('a' + (s >> 16) % 26);
    }
    round_trip(d, n);
    free(d);
}

static void test_not_worth_it(void **state)
{
    (void)state;
    ei_x_buff x;
    ei_x_new(&x);
    unsigned char d[4096];
    uint32_t s = 7;
    for (size_t i = 0; i < sizeof d; i++) { /* noise does not compress */
        s = s * 1103515245u + 12345u;
        d[i] = (unsigned char)(s >> 16);
    }
    assert_int_equal(bp_deflate_term(d, sizeof d, &x), 1);
    assert_int_equal(bp_deflate_term(d, 6, &x), 1);
    assert_int_equal(bp_deflate_term(d, 0, &x), 1);
    assert_int_equal(x.index, 0); /* untouched */
    ei_x_free(&x);
}

/* The request's parameters of a probe with every feature: compressed under TCP's initial window, the same term inside. */
static void test_request_parameters(void **state)
{
    (void)state;
    bp_config *cfg = malloc(sizeof *cfg);
    char err[256];
    assert_non_null(cfg);
    bp_config_defaults(cfg);
    assert_int_equal(bp_config_set(cfg, "governor", "gov_a,global:gov_b,gproc:tag_c", err, sizeof err), 0);
    assert_int_equal(bp_config_set(cfg, "supervisor", "sup_d", err, sizeof err), 0);
    assert_int_equal(bp_config_set(cfg, "governors-under", "sup_f", err, sizeof err), 0);
    assert_int_equal(bp_config_set(cfg, "mnesia", NULL, err, sizeof err), 0);
    assert_int_equal(bp_config_set(cfg, "top", "5", err, sizeof err), 0);
    ei_x_buff x;
    ei_x_new_with_version(&x);
    assert_int_equal(bp__oneround_params(cfg, 1000, &x), 0);
    const unsigned char *c = (const unsigned char *)x.buff;
    assert_int_equal(c[0], 131);
    assert_int_equal(c[1], 80);
    assert_true(x.index < 14480); /* 10 segments of 1448 bytes */
    size_t n = (size_t)c[2] << 24 | (size_t)c[3] << 16 | (size_t)c[4] << 8 | c[5];
    assert_true(n > 40000);
    unsigned char *term = malloc(n);
    assert_non_null(term);
    assert_int_equal(inflate_fixed(c + 6, (size_t)x.index - 6, term, n), (long)n);
    ei_x_buff raw; /* the term itself, byte for byte */
    ei_x_new(&raw);
    assert_int_equal(bp__oneround_params_raw(cfg, 1000, &raw), 0);
    assert_int_equal(raw.index, n);
    assert_memory_equal(raw.buff, term, n);
    bp_arena *a = bp_arena_new(0);
    bp_term *t = NULL;
    size_t at = 0;
    assert_int_equal(bp_term_decode(term, n, &at, 0, a, &t), 0);
    assert_int_equal(at, n);
    assert_true(t->type == BP_T_TUPLE && t->n == 5); /* {1, Opts, Jobs, Rule, Procedures} */
    bp_arena_free(a);
    free(term);
    ei_x_free(&raw);
    ei_x_free(&x);
    free(cfg);
}

/* Small parameters (a startup probe's) go as they are: they fit the window, and the node need not inflate them. */
static void test_small_parameters_as_they_are(void **state)
{
    (void)state;
    bp_config *cfg = malloc(sizeof *cfg);
    char err[256];
    assert_non_null(cfg);
    bp_config_defaults(cfg);
    assert_int_equal(bp_config_set(cfg, "probe", "startup", err, sizeof err), 0);
    ei_x_buff x, raw;
    ei_x_new_with_version(&x);
    ei_x_new_with_version(&raw);
    assert_int_equal(bp__oneround_params(cfg, 1000, &x), 0);
    assert_int_equal(bp__oneround_params_raw(cfg, 1000, &raw), 0);
    assert_int_equal(x.index, raw.index);
    assert_memory_equal(x.buff, raw.buff, (size_t)x.index);
    assert_true(x.index < 12288);
    ei_x_free(&x);
    ei_x_free(&raw);
    free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adler32),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_not_worth_it),
        cmocka_unit_test(test_request_parameters),
        cmocka_unit_test(test_small_parameters_as_they_are),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

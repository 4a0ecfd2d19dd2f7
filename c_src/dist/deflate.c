/* deflate.c: a small DEFLATE compressor (greedy LZ77 over a 32 KiB window, fixed Huffman codes) for the one-round request, whose procedures then fit TCP's initial window. */
#include "dist/deflate.h"

#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"

#define WINDOW 32768u /* distances stay under it */
#define HASH_BITS 13
#define MAX_CHAIN 8   /* earlier positions tried per match: the parse is greedy, short chains do */
#define MIN_MATCH 3
#define MAX_INSERT 16 /* the positions inside a match up to this long join the chains (zlib's fast levels do so too) */
#define MAX_MATCH 258
#define ETF_COMPRESSED 80
#define ETF_HEAD 5    /* the tag and the term's size before the zlib stream */

/* Bits written least significant first, as DEFLATE packs them; bytes past cap are counted, not stored. */
typedef struct {
    unsigned char *out;
    size_t len, cap;
    uint64_t acc;
    unsigned n;
} bitwriter;

static void put_bits(bitwriter *w, uint32_t v, unsigned n)
{
    w->acc |= (uint64_t)v << w->n;
    w->n += n;
    while (w->n >= 8) {
        if (w->len < w->cap)
            w->out[w->len] = (unsigned char)w->acc;
        w->len++;
        w->acc >>= 8;
        w->n -= 8;
    }
}

/* The fixed literal/length code (RFC 1951, 3.2.6), each code bit-reversed as it is written. */
typedef struct {
    uint16_t code[288];
    uint8_t bits[288];
} fixed_codes;

static uint32_t reversed(uint32_t code, unsigned n)
{
    uint32_t r = 0;
    for (unsigned i = 0; i < n; i++, code >>= 1)
        r = r << 1 | (code & 1);
    return r;
}

static void make_codes(fixed_codes *f)
{
    for (unsigned s = 0; s < 288; s++) {
        unsigned code = s < 144 ? 0x30 + s : s < 256 ? 0x190 + s - 144 : s < 280 ? s - 256 : 0xc0 + s - 280;
        f->bits[s] = (uint8_t)(s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8);
        f->code[s] = (uint16_t)reversed(code, f->bits[s]);
    }
}

static void put_symbol(bitwriter *w, const fixed_codes *f, unsigned s)
{
    put_bits(w, f->code[s], f->bits[s]);
}

static const uint16_t len_base[29] = { 3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                       31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 };
static const uint8_t len_extra[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const uint16_t dist_base[30] = { 1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
                                        193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577 };
static const uint8_t dist_extra[30] = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

/* The last entry of base[0..n) not above v. */
static unsigned code_of(const uint16_t *base, unsigned n, unsigned v)
{
    unsigned i = n - 1;
    while (base[i] > v)
        i--;
    return i;
}

static void put_match(bitwriter *w, const fixed_codes *f, unsigned len, unsigned dist)
{
    unsigned l = code_of(len_base, 29, len), d = code_of(dist_base, 30, dist);
    put_symbol(w, f, 257 + l);
    put_bits(w, len - len_base[l], len_extra[l]);
    put_bits(w, reversed(d, 5), 5); /* distance codes: 5 bits each */
    put_bits(w, dist - dist_base[d], dist_extra[d]);
}

static uint32_t hash3(const unsigned char *p)
{
    uint32_t v = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

uint32_t bp_adler32(uint32_t a, const unsigned char *d, size_t n)
{
    uint32_t s1 = a & 0xffff, s2 = a >> 16;
    while (n > 0) {
        size_t k = n < 5552 ? n : 5552; /* the most bytes before s2 could overflow */
        n -= k;
        while (k--) {
            s1 += *d++;
            s2 += s1;
        }
        s1 %= 65521;
        s2 %= 65521;
    }
    return s2 << 16 | s1;
}

/* Chains of earlier positions with the same hash: head by hash, prev by position in the window. */
typedef struct {
    int32_t head[1u << HASH_BITS];
    int32_t prev[WINDOW];
} chains;

static void insert(chains *c, const unsigned char *t, size_t len, size_t pos)
{
    if (pos + MIN_MATCH > len)
        return;
    uint32_t h = hash3(t + pos);
    c->prev[pos & (WINDOW - 1)] = c->head[h];
    c->head[h] = (int32_t)pos;
}

/* How many bytes a and b have in common, up to max: 8 at a time where the byte order allows. */
static unsigned common(const unsigned char *a, const unsigned char *b, unsigned max)
{
    unsigned l = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; l + 8 <= max; l += 8) {
        uint64_t x, y;
        memcpy(&x, a + l, 8);
        memcpy(&y, b + l, 8);
        if (x != y)
            return l + (unsigned)__builtin_ctzll(x ^ y) / 8;
    }
#endif
    while (l < max && a[l] == b[l])
        l++;
    return l;
}

/* The longest earlier match of t[pos..] (its length, 0 if under MIN_MATCH, and distance). */
static unsigned longest(const chains *c, const unsigned char *t, size_t len, size_t pos, unsigned *dist)
{
    unsigned best = 0, max = len - pos < MAX_MATCH ? (unsigned)(len - pos) : MAX_MATCH;
    if (max < MIN_MATCH)
        return 0;
    int32_t cand = c->head[hash3(t + pos)];
    for (int k = 0; cand >= 0 && pos - (size_t)cand < WINDOW && k < MAX_CHAIN; k++) {
        const unsigned char *a = t + cand, *b = t + pos;
        if (a[best] == b[best]) {
            unsigned l = common(a, b, max);
            if (l > best) {
                best = l;
                *dist = (unsigned)(pos - (size_t)cand);
                if (l == max)
                    break;
            }
        }
        cand = c->prev[(size_t)cand & (WINDOW - 1)];
    }
    return best >= MIN_MATCH ? best : 0;
}

int bp_deflate_term(const unsigned char *term, size_t len, ei_x_buff *x)
{
    if (len <= ETF_HEAD + 1 || len > INT32_MAX)
        return 1;
    chains *c = malloc(sizeof *c);
    bitwriter w = { .out = malloc(len - ETF_HEAD - 1), .cap = len - ETF_HEAD - 1 }; /* smaller, or not worth it */
    int rc = BP_ENOMEM;
    if (!c || !w.out)
        goto out;
    memset(c->head, 0xff, sizeof c->head); /* -1: no earlier position */
    fixed_codes codes;
    make_codes(&codes);
    put_bits(&w, 0x78, 8); /* zlib: deflate, 32 KiB window; check bits: 0x7801 % 31 == 0 */
    put_bits(&w, 0x01, 8);
    put_bits(&w, 1, 1); /* the last block */
    put_bits(&w, 1, 2); /* fixed Huffman codes */
    for (size_t pos = 0; pos < len && w.len <= w.cap;) {
        unsigned dist = 0, m = longest(c, term, len, pos, &dist);
        insert(c, term, len, pos);
        if (m) {
            put_match(&w, &codes, m, dist);
            for (size_t i = pos + 1; m <= MAX_INSERT && i < pos + m; i++) /* a long match's inside: rarely a better start */
                insert(c, term, len, i);
            pos += m;
        } else {
            put_symbol(&w, &codes, term[pos++]);
        }
    }
    put_symbol(&w, &codes, 256); /* end of block */
    put_bits(&w, 0, (8 - w.n) & 7);
    uint32_t sum = bp_adler32(1, term, len);
    put_bits(&w, sum >> 24, 8);
    put_bits(&w, (sum >> 16) & 0xff, 8);
    put_bits(&w, (sum >> 8) & 0xff, 8);
    put_bits(&w, sum & 0xff, 8);
    rc = 1;
    if (w.len > w.cap) /* not smaller than the term itself */
        goto out;
    unsigned char head[ETF_HEAD] = { ETF_COMPRESSED, (unsigned char)(len >> 24), (unsigned char)(len >> 16),
                              (unsigned char)(len >> 8), (unsigned char)len };
    rc = ei_x_append_buf(x, (const char *)head, ETF_HEAD) < 0 || ei_x_append_buf(x, (const char *)w.out, (int)w.len) < 0
             ? BP_ENOMEM
             : 0;
out:
    free(c);
    free(w.out);
    return rc;
}

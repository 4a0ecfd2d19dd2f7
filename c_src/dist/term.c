/* term.c: bounded decoder of Erlang's external term format into an arena tree, and helpers over it. */
#include "dist/term.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beamprobe.h"

/*
 * Notes on the decoder:
 *  - every count read from the wire is compared with the bytes left before
 *    anything is allocated for it (each element takes at least one byte);
 *  - containers (tuple, list, map) may nest BP_TERM_MAX_DEPTH levels deep;
 *    a list's tail chain ([a|[b|[c]]]) is followed iteratively and merged
 *    into one list, so it does not count as nesting;
 *  - on failure the arena keeps what was already taken from it (an arena
 *    cannot give memory back), but nothing is returned and *index is kept.
 *
 * Fields used beyond the header's comments: BP_T_BITSTR keeps its length in
 * bits in `i`; BP_T_FUN keeps a printable description in `str`
 * ("fun m:f/1" or "#Fun<m.1.2>").
 */

enum {
    TAG_VERSION = 131,
    TAG_NEW_FLOAT = 70,
    TAG_BIT_BINARY = 77,
    TAG_NEW_PID = 88,
    TAG_NEW_PORT = 89,
    TAG_NEWER_REF = 90,
    TAG_SMALL_INT = 97,
    TAG_INT = 98,
    TAG_FLOAT = 99,
    TAG_ATOM = 100,
    TAG_REF = 101,
    TAG_PORT = 102,
    TAG_PID = 103,
    TAG_SMALL_TUPLE = 104,
    TAG_LARGE_TUPLE = 105,
    TAG_NIL = 106,
    TAG_STRING = 107,
    TAG_LIST = 108,
    TAG_BINARY = 109,
    TAG_SMALL_BIG = 110,
    TAG_LARGE_BIG = 111,
    TAG_NEW_FUN = 112,
    TAG_EXPORT = 113,
    TAG_NEW_REF = 114,
    TAG_SMALL_ATOM = 115,
    TAG_MAP = 116,
    TAG_ATOM_UTF8 = 118,
    TAG_SMALL_ATOM_UTF8 = 119,
    TAG_V4_PORT = 120
};

#define ATOM_MAX_CHARS 255
#define REF_MAX_WORDS 5
#define FLOAT_EXT_LEN 31
/* 1 arity + 16 uniq + 4 index + 4 num_free, after the 4-byte size field */
#define NEW_FUN_FIXED 25

/* ---------- UTF-8 ---------- */

/* Length of the valid UTF-8 sequence at p (n bytes available) and its code point, or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char c = p[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        v = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[k] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

/* Largest n' <= n such that s[0..n') does not end inside a multi-byte UTF-8 sequence. */
static size_t utf8_trim(const char *s, size_t n)
{
    size_t j = n, cont = 0;
    while (j > 0 && cont < 3 && ((unsigned char)s[j - 1] & 0xC0) == 0x80) {
        j--;
        cont++;
    }
    if (j == 0)
        return n;
    unsigned char lead = (unsigned char)s[j - 1];
    size_t want;
    if (lead >= 0xC0 && lead <= 0xDF)
        want = 2;
    else if (lead >= 0xE0 && lead <= 0xEF)
        want = 3;
    else if (lead >= 0xF0 && lead <= 0xF7)
        want = 4;
    else
        return n;
    return cont + 1 < want ? j - 1 : n;
}

/* ---------- decoder ---------- */

typedef struct {
    const unsigned char *buf;
    size_t end; /* one past the last byte this decoder may read */
    size_t pos;
    bp_arena *a;
} dec;

static size_t left(const dec *d)
{
    return d->end - d->pos;
}

static int rd_u8(dec *d, unsigned *v)
{
    if (left(d) < 1)
        return BP_EDECODE;
    *v = d->buf[d->pos++];
    return 0;
}

static int rd_u16(dec *d, size_t *v)
{
    if (left(d) < 2)
        return BP_EDECODE;
    const unsigned char *p = d->buf + d->pos;
    *v = ((size_t)p[0] << 8) | p[1];
    d->pos += 2;
    return 0;
}

static int rd_u32(dec *d, uint32_t *v)
{
    if (left(d) < 4)
        return BP_EDECODE;
    const unsigned char *p = d->buf + d->pos;
    *v = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    d->pos += 4;
    return 0;
}

/* A 32-bit two's complement value, without implementation-defined conversions. */
static int64_t s32(uint32_t u)
{
    return (u & 0x80000000u) ? (int64_t)u - ((int64_t)1 << 32) : (int64_t)u;
}

static int rd_u64(dec *d, uint64_t *v)
{
    uint32_t hi, lo;
    int rc = rd_u32(d, &hi);
    if (rc == 0)
        rc = rd_u32(d, &lo);
    if (rc == 0)
        *v = ((uint64_t)hi << 32) | lo;
    return rc;
}

static int skip(dec *d, size_t n)
{
    if (n > left(d))
        return BP_EDECODE;
    d->pos += n;
    return 0;
}

/* Body of an atom whose tag has been read: a NUL-terminated UTF-8 copy in the arena. */
static int atom_body(dec *d, unsigned tag, const char **out, size_t *outlen)
{
    size_t n = 0;
    unsigned n8 = 0; /* read before rc is checked: defined even when the read failed */
    int latin1, rc;
    switch (tag) {
    case TAG_ATOM:
        latin1 = 1;
        rc = rd_u16(d, &n);
        break;
    case TAG_ATOM_UTF8:
        latin1 = 0;
        rc = rd_u16(d, &n);
        break;
    case TAG_SMALL_ATOM:
    case TAG_SMALL_ATOM_UTF8:
        latin1 = tag == TAG_SMALL_ATOM;
        rc = rd_u8(d, &n8);
        n = n8;
        break;
    default:
        return BP_EDECODE;
    }
    if (rc)
        return rc;
    if (n > left(d))
        return BP_EDECODE;
    const unsigned char *p = d->buf + d->pos;
    char *s;
    size_t slen;
    if (latin1) {
        if (n > ATOM_MAX_CHARS)
            return BP_EDECODE;
        slen = n;
        for (size_t k = 0; k < n; k++)
            slen += p[k] >= 0x80;
        s = bp_arena_alloc(d->a, slen + 1);
        if (!s)
            return BP_ENOMEM;
        size_t o = 0;
        for (size_t k = 0; k < n; k++) {
            if (p[k] < 0x80) {
                s[o++] = (char)p[k];
            } else {
                s[o++] = (char)(0xC0 | (p[k] >> 6));
                s[o++] = (char)(0x80 | (p[k] & 0x3F));
            }
        }
        s[o] = '\0';
    } else {
        size_t chars = 0;
        for (size_t k = 0; k < n;) {
            uint32_t cp;
            size_t l = utf8_seq(p + k, n - k, &cp);
            if (l == 0 || ++chars > ATOM_MAX_CHARS)
                return BP_EDECODE;
            k += l;
        }
        slen = n;
        s = bp_arena_strndup(d->a, (const char *)p, n);
        if (!s)
            return BP_ENOMEM;
    }
    d->pos += n;
    *out = s;
    *outlen = slen;
    return 0;
}

static int rd_atom(dec *d, const char **out, size_t *outlen)
{
    unsigned tag;
    int rc = rd_u8(d, &tag);
    return rc ? rc : atom_body(d, tag, out, outlen);
}

static int dec_term(dec *d, unsigned depth, bp_term *t);

/* n consecutive terms, each at least one byte, with at least `after` bytes after them. */
static int dec_items(dec *d, unsigned depth, size_t n, size_t after, bp_term **out)
{
    if (n > left(d) || after > left(d) - n)
        return BP_EDECODE;
    *out = NULL;
    if (n == 0)
        return 0;
    if (n > SIZE_MAX / sizeof(bp_term))
        return BP_ENOMEM;
    bp_term *v = bp_arena_alloc(d->a, n * sizeof *v);
    if (!v)
        return BP_ENOMEM;
    for (size_t k = 0; k < n; k++) {
        int rc = dec_term(d, depth + 1, &v[k]);
        if (rc)
            return rc;
    }
    *out = v;
    return 0;
}

typedef struct seg {
    bp_term *items;
    size_t n;
    struct seg *next;
} seg;

/* LIST_EXT (tag read). Tails that are lists or strings are merged in. */
static int dec_list(dec *d, unsigned depth, bp_term *t)
{
    seg *first = NULL, *last = NULL;
    size_t total = 0;
    bp_term tailv;
    int has_tail = 0, rc;
    memset(&tailv, 0, sizeof tailv);
    for (;;) {
        uint32_t n;
        bp_term *items = NULL;
        if ((rc = rd_u32(d, &n)) || (rc = dec_items(d, depth, n, 1, &items)))
            return rc;
        if (n > 0) {
            seg *s = bp_arena_alloc(d->a, sizeof *s);
            if (!s)
                return BP_ENOMEM;
            s->items = items;
            s->n = n;
            if (last)
                last->next = s;
            else
                first = s;
            last = s;
            total += n; /* bounded by the buffer length: each item took a byte */
        }
        if (left(d) < 1)
            return BP_EDECODE;
        unsigned tag = d->buf[d->pos];
        if (tag == TAG_LIST) {
            d->pos++;
            continue;
        }
        if (tag == TAG_NIL) {
            d->pos++;
            break;
        }
        if (tag == TAG_STRING) {
            /* [x|"ab"] is [x,$a,$b] */
            size_t sn;
            d->pos++;
            if ((rc = rd_u16(d, &sn)))
                return rc;
            if (sn > left(d))
                return BP_EDECODE;
            if (sn > 0) {
                seg *s = bp_arena_alloc(d->a, sizeof *s);
                bp_term *v = s ? bp_arena_alloc(d->a, sn * sizeof *v) : NULL;
                if (!v)
                    return BP_ENOMEM;
                for (size_t k = 0; k < sn; k++) {
                    v[k].type = BP_T_INT;
                    v[k].i = d->buf[d->pos + k];
                }
                s->items = v;
                s->n = sn;
                if (last)
                    last->next = s;
                else
                    first = s;
                total += sn; /* the string ends the list: no later segment needs `last` */
                d->pos += sn;
            }
            break;
        }
        if ((rc = dec_term(d, depth + 1, &tailv)))
            return rc;
        has_tail = 1;
        break;
    }
    if (total == 0) {
        /* [|T] is T itself */
        if (has_tail)
            *t = tailv;
        else
            t->type = BP_T_NIL;
        return 0;
    }
    bp_term *tail = NULL;
    if (has_tail) {
        if (!(tail = bp_arena_alloc(d->a, sizeof *tail)))
            return BP_ENOMEM;
        *tail = tailv;
    }
    bp_term *items = first->items;
    if (first->next) {
        items = bp_arena_alloc(d->a, total * sizeof *items);
        if (!items)
            return BP_ENOMEM;
        size_t o = 0;
        for (seg *s = first; s; s = s->next) {
            memcpy(items + o, s->items, s->n * sizeof *items);
            o += s->n;
        }
    }
    t->type = BP_T_LIST;
    t->items = items;
    t->n = total;
    t->tail = tail;
    return 0;
}

/* SMALL_BIG_EXT / LARGE_BIG_EXT body after the digit count. */
static int dec_big(dec *d, size_t n, bp_term *t)
{
    unsigned sign;
    int rc = rd_u8(d, &sign);
    if (rc)
        return rc;
    if (n > left(d))
        return BP_EDECODE;
    const unsigned char *p = d->buf + d->pos; /* little-endian magnitude */
    size_t top = n;
    while (top > 0 && p[top - 1] == 0)
        top--;
    d->pos += n;
    if (top <= 8) {
        uint64_t m = 0;
        for (size_t k = top; k-- > 0;)
            m = (m << 8) | p[k];
        if (!sign && m <= (uint64_t)INT64_MAX) {
            t->type = BP_T_INT;
            t->i = (int64_t)m;
            return 0;
        }
        if (sign && m <= (uint64_t)INT64_MAX + 1) {
            t->type = BP_T_INT;
            t->i = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
            return 0;
        }
    }
    double f = 0.0;
    for (size_t k = top; k-- > 0;) {
        f = f * 256.0 + p[k];
        if (isinf(f))
            break;
    }
    t->type = BP_T_BIGINT;
    t->f = sign ? -f : f;
    return 0;
}

/* Quoted form of an atom into a local buffer (for fun descriptions). */
static void atom_text(const char *s, size_t len, char *out, size_t outlen)
{
    bp_term a;
    memset(&a, 0, sizeof a);
    a.type = BP_T_ATOM;
    a.str = s;
    a.len = len;
    bp_term_format(&a, out, outlen);
}

/* Small or plain integer term inside a fun header, or -1. */
static int rd_small_or_int(dec *d, int64_t *v)
{
    unsigned tag, b;
    uint32_t u;
    if (rd_u8(d, &tag))
        return -1;
    if (tag == TAG_SMALL_INT && rd_u8(d, &b) == 0) {
        *v = b;
        return 0;
    }
    if (tag == TAG_INT && rd_u32(d, &u) == 0) {
        *v = s32(u);
        return 0;
    }
    return -1;
}

/* NEW_FUN_EXT (tag read): the body is skipped by its size; only the module is read. */
static int dec_new_fun(dec *d, bp_term *t)
{
    uint32_t size;
    int rc = rd_u32(d, &size);
    if (rc)
        return rc;
    /* size counts itself */
    if (size < 4 + NEW_FUN_FIXED || size - 4 > left(d))
        return BP_EDECODE;
    dec body = { d->buf, d->pos + (size - 4), d->pos + NEW_FUN_FIXED, d->a };
    const char *mod;
    size_t modlen;
    if ((rc = rd_atom(&body, &mod, &modlen)))
        return rc;
    int64_t oi, ou;
    const char *desc;
    if (rd_small_or_int(&body, &oi) == 0 && rd_small_or_int(&body, &ou) == 0)
        desc = bp_arena_printf(d->a, "#Fun<%s.%" PRId64 ".%" PRId64 ">", mod, oi, ou);
    else
        desc = bp_arena_printf(d->a, "#Fun<%s>", mod);
    if (!desc)
        return BP_ENOMEM;
    d->pos = body.end;
    t->type = BP_T_FUN;
    t->str = desc;
    t->len = strlen(desc);
    return 0;
}

/* EXPORT_EXT (tag read): module atom, function atom, SMALL_INTEGER_EXT arity. */
static int dec_export(dec *d, bp_term *t)
{
    const char *m, *f;
    size_t ml, fl;
    unsigned tag, arity;
    int rc;
    if ((rc = rd_atom(d, &m, &ml)) || (rc = rd_atom(d, &f, &fl)) || (rc = rd_u8(d, &tag)))
        return rc;
    if (tag != TAG_SMALL_INT)
        return BP_EDECODE;
    if ((rc = rd_u8(d, &arity)))
        return rc;
    /* a quoted atom of at most 255 characters fits easily */
    char mq[2048], fq[2048];
    atom_text(m, ml, mq, sizeof mq);
    atom_text(f, fl, fq, sizeof fq);
    const char *desc = bp_arena_printf(d->a, "fun %s:%s/%u", mq, fq, arity);
    if (!desc)
        return BP_ENOMEM;
    t->type = BP_T_FUN;
    t->str = desc;
    t->len = strlen(desc);
    return 0;
}

static int dec_float_ext(dec *d, bp_term *t)
{
    if (left(d) < FLOAT_EXT_LEN)
        return BP_EDECODE;
    char s[FLOAT_EXT_LEN + 1];
    memcpy(s, d->buf + d->pos, FLOAT_EXT_LEN);
    s[FLOAT_EXT_LEN] = '\0';
    char *end = NULL;
    double f = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(f))
        return BP_EDECODE;
    d->pos += FLOAT_EXT_LEN;
    t->type = BP_T_FLOAT;
    t->f = f;
    return 0;
}

/* Creation of a pid, port or reference: one byte in the old encodings, four in the new. */
static int rd_creation(dec *d, int old, uint32_t *c)
{
    unsigned c8;
    int rc;
    if (!old)
        return rd_u32(d, c);
    if ((rc = rd_u8(d, &c8)) == 0)
        *c = c8;
    return rc;
}

static int dec_pid(dec *d, unsigned tag, bp_term *t)
{
    uint32_t id, serial, creation;
    int rc;
    if ((rc = rd_atom(d, &t->str, &t->len)) || (rc = rd_u32(d, &id)) || (rc = rd_u32(d, &serial)) ||
        (rc = rd_creation(d, tag == TAG_PID, &creation)))
        return rc;
    t->type = BP_T_PID;
    t->i = id;
    t->serial = serial;
    t->creation = creation; /* needed to send the pid back */
    return 0;
}

static int dec_port(dec *d, unsigned tag, bp_term *t)
{
    uint64_t id;
    uint32_t id32 = 0, creation; /* id32 is copied before rc is checked */
    int rc;
    if ((rc = rd_atom(d, &t->str, &t->len)))
        return rc;
    if (tag == TAG_V4_PORT) {
        rc = rd_u64(d, &id);
    } else {
        rc = rd_u32(d, &id32);
        id = id32;
    }
    if (rc || (rc = rd_creation(d, tag == TAG_PORT, &creation)))
        return rc;
    if (id > (uint64_t)INT64_MAX)
        return BP_EDECODE;
    t->type = BP_T_PORT;
    t->i = (int64_t)id;
    t->creation = creation;
    return 0;
}

static int dec_ref(dec *d, unsigned tag, bp_term *t)
{
    size_t words = 1;
    uint32_t creation;
    int rc;
    if (tag != TAG_REF) {
        if ((rc = rd_u16(d, &words)))
            return rc;
        if (words > REF_MAX_WORDS)
            return BP_EDECODE;
        /* node atom (at least 2 bytes), creation and the id words must fit */
        if (2 + (tag == TAG_NEW_REF ? 1 : 4) + 4 * words > left(d))
            return BP_EDECODE;
    }
    if ((rc = rd_atom(d, &t->str, &t->len)))
        return rc;
    if (tag == TAG_REF) /* node, id, creation */
        rc = skip(d, 4);
    if (rc || (rc = rd_creation(d, tag != TAG_NEWER_REF, &creation)) ||
        (tag != TAG_REF && (rc = skip(d, 4 * words))))
        return rc;
    t->type = BP_T_REF;
    t->creation = creation;
    return 0;
}

static int dec_term(dec *d, unsigned depth, bp_term *t)
{
    unsigned tag, b = 0;
    uint32_t u = 0; /* b and u are copied into n before rc is checked */
    size_t n;
    int rc;
    if ((rc = rd_u8(d, &tag)))
        return rc;
    switch (tag) {
    case TAG_SMALL_INT:
        if ((rc = rd_u8(d, &b)))
            return rc;
        t->type = BP_T_INT;
        t->i = b;
        return 0;
    case TAG_INT:
        if ((rc = rd_u32(d, &u)))
            return rc;
        t->type = BP_T_INT;
        t->i = s32(u);
        return 0;
    case TAG_NEW_FLOAT: {
        uint64_t bits;
        double f;
        if ((rc = rd_u64(d, &bits)))
            return rc;
        memcpy(&f, &bits, sizeof f);
        if (!isfinite(f))
            return BP_EDECODE;
        t->type = BP_T_FLOAT;
        t->f = f;
        return 0;
    }
    case TAG_FLOAT:
        return dec_float_ext(d, t);
    case TAG_ATOM:
    case TAG_SMALL_ATOM:
    case TAG_ATOM_UTF8:
    case TAG_SMALL_ATOM_UTF8:
        if ((rc = atom_body(d, tag, &t->str, &t->len)))
            return rc;
        t->type = BP_T_ATOM;
        return 0;
    case TAG_SMALL_TUPLE:
    case TAG_LARGE_TUPLE:
        if (depth >= BP_TERM_MAX_DEPTH)
            return BP_EDECODE;
        if (tag == TAG_SMALL_TUPLE) {
            rc = rd_u8(d, &b);
            n = b;
        } else {
            rc = rd_u32(d, &u);
            n = u;
        }
        if (rc || (rc = dec_items(d, depth, n, 0, &t->items)))
            return rc;
        t->type = BP_T_TUPLE;
        t->n = n;
        return 0;
    case TAG_MAP:
        if (depth >= BP_TERM_MAX_DEPTH)
            return BP_EDECODE;
        if ((rc = rd_u32(d, &u)))
            return rc;
        if (u > left(d) / 2)
            return BP_EDECODE;
        if ((rc = dec_items(d, depth, (size_t)u * 2, 0, &t->items)))
            return rc;
        t->type = BP_T_MAP;
        t->n = u;
        return 0;
    case TAG_NIL:
        t->type = BP_T_NIL;
        return 0;
    case TAG_LIST:
        if (depth >= BP_TERM_MAX_DEPTH)
            return BP_EDECODE;
        return dec_list(d, depth, t);
    case TAG_STRING:
        if ((rc = rd_u16(d, &n)))
            return rc;
        if (n > left(d))
            return BP_EDECODE;
        if (!(t->str = bp_arena_strndup(d->a, (const char *)d->buf + d->pos, n)))
            return BP_ENOMEM;
        d->pos += n;
        t->type = BP_T_STRING;
        t->len = n;
        return 0;
    case TAG_BINARY:
    case TAG_BIT_BINARY: {
        unsigned bits = 8;
        if ((rc = rd_u32(d, &u)))
            return rc;
        n = u;
        if (tag == TAG_BIT_BINARY) {
            if ((rc = rd_u8(d, &bits)))
                return rc;
            if ((bits == 0) != (n == 0) || bits > 8)
                return BP_EDECODE;
        }
        if (n > left(d))
            return BP_EDECODE;
        char *s = bp_arena_strndup(d->a, (const char *)d->buf + d->pos, n);
        if (!s)
            return BP_ENOMEM;
        d->pos += n;
        t->str = s;
        t->len = n;
        if (n == 0 || bits == 8) {
            t->type = BP_T_BINARY;
        } else {
            /* keep only the bits that are part of the value */
            s[n - 1] = (char)((unsigned char)s[n - 1] & (0xFFu << (8 - bits)));
            t->type = BP_T_BITSTR;
            t->i = (int64_t)(n - 1) * 8 + bits;
        }
        return 0;
    }
    case TAG_SMALL_BIG:
        if ((rc = rd_u8(d, &b)))
            return rc;
        return dec_big(d, b, t);
    case TAG_LARGE_BIG:
        if ((rc = rd_u32(d, &u)))
            return rc;
        return dec_big(d, u, t);
    case TAG_PID:
    case TAG_NEW_PID:
        return dec_pid(d, tag, t);
    case TAG_PORT:
    case TAG_NEW_PORT:
    case TAG_V4_PORT:
        return dec_port(d, tag, t);
    case TAG_REF:
    case TAG_NEW_REF:
    case TAG_NEWER_REF:
        return dec_ref(d, tag, t);
    case TAG_EXPORT:
        return dec_export(d, t);
    case TAG_NEW_FUN:
        return dec_new_fun(d, t);
    default:
        /* COMPRESSED, ATOM_CACHE_REF, DIST headers, FUN_EXT, LOCAL_EXT, unknown */
        return BP_EDECODE;
    }
}

int bp_term_decode(const unsigned char *buf, size_t len, size_t *index, int versioned,
                   bp_arena *a, bp_term **out)
{
    if (out)
        *out = NULL;
    if (!index || !out || (!buf && len) || *index > len)
        return BP_EDECODE;
    if (!a)
        return BP_ENOMEM;
    dec d = { buf, len, *index, a };
    unsigned v;
    int rc;
    if (versioned && (rd_u8(&d, &v) != 0 || v != TAG_VERSION))
        return BP_EDECODE;
    /* decoded on the stack first so that a lie in the first header allocates nothing */
    bp_term tmp;
    memset(&tmp, 0, sizeof tmp);
    if ((rc = dec_term(&d, 0, &tmp)))
        return rc;
    bp_term *t = bp_arena_alloc(a, sizeof *t);
    if (!t)
        return BP_ENOMEM;
    *t = tmp;
    *index = d.pos;
    *out = t;
    return 0;
}

/* ---------- helpers ---------- */

int bp_term_is_atom(const bp_term *t, const char *name)
{
    if (!t || !name || t->type != BP_T_ATOM || !t->str)
        return 0;
    size_t n = strlen(name);
    return t->len == n && memcmp(t->str, name, n) == 0;
}

const bp_term *bp_term_elem(const bp_term *t, size_t i)
{
    if (!t || t->type != BP_T_TUPLE || i >= t->n || !t->items)
        return NULL;
    return &t->items[i];
}

int bp_term_is_tagged(const bp_term *t, const char *tag, size_t arity)
{
    return t && t->type == BP_T_TUPLE && arity > 0 && t->n == arity &&
           bp_term_is_atom(bp_term_elem(t, 0), tag);
}

const bp_term *bp_term_prop(const bp_term *list, const char *key)
{
    if (!list || !key)
        return NULL;
    if (list->type == BP_T_MAP && list->items) {
        for (size_t k = 0; k < list->n; k++)
            if (bp_term_is_atom(&list->items[2 * k], key))
                return &list->items[2 * k + 1];
        return NULL;
    }
    if (list->type != BP_T_LIST || !list->items)
        return NULL;
    for (size_t k = 0; k < list->n; k++) {
        const bp_term *e = &list->items[k];
        if (e->type == BP_T_TUPLE && e->n == 2 && bp_term_is_atom(&e->items[0], key))
            return &e->items[1];
    }
    return NULL;
}

int bp_term_int(const bp_term *t, int64_t *v)
{
    if (!t || t->type != BP_T_INT)
        return -1;
    if (v)
        *v = t->i;
    return 0;
}

/* A bounded writer: at most cap bytes of text, `full` once something was dropped. */
typedef struct {
    char *out;
    size_t cap;
    size_t pos;
    int full;
} wr;

static void w_put(wr *w, const char *s, size_t n)
{
    if (w->full || n == 0)
        return;
    size_t room = w->cap - w->pos;
    if (n > room) {
        memcpy(w->out + w->pos, s, room);
        w->pos = w->cap;
        w->full = 1;
        return;
    }
    memcpy(w->out + w->pos, s, n);
    w->pos += n;
}

static void w_str(wr *w, const char *s)
{
    w_put(w, s, strlen(s));
}

static void w_chr(wr *w, char c)
{
    w_put(w, &c, 1);
}

/* Latin-1 byte as UTF-8. */
static void w_latin1(wr *w, unsigned char c)
{
    if (c < 0x80) {
        w_chr(w, (char)c);
    } else {
        char u[2] = { (char)(0xC0 | (c >> 6)), (char)(0x80 | (c & 0x3F)) };
        w_put(w, u, 2);
    }
}

/* NUL-terminate; when truncated, end on a whole character, with "..." if dots. */
static size_t w_finish(wr *w, int dots)
{
    if (w->full) {
        size_t k = dots ? (w->cap < 3 ? w->cap : 3) : 0;
        size_t p = utf8_trim(w->out, w->cap - k);
        memcpy(w->out + p, "...", k);
        w->pos = p + k;
    }
    w->out[w->pos] = '\0';
    return w->pos;
}

int bp_term_text(const bp_term *t, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return -1;
    out[0] = '\0';
    if (!t)
        return -1;
    wr w = { out, outlen - 1, 0, 0 };
    switch (t->type) {
    case BP_T_ATOM:
    case BP_T_BINARY:
        if (t->len && !t->str)
            return -1;
        w_put(&w, t->str, t->len);
        break;
    case BP_T_STRING:
        if (t->len && !t->str)
            return -1;
        for (size_t k = 0; k < t->len && !w.full; k++)
            w_latin1(&w, (unsigned char)t->str[k]);
        break;
    case BP_T_NIL:
        break;
    case BP_T_LIST:
        if (t->tail || (t->n && !t->items))
            return -1;
        for (size_t k = 0; k < t->n; k++)
            if (t->items[k].type != BP_T_INT || t->items[k].i < 0 || t->items[k].i > 255)
                return -1;
        for (size_t k = 0; k < t->n && !w.full; k++)
            w_latin1(&w, (unsigned char)t->items[k].i);
        break;
    default:
        return -1;
    }
    w_finish(&w, 0);
    return 0;
}

static const char *const reserved[] = {
    "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor",
    "case", "catch", "cond", "div", "else", "end", "fun", "if", "let", "maybe", "not",
    "of", "or", "orelse", "receive", "rem", "try", "when", "xor"
};

/* Can the atom be printed without quotes? Latin-1 letters count as letters, as in Erlang. */
static int atom_bare(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t k = 0; k < n;) {
        uint32_t c;
        size_t l = utf8_seq(p + k, n - k, &c);
        if (l == 0)
            return 0;
        int lower = (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7);
        int other = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '@' ||
                    (c >= 0xC0 && c <= 0xDE && c != 0xD7);
        if (k == 0 ? !lower : !(lower || other))
            return 0;
        k += l;
    }
    if (n == 0)
        return 0;
    /* reserved words; "maybe" and "else" too, so the output also reads back where they are */
    for (size_t k = 0; k < sizeof reserved / sizeof reserved[0]; k++)
        if (strlen(reserved[k]) == n && memcmp(reserved[k], s, n) == 0)
            return 0;
    return 1;
}

/* One character of a quoted atom or string; bytes >= 0x80 are passed through. */
static void w_esc(wr *w, unsigned char c, char quote)
{
    char e[8];
    switch (c) {
    case '\n': w_str(w, "\\n"); return;
    case '\t': w_str(w, "\\t"); return;
    case '\r': w_str(w, "\\r"); return;
    case '\b': w_str(w, "\\b"); return;
    case '\f': w_str(w, "\\f"); return;
    case '\v': w_str(w, "\\v"); return;
    case 27: w_str(w, "\\e"); return;
    case '\\': w_str(w, "\\\\"); return;
    default: break;
    }
    if (quote && c == (unsigned char)quote) {
        char q[2] = { '\\', quote };
        w_put(w, q, 2);
    } else if (c < 0x20 || c == 0x7F) {
        snprintf(e, sizeof e, "\\x%02X", c);
        w_str(w, e);
    } else {
        w_chr(w, (char)c);
    }
}

static void w_atom(wr *w, const char *s, size_t n)
{
    if (!s)
        n = 0;
    if (atom_bare(s, n)) {
        w_put(w, s, n);
        return;
    }
    w_chr(w, '\'');
    for (size_t k = 0; k < n && !w->full; k++)
        w_esc(w, (unsigned char)s[k], '\'');
    w_chr(w, '\'');
}

static int esc_printable(unsigned char c)
{
    return (c >= 0x20 && c < 0x7F) || (c >= 8 && c <= 13) || c == 27;
}

/* Printable as "..." when every byte is printable ASCII, a common escape, or Latin-1 0xA0..0xFF. */
static int latin1_printable(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        if (!esc_printable(c) && c < 0xA0)
            return 0;
    }
    return 1;
}

/* 1: printable ASCII only, 2: printable with UTF-8, 0: not printable. */
static int utf8_printable(const char *s, size_t n)
{
    int kind = 1;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t k = 0; k < n;) {
        if (esc_printable(p[k])) {
            k++;
            continue;
        }
        uint32_t cp;
        size_t l = utf8_seq(p + k, n - k, &cp);
        if (l < 2 || cp < 0xA0)
            return 0;
        kind = 2;
        k += l;
    }
    return kind;
}

/* Text as is, except control characters, which are escaped (node names, fun descriptions). */
static void w_safe(wr *w, const char *s, size_t n)
{
    for (size_t k = 0; k < n && !w->full; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c < 0x20 || c == 0x7F)
            w_esc(w, c, 0);
        else
            w_chr(w, (char)c);
    }
}

static void w_i64(wr *w, int64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%" PRId64, v);
    w_str(w, b);
}

static void w_bytes(wr *w, const char *s, size_t n)
{
    for (size_t k = 0; k < n && !w->full; k++) {
        if (k)
            w_chr(w, ',');
        w_i64(w, (unsigned char)s[k]);
    }
}

/* Shortest round-trip form, laid out like Erlang's float_to_list(F, [short]). */
static void w_float(wr *w, double f)
{
    if (isnan(f)) {
        w_str(w, "nan");
        return;
    }
    if (isinf(f)) {
        w_str(w, f < 0 ? "-inf" : "inf");
        return;
    }
    char e[48];
    for (int prec = 0; prec <= 16; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, f);
        if (strtod(e, NULL) == f)
            break;
    }
    /* e is "[-]d[.ddd]e[+-]xx": split into sign, digits and exponent */
    char dg[24] = { '0' }; /* "%e" always writes a digit; "0" should it not */
    size_t nd = 0;
    int neg = e[0] == '-';
    const char *p = e + neg;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < sizeof dg)
            dg[nd++] = *p;
    int ex = *p == 'e' ? (int)strtol(p + 1, NULL, 10) : 0; /* "e+308" at most: no overflow */
    while (nd > 1 && dg[nd - 1] == '0')
        nd--;
    char exs[16];
    snprintf(exs, sizeof exs, "%d", ex);
    size_t sci_len = nd + 1 + (nd == 1) + 1 + strlen(exs);
    size_t fix_len;
    if (ex >= 0) {
        size_t ip = (size_t)ex + 1; /* integer digits, zero-padded past the significant ones */
        fix_len = ip + 1 + (nd > ip ? nd - ip : 1);
    } else {
        fix_len = 2 + (size_t)(-ex - 1) + nd;
    }
    if (neg)
        w_chr(w, '-');
    if (fabs(f) < 9007199254740992.0 && fix_len <= sci_len) {
        if (ex >= 0) {
            for (size_t k = 0; k <= (size_t)ex; k++)
                w_chr(w, k < nd ? dg[k] : '0');
            w_chr(w, '.');
            if (nd > (size_t)ex + 1)
                w_put(w, dg + ex + 1, nd - (size_t)ex - 1);
            else
                w_chr(w, '0');
        } else {
            w_str(w, "0.");
            for (int k = 0; k < -ex - 1; k++)
                w_chr(w, '0');
            w_put(w, dg, nd);
        }
    } else {
        w_chr(w, dg[0]);
        w_chr(w, '.');
        if (nd > 1)
            w_put(w, dg + 1, nd - 1);
        else
            w_chr(w, '0');
        w_chr(w, 'e');
        w_str(w, exs);
    }
}

static void w_term(wr *w, const bp_term *t);

static void w_seq(wr *w, const bp_term *items, size_t n)
{
    for (size_t k = 0; k < n && !w->full; k++) {
        if (k)
            w_chr(w, ',');
        w_term(w, &items[k]);
    }
}

static void w_binary(wr *w, const char *s, size_t n)
{
    int kind = n ? utf8_printable(s, n) : 0;
    w_str(w, "<<");
    if (kind) {
        w_chr(w, '"');
        for (size_t k = 0; k < n && !w->full; k++)
            w_esc(w, (unsigned char)s[k], '"');
        w_chr(w, '"');
        if (kind == 2)
            w_str(w, "/utf8");
    } else {
        w_bytes(w, s, n);
    }
    w_str(w, ">>");
}

static void w_term(wr *w, const bp_term *t)
{
    if (w->full || !t)
        return;
    const char *s = t->str ? t->str : "";
    size_t len = t->str ? t->len : 0;
    switch (t->type) {
    case BP_T_ATOM:
        w_atom(w, s, len);
        break;
    case BP_T_INT:
        w_i64(w, t->i);
        break;
    case BP_T_BIGINT:
        if (isfinite(t->f)) {
            char b[400];
            snprintf(b, sizeof b, "%.0f", t->f);
            w_str(w, b);
        } else {
            w_float(w, t->f);
        }
        break;
    case BP_T_FLOAT:
        w_float(w, t->f);
        break;
    case BP_T_BINARY:
        w_binary(w, s, len);
        break;
    case BP_T_BITSTR: {
        int64_t bits = t->i;
        if (bits <= 0 || len == 0 || ((uint64_t)bits + 7) / 8 != len || bits % 8 == 0) {
            w_binary(w, s, len);
            break;
        }
        unsigned rem = (unsigned)(bits % 8);
        w_str(w, "<<");
        w_bytes(w, s, len - 1);
        if (len > 1)
            w_chr(w, ',');
        w_i64(w, (unsigned char)s[len - 1] >> (8 - rem));
        w_chr(w, ':');
        w_i64(w, rem);
        w_str(w, ">>");
        break;
    }
    case BP_T_STRING:
        if (len == 0) {
            w_str(w, "[]");
        } else if (latin1_printable(s, len)) {
            w_chr(w, '"');
            for (size_t k = 0; k < len && !w->full; k++) {
                unsigned char c = (unsigned char)s[k];
                if (c >= 0x80)
                    w_latin1(w, c);
                else
                    w_esc(w, c, '"');
            }
            w_chr(w, '"');
        } else {
            w_chr(w, '[');
            w_bytes(w, s, len);
            w_chr(w, ']');
        }
        break;
    case BP_T_NIL:
        w_str(w, "[]");
        break;
    case BP_T_LIST:
        w_chr(w, '[');
        if (t->items)
            w_seq(w, t->items, t->n);
        if (t->tail) {
            w_chr(w, '|');
            w_term(w, t->tail);
        }
        w_chr(w, ']');
        break;
    case BP_T_TUPLE:
        w_chr(w, '{');
        if (t->items)
            w_seq(w, t->items, t->n);
        w_chr(w, '}');
        break;
    case BP_T_MAP:
        w_str(w, "#{");
        for (size_t k = 0; t->items && k < t->n && !w->full; k++) {
            if (k)
                w_chr(w, ',');
            w_term(w, &t->items[2 * k]);
            w_str(w, " => ");
            w_term(w, &t->items[2 * k + 1]);
        }
        w_chr(w, '}');
        break;
    case BP_T_PID:
        w_chr(w, '<');
        w_safe(w, s, len);
        w_chr(w, '.');
        w_i64(w, t->i);
        w_chr(w, '.');
        w_i64(w, t->serial);
        w_chr(w, '>');
        break;
    case BP_T_PORT:
        w_str(w, "#Port<");
        w_safe(w, s, len);
        w_chr(w, '.');
        w_i64(w, t->i);
        w_chr(w, '>');
        break;
    case BP_T_REF:
        w_str(w, "#Ref<");
        w_safe(w, s, len);
        w_chr(w, '>');
        break;
    case BP_T_FUN:
        if (len)
            w_safe(w, s, len);
        else
            w_str(w, "#Fun<>");
        break;
    default:
        w_str(w, "?");
        break;
    }
}

size_t bp_term_format(const bp_term *t, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return 0;
    wr w = { out, outlen - 1, 0, 0 };
    w_term(&w, t);
    return w_finish(&w, 1);
}

/* fuzz_term.c: libFuzzer harness for the external term decoder and its printers (dist/term.c). */
/*
 * Built by `make -C c_src FUZZ=1 fuzzers`, run by `make fuzz` (scripts/fuzz.sh).
 * The first input byte picks the options; the rest is the term.
 */
#include "beamprobe.h"
#include "core/arena.h"
#include "dist/term.h"
#include "fuzz.h"

/* Structural invariants of a decoded tree; returns the depth of containers. */
static unsigned walk(const bp_term *t)
{
    unsigned deepest = 0;
    switch (t->type) {
    case BP_T_ATOM:
    case BP_T_BINARY:
    case BP_T_STRING:
    case BP_T_BITSTR:
        CHECK(t->str && t->str[t->len] == '\0');
        if (t->type == BP_T_ATOM)
            CHECK(strlen(t->str) <= t->len);
        break;
    case BP_T_PID:
    case BP_T_PORT:
    case BP_T_REF:
        CHECK(t->str && t->str[t->len] == '\0');
        break;
    case BP_T_LIST:
    case BP_T_TUPLE:
    case BP_T_MAP: {
        size_t n = t->type == BP_T_MAP ? 2 * t->n : t->n;
        CHECK(n == 0 || t->items);
        if (t->type == BP_T_LIST) {
            CHECK(t->n > 0);
            if (t->tail) {
                CHECK(t->tail->type != BP_T_LIST && t->tail->type != BP_T_NIL &&
                      t->tail->type != BP_T_STRING);
                deepest = walk(t->tail);
            }
        } else {
            CHECK(!t->tail);
        }
        for (size_t k = 0; k < n; k++) {
            unsigned d = walk(&t->items[k]);
            if (d > deepest)
                deepest = d;
        }
        return deepest + 1;
    }
    default:
        break;
    }
    return deepest;
}

static void print_all(const bp_term *t)
{
    static const size_t sizes[] = { 0, 1, 2, 3, 4, 5, 17, 256, 65536 };
    static char out[65536 + 8];
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t outlen = sizes[k];
        memset(out, 'Z', outlen + 8);
        size_t n = bp_term_format(t, out, outlen);
        for (size_t j = outlen; j < outlen + 8; j++)
            CHECK(out[j] == 'Z');
        if (outlen == 0) {
            CHECK(n == 0 && out[0] == 'Z');
            continue;
        }
        CHECK(n < outlen && strlen(out) == n);
        int rc = bp_term_text(t, out, outlen);
        CHECK(rc == 0 || rc == -1);
        CHECK(strlen(out) < outlen);
    }
    int64_t v;
    (void)bp_term_int(t, &v);
    (void)bp_term_prop(t, "a");
    (void)bp_term_is_tagged(t, "a", 2);
    (void)bp_term_elem(t, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned opt = data[0];
    data++;
    size--;
    int versioned = opt & 1;
    size_t cap = (opt & 2) ? 4096 : (size_t)4 << 20;
    bp_arena *a = bp_arena_new(cap);
    if (!a)
        return 0;
    size_t idx = 0;
    /* unversioned: decode consecutive terms until the input ends or fails */
    for (int rounds = 0; rounds < 8 && idx < size; rounds++) {
        size_t before = idx;
        bp_term *t = (bp_term *)&before;
        int rc = bp_term_decode(data, size, &idx, versioned, a, &t);
        if (rc != 0) {
            CHECK(rc == BP_EDECODE || rc == BP_ENOMEM);
            CHECK(idx == before && t == NULL);
            break;
        }
        CHECK(t && idx > before && idx <= size);
        CHECK(walk(t) <= BP_TERM_MAX_DEPTH);
        print_all(t);
    }
    bp_arena_free(a);
    return 0;
}

/* term.h: bounded decoder of Erlang external terms into a small tree (never trusts wire lengths). */
#ifndef BP_TERM_H
#define BP_TERM_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

/*
 * ei's ei_decode_* functions take no buffer length, so a truncated or lying
 * term makes them read past the end. Every reply from a target goes through
 * this decoder instead: every length is checked against the bytes left, the
 * nesting depth and the total memory are capped, and the result is a plain
 * tree allocated from an arena that the caller frees in one call.
 */

typedef enum {
    BP_T_ATOM,    /* str */
    BP_T_INT,     /* i (small, integer and bignums that fit in int64) */
    BP_T_BIGINT,  /* a bignum that does not fit in int64: f holds an approximation */
    BP_T_FLOAT,   /* f */
    BP_T_BINARY,  /* str (bytes, NUL-terminated copy; len excludes the NUL) */
    BP_T_STRING,  /* STRING_EXT: a list of bytes 0..255, as str */
    BP_T_NIL,     /* [] */
    BP_T_LIST,    /* items/n, tail (NULL when proper) */
    BP_T_TUPLE,   /* items/n */
    BP_T_MAP,     /* items/n: 2n items, key0, val0, key1, val1, ... */
    BP_T_PID,     /* node (str), id, serial */
    BP_T_PORT,    /* node (str), id */
    BP_T_REF,     /* node (str) */
    BP_T_FUN,     /* any fun or export; str holds a printable description ("fun m:f/2") */
    BP_T_BITSTR   /* bitstring that is not a whole number of bytes: str holds the bytes, i the bits */
} bp_term_type;

typedef struct bp_term bp_term;
struct bp_term {
    bp_term_type type;
    /* BP_T_ATOM, BP_T_BINARY, BP_T_STRING, BP_T_BITSTR; node name for PID/PORT/REF */
    const char *str;
    size_t len;
    int64_t i;           /* BP_T_INT; id for PID/PORT */
    int64_t serial;      /* BP_T_PID */
    uint32_t creation;   /* BP_T_PID, BP_T_PORT, BP_T_REF: node incarnation (needed to send a pid back) */
    double f;            /* BP_T_FLOAT, BP_T_BIGINT (approximate) */
    bp_term *items;      /* LIST, TUPLE, MAP */
    size_t n;            /* number of items (MAP: number of pairs) */
    bp_term *tail;       /* LIST: improper tail, NULL if proper */
};

#define BP_TERM_MAX_DEPTH 64

/*
 * Decode one term from buf[*index .. len). If `versioned`, a version byte 131
 * must come first. On success *out points into the arena, *index is advanced
 * past the term and 0 is returned; otherwise BP_EDECODE (malformed,
 * truncated, too deep, unsupported tag such as compressed or atom-cache
 * references) or BP_ENOMEM (arena cap) and *index is left unchanged.
 */
int bp_term_decode(const unsigned char *buf, size_t len, size_t *index, int versioned,
                   bp_arena *a, bp_term **out);

/* Helpers over decoded trees. All accept NULL and return "no" for it. */
int bp_term_is_atom(const bp_term *t, const char *name);
/* Element i of a tuple, or NULL. */
const bp_term *bp_term_elem(const bp_term *t, size_t i);
/* Tuple of arity n whose first element is the atom `tag`? */
int bp_term_is_tagged(const bp_term *t, const char *tag, size_t arity);
/* For a proplist (list of 2-tuples {atom, V}), the value for key, or NULL. */
const bp_term *bp_term_prop(const bp_term *list, const char *key);
/* Integer value of an INT term into *v; returns 0 or -1 if not an integer. */
int bp_term_int(const bp_term *t, int64_t *v);
/*
 * Text of a term that is textual (atom, binary, STRING_EXT, or a proper list
 * of integers 0..255, or []) into out (always NUL-terminated, truncated to
 * outlen-1). Returns 0, or -1 if the term is not textual.
 */
int bp_term_text(const bp_term *t, char *out, size_t outlen);
/*
 * Print any term in Erlang syntax into out, truncated with "..." to outlen-1
 * bytes. Always NUL-terminates. Returns the number of bytes written.
 */
size_t bp_term_format(const bp_term *t, char *out, size_t outlen);

#endif

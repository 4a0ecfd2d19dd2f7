/* deflate.h: compress an external term the way term_to_binary(T, [compressed]) does (zlib, read by any node's binary_to_term). */
#ifndef BP_DEFLATE_H
#define BP_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

#include <ei.h>

/*
 * Append to x the compressed form of the external term term[0..len) (no version byte): tag 80,
 * len as 4 bytes, then a zlib stream (one block of fixed Huffman codes over a greedy LZ77 parse,
 * RFC 1950/1951). binary_to_term on any OTP release decodes <<131, 80, ...>> as the term itself.
 * Returns 0; 1 when the compressed form would not be smaller (x untouched); BP_ENOMEM.
 */
int bp_deflate_term(const unsigned char *term, size_t len, ei_x_buff *x);

/* Adler-32 of d[0..n) continuing from a (1 to start), as zlib's trailer has it. */
uint32_t bp_adler32(uint32_t a, const unsigned char *d, size_t n);

#endif

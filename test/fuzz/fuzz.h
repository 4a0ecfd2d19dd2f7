/* fuzz.h: what every libFuzzer target of test/fuzz/ shares: the entry point and invariant checks. */
#ifndef BP_FUZZ_H
#define BP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant: abort (a crash libFuzzer reports, with the input) when it does not hold. */
#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* Whether [p, p + n) lies inside [buf, buf + len). */
static inline int fuzz_within(const void *p, size_t n, const void *buf, size_t len)
{
    const char *q = p, *b = buf;
    return q >= b && q <= b + len && n <= (size_t)(b + len - q);
}

/* Whether s is NUL-terminated within cap bytes. */
static inline int fuzz_terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

/* A heap copy of data[0..size) with a NUL after it (for the parsers that want C strings); NULL on failure. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s) {
        if (size)
            memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

#endif

/* challenge.c: the node name a node states in its distribution handshake challenge. */
#include "dist/challenge.h"

#include <stdint.h>
#include <string.h>

/* Length of the packet at hs[*at], its body at *body; -1 if incomplete. */
static int next_packet(const unsigned char *hs, size_t len, size_t header, size_t *at, const unsigned char **body,
                       size_t *blen)
{
    if (len - *at < header)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < header; i++)
        n = (n << 8) | hs[*at + i];
    if (n > len - *at - header)
        return -1;
    *body = hs + *at + header;
    *blen = n;
    *at += header + n;
    return 0;
}

/* A node name: no control characters or spaces, one '@' neither first nor last. */
static int plausible(const unsigned char *p, size_t n)
{
    const unsigned char *at = memchr(p, '@', n);
    if (!at || at == p || at == p + n - 1 || memchr(at + 1, '@', n - (size_t)(at - p) - 1))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] <= 0x20 || p[i] == 0x7f)
            return 0;
    return 1;
}

int bp__challenge_name(const unsigned char *hs, size_t len, size_t header, char *out, size_t outlen)
{
    size_t at = 0, blen = 0;
    const unsigned char *b = NULL;
    if (header == 0 || header > 4 || next_packet(hs, len, header, &at, &b, &blen) != 0 || blen < 1 || b[0] != 's')
        return -1;
    if (next_packet(hs, len, header, &at, &b, &blen) != 0 || blen < 1)
        return -1;
    const unsigned char *name;
    size_t n;
    if (b[0] == 'n' && blen >= 11) { /* 'n', version:16, flags:32, challenge:32, name */
        name = b + 11;
        n = blen - 11;
    } else if (b[0] == 'N' && blen >= 19) { /* 'N', flags:64, challenge:32, creation:32, nlen:16, name */
        n = ((size_t)b[17] << 8) | b[18];
        if (n > blen - 19)
            return -1;
        name = b + 19;
    } else {
        return -1;
    }
    if (n == 0 || n >= outlen || !plausible(name, n))
        return -1;
    memcpy(out, name, n);
    out[n] = '\0';
    return 0;
}

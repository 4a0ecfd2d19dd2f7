/* token_file.c: load the HTTP bearer token from a private file, strictly: never truncated, never loosely trimmed. */
#include "core/token_file.h"

#include <stdio.h>
#include <string.h>

#include "beamprobe.h"
#include "core/secret_file.h"

static const bp_secret_kind token_kind = { .what = "--auth-token-file", .chmod = "600", .open_hint = NULL };

int bp_token_check(const char *path, const char *buf, size_t len, size_t *tok_len, char *err, size_t errlen)
{
    if (len > 0 && buf[len - 1] == '\n') /* one line end: "\n" or "\r\n" */
        len -= len > 1 && buf[len - 2] == '\r' ? 2 : 1;
    if (len == 0) {
        snprintf(err, errlen, "--auth-token-file %s is empty", path);
        return BP_EUSAGE;
    }
    if (len > BP_TOKEN_MAX) {
        snprintf(err, errlen, "--auth-token-file %s: the token is longer than %d bytes", path, BP_TOKEN_MAX);
        return BP_EUSAGE;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)buf[i];
        const char *what = ch == '\0' ? "a NUL byte" : ch == '\r' || ch == '\n' ? "a line break (CR or LF)"
                         : ch < 0x20 || ch == 0x7f ? "a control character" : NULL;
        if (what) {
            snprintf(err, errlen, "--auth-token-file %s: the token contains %s at byte %zu; it must be one line "
                     "of printable characters (one trailing newline is allowed)", path, what, i);
            return BP_EUSAGE;
        }
    }
    if (buf[0] == ' ' || buf[len - 1] == ' ') {
        snprintf(err, errlen, "--auth-token-file %s: the token starts or ends with a space, which HTTP strips "
                 "from the Authorization header", path);
        return BP_EUSAGE;
    }
    *tok_len = len;
    return 0;
}

int bp_token_file_load(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
    char buf[BP_TOKEN_MAX + 3]; /* the token, "\r\n", and a byte to tell "too long" */
    size_t n, tok;
    int more, rc = BP_EUSAGE;
    if (outlen < BP_TOKEN_MAX + 1) {
        snprintf(err, errlen, "bp_token_file_load: the output buffer is too small");
        return rc;
    }
    if (bp_secret_file_read(path, &token_kind, buf, sizeof buf - 1, &n, &more, err, errlen) != 0)
        goto out;
    if (more) {
        snprintf(err, errlen, "--auth-token-file %s: the token is longer than %d bytes", path, BP_TOKEN_MAX);
        goto out;
    }
    if ((rc = bp_token_check(path, buf, n, &tok, err, errlen)) != 0)
        goto out;
    memcpy(out, buf, tok);
    out[tok] = '\0';
out:
    explicit_bzero(buf, sizeof buf);
    return rc;
}

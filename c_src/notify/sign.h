/* sign.h: the X-Beamprobe-Signature of a webhook body: "sha256=" and the hex HMAC-SHA256 keyed by the secret. */
#ifndef BP_NOTIFY_SIGN_H
#define BP_NOTIFY_SIGN_H

#include <stddef.h>

#define BP_SIGNATURE_LEN 72 /* "sha256=" + 64 hex digits + NUL */

/* Write "sha256=<hex>" of HMAC-SHA256(key, body) into out. 0, or -1 when OpenSSL fails (out is then ""). */
int bp_notify_sign(const void *key, size_t keylen, const void *body, size_t len, char out[BP_SIGNATURE_LEN]);

#endif

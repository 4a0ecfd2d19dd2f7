/* post.h: one HTTP(S) POST of a JSON body through libcurl (curl_lazy), bounded in time and abortable. */
#ifndef BP_NOTIFY_POST_H
#define BP_NOTIFY_POST_H

#include <stdatomic.h>
#include <stddef.h>

typedef struct {
    const char *url;
    const char *body;
    size_t len;
    const char *bearer;        /* Authorization: Bearer <bearer>, or NULL */
    const char *signature;     /* X-Beamprobe-Signature: <signature>, or NULL */
    const char *ca_file;       /* PEM CA bundle for https, or NULL for the system's */
    const atomic_int *abort;   /* nonzero: give up at once (shutdown); may be NULL */
    long connect_timeout_ms, timeout_ms;
} bp_post;

/* POST it; 0 on a 2xx answer, else -1 with why in err (never the bearer token or the secret). */
int bp_notify_post(const bp_post *p, char *err, size_t errlen);

#endif

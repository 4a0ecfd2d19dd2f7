/* post.c: one HTTP(S) POST of a JSON body through libcurl (curl_lazy), bounded in time and abortable. */
#include "notify/post.h"

#include <stdio.h>
#include <string.h>

#include "core/token_file.h"
#include "discover/curl_lazy.h"
#include "notify/sign.h"

/* The answer's body is not needed. */
static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

/* Called by libcurl while it works: a nonzero return aborts the transfer. */
static int progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    const atomic_int *abort = ctx;
    return abort && atomic_load(abort) ? 1 : 0;
}

int bp_notify_post(const bp_post *p, char *err, size_t errlen)
{
    const char *why = NULL;
    const bp_curl_api *c = bp_curl(&why);
    if (!c) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    CURL *h = c->easy_init();
    if (!h) {
        snprintf(err, errlen, "curl_easy_init failed");
        return -1;
    }
    char auth[BP_TOKEN_MAX + 32], sig[BP_SIGNATURE_LEN + 32];
    struct curl_slist *hdr = c->slist_append(NULL, "Content-Type: application/json");
    if (hdr && p->bearer) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", p->bearer);
        hdr = c->slist_append(hdr, auth);
    }
    if (hdr && p->signature) {
        snprintf(sig, sizeof sig, "X-Beamprobe-Signature: %s", p->signature);
        hdr = c->slist_append(hdr, sig);
    }
    c->easy_setopt(h, CURLOPT_URL, p->url);
    c->easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    c->easy_setopt(h, CURLOPT_POSTFIELDS, p->body);
    c->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len);
    c->easy_setopt(h, CURLOPT_USERAGENT, "beamprobe");
    c->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    c->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, p->connect_timeout_ms);
    c->easy_setopt(h, CURLOPT_TIMEOUT_MS, p->timeout_ms);
    c->easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    c->easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    c->easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress);
    c->easy_setopt(h, CURLOPT_XFERINFODATA, (void *)p->abort);
    if (p->ca_file)
        c->easy_setopt(h, CURLOPT_CAINFO, p->ca_file);
    int rc = -1;
    long status = 0;
    CURLcode cc = hdr ? c->easy_perform(h) : CURLE_OUT_OF_MEMORY;
    if (cc != CURLE_OK)
        snprintf(err, errlen, "%s", c->easy_strerror(cc));
    else if (c->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status < 200 || status > 299)
        snprintf(err, errlen, "HTTP status %ld", status);
    else
        rc = 0;
    c->slist_free_all(hdr);
    c->easy_cleanup(h);
    explicit_bzero(auth, sizeof auth);
    return rc;
}

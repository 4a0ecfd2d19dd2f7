/* curl_lazy.h: libcurl loaded on first use (dlopen), so commands that never call the Kubernetes API do not pay its start-up cost. */
#ifndef BP_CURL_LAZY_H
#define BP_CURL_LAZY_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

/* The libcurl functions beamprobe uses. */
typedef struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *h);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *h);
    const char *(*easy_strerror)(CURLcode c);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
} bp_curl_api;

/*
 * Load libcurl (libcurl.so.4) and run curl_global_init once, thread-safely.
 * Returns the function table, or NULL when libcurl is missing or failed to
 * initialise (why says which).
 */
const bp_curl_api *bp_curl(const char **why);

#endif

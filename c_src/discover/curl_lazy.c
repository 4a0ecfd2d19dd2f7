/* curl_lazy.c: libcurl loaded on first use (dlopen), so commands that never call the Kubernetes API do not pay its start-up cost. */
#include "discover/curl_lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bp_curl_api api;
static const char *failure = "not loaded";

/* dlsym into a function pointer (ISO C has no direct cast from void * to a function pointer). */
#define LOAD(field, name)                                          \
    do {                                                           \
        void *sym = dlsym(lib, name);                              \
        if (!sym) {                                                \
            failure = "libcurl lacks " name;                       \
            return;                                                \
        }                                                          \
        *(void **)(void *)&api.field = sym;                        \
    } while (0)

static void load(void)
{
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        failure = "libcurl.so.4 not found (install libcurl4)";
        return;
    }
    LOAD(global_init, "curl_global_init");
    LOAD(easy_init, "curl_easy_init");
    LOAD(easy_setopt, "curl_easy_setopt");
    LOAD(easy_perform, "curl_easy_perform");
    LOAD(easy_getinfo, "curl_easy_getinfo");
    LOAD(easy_cleanup, "curl_easy_cleanup");
    LOAD(easy_strerror, "curl_easy_strerror");
    LOAD(slist_append, "curl_slist_append");
    LOAD(slist_free_all, "curl_slist_free_all");
    if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        failure = "curl_global_init failed";
        return;
    }
    failure = NULL;
}

const bp_curl_api *bp_curl(const char **why)
{
    pthread_once(&once, load);
    if (why)
        *why = failure;
    return failure ? NULL : &api;
}

/* resolve.c: host name to an IPv4 or IPv6 address, and any blocking call, under a deadline via a detached thread. */
#include "dist/resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "beamprobe.h"
#include "core/clock.h"

/*
 * One call on a detached thread. The worker and the caller each hold a
 * reference and the last one frees, so a caller that gave up leaves the
 * worker to finish and clean up alone.
 */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;    /* caller + worker; the last one frees */
    int done;    /* fn has returned */
    int gave_up; /* the caller left at the deadline: arg is the worker's to free */
    atomic_int abandoned;
    void (*fn)(void *arg, const atomic_int *abandoned);
    void *arg;
    void (*free_arg)(void *);
} job;

static void job_release(job *j)
{
    pthread_mutex_lock(&j->mu);
    int last = --j->refs == 0;
    int free_arg = last && j->gave_up;
    pthread_mutex_unlock(&j->mu);
    if (last) {
        if (free_arg && j->free_arg)
            j->free_arg(j->arg);
        pthread_mutex_destroy(&j->mu);
        pthread_cond_destroy(&j->cv);
        free(j);
    }
}

static void *job_worker(void *p)
{
    job *j = p;
    j->fn(j->arg, &j->abandoned);
    pthread_mutex_lock(&j->mu);
    j->done = 1;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    job_release(j);
    return NULL;
}

int bp__run_by_deadline(void (*fn)(void *arg, const atomic_int *abandoned), void *arg, void (*free_arg)(void *),
                        int64_t deadline_ms)
{
    job *j = calloc(1, sizeof *j);
    if (!j) {
        if (free_arg)
            free_arg(arg);
        return BP_ENOMEM;
    }
    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&j->abandoned, 0);
    j->fn = fn;
    j->arg = arg;
    j->free_arg = free_arg;
    j->refs = 2;

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int prc = pthread_create(&t, &attr, job_worker, j);
    pthread_attr_destroy(&attr);
    if (prc != 0) {
        j->refs = 1;
        j->gave_up = 1;
        job_release(j);
        return BP_ENOMEM;
    }

    struct timespec until = { .tv_sec = (time_t)(deadline_ms / 1000),
                              .tv_nsec = (long)(deadline_ms % 1000) * 1000000L };
    int rc = 0;
    pthread_mutex_lock(&j->mu);
    while (!j->done)
        if (pthread_cond_timedwait(&j->cv, &j->mu, &until) == ETIMEDOUT)
            break;
    if (!j->done) {
        atomic_store(&j->abandoned, 1);
        j->gave_up = 1;
        rc = BP_ETIMEDOUT;
    }
    pthread_mutex_unlock(&j->mu);
    job_release(j);
    return rc;
}

/* ---- host name to address ---- */

typedef struct {
    int rc;
    int family;
    bp__addr addr;
    char host[256];
} resolve_call;

/* The first address of the wanted family; with AF_UNSPEC the first IPv4 one, else the first IPv6 one. */
static void resolve_fn(void *arg, const atomic_int *abandoned)
{
    resolve_call *c = arg;
    (void)abandoned;
    struct addrinfo hints = { .ai_family = c->family, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL, *pick = NULL;
    c->rc = BP_ERESOLVE;
    if (getaddrinfo(c->host, NULL, &hints, &res) != 0)
        return;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        if (!a->ai_addr || a->ai_addrlen > sizeof c->addr.ss)
            continue;
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
        if (a->ai_family == AF_INET6 && !pick)
            pick = a;
    }
    if (pick) {
        memcpy(&c->addr.ss, pick->ai_addr, pick->ai_addrlen);
        c->addr.len = (socklen_t)pick->ai_addrlen;
        c->rc = 0;
    }
    freeaddrinfo(res);
}

int bp__resolve_addr(const char *host, int family, int64_t deadline_ms, bp__addr *out)
{
    struct in_addr a4;
    struct in6_addr a6;
    memset(out, 0, sizeof *out);
    if (family != AF_INET6 && inet_pton(AF_INET, host, &a4) == 1) {
        *out = bp__addr_ipv4(a4);
        return 0;
    }
    if (family != AF_INET && inet_pton(AF_INET6, host, &a6) == 1) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&out->ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = a6;
        out->len = sizeof *sin6;
        return 0;
    }
    if (strlen(host) >= sizeof ((resolve_call *)0)->host)
        return BP_ERESOLVE;

    resolve_call *c = calloc(1, sizeof *c);
    if (!c)
        return BP_ENOMEM;
    snprintf(c->host, sizeof c->host, "%s", host);
    c->family = family;
    int rc = bp__run_by_deadline(resolve_fn, c, free, deadline_ms);
    if (rc)
        return rc; /* c is gone */
    rc = c->rc;
    if (rc == 0)
        *out = c->addr;
    free(c);
    return rc;
}

int bp__resolve_ipv4(const char *host, int64_t deadline_ms, struct in_addr *out)
{
    bp__addr a;
    int rc = bp__resolve_addr(host, AF_INET, deadline_ms, &a);
    if (rc == 0)
        *out = ((const struct sockaddr_in *)(const void *)&a.ss)->sin_addr;
    return rc;
}

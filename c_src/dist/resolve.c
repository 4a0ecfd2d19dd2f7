/* resolve.c: host name to IPv4 address under a deadline, via a detached getaddrinfo thread. */
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

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;   /* caller + worker; the last one frees */
    int done;
    int rc;
    struct in_addr addr;
    char host[256];
} job;

static void job_release(job *j)
{
    pthread_mutex_lock(&j->mu);
    int last = --j->refs == 0;
    pthread_mutex_unlock(&j->mu);
    if (last) {
        pthread_mutex_destroy(&j->mu);
        pthread_cond_destroy(&j->cv);
        free(j);
    }
}

static void *resolve_worker(void *arg)
{
    job *j = arg;
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(j->host, NULL, &hints, &res);
    pthread_mutex_lock(&j->mu);
    if (rc == 0 && res && res->ai_addr) {
        j->addr = ((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr;
        j->rc = 0;
    } else {
        j->rc = BP_ERESOLVE;
    }
    j->done = 1;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (res)
        freeaddrinfo(res);
    job_release(j);
    return NULL;
}

int bp__resolve_ipv4(const char *host, int64_t deadline_ms, struct in_addr *out)
{
    if (inet_pton(AF_INET, host, out) == 1)
        return 0;
    if (strlen(host) >= sizeof ((job *)0)->host)
        return BP_ERESOLVE;

    job *j = calloc(1, sizeof *j);
    if (!j)
        return BP_ENOMEM;
    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    snprintf(j->host, sizeof j->host, "%s", host);
    j->refs = 2;

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int prc = pthread_create(&t, &attr, resolve_worker, j);
    pthread_attr_destroy(&attr);
    if (prc != 0) {
        j->refs = 1;
        job_release(j);
        return BP_ENOMEM;
    }

    struct timespec until = { .tv_sec = (time_t)(deadline_ms / 1000),
                              .tv_nsec = (long)(deadline_ms % 1000) * 1000000L };
    int rc;
    pthread_mutex_lock(&j->mu);
    while (!j->done) {
        if (pthread_cond_timedwait(&j->cv, &j->mu, &until) == ETIMEDOUT && !j->done)
            break;
    }
    if (j->done) {
        rc = j->rc;
        if (rc == 0)
            *out = j->addr;
    } else {
        rc = BP_ETIMEDOUT;
    }
    pthread_mutex_unlock(&j->mu);
    job_release(j);
    return rc;
}

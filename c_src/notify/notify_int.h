/* notify_int.h: internals shared by notifier.c (state, producer side, start/stop, metrics) and worker.c (the worker thread). */
#ifndef BP_NOTIFY_INT_H
#define BP_NOTIFY_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/token_file.h"
#include "notify/alert.h"
#include "notify/notify.h"
#include "notify/queue.h"

#define URL_MAX (BP_NAME_MAX + 32)
#define CONNECT_TIMEOUT_MS 2000L
#define POST_TIMEOUT_MS 5000L
#define VALID_RESENDS 4 /* a firing alert's endsAt lies this many resend intervals ahead */

/* A receiver of POSTs: an Alertmanager or a webhook. */
typedef struct {
    int alertmanager;        /* else a webhook */
    char url[URL_MAX];       /* where to POST */
    char label[URL_MAX];     /* the receiver label: the URL without user info or query */
    atomic_uint_fast64_t sent, failed;
    int down;                /* worker only: the last attempt failed (logged once) */
} receiver;

/* One POST to one receiver, with its retries. */
typedef struct {
    size_t rcv;
    char *body;
    size_t len;
    unsigned attempts;       /* made so far */
    int64_t due_ms;          /* monotonic: not before */
} delivery;

/* What a report changed, copied from the site. */
typedef struct {
    char node[BP_NAME_MAX];
    bp_failing *failing;
    size_t n_failing;
    bp_transition *tr;
    size_t n_tr;
    int forget;              /* bp_notifier_forget: node is a target that left */
} event;

struct bp_notifier {
    receiver *rcv;
    size_t n_rcv, n_am, n_hook;
    char bearer[BP_TOKEN_MAX + 1];
    int have_bearer;
    char secret[BP_TOKEN_MAX + 1];
    size_t secret_len;
    char ca_file[1024];
    char generator_url[URL_MAX];
    int64_t resend_ms;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    bp_nqueue inbox;         /* events (guarded by mu) */
    bp_nqueue outbox;        /* deliveries (worker only) */
    atomic_int stopping;
    atomic_uint_fast64_t dropped;
    pthread_t thread;
    int started;
    bp_alert_list firing;    /* worker only */
    int64_t next_resend_ms;  /* worker only: monotonic, 0 = nothing firing */
};

void bp__notify_event_free(void *e);
void bp__notify_delivery_free(void *d);
/* The worker thread's body (arg: the notifier): until n->stopping. */
void *bp__notify_worker(void *arg);

#endif

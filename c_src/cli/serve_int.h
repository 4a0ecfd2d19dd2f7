/* serve_int.h: the state `beamprobe serve` shares between serve.c (start, reload) and serve_discovery.c (discovery). */
#ifndef BP_SERVE_INT_H
#define BP_SERVE_INT_H

#include <pthread.h>

#include "beamprobe.h"
#include "core/config.h"
#include "core/token_file.h"
#include "discover/sources.h"
#include "dist/cookie.h"
#include "dist/monitor.h"
#include "http/server.h"
#include "http/site.h"
#include "notify/notify.h"

typedef struct {
    int argc;
    char **argv;             /* kept: argv overrides the file again on every reload */
    bp_config cfg;           /* written under disc_mu */
    char cookie[BP_COOKIE_MAX + 1];
    char token[BP_TOKEN_MAX + 1]; /* --auth-token-file's token ("" without): every new site needs it */
    pthread_rwlock_t lock;   /* the HTTP thread reads `site`; an apply swaps it */
    bp_site *site;           /* owns the targets (bp_site_targets) */
    bp_monitors *monitors;   /* one per target of `site`, publishing to it */
    bp_http_server *http;
    bp_notifier *notifier;   /* NULL without --alertmanager and --notify-webhook */
    /* Discovery: the sources, their thread, and one apply (new site, probes) at a time. The
     * discovery thread holds disc_mu through a round (network included), a reload through
     * its whole work; the HTTP thread never takes it. */
    pthread_mutex_t disc_mu;
    pthread_cond_t disc_wake;  /* to the discovery thread: stop, or the schedule changed */
    bp_sources sources;
    int disc_stop;
    int have_disc_thread;
    pthread_t disc_thread;
} bp__serve;

/*
 * Ask the sources of s (every one when all, else those due) with c's
 * settings, record each answer and log failures and recoveries (rate-limited).
 * With fatal set (start), a configuration error of a source (bad option,
 * unreadable file, more nodes than the cap) stops at once: -1 with the
 * message in err. Else 1 when some source's nodes changed, 0 when none did.
 */
int bp__serve_ask(const bp_config *c, bp_sources *s, int all, int fatal, char *err, size_t errlen);

/*
 * Install a site for c over targets and restart the probes (the views of the
 * targets that stay are kept, removed targets' alerts resolve); a->cfg
 * becomes *c. The caller holds disc_mu. 0, or -1 (out of memory: the running
 * site and configuration are kept).
 */
int bp__serve_apply(bp__serve *a, const bp_config *c, const bp_nodeset *targets, const char *event);

/* Start the discovery thread (when a->sources has any source): 0 or -1. */
int bp__serve_discovery_start(bp__serve *a);
/* Stop it (waits for an attempt in flight, at most --timeout). */
void bp__serve_discovery_stop(bp__serve *a);
/* The schedule changed (a reload): the thread looks again. The caller holds disc_mu. */
void bp__serve_discovery_poke(bp__serve *a);

#endif

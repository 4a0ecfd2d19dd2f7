/* ssl_lazy.h: loading OpenSSL up front, for the commands that will need it (cli/ssl_lazy.c; cli/ssl_linked.c when it is linked in). */
#ifndef BP_SSL_LAZY_H
#define BP_SSL_LAZY_H

#include <stddef.h>

#include "core/config.h"

/*
 * Loads OpenSSL now (once; later calls only report the outcome): 0, or -1 with "WHY needs
 * OpenSSL, which cannot be loaded: REASON (install libssl3)" in err. A command that will need
 * OpenSSL calls it before its first step, so that a missing library is an error at start, never
 * an exit in mid-run (ssl_lazy.c's forwarders exit when the library cannot be loaded).
 */
int bp_ssl_require(const char *why, char *err, size_t errlen);

/* The option that makes a check or cluster run need OpenSSL ("--dist-tls"), or NULL: it needs none. */
static inline const char *bp_ssl_needed_for(const bp_config *cfg)
{
    return cfg->dist_tls ? "--dist-tls" : NULL;
}

#endif

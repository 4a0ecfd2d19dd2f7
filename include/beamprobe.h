/* beamprobe.h: the one public C header: error codes, exit codes, version. */
#ifndef BEAMPROBE_H
#define BEAMPROBE_H

#include <stddef.h>

#define BP_VERSION "0.1.0"
/* Version of the JSON report schema (docs/SCHEMA.md). Bump on incompatible change. */
#define BP_SCHEMA_VERSION 1

/* Library calls return 0 or one of these negative codes. */
enum {
    BP_OK = 0,
    BP_EUSAGE = -1,      /* bad flag, bad value, bad config */
    BP_ENOMEM = -2,
    BP_ECOOKIE = -3,     /* cookie missing, unreadable or insecure */
    BP_ERESOLVE = -4,    /* host name does not resolve */
    BP_EEPMD = -5,       /* EPMD not reachable */
    BP_ENOTREG = -6,     /* node not registered with EPMD */
    BP_ECONNECT = -7,    /* TCP connect to the node failed */
    BP_EHANDSHAKE = -8,  /* node refused the distribution handshake */
    BP_EAUTH = -9,       /* cookie mismatch */
    BP_ETIMEDOUT = -10,  /* deadline passed */
    BP_ETOOBIG = -11,    /* reply larger than the configured cap */
    BP_EDECODE = -12,    /* malformed external term */
    BP_EIO = -13,        /* connection broken */
    BP_EBADRPC = -14,    /* the remote call raised or returned badrpc */
    BP_EBUSY = -15,      /* every C-node name of the pool is in use */
    BP_ECONFIG = -16     /* invalid configuration file */
};

/* A short static description of a BP_E* code. */
const char *bp_strerror(int code);

/* Exit codes of the beamprobe command (documented in --help and README). */
enum {
    BP_EXIT_HEALTHY = 0,     /* healthy, or degraded without --strict */
    BP_EXIT_USAGE = 1,       /* usage or configuration error */
    BP_EXIT_CONNECT = 2,     /* could not connect (EPMD, TCP, handshake, cookie) */
    BP_EXIT_INCOMPLETE = 3,  /* connected, but the checks did not complete in time */
    BP_EXIT_UNHEALTHY = 4    /* unhealthy (or degraded with --strict) */
};

#endif

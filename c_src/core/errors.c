/* errors.c: text of the BP_E* error codes. */
#include "beamprobe.h"

const char *bp_strerror(int code)
{
    switch (code) {
    case BP_OK: return "ok";
    case BP_EUSAGE: return "usage error";
    case BP_ENOMEM: return "out of memory";
    case BP_ECOOKIE: return "cookie unavailable";
    case BP_ERESOLVE: return "host name does not resolve";
    case BP_EEPMD: return "EPMD not reachable, or not speaking EPMD";
    case BP_ENOTREG: return "node not registered with EPMD";
    case BP_ECONNECT: return "connection to node failed";
    case BP_EHANDSHAKE: return "distribution handshake refused";
    case BP_EAUTH: return "authentication failed";
    case BP_ETIMEDOUT: return "timed out";
    case BP_ETOOBIG: return "reply larger than the size cap";
    case BP_EDECODE: return "malformed term";
    case BP_EIO: return "connection lost";
    case BP_EBADRPC: return "remote call failed";
    case BP_EBUSY: return "all probe node names in use";
    case BP_ECONFIG: return "invalid configuration";
    default: return "unknown error";
    }
}

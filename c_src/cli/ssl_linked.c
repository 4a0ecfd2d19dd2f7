/* ssl_linked.c: bp_ssl_require of a beamprobe with OpenSSL linked in (make LAZY_SSL=0): there is nothing to load. */
#include "cli/ssl_lazy.h"

int bp_ssl_require(const char *why, char *err, size_t errlen)
{
    (void)why;
    if (errlen > 0)
        err[0] = '\0';
    return 0;
}

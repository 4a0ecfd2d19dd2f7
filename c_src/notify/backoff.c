/* backoff.c: capped exponential backoff of notification retries. */
#include "notify/backoff.h"

int64_t bp_notify_backoff_ms(unsigned retry, int64_t base_ms, int64_t cap_ms)
{
    if (retry == 0 || base_ms <= 0)
        return 0;
    int64_t d = base_ms;
    for (unsigned i = 1; i < retry && d < cap_ms; i++)
        d *= 2;
    return d < cap_ms ? d : cap_ms;
}

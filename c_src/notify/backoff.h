/* backoff.h: when a failed notification is tried again (capped exponential backoff, a pure function). */
#ifndef BP_NOTIFY_BACKOFF_H
#define BP_NOTIFY_BACKOFF_H

#include <stdint.h>

#define BP_NOTIFY_RETRY_BASE_MS 500    /* the first retry waits this long */
#define BP_NOTIFY_RETRY_CAP_MS 30000   /* no retry waits longer */
#define BP_NOTIFY_ATTEMPTS 6           /* tries per notification: the first and 5 retries */

/*
 * The wait before retry number `retry` (1 = the first retry): base_ms
 * doubled for each retry after the first, at most cap_ms; 0 for retry 0.
 * 500 ms base, 30 s cap: 0.5, 1, 2, 4, 8, 16, 30, 30, ... s.
 */
int64_t bp_notify_backoff_ms(unsigned retry, int64_t base_ms, int64_t cap_ms);

#endif

/* clock.h: monotonic milliseconds and deadline arithmetic shared by every layer. */
#ifndef BP_CLOCK_H
#define BP_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Monotonic time in milliseconds / microseconds. */
int64_t bp_now_ms(void);
int64_t bp_now_us(void);
/* Wall-clock Unix time in milliseconds. */
int64_t bp_wall_ms(void);
/* Milliseconds left until `deadline_ms` (monotonic), never negative. */
int bp_remaining_ms(int64_t deadline_ms);

/* Initialise c so that its timed waits count on the monotonic clock. 0 or an error number. */
int bp_cond_init_monotonic(pthread_cond_t *c);
/* The CLOCK_MONOTONIC time `us` microseconds from now, for pthread_cond_timedwait on such a condition. */
struct timespec bp_monotonic_after_us(int64_t us);

#endif

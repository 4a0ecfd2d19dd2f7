/* clock.c: monotonic and wall clocks in milliseconds. */
#include "core/clock.h"

#include <time.h>

static int64_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t bp_now_us(void)
{
    return clock_us(CLOCK_MONOTONIC);
}

int64_t bp_now_ms(void)
{
    return bp_now_us() / 1000;
}

int64_t bp_wall_ms(void)
{
    return clock_us(CLOCK_REALTIME) / 1000;
}

int bp_remaining_ms(int64_t deadline_ms)
{
    int64_t left = deadline_ms - bp_now_ms();
    if (left <= 0)
        return 0;
    return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

int bp_cond_init_monotonic(pthread_cond_t *c)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(c, &ca);
    pthread_condattr_destroy(&ca);
    return rc;
}

struct timespec bp_monotonic_after_us(int64_t us)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int64_t ns = t.tv_nsec + us * 1000;
    t.tv_sec += ns / 1000000000;
    t.tv_nsec = ns % 1000000000;
    return t;
}

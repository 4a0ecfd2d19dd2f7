/* clock.h: monotonic milliseconds and deadline arithmetic shared by every layer. */
#ifndef BP_CLOCK_H
#define BP_CLOCK_H

#include <stdint.h>

/* Monotonic time in milliseconds / microseconds. */
int64_t bp_now_ms(void);
int64_t bp_now_us(void);
/* Wall-clock Unix time in milliseconds. */
int64_t bp_wall_ms(void);
/* Milliseconds left until `deadline_ms` (monotonic), never negative. */
int bp_remaining_ms(int64_t deadline_ms);

#endif

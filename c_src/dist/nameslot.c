/* nameslot.c: pick a free C-node name from a small fixed pool via abstract-socket locks. */
#include "dist/nameslot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "beamprobe.h"
#include "core/clock.h"

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* 1 taken by us, 0 busy, -1 error. */
static int try_slot(const char *alive, const char *target, int *fd_out)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    /* sun_path[0] = 0: abstract namespace */
    int n = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "beamprobe:%u:%s:%016llx",
                     (unsigned)getuid(), alive, (unsigned long long)fnv1a(target));
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    if (bind(fd, (struct sockaddr *)&sa, len) == 0) {
        *fd_out = fd;
        return 1;
    }
    int e = errno;
    close(fd);
    return e == EADDRINUSE ? 0 : -1;
}

/*
 * Between two looks at a busy pool: 5 ms, doubling up to 40 ms, never past
 * the deadline. A fixed 5 ms made many waiters for one target busy: 250
 * probes of a stopped node (the NIF's cap) tried 200,000 names a second
 * and took the CPU from everything else on the host.
 */
#define SLOT_PAUSE_MIN_MS 5
#define SLOT_PAUSE_MAX_MS 40

int bp_nameslot_acquire(const char *prefix, int pool, const char *target, int64_t deadline_ms,
                        char *alive, size_t alive_len, int *lock_fd)
{
    *lock_fd = -1;
    int pause_ms = SLOT_PAUSE_MIN_MS;
    for (;;) {
        for (int i = 0; i < pool; i++) {
            snprintf(alive, alive_len, "%s_%d", prefix, i);
            int r = try_slot(alive, target, lock_fd);
            if (r == 1)
                return 0;
            if (r < 0)
                return BP_EIO;
        }
        int left = bp_remaining_ms(deadline_ms);
        if (left == 0)
            return BP_EBUSY;
        int ms = pause_ms < left ? pause_ms : left;
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        pause_ms = pause_ms * 2 < SLOT_PAUSE_MAX_MS ? pause_ms * 2 : SLOT_PAUSE_MAX_MS;
    }
}

void bp_nameslot_release(int lock_fd)
{
    if (lock_fd >= 0)
        close(lock_fd);
}

/* nameslot.h: pick a free C-node name from a small fixed pool, so probes never collide or leak atoms. */
#ifndef BP_NAMESLOT_H
#define BP_NAMESLOT_H

#include <stddef.h>
#include <stdint.h>

/*
 * A target node learns (and keeps as an atom forever) the name of every C
 * node that connects to it, and refuses a second connection under a name
 * already connected. Probes therefore take names prefix_0..prefix_{pool-1}:
 * slot i is held by binding an abstract UNIX socket named after the uid,
 * slot and target, which the kernel releases when the process exits, even
 * on a crash: no files, no cleanup, works on a read-only root file system,
 * and is shared by every container of a pod (one network namespace).
 *
 * Waits (polling) until the deadline when every slot is busy. On success
 * *lock_fd must later be passed to bp_nameslot_release and alive holds e.g.
 * "beamprobe_0". Returns 0, BP_EBUSY or BP_EIO.
 */
int bp_nameslot_acquire(const char *prefix, int pool, const char *target, int64_t deadline_ms,
                        char *alive, size_t alive_len, int *lock_fd);
void bp_nameslot_release(int lock_fd);

#endif

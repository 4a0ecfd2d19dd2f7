/* nif_facts.h: facts of the NIF's own process that the VM does not expose (open descriptors vs the limit). */
#ifndef BP_NIF_FACTS_H
#define BP_NIF_FACTS_H

#include "core/snapshot.h"

/* Fill snap->open_fds and snap->max_fds from /proc/self/fd and RLIMIT_NOFILE (left -1 if unreadable). */
void bp_nif_local_facts(bp_snapshot *snap);

#endif

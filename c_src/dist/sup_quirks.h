/* sup_quirks.h: supervisor children that OTP itself leaves not running by design. */
#ifndef BP_SUP_QUIRKS_H
#define BP_SUP_QUIRKS_H

#include "dist/term.h"

/*
 * Is the which_children entry `child` ({Id, undefined, Type, Modules}) of the supervisor
 * registered as `supervisor` one that OTP keeps not running on every healthy node, so that
 * neither the report nor --supervisor-strict should count it? Known: kernel_sup's
 * {on_load, undefined, worker, [kernel]} (seen on OTP 27 and 29, not on 25: it runs the -on_load functions
 * of the boot's modules, then returns ignore). 1 if so, else 0.
 */
int bp_child_stopped_by_design(const char *supervisor, const bp_term *child);

#endif

/* sup_quirks.c: supervisor children that OTP itself leaves not running by design (kernel_sup's on_load). */
#include "dist/sup_quirks.h"

#include <string.h>

int bp_child_stopped_by_design(const char *supervisor, const bp_term *child)
{
    if (!supervisor || strcmp(supervisor, "kernel_sup") != 0 || !child || child->type != BP_T_TUPLE
        || child->n != 4)
        return 0;
    const bp_term *mods = &child->items[3];
    return bp_term_is_atom(&child->items[0], "on_load") && bp_term_is_atom(&child->items[1], "undefined")
           && bp_term_is_atom(&child->items[2], "worker") && mods->type == BP_T_LIST && mods->n == 1
           && bp_term_is_atom(&mods->items[0], "kernel");
}

/* config_int.h: helpers of the option parser shared by config.c and config_args.c only. */
#ifndef BP_CONFIG_INT_H
#define BP_CONFIG_INT_H

#include <stddef.h>

#include "core/config.h"

/* Write a message into err and return BP_EUSAGE. */
int bp__config_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define SHOW_MAX 48 /* bytes of a user-supplied string shown in a message */

/* s shown for a message, cut to max bytes, control characters escaped. */
const char *bp__config_show_n(const char *s, size_t max, char *buf, size_t n);
/* Set option o from its text value; label names it in messages ("--timeout"). 0 or BP_EUSAGE. */
int bp__config_set_opt(bp_config *c, const bp_config_option *o, const char *value, const char *label, char *err,
                       size_t errlen);
/* The cookie is never an option: the message says where it goes instead. */
int bp__config_refuse_cookie(const char *label, char *err, size_t errlen);

#endif

/* config_file.h: load settings from a JSON file through the same option table as argv. */
#ifndef BP_CONFIG_FILE_H
#define BP_CONFIG_FILE_H

#include <stddef.h>

#include "core/config.h"

#define BP_CONFIG_FILE_MAX (1 << 20)

/*
 * Apply a JSON object whose keys are long option names to c:
 *   {"node": ["a@h", "b@h"], "timeout": "800ms", "interval": 2000, "governor": "cost_guard",
 *    "strict": true}
 * Strings, numbers and booleans are passed to bp_config_set as text; an
 * array sets a repeatable option once per element. Unknown keys, "config"
 * itself, "cookie", nulls and nested objects are errors naming the key.
 * Returns 0, BP_ECONFIG (unreadable or invalid file, message in err) or
 * BP_EUSAGE (a bad value). Options the file sets are marked given, like argv.
 */
int bp_config_load_file(bp_config *c, const char *path, char *err, size_t errlen);

/* The same from a JSON text (for tests and reloads). */
int bp_config_load_json(bp_config *c, const char *text, size_t len, const char *origin, char *err, size_t errlen);

#endif

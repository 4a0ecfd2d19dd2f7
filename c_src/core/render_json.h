/* render_json.h: the report's JSON document as a jansson value, for callers that use it without text. */
#ifndef BP_RENDER_JSON_H
#define BP_RENDER_JSON_H

#include <jansson.h>

#include "core/report.h"

/*
 * The document bp_render_json prints (docs/SCHEMA.md), as a new reference the
 * caller json_decref's; NULL on OOM. Its reals are exact: the text form
 * rounds them to 10 significant digits (bp_json_dump_doc).
 */
json_t *bp_report_json(const bp_report *r);

#endif

/* render_top.h: --top's lists rendered as text and as the JSON report's `top` object. */
#ifndef BP_RENDER_TOP_H
#define BP_RENDER_TOP_H

#include <jansson.h>

#include "core/snapshot.h"
#include "core/textbuf.h"

/* The text section: nothing unless --top was asked; "unavailable: why" when the lists are missing. */
void bp_render_top_text(bp_textbuf *b, const bp_top_snap *t);
/* {unavailable, window_ms, processes, probe_memory_bytes, message_queue_len, memory, reductions}; *oom set on failure. */
json_t *bp_render_top_json(int *oom, const bp_top_snap *t);

#endif

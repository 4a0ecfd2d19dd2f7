/* render_top.c: --top's lists in the text report (a compact table per category) and the JSON report (`top`). */
#include "core/render_top.h"

#include <inttypes.h>
#include <stdio.h>

#include "core/json_util.h"

static const char *const category_key[BP_TOP_CATEGORIES] = { "message_queue_len", "memory", "reductions" };
static const char *const category_title[BP_TOP_CATEGORIES] = { "longest message queues", "most memory (bytes)",
                                                                "most reductions in the window" };

static void text_entry(bp_textbuf *b, const bp_top_entry *e)
{
    bp_textbuf_addf(b, "    %12" PRId64 "  ", e->value);
    bp_textbuf_add_clean(b, e->pid, 20);
    bp_textbuf_addf(b, "  ");
    bp_textbuf_add_clean(b, e->name ? e->name : "-", 24);
    bp_textbuf_addf(b, "  ");
    bp_textbuf_add_clean(b, e->current_function ? e->current_function : "-", 36);
    bp_textbuf_addf(b, "  ");
    bp_textbuf_add_clean(b, e->initial_call ? e->initial_call : "-", 0);
    bp_textbuf_addf(b, "\n");
}

void bp_render_top_text(bp_textbuf *b, const bp_top_snap *t)
{
    if (!t->asked)
        return;
    if (t->unavailable) {
        bp_textbuf_addf(b, "\ntop: unavailable: ");
        bp_textbuf_add_clean(b, t->unavailable, 0);
        bp_textbuf_addf(b, "\n");
        return;
    }
    bp_textbuf_addf(b, "\ntop (%" PRId64 " processes, %" PRId64 " ms window, probe process %" PRId64 " bytes)\n",
                    t->processes, t->window_ms, t->probe_memory);
    for (int k = 0; k < BP_TOP_CATEGORIES; k++) {
        bp_textbuf_addf(b, "  %s\n", category_title[k]);
        for (size_t i = 0; i < t->n[k]; i++)
            text_entry(b, &t->list[k][i]);
    }
}

static json_t *json_entry(int *oom, const bp_top_entry *e)
{
    json_t *o = json_object();
    bp_json_put(oom, o, "pid", bp_json_string_utf8(e->pid));
    bp_json_put(oom, o, "name", bp_json_string_utf8(e->name));
    bp_json_put(oom, o, "current_function", bp_json_string_utf8(e->current_function));
    bp_json_put(oom, o, "initial_call", bp_json_string_utf8(e->initial_call));
    bp_json_put(oom, o, "value", json_integer(e->value));
    return o;
}

json_t *bp_render_top_json(int *oom, const bp_top_snap *t)
{
    json_t *o = json_object();
    bp_json_put(oom, o, "unavailable", bp_json_string_utf8(t->unavailable));
    bp_json_put(oom, o, "window_ms", bp_json_int_or_null(t->unavailable ? -1 : t->window_ms));
    bp_json_put(oom, o, "processes", bp_json_int_or_null(t->unavailable ? -1 : t->processes));
    bp_json_put(oom, o, "probe_memory_bytes", bp_json_int_or_null(t->unavailable ? -1 : t->probe_memory));
    for (int k = 0; k < BP_TOP_CATEGORIES; k++) {
        json_t *a = json_array();
        for (size_t i = 0; i < t->n[k]; i++)
            bp_json_append(oom, a, json_entry(oom, &t->list[k][i]));
        bp_json_put(oom, o, category_key[k], a);
    }
    return o;
}

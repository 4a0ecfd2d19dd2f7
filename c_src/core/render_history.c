/* render_history.c: /health/history as JSON: each node's transitions, oldest first. */
#include "core/render_history.h"

#include "core/json_util.h"

static const char *kind_name(bp_transition_kind k)
{
    return k == BP_TR_NODE ? "node" : k == BP_TR_GOVERNOR ? "governor" : "check";
}

void bp_render_transition(int *oom, json_t *e, const bp_transition *t)
{
    bp_json_put(oom, e, "time", bp_json_timestamp(t->time_ms));
    bp_json_put(oom, e, "kind", json_string(kind_name(t->kind)));
    bp_json_put(oom, e, "name", bp_json_string_utf8(t->name));
    bp_json_put(oom, e, "from", bp_json_string_utf8(t->from));
    bp_json_put(oom, e, "to", bp_json_string_utf8(t->to));
    bp_json_put(oom, e, "reason", bp_json_string_utf8(t->reason));
}

char *bp_render_history_json(const bp_history_node *nodes, size_t n, size_t cap)
{
    int oom = 0;
    json_t *doc = json_object(), *arr = json_array();
    bp_json_put(&oom, doc, "capacity", json_integer((json_int_t)cap));
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object(), *trs = json_array();
        bp_json_put(&oom, o, "node", bp_json_string_utf8(nodes[i].node));
        for (size_t k = 0; k < nodes[i].n; k++) {
            const bp_transition *t = &nodes[i].transitions[k];
            json_t *e = json_object();
            bp_render_transition(&oom, e, t);
            bp_json_append(&oom, trs, e);
        }
        bp_json_put(&oom, o, "transitions", trs);
        bp_json_put(&oom, o, "truncated", json_boolean(nodes[i].kept > nodes[i].n));
        bp_json_append(&oom, arr, o);
    }
    bp_json_put(&oom, doc, "nodes", arr);
    return bp_json_dump_doc(doc, oom, 0);
}

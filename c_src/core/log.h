/* log.h: one-line operational log records on stderr, as text or JSON. */
#ifndef BP_LOG_H
#define BP_LOG_H

/* Set the format for the whole process: 0 text, 1 JSON lines. */
void bp_log_set_json(int json);

/*
 * Write one record: event (a short word such as "state", "down",
 * "reconnected", "start", "reload"), the node it is about (or NULL) and a
 * message. Text: "2026-01-02T03:04:05.678Z beamprobe: EVENT NODE: MESSAGE".
 * JSON: {"ts":"...","event":"...","node":"...","msg":"..."}. Thread-safe,
 * one write(2) per record.
 */
void bp_log(const char *event, const char *node, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

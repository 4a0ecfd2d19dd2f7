/* log.c: one-line operational log records on stderr, as text or JSON. */
#include "core/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/json_util.h"

static atomic_int log_json;

void bp_log_set_json(int json)
{
    atomic_store(&log_json, json);
}

/*
 * Append s to out as the inside of a JSON string: valid UTF-8 kept whole, every
 * byte of invalid UTF-8 (a node name off the wire, a message cut mid-character)
 * written as U+FFFD, so that each record stays valid JSON.
 */
static size_t json_escape(char *out, size_t room, const char *s)
{
    size_t o = 0;
    for (; s && *s && o + 7 < room; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch >= 0x80) {
            size_t n = bp_utf8_seq_len((const unsigned char *)s, strnlen(s, 4));
            if (n == 0) {
                memcpy(out + o, "\\ufffd", 6);
                o += 6;
                continue;
            }
            memcpy(out + o, s, n);
            o += n;
            s += n - 1;
        } else if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else if (ch < 0x20) {
            o += (size_t)snprintf(out + o, room - o, "\\u%04x", ch);
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o] = '\0';
    return o;
}

void bp_log(const char *event, const char *node, const char *fmt, ...)
{
    char msg[768], ts[40], line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    int64_t ms = bp_wall_ms();
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03dZ", (int)(ms % 1000));

    int len;
    if (atomic_load(&log_json)) {
        char e[64], nd[600], m[1600];
        json_escape(e, sizeof e, event);
        json_escape(nd, sizeof nd, node);
        json_escape(m, sizeof m, msg);
        len = snprintf(line, sizeof line, "{\"ts\":\"%s\",\"event\":\"%s\",%s%s%s\"msg\":\"%s\"}\n", ts, e,
                       node ? "\"node\":\"" : "", node ? nd : "", node ? "\"," : "", m);
    } else {
        len = snprintf(line, sizeof line, "%s beamprobe: %s %s%s%s\n", ts, event, node ? node : "",
                       node ? ": " : "", msg);
    }
    if (len < 0)
        return;
    if ((size_t)len >= sizeof line) {
        len = (int)sizeof line - 1;
        line[len - 1] = '\n';
    }
    (void)!write(STDERR_FILENO, line, (size_t)len);
}

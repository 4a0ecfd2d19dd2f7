/* render_text.c: renders a report as aligned plain text for people (no colors, no control characters). */
#include "core/report.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_COL_MAX 40 /* longer check names push their reason right instead */

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} tbuf;

static int tb_reserve(tbuf *b, size_t more)
{
    if (b->oom)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more + 1) {
        if (cap > SIZE_MAX / 2) {
            b->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

__attribute__((format(printf, 2, 3)))
static void tb_addf(tbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || tb_reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Characters shown for s (UTF-8 continuation bytes do not count). */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

/* Append s with C0/C1 control characters (terminal escapes, newlines) shown as '?'; pad to width. */
static void tb_clean(tbuf *b, const char *s, size_t width)
{
    if (!s)
        s = "?";
    size_t len = strlen(s);
    size_t pad = width > text_width(s) ? width - text_width(s) : 0;
    if (tb_reserve(b, len + pad) != 0)
        return;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0xC2 && i + 1 < len && ((unsigned char)s[i + 1] & 0xE0) == 0x80) {
            b->p[b->len++] = '?'; /* C1 control U+0080..U+009F (e.g. CSI) */
            i++;
            continue;
        }
        b->p[b->len++] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
    }
    memset(b->p + b->len, ' ', pad);
    b->len += pad;
    b->p[b->len] = '\0';
}

static void upper(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < len; i++)
        dst[i] = (char)toupper((unsigned char)src[i]);
    dst[i] = '\0';
}

/* int64 as text, "?" when unknown (< 0). */
static const char *num(int64_t v, char *buf, size_t len)
{
    if (v < 0)
        return "?";
    snprintf(buf, len, "%" PRId64, v);
    return buf;
}

static void key_numbers(tbuf *b, const bp_report *r)
{
    const bp_snapshot *s = r->snap;
    char a[32], l[32];
    int any = 0;
    if (s->memory.state == BP_FACT_OK && r->memory_total >= 0) {
        tb_addf(b, "\n  %-11s %s", "memory", bp_format_bytes(r->memory_total, a, sizeof a));
        if (r->memory_limit > 0)
            tb_addf(b, " of %s %s limit (%.1f%%)", bp_format_bytes(r->memory_limit, l, sizeof l),
                    r->memory_limit_source ? r->memory_limit_source : "", r->memory_ratio * 100.0);
        any = 1;
    }
    if (s->limits.state == BP_FACT_OK) {
        char pc[24], pl[24], po[24], at[24], et[24];
        tb_addf(b, "\n  %-11s %s of %s, ports %s, atoms %s, ets %s", "processes", num(s->process_count, pc, sizeof pc),
                num(s->process_limit, pl, sizeof pl), num(s->port_count, po, sizeof po),
                num(s->atom_count, at, sizeof at), num(s->ets_count, et, sizeof et));
        any = 1;
    }
    if (s->schedulers.state == BP_FACT_OK) {
        char rq[24], on[24], dc[24], dio[24];
        tb_addf(b, "\n  %-11s %s over %s schedulers, dirty cpu %s, dirty io %s", "run queue",
                num(s->run_queue, rq, sizeof rq), num(s->schedulers_online, on, sizeof on),
                num(s->dirty_cpu_run_queue, dc, sizeof dc), num(s->dirty_io_run_queue, dio, sizeof dio));
        any = 1;
    }
    if (s->membership.state == BP_FACT_OK) {
        tb_addf(b, "\n  %-11s %zu visible, %zu hidden", "nodes", s->visible.n, s->hidden.n);
        if (r->missing_peers.n)
            tb_addf(b, ", %zu missing", r->missing_peers.n);
        any = 1;
    }
    if (any)
        tb_addf(b, "\n");
}

char *bp_render_text(const bp_report *r)
{
    if (!r || !r->snap)
        return NULL;
    const bp_snapshot *s = r->snap;
    tbuf b = {0};
    char overall[16];
    upper(overall, sizeof overall, bp_overall_name(r->status));

    tb_clean(&b, s->node, 0);
    tb_addf(&b, ": %s%s (%s probe, %.1f ms, %d round trip%s)\n", overall, r->incomplete ? ", INCOMPLETE" : "",
            bp_probe_name(r->probe), s->duration_us >= 0 ? (double)s->duration_us / 1000.0 : 0.0,
            s->round_trips, s->round_trips == 1 ? "" : "s");

    size_t col = 0;
    for (size_t i = 0; i < r->n_checks; i++) {
        size_t w = text_width(r->checks[i].name);
        if (w > col)
            col = w;
    }
    if (col > NAME_COL_MAX)
        col = NAME_COL_MAX;
    for (size_t i = 0; i < r->n_checks; i++) {
        const bp_check *c = &r->checks[i];
        char st[8];
        upper(st, sizeof st, bp_status_name(c->status));
        tb_addf(&b, "%-4s  ", st);
        tb_clean(&b, c->name, col);
        tb_addf(&b, "  ");
        tb_clean(&b, c->reason, 0);
        tb_addf(&b, "%s\n", c->incomplete ? " [incomplete]" : "");
    }
    if (s->connect.state == BP_FACT_OK)
        key_numbers(&b, r);
    if (b.oom || !b.p) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

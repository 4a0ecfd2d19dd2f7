/* render_text.c: renders a report as aligned plain text for people (no colors, no control characters). */
#include "core/report.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/render_top.h"
#include "core/textbuf.h"

#define NAME_COL_MAX 40 /* longer check names push their reason right instead */

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

static void key_numbers(bp_textbuf *b, const bp_report *r)
{
    const bp_snapshot *s = r->snap;
    char a[32], l[32];
    int any = 0;
    if (s->memory.state == BP_FACT_OK && r->memory_total >= 0) {
        bp_textbuf_addf(b, "\n  %-11s %s", "memory", bp_format_bytes(r->memory_total, a, sizeof a));
        if (r->memory_limit > 0)
            bp_textbuf_addf(b, " of %s %s limit (%.1f%%)", bp_format_bytes(r->memory_limit, l, sizeof l),
                            r->memory_limit_source ? r->memory_limit_source : "", r->memory_ratio * 100.0);
        any = 1;
    }
    if (s->limits.state == BP_FACT_OK) {
        char pc[24], pl[24], po[24], at[24], et[24];
        bp_textbuf_addf(b, "\n  %-11s %s of %s, ports %s, atoms %s, ets %s", "processes",
                        num(s->process_count, pc, sizeof pc), num(s->process_limit, pl, sizeof pl),
                        num(s->port_count, po, sizeof po), num(s->atom_count, at, sizeof at),
                        num(s->ets_count, et, sizeof et));
        any = 1;
    }
    if (s->open_fds >= 0) { /* known inside the VM only: left out rather than "?" for remote probes */
        char fc[24], fl[24];
        bp_textbuf_addf(b, "\n  %-11s %s of %s", "open fds", num(s->open_fds, fc, sizeof fc),
                        num(s->max_fds, fl, sizeof fl));
        any = 1;
    }
    if (s->schedulers.state == BP_FACT_OK) {
        char rq[24], on[24], dc[24], dio[24];
        bp_textbuf_addf(b, "\n  %-11s %s over %s schedulers, dirty cpu %s, dirty io %s", "run queue",
                        num(s->run_queue, rq, sizeof rq), num(s->schedulers_online, on, sizeof on),
                        num(s->dirty_cpu_run_queue, dc, sizeof dc), num(s->dirty_io_run_queue, dio, sizeof dio));
        any = 1;
    }
    if (s->membership.state == BP_FACT_OK) {
        bp_textbuf_addf(b, "\n  %-11s %zu visible, %zu hidden", "nodes", s->visible.n, s->hidden.n);
        if (r->missing_peers.n)
            bp_textbuf_addf(b, ", %zu missing", r->missing_peers.n);
        any = 1;
    }
    if (any)
        bp_textbuf_addf(b, "\n");
}

char *bp_render_text(const bp_report *r)
{
    if (!r || !r->snap)
        return NULL;
    const bp_snapshot *s = r->snap;
    bp_textbuf b = {0};
    char overall[16];
    upper(overall, sizeof overall, bp_overall_name(r->status));

    bp_textbuf_add_clean(&b, s->node, 0);
    int multi = s->plan && strcmp(s->plan, "multi-round") == 0;
    bp_textbuf_addf(&b, ": %s%s (%s probe, %.1f ms, %d round trip%s%s)\n", overall, r->incomplete ? ", INCOMPLETE" : "",
                    bp_probe_name(r->probe), s->duration_us >= 0 ? (double)s->duration_us / 1000.0 : 0.0,
                    s->round_trips, s->round_trips == 1 ? "" : "s", multi ? ", multi-round plan" : "");
    if (multi && s->plan_reason && !s->plan_auto) { /* auto's choice is no news: in the JSON report */
        bp_textbuf_addf(&b, "(multi-round plan: ");
        bp_textbuf_add_clean(&b, s->plan_reason, 0);
        bp_textbuf_addf(&b, ")\n");
    }
    if (s->given_as) {
        bp_textbuf_addf(&b, "(given as ");
        bp_textbuf_add_clean(&b, s->given_as, 0);
        bp_textbuf_addf(&b, ")\n");
    }

    size_t col = 0;
    for (size_t i = 0; i < r->n_checks; i++) {
        size_t w = bp_text_width(r->checks[i].name);
        if (w > col)
            col = w;
    }
    if (col > NAME_COL_MAX)
        col = NAME_COL_MAX;
    for (size_t i = 0; i < r->n_checks; i++) {
        const bp_check *c = &r->checks[i];
        char st[8];
        upper(st, sizeof st, bp_status_name(c->status));
        bp_textbuf_addf(&b, "%-4s  ", st);
        bp_textbuf_add_clean(&b, c->name, col);
        bp_textbuf_addf(&b, "  ");
        bp_textbuf_add_clean(&b, c->reason, 0);
        bp_textbuf_addf(&b, "%s\n", c->incomplete ? " [incomplete]" : "");
    }
    if (s->connect.state == BP_FACT_OK) {
        key_numbers(&b, r);
        bp_render_top_text(&b, &s->top);
    }
    return bp_textbuf_finish(&b);
}

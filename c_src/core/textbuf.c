/* textbuf.c: a growable NUL-terminated text buffer with printf-style appends and terminal-safe text. */
#include "core/textbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bp_text_grow(char **p, size_t *cap, size_t len, size_t more, size_t first)
{
    if (more > SIZE_MAX - len - 1)
        return -1;
    size_t need = len + more + 1;
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : first;
    while (c < need)
        c = c > SIZE_MAX / 2 ? need : c * 2;
    char *np = realloc(*p, c);
    if (!np)
        return -1;
    *p = np;
    *cap = c;
    return 0;
}

int bp_textbuf_reserve(bp_textbuf *b, size_t more)
{
    if (b->oom)
        return -1;
    if (bp_text_grow(&b->p, &b->cap, b->len, more, 1024) != 0) {
        b->oom = 1;
        return -1;
    }
    return 0;
}

void bp_textbuf_addf(bp_textbuf *b, const char *fmt, ...)
{
    va_list ap;
    if (b->oom)
        return;
    size_t room = b->p ? b->cap - b->len : 0;
    va_start(ap, fmt); /* most appends fit the room left: one formatting pass */
    int n = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < room) {
        b->len += (size_t)n;
        return;
    }
    if (n < 0 || bp_textbuf_reserve(b, (size_t)n) != 0) {
        if (b->p)
            b->p[b->len] = '\0';
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

size_t bp_text_width(const char *s)
{
    size_t w = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

void bp_textbuf_add_clean(bp_textbuf *b, const char *s, size_t width)
{
    if (!s)
        s = "?";
    size_t len = strlen(s);
    size_t w = bp_text_width(s);
    size_t pad = width > w ? width - w : 0;
    if (pad > SIZE_MAX - len) {
        b->oom = 1;
        return;
    }
    if (bp_textbuf_reserve(b, len + pad) != 0)
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

char *bp_textbuf_finish(bp_textbuf *b)
{
    if (b->oom || !b->p) {
        free(b->p);
        *b = (bp_textbuf){0};
        return NULL;
    }
    char *p = b->p;
    *b = (bp_textbuf){0};
    return p;
}

void bp_textbuf_add_fit(bp_textbuf *b, const char *s, size_t width)
{
    if (!s || width == 0 || bp_text_width(s) <= width) {
        bp_textbuf_add_clean(b, s, width);
        return;
    }
    char cut[1024];
    size_t shown = 0, i = 0;
    /* copy whole UTF-8 characters until width - 1 are shown */
    while (s[i] && i + 4 < sizeof cut - 4) {
        if (((unsigned char)s[i] & 0xC0) != 0x80 && shown++ == width - 1)
            break;
        cut[i] = s[i];
        i++;
    }
    memcpy(cut + i, "\xE2\x80\xA6", 4); /* U+2026 and the NUL */
    bp_textbuf_add_clean(b, cut, width);
}

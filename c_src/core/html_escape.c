/* html_escape.c: the escaping writer for HTML and SVG/XML contexts (see html_escape.h). */
#include "core/html_escape.h"

#include <string.h>

static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */

static void raw(bp_textbuf *b, const char *s, size_t n)
{
    if (n == 0 || bp_textbuf_reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Length of the valid UTF-8 sequence of a multibyte character at s (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0; /* overlong, or beyond Unicode */
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF || (cp >= 0x80 && cp <= 0x9F))
        return 0; /* surrogate, XML non-character, C1 control */
    return len;
}

void bp_html_addn(bp_textbuf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0; /* bytes [i - run, i) are plain and not yet appended */
    while (i < n) {
        unsigned c = p[i];
        const char *ent = NULL;
        size_t seq = 1;
        switch (c) {
        case '&': ent = "&amp;"; break;
        case '<': ent = "&lt;"; break;
        case '>': ent = "&gt;"; break;
        case '"': ent = "&quot;"; break;
        case '\'': ent = "&#39;"; break;
        default:
            if (c >= 0x80) {
                seq = utf8_seq(p + i, n - i);
                if (seq == 0) {
                    ent = REPLACEMENT;
                    seq = 1;
                }
            } else if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F) {
                ent = REPLACEMENT;
            }
        }
        if (ent) {
            raw(b, (const char *)p + i - run, run);
            run = 0;
            raw(b, ent, strlen(ent));
        } else {
            run += seq;
        }
        i += seq;
    }
    raw(b, (const char *)p + i - run, run);
}

void bp_html_add(bp_textbuf *b, const char *s, const char *dflt)
{
    if (s)
        bp_html_addn(b, s, strlen(s));
    else if (dflt)
        raw(b, dflt, strlen(dflt));
}

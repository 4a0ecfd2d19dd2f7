/* textbuf.h: a growable NUL-terminated text buffer with printf-style appends and terminal-safe text. */
#ifndef BP_TEXTBUF_H
#define BP_TEXTBUF_H

#include <stddef.h>

/*
 * A zeroed struct is an empty buffer. Whenever p is non-NULL it holds len bytes
 * followed by a NUL. After the first failed allocation oom is set and every
 * further append does nothing; bp_textbuf_finish then frees and returns NULL.
 */
typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} bp_textbuf;

/*
 * Grow the raw buffer *p (capacity *cap, len bytes in use) so that `more` bytes
 * plus a NUL fit, doubling from `first` bytes. Returns 0, or -1 when out of
 * memory (the buffer is then unchanged).
 */
int bp_text_grow(char **p, size_t *cap, size_t len, size_t more, size_t first);

/* Room for `more` bytes plus the NUL; 0, or -1 (and oom set) when out of memory. */
int bp_textbuf_reserve(bp_textbuf *b, size_t more);

/* Append printf-style text. */
__attribute__((format(printf, 2, 3)))
void bp_textbuf_addf(bp_textbuf *b, const char *fmt, ...);

/* Characters shown for s (UTF-8 continuation bytes do not count); 0 for NULL. */
size_t bp_text_width(const char *s);

/*
 * Append s (NULL: "?") with control characters (C0, DEL, C1 such as CSI) shown
 * as '?', padded with blanks to `width` shown characters.
 */
void bp_textbuf_add_clean(bp_textbuf *b, const char *s, size_t width);

/* bp_textbuf_add_clean in a column of exactly `width` shown characters: longer text is cut,
 * its last shown character replaced by an ellipsis. */
void bp_textbuf_add_fit(bp_textbuf *b, const char *s, size_t width);

/* The text (the caller frees it), or NULL when empty or out of memory (then freed). */
char *bp_textbuf_finish(bp_textbuf *b);

#endif

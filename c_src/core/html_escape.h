/* html_escape.h: appends untrusted text (node names, states, reasons) escaped for HTML and SVG/XML. */
#ifndef BP_HTML_ESCAPE_H
#define BP_HTML_ESCAPE_H

#include <stddef.h>

#include "core/textbuf.h"

/*
 * Append the n bytes of s so that they are safe as element text and as a quoted
 * attribute value in HTML and in XML (standalone SVG): & < > " ' become entities
 * (so "]]>" and "</script" cannot close anything), control characters other than
 * tab and newline, DEL, C1 controls, the XML non-characters U+FFFE/U+FFFF and
 * every byte of invalid UTF-8 (overlong, surrogate, beyond U+10FFFF, cut short)
 * become U+FFFD. Valid UTF-8 is kept as is.
 */
void bp_html_addn(bp_textbuf *b, const char *s, size_t n);

/* bp_html_addn of a NUL-terminated string; NULL appends `dflt` (a trusted literal, may be NULL). */
void bp_html_add(bp_textbuf *b, const char *s, const char *dflt);

#endif

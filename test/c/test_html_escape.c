/* test_html_escape.c: unit tests of the HTML/SVG escaping writer with hostile strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/html_escape.h"

static char *esc_n(const char *s, size_t n)
{
    bp_textbuf b = {0};
    bp_html_addn(&b, s, n);
    bp_textbuf_addf(&b, "%s", ""); /* an empty result is "" rather than NULL */
    char *out = bp_textbuf_finish(&b);
    assert_non_null(out);
    return out;
}

static char *esc(const char *s)
{
    return esc_n(s, strlen(s));
}

static void expect_esc(const char *in, const char *want)
{
    char *got = esc(in);
    assert_string_equal(got, want);
    free(got);
}

/* No byte of the output can start markup, end a CDATA section or leave an attribute. */
static void assert_inert(const char *out)
{
    assert_null(strchr(out, '<'));
    assert_null(strchr(out, '>'));
    assert_null(strchr(out, '"'));
    assert_null(strchr(out, '\''));
    assert_null(strstr(out, "]]>"));
    for (const char *p = out; *p; p++)
        if (*p == '&')
            assert_true(strncmp(p, "&amp;", 5) == 0 || strncmp(p, "&lt;", 4) == 0 || strncmp(p, "&gt;", 4) == 0
                        || strncmp(p, "&quot;", 6) == 0 || strncmp(p, "&#39;", 5) == 0);
}

static void test_plain_text_unchanged(void **state)
{
    (void)state;
    expect_esc("app@host-1.example", "app@host-1.example");
    expect_esc("", "");
    expect_esc("tab\tand\nnewline", "tab\tand\nnewline");
}

static void test_markup_escaped(void **state)
{
    (void)state;
    expect_esc("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
    expect_esc("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;");
    expect_esc("a\"b'c&d", "a&quot;b&#39;c&amp;d");
    expect_esc("]]><svg onload=x>", "]]&gt;&lt;svg onload=x&gt;");
    expect_esc("&lt;", "&amp;lt;"); /* an entity in the input stays text */
}

static void test_attribute_breakout(void **state)
{
    (void)state;
    const char *hostile[] = { "\" onmouseover=\"alert(1)", "' autofocus onfocus='x", "x\"><script>y</script>",
                              "--><!--", "<![CDATA[x]]>", "</title><script>z</script>" };
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        char *out = esc(hostile[i]);
        assert_inert(out);
        free(out);
    }
}

static void test_controls_replaced(void **state)
{
    (void)state;
    expect_esc("a\x01" "b\x1b[31mc\x7f", "a\xEF\xBF\xBD" "b\xEF\xBF\xBD[31mc\xEF\xBF\xBD");
    expect_esc("\xC2\x9B" "2J", "\xEF\xBF\xBD\xEF\xBF\xBD" "2J"); /* C1 CSI: both bytes */
    char *out = esc_n("a\0b", 3);                                /* an embedded NUL */
    assert_string_equal(out, "a\xEF\xBF\xBD" "b");
    free(out);
}

static void test_invalid_utf8_replaced(void **state)
{
    (void)state;
    expect_esc("caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x98\x80"); /* valid */
    expect_esc("\xC0\xBC" "script", "\xEF\xBF\xBD\xEF\xBF\xBD" "script");  /* overlong '<' */
    expect_esc("\xE0\x80\xBC", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");     /* overlong, 3 bytes */
    expect_esc("\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");     /* surrogate */
    expect_esc("\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* > U+10FFFF */
    expect_esc("\xEF\xBF\xBE", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");     /* U+FFFE */
    expect_esc("ab\xE2\x9C", "ab\xEF\xBF\xBD\xEF\xBF\xBD");                 /* cut short at the end */
    expect_esc("\xE2<b", "\xEF\xBF\xBD&lt;b");                                /* cut short by markup */
    expect_esc("\xFF\xFE", "\xEF\xBF\xBD\xEF\xBF\xBD");
}

static void test_null_and_default(void **state)
{
    (void)state;
    bp_textbuf b = {0};
    bp_html_add(&b, NULL, "-");
    bp_html_add(&b, NULL, NULL);
    bp_html_add(&b, "<x>", "-");
    char *out = bp_textbuf_finish(&b);
    assert_string_equal(out, "-&lt;x&gt;");
    free(out);
}

/* Every single byte and every pair of bytes: the output is inert and valid UTF-8. */
static void test_exhaustive_pairs_inert(void **state)
{
    (void)state;
    for (unsigned a = 0; a < 256; a++)
        for (unsigned c = 0; c < 256; c += 1) {
            char in[3] = { (char)a, (char)c, 0 };
            char *out = esc_n(in, 2);
            assert_inert(out);
            char *again = esc(out); /* valid UTF-8 and no markup: only & is escaped again */
            assert_null(strstr(again, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"));
            free(again);
            free(out);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text_unchanged), cmocka_unit_test(test_markup_escaped),
        cmocka_unit_test(test_attribute_breakout),   cmocka_unit_test(test_controls_replaced),
        cmocka_unit_test(test_invalid_utf8_replaced), cmocka_unit_test(test_null_and_default),
        cmocka_unit_test(test_exhaustive_pairs_inert),
    };
    return cmocka_run_group_tests_name("html_escape", tests, NULL, NULL);
}

/* test_log.c: unit tests of the operational log: JSON lines that parse back to what was logged, and the text form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

/* Run bp_log with stderr sent to a temporary file; the record written, in out. */
static void logged(int json, const char *event, const char *node, const char *msg, char *out, size_t outlen)
{
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    bp_log_set_json(json);
    bp_log(event, node, "%s", msg);
    bp_log_set_json(0);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, outlen - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
}

/* Quotes, backslashes and control characters in any field: one line of JSON that gives them back. */
/* Invalid UTF-8 (a name off the wire, a message cut mid-character) becomes U+FFFD; valid UTF-8 stays. */
static void test_json_line_invalid_utf8(void **state)
{
    (void)state;
    char line[4096];
    logged(1, "state", "n\xff\xc3(@h\xc3", "caf\xc3\xa9 \xf0\x9f\x90\x9d ok \xe2\x82", line, sizeof line);
    json_error_t je;
    json_t *o = json_loads(line, 0, &je); /* jansson refuses invalid UTF-8 */
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "node")),
                        "n\xef\xbf\xbd\xef\xbf\xbd(@h\xef\xbf\xbd");
    assert_string_equal(json_string_value(json_object_get(o, "msg")),
                        "caf\xc3\xa9 \xf0\x9f\x90\x9d ok \xef\xbf\xbd\xef\xbf\xbd");
    json_decref(o);
}

static void test_json_line_round_trips(void **state)
{
    (void)state;
    char line[4096];
    const char *node = "we\"ird\\node@h";
    const char *msg = "line one\nline \"two\"\ttab \\ and \x01 end";
    logged(1, "state", node, msg, line, sizeof line);
    size_t len = strlen(line);
    assert_true(len > 0);
    assert_int_equal(line[len - 1], '\n');
    assert_null(memchr(line, '\n', len - 1)); /* one record, one line */
    json_error_t je;
    json_t *o = json_loads(line, 0, &je);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "event")), "state");
    assert_string_equal(json_string_value(json_object_get(o, "node")), node);
    assert_string_equal(json_string_value(json_object_get(o, "msg")), msg);
    const char *ts = json_string_value(json_object_get(o, "ts"));
    assert_non_null(ts);
    assert_int_equal(strlen(ts), strlen("2026-01-02T03:04:05.678Z"));
    assert_int_equal(ts[strlen(ts) - 1], 'Z');
    json_decref(o);
}

static void test_json_line_without_node(void **state)
{
    (void)state;
    char line[4096];
    logged(1, "start", NULL, "listening", line, sizeof line);
    json_error_t je;
    json_t *o = json_loads(line, 0, &je);
    assert_non_null(o);
    assert_null(json_object_get(o, "node"));
    assert_string_equal(json_string_value(json_object_get(o, "msg")), "listening");
    json_decref(o);
}

static void test_text_line(void **state)
{
    (void)state;
    char line[4096];
    logged(0, "down", "a@h", "connection lost", line, sizeof line);
    const char *rest = strstr(line, "Z beamprobe: ");
    assert_non_null(rest);
    assert_string_equal(rest, "Z beamprobe: down a@h: connection lost\n");
    logged(0, "start", NULL, "listening", line, sizeof line);
    assert_non_null(strstr(line, "Z beamprobe: start listening\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_line_round_trips),
        cmocka_unit_test(test_json_line_invalid_utf8),
        cmocka_unit_test(test_json_line_without_node),
        cmocka_unit_test(test_text_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

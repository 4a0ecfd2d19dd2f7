/* test_token_file.c: the bearer-token file reader (and the private secret-file reader under it) on real files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beamprobe.h"
#include "core/token_file.h"

typedef struct {
    char dir[64];
    char path[128];
    char tok[BP_TOKEN_MAX + 1];
    char err[512];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/bp-token-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/token", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Write n bytes to the fixture's file with the given mode, then load it. */
static int load(fx *f, const char *content, size_t n, mode_t mode)
{
    unlink(f->path);
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(content, 1, n, fp), n);
    fclose(fp);
    assert_int_equal(chmod(f->path, mode), 0);
    memset(f->tok, 'Z', sizeof f->tok);
    f->err[0] = '\0';
    return bp_token_file_load(f->path, f->tok, sizeof f->tok, f->err, sizeof f->err);
}

static void refused(fx *f, const char *content, size_t n, mode_t mode, const char *needle)
{
    assert_int_equal(load(f, content, n, mode), BP_EUSAGE);
    if (!strstr(f->err, needle) || !strstr(f->err, f->path))
        fail_msg("message '%s' lacks '%s' or the path", f->err, needle);
}

static void test_good_tokens(void **state)
{
    fx *f = *state;
    assert_int_equal(load(f, "s3cr3t\n", 7, 0600), 0);
    assert_string_equal(f->tok, "s3cr3t");
    assert_int_equal(load(f, "s3cr3t\r\n", 8, 0600), 0);
    assert_string_equal(f->tok, "s3cr3t");
    assert_int_equal(load(f, "s3cr3t", 6, 0400), 0);
    assert_string_equal(f->tok, "s3cr3t");
    assert_int_equal(load(f, "a b=c/+~", 8, 0600), 0); /* interior spaces and token68 characters are kept */
    assert_string_equal(f->tok, "a b=c/+~");
}

static void test_line_breaks_and_nul(void **state)
{
    fx *f = *state;
    refused(f, "abc\0def\n", 8, 0600, "NUL byte at byte 3");
    refused(f, "abc\rdef\n", 8, 0600, "line break");
    refused(f, "abc\ndef\n", 8, 0600, "line break");
    refused(f, "abc\ndef", 7, 0600, "line break");
    refused(f, "abc\n\n", 5, 0600, "line break");     /* only one trailing newline is removed */
    refused(f, "abc\r", 4, 0600, "line break");       /* a lone CR is not a line end */
    refused(f, "ab\tc\n", 5, 0600, "control character");
    refused(f, " abc\n", 5, 0600, "space");
    refused(f, "abc \n", 5, 0600, "space");
    /* the message names the problem, never the token */
    refused(f, "topsecret\0x", 11, 0600, "NUL");
    assert_null(strstr(f->err, "topsecret"));
}

static void test_modes(void **state)
{
    fx *f = *state;
    refused(f, "s3cr3t\n", 7, 0644, "mode 0644");
    assert_non_null(strstr(f->err, "chmod 600"));
    refused(f, "s3cr3t\n", 7, 0640, "group or others");
    refused(f, "s3cr3t\n", 7, 0604, "group or others");
    refused(f, "s3cr3t\n", 7, 0660, "mode 0660");
}

static void test_empty(void **state)
{
    fx *f = *state;
    refused(f, "", 0, 0600, "empty");
    refused(f, "\n", 1, 0600, "empty");
    refused(f, "\r\n", 2, 0600, "empty");
}

static void test_lengths(void **state)
{
    fx *f = *state;
    char *big = malloc(5002);
    assert_non_null(big);
    memset(big, 'k', 5002);
    assert_int_equal(load(f, big, BP_TOKEN_MAX, 0600), 0);
    assert_int_equal(strlen(f->tok), BP_TOKEN_MAX);
    memcpy(big + BP_TOKEN_MAX, "\r\n", 2);
    assert_int_equal(load(f, big, BP_TOKEN_MAX + 2, 0600), 0); /* the longest token with a CRLF */
    assert_int_equal(strlen(f->tok), BP_TOKEN_MAX);
    memset(big, 'k', 5002);
    refused(f, big, BP_TOKEN_MAX + 1, 0600, "longer than 4095 bytes");
    big[BP_TOKEN_MAX + 1] = '\n';
    refused(f, big, BP_TOKEN_MAX + 2, 0600, "longer than 4095 bytes");
    refused(f, big, 5000, 0600, "longer than 4095 bytes");
    free(big);
}

static void test_not_a_file(void **state)
{
    fx *f = *state;
    char err[512];
    assert_int_equal(bp_token_file_load(f->dir, f->tok, sizeof f->tok, err, sizeof err), BP_EUSAGE);
    assert_non_null(strstr(err, "not a regular file"));
    unlink(f->path);
    assert_int_equal(bp_token_file_load(f->path, f->tok, sizeof f->tok, err, sizeof err), BP_EUSAGE);
    assert_non_null(strstr(err, "cannot open --auth-token-file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_breaks_and_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lengths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

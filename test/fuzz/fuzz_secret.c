/* fuzz_secret.c: libFuzzer target for the cookie and bearer-token file rules (dist/cookie.c, core/token_file.c, core/secret_file.c). */
/*
 * The input is a file's content. It is checked in memory (bp_token_check,
 * bp_cookie_check) and also written to one private temporary file (mode 0600,
 * created once) that the real loaders read through bp_secret_file_read: both
 * ways must agree. Invariants: a token is 1..BP_TOKEN_MAX printable bytes
 * without blanks at its ends; a cookie is one non-empty line without trailing
 * blanks; the file loaders agree with the in-memory checks, messages included.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beamprobe.h"
#include "core/token_file.h"
#include "dist/cookie.h"
#include "fuzz.h"

static char path[64];
static int fd = -1;

static void remove_file(void)
{
    if (fd >= 0)
        unlink(path);
}

/* The private file, created once; rewritten with the content of each input. */
static int put_file(const uint8_t *data, size_t size)
{
    if (fd < 0) {
        /* in memory where possible: on a disk, every rewrite costs milliseconds */
        const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/bp-fuzz-secret-XXXXXX", tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
        fd = mkstemp(path); /* mode 0600 */
        if (fd < 0)
            return -1;
        atexit(remove_file);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        return -1;
    return 0;
}

static void check_token(const uint8_t *data, size_t size)
{
    size_t tok = 0;
    char err[512], ferr[512];
    static char out[BP_TOKEN_MAX + 1];
    int rc = bp_token_check("F", (const char *)data, size, &tok, err, sizeof err);
    CHECK(rc == 0 || rc == BP_EUSAGE);
    if (rc == 0) {
        CHECK(tok >= 1 && tok <= BP_TOKEN_MAX && tok <= size && size - tok <= 2);
        CHECK(data[0] != ' ' && data[tok - 1] != ' ');
        for (size_t i = 0; i < tok; i++)
            CHECK(data[i] == '\t' || (data[i] >= 0x20 && data[i] != 0x7f));
    } else {
        CHECK(fuzz_terminated(err, sizeof err) && strstr(err, "--auth-token-file F") == err);
    }
    if (size > BP_TOKEN_MAX + 2 || put_file(data, size) != 0)
        return;
    int frc = bp_token_file_load(path, out, sizeof out, ferr, sizeof ferr);
    CHECK(frc == rc);
    if (rc == 0) {
        CHECK(strlen(out) == tok && memcmp(out, data, tok) == 0);
    } else {
        const char *tail = strstr(ferr, path);
        CHECK(tail && strcmp(tail + strlen(path), err + strlen("--auth-token-file F")) == 0);
    }
}

static void check_cookie(const uint8_t *data, size_t size)
{
    char buf[BP_COOKIE_MAX + 2], out[BP_COOKIE_MAX + 1], fout[BP_COOKIE_MAX + 1], err[512], ferr[512];
    size_t n = size < BP_COOKIE_MAX + 1 ? size : BP_COOKIE_MAX + 1; /* what the loader reads */
    memcpy(buf, data, n);
    buf[n] = '\0';
    int rc = bp_cookie_check("F", buf, n, out, sizeof out, err, sizeof err);
    CHECK(rc == 0 || rc == BP_ECOOKIE);
    if (rc == 0) {
        size_t len = strlen(out);
        CHECK(len >= 1 && len <= BP_COOKIE_MAX && memcmp(out, data, len) == 0);
        CHECK(!strpbrk(out, "\r\n") && out[len - 1] != ' ' && out[len - 1] != '\t');
    } else {
        CHECK(fuzz_terminated(err, sizeof err) && err[0] != '\0');
    }
    if (size > BP_TOKEN_MAX + 2 || put_file(data, size) != 0)
        return;
    int frc = bp_cookie_load(path, fout, sizeof fout, ferr, sizeof ferr);
    CHECK(frc == rc);
    if (rc == 0)
        CHECK(strcmp(out, fout) == 0);
    /* a short cookie in a too small room is refused, never cut */
    if (rc == 0 && strlen(out) > 1) {
        memcpy(buf, data, n);
        buf[n] = '\0';
        CHECK(bp_cookie_check("F", buf, n, out, strlen(out), err, sizeof err) == BP_ECOOKIE);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_token(data, size);
    check_cookie(data, size);
    return 0;
}

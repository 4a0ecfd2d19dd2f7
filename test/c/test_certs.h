/* Test helper: certificates made once by openssl(1) in a temporary directory, for the TLS tests. */
#ifndef BP_TEST_CERTS_H
#define BP_TEST_CERTS_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char certdir[64];
static int have_certs = -1;

static void cert_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", certdir, name);
}

/* Runs the shell STEPS (with $EC the options of a new P-256 key, output discarded) once, in a
 * new directory made from TEMPLATE; 1 if they succeeded, else 0 after printing SKIPPED. */
static int make_certs_with(const char *template, const char *steps, const char *skipped)
{
    if (have_certs >= 0)
        return have_certs;
    have_certs = 0;
    snprintf(certdir, sizeof certdir, "%s", template);
    if (!mkdtemp(certdir))
        return 0;
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd %s && exec >/dev/null 2>&1 && "
             "EC='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes' && %s",
             certdir, steps);
    if (system(cmd) != 0) {
        print_message("%s", skipped);
        return 0;
    }
    have_certs = 1;
    return 1;
}

static void remove_certs(void)
{
    if (certdir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", certdir);
        (void)!system(cmd);
    }
}

#endif

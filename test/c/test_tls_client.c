/* test_tls_client.c: unit tests of the distribution TLS client's failures: unusable files, a peer that is not TLS, silence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "dist/tls_client.h"
#include "test_certs.h"

/* a CA, a client certificate signed by it, a key of another pair, the client key encrypted, a non-PEM file */
static int make_certs(void)
{
    return make_certs_with(
        "/tmp/bp-tlsc-XXXXXX",
        "openssl req -x509 $EC -keyout ca.key -out ca.pem -days 2 -subj /CN=bp-test-ca && "
        "openssl req $EC -keyout cli.key -out cli.csr -subj /CN=probe-client && "
        "openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cli.pem -days 2 && "
        "openssl req -x509 $EC -keyout other.key -out other.pem -days 2 -subj /CN=other && "
        "openssl pkey -in cli.key -aes128 -passout pass:secret -out enc.key && "
        "printf 'not a certificate\\n' > junk.pem",
        "openssl could not make the test certificates: skipped\n");
}

static int setup(void **state)
{
    (void)state;
    return make_certs() ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    remove_certs();
    return 0;
}

/* bp__tls_client_new with these files (NULL = not given): its code; err holds the message */
static int client_with(const char *ca, const char *cert, const char *key, char *err, size_t errlen)
{
    char pca[128], pcert[128], pkey[128];
    cert_path(pca, sizeof pca, ca ? ca : "");
    cert_path(pcert, sizeof pcert, cert ? cert : "");
    cert_path(pkey, sizeof pkey, key ? key : "");
    bp_dist_tls o = { .cafile = ca ? pca : NULL, .certfile = cert ? pcert : NULL, .keyfile = key ? pkey : NULL,
                      .verify = 1 };
    bp__tls_client *c = NULL;
    err[0] = '\0';
    int rc = bp__tls_client_new(&o, &c, err, errlen);
    if (rc == 0) {
        assert_non_null(c);
        assert_int_equal(bp__tls_client_has_cert(c), cert != NULL);
        bp__tls_client_free(c);
    } else {
        assert_null(c);
    }
    return rc;
}

static void test_good_files_accepted(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(client_with("ca.pem", NULL, NULL, err, sizeof err), 0);
    assert_int_equal(client_with("ca.pem", "cli.pem", "cli.key", err, sizeof err), 0);
}

static void test_unusable_cafile(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(client_with("missing.pem", NULL, NULL, err, sizeof err), BP_ECONFIG);
    assert_non_null(strstr(err, "cannot use --tls-cafile "));
    assert_non_null(strstr(err, "/missing.pem"));
    assert_int_equal(client_with("junk.pem", NULL, NULL, err, sizeof err), BP_ECONFIG);
    assert_non_null(strstr(err, "cannot use --tls-cafile "));
    assert_non_null(strstr(err, "/junk.pem"));
}

static void test_cert_and_key_go_together(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(client_with("ca.pem", "cli.pem", NULL, err, sizeof err), BP_ECONFIG);
    assert_string_equal(err, "--tls-certfile and --tls-keyfile go together");
    assert_int_equal(client_with("ca.pem", NULL, "cli.key", err, sizeof err), BP_ECONFIG);
    assert_string_equal(err, "--tls-certfile and --tls-keyfile go together");
}

static void test_unusable_cert_or_key(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(client_with("ca.pem", "junk.pem", "cli.key", err, sizeof err), BP_ECONFIG);
    assert_non_null(strstr(err, "cannot use --tls-certfile "));
    assert_int_equal(client_with("ca.pem", "cli.pem", "missing.key", err, sizeof err), BP_ECONFIG);
    assert_non_null(strstr(err, "cannot use --tls-keyfile "));
    assert_non_null(strstr(err, "/missing.key"));
    /* the key of another certificate: refused, naming the key file */
    assert_int_equal(client_with("ca.pem", "cli.pem", "other.key", err, sizeof err), BP_ECONFIG);
    assert_non_null(strstr(err, "cannot use --tls-keyfile"));
    assert_non_null(strstr(err, "/other.key"));
}

/* An encrypted key is refused at once: a probe never prompts for a passphrase. */
static void test_encrypted_key_refused_without_prompt(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(client_with("ca.pem", "cli.pem", "enc.key", err, sizeof err), BP_ECONFIG);
    assert_non_null(strstr(err, "cannot use --tls-keyfile "));
    assert_non_null(strstr(err, "/enc.key"));
}

/* The handshake against the other end of a socket pair (its end already written or closed). */
static bp_tls_fail handshake_against(int peer_action, const char *peer_bytes, int64_t deadline_ms, char *why,
                                     size_t whylen)
{
    char pca[128];
    cert_path(pca, sizeof pca, "ca.pem");
    bp_dist_tls o = { .cafile = pca, .verify = 1 };
    bp__tls_client *c = NULL;
    char err[256];
    assert_int_equal(bp__tls_client_new(&o, &c, err, sizeof err), 0);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    if (peer_bytes)
        assert_int_equal(write(sv[1], peer_bytes, strlen(peer_bytes)), (ssize_t)strlen(peer_bytes));
    if (peer_action == 'c')
        close(sv[1]);
    SSL *ssl = NULL;
    why[0] = '\0';
    bp_tls_fail kind = bp__tls_client_connect(c, sv[0], "node.example", deadline_ms, &ssl, why, whylen);
    assert_null(ssl);
    close(sv[0]);
    if (peer_action != 'c')
        close(sv[1]);
    bp__tls_client_free(c);
    return kind;
}

static void test_peer_answering_plain_text_is_not_tls(void **state)
{
    (void)state;
    char why[512];
    bp_tls_fail k = handshake_against('c', "HTTP/1.1 400 Bad Request\r\n\r\n", bp_now_ms() + 2000, why, sizeof why);
    assert_int_equal(k, BP_TLS_NOT_TLS);
    assert_non_null(strstr(why, "the node does not speak TLS (plain TCP distribution?)"));
}

static void test_peer_closing_at_once_is_not_tls(void **state)
{
    (void)state;
    char why[512];
    bp_tls_fail k = handshake_against('c', NULL, bp_now_ms() + 2000, why, sizeof why);
    assert_int_equal(k, BP_TLS_NOT_TLS);
    assert_non_null(strstr(why, "the node does not speak TLS"));
}

/* A peer that reads the ClientHello and says nothing: the deadline ends the handshake, with a message. */
static void test_silent_peer_times_out(void **state)
{
    (void)state;
    char why[512];
    bp_tls_fail k = handshake_against('s', NULL, bp_now_ms() + 50, why, sizeof why);
    assert_int_equal(k, BP_TLS_TIMEOUT);
    assert_non_null(strstr(why, "no answer to the TLS ClientHello"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_files_accepted),
        cmocka_unit_test(test_unusable_cafile),
        cmocka_unit_test(test_cert_and_key_go_together),
        cmocka_unit_test(test_unusable_cert_or_key),
        cmocka_unit_test(test_encrypted_key_refused_without_prompt),
        cmocka_unit_test(test_peer_answering_plain_text_is_not_tls),
        cmocka_unit_test(test_peer_closing_at_once_is_not_tls),
        cmocka_unit_test(test_silent_peer_times_out),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

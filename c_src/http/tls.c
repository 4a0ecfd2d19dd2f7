/* tls.c: the HTTP server's TLS: a context from PEM files and non-blocking handshake, read and write. */
#include "http/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "beamprobe.h"
#include "dist/tls_sock.h"

struct bp__http_tls {
    SSL_CTX *ctx;
    BIO_METHOD *bio; /* per server: no process-wide state */
};

/* ---------- context ---------- */

/* Never prompt for a passphrase: an encrypted key fails to load instead. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return 0;
}

/* Describe the first queued OpenSSL error after `what`, then empty the queue. */
static void ossl_fail(char *err, size_t errlen, const char *opt, const char *path, const char *what)
{
    unsigned long e = ERR_peek_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    if (reason)
        snprintf(err, errlen, "%s %s: %s (%s)", opt, path, what, reason);
    else
        snprintf(err, errlen, "%s %s: %s", opt, path, what);
    ERR_clear_error();
}

/* The key loaded but belongs to another certificate (OpenSSL checks while loading). */
static int key_mismatch(unsigned long e)
{
    return ERR_GET_LIB(e) == ERR_LIB_X509
           && (ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH || ERR_GET_REASON(e) == X509_R_KEY_TYPE_MISMATCH);
}

/* A readable file, else a message saying why not. */
static int check_file(const char *opt, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s %s: %s", opt, path, strerror(errno));
        return BP_EUSAGE;
    }
    (void)fclose(f); /* opened only to prove it readable */
    return 0;
}

static int load_client_ca(SSL_CTX *ctx, const char *ca, char *err, size_t errlen)
{
    if (check_file("tls_client_ca", ca, err, errlen) != 0)
        return BP_EUSAGE;
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        ossl_fail(err, errlen, "tls_client_ca", ca, "cannot load CA certificates");
        return BP_EUSAGE;
    }
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
    if (!names) {
        ossl_fail(err, errlen, "tls_client_ca", ca, "no CA certificate in file");
        return BP_EUSAGE;
    }
    SSL_CTX_set_client_CA_list(ctx, names); /* takes ownership */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return 0;
}

static int make_bio_method(bp__http_tls *t)
{
    t->bio = bp__tls_sock_method("beamprobe http socket");
    return t->bio ? 0 : BP_ENOMEM;
}

int bp__http_tls_new(const char *cert, const char *key, const char *client_ca, bp__http_tls **out, char *err,
                     size_t errlen)
{
    static const unsigned char sid_ctx[] = "beamprobe-http";
    int rc = BP_EUSAGE;
    bp__http_tls *t = NULL;
    ERR_clear_error();
    if (!cert || !key) {
        snprintf(err, errlen, "TLS needs both a certificate (tls_cert) and its private key (tls_key)");
        goto out;
    }
    if (check_file("tls_cert", cert, err, errlen) != 0 || check_file("tls_key", key, err, errlen) != 0)
        goto out;
    t = calloc(1, sizeof *t);
    if (!t || !(t->ctx = SSL_CTX_new(TLS_server_method())) || make_bio_method(t) != 0) {
        snprintf(err, errlen, "cannot create the TLS context: out of memory");
        rc = BP_ENOMEM;
        goto out;
    }
    SSL_CTX_set_default_passwd_cb(t->ctx, no_passphrase);
    if (SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) != 1) {
        snprintf(err, errlen, "cannot require TLS 1.2 or later");
        goto out;
    }
    SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                                 | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_id_context(t->ctx, sid_ctx, sizeof sid_ctx - 1);
    if (SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1) {
        ossl_fail(err, errlen, "tls_cert", cert, "cannot load the certificate (PEM expected)");
        goto out;
    }
    if (SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1) {
        int mismatch = key_mismatch(ERR_peek_error());
        ossl_fail(err, errlen, "tls_key", key,
                  mismatch ? "does not match the certificate in tls_cert"
                           : "cannot load the private key (unencrypted PEM expected)");
        goto out;
    }
    if (SSL_CTX_check_private_key(t->ctx) != 1) {
        ossl_fail(err, errlen, "tls_key", key, "does not match the certificate in tls_cert");
        goto out;
    }
    if (client_ca && load_client_ca(t->ctx, client_ca, err, errlen) != 0)
        goto out;
    *out = t;
    t = NULL;
    rc = 0;
out:
    bp__http_tls_free(t);
    ERR_clear_error();
    return rc;
}

void bp__http_tls_free(bp__http_tls *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    BIO_meth_free(t->bio);
    free(t);
}

SSL *bp__http_tls_conn(bp__http_tls *t, int fd)
{
    SSL *ssl = SSL_new(t->ctx);
    if (!ssl || bp__tls_sock_attach(ssl, t->bio, fd) != 0) {
        SSL_free(ssl);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_accept_state(ssl);
    return ssl;
}

/* ---------- non-blocking steps ---------- */

/* Map the outcome of a failed SSL call; 0 with *want, or BP_EIO. */
static int step_error(SSL *ssl, int ret, uint32_t *want, int *eof)
{
    int e = SSL_get_error(ssl, ret);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        *want = EPOLLIN;
        return 0;
    case SSL_ERROR_WANT_WRITE:
        *want = EPOLLOUT;
        return 0;
    case SSL_ERROR_ZERO_RETURN:
        *eof = 1;
        return 0;
    default:
        return BP_EIO;
    }
}

int bp__http_tls_handshake(SSL *ssl, uint32_t *want, char *why, size_t whylen)
{
    int eof = 0;
    *want = 0;
    ERR_clear_error();
    int ret = SSL_do_handshake(ssl);
    if (ret == 1)
        return 1;
    int rc = step_error(ssl, ret, want, &eof);
    if (rc == 0 && !eof)
        return 0;
    unsigned long e = ERR_peek_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    snprintf(why, whylen, "%s", reason ? reason : "connection closed during the handshake");
    ERR_clear_error();
    return BP_EIO;
}

ssize_t bp__http_tls_read(SSL *ssl, char *p, size_t n, uint32_t *want)
{
    size_t got = 0;
    int eof = 0;
    *want = 0;
    ERR_clear_error();
    int ret = SSL_read_ex(ssl, p, n, &got);
    if (ret == 1)
        return (ssize_t)got;
    int rc = step_error(ssl, ret, want, &eof);
    ERR_clear_error();
    return rc;
}

ssize_t bp__http_tls_write(SSL *ssl, const char *p, size_t n, uint32_t *want)
{
    size_t put = 0;
    int eof = 0;
    *want = 0;
    ERR_clear_error();
    int ret = SSL_write_ex(ssl, p, n, &put);
    if (ret == 1)
        return (ssize_t)put;
    int rc = step_error(ssl, ret, want, &eof);
    ERR_clear_error();
    return rc == 0 && eof ? BP_EIO : rc;
}

void bp__http_tls_close(SSL *ssl, int clean)
{
    if (!ssl)
        return;
    if (clean && SSL_is_init_finished(ssl))
        (void)SSL_shutdown(ssl);
    ERR_clear_error();
    SSL_free(ssl);
}

/* tls_client.c: the OpenSSL client side of TLS distribution: context, handshake, reads and writes under a deadline. */
#include "dist/tls_client.h"

#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "dist/tls_sock.h"

struct bp__tls_client {
    SSL_CTX *ctx;
    BIO_METHOD *bio;
    int verify;
    int has_cert;
};

/* Never prompt for a passphrase: an encrypted key fails to load instead. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return 0;
}

static int file_fail(char *err, size_t errlen, const char *what, const char *path)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    snprintf(err, errlen, "cannot use %s %s%s%s", what, path, reason ? ": " : "", reason ? reason : "");
    ERR_clear_error();
    return BP_ECONFIG;
}

int bp__tls_client_new(const bp_dist_tls *o, bp__tls_client **out, char *err, size_t errlen)
{
    *out = NULL;
    bp__tls_client *c = calloc(1, sizeof *c);
    if (!c || !(c->ctx = SSL_CTX_new(TLS_client_method()))
        || !(c->bio = bp__tls_sock_method("beamprobe dist socket"))) {
        bp__tls_client_free(c);
        snprintf(err, errlen, "out of memory");
        return BP_ENOMEM;
    }
    int rc = 0;
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_default_passwd_cb(c->ctx, no_passphrase);
    SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    c->verify = o->verify;
    SSL_CTX_set_verify(c->ctx, o->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    if (o->cafile && *o->cafile) {
        if (SSL_CTX_load_verify_locations(c->ctx, o->cafile, NULL) != 1)
            rc = file_fail(err, errlen, "--tls-cafile", o->cafile);
    } else if (o->verify && SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
        /* (the system store costs ~30 ms of CPU to load: only when something is verified against it) */
        ERR_clear_error(); /* no system CAs: verification will say so */
    }
    int has_cert = o->certfile && *o->certfile, has_key = o->keyfile && *o->keyfile;
    if (rc == 0 && has_cert != has_key) {
        snprintf(err, errlen, "--tls-certfile and --tls-keyfile go together");
        rc = BP_ECONFIG;
    }
    if (rc == 0 && has_cert) {
        if (SSL_CTX_use_certificate_chain_file(c->ctx, o->certfile) != 1)
            rc = file_fail(err, errlen, "--tls-certfile", o->certfile);
        else if (SSL_CTX_use_PrivateKey_file(c->ctx, o->keyfile, SSL_FILETYPE_PEM) != 1)
            rc = file_fail(err, errlen, "--tls-keyfile", o->keyfile);
        else if (SSL_CTX_check_private_key(c->ctx) != 1)
            rc = file_fail(err, errlen, "--tls-keyfile (does not match --tls-certfile)", o->keyfile);
        c->has_cert = 1;
    }
    if (rc) {
        bp__tls_client_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void bp__tls_client_free(bp__tls_client *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ctx);
    BIO_meth_free(c->bio);
    free(c);
}

int bp__tls_client_has_cert(const bp__tls_client *c)
{
    return c && c->has_cert;
}

/* Wait for fd to be ready in the direction OpenSSL asked for: 0, or -2 at the deadline. */
static int wait_for(SSL *ssl, int fd, int ssl_err, int64_t deadline_ms)
{
    if (ssl_err == SSL_ERROR_WANT_READ && SSL_pending(ssl) > 0)
        return 0;
    struct pollfd p = { .fd = fd, .events = ssl_err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN };
    for (;;) {
        int left = bp_remaining_ms(deadline_ms);
        if (left == 0)
            return -2;
        int rc = poll(&p, 1, left);
        if (rc > 0)
            return 0;
        if (rc == 0)
            return -2;
    }
}

/* Classify a failed TLS step from OpenSSL's error queue (then emptied). */
static bp_tls_fail describe(SSL *ssl, int ssl_err, int have_cert, int in_handshake, char *why, size_t whylen)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    int lib_reason = e ? ERR_GET_REASON(e) : 0;
    long vr = SSL_get_verify_result(ssl);
    bp_tls_fail kind = BP_TLS_FAILED;
    if (in_handshake && vr != X509_V_OK && lib_reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        snprintf(why, whylen, "certificate verify failed: %s", X509_verify_cert_error_string(vr));
        kind = BP_TLS_VERIFY;
    } else if (reason && (strstr(reason, "certificate required") || (!have_cert && strstr(reason, "handshake failure")))) {
        snprintf(why, whylen, "the node requires a client certificate (give --tls-certfile and --tls-keyfile): %s",
                 reason);
        kind = BP_TLS_CLIENT_CERT;
    } else if (in_handshake && (ssl_err == SSL_ERROR_SYSCALL || ssl_err == SSL_ERROR_ZERO_RETURN
                                || lib_reason == SSL_R_WRONG_VERSION_NUMBER || lib_reason == SSL_R_PACKET_LENGTH_TOO_LONG
                                || lib_reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        snprintf(why, whylen, "the node does not speak TLS (plain TCP distribution?)%s%s", reason ? ": " : "",
                 reason ? reason : "");
        kind = BP_TLS_NOT_TLS;
    } else {
        snprintf(why, whylen, "TLS %s failed: %s", in_handshake ? "handshake" : "connection",
                 reason ? reason : ssl_err == SSL_ERROR_SYSCALL ? "connection closed" : "unknown error");
    }
    ERR_clear_error();
    return kind;
}

bp_tls_fail bp__tls_client_connect(bp__tls_client *c, int fd, const char *host, int64_t deadline_ms, SSL **out,
                                   char *why, size_t whylen)
{
    *out = NULL;
    ERR_clear_error();
    SSL *ssl = SSL_new(c->ctx);
    if (!ssl || bp__tls_sock_attach(ssl, c->bio, fd) != 0) {
        SSL_free(ssl);
        snprintf(why, whylen, "out of memory");
        return BP_TLS_FAILED;
    }
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    if (!is_ip)
        SSL_set_tlsext_host_name(ssl, host);
    if (c->verify) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if ((is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, host) : X509_VERIFY_PARAM_set1_host(vp, host, 0)) != 1) {
            SSL_free(ssl);
            snprintf(why, whylen, "cannot check a certificate for '%s'", host);
            return BP_TLS_FAILED;
        }
    }
    SSL_set_connect_state(ssl);
    for (;;) {
        int r = SSL_connect(ssl);
        if (r == 1)
            break;
        int se = SSL_get_error(ssl, r);
        if ((se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE) && wait_for(ssl, fd, se, deadline_ms) == 0)
            continue;
        bp_tls_fail kind = BP_TLS_TIMEOUT;
        if ((se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE) && SSL_get_state(ssl) == TLS_ST_CW_CLNT_HELLO)
            /* a plain node reads our ClientHello as the length of a huge handshake packet and waits */
            snprintf(why, whylen, "no answer to the TLS ClientHello: the node does not speak TLS (plain TCP "
                     "distribution?) or is not responding");
        else if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE)
            snprintf(why, whylen, "the TLS handshake did not finish");
        else
            kind = describe(ssl, se, c->has_cert, 1, why, whylen);
        SSL_free(ssl);
        return kind;
    }
    *out = ssl;
    return BP_TLS_OK;
}

ssize_t bp__tls_read(SSL *ssl, int fd, void *buf, size_t n, int64_t deadline_ms, int have_cert, bp_tls_fail *kind,
                     char *why, size_t whylen)
{
    for (;;) {
        size_t got = 0;
        ERR_clear_error();
        int r = SSL_read_ex(ssl, buf, n, &got);
        if (r == 1)
            return (ssize_t)got;
        int se = SSL_get_error(ssl, r);
        if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE) {
            if (wait_for(ssl, fd, se, deadline_ms) != 0)
                return -2;
            continue;
        }
        if (se == SSL_ERROR_ZERO_RETURN || (se == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
            ERR_clear_error();
            return 0;
        }
        *kind = describe(ssl, se, have_cert, 0, why, whylen);
        return -1;
    }
}

ssize_t bp__tls_write(SSL *ssl, int fd, const void *buf, size_t n, int64_t deadline_ms, char *why, size_t whylen)
{
    size_t done = 0;
    while (done < n) {
        size_t wrote = 0;
        ERR_clear_error();
        int r = SSL_write_ex(ssl, (const char *)buf + done, n - done, &wrote);
        if (r == 1) {
            done += wrote;
            continue;
        }
        int se = SSL_get_error(ssl, r);
        if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE) {
            if (wait_for(ssl, fd, se, deadline_ms) != 0)
                return -2;
            continue;
        }
        (void)describe(ssl, se, 1, 0, why, whylen);
        return -1;
    }
    return (ssize_t)n;
}

int bp__tls_pending(SSL *ssl)
{
    return ssl ? SSL_pending(ssl) : 0;
}

void bp__tls_close(SSL *ssl)
{
    if (!ssl)
        return;
    (void)SSL_shutdown(ssl); /* non-blocking socket: sends close_notify if it can, never waits */
    SSL_free(ssl);
    ERR_clear_error();
}

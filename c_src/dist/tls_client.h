/* tls_client.h: TLS for the distribution connection (OpenSSL client): context, handshake and I/O under a deadline. */
#ifndef BP_TLS_CLIENT_H
#define BP_TLS_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

/* How to speak TLS to a node (inet_tls_dist). */
typedef struct {
    const char *cafile;      /* PEM CA bundle the node's certificate must chain to; NULL/"" = system CAs */
    const char *certfile;    /* our certificate, for nodes with fail_if_no_peer_cert; NULL/"" = none */
    const char *keyfile;     /* its key (unencrypted PEM) */
    int verify;              /* 1: verify the node's certificate and its name; 0: accept any */
    const char *server_name; /* the name the certificate must carry; NULL/"" = the node's host */
} bp_dist_tls;

/* What went wrong in a TLS step, for the message the user gets. */
typedef enum {
    BP_TLS_OK = 0,
    BP_TLS_TIMEOUT,     /* the deadline passed */
    BP_TLS_NOT_TLS,     /* the peer answered something that is not TLS, or closed */
    BP_TLS_VERIFY,      /* the node's certificate did not verify (untrusted, expired, wrong name) */
    BP_TLS_CLIENT_CERT, /* the node wants a client certificate we did not give */
    BP_TLS_FAILED       /* any other TLS failure */
} bp_tls_fail;

/* A client context: TLS 1.2+, the CA, our certificate, and the socket BIO method. */
typedef struct bp__tls_client bp__tls_client;

/* 0, or BP_ECONFIG with a message naming the file that cannot be used, or BP_ENOMEM. */
int bp__tls_client_new(const bp_dist_tls *o, bp__tls_client **out, char *err, size_t errlen);
void bp__tls_client_free(bp__tls_client *c);
/* Whether the context presents a client certificate. */
int bp__tls_client_has_cert(const bp__tls_client *c);

/*
 * Run the handshake on the connected non-blocking socket fd (not owned),
 * checking the certificate against host (a DNS name or an IP literal) when
 * verify is set. 0 with *out set, or the failure kind with why[] filled.
 */
bp_tls_fail bp__tls_client_connect(bp__tls_client *c, int fd, const char *host, int64_t deadline_ms, SSL **out,
                                   char *why, size_t whylen);

/*
 * Read at most n bytes, waiting until the deadline: > 0 bytes, 0 at a clean
 * or abrupt end of stream, -1 on error (why filled, *kind set), -2 at the deadline.
 */
ssize_t bp__tls_read(SSL *ssl, int fd, void *buf, size_t n, int64_t deadline_ms, int have_cert, bp_tls_fail *kind,
                     char *why, size_t whylen);
/* Write all n bytes: n, -1 on error (why filled), -2 at the deadline. */
ssize_t bp__tls_write(SSL *ssl, int fd, const void *buf, size_t n, int64_t deadline_ms, char *why, size_t whylen);
/* Bytes already decrypted and waiting inside OpenSSL (poll cannot see them). */
int bp__tls_pending(SSL *ssl);
/* Free without waiting (a close_notify is sent only if it can go at once). */
void bp__tls_close(SSL *ssl);

#endif

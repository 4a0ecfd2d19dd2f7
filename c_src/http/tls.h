/* tls.h: the HTTP server's TLS: a context from PEM files and non-blocking handshake, read and write. */
#ifndef BP_HTTP_TLS_H
#define BP_HTTP_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

/* A server context (TLS 1.2 minimum) and the socket BIO method its connections use. */
typedef struct bp__http_tls bp__http_tls;

/*
 * Load cert (PEM chain) and key, check that they match; with client_ca,
 * require a client certificate signed by it during the handshake. 0, or
 * BP_EUSAGE with a message naming the file and the reason in err.
 */
int bp__http_tls_new(const char *cert, const char *key, const char *client_ca, bp__http_tls **out, char *err,
                     size_t errlen);
void bp__http_tls_free(bp__http_tls *t);

/*
 * A server-side SSL on the connected, non-blocking socket fd (not owned), or
 * NULL. Its I/O uses send(MSG_NOSIGNAL)/recv, so a dead peer never raises
 * SIGPIPE.
 */
SSL *bp__http_tls_conn(bp__http_tls *t, int fd);

/*
 * Non-blocking steps. Each returns > 0 on progress (bytes, or 1 for a
 * finished handshake); 0 with *want = EPOLLIN or EPOLLOUT when it must be
 * retried with the same arguments once the socket is ready; 0 with *want = 0
 * at a clean end of stream (read only); BP_EIO when the session is broken (then
 * pass clean = 0 to bp__http_tls_close). They leave the thread's OpenSSL error
 * queue empty. A failed handshake says why in why[whylen] ("http request",
 * "peer did not return a certificate", ...).
 */
int bp__http_tls_handshake(SSL *ssl, uint32_t *want, char *why, size_t whylen);
ssize_t bp__http_tls_read(SSL *ssl, char *p, size_t n, uint32_t *want);
ssize_t bp__http_tls_write(SSL *ssl, const char *p, size_t n, uint32_t *want);

/* Send close_notify when clean (best effort, never waits), then free. */
void bp__http_tls_close(SSL *ssl, int clean);

#endif

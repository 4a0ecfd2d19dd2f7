/* tls_sock.h: an OpenSSL socket BIO that never raises SIGPIPE, shared by the HTTPS server and TLS distribution. */
#ifndef BP_TLS_SOCK_H
#define BP_TLS_SOCK_H

#include <openssl/bio.h>
#include <openssl/ssl.h>

/*
 * A BIO method over a non-blocking socket: send(MSG_NOSIGNAL) and recv, so a
 * peer that went away never raises SIGPIPE, and EAGAIN becomes a retry. One
 * per server or client context (no process-wide state); BIO_meth_free it.
 * NULL on OOM.
 */
BIO_METHOD *bp__tls_sock_method(const char *name);

/* Give ssl a BIO of method m on fd (not owned). 0, or -1 on OOM (ssl unchanged). */
int bp__tls_sock_attach(SSL *ssl, BIO_METHOD *m, int fd);

#endif

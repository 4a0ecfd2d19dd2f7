/* tls_sock.c: an OpenSSL socket BIO that never raises SIGPIPE (send with MSG_NOSIGNAL, recv). */
#include "dist/tls_sock.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

static int bio_write(BIO *b, const char *p, int n)
{
    int fd = (int)(intptr_t)BIO_get_data(b);
    BIO_clear_retry_flags(b);
    for (;;) {
        ssize_t w = send(fd, p, (size_t)n, MSG_NOSIGNAL);
        if (w >= 0)
            return (int)w;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_write(b);
        return -1;
    }
}

static int bio_read(BIO *b, char *p, int n)
{
    int fd = (int)(intptr_t)BIO_get_data(b);
    BIO_clear_retry_flags(b);
    for (;;) {
        ssize_t r = recv(fd, p, (size_t)n, 0);
        if (r >= 0)
            return (int)r;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_read(b);
        return -1;
    }
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_puts(BIO *b, const char *s)
{
    return bio_write(b, s, (int)strlen(s));
}

BIO_METHOD *bp__tls_sock_method(const char *name)
{
    int idx = BIO_get_new_index();
    BIO_METHOD *m = idx == -1 ? NULL : BIO_meth_new(idx | BIO_TYPE_SOURCE_SINK, name);
    if (m && (!BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) || !BIO_meth_set_puts(m, bio_puts)
              || !BIO_meth_set_ctrl(m, bio_ctrl))) {
        BIO_meth_free(m);
        m = NULL;
    }
    return m;
}

int bp__tls_sock_attach(SSL *ssl, BIO_METHOD *m, int fd)
{
    BIO *b = BIO_new(m);
    if (!b)
        return -1;
    BIO_set_data(b, (void *)(intptr_t)fd);
    BIO_set_init(b, 1);
    SSL_set_bio(ssl, b, b);
    return 0;
}

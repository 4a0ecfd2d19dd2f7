/* Test helper: a scripted EPMD on a loopback port (ERL_EPMD_PORT points at it) that answers one request. */
#ifndef BP_TEST_FAKE_EPMD_H
#define BP_TEST_FAKE_EPMD_H

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    int lfd;
    const unsigned char *reply;
    size_t reply_len;
    int delay_ms;
} fake_epmd;

static void *fake_epmd_main(void *arg)
{
    fake_epmd *f = arg;
    int c = accept(f->lfd, NULL, NULL);
    if (c < 0)
        return NULL;
    unsigned char req[512];
    ssize_t n = recv(c, req, sizeof req, 0);
    (void)n;
    if (f->delay_ms)
        usleep((useconds_t)f->delay_ms * 1000);
    if (f->reply_len)
        (void)!write(c, f->reply, f->reply_len);
    close(c);
    return NULL;
}

/* Listen on a loopback port, point ERL_EPMD_PORT at it, serve one request. */
static pthread_t start_fake(fake_epmd *f)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->lfd >= 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(f->lfd, 4), 0);
    socklen_t len = sizeof sa;
    getsockname(f->lfd, (struct sockaddr *)&sa, &len);
    char port[16];
    snprintf(port, sizeof port, "%d", ntohs(sa.sin_port));
    setenv("ERL_EPMD_PORT", port, 1);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fake_epmd_main, f), 0);
    return t;
}

/* The PORT2_RESP of a node "node" listening on port (protocol 6). */
static size_t epmd_found_reply(unsigned char *out, unsigned port)
{
    const unsigned char found[] = { 119, 0, (unsigned char)(port >> 8), (unsigned char)port, 77, 0, 0, 6, 0, 5,
                                    0, 4, 'n', 'o', 'd', 'e', 0, 0 };
    memcpy(out, found, sizeof found);
    return sizeof found;
}

#endif

/* fuzz_handshake.c: libFuzzer target for the distribution handshake a node sends: status, challenge, challenge ack. */
/*
 * Two parsers read what a node answers to our name: ei's handshake (status,
 * challenge, challenge ack) and ours (dist/challenge.c for the node's name,
 * dist/transport.c for the status, fed by the transport's own read callback).
 * The input's first byte holds flags (bit 0: 4-byte packet headers for the
 * pure parser, as over TLS; bit 1: give the challenge ack the digest of our
 * cookie and ei's challenge, which the fuzzer cannot compute); the rest is the
 * node's bytes. ei runs the whole handshake over a socketpair: the status and
 * challenge packets are queued at once, the rest after ei's challenge reply.
 * Invariants: a stated name is NUL-terminated, one '@', no blanks; the status
 * printable; ei accepts a handshake only with the right digest and an "ok" status.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "beamprobe.h"
#include "core/clock.h"
#include "dist/challenge.h"
#include "dist/transport.h"
#include "fuzz.h"

#define COOKIE "fuzzcookie"

/* ---------- the pure parser ---------- */

static void check_name(const unsigned char *hs, size_t len, size_t header)
{
    char out[300], again[300];
    static const size_t rooms[] = { 1, 2, 8, 64, 256, 300 };
    for (size_t k = 0; k < sizeof rooms / sizeof rooms[0]; k++) {
        memset(out, 'Z', sizeof out);
        int rc = bp__challenge_name(hs, len, header, out, rooms[k]);
        CHECK(rc == 0 || rc == -1);
        if (rooms[k] < sizeof out)
            CHECK(out[rooms[k]] == 'Z');
        if (rc != 0)
            continue;
        size_t n = strlen(out);
        CHECK(n > 0 && n < rooms[k]);
        const char *at = strchr(out, '@');
        CHECK(at && at != out && at[1] != '\0' && !strchr(at + 1, '@'));
        for (size_t i = 0; i < n; i++)
            CHECK((unsigned char)out[i] > 0x20 && out[i] != 0x7f);
        CHECK(bp__challenge_name(hs, len, header, again, sizeof again) == 0 && strcmp(out, again) == 0);
    }
}

/* ---------- ei over a socketpair ---------- */

static struct {
    bp__transport t;
    int peer;                 /* the node's end */
    const unsigned char *now; /* what the node has sent when ei connects: status and challenge */
    size_t now_len;
    unsigned char later[4096];/* what the node sends after our challenge reply */
    size_t later_len;
    int fix_digest;
    int flushed;
} fz;

/* Send what is left of the node's bytes (with the right digest in an ack if asked) and end its stream. */
static void flush_later(const unsigned char *reply, size_t reply_len)
{
    if (fz.flushed)
        return;
    fz.flushed = 1;
    /* our reply: len:16 'r' challenge:32 digest:128; the ack: len:16 'a' digest:128 */
    if (fz.fix_digest && reply_len >= 7 && reply[2] == 'r' && fz.later_len >= 19 && fz.later[2] == 'a') {
        unsigned long ch = ((unsigned long)reply[3] << 24) | ((unsigned long)reply[4] << 16) |
                           ((unsigned long)reply[5] << 8) | reply[6];
        char text[64];
        int n = snprintf(text, sizeof text, "%s%lu", COOKIE, ch);
        unsigned int dlen = 0;
        CHECK(EVP_Digest(text, (size_t)n, fz.later + 3, &dlen, EVP_md5(), NULL) == 1 && dlen == 16);
    }
    if (fz.later_len)
        CHECK(write(fz.peer, fz.later, fz.later_len) == (ssize_t)fz.later_len);
    shutdown(fz.peer, SHUT_WR);
}

static int fz_socket(void **ctx, void *setup_ctx)
{
    bp__transport *t = setup_ctx;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        return errno;
    t->fd = sv[0];
    fz.peer = sv[1];
    *ctx = t;
    if (fz.now_len)
        CHECK(write(fz.peer, fz.now, fz.now_len) == (ssize_t)fz.now_len);
    if (fz.later_len == 0)
        flush_later(NULL, 0);
    return 0;
}

static int fz_connect(void *ctx, void *addr, int len, unsigned tmo)
{
    (void)addr, (void)len, (void)tmo;
    ((bp__transport *)ctx)->connected = 1;
    return 0;
}

static int fz_writev(void *ctx, const void *iov, int iovcnt, ssize_t *len, unsigned tmo)
{
    bp__transport *t = ctx;
    int rc = bp__transport_callbacks.writev(ctx, iov, iovcnt, len, tmo);
    if (rc == 0 && t->writes >= 2) {
        unsigned char sent[64];
        size_t n = 0;
        const struct iovec *v = iov;
        for (int i = 0; i < iovcnt && n < sizeof sent; i++) {
            size_t k = v[i].iov_len < sizeof sent - n ? v[i].iov_len : sizeof sent - n;
            memcpy(sent + n, v[i].iov_base, k);
            n += k;
        }
        flush_later(sent, n);
    }
    return rc;
}

static int fz_write(void *ctx, const char *buf, ssize_t *len, unsigned tmo)
{
    struct iovec v = { .iov_base = (void *)(uintptr_t)buf, .iov_len = (size_t)*len };
    return fz_writev(ctx, &v, 1, len, tmo);
}

/* Never wait: when ei has read everything queued, the rest comes (or the stream ends). */
static int fz_read(void *ctx, char *buf, ssize_t *len, unsigned tmo)
{
    bp__transport *t = ctx;
    struct pollfd p = { .fd = t->fd, .events = POLLIN };
    if (!fz.flushed && poll(&p, 1, 0) == 0)
        flush_later(NULL, 0);
    return bp__transport_callbacks.read(ctx, buf, len, tmo);
}

static int fz_close(void *ctx)
{
    if (fz.peer >= 0)
        close(fz.peer);
    fz.peer = -1;
    return bp__transport_callbacks.close(ctx);
}

static ei_socket_callbacks fz_callbacks;
static ei_cnode ec;

static int setup(void)
{
    static int done;
    if (done)
        return 0;
    if (ei_init() != 0)
        return -1;
    fz_callbacks = bp__transport_callbacks;
    fz_callbacks.socket = fz_socket;
    fz_callbacks.connect = fz_connect;
    fz_callbacks.writev = fz_writev;
    fz_callbacks.write = fz_write;
    fz_callbacks.read = fz_read;
    fz_callbacks.close = fz_close;
    if (ei_connect_xinit_ussi(&ec, "fuzzhost", "fz", "fz@fuzzhost", NULL, COOKIE, 1, &fz_callbacks,
                              sizeof fz_callbacks, &fz.t) < 0)
        return -1;
    done = 1;
    return 0;
}

/* End of the status and challenge packets (2-byte headers), or 0 when they are not both there. */
static size_t first_two(const unsigned char *p, size_t len)
{
    size_t at = 0;
    for (int k = 0; k < 2; k++) {
        if (len - at < 2)
            return 0;
        size_t n = ((size_t)p[at] << 8) | p[at + 1];
        if (n > len - at - 2)
            return 0;
        at += 2 + n;
    }
    return at;
}

static void run_ei(const unsigned char *node, size_t len, int fix_digest)
{
    if (setup() != 0)
        return;
    bp__addr lo = bp__addr_ipv4((struct in_addr){ htonl(0x7f000001) });
    bp__transport_init(&fz.t, bp_now_ms() + 2000, &lo, NULL, NULL);
    fz.peer = -1;
    fz.fix_digest = fix_digest;
    fz.flushed = 0;
    size_t now = first_two(node, len);
    if (now == 0 || len - now > sizeof fz.later)
        now = len;
    fz.later_len = len - now;
    memcpy(fz.later, node + now, fz.later_len);
    fz.now = node;
    fz.now_len = now;
    struct in_addr v4 = { htonl(0x7f000001) };
    int fd = ei_xconnect_host_port_tmo(&ec, &v4, 4370, 2000);
    char status[64], name[300];
    bp__transport_status(&fz.t, status, sizeof status);
    CHECK(fuzz_terminated(status, sizeof status));
    for (const char *p = status; *p; p++)
        CHECK(*p >= 0x20 && *p <= 0x7e);
    if (bp__transport_peer_name(&fz.t, name, sizeof name) == 0)
        CHECK(strchr(name, '@') != NULL);
    if (fd >= 0) {
        CHECK(fix_digest); /* never accepted without the cookie's digest */
        CHECK(strncmp(status, "ok", 2) == 0 || strncmp(status, "named:", 6) == 0);
        ei_close_connection(fd);
    } else {
        (void)fz_callbacks.close(&fz.t);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    check_name(data + 1, size - 1, data[0] & 1 ? 4 : 2);
    run_ei(data + 1, size - 1, data[0] & 2);
    return 0;
}

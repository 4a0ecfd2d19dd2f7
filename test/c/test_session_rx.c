/* test_session_rx.c: unit tests of the session's count of packets heard from the node (serve drops a session that heard nothing in a round). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "beamprobe.h"
#include "dist/session.h"
#include "dist/session_int.h"
#include "dist/transport.h"
#include "core/clock.h"
#include "dist/net.h"

/* A plain-TCP-like session over one end of a socket pair; the other end plays the node. */
typedef struct {
    bp_session *s;
    int node;
} fx;

static int setup(void **state)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    fx *f = calloc(1, sizeof *f);
    bp_session *s = calloc(1, sizeof *s);
    assert_non_null(f);
    assert_non_null(s);
    bp__addr lo = bp__addr_ipv4((struct in_addr){ htonl(0x7f000001) });
    bp__transport_init(&s->tr, 0, &lo, NULL, NULL);
    s->tr.fd = s->fd = sv[0];
    s->max_reply = 1 << 20;
    f->s = s;
    f->node = sv[1];
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    close(f->s->fd);
    close(f->node);
    free(f->s->rx);
    free(f->s);
    free(f);
    return 0;
}

static void node_sends(fx *f, const void *bytes, size_t n)
{
    assert_int_equal(write(f->node, bytes, n), (ssize_t)n);
}

static void silence_is_not_counted(void **state)
{
    fx *f = *state;
    assert_int_equal(bp_session_rx_packets(f->s), 0);
    assert_int_equal(bp_session_pump(f->s, bp_now_ms() + 30), 0); /* nothing arrives: still usable */
    assert_true(bp_session_alive(f->s));
    assert_int_equal(bp_session_rx_packets(f->s), 0);
    assert_int_equal(bp_session_rx_packets(NULL), 0);
}

static void ticks_and_packets_are_counted(void **state)
{
    fx *f = *state;
    static const unsigned char tick[4] = { 0, 0, 0, 0 };
    static const unsigned char packet[] = { 0, 0, 0, 2, 112, 131 }; /* a 2-byte packet nobody waits for */
    node_sends(f, tick, sizeof tick);
    node_sends(f, packet, sizeof packet);
    assert_int_equal(bp_session_pump(f->s, bp_now_ms() + 100), 0);
    assert_int_equal(bp_session_rx_packets(f->s), 2);
    unsigned char answer[4];
    assert_int_equal(read(f->node, answer, sizeof answer), 4); /* the tick was answered */
    assert_memory_equal(answer, tick, sizeof tick);
    assert_int_equal(bp_session_pump(f->s, bp_now_ms() + 30), 0);
    assert_int_equal(bp_session_rx_packets(f->s), 2); /* then silence again: unchanged */
}

static void a_closed_connection_is_not_heard(void **state)
{
    fx *f = *state;
    close(f->node);
    f->node = -1;
    assert_int_equal(bp_session_pump(f->s, bp_now_ms() + 100), BP_EIO);
    assert_int_equal(bp_session_rx_packets(f->s), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(silence_is_not_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(ticks_and_packets_are_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(a_closed_connection_is_not_heard, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

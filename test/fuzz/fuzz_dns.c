/* fuzz_dns.c: libFuzzer target for the DNS wire reader (discover/discover_dnswire.c, bp__dns_decode_reply). */
/*
 * The first input byte picks the query (A "app.ns.svc" or PTR
 * "1.0.0.10.in-addr.arpa"), the room for addresses and for the PTR name; the
 * rest is the reply, whose own id is the one expected (so that the fuzzer
 * reaches past the id check). Invariants: codes in range, no address written
 * beyond max, addresses distinct, the PTR name NUL-terminated in its room,
 * the same answer twice.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "beamprobe.h"
#include "discover/discover.h"
#include "fuzz.h"

#define ROOM 16

typedef struct {
    int rc, rcode;
    size_t count;
    struct in_addr addrs[ROOM + 1];
    char ptr[256 + 1];
} answer;

static void decode(const unsigned char *msg, size_t len, int qtype, size_t max, size_t ptrlen, answer *a)
{
    static const char *const names[] = { "app.ns.svc", "1.0.0.10.in-addr.arpa" };
    uint16_t id = len >= 2 ? (uint16_t)((msg[0] << 8) | msg[1]) : 7;
    memset(a, 0x5a, sizeof *a);
    a->rc = bp__dns_decode_reply(msg, len, id, names[qtype == BP_DNS_TYPE_PTR], qtype, a->addrs, max, &a->count,
                                 a->ptr, ptrlen, &a->rcode);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int qtype = data[0] & 1 ? BP_DNS_TYPE_PTR : BP_DNS_TYPE_A;
    size_t max = (data[0] >> 1) & 15;
    size_t ptrlen = data[0] & 0x20 ? 256 : 1 + ((data[0] >> 1) & 15);
    /* the reply in a buffer of exactly its size */
    size_t len = size - 1;
    unsigned char *msg = malloc(len ? len : 1);
    if (!msg)
        return 0;
    memcpy(msg, data + 1, len);

    static answer a, b;
    decode(msg, len, qtype, max, ptrlen, &a);
    CHECK(a.rc == 0 || a.rc == 1 || a.rc == BP_ERESOLVE || a.rc == BP_EDECODE);
    CHECK(a.rcode >= 0 && a.rcode <= 15);
    CHECK(a.rc != BP_ERESOLVE || a.rcode != 0);
    if (a.rc == 1 || a.rc == BP_ERESOLVE) /* (a malformed record after good ones may leave a count: unused) */
        CHECK(a.count == 0);
    if (qtype == BP_DNS_TYPE_A) {
        CHECK(a.count <= max);
        for (size_t i = 0; i < a.count; i++)
            for (size_t j = i + 1; j < a.count; j++)
                CHECK(a.addrs[i].s_addr != a.addrs[j].s_addr);
        struct in_addr guard;
        memset(&guard, 0x5a, sizeof guard);
        for (size_t i = a.count; i <= ROOM; i++)
            CHECK(memcmp(&a.addrs[i], &guard, sizeof guard) == 0);
        CHECK(a.ptr[0] == '\0');
    } else {
        CHECK(a.count <= 1);
        CHECK(fuzz_terminated(a.ptr, ptrlen));
        CHECK(a.count == 0 || (a.ptr[0] != '\0' && strlen(a.ptr) < ptrlen));
        CHECK((unsigned char)a.ptr[ptrlen] == 0x5a); /* nothing written past the room */
    }
    decode(msg, len, qtype, max, ptrlen, &b);
    CHECK(a.rc == b.rc && a.rcode == b.rcode && a.count == b.count);
    CHECK(memcmp(a.addrs, b.addrs, sizeof a.addrs) == 0 && strcmp(a.ptr, b.ptr) == 0);
    free(msg);
    return 0;
}

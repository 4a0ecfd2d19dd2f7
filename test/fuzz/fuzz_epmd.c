/* fuzz_epmd.c: libFuzzer target for EPMD's replies: NAMES bodies and PORT2_RESP (dist/epmd.c). */
/*
 * The whole input is a PORT2_RESP reply; after the first byte (which picks
 * how many names fit) it is also a NAMES body. Invariants: codes and ports in
 * range, names non-empty, NUL-terminated and blank-free, the same answer twice,
 * and a smaller room keeps a prefix of the names of a larger one.
 */
#include "beamprobe.h"
#include "dist/epmd.h"
#include "fuzz.h"

#define ROOM 64

static void port2(const uint8_t *data, size_t size)
{
    int port = -1, port2 = -1;
    const char *why = NULL, *why2 = NULL;
    int rc = bp__epmd_port2_reply(data, size, &port, &why);
    CHECK(rc == 0 || rc == 1 || rc == BP_ENOTREG || rc == BP_EEPMD);
    CHECK(rc == bp__epmd_port2_reply(data, size, &port2, &why2) && port == port2 && why == why2);
    if (rc == 0)
        CHECK(size >= 4 && port > 0 && port < 65536 && port == ((data[2] << 8) | data[3]));
    else
        CHECK(port == -1);
    if (rc == 1)
        CHECK(size < 4);
    if (rc == BP_EEPMD)
        CHECK(why && *why);
}

static void names(const uint8_t *data, size_t size)
{
    static char a[ROOM][256], b[ROOM][256];
    static int pa[ROOM], pb[ROOM];
    size_t max = 1 + data[0] % ROOM;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    memset(a, 'Z', sizeof a);
    size_t n = bp__epmd_parse_names(body, len, a, pa, max);
    CHECK(n <= max);
    for (size_t i = 0; i < n; i++) {
        CHECK(fuzz_terminated(a[i], sizeof a[i]) && a[i][0] != '\0');
        CHECK(pa[i] > 0 && pa[i] < 65536);
        for (const char *p = a[i]; *p; p++)
            CHECK(*p != ' ' && *p != '\n' && *p != '\t');
    }
    for (size_t i = n; i < ROOM; i++)
        CHECK(a[i][0] == 'Z'); /* nothing written past the names found */
    size_t m = bp__epmd_parse_names(body, len, b, pb, ROOM);
    CHECK(m >= n && (n == max || m == n));
    for (size_t i = 0; i < n; i++)
        CHECK(strcmp(a[i], b[i]) == 0 && pa[i] == pb[i]);
    CHECK(bp__epmd_parse_names(body, len, b, NULL, max) == n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    port2(data, size);
    if (size >= 1)
        names(data, size);
    return 0;
}

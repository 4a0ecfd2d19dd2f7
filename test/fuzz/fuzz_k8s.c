/* fuzz_k8s.c: libFuzzer target for Kubernetes Endpoints/EndpointSlice JSON and the token's subject (discover_k8s_parse.c). */
/*
 * The first input byte picks the parser (Endpoints, EndpointSliceList, the
 * JWT "sub" claim), the naming mode and a small cap on the sets; the rest is
 * the body. Invariants: codes in range, every name basename@host shorter than
 * BP_NAME_MAX, no name both ready and not ready nor twice in a set, the same
 * answer twice, the subject NUL-terminated in its room without control characters.
 */
#include "beamprobe.h"
#include "discover/discover.h"
#include "fuzz.h"

static void check_set(const bp_nodeset *s, const bp_nodeset *other)
{
    CHECK(s->n <= bp_nodeset_limit(s));
    for (size_t i = 0; i < s->n; i++) {
        CHECK(fuzz_terminated(s->v[i], BP_NAME_MAX));
        CHECK(strncmp(s->v[i], "app@", 4) == 0 && s->v[i][4] != '\0');
        CHECK(!bp_nodeset_has(other, s->v[i]));
        for (size_t j = i + 1; j < s->n; j++)
            CHECK(strcmp(s->v[i], s->v[j]) != 0);
    }
}

static int parse(int slices, const char *body, size_t len, const bp_k8s_opts *o, size_t cap, bp_k8s_result *r,
                 char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->ready.max = r->not_ready.max = cap;
    size_t items = 0;
    err[0] = '\0';
    return slices ? bp__k8s_parse_slices(body, len, o, r, &items, err, errlen)
                  : bp__k8s_parse_endpoints(body, len, o, r, err, errlen);
}

static void same_set(const bp_nodeset *a, const bp_nodeset *b)
{
    CHECK(a->n == b->n);
    for (size_t i = 0; i < a->n; i++)
        CHECK(strcmp(a->v[i], b->v[i]) == 0);
}

static void subject(const char *tok, size_t room)
{
    char sub[300], again[300];
    memset(sub, 'Z', sizeof sub);
    int rc = bp__k8s_token_subject(tok, sub, room);
    CHECK(rc == 0 || rc == -1);
    CHECK((unsigned char)sub[room] == 'Z');
    if (rc == 0) {
        CHECK(fuzz_terminated(sub, room) && sub[0] != '\0');
        for (const char *p = sub; *p; p++)
            CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
        CHECK(bp__k8s_token_subject(tok, again, sizeof again) == 0 && strcmp(sub, again) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *body = fuzz_strndup(data + 1, size - 1);
    if (!body)
        return 0;
    unsigned mode = data[0] % 3;
    if (mode == 2) {
        subject(body, 1 + (data[0] >> 2) % 64);
        subject(body, 256);
        free(body);
        return 0;
    }
    bp_k8s_opts o = { .ns = "prod", .service = "app", .basename = "app",
                      .names = data[0] & 4 ? BP_K8S_NAMES_IP : BP_K8S_NAMES_AUTO };
    size_t cap = data[0] & 8 ? 2 : 0; /* 0: the default cap */
    static bp_k8s_result a, b;
    char ea[512], eb[512];
    int rc = parse(mode, body, size - 1, &o, cap, &a, ea, sizeof ea);
    CHECK(rc == 0 || rc == BP_EDECODE || rc == BP_ETOOBIG || rc == BP_ENOMEM);
    CHECK(fuzz_terminated(ea, sizeof ea));
    CHECK(rc == 0 || ea[0] != '\0');
    check_set(&a.ready, &a.not_ready);
    check_set(&a.not_ready, &a.ready);
    int rc2 = parse(mode, body, size - 1, &o, cap, &b, eb, sizeof eb);
    CHECK(rc2 == rc && strcmp(ea, eb) == 0 && a.skipped == b.skipped);
    same_set(&a.ready, &b.ready);
    same_set(&a.not_ready, &b.not_ready);
    bp_k8s_result_free(&a);
    bp_k8s_result_free(&b);
    free(body);
    return 0;
}

/* fuzz_config.c: libFuzzer target for the JSON configuration loader (core/config_file.c, bp_config_load_json). */
/*
 * The input is the file's text. Invariants: codes in range, an error message
 * NUL-terminated and non-empty, the same result twice on fresh
 * configurations, and the loaded configuration survives bp_config_finish
 * and bp_config_validate.
 */
#include "beamprobe.h"
#include "core/config_file.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bp_config a, b;
    char ea[512], eb[512];
    bp_config_defaults(&a);
    bp_config_defaults(&b);
    memset(ea, 'Z', sizeof ea);
    int rc = bp_config_load_json(&a, (const char *)data, size, "fuzz.json", ea, sizeof ea);
    CHECK(rc == 0 || rc == BP_ECONFIG || rc == BP_EUSAGE);
    if (rc != 0)
        CHECK(fuzz_terminated(ea, sizeof ea) && ea[0] != '\0');
    int rc2 = bp_config_load_json(&b, (const char *)data, size, "fuzz.json", eb, sizeof eb);
    CHECK(rc2 == rc);
    if (rc != 0)
        CHECK(strcmp(ea, eb) == 0);
    else
        CHECK(memcmp(&a, &b, sizeof a) == 0);
    if (rc == 0) {
        bp_config_finish(&a);
        int v = bp_config_validate(&a, ea, sizeof ea);
        CHECK(v == 0 || v == BP_EUSAGE);
    }
    return 0;
}

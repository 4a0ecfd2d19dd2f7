/* test_config_file.c: unit tests of the JSON config file loader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beamprobe.h"
#include "core/config_file.h"

static int setup(void **state)
{
    bp_config *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    bp_config_defaults(c);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static int load(bp_config *c, const char *json, char *err, size_t errlen)
{
    return bp_config_load_json(c, json, strlen(json), "test.json", err, errlen);
}

static void test_every_value_type(void **state)
{
    bp_config *c = *state;
    char err[512];
    assert_int_equal(load(c, "{\"node\": [\"a@h\", \"b@h\"], \"timeout\": \"800ms\", \"interval\": 1500,"
                             " \"memory-warn\": 0.7, \"strict\": true, \"access-log\": false,"
                             " \"governor\": \"cost_guard,backlog_valve\", \"listen\": \"127.0.0.1:9000\"}",
                          err, sizeof err), 0);
    assert_int_equal(c->nodes.n, 2);
    assert_string_equal(c->nodes.v[1], "b@h");
    assert_int_equal(c->timeout_ms, 800);
    assert_int_equal(c->interval_ms, 1500);
    assert_true(c->thresholds.memory.warn > 0.69 && c->thresholds.memory.warn < 0.71);
    assert_int_equal(c->strict, 1);
    assert_int_equal(c->access_log, 0);
    assert_int_equal(c->governors.n, 2);
    assert_string_equal(c->listen, "127.0.0.1:9000");
    assert_true(bp_config_is_given(c, "timeout"));
}

/* The discovery settings are file keys too (one option table drives both). */
static void test_discovery_keys(void **state)
{
    bp_config *c = *state;
    char err[512];
    assert_int_equal(load(c, "{\"k8s-endpoints\": \"prod/app\", \"node-basename\": \"app\","
                             " \"k8s-cluster-domain\": \"corp.internal\", \"k8s-names\": \"ip\","
                             " \"k8s-source\": \"slices\", \"epmd-host\": \"db1\"}",
                          err, sizeof err), 0);
    assert_string_equal(c->k8s_cluster_domain, "corp.internal");
    assert_string_equal(c->k8s_names, "ip");
    assert_string_equal(c->k8s_source, "slices");
    assert_true(bp_config_is_given(c, "k8s-source"));
    assert_int_equal(load(c, "{\"k8s-names\": \"hostnames\"}", err, sizeof err), BP_EUSAGE);
    assert_non_null(strstr(err, "--k8s-names"));
    assert_non_null(strstr(err, "expected auto"));
    assert_int_equal(load(c, "{\"k8s-source\": \"all\"}", err, sizeof err), BP_EUSAGE);
    assert_non_null(strstr(err, "slices or endpoints"));
    assert_string_equal(c->k8s_source, "slices"); /* a refused value changes nothing */
}

static void test_errors_name_the_key(void **state)
{
    bp_config *c = *state;
    char err[512];
    assert_int_equal(load(c, "{\"no-such\": 1}", err, sizeof err), BP_ECONFIG);
    assert_non_null(strstr(err, "unknown key \"no-such\""));
    assert_int_equal(load(c, "{\"cookie\": \"secret\"}", err, sizeof err), BP_ECONFIG);
    assert_null(strstr(err, "secret"));
    assert_int_equal(load(c, "{\"config\": \"other.json\"}", err, sizeof err), BP_ECONFIG);
    assert_int_equal(load(c, "{\"timeout\": \"soon\"}", err, sizeof err), BP_EUSAGE);
    assert_non_null(strstr(err, "test.json"));
    assert_non_null(strstr(err, "--timeout"));
    assert_int_equal(load(c, "{\"timeout\": null}", err, sizeof err), BP_ECONFIG);
    assert_int_equal(load(c, "{\"timeout\": {\"ms\": 5}}", err, sizeof err), BP_ECONFIG);
    assert_int_equal(load(c, "{\"timeout\": [\"1s\"]}", err, sizeof err), BP_ECONFIG);
    assert_non_null(strstr(err, "not a list"));
    assert_int_equal(load(c, "[1, 2]", err, sizeof err), BP_ECONFIG);
    assert_int_equal(load(c, "{\"timeout\": \"1s\",", err, sizeof err), BP_ECONFIG);
    assert_non_null(strstr(err, "invalid JSON"));
    assert_int_equal(load(c, "{\"timeout\": \"1s\", \"timeout\": \"2s\"}", err, sizeof err), BP_ECONFIG);
    assert_int_equal(load(c, "{\"node\": [\"a@h\", 5, \"bad name\"]}", err, sizeof err), BP_EUSAGE);
    /* NUL in a string: said in the file's terms, not jansson's */
    assert_int_equal(load(c, "{\"listen\": \"a\\u0000b\"}", err, sizeof err), BP_ECONFIG);
    assert_non_null(strstr(err, "a string holds \\u0000 (NUL)"));
    assert_null(strstr(err, "JSON_ALLOW_NUL"));
    /* a number of milliseconds is a duration; a bare number on the command line is not */
    assert_int_equal(load(c, "{\"timeout\": 1500}", err, sizeof err), 0);
    assert_int_equal(c->timeout_ms, 1500);
}

static void test_file(void **state)
{
    bp_config *c = *state;
    char err[512], path[] = "/tmp/bp-cfg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char body[] = "{\"interval\": \"5s\"}\n";
    assert_int_equal(write(fd, body, sizeof body - 1), (ssize_t)(sizeof body - 1));
    close(fd);
    assert_int_equal(bp_config_load_file(c, path, err, sizeof err), 0);
    assert_int_equal(c->interval_ms, 5000);
    unlink(path);
    assert_int_equal(bp_config_load_file(c, path, err, sizeof err), BP_ECONFIG);
    assert_non_null(strstr(err, "cannot read config file"));
    assert_int_equal(bp_config_load_file(c, "/tmp", err, sizeof err), BP_ECONFIG);
    assert_string_equal(err, "cannot read config file /tmp: it is a directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_value_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discovery_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_name_the_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_cgroup.c: unit tests of locating the memory cgroup and parsing its limit files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/cgroup.h"

static const char MI_V2[] =
    "22 1 0:21 / /proc rw - proc proc rw\n"
    "30 22 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
static const char MI_V1[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
static const char MI_DOCKER_V1[] =
    "700 690 0:32 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n";

static void test_container_v2_with_cgroup_namespace(void **state)
{
    (void)state;
    bp_cgroup_loc l;
    assert_int_equal(bp_cgroup_locate("0::/\n", MI_V2, &l), 0);
    assert_int_equal(l.version, 2);
    assert_string_equal(l.dir, "/sys/fs/cgroup");
    assert_int_equal(l.at_root, 1);
}

static void test_systemd_service_on_a_v2_host(void **state)
{
    (void)state;
    bp_cgroup_loc l;
    assert_int_equal(bp_cgroup_locate("0::/system.slice/app.service\n", MI_V2, &l), 0);
    assert_string_equal(l.dir, "/sys/fs/cgroup/system.slice/app.service");
    assert_int_equal(l.at_root, 0);
}

static void test_v1_memory_hierarchy_wins_on_hybrid_hosts(void **state)
{
    (void)state;
    bp_cgroup_loc l;
    const char *pc = "9:name=systemd:/\n4:memory:/process_api/e39e\n1:cpu:/\n0::/\n";
    assert_int_equal(bp_cgroup_locate(pc, MI_V1, &l), 0);
    assert_int_equal(l.version, 1);
    assert_string_equal(l.dir, "/sys/fs/cgroup/memory/process_api/e39e");
    assert_int_equal(l.at_root, 0);
    /* a controller list naming memory among others */
    assert_int_equal(bp_cgroup_locate("5:cpu,memory:/x\n", "1 0 0:1 / /cg rw - cgroup cgroup rw,cpu,memory\n", &l), 0);
    assert_string_equal(l.dir, "/cg/x");
}

static void test_docker_v1_mounts_its_own_cgroup(void **state)
{
    (void)state;
    bp_cgroup_loc l;
    assert_int_equal(bp_cgroup_locate("4:memory:/docker/abc\n", MI_DOCKER_V1, &l), 0);
    assert_string_equal(l.dir, "/sys/fs/cgroup/memory");
    assert_int_equal(l.at_root, 1);
    /* a path outside what is mounted falls back to the mount point */
    assert_int_equal(bp_cgroup_locate("4:memory:/elsewhere\n", MI_DOCKER_V1, &l), 0);
    assert_string_equal(l.dir, "/sys/fs/cgroup/memory");
}

static void test_not_found_and_malformed(void **state)
{
    (void)state;
    bp_cgroup_loc l;
    assert_int_equal(bp_cgroup_locate(NULL, MI_V2, &l), -1);
    assert_int_equal(bp_cgroup_locate("0::/\n", "", &l), -1);
    assert_int_equal(bp_cgroup_locate("garbage", MI_V2, &l), -1);
    assert_int_equal(bp_cgroup_locate("0::/\n", "no separator here\n - \n", &l), -1);
    assert_int_equal(l.version, 0);
    char longpath[1500] = "0::/";
    memset(longpath + 4, 'a', sizeof longpath - 6);
    longpath[sizeof longpath - 2] = '\n';
    longpath[sizeof longpath - 1] = '\0';
    assert_int_equal(bp_cgroup_locate(longpath, MI_V2, &l), -1); /* never a truncated path */
}

static void test_parse_value(void **state)
{
    (void)state;
    assert_int_equal(bp_cgroup_parse_value("max\n", 4), -1);
    assert_int_equal(bp_cgroup_parse_value("536870912\n", 10), 536870912);
    assert_int_equal(bp_cgroup_parse_value("9223372036854771712\n", 20), -1);
    assert_int_equal(bp_cgroup_parse_value("", 0), -2);
    assert_int_equal(bp_cgroup_parse_value("12abc", 5), -2);
    assert_int_equal(bp_cgroup_parse_value("-5", 2), -2);
    assert_string_equal(bp_cgroup_limit_file(1), "memory.limit_in_bytes");
    assert_string_equal(bp_cgroup_usage_file(2), "memory.current");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_container_v2_with_cgroup_namespace),
        cmocka_unit_test(test_systemd_service_on_a_v2_host),
        cmocka_unit_test(test_v1_memory_hierarchy_wins_on_hybrid_hosts),
        cmocka_unit_test(test_docker_v1_mounts_its_own_cgroup),
        cmocka_unit_test(test_not_found_and_malformed),
        cmocka_unit_test(test_parse_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

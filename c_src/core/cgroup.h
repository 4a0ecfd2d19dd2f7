/* cgroup.h: find a process's memory cgroup from /proc/self/{cgroup,mountinfo} text, parse limit files. */
#ifndef BP_CGROUP_H
#define BP_CGROUP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int version;     /* 1 or 2; 0 when no memory cgroup was found */
    char dir[1024];  /* directory holding the limit and usage files */
    int at_root;     /* dir is the mount point itself (a container's own view) */
} bp_cgroup_loc;

/*
 * Locate the memory cgroup directory from the texts of /proc/self/cgroup and
 * /proc/self/mountinfo (pure: no file access). A cgroup-v1 "memory" hierarchy
 * wins over the unified one. The cgroup path is taken relative to the mount's
 * root, so it works both in containers (mount root = own cgroup) and on hosts
 * (e.g. a systemd service with MemoryMax=). Returns 0 or -1 if not found.
 */
int bp_cgroup_locate(const char *proc_cgroup, const char *mountinfo, bp_cgroup_loc *out);

/* File names of the limit and usage files for a version. */
const char *bp_cgroup_limit_file(int version);
const char *bp_cgroup_usage_file(int version);

/*
 * Value of a limit or usage file: bytes; -1 for "max" or a v1 "unlimited"
 * (anything at or above 2^60); -2 when the text is not a number.
 */
int64_t bp_cgroup_parse_value(const char *text, size_t len);

#endif

/* cgroup.c: find a process's memory cgroup from /proc/self/{cgroup,mountinfo} text, parse limit files. */
#include "core/cgroup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

/*
 * Copy the line starting at *cursor into buf (truncated) and advance *cursor
 * past it. Returns 0, or -1 at the end of the text.
 */
static int next_line(const char **cursor, char *buf, size_t len)
{
    const char *s = *cursor;
    if (!s || !*s)
        return -1;
    const char *e = strchr(s, '\n');
    if (!e)
        e = s + strlen(s);
    size_t n = (size_t)(e - s) < len - 1 ? (size_t)(e - s) : len - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    *cursor = *e ? e + 1 : e;
    return 0;
}

/* Does the comma list `list` contain `word`? */
static int has_word(const char *list, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = list; p && *p;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == wl && strncmp(p, word, wl) == 0)
            return 1;
        p = c ? c + 1 : NULL;
    }
    return 0;
}

/* From /proc/self/cgroup, the path of the v1 memory hierarchy (v1) or the unified one (v2). */
static int cgroup_path(const char *text, int v1, char *path, size_t len)
{
    char line[1200];
    for (const char *cur = text; next_line(&cur, line, sizeof line) == 0;) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c1 = *c2 = '\0';
        int match = v1 ? has_word(c1 + 1, "memory") : (strcmp(line, "0") == 0 && c1[1] == '\0');
        if (match) {
            bp_strlcpy(path, c2 + 1, len);
            return 0;
        }
    }
    return -1;
}

/* From mountinfo, the root and mount point of the v1 memory or the cgroup2 mount. */
static int cgroup_mount(const char *text, int v1, char *root, size_t rlen, char *mnt, size_t mlen)
{
    char line[2048];
    for (const char *cur = text; next_line(&cur, line, sizeof line) == 0;) {
        char *sep = strstr(line, " - ");
        if (!sep)
            continue;
        *sep = '\0';
        char fstype[32], source[256], opts[512] = "";
        if (sscanf(sep + 3, "%31s %255s %511s", fstype, source, opts) < 2)
            continue;
        if (v1 ? (strcmp(fstype, "cgroup") != 0 || !has_word(opts, "memory")) : strcmp(fstype, "cgroup2") != 0)
            continue;
        char r[1024], m[1024];
        if (sscanf(line, "%*s %*s %*s %1023s %1023s", r, m) != 2)
            continue;
        bp_strlcpy(root, r, rlen);
        bp_strlcpy(mnt, m, mlen);
        return 0;
    }
    return -1;
}

static int locate(const char *proc_cgroup, const char *mountinfo, int v1, bp_cgroup_loc *out)
{
    char path[1024], root[1024], mnt[1024];
    if (cgroup_path(proc_cgroup, v1, path, sizeof path) != 0
        || cgroup_mount(mountinfo, v1, root, sizeof root, mnt, sizeof mnt) != 0)
        return -1;
    /* the path relative to what is mounted; a path outside the mount's root is not visible */
    const char *rel = path;
    size_t rl = strlen(root);
    if (strcmp(root, "/") != 0) {
        if (strncmp(path, root, rl) != 0 || (path[rl] != '\0' && path[rl] != '/'))
            rel = "/";
        else
            rel = path + rl;
    }
    if (rel[0] == '\0' || strcmp(rel, "/") == 0) {
        bp_strlcpy(out->dir, mnt, sizeof out->dir);
        out->at_root = 1;
    } else {
        size_t ml = strlen(mnt), rll = strlen(rel);
        if (ml + rll >= sizeof out->dir)
            return -1; /* never a truncated path */
        memcpy(out->dir, mnt, ml);
        memcpy(out->dir + ml, rel, rll + 1);
        out->at_root = 0;
    }
    out->version = v1 ? 1 : 2;
    return 0;
}

int bp_cgroup_locate(const char *proc_cgroup, const char *mountinfo, bp_cgroup_loc *out)
{
    memset(out, 0, sizeof *out);
    if (!proc_cgroup || !mountinfo)
        return -1;
    if (locate(proc_cgroup, mountinfo, 1, out) == 0 || locate(proc_cgroup, mountinfo, 0, out) == 0)
        return 0;
    memset(out, 0, sizeof *out);
    return -1;
}

const char *bp_cgroup_limit_file(int version)
{
    return version == 1 ? "memory.limit_in_bytes" : "memory.max";
}

const char *bp_cgroup_usage_file(int version)
{
    return version == 1 ? "memory.usage_in_bytes" : "memory.current";
}

int64_t bp_cgroup_parse_value(const char *text, size_t len)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return -2;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (strncmp(buf, "max", 3) == 0)
        return -1;
    char *end;
    long long v = strtoll(buf, &end, 10);
    if (end == buf || v < 0 || (*end != '\0' && *end != '\n'))
        return -2;
    return v >= (1LL << 60) ? -1 : v;
}

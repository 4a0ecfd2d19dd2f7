/* secret_file.c: read a small secret (cookie, bearer token) from a regular file that only its owner may read. */
#include "core/secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Read until cap bytes or the end; -1 on a read error. */
static ssize_t read_all(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    return (ssize_t)n;
}

int bp_secret_file_read(const char *path, const bp_secret_kind *k, char *buf, size_t cap, size_t *len, int *more,
                        char *err, size_t errlen)
{
    int rc = -1;
    *len = 0;
    *more = 0;
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s %s: %s%s", k->what, path, strerror(errno),
                 k->open_hint ? k->open_hint : "");
        return rc;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s %s is not a regular file", k->what, path);
        goto out;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen, "%s %s is accessible by group or others (mode %04o); run: chmod %s %s", k->what, path,
                 (unsigned)(st.st_mode & 07777), k->chmod, path);
        goto out;
    }
    char extra;
    ssize_t n = read_all(fd, buf, cap);
    ssize_t m = n >= 0 && (size_t)n == cap ? read_all(fd, &extra, 1) : 0; /* anything beyond cap? */
    if (n < 0 || m < 0) {
        snprintf(err, errlen, "cannot read %s %s: %s", k->what, path, strerror(errno));
        goto out;
    }
    *more = m > 0;
    *len = (size_t)n;
    buf[n] = '\0';
    rc = 0;
out:
    close(fd);
    return rc;
}

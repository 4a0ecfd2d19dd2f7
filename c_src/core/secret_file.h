/* secret_file.h: read a small secret (cookie, bearer token) from a regular file that only its owner may read. */
#ifndef BP_SECRET_FILE_H
#define BP_SECRET_FILE_H

#include <stddef.h>

/* How a kind of secret file is named in messages. */
typedef struct {
    const char *what;       /* "cookie file", "--auth-token-file" */
    const char *chmod;      /* the mode to suggest, "400" or "600" */
    const char *open_hint;  /* appended to "cannot open" messages, or NULL */
} bp_secret_kind;

/*
 * Open path (a regular file, not accessible by group or others: mode & 077
 * is refused with a message naming the file, its mode and chmod) and read
 * at most cap bytes of it into buf, which must hold cap + 1 (buf[*len] is
 * set to NUL; the content may hold NULs of its own). *more is 1 when the file
 * has more than cap bytes. Returns 0, or -1 with a message in err that never
 * contains the file's content. The caller wipes buf.
 */
int bp_secret_file_read(const char *path, const bp_secret_kind *k, char *buf, size_t cap, size_t *len, int *more,
                        char *err, size_t errlen);

#endif

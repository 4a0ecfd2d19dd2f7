/* token_file.h: load the HTTP bearer token from a private file, strictly: never truncated, never loosely trimmed. */
#ifndef BP_TOKEN_FILE_H
#define BP_TOKEN_FILE_H

#include <stddef.h>

#define BP_TOKEN_MAX 4095 /* bytes of token; out needs BP_TOKEN_MAX + 1 */

/*
 * Read the bearer token in path into out (outlen >= BP_TOKEN_MAX + 1, NUL
 * terminated). The file must be a regular file not accessible by group or
 * others (chmod 600). One trailing "\n" or "\r\n" is removed; after that the
 * token must be 1..BP_TOKEN_MAX bytes with no NUL, CR, LF or other control
 * character, and no leading or trailing space or tab (HTTP strips those from
 * the header, so such a token could never match). Returns 0, or BP_EUSAGE with
 * a message in err naming the file and the problem, never the token.
 */
int bp_token_file_load(const char *path, char *out, size_t outlen, char *err, size_t errlen);

/* The rules above on an in-memory file content of len bytes; on success *tok_len is the token's length. */
int bp_token_check(const char *path, const char *buf, size_t len, size_t *tok_len, char *err, size_t errlen);

#endif

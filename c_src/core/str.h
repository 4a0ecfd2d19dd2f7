/* str.h: bounded string helpers (the project bans strcpy/strcat/sprintf). */
#ifndef BP_STR_H
#define BP_STR_H

#include <stddef.h>

/* Copy src into dst[size] (always NUL-terminated when size > 0); returns strlen(src). */
size_t bp_strlcpy(char *dst, const char *src, size_t size);

#endif

/* arena.h: bump allocator with a hard byte cap; one free releases everything. */
#ifndef BP_ARENA_H
#define BP_ARENA_H

#include <stddef.h>

typedef struct bp_arena bp_arena;

/* Create an arena that refuses to grow past max_bytes (0 = 16 MiB). NULL on OOM. */
bp_arena *bp_arena_new(size_t max_bytes);
/* Free the arena and everything allocated from it. NULL is fine. */
void bp_arena_free(bp_arena *a);
/* n zeroed bytes, aligned for any type; NULL when over the cap or out of memory. */
void *bp_arena_alloc(bp_arena *a, size_t n);
/* Copy of s (NULL gives NULL). */
char *bp_arena_strdup(bp_arena *a, const char *s);
/* Copy of the first n bytes of s, NUL-terminated. */
char *bp_arena_strndup(bp_arena *a, const char *s, size_t n);
/* printf into the arena. */
char *bp_arena_printf(bp_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Bytes handed out so far. */
size_t bp_arena_used(const bp_arena *a);

#endif

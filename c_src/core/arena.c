/* arena.c: bump allocator with a hard byte cap, used for decoded terms and snapshots. */
#include "core/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK 8192
#define ARENA_ALIGN 16

typedef struct chunk {
    struct chunk *next;
    size_t size, used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
} chunk;

struct bp_arena {
    chunk *head;
    size_t cap, total;
};

bp_arena *bp_arena_new(size_t max_bytes)
{
    bp_arena *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->cap = max_bytes ? max_bytes : (size_t)16 << 20;
    return a;
}

void bp_arena_free(bp_arena *a)
{
    if (!a)
        return;
    chunk *c = a->head;
    while (c) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}

void *bp_arena_alloc(bp_arena *a, size_t n)
{
    if (!a)
        return NULL;
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < n || need > a->cap - a->total)
        return NULL;
    chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        size_t size = need > ARENA_CHUNK ? need : ARENA_CHUNK;
        c = malloc(sizeof *c + size);
        if (!c)
            return NULL;
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += need;
    a->total += need;
    memset(p, 0, n);
    return p;
}

char *bp_arena_strndup(bp_arena *a, const char *s, size_t n)
{
    if (!s || n == SIZE_MAX)
        return NULL;
    char *p = bp_arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *bp_arena_strdup(bp_arena *a, const char *s)
{
    return s ? bp_arena_strndup(a, s, strlen(s)) : NULL;
}

char *bp_arena_printf(bp_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = bp_arena_alloc(a, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

size_t bp_arena_used(const bp_arena *a)
{
    return a ? a->total : 0;
}

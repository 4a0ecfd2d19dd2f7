/* response.h: the bytes of a response head: status line, Date, framing and the handler's header fields. */
#ifndef BP_HTTP_RESPONSE_H
#define BP_HTTP_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

/* Room for the head the server writes: status line, fixed fields, 512 bytes of extra fields. */
#define BP__HTTP_HEAD_MAX 1024
/* Room for a Date line ("Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n" is 37 bytes). */
#define BP__HTTP_DATE_MAX 48

/* The reason phrase of a status code ("Not Found"); a generic one for unlisted codes. */
const char *bp__http_reason(int status);

/* Format "Date: <IMF-fixdate>\r\n" for Unix time `secs` into out; returns its length. */
size_t bp__http_date_line(int64_t secs, char *out, size_t cap);

typedef struct {
    int status;                /* 200..599 */
    const char *content_type;  /* NULL: no Content-Type field */
    uint64_t content_length;
    int keep_alive;            /* Connection: keep-alive, else close */
    const char *date;          /* a whole Date line, or NULL */
    size_t date_len;
    const char *extra;         /* more field lines, each ending in CRLF */
    size_t extra_len;
} bp__http_head;

/*
 * Write the response head (ending with the blank line) into out[cap].
 * Content-Length is left out for 204 and 304. Returns the length, or 0 when
 * it does not fit or the content type holds a control character.
 */
size_t bp__http_head_format(const bp__http_head *h, char *out, size_t cap);

#endif

/* response.c: the bytes of a response head: status line, Date, framing and the handler's header fields. */
#include "http/response.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

const char *bp__http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: break;
    }
    switch (status / 100) {
    case 2: return "OK";
    case 3: return "Redirection";
    case 4: return "Client Error";
    default: return "Server Error";
    }
}

size_t bp__http_date_line(int64_t secs, char *out, size_t cap)
{
    static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 || tm.tm_mon > 11)
        return 0;
    int n = snprintf(out, cap, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n", days[tm.tm_wday], tm.tm_mday,
                     months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* A bounded appender: overflow sticks, the caller checks once at the end. */
typedef struct {
    char *p;
    size_t len, cap;
    int overflow;
} outbuf;

static void put(outbuf *o, const char *s, size_t n)
{
    if (o->overflow || n > o->cap - o->len) {
        o->overflow = 1;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void put_str(outbuf *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_u64(outbuf *o, uint64_t v)
{
    char d[20];
    size_t i = sizeof d;
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(o, d + i, sizeof d - i);
}

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

size_t bp__http_head_format(const bp__http_head *h, char *out, size_t cap)
{
    outbuf o = { .p = out, .cap = cap };
    put(&o, "HTTP/1.1 ", 9);
    put_u64(&o, (uint64_t)h->status);
    put(&o, " ", 1);
    put_str(&o, bp__http_reason(h->status));
    put(&o, "\r\n", 2);
    if (h->date)
        put(&o, h->date, h->date_len);
    if (h->content_type) {
        if (has_ctl(h->content_type))
            return 0;
        put(&o, "Content-Type: ", 14);
        put_str(&o, h->content_type);
        put(&o, "\r\n", 2);
    }
    if (h->status != 204 && h->status != 304) {
        put(&o, "Content-Length: ", 16);
        put_u64(&o, h->content_length);
        put(&o, "\r\n", 2);
    }
    if (h->keep_alive)
        put(&o, "Connection: keep-alive\r\n", 24);
    else
        put(&o, "Connection: close\r\n", 19);
    if (h->extra_len)
        put(&o, h->extra, h->extra_len);
    put(&o, "\r\n", 2);
    return o.overflow ? 0 : o.len;
}

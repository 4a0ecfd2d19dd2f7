/* server.h: the embedded HTTP/1.1 server (epoll, keep-alive, pipelining, TLS) behind serve and the NIF agent. */
#ifndef BP_HTTP_SERVER_H
#define BP_HTTP_SERVER_H

#include <stddef.h>

typedef struct bp_http_server bp_http_server;

typedef struct {
    const char *method; size_t method_len;   /* as received, e.g. "GET" */
    const char *path; size_t path_len;       /* without the query string, not decoded */
    const char *query; size_t query_len;     /* after '?', or NULL/0 */
    const char *authorization; size_t authorization_len; /* Authorization header value, or NULL */
    int head;                                /* method is HEAD: the server omits the body itself */
} bp_http_request;

typedef struct {
    int status;                        /* 200, 404, ... */
    const char *content_type;          /* static string */
    const char *body; size_t body_len; /* borrowed; valid until release(hold) is called */
    char tail[256]; size_t tail_len;   /* small per-request bytes appended after body (copied) */
    char headers[512]; size_t headers_len; /* extra header lines, each ending in "\r\n" */
    void *hold; void (*release)(void *hold); /* called once the response is written or the connection dies */
} bp_http_response;

typedef void (*bp_http_handler)(void *ctx, const bp_http_request *req, bp_http_response *resp);

typedef struct {
    const char *listen;        /* "0.0.0.0:8080", "127.0.0.1:0" (port 0 = any), "[::1]:8080", ":8080" */
    int max_connections;       /* open connections cap, default 1024 */
    int idle_timeout_ms;       /* keep-alive / slow-request timeout, default 30000 */
    size_t max_header_bytes;   /* request line + headers cap, default 8192; over: 431 and close */
    const char *tls_cert, *tls_key, *tls_client_ca; /* PEM paths; cert+key enable HTTPS; client CA: mutual TLS */
    int access_log;            /* one line per request to stderr */
} bp_http_opts;

int bp_http_new(const bp_http_opts *o, bp_http_handler h, void *ctx, bp_http_server **out, char *err, size_t errlen);
int bp_http_run(bp_http_server *s);   /* the event loop; returns 0 after a graceful stop */
void bp_http_stop(bp_http_server *s); /* any thread or a signal handler: stop gracefully */
void bp_http_free(bp_http_server *s);
int bp_http_port(const bp_http_server *s); /* the bound port */

#endif

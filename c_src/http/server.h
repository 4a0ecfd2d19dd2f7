/* server.h: the embedded HTTP/1.1 server (epoll, one thread, optional TLS) behind `serve` and the NIF agent. */
#ifndef BP_HTTP_SERVER_H
#define BP_HTTP_SERVER_H

#include <stddef.h>

/*
 * Design notes (docs/HTTP-SERVER.md has the longer version).
 *
 * Threading. A server is one object with no global or static mutable state:
 * bp_http_run is its event loop and runs on the caller's thread; the handler
 * is called on that thread, one request at a time, and must not block (answer
 * from data prepared elsewhere, as `serve` does). Several servers may run in
 * one process, each on its own thread. bp_http_stop is the only call that may
 * come from another thread or a signal handler: it writes to an eventfd.
 *
 * Event loop. epoll, edge-triggered; a connection is registered once for
 * input and output at accept and never modified, so a keep-alive request costs
 * epoll_wait + recv + sendmsg. Reads and writes that would block are retried
 * when epoll reports the socket ready; partial writes continue on EPOLLOUT.
 * Requests pipelined in one read are answered in order, one at a time; a
 * connection answers at most 16 requests per turn before the others get theirs.
 *
 * Memory. Connection slots (112 bytes each, max_connections of them) are
 * one calloc in bp_http_new; pages are touched only as slots are used. A
 * connection holds an I/O buffer (max_header_bytes + ~2 KiB: request bytes,
 * response head and the handler's response struct) only while a request is
 * arriving or being answered; idle keep-alive connections give it back to a
 * per-server pool (64 kept), so 1,000 idle clients cost ~110 KiB plus the
 * kernel's sockets, and max_connections slow clients at most
 * max_connections * (max_header_bytes + 2 KiB). Nothing is allocated per
 * request once the pool is warm. TLS sessions use SSL_MODE_RELEASE_BUFFERS.
 *
 * Responses. The server writes "HTTP/1.1 <status> <reason>", Date,
 * Content-Type (when set), Content-Length (body_len + tail_len; none for 204
 * and 304), Connection: keep-alive|close, then the handler's header lines, then
 * body and tail, with one sendmsg (writev) and MSG_NOSIGNAL (over TLS: one
 * record when it all fits 16 KiB). HEAD gets the same head without body. A
 * status outside 200..599 (a handler that left 0 means it failed),
 * headers_len/tail_len over their arrays, extra headers that do not end in
 * CRLF, or a content type with control characters make a 500. The access log
 * (bp_log, so text or JSON like every other record) has one line per answer:
 * method, path, status, bytes, microseconds from complete request to last
 * byte written. release(hold) is called exactly once, when the last byte has
 * been handed to the kernel or the connection is closed.
 *
 * Limits and what is refused:
 *   - request line + header fields over max_header_bytes: 431, then close;
 *   - malformed requests: 400, then close (see http/parse.h for the exact
 *     rules: bare LF is accepted as a line end, obsolete line folding is not,
 *     HTTP/1.1 needs Host, unknown or over-long method tokens are refused);
 *     HTTP versions other than 1.0/1.1: 505;
 *   - a body on GET or HEAD: 400. Other methods reach the handler (which
 *     answers 405 if it wants); their Content-Length body, up to 64 KiB, is read
 *     and discarded so keep-alive continues (unless the request says
 *     "Expect: 100-continue": the answer then closes the connection);
 *     larger: 413; Transfer-Encoding: 411 (send Content-Length). Every error
 *     answer closes the connection;
 *   - header_timeout_ms bounds receiving a request head: from accept (TLS
 *     handshake included), or from the first byte of a keep-alive
 *     connection's next request, until the head is complete; bytes trickling
 *     in do not extend it, so a slowloris client is cut off. idle_timeout_ms
 *     bounds a keep-alive connection waiting for the first byte of its next
 *     request, and writing a response. On expiry the connection is closed
 *     without an answer;
 *   - capacity is not health: at max_connections (or out of descriptors) a
 *     new connection evicts an old one instead of being refused: first one
 *     lingering after its last answer, then the longest-idle keep-alive
 *     connection, then the one that has been receiving its request head the
 *     longest. A connection being answered is never evicted; only when every
 *     slot is answering is the new connection closed (never with a 503: a 503
 *     from serve means the node is unhealthy);
 *   - after an error answer (or with unread bytes left) the server shuts down
 *     its sending side and reads and discards what the client still sends (at
 *     most 1 s or idle_timeout_ms if shorter, 256 KiB) before closing, so the
 *     client reads the answer instead of a reset.
 *
 * TLS (OpenSSL 3). TLS 1.2 minimum, renegotiation off, handshake driven by
 * epoll like everything else. Certificate and key problems (missing,
 * unreadable, not PEM, encrypted, not matching) fail bp_http_new with a
 * message. With tls_client_ca the handshake refuses clients without a
 * certificate signed by it. A plain-HTTP client on the TLS port fails the
 * handshake and is closed.
 *
 * Signals and descriptors. The server never raises SIGPIPE (MSG_NOSIGNAL, and
 * a socket BIO of its own for TLS), so callers need not ignore it. On EMFILE
 * it evicts a connection as at the cap (above) and accepts again; with
 * nothing to evict it uses a reserved descriptor to accept and close the
 * waiting connection; if that is not enough it stops accepting for 100 ms
 * instead of spinning.
 * Descriptor numbers above 1023 are fine (no select).
 */

typedef struct bp_http_server bp_http_server;

typedef struct {
    const char *method; size_t method_len;   /* as received, e.g. "GET" */
    const char *path; size_t path_len;       /* without the query string, not decoded */
    const char *query; size_t query_len;     /* after '?', or NULL/0 */
    const char *authorization; size_t authorization_len; /* Authorization header value, or NULL */
    int head;                                /* method is HEAD: the server omits the body itself */
} bp_http_request;

typedef struct {
    int status;                     /* 200, 404, ...; left 0 (or outside 200..599): the server answers 500 */
    const char *content_type;       /* static string; NULL: no Content-Type field */
    const char *body; size_t body_len; /* borrowed; must stay valid until release(hold) is called */
    char tail[256]; size_t tail_len;   /* small per-request bytes appended after body (copied) */
    char headers[512]; size_t headers_len; /* extra header lines, each ending in "\r\n" */
    void *hold; void (*release)(void *hold); /* called once the response is fully written or the connection dies */
} bp_http_response;

/*
 * Called on the loop thread for every well-formed request. resp arrives with
 * status 0, no content type, no body, empty tail and headers, no hold. The
 * request's pointers are valid only during the call.
 */
typedef void (*bp_http_handler)(void *ctx, const bp_http_request *req, bp_http_response *resp);

/* Zero (or NULL) fields take their defaults. */
typedef struct {
    const char *listen;        /* "0.0.0.0:8080", "127.0.0.1:0" (port 0 = any), "[::1]:8080", ":8080" */
    int max_connections;       /* open connections cap, default 1024; at the cap a new connection evicts an idle or slow one */
    int idle_timeout_ms;       /* keep-alive idle timeout and response write timeout, default 30000 */
    int header_timeout_ms;     /* a request head must be complete within this, default 5000 (at most idle_timeout_ms) */
    size_t max_header_bytes;   /* request line + headers cap, default 8192; over → 431 and close */
    const char *tls_cert, *tls_key, *tls_client_ca; /* PEM paths; cert+key enable HTTPS; client CA enables mutual TLS (peer cert required) */
    int access_log;            /* one line per request to stderr */
} bp_http_opts;

#define BP_HTTP_DEFAULT_MAX_CONNECTIONS 1024
#define BP_HTTP_DEFAULT_IDLE_TIMEOUT_MS 30000
#define BP_HTTP_DEFAULT_HEADER_TIMEOUT_MS 5000
#define BP_HTTP_DEFAULT_MAX_HEADER_BYTES 8192
/* max_header_bytes is clamped to [256, 1 MiB]. */
#define BP_HTTP_MIN_HEADER_BYTES 256
#define BP_HTTP_MAX_HEADER_BYTES (1024 * 1024)
/* How long bp_http_stop lets in-flight responses finish. */
#define BP_HTTP_STOP_GRACE_MS 900

/*
 * Bind the listener, load the TLS files, allocate the connection slots. On
 * success *out owns the server (bp_http_free); otherwise a negative BP_E* code
 * (BP_EUSAGE bad option or TLS file, BP_EIO cannot listen, BP_ENOMEM) with a
 * message in err[errlen].
 */
int bp_http_new(const bp_http_opts *o, bp_http_handler h, void *ctx, bp_http_server **out, char *err, size_t errlen);

/*
 * The event loop, on the calling thread, until bp_http_stop. Returns 0 after a
 * graceful stop, BP_EIO if epoll fails, BP_EUSAGE if called a second time.
 */
int bp_http_run(bp_http_server *s);

/*
 * From any thread or a signal handler (async-signal-safe: a write to an
 * eventfd): close the listener, finish in-flight responses (at most
 * BP_HTTP_STOP_GRACE_MS), then bp_http_run returns. Idle connections are
 * closed at once. A stop before bp_http_run makes it return at once.
 */
void bp_http_stop(bp_http_server *s);

/* After bp_http_run has returned, or if it never ran. NULL is fine. */
void bp_http_free(bp_http_server *s);

/* The bound port (useful with port 0). */
int bp_http_port(const bp_http_server *s);

#endif

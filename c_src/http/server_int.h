/* server_int.h: the HTTP server's internal structures, shared by its own files and nothing else. */
#ifndef BP_HTTP_SERVER_INT_H
#define BP_HTTP_SERVER_INT_H

#include <stdint.h>
#include <sys/uio.h>

#include "http/parse.h"
#include "http/response.h"
#include "http/server.h"
#include "http/tls.h"

#define BP__HTTP_REQS_PER_TURN 16     /* requests one connection may answer before the others run */
#define BP__HTTP_LINGER_MS 1000       /* lingering close: at most this long (or idle_timeout if shorter) */
#define BP__HTTP_LINGER_BYTES (256 * 1024) /* ... and this many bytes read and dropped */
#define BP__HTTP_POOL_KEEP 64         /* free I/O buffers kept for reuse */
#define BP__HTTP_ACCEPT_PAUSE_MS 100  /* accept paused this long when out of descriptors */
#define BP__HTTP_ACCEPTS_PER_TURN 64

/*
 * A connection's I/O buffer, taken from the server's pool while a request is
 * arriving or being answered. data[] holds received bytes: [off, len) not
 * yet consumed; the request being answered stays in place until its response
 * is finished (the access log and the handler's view point into it).
 */
typedef struct bp__http_buf {
    struct bp__http_buf *next;      /* pool link */
    size_t off, len;
    bp__http_msg msg;               /* the request being parsed / answered */
    bp_http_response resp;          /* the handler's answer while it is written */
    int responding;                 /* resp/iov are live */
    int status;                     /* status actually sent (access log) */
    struct iovec iov[3];
    int iov_n, iov_i;               /* iov[iov_i..iov_n) still to write */
    size_t out_len;                 /* bytes of the whole response (access log) */
    int64_t t0_us;                  /* when the request head was complete */
    char head[BP__HTTP_HEAD_MAX];
    char data[];                    /* max_header_bytes */
} bp__http_buf;

enum { BP__C_FREE, BP__C_HANDSHAKE, BP__C_OPEN, BP__C_LINGER };

struct bp__http_tq;

typedef struct bp__http_conn {
    int fd;
    uint8_t state;                  /* BP__C_* */
    uint8_t close_after;            /* close once the current response is written */
    uint8_t linger;                 /* ... with a lingering close (an error answer) */
    uint8_t peer_eof;               /* the client finished sending */
    uint8_t rdhup;                  /* epoll reported EPOLLRDHUP: read to EOF, no short-read shortcut */
    uint8_t ready;                  /* on the ready list */
    uint32_t rd_block, wr_block;    /* epoll events the read / write side waits for (0: not blocked) */
    uint64_t discard;               /* request body bytes still to drop */
    size_t lingered;                /* bytes dropped while lingering */
    SSL *ssl;                       /* NULL for plain HTTP */
    bp__http_buf *buf;
    struct bp__http_tq *tq;         /* timer queue the connection is on, or NULL */
    int64_t deadline_ms;
    struct bp__http_conn *tprev, *tnext;
    struct bp__http_conn *rprev, *rnext; /* ready list: more work, no new event will come */
    struct bp__http_conn *free_next;
} bp__http_conn;

/* Connections whose deadlines are now + a fixed duration, so appending keeps them in order. */
typedef struct bp__http_tq {
    bp__http_conn *head, *tail;
    int ms;
} bp__http_tq;

struct bp_http_server {
    bp_http_handler handler;
    void *ctx;
    int lfd, ep, evfd, spare_fd, port;
    int max_conns, idle_ms, header_ms, access_log;
    size_t max_head;
    bp__http_tls *tls;
    bp__http_conn *slots;           /* max_conns of them (calloc: untouched ones cost no memory) */
    int slots_used;                 /* slots[0..slots_used) have been handed out at least once */
    bp__http_conn *free_slots;      /* returned slots, reused first */
    int nconns;
    bp__http_buf *pool;
    int pool_n;
    bp__http_tq head_q;             /* receiving a request head (or the TLS handshake): header_timeout */
    bp__http_tq idle_q;             /* keep-alive, no byte of the next request yet: idle_timeout */
    bp__http_tq write_q;            /* writing an answer: idle_timeout */
    bp__http_tq linger_q;           /* lingering close after the last answer */
    bp__http_conn *ready_head, *ready_tail;
    int64_t now_ms;
    int accept_paused;
    int64_t accept_resume_ms;
    int ran, stop_seen, stopping;
    int64_t stop_deadline_ms;
    char date[BP__HTTP_DATE_MAX];
    size_t date_len;
    int64_t date_sec;
    char tag_listen, tag_event;     /* their addresses tell epoll events apart */
};

/* queue.c: timer queues and the ready list. */
void bp__http_tq_arm(bp__http_tq *q, bp__http_conn *c, int64_t now_ms);
void bp__http_tq_remove(bp__http_conn *c);
void bp__http_ready_push(bp_http_server *s, bp__http_conn *c);
void bp__http_ready_remove(bp_http_server *s, bp__http_conn *c);

/* bufpool.c: the per-server pool of I/O buffers. */
bp__http_buf *bp__http_buf_get(bp_http_server *s);
void bp__http_buf_put(bp_http_server *s, bp__http_buf *b);
void bp__http_pool_free(bp_http_server *s);

/* io.c: one read / one gathered write, plain or TLS; see the .c for the return convention. */
ssize_t bp__http_io_read(bp__http_conn *c, char *p, size_t n, uint32_t *want);
ssize_t bp__http_io_writev(bp__http_conn *c, const struct iovec *iov, int n, uint32_t *want);

/* evict.c: at the cap or out of descriptors, close the connection that matters least; 1 if one was closed. */
int bp__http_evict_one(bp_http_server *s);

/* conn.c: the connection state machine. */
int bp__http_conn_open(bp_http_server *s, bp__http_conn *c, int fd);
void bp__http_conn_event(bp_http_server *s, bp__http_conn *c, uint32_t events);
void bp__http_conn_run(bp_http_server *s, bp__http_conn *c);
void bp__http_conn_close(bp_http_server *s, bp__http_conn *c);
void bp__http_conn_stop(bp_http_server *s, bp__http_conn *c);

/* respond.c: answers: the handler's, or the server's own error answers. */
void bp__http_respond(bp_http_server *s, bp__http_conn *c, size_t head_len);
void bp__http_respond_error(bp_http_server *s, bp__http_conn *c, int status);
/* Write what is left; 1 finished, 0 blocked (wr_block set), BP_EIO broken. */
int bp__http_respond_flush(bp__http_conn *c);
/* After the last byte: access log, release(hold), drop the request from the buffer. */
void bp__http_respond_done(bp_http_server *s, bp__http_conn *c);
/* The connection dies with a response in flight: release(hold) without logging. */
void bp__http_respond_abort(bp__http_conn *c);

#endif

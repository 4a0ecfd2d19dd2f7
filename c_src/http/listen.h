/* listen.h: parse a listen address and open a non-blocking listening TCP socket on it. */
#ifndef BP_HTTP_LISTEN_H
#define BP_HTTP_LISTEN_H

#include <stddef.h>

/*
 * spec: "0.0.0.0:8080", "127.0.0.1:0" (0: any free port), "[::1]:8080",
 * "host.name:8080", ":8080" or "8080" (every interface: IPv6 dual-stack "::"
 * when the host has IPv6, else 0.0.0.0). On success *fd owns a non-blocking,
 * close-on-exec listening socket and *port is the bound port. 0, or BP_EUSAGE
 * (bad address) / BP_EIO (socket, bind or listen failed) with err set.
 */
int bp__http_listen(const char *spec, int backlog, int *fd, int *port, char *err, size_t errlen);

#endif

/* epmd.h: a small EPMD client (PORT_PLEASE2 and NAMES) with deadlines. */
#ifndef BP_EPMD_H
#define BP_EPMD_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "dist/net.h"

/* EPMD's TCP port: $ERL_EPMD_PORT or 4369. */
int bp__epmd_port(void);

/*
 * Ask EPMD at addr for the distribution port of `alive`.
 * Returns 0 with *port set, BP_ENOTREG (EPMD answered: no such node),
 * BP_EEPMD (EPMD not reachable or spoke nonsense; *why says which, a static
 * string, when why is not NULL) or BP_ETIMEDOUT.
 */
int bp__epmd_port_please(const bp__addr *addr, const char *alive, int64_t deadline_ms, int *port,
                         const char **why);

/*
 * Parse the first len bytes of a PORT2_RESP reply (119, result, then on
 * success the port:16 and more that is not needed). Returns 0 with *port set
 * (1..65535), BP_ENOTREG (result not 0), BP_EEPMD with *why set (not EPMD's
 * answer: another tag, or port 0), or 1 when more bytes are needed (len < 2,
 * or len < 4 after a success result). Pure: no I/O.
 */
int bp__epmd_port2_reply(const unsigned char *r, size_t len, int *port, const char **why);

/*
 * Parse the body of an EPMD NAMES reply ("name X at port N\n" lines) into up
 * to max names (each up to namelen bytes incl. NUL). Returns the number of
 * names found (never more than max). Lines that do not parse are skipped.
 */
size_t bp__epmd_parse_names(const char *body, size_t len, char (*names)[256], int *ports, size_t max);

/*
 * NAMES request: every node registered with EPMD at addr. Fills up to max
 * entries, *count gets the number filled. 0, BP_EEPMD or BP_ETIMEDOUT.
 */
int bp__epmd_names(const bp__addr *addr, int64_t deadline_ms, char (*names)[256], int *ports,
                   size_t max, size_t *count);

#endif

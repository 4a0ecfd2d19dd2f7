/* challenge.h: the node name a node states in its distribution handshake challenge. */
#ifndef BP_CHALLENGE_H
#define BP_CHALLENGE_H

#include <stddef.h>

/*
 * hs holds what a node sent after our name, as read: the status packet, then
 * the challenge packet, each behind a `header`-byte length (2 over TCP, 4 over
 * TLS). Copies the node's own name (alive@host, from an old 'n' or a new 'N'
 * challenge) into out and returns 0; -1 when hs holds no complete challenge or
 * the name does not fit or is not a plausible node name.
 */
int bp__challenge_name(const unsigned char *hs, size_t len, size_t header, char *out, size_t outlen);

#endif

/* sign.c: HMAC-SHA256 signatures of webhook bodies (OpenSSL). */
#include "notify/sign.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

int bp_notify_sign(const void *key, size_t keylen, const void *body, size_t len, char out[BP_SIGNATURE_LEN])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    out[0] = '\0';
    if (keylen > 0x7fffffff
        || !HMAC(EVP_sha256(), key, (int)keylen, body, len, mac, &maclen) || maclen != 32)
        return -1;
    memcpy(out, "sha256=", 7);
    for (unsigned i = 0; i < maclen; i++) {
        out[7 + 2 * i] = hex[mac[i] >> 4];
        out[8 + 2 * i] = hex[mac[i] & 15];
    }
    out[7 + 2 * maclen] = '\0';
    return 0;
}

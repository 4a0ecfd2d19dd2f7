/* ssl_lazy.c: the command's OpenSSL functions, loaded from libssl.so.3 on first call, so runs that never use TLS or a hash skip OpenSSL's start-up cost. */
/*
 * Linked into priv/beamprobe only (not libbeamprobe.a: the NIF and the tests link OpenSSL
 * themselves). Each OpenSSL function the code calls is defined here with OpenSSL's own
 * prototype (the headers below declare them, so the compiler checks every signature) and
 * forwards to the symbol dlsym finds in libssl.so.3 (and libcrypto.so.3, its dependency).
 * Statically linked, OpenSSL's ~19,000 relative relocations and ~95 pages of relocated data
 * cost every run about 0.35 ms of loader work before main (docs/BENCHMARKS.md, Start-up).
 * The commands that will need OpenSSL load it at start (bp_ssl_require: serve always, check and
 * cluster with --dist-tls), so that a missing library is an error before the first step; a call
 * no command foresaw still loads it, and if it cannot be loaded says so on stderr and exits 1.
 */
#include <dlfcn.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "beamprobe.h"
#include "cli/ssl_lazy.h"

/* R(return type, name, parameters, arguments) for functions with a result, V(...) for void ones. */
#define BP_SSL_FUNCTIONS(R, V)                                                                   \
    V(BIO_clear_flags, (BIO *b, int flags), (b, flags))                                          \
    R(void *, BIO_get_data, (BIO *a), (a))                                                       \
    R(int, BIO_get_new_index, (void), ())                                                        \
    V(BIO_meth_free, (BIO_METHOD *m), (m))                                                       \
    R(BIO_METHOD *, BIO_meth_new, (int type, const char *name), (type, name))                    \
    R(int, BIO_meth_set_ctrl, (BIO_METHOD *m, long (*f)(BIO *, int, long, void *)), (m, f))      \
    R(int, BIO_meth_set_puts, (BIO_METHOD *m, int (*f)(BIO *, const char *)), (m, f))            \
    R(int, BIO_meth_set_read, (BIO_METHOD *m, int (*f)(BIO *, char *, int)), (m, f))             \
    R(int, BIO_meth_set_write, (BIO_METHOD *m, int (*f)(BIO *, const char *, int)), (m, f))      \
    R(BIO *, BIO_new, (const BIO_METHOD *type), (type))                                          \
    V(BIO_set_data, (BIO *a, void *ptr), (a, ptr))                                               \
    V(BIO_set_flags, (BIO *b, int flags), (b, flags))                                            \
    V(BIO_set_init, (BIO *a, int init), (a, init))                                               \
    R(int, CRYPTO_memcmp, (const void *a, const void *b, size_t len), (a, b, len))               \
    V(ERR_clear_error, (void), ())                                                               \
    R(unsigned long, ERR_peek_error, (void), ())                                                 \
    R(unsigned long, ERR_peek_last_error, (void), ())                                            \
    R(const char *, ERR_reason_error_string, (unsigned long e), (e))                             \
    R(int, EVP_EncodeBlock, (unsigned char *t, const unsigned char *f, int n), (t, f, n))        \
    R(const EVP_MD *, EVP_sha256, (void), ())                                                    \
    R(unsigned char *, HMAC,                                                                     \
      (const EVP_MD *md, const void *key, int key_len, const unsigned char *data,               \
       size_t data_len, unsigned char *out, unsigned int *out_len),                             \
      (md, key, key_len, data, data_len, out, out_len))                                         \
    R(unsigned char *, SHA256, (const unsigned char *d, size_t n, unsigned char *md), (d, n, md)) \
    R(int, SSL_CTX_check_private_key, (const SSL_CTX *ctx), (ctx))                               \
    R(long, SSL_CTX_ctrl, (SSL_CTX *ctx, int cmd, long larg, void *parg), (ctx, cmd, larg, parg)) \
    V(SSL_CTX_free, (SSL_CTX *ctx), (ctx))                                                       \
    R(int, SSL_CTX_load_verify_locations, (SSL_CTX *ctx, const char *file, const char *path),   \
      (ctx, file, path))                                                                         \
    R(SSL_CTX *, SSL_CTX_new, (const SSL_METHOD *meth), (meth))                                  \
    V(SSL_CTX_set_client_CA_list, (SSL_CTX *ctx, STACK_OF(X509_NAME) *list), (ctx, list))        \
    V(SSL_CTX_set_default_passwd_cb, (SSL_CTX *ctx, pem_password_cb *cb), (ctx, cb))             \
    R(int, SSL_CTX_set_default_verify_paths, (SSL_CTX *ctx), (ctx))                              \
    R(uint64_t, SSL_CTX_set_options, (SSL_CTX *ctx, uint64_t op), (ctx, op))                     \
    R(int, SSL_CTX_set_session_id_context, (SSL_CTX *ctx, const unsigned char *sid, unsigned int len), \
      (ctx, sid, len))                                                                           \
    V(SSL_CTX_set_verify, (SSL_CTX *ctx, int mode, SSL_verify_cb cb), (ctx, mode, cb))           \
    R(int, SSL_CTX_use_PrivateKey_file, (SSL_CTX *ctx, const char *file, int type), (ctx, file, type)) \
    R(int, SSL_CTX_use_certificate_chain_file, (SSL_CTX *ctx, const char *file), (ctx, file))   \
    R(int, SSL_connect, (SSL *ssl), (ssl))                                                       \
    R(long, SSL_ctrl, (SSL *ssl, int cmd, long larg, void *parg), (ssl, cmd, larg, parg))        \
    R(int, SSL_do_handshake, (SSL *s), (s))                                                      \
    V(SSL_free, (SSL *ssl), (ssl))                                                               \
    R(X509_VERIFY_PARAM *, SSL_get0_param, (SSL *ssl), (ssl))                                    \
    R(int, SSL_get_error, (const SSL *s, int ret), (s, ret))                                     \
    R(OSSL_HANDSHAKE_STATE, SSL_get_state, (const SSL *ssl), (ssl))                              \
    R(long, SSL_get_verify_result, (const SSL *ssl), (ssl))                                      \
    R(int, SSL_is_init_finished, (const SSL *s), (s))                                            \
    R(STACK_OF(X509_NAME) *, SSL_load_client_CA_file, (const char *file), (file))                \
    R(SSL *, SSL_new, (SSL_CTX *ctx), (ctx))                                                     \
    R(int, SSL_pending, (const SSL *s), (s))                                                     \
    R(int, SSL_read_ex, (SSL *ssl, void *buf, size_t num, size_t *got), (ssl, buf, num, got))    \
    V(SSL_set_accept_state, (SSL *s), (s))                                                       \
    V(SSL_set_bio, (SSL *s, BIO *rbio, BIO *wbio), (s, rbio, wbio))                              \
    V(SSL_set_connect_state, (SSL *s), (s))                                                      \
    R(int, SSL_shutdown, (SSL *s), (s))                                                          \
    R(int, SSL_write_ex, (SSL *s, const void *buf, size_t num, size_t *put), (s, buf, num, put)) \
    R(const SSL_METHOD *, TLS_client_method, (void), ())                                         \
    R(const SSL_METHOD *, TLS_server_method, (void), ())                                         \
    R(int, X509_VERIFY_PARAM_set1_host, (X509_VERIFY_PARAM *p, const char *name, size_t len),   \
      (p, name, len))                                                                            \
    R(int, X509_VERIFY_PARAM_set1_ip_asc, (X509_VERIFY_PARAM *p, const char *ip), (p, ip))      \
    V(X509_VERIFY_PARAM_set_hostflags, (X509_VERIFY_PARAM *p, unsigned int flags), (p, flags))  \
    R(const char *, X509_verify_cert_error_string, (long n), (n))

/* One pointer per function, of the type OpenSSL declares it with. */
#define BP_SSL_POINTER_R(ret, name, params, args) __typeof__(name) *(name);
#define BP_SSL_POINTER_V(name, params, args) __typeof__(name) *(name);
static struct {
    BP_SSL_FUNCTIONS(BP_SSL_POINTER_R, BP_SSL_POINTER_V)
} api;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char failure[256] = "not loaded";

static void *lib; /* libssl.so.3, kept open for the life of the process once every function resolves */

#define BP_SSL_RESOLVE_R(ret, name, params, args)                                        \
    *(void **)(void *)&api.name = dlsym(lib, #name);                                     \
    if (!api.name) {                                                                     \
        snprintf(failure, sizeof failure, "libssl.so.3 lacks %s", #name);                \
        return -1;                                                                       \
    }
#define BP_SSL_RESOLVE_V(name, params, args) BP_SSL_RESOLVE_R(void, name, params, args)

/* Every function of the table from lib: 0, or -1 with failure saying which is missing. */
static int resolve(void)
{
    BP_SSL_FUNCTIONS(BP_SSL_RESOLVE_R, BP_SSL_RESOLVE_V)
    return 0;
}

static void load(void)
{
    lib = dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(failure, sizeof failure, "%s", e ? e : "libssl.so.3 not found");
        return;
    }
    if (resolve() != 0) {
        dlclose(lib);
        lib = NULL;
        return;
    }
    failure[0] = '\0';
}

int bp_ssl_require(const char *why, char *err, size_t errlen)
{
    pthread_once(&once, load);
    if (!failure[0])
        return 0;
    snprintf(err, errlen, "%s needs OpenSSL, which cannot be loaded: %s (install libssl3)", why, failure);
    return -1;
}

/* Loads OpenSSL once (thread-safe); without it the command cannot go on. The commands that need
 * it call bp_ssl_require at start, so this exit is for a call no command foresaw. */
static void need_openssl(void)
{
    char err[400];
    if (bp_ssl_require("this run", err, sizeof err) != 0) {
        fprintf(stderr, "beamprobe: %s\n", err);
        exit(BP_EXIT_USAGE);
    }
}

#define BP_SSL_FORWARD_R(ret, name, params, args) \
    ret name params                               \
    {                                             \
        need_openssl();                           \
        return api.name args;                     \
    }
#define BP_SSL_FORWARD_V(name, params, args) \
    void name params                         \
    {                                        \
        need_openssl();                      \
        api.name args;                       \
    }
BP_SSL_FUNCTIONS(BP_SSL_FORWARD_R, BP_SSL_FORWARD_V)

/* Server TLS material and settings (mbedTLS 2.28, TLS 1.2 only, ECDHE + AEAD suites).
 * On first start an empty directory gets a fresh ECDSA P-256 key and a self-signed
 * certificate (SAN: hostname, localhost, the machine's IPs); a user-supplied cert.pem +
 * key.pem pair is used as is. Loaded once; read-only afterwards, so shared by all threads. */
#ifndef LB_TLS_H
#define LB_TLS_H

#include <stddef.h>

#include <mbedtls/ssl.h>

#include "err.h"

typedef struct lb_tls lb_tls;

/* dir holds cert.pem and key.pem (created when both are absent; dir is created if missing).
 * hostname: for the generated certificate; NULL = gethostname(). */
int lb_tls_new(const char *dir, const char *hostname, lb_tls **out, lb_err *err);
void lb_tls_free(lb_tls *t);
const mbedtls_ssl_config *lb_tls_conf(const lb_tls *t);
/* "AA:BB:..." SHA-256 of the leaf certificate (95 characters). */
const char *lb_tls_fingerprint(const lb_tls *t);
/* mbedTLS-style RNG callback over getrandom(); thread-safe, ctx unused. */
int lb_tls_random(void *ctx, unsigned char *out, size_t len);
/* mbedtls_strerror text for an mbedTLS error code. */
const char *lb_tls_strerror(int rc, char *buf, size_t cap);

#endif

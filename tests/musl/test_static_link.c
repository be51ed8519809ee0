/* The production link works: Debian's glibc-built static OpenBLAS and mbedTLS, linked with
 * musl, compute a GEMM and complete a TLS 1.2 handshake (PSK, no certificates) over a
 * socketpair. */
#include "../lib/harness.h"

#include <cblas.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

TEST(cblas_sgemm_static)
{
    /* [1 2; 3 4] x [5 6; 7 8] = [19 22; 43 50] */
    float a[4] = { 1, 2, 3, 4 }, b[4] = { 5, 6, 7, 8 }, c[4] = { 0 };
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2);
    CHECK_NEAR(c[0], 19, 1e-6);
    CHECK_NEAR(c[1], 22, 1e-6);
    CHECK_NEAR(c[2], 43, 1e-6);
    CHECK_NEAR(c[3], 50, 1e-6);
}

struct peer {
    int fd;
    int is_server;
    int rc;
    char got[32];
};

static const unsigned char psk[16] = "0123456789abcdef";

static int fd_send(void *ctx, const unsigned char *b, size_t n) { return (int)write(*(int *)ctx, b, n); }
static int fd_recv(void *ctx, unsigned char *b, size_t n) { return (int)read(*(int *)ctx, b, n); }

static void *run_peer(void *arg)
{
    struct peer *p = arg;
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    static const int suites[] = { MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256, 0 };
    mbedtls_entropy_init(&ent);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
    p->rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent, (const unsigned char *)"t", 1);
    if (p->rc)
        goto out;
    p->rc = mbedtls_ssl_config_defaults(&conf, p->is_server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                        MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (p->rc)
        goto out;
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    mbedtls_ssl_conf_ciphersuites(&conf, suites);
    p->rc = mbedtls_ssl_conf_psk(&conf, psk, sizeof psk, (const unsigned char *)"id", 2);
    if (p->rc || (p->rc = mbedtls_ssl_setup(&ssl, &conf)))
        goto out;
    mbedtls_ssl_set_bio(&ssl, &p->fd, fd_send, fd_recv, NULL);
    while ((p->rc = mbedtls_ssl_handshake(&ssl)) != 0)
        if (p->rc != MBEDTLS_ERR_SSL_WANT_READ && p->rc != MBEDTLS_ERR_SSL_WANT_WRITE)
            goto out;
    if (p->is_server) {
        int n = mbedtls_ssl_read(&ssl, (unsigned char *)p->got, sizeof p->got - 1);
        p->rc = n < 0 ? n : 0;
        if (n > 0)
            p->got[n] = 0;
    } else {
        int n = mbedtls_ssl_write(&ssl, (const unsigned char *)"hello", 5);
        p->rc = n == 5 ? 0 : n;
    }
out:
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&ent);
    return NULL;
}

TEST(mbedtls_handshake_over_socketpair)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    struct peer srv = { .fd = sv[0], .is_server = 1 }, cli = { .fd = sv[1] };
    pthread_t t;
    pthread_create(&t, NULL, run_peer, &srv);
    run_peer(&cli);
    pthread_join(t, NULL);
    close(sv[0]);
    close(sv[1]);
    char e[128];
    mbedtls_strerror(srv.rc, e, sizeof e);
    CHECK_MSG(srv.rc == 0, "server: %s", e);
    mbedtls_strerror(cli.rc, e, sizeof e);
    CHECK_MSG(cli.rc == 0, "client: %s", e);
    CHECK_STR(srv.got, "hello");
}

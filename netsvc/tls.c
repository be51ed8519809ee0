/* TLS material: load or create the key and certificate, and the shared server config. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include "fileio.h"
#include "log.h"

struct lb_tls {
    mbedtls_ssl_config conf;
    mbedtls_x509_crt crt;
    mbedtls_pk_context key;
    char fingerprint[96];
};

/* Forward secrecy and AEAD only. Static: mbedTLS keeps the pointers. */
static const int suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    0,
};
static const mbedtls_ecp_group_id curves[] = {
    MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_NONE,
};

int lb_tls_random(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    while (len) {
        ssize_t n = getrandom(out, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
        }
        out += n;
        len -= (size_t)n;
    }
    return 0;
}

const char *lb_tls_strerror(int rc, char *buf, size_t cap)
{
    mbedtls_strerror(rc, buf, cap);
    return buf;
}

static int tls_fail(lb_err *err, int rc, const char *what)
{
    char e[160];
    return lb_err_set(err, LB_EIO, "tls: %s: %s (-0x%04x)", what, lb_tls_strerror(rc, e, sizeof e), (unsigned)-rc);
}

/* ---- generating a self-signed certificate ---- */

typedef struct der {
    unsigned char buf[2048];
    size_t len;
    bool full;
} der;

static void der_put(der *d, unsigned tag, const void *data, size_t len)
{
    unsigned char hdr[4];
    size_t h = 0;
    hdr[h++] = (unsigned char)tag;
    if (len < 0x80)
        hdr[h++] = (unsigned char)len;
    else if (len < 0x100) {
        hdr[h++] = 0x81;
        hdr[h++] = (unsigned char)len;
    } else {
        hdr[h++] = 0x82;
        hdr[h++] = (unsigned char)(len >> 8);
        hdr[h++] = (unsigned char)len;
    }
    if (len > 0xFFFF || sizeof d->buf - d->len < h + len) {
        d->full = true;
        return;
    }
    memcpy(d->buf + d->len, hdr, h);
    memcpy(d->buf + d->len + h, data, len);
    d->len += h + len;
}

static bool valid_dns_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
            return false;
    return true;
}

/* Adds an iPAddress entry unless already present (names holds the raw addresses seen). */
static void san_add_ip(der *san, unsigned char seen[][16], size_t *n_seen, const void *addr, size_t alen)
{
    unsigned char key[16] = { 0 };
    memcpy(key, addr, alen);
    if (alen == 4)
        key[15] = 4;  /* keep v4 and v6 keys apart */
    for (size_t i = 0; i < *n_seen; i++)
        if (memcmp(seen[i], key, 16) == 0)
            return;
    if (*n_seen < 64)
        memcpy(seen[(*n_seen)++], key, 16);
    der_put(san, 0x87, addr, alen);
}

/* SubjectAltName value: hostname, localhost, loopback and the addresses of every interface. */
static void build_san(der *out, const char *host)
{
    der san = { .len = 0 };
    unsigned char seen[64][16];
    size_t n_seen = 0;
    if (host && valid_dns_name(host) && strcmp(host, "localhost") != 0)
        der_put(&san, 0x82, host, strlen(host));
    der_put(&san, 0x82, "localhost", 9);
    struct in_addr lo4 = { htonl(INADDR_LOOPBACK) };
    san_add_ip(&san, seen, &n_seen, &lo4, 4);
    san_add_ip(&san, seen, &n_seen, &in6addr_loopback, 16);
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) == 0) {
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
            if (!i->ifa_addr)
                continue;
            if (i->ifa_addr->sa_family == AF_INET) {
                san_add_ip(&san, seen, &n_seen, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
            } else if (i->ifa_addr->sa_family == AF_INET6) {
                const struct in6_addr *a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
                if (!IN6_IS_ADDR_LINKLOCAL(a))  /* scoped addresses do not work in URLs */
                    san_add_ip(&san, seen, &n_seen, a, 16);
            }
        }
        freeifaddrs(ifs);
    } else {
        LOG_WARN("tls: cannot list interfaces (%s); certificate names only localhost", strerror(errno));
    }
    if (san.full)
        LOG_WARN("tls: too many addresses; the certificate lists only the first ones");
    der_put(out, 0x30, san.buf, san.len);
}

static int generate(const char *cert_path, const char *key_path, const char *hostname, lb_err *err)
{
    mbedtls_pk_context key;
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
    unsigned char *pem = malloc(8192);
    int rc, ret = LB_OK;
    mbedtls_pk_init(&key);
    mbedtls_x509write_crt_init(&crt);
    mbedtls_mpi_init(&serial);
    if (!pem) {
        ret = lb_err_set(err, LB_ENOMEM, "tls: out of memory");
        goto out;
    }
    if ((rc = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) ||
        (rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key), lb_tls_random, NULL))) {
        ret = tls_fail(err, rc, "generating the key");
        goto out;
    }
    char host[256] = "llmbox";
    if (hostname && *hostname)
        snprintf(host, sizeof host, "%s", hostname);
    else if (gethostname(host, sizeof host - 1) != 0 || !host[0])
        snprintf(host, sizeof host, "llmbox");
    char subject[300];
    snprintf(subject, sizeof subject, "CN=%s,O=llmbox", valid_dns_name(host) ? host : "llmbox");

    unsigned char sn[16];
    der san = { .len = 0 };
    build_san(&san, host);
    /* extKeyUsage: SEQUENCE { id-kp-serverAuth } */
    der eku = { .len = 0 }, eku_oid = { .len = 0 };
    der_put(&eku_oid, 0x06, MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH));
    der_put(&eku, 0x30, eku_oid.buf, eku_oid.len);
    if ((rc = lb_tls_random(NULL, sn, sizeof sn))) {
        ret = tls_fail(err, rc, "random serial");
        goto out;
    }
    sn[0] &= 0x7F;  /* positive */
    sn[0] |= 0x01;  /* and no leading zero byte */
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, &key);
    mbedtls_x509write_crt_set_issuer_key(&crt, &key);
    /* A fixed validity window: the appliance may boot with no clock set. */
    if ((rc = mbedtls_mpi_read_binary(&serial, sn, sizeof sn)) ||
        (rc = mbedtls_x509write_crt_set_serial(&crt, &serial)) ||
        (rc = mbedtls_x509write_crt_set_subject_name(&crt, subject)) ||
        (rc = mbedtls_x509write_crt_set_issuer_name(&crt, subject)) ||
        (rc = mbedtls_x509write_crt_set_validity(&crt, "20000101000000", "20491231235959")) ||
        (rc = mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1)) ||
        (rc = mbedtls_x509write_crt_set_key_usage(&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) ||
        (rc = mbedtls_x509write_crt_set_subject_key_identifier(&crt)) ||
        (rc = mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, san.buf, san.len)) ||
        (rc = mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0, eku.buf, eku.len))) {
        ret = tls_fail(err, rc, "building the certificate");
        goto out;
    }
    /* key first: a certificate is useless without it */
    if ((rc = mbedtls_pk_write_key_pem(&key, pem, 8192))) {
        ret = tls_fail(err, rc, "encoding the key");
        goto out;
    }
    if ((ret = lb_write_file_atomic(key_path, pem, strlen((char *)pem), 0600, err)))
        goto out;
    if ((rc = mbedtls_x509write_crt_pem(&crt, pem, 8192, lb_tls_random, NULL))) {
        ret = tls_fail(err, rc, "signing the certificate");
        goto out;
    }
    if ((ret = lb_write_file_atomic(cert_path, pem, strlen((char *)pem), 0644, err)))
        goto out;
    LOG_INFO("tls: generated a self-signed ECDSA P-256 certificate for %s", host);
out:
    if (pem)
        mbedtls_platform_zeroize(pem, 8192);
    free(pem);
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&key);
    return ret;
}

/* ---- loading ---- */

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int lb_tls_new(const char *dir, const char *hostname, lb_tls **out, lb_err *err)
{
    char cert_path[512], key_path[512];
    int rc, ret = LB_OK;
    *out = NULL;
    if (!dir || !*dir)
        return lb_err_set(err, LB_EINVAL, "tls: no certificate directory given");
    if (lb_path_join(cert_path, sizeof cert_path, dir, "cert.pem") || lb_path_join(key_path, sizeof key_path, dir, "key.pem"))
        return lb_err_set(err, LB_ELIMIT, "tls: directory path too long: %s", dir);
    lb_tls *t = calloc(1, sizeof *t);
    if (!t)
        return lb_err_set(err, LB_ENOMEM, "tls: out of memory");
    mbedtls_ssl_config_init(&t->conf);
    mbedtls_x509_crt_init(&t->crt);
    mbedtls_pk_init(&t->key);

    bool have_cert = exists(cert_path), have_key = exists(key_path);
    if (have_cert != have_key) {
        ret = lb_err_set(err, LB_EINVAL, "tls: %s exists but %s does not; supply both or neither",
                         have_cert ? cert_path : key_path, have_cert ? key_path : cert_path);
        goto out;
    }
    if (!have_cert) {
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            ret = lb_err_set(err, LB_EIO, "tls: cannot create %s: %s", dir, strerror(errno));
            goto out;
        }
        if ((ret = generate(cert_path, key_path, hostname, err)))
            goto out;
    }
    if ((rc = mbedtls_x509_crt_parse_file(&t->crt, cert_path)) < 0) {
        ret = tls_fail(err, rc, cert_path);
        goto out;
    }
    if ((rc = mbedtls_pk_parse_keyfile(&t->key, key_path, NULL))) {
        ret = tls_fail(err, rc, key_path);
        goto out;
    }
    if ((rc = mbedtls_pk_check_pair(&t->crt.pk, &t->key))) {
        char e[160];
        ret = lb_err_set(err, LB_EINVAL, "tls: %s does not belong to the key in %s: %s", cert_path, key_path,
                         lb_tls_strerror(rc, e, sizeof e));
        goto out;
    }
    unsigned char hash[32];
    if ((rc = mbedtls_sha256_ret(t->crt.raw.p, t->crt.raw.len, hash, 0))) {
        ret = tls_fail(err, rc, "fingerprint");
        goto out;
    }
    for (int i = 0; i < 32; i++)
        snprintf(t->fingerprint + 3 * i, 4, "%02X%s", hash[i], i < 31 ? ":" : "");

    if ((rc = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                          MBEDTLS_SSL_PRESET_DEFAULT))) {
        ret = tls_fail(err, rc, "config");
        goto out;
    }
    mbedtls_ssl_conf_rng(&t->conf, lb_tls_random, NULL);
    mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(&t->conf, suites);
    mbedtls_ssl_conf_curves(&t->conf, curves);
    mbedtls_ssl_conf_renegotiation(&t->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
    if ((rc = mbedtls_ssl_conf_own_cert(&t->conf, &t->crt, &t->key))) {
        ret = tls_fail(err, rc, "certificate");
        goto out;
    }
    /* One signature now: mbedTLS caches the key's curve tables lazily on first use, which
     * must not happen in two handshake threads at once. */
    unsigned char sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t sig_len = 0;
    if ((rc = mbedtls_pk_sign(&t->key, MBEDTLS_MD_SHA256, hash, sizeof hash, sig, &sig_len, lb_tls_random, NULL))) {
        ret = tls_fail(err, rc, "test signature with the key");
        goto out;
    }
    *out = t;
    t = NULL;
out:
    lb_tls_free(t);
    return ret;
}

void lb_tls_free(lb_tls *t)
{
    if (!t)
        return;
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->crt);
    mbedtls_pk_free(&t->key);
    free(t);
}

const mbedtls_ssl_config *lb_tls_conf(const lb_tls *t)
{
    return &t->conf;
}

const char *lb_tls_fingerprint(const lb_tls *t)
{
    return t->fingerprint;
}

#include "../lib/harness.h"
#include "fileio.h"
#include "tls.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/asn1.h>
#include <mbedtls/x509_crt.h>

static void path(char *buf, size_t cap, const char *dir, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
}

static void copy_file(const char *from, const char *to)
{
    char *data = NULL;
    size_t len = 0;
    lb_err err = { 0 };
    CHECK_EQ(lb_read_file(from, 1 << 20, &data, &len, &err), LB_OK);
    CHECK_EQ(lb_write_file_atomic(to, data, len, 0600, &err), LB_OK);
    free(data);
}

TEST(generates_once_then_reuses)
{
    char dir[512], cert[600], key[600];
    path(dir, sizeof dir, lb_test_tmpdir(), "tls");  /* does not exist yet */
    path(cert, sizeof cert, dir, "cert.pem");
    path(key, sizeof key, dir, "key.pem");
    lb_tls *t = NULL;
    lb_err err = { 0 };
    CHECK_MSG(lb_tls_new(dir, "box.example", &t, &err) == LB_OK, "%s", err.msg);
    if (!t)
        return;
    char fp[96];
    snprintf(fp, sizeof fp, "%s", lb_tls_fingerprint(t));
    CHECK_EQ(strlen(fp), 95);
    for (int i = 0; i < 95; i++)
        CHECK(i % 3 == 2 ? fp[i] == ':' : strchr("0123456789ABCDEF", fp[i]) != NULL);
    lb_tls_free(t);
    struct stat st;
    CHECK(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(stat(cert, &st) == 0);
    /* second start: same certificate */
    CHECK_EQ(lb_tls_new(dir, "other-name", &t, &err), LB_OK);
    if (t)
        CHECK_STR(lb_tls_fingerprint(t), fp);
    lb_tls_free(t);

    /* the fingerprint agrees with OpenSSL's */
    char cmd[800], line[256] = "";
    snprintf(cmd, sizeof cmd, "openssl x509 -in '%s' -noout -fingerprint -sha256 2>&1", cert);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (p) {
        if (!fgets(line, sizeof line, p))
            line[0] = 0;
        pclose(p);
    }
    char *eq = strchr(line, '=');
    CHECK_MSG(eq && strncmp(eq + 1, fp, 95) == 0, "openssl says %s", line);
}

TEST(certificate_names_host_and_loopback)
{
    char dir[512], cert[600];
    path(dir, sizeof dir, lb_test_tmpdir(), "tls");
    path(cert, sizeof cert, dir, "cert.pem");
    lb_tls *t = NULL;
    lb_err err = { 0 };
    CHECK_MSG(lb_tls_new(dir, "box.example", &t, &err) == LB_OK, "%s", err.msg);
    lb_tls_free(t);
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    CHECK_EQ(mbedtls_x509_crt_parse_file(&crt, cert), 0);
    bool host = false, localhost = false, ip4 = false;
    for (const mbedtls_x509_sequence *s = &crt.subject_alt_names; s && s->buf.p; s = s->next) {
        int tag = s->buf.tag & 0x1F;
        if (tag == 2 && s->buf.len == 11 && memcmp(s->buf.p, "box.example", 11) == 0)
            host = true;
        if (tag == 2 && s->buf.len == 9 && memcmp(s->buf.p, "localhost", 9) == 0)
            localhost = true;
        if (tag == 7 && s->buf.len == 4 && memcmp(s->buf.p, "\x7f\0\0\x01", 4) == 0)
            ip4 = true;
    }
    CHECK(host && localhost && ip4);
    CHECK_EQ(crt.sig_md, MBEDTLS_MD_SHA256);
    CHECK_EQ(mbedtls_pk_get_type(&crt.pk), MBEDTLS_PK_ECKEY);
    CHECK_EQ(mbedtls_pk_get_bitlen(&crt.pk), 256);
    mbedtls_x509_crt_free(&crt);
}

TEST(user_pair_mismatch_and_half_pair_are_refused)
{
    char a[512], b[512], c[512], f1[600], f2[600];
    path(a, sizeof a, lb_test_tmpdir(), "a");
    path(b, sizeof b, lb_test_tmpdir(), "b");
    path(c, sizeof c, lb_test_tmpdir(), "c");
    lb_tls *t = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_tls_new(a, NULL, &t, &err), LB_OK);
    lb_tls_free(t);
    CHECK_EQ(lb_tls_new(b, NULL, &t, &err), LB_OK);
    lb_tls_free(t);
    /* c: a's certificate with b's key */
    CHECK_EQ(mkdir(c, 0700), 0);
    path(f1, sizeof f1, a, "cert.pem");
    path(f2, sizeof f2, c, "cert.pem");
    copy_file(f1, f2);
    t = NULL;
    CHECK_EQ(lb_tls_new(c, NULL, &t, &err), LB_EINVAL);  /* key missing: not overwritten */
    CHECK(strstr(err.msg, "key.pem") != NULL);
    CHECK(t == NULL);
    path(f1, sizeof f1, b, "key.pem");
    path(f2, sizeof f2, c, "key.pem");
    copy_file(f1, f2);
    CHECK_EQ(lb_tls_new(c, NULL, &t, &err), LB_EINVAL);
    CHECK_MSG(strstr(err.msg, "does not belong") != NULL, "%s", err.msg);
    CHECK(t == NULL);
    /* garbage certificate: mbedTLS's reason is in the message */
    path(f2, sizeof f2, c, "cert.pem");
    CHECK_EQ(lb_write_file_atomic(f2, "not a cert", 10, 0644, &err), LB_OK);
    CHECK_EQ(lb_tls_new(c, NULL, &t, &err), LB_EIO);
    CHECK_MSG(strstr(err.msg, "cert.pem") != NULL && strstr(err.msg, "X509") != NULL, "%s", err.msg);
}

TEST(random_is_random)
{
    unsigned char x[32] = { 0 }, y[32] = { 0 };
    CHECK_EQ(lb_tls_random(NULL, x, sizeof x), 0);
    CHECK_EQ(lb_tls_random(NULL, y, sizeof y), 0);
    CHECK(memcmp(x, y, sizeof x) != 0);
}

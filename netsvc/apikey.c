#include "apikey.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "fileio.h"

static const char B62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static int generate(char *key, lb_err *err)
{
    unsigned char rnd[64];
    size_t got = 0;
    while (got < sizeof rnd) {
        ssize_t n = getrandom(rnd + got, sizeof rnd - got, 0);  /* blocks until the RNG is seeded */
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return lb_err_set(err, LB_EIO, "getrandom: %s", strerror(errno));
        got += (size_t)n;
    }
    strcpy(key, "sk-llmbox-");
    size_t len = strlen(key);
    /* Rejection sampling keeps the characters uniform: bytes >= 248 (= 4 * 62) are skipped. */
    for (size_t i = 0; i < sizeof rnd && len < 10 + 32; i++)
        if (rnd[i] < 248)
            key[len++] = B62[rnd[i] % 62];
    key[len] = 0;
    if (len < 10 + 32)
        return lb_err_set(err, LB_EIO, "getrandom: not enough usable bytes");
    return LB_OK;
}

int lb_apikey_load(const char *path, char *key, bool *generated, lb_err *err)
{
    *generated = false;
    key[0] = 0;
    char *buf = NULL;
    size_t len = 0;
    int rc = lb_read_file(path, 4096, &buf, &len, err);
    if (rc != LB_OK && rc != LB_ENOENT)
        return lb_err_wrap(err, rc, "API key file");
    if (rc == LB_ENOENT) {
        rc = generate(key, err);
        if (rc != LB_OK)
            return rc;
        char line[LB_APIKEY_MAX + 2];
        int n = snprintf(line, sizeof line, "%s\n", key);
        rc = lb_write_file_atomic(path, line, (size_t)n, 0600, err);
        if (rc != LB_OK) {
            key[0] = 0;
            return lb_err_wrap(err, rc, "writing the new API key");
        }
        *generated = true;
        return LB_OK;
    }
    size_t a = 0, b = len;
    while (a < b && (buf[a] == ' ' || buf[a] == '\t' || buf[a] == '\n' || buf[a] == '\r'))
        a++;
    while (b > a && (buf[b - 1] == ' ' || buf[b - 1] == '\t' || buf[b - 1] == '\n' || buf[b - 1] == '\r'))
        b--;
    if (b == a)
        rc = lb_err_set(err, LB_EFORMAT, "API key file %s is empty", path);
    else if (b - a >= LB_APIKEY_MAX)
        rc = lb_err_set(err, LB_EFORMAT, "API key in %s is longer than %d bytes", path, LB_APIKEY_MAX - 1);
    for (size_t i = a; rc == LB_OK && i < b; i++)
        if ((unsigned char)buf[i] <= ' ' || (unsigned char)buf[i] >= 127)
            rc = lb_err_set(err, LB_EFORMAT, "API key in %s has a space or non-printable byte", path);
    if (rc == LB_OK) {
        memcpy(key, buf + a, b - a);
        key[b - a] = 0;
    }
    free(buf);
    return rc;
}

bool lb_apikey_check(const char *key, const char *authorization)
{
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return false;
    const char *given = authorization + 7;
    while (*given == ' ')
        given++;
    size_t klen = strlen(key), glen = strnlen(given, LB_APIKEY_MAX);
    /* Time depends only on the key's length, never on where the first difference is. */
    unsigned char diff = (unsigned char)(klen != glen);
    for (size_t i = 0; i < klen; i++) {
        unsigned char g = i < glen ? (unsigned char)given[i] : 0;
        diff |= (unsigned char)(g ^ (unsigned char)key[i]);
    }
    return diff == 0 && klen > 0;
}

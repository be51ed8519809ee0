/* The API key: loaded from a file, or generated from getrandom and stored atomically (0600)
 * on first start. Requests present it as "Authorization: Bearer KEY". */
#ifndef LB_APIKEY_H
#define LB_APIKEY_H

#include <stdbool.h>

#include "err.h"

#define LB_APIKEY_MAX 256

/* Reads the key from path (surrounding whitespace trimmed). When the file does not exist, a new
 * key "sk-llmbox-" + 32 base62 characters is generated and written; *generated tells which. An
 * existing file that is empty, too long or holds non-printable characters is an error (it is
 * never overwritten). */
int lb_apikey_load(const char *path, char *key, bool *generated, lb_err *err);

/* Constant-time check of an Authorization header value against the key. NULL header: false. */
bool lb_apikey_check(const char *key, const char *authorization);

#endif

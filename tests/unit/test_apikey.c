#include "../lib/harness.h"
#include "apikey.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "fileio.h"

TEST(generates_stores_and_reuses_key)
{
    char path[512], key[LB_APIKEY_MAX], key2[LB_APIKEY_MAX];
    snprintf(path, sizeof path, "%s/api.key", lb_test_tmpdir());
    bool gen = false;
    lb_err err = { 0 };
    CHECK_EQ(lb_apikey_load(path, key, &gen, &err), LB_OK);
    CHECK(gen);
    CHECK_EQ(strlen(key), 42);
    CHECK(strncmp(key, "sk-llmbox-", 10) == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK_EQ(lb_apikey_load(path, key2, &gen, &err), LB_OK);
    CHECK(!gen);
    CHECK_STR(key2, key);
    /* a second generated key differs */
    char path2[512];
    snprintf(path2, sizeof path2, "%s/other.key", lb_test_tmpdir());
    CHECK_EQ(lb_apikey_load(path2, key2, &gen, &err), LB_OK);
    CHECK(strcmp(key, key2) != 0);
}

TEST(user_key_is_trimmed_and_bad_files_rejected)
{
    char path[512], key[LB_APIKEY_MAX];
    snprintf(path, sizeof path, "%s/k", lb_test_tmpdir());
    bool gen = true;
    lb_err err = { 0 };
    CHECK_EQ(lb_write_file_atomic(path, "  my-secret\n", 12, 0600, &err), LB_OK);
    CHECK_EQ(lb_apikey_load(path, key, &gen, &err), LB_OK);
    CHECK(!gen);
    CHECK_STR(key, "my-secret");
    CHECK_EQ(lb_write_file_atomic(path, "\n\n", 2, 0600, &err), LB_OK);
    CHECK_EQ(lb_apikey_load(path, key, &gen, &err), LB_EFORMAT);
    CHECK(strstr(err.msg, "empty") != NULL);
    CHECK_EQ(lb_write_file_atomic(path, "a b", 3, 0600, &err), LB_OK);
    CHECK_EQ(lb_apikey_load(path, key, &gen, &err), LB_EFORMAT);
    /* the bad file is left as it was */
    char *buf = NULL;
    size_t len = 0;
    CHECK_EQ(lb_read_file(path, 100, &buf, &len, &err), LB_OK);
    CHECK_STR(buf, "a b");
    free(buf);
    /* a directory that does not exist: error, not a crash */
    CHECK(lb_apikey_load("/nonexistent-dir/x/key", key, &gen, &err) != LB_OK);
}

TEST(check_accepts_only_the_exact_bearer_key)
{
    const char *k = "sk-llmbox-abc";
    CHECK(lb_apikey_check(k, "Bearer sk-llmbox-abc"));
    CHECK(lb_apikey_check(k, "bearer sk-llmbox-abc"));
    CHECK(!lb_apikey_check(k, NULL));
    CHECK(!lb_apikey_check(k, ""));
    CHECK(!lb_apikey_check(k, "sk-llmbox-abc"));
    CHECK(!lb_apikey_check(k, "Bearer sk-llmbox-ab"));
    CHECK(!lb_apikey_check(k, "Bearer sk-llmbox-abcd"));
    CHECK(!lb_apikey_check(k, "Bearer sk-llmbox-abd"));
    CHECK(!lb_apikey_check(k, "Basic c2stbGxtYm94LWFiYw=="));
    CHECK(!lb_apikey_check("", "Bearer "));
}

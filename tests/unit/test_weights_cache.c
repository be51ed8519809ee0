/* The weights cache file: filled once, reused by the next start, never reused when stale
 * or incomplete. A plain directory stands in for hugetlbfs (same file semantics). */
#include "../lib/harness.h"
#include "../lib/fake_tree.h"
#include "weights_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *make_model(const char *name, size_t size)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", lb_test_tmpdir(), name);
    FILE *f = fopen(path, "w");
    for (size_t i = 0; f && i < size; i++)
        fputc((int)(i * 7 % 251), f);
    if (f)
        fclose(f);
    return path;
}

static int count_weight_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strstr(e->d_name, ".weights") != NULL;
    if (d)
        closedir(d);
    return n;
}

static void fill(lb_weights_cache *c, unsigned seed)
{
    unsigned char *p = c->addr;
    for (size_t i = 0; i < c->data_len; i++)
        p[i] = (unsigned char)(i * 31 + seed);
}

static int same(const lb_weights_cache *c, unsigned seed)
{
    const unsigned char *p = c->addr;
    for (size_t i = 0; i < c->data_len; i++)
        if (p[i] != (unsigned char)(i * 31 + seed))
            return 0;
    return 1;
}

TEST(fill_commit_then_reuse)
{
    const char *dir = ft_root(lb_test_tmpdir(), "hp1");
    const char *model = make_model("m1.gguf", 5000);
    lb_weights_cache c;
    lb_err err = { 0 };
    CHECK_EQ(lb_weights_cache_open(dir, model, 100000, 0, &c, &err), LB_OK);
    CHECK(!c.reused);
    CHECK(!c.on_hugetlbfs);
    CHECK(c.map_len >= 100000 && c.map_len % c.page_size == 0);
    fill(&c, 3);
    CHECK_EQ(lb_weights_cache_commit(&c, &err), LB_OK);
    lb_weights_cache_unmap(&c);

    CHECK_EQ(lb_weights_cache_open(dir, model, 100000, 0, &c, &err), LB_OK);
    CHECK(c.reused);
    CHECK(same(&c, 3));
    lb_weights_cache_unmap(&c);
    CHECK_EQ(count_weight_files(dir), 1);
}

TEST(uncommitted_file_is_rebuilt)
{
    const char *dir = ft_root(lb_test_tmpdir(), "hp2");
    const char *model = make_model("m2.gguf", 4000);
    lb_weights_cache c;
    lb_err err = { 0 };
    CHECK_EQ(lb_weights_cache_open(dir, model, 50000, 0, &c, &err), LB_OK);
    fill(&c, 1);
    lb_weights_cache_unmap(&c);  /* "crash" before commit */
    CHECK_EQ(lb_weights_cache_open(dir, model, 50000, 0, &c, &err), LB_OK);
    CHECK(!c.reused);
    lb_weights_cache_discard(&c);
    CHECK_EQ(count_weight_files(dir), 0);
}

TEST(changed_model_gets_a_new_file_and_old_one_is_removed)
{
    const char *dir = ft_root(lb_test_tmpdir(), "hp3");
    const char *model = make_model("m3.gguf", 4000);
    char name1[64], name2[64];
    lb_weights_cache c;
    lb_err err = { 0 };
    CHECK_EQ(lb_weights_cache_name(model, 60000, 0, name1, sizeof name1, &err), LB_OK);
    CHECK_EQ(lb_weights_cache_open(dir, model, 60000, 0, &c, &err), LB_OK);
    fill(&c, 9);
    CHECK_EQ(lb_weights_cache_commit(&c, &err), LB_OK);
    lb_weights_cache_unmap(&c);
    /* same path, new contents and mtime */
    struct timespec ts[2] = { { 1000, 0 }, { 1000, 0 } };
    make_model("m3.gguf", 4001);
    CHECK_EQ(utimensat(AT_FDCWD, model, ts, 0), 0);
    CHECK_EQ(lb_weights_cache_name(model, 60000, 0, name2, sizeof name2, &err), LB_OK);
    CHECK(strcmp(name1, name2) != 0);
    CHECK_EQ(lb_weights_cache_open(dir, model, 60000, 0, &c, &err), LB_OK);
    CHECK(!c.reused);
    CHECK(strstr(c.path, name2) != NULL);
    CHECK_EQ(count_weight_files(dir), 1);  /* the stale file's pages went back */
    lb_weights_cache_unmap(&c);
    /* a different weights size (other load options) is another file as well */
    CHECK_EQ(lb_weights_cache_name(model, 60001, 0, name1, sizeof name1, &err), LB_OK);
    CHECK(strcmp(name1, name2) != 0);
    /* and so is another layout of the same weights (repacked or not) */
    CHECK_EQ(lb_weights_cache_name(model, 60000, 1, name1, sizeof name1, &err), LB_OK);
    CHECK(strcmp(name1, name2) != 0);
}

TEST(corrupt_footer_is_not_reused)
{
    const char *dir = ft_root(lb_test_tmpdir(), "hp4");
    const char *model = make_model("m4.gguf", 4000);
    lb_weights_cache c;
    lb_err err = { 0 };
    CHECK_EQ(lb_weights_cache_open(dir, model, 10000, 0, &c, &err), LB_OK);
    fill(&c, 5);
    CHECK_EQ(lb_weights_cache_commit(&c, &err), LB_OK);
    ((unsigned char *)c.addr)[c.map_len - 60] ^= 0xff;  /* inside the footer */
    lb_weights_cache_unmap(&c);
    CHECK_EQ(lb_weights_cache_open(dir, model, 10000, 0, &c, &err), LB_OK);
    CHECK(!c.reused);
    lb_weights_cache_unmap(&c);
    /* truncated file (wrong size) is not reused either */
    CHECK_EQ(truncate(c.path, 4096), 0);
    CHECK_EQ(lb_weights_cache_open(dir, model, 10000, 0, &c, &err), LB_OK);
    CHECK(!c.reused);
    lb_weights_cache_unmap(&c);
}

TEST(bad_arguments)
{
    lb_weights_cache c;
    lb_err err = { 0 };
    const char *model = make_model("m5.gguf", 10);
    char nodir[512];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir", lb_test_tmpdir());
    CHECK_EQ(lb_weights_cache_open(nodir, model, 100, 0, &c, &err), LB_ENOENT);
    CHECK_EQ(lb_weights_cache_open(lb_test_tmpdir(), "/no/such/model", 100, 0, &c, &err), LB_ENOENT);
    CHECK_EQ(lb_weights_cache_open(lb_test_tmpdir(), model, 0, 0, &c, &err), LB_EINVAL);
    CHECK(c.addr == NULL);
    CHECK_EQ(lb_weights_cache_commit(&c, &err), LB_EINVAL);
}

/* Hugepage pool reservation against fake /proc and /sys trees. */
#include "../lib/harness.h"
#include "../lib/fake_tree.h"
#include "../lib/strict_sysfs.h"
#include "hugepages.h"

#define NR2M "kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
#define FREE2M "kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
#define NR1G "kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"
#define PROCNR "sys/vm/nr_hugepages"

TEST(parse_settings)
{
    lb_hugepages_setting s;
    lb_err err = { 0 };
    CHECK_EQ(lb_hugepages_parse("auto", &s, &err), LB_OK);
    CHECK_EQ(s.mode, LB_HUGEPAGES_AUTO);
    CHECK_EQ(s.page_size, LB_HUGEPAGE_2M);
    CHECK_EQ(lb_hugepages_parse("1G", &s, &err), LB_OK);
    CHECK_EQ(s.mode, LB_HUGEPAGES_AUTO);
    CHECK_EQ(s.page_size, LB_HUGEPAGE_1G);
    CHECK_EQ(lb_hugepages_parse("off", &s, &err), LB_OK);
    CHECK_EQ(s.mode, LB_HUGEPAGES_OFF);
    CHECK_EQ(lb_hugepages_parse("0", &s, &err), LB_OK);
    CHECK_EQ(s.mode, LB_HUGEPAGES_OFF);
    CHECK_EQ(lb_hugepages_parse("600", &s, &err), LB_OK);
    CHECK_EQ(s.mode, LB_HUGEPAGES_COUNT);
    CHECK_EQ(s.count, 600);
    CHECK_EQ(s.page_size, LB_HUGEPAGE_2M);
    CHECK_EQ(lb_hugepages_parse("2:1G", &s, &err), LB_OK);
    CHECK_EQ(s.count, 2);
    CHECK_EQ(s.page_size, LB_HUGEPAGE_1G);
    CHECK_EQ(lb_hugepages_parse("-3", &s, &err), LB_EINVAL);
    CHECK_EQ(lb_hugepages_parse("12x", &s, &err), LB_EINVAL);
    CHECK_EQ(lb_hugepages_parse("5:4K", &s, &err), LB_EINVAL);
    CHECK_EQ(lb_hugepages_parse("", &s, &err), LB_EINVAL);
    CHECK_EQ(lb_hugepages_parse("99999999999999999999", &s, &err), LB_EINVAL);
}

TEST(pages_round_up)
{
    CHECK_EQ(lb_hugepages_pages_for(0, LB_HUGEPAGE_2M), 0);
    CHECK_EQ(lb_hugepages_pages_for(1, LB_HUGEPAGE_2M), 1);
    CHECK_EQ(lb_hugepages_pages_for(LB_HUGEPAGE_2M, LB_HUGEPAGE_2M), 1);
    CHECK_EQ(lb_hugepages_pages_for(LB_HUGEPAGE_2M + 1, LB_HUGEPAGE_2M), 2);
    CHECK_EQ(lb_hugepages_pages_for(1300ull << 20, LB_HUGEPAGE_1G), 2);
}

TEST(reserve_2m_through_proc_when_no_per_size_dir)
{
    const char *tmp = lb_test_tmpdir();
    const char *sys = ft_root(tmp, "p_sys"), *proc = ft_root(tmp, "p_proc");
    ft_put(proc, PROCNR, "0");
    long granted = -1;
    lb_err err = { 0 };
    CHECK_EQ(lb_hugepages_reserve(sys, proc, 700ull << 20, LB_HUGEPAGE_2M, &granted, &err), LB_OK);
    CHECK_EQ(granted, 350);
    CHECK_STR(ft_get(proc, PROCNR), "350");
}

TEST(reserve_prefers_per_size_file_and_never_shrinks)
{
    const char *tmp = lb_test_tmpdir();
    const char *sys = ft_root(tmp, "s_sys"), *proc = ft_root(tmp, "s_proc");
    ft_put(sys, NR2M, "0");
    ft_put(sys, FREE2M, "0");
    ft_put(proc, PROCNR, "0");
    long granted = -1, total, freep;
    lb_err err = { 0 };
    CHECK_EQ(lb_hugepages_reserve(sys, proc, 100ull << 20, LB_HUGEPAGE_2M, &granted, &err), LB_OK);
    CHECK_EQ(granted, 50);
    CHECK_STR(ft_get(sys, NR2M), "50");
    CHECK_STR(ft_get(proc, PROCNR), "0");
    /* a restarted service asking for less leaves the pool (possibly in use) alone */
    CHECK_EQ(lb_hugepages_reserve(sys, proc, 10ull << 20, LB_HUGEPAGE_2M, &granted, &err), LB_OK);
    CHECK_EQ(granted, 50);
    CHECK_STR(ft_get(sys, NR2M), "50");
    ft_put(sys, FREE2M, "12");
    CHECK_EQ(lb_hugepages_stats(sys, proc, LB_HUGEPAGE_2M, &total, &freep, &err), LB_OK);
    CHECK_EQ(total, 50);
    CHECK_EQ(freep, 12);
}

TEST(reserve_1g_needs_support)
{
    const char *tmp = lb_test_tmpdir();
    const char *sys = ft_root(tmp, "g_sys"), *proc = ft_root(tmp, "g_proc");
    ft_put(proc, PROCNR, "0");
    long granted = -1;
    lb_err err = { 0 };
    CHECK_EQ(lb_hugepages_reserve(sys, proc, 1500ull << 20, LB_HUGEPAGE_1G, &granted, &err), LB_ENOTSUP);
    CHECK_STR(ft_get(proc, PROCNR), "0");  /* never the 2 MiB pool by mistake */
    ft_put(sys, NR1G, "0");
    CHECK_EQ(lb_hugepages_reserve(sys, proc, 1500ull << 20, LB_HUGEPAGE_1G, &granted, &err), LB_OK);
    CHECK_EQ(granted, 2);
    CHECK_STR(ft_get(sys, NR1G), "2");
    CHECK_EQ(lb_hugepages_reserve(sys, proc, 1, 4096, &granted, &err), LB_EINVAL);
}

TEST(partial_grant_is_reported_not_fatal)
{
    const char *tmp = lb_test_tmpdir();
    const char *sys = ft_root(tmp, "f_sys"), *proc = ft_root(tmp, "f_proc");
    ft_put(sys, NR2M, "0");
    g_strict = (strict_fs){ .grant_cap = 30 };
    lb_sysfs fs;
    lb_err err = { 0 };
    lb_sysfs_init(&fs, sys, proc, &err);
    fs.ops = &g_strict_ops;
    long granted = -1;
    CHECK_EQ(lb_hugepages_reserve_fs(&fs, 64, LB_HUGEPAGE_2M, &granted, &err), LB_OK);
    CHECK_EQ(granted, 30);
    lb_sysfs_free(&fs);
}

TEST(refused_write_is_an_error_with_context)
{
    const char *tmp = lb_test_tmpdir();
    const char *sys = ft_root(tmp, "r_sys"), *proc = ft_root(tmp, "r_proc");
    ft_put(sys, NR2M, "0");
    g_strict = (strict_fs){ .readonly = { "nr_hugepages" } };
    lb_sysfs fs;
    lb_err err = { 0 };
    lb_sysfs_init(&fs, sys, proc, &err);
    fs.ops = &g_strict_ops;
    long granted = -1;
    CHECK_EQ(lb_hugepages_reserve_fs(&fs, 4, LB_HUGEPAGE_2M, &granted, &err), LB_EIO);
    CHECK_EQ(granted, 0);
    CHECK(strstr(err.msg, "reserving 4 pages") != NULL);
    lb_sysfs_free(&fs);
}

TEST(model_bytes_from_file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/model.gguf", lb_test_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    for (int i = 0; i < 3000; i++)
        fputc('x', f);
    fclose(f);
    uint64_t n = 0;
    lb_err err = { 0 };
    CHECK_EQ(lb_hugepages_model_bytes(path, &n, &err), LB_OK);
    CHECK_EQ(n, 3000);
    CHECK_EQ(lb_hugepages_model_bytes(lb_test_tmpdir(), &n, &err), LB_EINVAL);
    snprintf(path, sizeof path, "%s/nope", lb_test_tmpdir());
    CHECK_EQ(lb_hugepages_model_bytes(path, &n, &err), LB_ENOENT);
}

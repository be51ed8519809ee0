#include "../lib/harness.h"
#include "fileio.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <dirent.h>

TEST(atomic_write_creates_and_replaces)
{
    char path[512];
    snprintf(path, sizeof path, "%s/key", lb_test_tmpdir());
    lb_err err = { 0 };
    CHECK_EQ(lb_write_file_atomic(path, "first", 5, 0600, &err), LB_OK);
    CHECK_EQ(lb_write_file_atomic(path, "second", 6, 0600, &err), LB_OK);
    char *buf = NULL;
    size_t len = 0;
    CHECK_EQ(lb_read_file(path, 100, &buf, &len, &err), LB_OK);
    CHECK_EQ(len, 6);
    CHECK_STR(buf, "second");
    free(buf);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    /* no temp file left behind */
    DIR *d = opendir(lb_test_tmpdir());
    int entries = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        entries += e->d_name[0] != '.';
    if (d)
        closedir(d);
    CHECK_EQ(entries, 1);
}

TEST(atomic_write_failure_keeps_old_file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/nodir/key", lb_test_tmpdir());
    lb_err err = { 0 };
    CHECK_EQ(lb_write_file_atomic(path, "x", 1, 0600, &err), LB_EIO);
    CHECK(strstr(err.msg, "nodir") != NULL);
}

TEST(read_file_enforces_limit)
{
    char path[512];
    snprintf(path, sizeof path, "%s/big", lb_test_tmpdir());
    char data[10000];
    memset(data, 'a', sizeof data);
    lb_err err = { 0 };
    CHECK_EQ(lb_write_file_atomic(path, data, sizeof data, 0644, &err), LB_OK);
    char *buf = NULL;
    size_t len = 0;
    CHECK_EQ(lb_read_file(path, 9999, &buf, &len, &err), LB_ELIMIT);
    CHECK(buf == NULL);
    CHECK_EQ(lb_read_file(path, 10000, &buf, &len, &err), LB_OK);
    CHECK_EQ(len, 10000);
    free(buf);
    CHECK_EQ(lb_read_file("/nonexistent/x", 10, &buf, &len, &err), LB_ENOENT);
}

TEST(read_text_trims_newline)
{
    char path[512], buf[64];
    snprintf(path, sizeof path, "%s/gov", lb_test_tmpdir());
    lb_err err = { 0 };
    CHECK_EQ(lb_write_file_atomic(path, "powersave\n", 10, 0644, &err), LB_OK);
    CHECK_EQ(lb_read_text(path, buf, sizeof buf, &err), LB_OK);
    CHECK_STR(buf, "powersave");
    CHECK_EQ(lb_read_text(path, buf, 4, &err), LB_OK);
    CHECK_STR(buf, "pow");
}

TEST(path_join_bounds)
{
    char buf[16];
    CHECK_EQ(lb_path_join(buf, sizeof buf, "/sys", "/devices"), LB_OK);
    CHECK_STR(buf, "/sys/devices");
    CHECK_EQ(lb_path_join(buf, sizeof buf, "/tmp/x", "cpu"), LB_OK);
    CHECK_STR(buf, "/tmp/x/cpu");
    CHECK_EQ(lb_path_join(buf, sizeof buf, "/sys", "/devices/system/cpu"), LB_ELIMIT);
}

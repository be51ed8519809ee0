#include "../lib/harness.h"
#include "err.h"
#include "log.h"

#include <stdlib.h>

TEST(err_set_and_wrap)
{
    lb_err err = { 0 };
    CHECK_EQ(lb_err_set(&err, LB_EFORMAT, "tensor %d: bad dims", 3), LB_EFORMAT);
    CHECK_EQ(lb_err_wrap(&err, LB_EIO, "model.gguf"), LB_EFORMAT);
    CHECK_STR(err.msg, "model.gguf: tensor 3: bad dims");
    CHECK_EQ(lb_err_set(NULL, LB_EIO, "ignored"), LB_EIO);
}

TEST(log_levels_and_prefix)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lb_log_init("unit", LB_LOG_INFO);
    lb_log_set_stream(f);
    LOG_INFO("hello %d", 42);
    LOG_DEBUG("hidden");
    LOG_ERR("bad\n");
    lb_log_set_stream(NULL);
    fclose(f);
    CHECK_STR(buf, "unit: info: hello 42\nunit: error: bad\n");
    free(buf);
}

TEST(log_to_kmsg_file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/kmsg", lb_test_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    FILE *devnull = fopen("/dev/null", "w");
    lb_log_set_stream(devnull);
    lb_log_init("init", LB_LOG_INFO);
    CHECK_EQ(lb_log_open_kmsg(path), 0);
    LOG_WARN("no cpufreq");
    lb_log_open_kmsg(NULL);
    lb_log_set_stream(NULL);
    fclose(devnull);
    char line[128] = "";
    f = fopen(path, "r");
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = 0;
        fclose(f);
    }
    CHECK_STR(line, "<4>init: no cpufreq\n");
}

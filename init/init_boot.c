#include "init_boot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "init_mounts.h"

int lb_prepare_key_dirs(const char *root, const char *data_dir, lb_key_paths *out, lb_err *err)
{
    memset(out, 0, sizeof *out);
    out->persistent = data_dir != NULL;
    const char *base = data_dir ? data_dir : "/run";
    if (strlen(base) > 200)
        return lb_err_set(err, LB_ELIMIT, "data dir path too long");
    snprintf(out->dir, sizeof out->dir, "%.200s/llmbox", base);
    snprintf(out->tls_dir, sizeof out->tls_dir, "%.200s/llmbox/tls", base);
    snprintf(out->api_key_file, sizeof out->api_key_file, "%.200s/llmbox/api_key", base);
    if (lb_mkdirs(root, out->tls_dir, err))
        return err ? err->code : LB_EIO;
    char p[4096];
    /* Secrets: owner only. */
    lb_path_join(p, sizeof p, root, out->dir);
    chmod(p, 0700);
    lb_path_join(p, sizeof p, root, out->tls_dir);
    chmod(p, 0700);
    return 0;
}

static int arg_int(lb_service *s, const char *flag, int v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%d", v);
    return lb_service_arg(s, flag) || lb_service_arg(s, buf);
}

int lb_build_service_argv(lb_service *s, const char *binary, const lb_init_config *cfg, const char *model,
                          const lb_key_paths *keys, const char *hugetlb_dir)
{
    char listen[32];
    snprintf(listen, sizeof listen, "0.0.0.0:%d", cfg->port);
    s->argc = 0;
    s->used = 0;
    int bad = lb_service_arg(s, binary);
    bad |= lb_service_arg(s, "--model") || lb_service_arg(s, model);
    bad |= lb_service_arg(s, "--listen") || lb_service_arg(s, listen);
    bad |= lb_service_arg(s, "--tls-dir") || lb_service_arg(s, keys->tls_dir);
    bad |= lb_service_arg(s, "--api-key-file") || lb_service_arg(s, keys->api_key_file);
    if (cfg->parallel)
        bad |= arg_int(s, "--parallel", cfg->parallel);
    if (cfg->ctx)
        bad |= arg_int(s, "--ctx", cfg->ctx);
    if (cfg->threads)
        bad |= arg_int(s, "-t", cfg->threads);
    if (hugetlb_dir)
        bad |= lb_service_arg(s, "--hugetlb-dir") || lb_service_arg(s, hugetlb_dir);
    if (cfg->power[0])
        bad |= lb_service_arg(s, "--power") || lb_service_arg(s, cfg->power);
    return bad ? LB_ELIMIT : 0;
}

#include "init_model.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

static int is_file(const char *root, const char *rel)
{
    char p[4096];
    struct stat st;
    if (lb_path_join(p, sizeof p, root, rel))
        return 0;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int ends_with_gguf(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcasecmp(name + n - 5, ".gguf") == 0 && name[0] != '.';
}

/* Alphabetically first *.gguf in root+dir; 0 if found. */
static int first_gguf(const char *root, const char *dir, char *out, size_t cap)
{
    char p[4096];
    if (lb_path_join(p, sizeof p, root, dir))
        return -1;
    struct dirent **list = NULL;
    int n = scandir(p, &list, NULL, alphasort);
    if (n < 0)
        return -1;
    int rc = -1;
    for (int i = 0; i < n; i++) {
        if (rc != 0 && ends_with_gguf(list[i]->d_name)) {
            char rel[4096];
            if ((size_t)snprintf(rel, sizeof rel, "%s/%s", dir, list[i]->d_name) < sizeof rel &&
                is_file(root, rel) && strlen(rel) < cap) {
                strcpy(out, rel);
                rc = 0;
            }
        }
        free(list[i]);
    }
    free(list);
    return rc;
}

int lb_resolve_model(const char *root, const char *setting, const char *data_dir, char *out, size_t cap,
                     lb_err *err)
{
    char rel[4096];
    if (setting && setting[0] == '/') {
        if (is_file(root, setting) && strlen(setting) < cap) {
            strcpy(out, setting);
            return 0;
        }
        return lb_err_set(err, LB_ENOENT, "model %s does not exist", setting);
    }
    if (setting && *setting) {
        if (strstr(setting, "..") || strchr(setting, '/'))
            return lb_err_set(err, LB_EINVAL, "model name %s must be a file name or an absolute path", setting);
        if (data_dir) {
            snprintf(rel, sizeof rel, "%s/models/%s", data_dir, setting);
            if (is_file(root, rel) && strlen(rel) < cap) {
                strcpy(out, rel);
                return 0;
            }
        }
        snprintf(rel, sizeof rel, "/models/%s", setting);
        if (is_file(root, rel) && strlen(rel) < cap) {
            strcpy(out, rel);
            return 0;
        }
        return lb_err_set(err, LB_ENOENT, "model %s not found in %s%s/models", setting,
                          data_dir ? data_dir : "", data_dir ? "/models nor in " : "");
    }
    if (data_dir) {
        snprintf(rel, sizeof rel, "%s/models", data_dir);
        if (first_gguf(root, rel, out, cap) == 0)
            return 0;
    }
    if (first_gguf(root, "/models", out, cap) == 0)
        return 0;
    return lb_err_set(err, LB_ENOENT, "no *.gguf model in %s%s/models", data_dir ? data_dir : "",
                      data_dir ? "/models nor in " : "");
}

int lb_check_model(const char *root, const char *path, uint64_t *size, lb_err *err)
{
    char p[4096];
    if (lb_path_join(p, sizeof p, root, path))
        return lb_err_set(err, LB_ELIMIT, "model path too long");
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lb_err_set(err, LB_ENOENT, "model %s: %s", path, strerror(errno));
    int rc = 0;
    struct stat st;
    char magic[4];
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        rc = lb_err_set(err, LB_EFORMAT, "model %s is not a regular file", path);
        goto out;
    }
    if (st.st_size < 4 || pread(fd, magic, 4, 0) != 4 || memcmp(magic, "GGUF", 4) != 0) {
        rc = lb_err_set(err, LB_EFORMAT, "model %s is not a GGUF file (bad magic or empty; %lld bytes)", path,
                        (long long)st.st_size);
        goto out;
    }
    *size = (uint64_t)st.st_size;
out:
    close(fd);
    return rc;
}

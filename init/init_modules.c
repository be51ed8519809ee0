#include "init_modules.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "log.h"

#define MAX_INDEX_BYTES (16u << 20)
#define MAX_DEPTH 16

struct mod {
    char *name;      /* normalised: '-' -> '_' */
    char *path;      /* relative to moddir */
    char **deps;     /* normalised names */
    int n_deps;
    int state;       /* 0 = not tried, 1 = loading, 2 = loaded, 3 = failed */
};

struct alias {
    char *pattern;
    char *module;
};

struct lb_modules {
    char moddir[4096];
    struct mod *mods;
    int n_mods;
    struct alias *aliases;
    int n_aliases;
};

static void normalise(char *s)
{
    for (; *s; s++)
        if (*s == '-')
            *s = '_';
}

/* "kernel/fs/ext4/ext4.ko" -> "ext4" */
static char *name_from_path(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strcspn(b, ".");
    char *s = strndup(b, n);
    if (s)
        normalise(s);
    return s;
}

static struct mod *find_mod(const lb_modules *m, const char *name)
{
    char norm[256];
    snprintf(norm, sizeof norm, "%s", name);
    normalise(norm);
    for (int i = 0; i < m->n_mods; i++)
        if (strcmp(m->mods[i].name, norm) == 0)
            return &m->mods[i];
    return NULL;
}

static int parse_dep(lb_modules *m, char *text, lb_err *err)
{
    int cap = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = 0;
        if (m->n_mods == cap) {
            cap = cap ? cap * 2 : 64;
            struct mod *n = realloc(m->mods, (size_t)cap * sizeof *n);
            if (!n)
                return lb_err_set(err, LB_ENOMEM, "modules.dep: out of memory");
            m->mods = n;
        }
        struct mod *md = &m->mods[m->n_mods];
        memset(md, 0, sizeof *md);
        md->path = strdup(line);
        md->name = name_from_path(line);
        if (!md->path || !md->name) {
            free(md->path);
            free(md->name);
            return lb_err_set(err, LB_ENOMEM, "modules.dep: out of memory");
        }
        m->n_mods++;
        char *save = NULL;
        for (char *d = strtok_r(colon + 1, " \t", &save); d; d = strtok_r(NULL, " \t", &save)) {
            char **nd = realloc(md->deps, (size_t)(md->n_deps + 1) * sizeof *nd);
            if (!nd)
                return lb_err_set(err, LB_ENOMEM, "modules.dep: out of memory");
            md->deps = nd;
            if (!(md->deps[md->n_deps] = name_from_path(d)))
                return lb_err_set(err, LB_ENOMEM, "modules.dep: out of memory");
            md->n_deps++;
        }
    }
    return 0;
}

static int parse_alias(lb_modules *m, char *text, lb_err *err)
{
    int cap = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char pat[1024], mod[256];
        if (strncmp(line, "alias ", 6) != 0 || sscanf(line + 6, "%1023s %255s", pat, mod) != 2)
            continue;
        if (m->n_aliases == cap) {
            cap = cap ? cap * 2 : 256;
            struct alias *n = realloc(m->aliases, (size_t)cap * sizeof *n);
            if (!n)
                return lb_err_set(err, LB_ENOMEM, "modules.alias: out of memory");
            m->aliases = n;
        }
        struct alias *a = &m->aliases[m->n_aliases];
        a->pattern = strdup(pat);
        a->module = strdup(mod);
        if (!a->pattern || !a->module) {
            free(a->pattern);
            free(a->module);
            return lb_err_set(err, LB_ENOMEM, "modules.alias: out of memory");
        }
        normalise(a->module);
        m->n_aliases++;
    }
    return 0;
}

int lb_modules_open(const char *root, const char *kver, lb_modules **out, lb_err *err)
{
    int rc = 0;
    char *dep = NULL, *alias = NULL;
    size_t len;
    char path[4096 + 32];
    lb_modules *m = calloc(1, sizeof *m);
    if (!m)
        return lb_err_set(err, LB_ENOMEM, "out of memory");
    if (snprintf(m->moddir, sizeof m->moddir, "%s/lib/modules/%s", root, kver) >= (int)sizeof m->moddir) {
        rc = lb_err_set(err, LB_ELIMIT, "module dir path too long");
        goto out;
    }
    snprintf(path, sizeof path, "%s/modules.dep", m->moddir);
    if ((rc = lb_read_file(path, MAX_INDEX_BYTES, &dep, &len, err)))
        goto out;
    if ((rc = parse_dep(m, dep, err)))
        goto out;
    snprintf(path, sizeof path, "%s/modules.alias", m->moddir);
    if (lb_read_file(path, MAX_INDEX_BYTES, &alias, &len, NULL) == 0 && (rc = parse_alias(m, alias, err)))
        goto out;
out:
    free(dep);
    free(alias);
    if (rc) {
        lb_modules_free(m);
        m = NULL;
    }
    *out = m;
    return rc;
}

void lb_modules_free(lb_modules *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n_mods; i++) {
        for (int j = 0; j < m->mods[i].n_deps; j++)
            free(m->mods[i].deps[j]);
        free(m->mods[i].deps);
        free(m->mods[i].name);
        free(m->mods[i].path);
    }
    for (int i = 0; i < m->n_aliases; i++) {
        free(m->aliases[i].pattern);
        free(m->aliases[i].module);
    }
    free(m->mods);
    free(m->aliases);
    free(m);
}

int lb_modules_count(const lb_modules *m) { return m->n_mods; }

int lb_modules_was_loaded(const lb_modules *m, const char *name)
{
    const struct mod *md = find_mod(m, name);
    return md && md->state == 2;
}

static int load_rec(lb_modules *m, const lb_sys_ops *ops, struct mod *md, int depth, lb_err *err)
{
    if (md->state == 2)
        return 0;
    if (md->state == 3)
        return lb_err_set(err, LB_EIO, "module %s failed to load earlier", md->name);
    if (md->state == 1 || depth > MAX_DEPTH)
        return lb_err_set(err, LB_EFORMAT, "module %s: dependency loop", md->name);
    md->state = 1;
    for (int i = 0; i < md->n_deps; i++) {
        struct mod *d = find_mod(m, md->deps[i]);
        if (!d) {
            md->state = 3;
            return lb_err_set(err, LB_ENOENT, "module %s needs %s, which is not in the image", md->name, md->deps[i]);
        }
        if (load_rec(m, ops, d, depth + 1, err)) {
            md->state = 3;
            return lb_err_wrap(err, LB_EIO, "module %s", md->name);
        }
    }
    char path[4096 + 256];
    snprintf(path, sizeof path, "%s/%s", m->moddir, md->path);
    int rc = ops->load_module(ops->ud, path);
    if (rc && rc != -EEXIST) {
        md->state = 3;
        return lb_err_set(err, LB_EIO, "finit_module %s: %s", md->path, strerror(-rc));
    }
    md->state = 2;
    LOG_DEBUG("module %s loaded", md->name);
    return 0;
}

int lb_modules_load(lb_modules *m, const lb_sys_ops *ops, const char *name, lb_err *err)
{
    struct mod *md = find_mod(m, name);
    if (!md)
        return lb_err_set(err, LB_ENOENT, "module %s is not in the image", name);
    return load_rec(m, ops, md, 0, err);
}

/* Loads every module whose alias matches this modalias; returns how many were new. */
static int load_matching(lb_modules *m, const lb_sys_ops *ops, const char *modalias)
{
    int loaded = 0;
    for (int i = 0; i < m->n_aliases; i++) {
        if (fnmatch(m->aliases[i].pattern, modalias, 0) != 0)
            continue;
        struct mod *md = find_mod(m, m->aliases[i].module);
        if (!md || md->state >= 2)
            continue;
        lb_err e = {0};
        if (load_rec(m, ops, md, 0, &e))
            LOG_WARN("%s (device %s)", e.msg, modalias);
        else {
            LOG_INFO("loaded module %s for %s", md->name, modalias);
            loaded++;
        }
    }
    return loaded;
}

int lb_modules_load_for_devices(lb_modules *m, const lb_sys_ops *ops, const char *root)
{
    char bus_dir[4096];
    int loaded = 0;
    snprintf(bus_dir, sizeof bus_dir, "%s/sys/bus", root);
    DIR *buses = opendir(bus_dir);
    if (!buses)
        return 0;
    struct dirent *b;
    while ((b = readdir(buses))) {
        if (b->d_name[0] == '.')
            continue;
        char dev_dir[4096 + 512];
        snprintf(dev_dir, sizeof dev_dir, "%s/%s/devices", bus_dir, b->d_name);
        DIR *devs = opendir(dev_dir);
        if (!devs)
            continue;
        struct dirent *d;
        while ((d = readdir(devs))) {
            if (d->d_name[0] == '.')
                continue;
            char path[4096 + 1024], alias[512];
            snprintf(path, sizeof path, "%s/%s/modalias", dev_dir, d->d_name);
            if (lb_read_text(path, alias, sizeof alias, NULL) == 0 && alias[0])
                loaded += load_matching(m, ops, alias);
        }
        closedir(devs);
    }
    closedir(buses);
    return loaded;
}

int lb_modules_load_list(lb_modules *m, const lb_sys_ops *ops, const char *file)
{
    char path[4096 + 256], *text = NULL;
    size_t len;
    int loaded = 0;
    snprintf(path, sizeof path, "%s/%s", m->moddir, file);
    if (lb_read_file(path, 1 << 16, &text, &len, NULL))
        return 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        line += strspn(line, " \t");
        if (!*line || *line == '#')
            continue;
        lb_err e = {0};
        if (lb_modules_load(m, ops, line, &e))
            LOG_WARN("%s", e.msg);
        else
            loaded++;
    }
    free(text);
    return loaded;
}
